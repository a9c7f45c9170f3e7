"""The command line as a newcomer meets it: help everywhere, one-line refusals, readable entries.

Most commands run in-process (``main([...])``) against a temporary home, so a
traceback fails the test; the broken-pipe case needs a real process and pipe.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from samachar.cli import build_parser, main
from samachar.config import load_config
from samachar.demo import samples_dir
from samachar.model import Article, Block, FeedEntry, Flag, TranslatedArticle
from samachar.sources.identity import entry_identity
from samachar.store import Store


def run(capsys, home: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def refused(capsys, home: Path, *args: str) -> str:
    code, out, err = run(capsys, home, *args)
    assert code == 2, (args, out, err)
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    return err


@pytest.fixture
def home(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SAMACHAR_DATABASE_URL", raising=False)
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # not a terminal: init asks nothing
    assert run(capsys, tmp_path, "init", "--language", "hi")[0] == 0
    return tmp_path


# -- help ------------------------------------------------------------------------------------------

def _parsers(parser: argparse.ArgumentParser, path: str = "samachar"):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _parsers(child, f"{path} {name}")


def test_every_option_and_argument_has_help_text():
    missing = [f"{path}: {action.option_strings or action.dest}"
               for path, parser in _parsers(build_parser())
               for action in parser._actions
               if not isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)) and not action.help]
    assert missing == []


def test_every_command_says_what_it_does_and_the_description_is_plain_text():
    parser = build_parser()
    undocumented = [f"{path} {choice.dest}" for path, p in _parsers(parser) for action in p._actions
                    if isinstance(action, argparse._SubParsersAction)
                    for choice in action._choices_actions if not choice.help]
    assert undocumented == []
    assert parser.description and "``" not in parser.description and "`" not in parser.format_help()


# -- init ------------------------------------------------------------------------------------------

def test_init_without_a_base_url_says_where_feeds_will_point(home, capsys):
    code, out, _ = run(capsys, home, "init", "--language", "hi", "--force")
    assert code == 0 and "http://localhost:8000/" in out and "[site] base_url" in out
    assert load_config(home).site.base_url == ""


def test_init_takes_a_base_url_and_refuses_one_that_is_not_absolute(home, capsys):
    assert run(capsys, home, "init", "--language", "hi", "--force", "--base-url", "https://news.example.org/")[0] == 0
    assert load_config(home).site.base_url == "https://news.example.org/"
    for bad in ("news.example.org", "ftp://news.example.org/", "http://[::1"):
        assert "--base-url" in refused(capsys, home, "init", "--language", "hi", "--force", "--base-url", bad)
    assert load_config(home).site.base_url == "https://news.example.org/"  # the refused ones changed nothing


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_init_on_a_terminal_asks_for_the_base_url(home, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Terminal("https://khabar.example.in/\n"))
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # capsys's stdout, seen as the terminal
    assert run(capsys, home, "init", "--language", "hi", "--force")[0] == 0
    assert load_config(home).site.base_url == "https://khabar.example.in/"


def test_init_asks_nothing_when_its_output_goes_to_a_script(home, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", _Terminal("https://khabar.example.in/\n"))
    code, out, _ = run(capsys, home, "init", "--language", "hi", "--force")
    assert code == 0 and "http://localhost:8000/" in out and load_config(home).site.base_url == ""


def test_a_home_that_cannot_be_created_is_one_line(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    refused(capsys, blocker, "source", "list")


# -- sources ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["http://[::1", "http://[zz]/", "http://news example.org/feed",
                                 "http://news.example.org/feed\r\nX: y", "http://news.example.org:0/feed",
                                 "http://news.example.org:65536/feed", "http://news.example.org:99999999999/",
                                 "ftp://news.example.org/feed", "news.example.org/feed"])
def test_source_add_refuses_a_bad_url_with_one_line(home, capsys, url):
    refused(capsys, home, "source", "add", url, "--no-discover")
    refused(capsys, home, "source", "add", url)  # discovery never starts on it either


def test_adding_a_followed_feed_again_says_which_source_it_is(home, capsys):
    assert run(capsys, home, "source", "add", "https://courier.example/feed.xml", "--no-discover")[0] == 0
    for again in ("https://courier.example/feed.xml", "HTTPS://Courier.example/feed.xml?utm_source=x"):
        code, out, _ = run(capsys, home, "source", "add", again, "--no-discover")
        assert code == 0 and "already followed as source 1" in out
    assert len(json.loads(run(capsys, home, "source", "list", "--json")[1])) == 1


def test_source_list_has_a_header_and_the_publishers_name_and_remove_takes_its_id(home, capsys):
    run(capsys, home, "source", "add", "https://courier.example/feed.xml", "--no-discover", "--name", "Deccan Courier",
        "--seo", "noindex")
    run(capsys, home, "source", "add", "https://tide.example/atom.xml", "--no-discover", "--name", "Konkan Tide")
    _, out, _ = run(capsys, home, "source", "list")
    header, *rows = out.strip().splitlines()
    assert "ID" in header and "NAME" in header and len(rows) == 2
    assert "Deccan Courier" in rows[0] and "courier.example" not in out
    listed = json.loads(run(capsys, home, "source", "list", "--json")[1])
    assert [s["seo"] for s in listed] == ["noindex", None]

    code, out, _ = run(capsys, home, "source", "remove", "1")
    assert code == 0 and "Deccan Courier" in out
    assert run(capsys, home, "source", "remove", "https://tide.example/atom.xml")[0] == 0
    assert json.loads(run(capsys, home, "source", "list", "--json")[1]) == []
    for unknown in ("1", "99999999999999999999", "https://nowhere.example/feed"):
        assert "no source" in refused(capsys, home, "source", "remove", unknown)


def test_source_add_refuses_an_unknown_seo_choice(home, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--home", str(home), "source", "add", "https://a.example/f", "--seo", "nofollow"])
    assert exited.value.code == 2


# -- entries ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["approve", "retry", "delete", "show"])
@pytest.mark.parametrize("entry_id", ["99999999999999999999", "424242", "0"])
def test_an_unknown_entry_id_is_no_entry(home, capsys, action, entry_id):
    assert f"no entry {entry_id}" in refused(capsys, home, "entry", action, entry_id)


def _held_entry(home: Path) -> int:
    """An entry extracted, translated and held, as the pipeline leaves one."""
    store = Store(load_config(home).db_url)
    source = store.sources.add("https://courier.example/feed.xml", name="Deccan Courier")
    feed_entry = FeedEntry(title="Council approves roads", url="https://courier.example/roads",
                           published=datetime(2026, 11, 20, 3, 30, tzinfo=UTC))
    [entry_id] = store.entries.add_many(source.id, [(feed_entry, entry_identity(feed_entry, source.id))])
    store.entries.record_error(entry_id, "page not fetched: HTTP 503")
    article = Article(url="https://courier.example/roads", title="Council approves roads", blocks=[
        Block("heading", "Roads", level=2),
        Block("paragraph", "The council approved 42 roads. Work starts <em>next week</em>."),
    ])
    store.articles.save(entry_id, article)
    missing = Flag("numbers", "error", "The council approved 42 roads.", "परिषद ने सड़कों को मंजूरी दी।",
                   "number 42 missing in the translation", block=1)
    stray = Flag("names", "warning", "Somewhere else entirely.", "कहीं और।", "name spelled two ways", block=None)
    translated = TranslatedArticle(title="परिषद ने सड़कों को मंजूरी दी", source_lang="en", target_lang="hi",
                                   engine="test", flags=[missing, stray], blocks=[
                                       Block("heading", "सड़कें", level=2),
                                       Block("paragraph", "परिषद ने सड़कों को मंजूरी दी। काम <em>अगले सप्ताह</em> शुरू होगा।"),
                                   ])
    store.translations.save(entry_id, translated, state="held", reason="held for review: numbers: 42 missing")
    store.close()
    return entry_id


def test_entry_show_json_puts_each_flag_beside_its_segment_and_gives_the_history(home, capsys):
    entry_id = _held_entry(home)
    code, out, _ = run(capsys, home, "entry", "show", str(entry_id), "--json")
    shown = json.loads(out)
    assert code == 0
    assert {"id", "title", "url", "state", "error", "note", "source", "published", "segments", "flags",
            "history"} <= set(shown)
    assert shown["id"] == entry_id and shown["state"] == "held" and "42" in shown["error"]
    assert shown["source"]["name"] == "Deccan Courier"
    by_source = {s["source"]: s for s in shown["segments"]}
    roads = by_source["The council approved 42 roads."]
    assert roads["block"] == 1 and roads["target"] == "परिषद ने सड़कों को मंजूरी दी।"
    assert roads["flags"] == [{"check": "numbers", "severity": "error",
                               "message": "number 42 missing in the translation"}]
    assert by_source["Work starts next week."]["target"] == "काम अगले सप्ताह शुरू होगा।"
    assert by_source["Work starts next week."]["flags"] == []
    assert by_source["Roads"]["target"] == "सड़कें" and by_source["Roads"]["block"] == 0
    assert [f["message"] for f in shown["flags"]] == ["name spelled two ways"]  # no segment says that
    assert [h["state"] for h in shown["history"]] == ["new", "new", "extracted", "held"]
    assert "HTTP 503" in shown["history"][1]["reason"] and shown["history"][1]["attempt"] == 1


def test_entry_show_prints_original_and_translation_for_a_reader(home, capsys):
    entry_id = _held_entry(home)
    code, out, _ = run(capsys, home, "entry", "show", str(entry_id))
    assert code == 0
    for text in ("Council approves roads", "Deccan Courier", "The council approved 42 roads.",
                 "परिषद ने सड़कों को मंजूरी दी।", "number 42 missing in the translation", "name spelled two ways",
                 "HTTP 503", "held"):
        assert text in out
    assert out.index("The council approved 42 roads.") < out.index("number 42 missing") < out.index("Work starts")


def test_approve_and_retry_say_what_happened_to_a_known_entry(home, capsys):
    entry_id = _held_entry(home)
    code, out, _ = run(capsys, home, "entry", "approve", str(entry_id))
    assert code == 0 and "approved" in out
    history = json.loads(run(capsys, home, "entry", "show", str(entry_id), "--json")[1])["history"]
    assert (history[-1]["state"], history[-1]["reason"]) == ("translated", "approved by an editor")
    assert "not held" in refused(capsys, home, "entry", "approve", str(entry_id))
    code, out, _ = run(capsys, home, "entry", "retry", str(entry_id))
    assert code == 0 and "unchanged" in out
    assert "no entry 77" in refused(capsys, home, "entry", "retry", str(entry_id), "77")


def test_entry_list_into_a_closed_pipe_exits_quietly(home):
    store = Store(load_config(home).db_url)
    source = store.sources.add("https://courier.example/feed.xml")
    items = [FeedEntry(title=f"Story number {i} " + "x" * 60, url=f"https://courier.example/{i}") for i in range(3000)]
    store.entries.add_many(source.id, [(e, entry_identity(e, source.id)) for e in items])
    store.close()
    env = {**os.environ, "SAMACHAR_HOME": str(home)}
    proc = subprocess.Popen([sys.executable, "-m", "samachar", "entry", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env)
    with proc, proc.stderr:
        assert proc.stdout.readline()  # what `head -1` reads before it goes away
        proc.stdout.close()
        stderr = proc.stderr.read().decode()
        assert proc.wait(timeout=60) == 141 and stderr == ""


# -- single-article tools --------------------------------------------------------------------------

def test_translate_json_carries_the_same_metadata_as_extract_json(home, capsys):
    page = next(samples_dir().glob("meridian-wire/india/*.html"))
    url = "https://meridianwire.example/x"
    extracted = json.loads(run(capsys, home, "extract", str(page), "--url", url, "--json")[1])
    code, out, _ = run(capsys, home, "translate", str(page), "--url", url, "--from", "en", "--to", "en", "--json")
    translated = json.loads(out)
    metadata = ("canonical_url", "publisher", "author", "published", "modified", "image", "language", "source")
    assert code == 0 and extracted["publisher"] and extracted["published"]
    assert {k: translated[k] for k in metadata} == {k: extracted[k] for k in metadata}


def test_registering_the_commands_loads_no_database_or_web_library():
    """Every command pays for the parser: `story`, `user` and `token` register without SQLAlchemy, Starlette, NumPy."""
    code = ("import sys; from samachar.cli import build_parser; build_parser(); "
            "print(sorted(m for m in ('sqlalchemy', 'starlette', 'numpy', 'argon2') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["[]"], proc.stdout
