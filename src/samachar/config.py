"""The home folder and its ``samachar.toml``.

Everything a site owns lives in one folder: ``$SAMACHAR_HOME``, else
``$XDG_DATA_HOME/samachar`` (``~/.local/share/samachar``). It holds
``samachar.toml``, ``samachar.db`` (SQLite), ``site/`` (the static export) and
``models/`` (installed translation models).
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from samachar.errors import ConfigError

CONFIG_NAME = "samachar.toml"


def home_dir() -> Path:
    if os.environ.get("SAMACHAR_HOME"):
        return Path(os.environ["SAMACHAR_HOME"]).expanduser()
    data = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data) / "samachar"


@dataclass
class SiteConfig:
    """How the built-in site looks and links."""

    language: str = "hi"
    title: str = "समाचार"
    base_url: str = ""  # absolute URL of the published site, used in feeds
    canonical: str = "original"  # "original": rel=canonical to the source; "self"
    seo: str = "canonical"  # canonical | noindex | index: how search engines are told to treat a page
    images: str = "local"  # local: stored and served by the site; hotlink: the publisher's URL
    per_page: int = 20
    attribution_template: str | None = None  # path to an operator template


@dataclass
class TranslationConfig:
    source_language: str = "en"
    engines: list[str] = field(default_factory=lambda: ["auto"])  # fallback chain
    hold_on_error: bool = True  # error-level QA flags hold the article for review
    batch_articles: int = 16  # articles whose sentences share engine calls (batching engines)
    options: dict[str, dict[str, Any]] = field(default_factory=dict)  # [translation.options.<engine>]


@dataclass
class FetchConfig:
    allow_private_networks: bool = False
    user_agent: str = "samachar/0.1 (+https://github.com/samachar/samachar; news syndication)"
    timeout: float = 20.0
    max_bytes: int = 10 * 1024 * 1024
    per_host: int = 2
    host_interval: float = 0.0  # minimum seconds between requests to one host (politeness)
    respect_robots: bool = True


@dataclass
class AdminConfig:
    """The editorial desk (/admin/): how long a sign-in lasts."""

    session_hours: float = 12.0  # a session unused this long ends
    session_max_days: float = 7.0  # and every session ends this long after sign-in


@dataclass
class StoriesConfig:
    """One story, many sources (README: "One story, many sources"): publish once, credit every source."""

    mode: str = "merge"  # merge: a story is translated and published once; separate: every entry, as before
    prefer: list[str | int] = field(default_factory=list)  # sources ranked first: feed URLs or source ids
    replace: str = "new-facts"  # new-facts: a later version with new facts replaces the published text; never
    window_hours: float = 72.0  # independent reports of one event are at most this far apart


@dataclass
class Config:
    home: Path
    site: SiteConfig = field(default_factory=SiteConfig)
    translation: TranslationConfig = field(default_factory=TranslationConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    default_policy: str = "excerpt"
    excerpt_words: int = 60
    targets: list[dict[str, Any]] = field(default_factory=list)  # [[targets]]: where else articles go
    admin: AdminConfig = field(default_factory=AdminConfig)  # [admin]: the editorial desk
    stories: StoriesConfig = field(default_factory=StoriesConfig)  # [stories]: one story, many sources

    @property
    def db_url(self) -> str:
        return os.environ.get("SAMACHAR_DATABASE_URL") or f"sqlite:///{self.home / 'samachar.db'}"

    @property
    def site_dir(self) -> Path:
        return self.home / "site"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def allow_private_networks(self) -> bool:
        env = os.environ.get("SAMACHAR_ALLOW_PRIVATE_NETWORKS")
        if env is not None and env != "":
            return env.strip().lower() in ("1", "true", "yes", "on")
        return self.fetch.allow_private_networks


_LANGUAGE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z0-9]{2,8})?$")
SECTIONS = ("site", "translation", "fetch", "targets", "admin", "stories")
TARGET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


def check_language(code: str) -> str:
    """An ISO 639 code such as ``hi``, ``es`` or ``pt-BR``."""
    if not isinstance(code, str) or not _LANGUAGE.match(code):
        raise ConfigError(f"{code!r} is not a language code; use ISO 639-1 such as hi, es, en")
    return code


# The values a setting may take, by (section, key).
CHOICES: dict[tuple[str, str], tuple[str, ...]] = {
    ("site", "canonical"): ("original", "self"),
    ("site", "seo"): ("canonical", "noindex", "index"),
    ("site", "images"): ("local", "hotlink"),
    ("stories", "mode"): ("merge", "separate"),
    ("stories", "replace"): ("new-facts", "never"),
}
# Numbers with a floor, by (section, key): (smallest allowed, whether the floor itself is allowed).
FLOORS: dict[tuple[str, str], tuple[float, bool]] = {
    ("site", "per_page"): (1, True),
    ("translation", "batch_articles"): (1, True),
    ("fetch", "timeout"): (0, False),
    ("fetch", "max_bytes"): (0, False),
    ("fetch", "per_host"): (1, True),
    ("fetch", "host_interval"): (0, True),
    ("admin", "session_hours"): (0, False),
    ("admin", "session_max_days"): (0, False),
    ("stories", "window_hours"): (0, False),
}


def http_url_problem(url: str) -> str | None:
    """Why ``url`` is not an absolute http(s) URL that can be fetched or linked to; None when it is."""
    if not isinstance(url, str) or not url:
        return "it is empty"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"it is malformed ({exc})"
    if parts.scheme not in ("http", "https"):
        return "it is not an http:// or https:// address"
    if not parts.hostname:
        return "it has no host"
    if port is not None and not 1 <= port <= 65535:
        return "its port is outside 1-65535"
    return None


def _check_values(config: Config, path: Path) -> None:
    """Refuse values that would only fail later, far from the file: one line naming the key."""
    for (section, key), allowed in CHOICES.items():
        value = getattr(getattr(config, section), key)
        if value not in allowed:
            raise ConfigError(f"{path}: [{section}] {key} = {value!r}; use {', '.join(allowed[:-1])} or {allowed[-1]}")
    for (section, key), (floor, inclusive) in FLOORS.items():
        value = getattr(getattr(config, section), key)
        if value < floor or (value == floor and not inclusive):
            need = f"at least {floor}" if inclusive else f"more than {floor}"
            raise ConfigError(f"{path}: [{section}] {key} = {value!r}; use a number {need}")
    engines = config.translation.engines
    if (not isinstance(engines, list) or not engines
            or not all(isinstance(name, str) and name.strip() for name in engines)):
        raise ConfigError(f"{path}: [translation] engines = {engines!r}; use a list of engine names, "
                          'e.g. ["auto"] or ["openai", "ctranslate2"]')
    prefer = config.stories.prefer
    if not isinstance(prefer, list) or not all(
            (isinstance(p, str) and p.strip()) or (isinstance(p, int) and not isinstance(p, bool) and p > 0)
            for p in prefer):
        raise ConfigError(f"{path}: [stories] prefer = {prefer!r}; use a list of feed URLs or source ids, "
                          'e.g. ["https://wire.example/feed", 3]')
    base_url = config.site.base_url
    problem = http_url_problem(base_url) if base_url else None
    if problem:
        raise ConfigError(f"{path}: [site] base_url = {base_url!r}: {problem}; "
                          "use the site's absolute address, e.g. https://news.example.org/")


def _section(cls: type, data: dict[str, Any], name: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{CONFIG_NAME}: [{name}] must be a table")
    types = {f.name: f.type for f in fields(cls)}
    unknown = set(data) - set(types)
    if unknown:
        raise ConfigError(f"{CONFIG_NAME}: unknown key(s) in [{name}]: {', '.join(sorted(unknown))}")
    for key, value in data.items():
        expected = {"int": int, "float": (int, float), "bool": bool, "str": str}.get(str(types[key]))
        if expected and (not isinstance(value, expected) or (expected is int and isinstance(value, bool))):
            raise ConfigError(f"{CONFIG_NAME}: [{name}] {key} = {value!r} should be {types[key]}")
    return cls(**data)


def load_config(home: Path | None = None) -> Config:
    """Read ``samachar.toml`` from the home; defaults where it is absent."""
    home = home or home_dir()
    path = home / CONFIG_NAME
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc}; fix the file or run 'samachar init' again") from exc
    top = {k: v for k, v in data.items() if k not in SECTIONS}
    unknown = set(top) - {"default_policy", "excerpt_words"}
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) or section(s): {', '.join(sorted(unknown))}")
    if top.get("default_policy", "excerpt") not in ("full", "excerpt", "link"):
        raise ConfigError(f"{path}: default_policy = {top['default_policy']!r}; use full, excerpt or link")
    words = top.get("excerpt_words", 60)
    if not isinstance(words, int) or isinstance(words, bool) or words < 1:
        raise ConfigError(f"{path}: excerpt_words = {words!r}; use a positive whole number")
    translation = dict(data.get("translation", {}))
    if isinstance(translation.get("engines"), str):
        translation["engines"] = [translation["engines"]]
    config = Config(
        home=home,
        site=_section(SiteConfig, data.get("site", {}), "site"),
        translation=_section(TranslationConfig, translation, "translation"),
        fetch=_section(FetchConfig, data.get("fetch", {}), "fetch"),
        targets=_targets(data.get("targets", []), path),
        admin=_section(AdminConfig, data.get("admin", {}), "admin"),
        stories=_section(StoriesConfig, data.get("stories", {}), "stories"),
        **top,
    )
    for section, key in (("site", "language"), ("translation", "source_language")):
        try:
            check_language(getattr(getattr(config, section), key))
        except ConfigError as exc:
            raise ConfigError(f"{path}: [{section}] {key}: {exc}") from None
    _check_values(config, path)
    return config


def _targets(value: Any, path: Path) -> list[dict[str, Any]]:
    """``[[targets]]``: tables with a registered ``kind`` and a unique ``name`` (``site`` is the built-in site's)."""
    from samachar.publish.targets import SITE, available_targets

    if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
        raise ConfigError(f"{path}: targets must be [[targets]] tables, each with kind and name")
    kinds = available_targets()
    seen: set[str] = set()
    for index, table in enumerate(value, start=1):
        kind, name = table.get("kind"), table.get("name")
        where = f"{path}: [[targets]] #{index}"
        if not isinstance(kind, str) or (kind not in kinds and ":" not in kind) or kind == SITE:
            known = ", ".join(sorted(k for k in kinds if k != SITE)) or "none installed"
            raise ConfigError(f"{where}: kind = {kind!r}; use one of: {known}")
        if not isinstance(name, str) or not TARGET_NAME.match(name) or name == SITE:
            raise ConfigError(f"{where}: name = {name!r}; use a short lowercase name (letters, digits, - and _), "
                              f"not {SITE!r}")
        if name in seen:
            raise ConfigError(f"{where}: name = {name!r} is used twice; each target needs its own name")
        seen.add(name)
    return [dict(t) for t in value]


def write_config(home: Path, *, language: str, engines: list[str] | None = None, title: str | None = None,
                 source_language: str = "en", base_url: str = "") -> Path:
    """Create the home and its ``samachar.toml`` (overwrites an existing one)."""
    home.mkdir(parents=True, exist_ok=True)
    engines = engines or ["auto"]
    site_title = title or {"hi": "समाचार", "es": "Noticias", "en": "News"}.get(language, "samachar")
    q = json.dumps  # a JSON string is a valid TOML basic string
    text = (
        "# samachar site configuration; see README.md\n"
        'default_policy = "excerpt"   # full | excerpt | link, per source overrides\n'
        "excerpt_words = 60\n\n"
        "[site]\n"
        f"language = {q(language)}\n"
        f"title = {q(site_title, ensure_ascii=False)}\n"
        f"base_url = {q(base_url)}\n"
        'seo = "canonical"           # canonical | noindex | index (README: "The built site")\n\n'
        "[translation]\n"
        f"source_language = {q(source_language)}\n"
        f"engines = [{', '.join(q(e) for e in engines)}]  # tried in order; \"auto\" picks an installed one\n"
        "hold_on_error = true\n\n"
        "[fetch]\n"
        "allow_private_networks = false\n"
    )
    path = home / CONFIG_NAME
    path.write_text(text, encoding="utf-8")
    return path
