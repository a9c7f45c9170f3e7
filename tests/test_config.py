"""samachar.toml is checked when it loads: a bad value is one line that names its key."""

from __future__ import annotations

import pytest

from samachar.config import http_url_problem, load_config, write_config
from samachar.errors import ConfigError


def _home_with(tmp_path, section: str, line: str):
    write_config(tmp_path, language="hi")
    path = tmp_path / "samachar.toml"
    text = path.read_text(encoding="utf-8")
    key = line.split("=")[0].strip()
    kept = [row for row in text.splitlines() if not row.startswith(f"{key} ")]
    at = kept.index(f"[{section}]") + 1
    path.write_text("\n".join(kept[:at] + [line] + kept[at:]) + "\n", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("section, line, key", [
    ("site", 'canonical = "elsewhere"', "[site] canonical"),
    ("site", 'seo = "nofollow"', "[site] seo"),
    ("site", 'images = "inline"', "[site] images"),
    ("site", "per_page = 0", "[site] per_page"),
    ("site", 'base_url = "news.example.org"', "[site] base_url"),
    ("site", 'base_url = "ftp://news.example.org/"', "[site] base_url"),
    ("site", 'base_url = "https://[news/"', "[site] base_url"),
    ("translation", "engines = []", "[translation] engines"),
    ("translation", 'engines = ["auto", ""]', "[translation] engines"),
    ("translation", "engines = [1]", "[translation] engines"),
    ("translation", 'engines = "  "', "[translation] engines"),
    ("translation", "engines = 3", "[translation] engines"),
    ("fetch", "timeout = 0", "[fetch] timeout"),
    ("fetch", "timeout = -2.5", "[fetch] timeout"),
    ("fetch", "max_bytes = 0", "[fetch] max_bytes"),
    ("fetch", "per_host = 0", "[fetch] per_host"),
    ("fetch", "host_interval = -1", "[fetch] host_interval"),
])
def test_a_bad_value_is_refused_with_one_line_naming_its_key(tmp_path, section, line, key):
    home = _home_with(tmp_path, section, line)
    with pytest.raises(ConfigError) as caught:
        load_config(home)
    message = str(caught.value)
    assert key in message and "\n" not in message


@pytest.mark.parametrize("section, line, attribute, value", [
    ("site", 'canonical = "self"', ("site", "canonical"), "self"),
    ("site", 'seo = "noindex"', ("site", "seo"), "noindex"),
    ("site", 'images = "hotlink"', ("site", "images"), "hotlink"),
    ("site", "per_page = 1", ("site", "per_page"), 1),
    ("site", 'base_url = "https://news.example.org/hi/"', ("site", "base_url"), "https://news.example.org/hi/"),
    ("site", 'base_url = ""', ("site", "base_url"), ""),
    ("translation", 'engines = "apertium"', ("translation", "engines"), ["apertium"]),
    ("fetch", "timeout = 0.5", ("fetch", "timeout"), 0.5),
    ("fetch", "per_host = 1", ("fetch", "per_host"), 1),
])
def test_good_values_load(tmp_path, section, line, attribute, value):
    config = load_config(_home_with(tmp_path, section, line))
    assert getattr(getattr(config, attribute[0]), attribute[1]) == value


def test_defaults_load_without_a_file(tmp_path):
    config = load_config(tmp_path)
    assert (config.site.canonical, config.site.seo, config.site.images) == ("original", "canonical", "local")


@pytest.mark.parametrize("url", ["http://[::1", "http://[zz]/", "http://a b/", "http://x.example:0/",
                                 "http://x.example:65536/", "http://x.example:-1/", "http://x.example/\r\nHost: y",
                                 "x.example/feed", "file:///etc/passwd", "http:///path", ""])
def test_urls_that_are_not_absolute_http_urls_have_a_reason(url):
    problem = http_url_problem(url)
    assert problem and "\n" not in problem


@pytest.mark.parametrize("url", ["http://x.example/feed", "https://x.example:8443/a?b=1", "http://[::1]:8080/",
                                 "http://127.0.0.1:65535/"])
def test_absolute_http_urls_have_none(url):
    assert http_url_problem(url) is None


def test_a_bad_language_names_its_key(tmp_path):
    with pytest.raises(ConfigError, match=r"\[site\] language"):
        load_config(_home_with(tmp_path, "site", 'language = "Hindi"'))
