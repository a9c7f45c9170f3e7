"""Hosted engines against loopback stand-ins that check each provider's documented request shape.

Each stand-in is a real HTTP server on 127.0.0.1 started by the test. It
asserts what the provider's API reference requires (path, auth header, body
fields) and answers the way the provider documents.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

import pytest

from samachar.errors import ConfigError, TranslationError
from samachar.translate.engines.deepl import DeepLEngine
from samachar.translate.engines.google import GoogleTranslateEngine
from samachar.translate.engines.http_api import parse_retry_after
from samachar.translate.engines.libretranslate import LibreTranslateEngine
from samachar.translate.engines.openai import OpenAIEngine, parse_numbered
from samachar.translate.engines.tag_markup import from_html, from_xml, to_html, to_xml

Responder = Callable[[str, str, dict[str, str], Any], tuple[int, dict[str, str], Any]]
SECRET = "sk-test-SECRET-0123456789"


class StandIn:
    """A loopback HTTP server; ``respond(method, path, headers, json_body)`` returns (status, headers, json)."""

    def __init__(self, respond: Responder):
        self.respond = respond
        self.requests: list[dict[str, Any]] = []
        self.errors: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def handle_any(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw and "json" in (self.headers.get("Content-Type") or "") else raw
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append({"method": self.command, "path": self.path, "headers": headers,
                                       "body": body, "at": time.monotonic()})
                try:
                    status, extra, answer = outer.respond(self.command, self.path, headers, body)
                except Exception as exc:  # the request broke the provider's documented shape
                    outer.errors.append(f"{type(exc).__name__}: {exc}")
                    status, extra, answer = 400, {}, {"error": str(exc)}
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                for k, v in extra.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = handle_any

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        assert not self.errors, self.errors


def fake_translation(text: str) -> str:
    """What the stand-ins 'translate' to: each word reversed and upper-cased; markup untouched."""
    return re.sub(r"(<[^>]*>|&[a-z]+;)|[A-Za-z]+",
                  lambda m: m.group(1) or m.group(0)[::-1].upper(), text)


SEGMENTS = [
    "Pyongyang will always stand with <g1>Moscow</g1>, he said.",
    "The talks covered <g2>NATO</g2> expansion.<x3/>",
    "Prices rose 4% & fell.",
]


# -- tag carriage ---------------------------------------------------------------------------------

def test_tags_round_trip_through_html_and_xml():
    for segment in SEGMENTS + ["a <b> c", "<g1>x <g2>y</g2></g1>"]:
        assert from_html(to_html(segment)) == segment
        assert from_xml(to_xml(segment)) == segment
    assert to_html("A & <g1>B</g1><x2/>") == 'A &amp; <span data-s="g1">B</span><img data-s="x2">'
    # An engine that moves the closing tag and re-quotes attributes still maps back.
    assert from_html("<span data-s=g1>B <span data-s='g2'>C</span> D</span> <img data-s=\"x3\"/>") == \
        "<g1>B <g2>C</g2> D</g1> <x3/>"
    assert from_html('<span data-s="g1">open') == "<g1>open</g1>"


def test_retry_after_parsing():
    assert parse_retry_after("1") == 1.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412470.0) == pytest.approx(10.0)


# -- OpenAI-compatible ----------------------------------------------------------------------------

def chat_server(answer_for: Callable[[str, str, int], tuple[str, str]], first_429: bool = True) -> StandIn:
    """Speaks chat completions; the first call answers 429 with Retry-After: 1."""
    state = {"calls": 0}

    def respond(method, path, headers, body):
        assert method == "POST" and path == "/v1/chat/completions", path
        assert headers.get("authorization") == f"Bearer {SECRET}"
        assert body["model"] == "tiny-llm" and isinstance(body["max_tokens"], int)
        roles = [m["role"] for m in body["messages"]]
        assert roles == ["system", "user"], roles
        state["calls"] += 1
        if first_429 and state["calls"] == 1:
            return 429, {"Retry-After": "1"}, {"error": {"message": "rate limited", "type": "requests"}}
        content, finish = answer_for(body["messages"][0]["content"], body["messages"][1]["content"], state["calls"])
        return 200, {}, {"id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                         "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                      "finish_reason": finish}],
                         "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}

    return StandIn(respond)


def translate_numbered(user: str) -> str:
    return "\n".join(f"[{n}] {fake_translation(text)}" for n, text in
                     (re.match(r"\[(\d+)\] (.*)", line).groups() for line in user.splitlines()))


def test_openai_retries_429_and_maps_the_article_back(monkeypatch, caplog):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_MODEL", "tiny-llm")
    seen: dict[str, str] = {}

    def answer(system, user, call):
        seen["system"], seen["user"] = system, user
        return translate_numbered(user), "stop"

    caplog.set_level(logging.DEBUG)
    with chat_server(answer) as server:
        monkeypatch.setenv("OPENAI_BASE_URL", server.url + "/v1")
        engine = OpenAIEngine()
        assert engine.tokens_used is None  # nothing reported yet: the desk shows no token figure
        out = engine.translate(SEGMENTS, "en", "hi", glossary={"Moscow": "मॉस्को", "Tokyo": "टोक्यो"})
    assert out == [fake_translation(s) for s in SEGMENTS]
    assert engine.tokens_used == 2, "the answered call's usage.total_tokens is counted, the 429 is not"
    assert "<g1>" in out[0] and "<x3/>" in out[1]
    assert len(server.requests) == 2
    assert server.requests[1]["at"] - server.requests[0]["at"] >= 0.95, "Retry-After: 1 was honoured"
    # Instructions, language and glossary in the system message; the user message is only the text.
    assert "Hindi" in seen["system"] and "Moscow → मॉस्को" in seen["system"]
    assert "Tokyo" not in seen["system"], "glossary entries absent from the window stay out"
    assert seen["user"].splitlines() == [f"[{i}] {s}" for i, s in enumerate(SEGMENTS, 1)]
    assert SECRET not in repr(engine) and SECRET not in caplog.text
    assert "429" in caplog.text or "retry" in caplog.text


def test_openai_reasks_then_splits_when_numbers_do_not_match(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def answer(system, user, call):
        lines = user.splitlines()
        if len(lines) > 1:  # a model that always drops the last segment of a multi-segment window
            return translate_numbered("\n".join(lines[:-1])), "stop"
        return translate_numbered(user), "stop"

    with chat_server(answer, first_429=False) as server:
        engine = OpenAIEngine("tiny-llm", base_url=server.url + "/v1")
        out = engine.translate(SEGMENTS, "en", "hi")
    assert out == [fake_translation(s) for s in SEGMENTS]
    systems = [r["body"]["messages"][0]["content"] for r in server.requests]
    assert "missing: 3" in systems[1], "the re-ask says what was missing"
    assert len(server.requests) > 2, "after the re-ask the window was split"


def test_openai_asks_again_when_lines_carry_the_wrong_segments(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def answer(system, user, call):
        lines = translate_numbered(user).splitlines()
        if call == 1:  # content shifted: line [1] holds segment 2's translation and [2] holds segment 1's
            lines[0], lines[1] = "[1]" + lines[1][3:], "[2]" + lines[0][3:]
        return "\n".join(lines), "stop"

    with chat_server(answer, first_429=False) as server:
        engine = OpenAIEngine("tiny-llm", base_url=server.url + "/v1")
        out = engine.translate(SEGMENTS, "en", "hi")
    assert out == [fake_translation(s) for s in SEGMENTS]
    assert len(server.requests) == 2
    assert "lines 1, 2 did not translate the segment with the same number" in \
        server.requests[1]["body"]["messages"][0]["content"]


def test_numbers_survive_scripts_and_grouping_and_budgets_allow_for_the_script():
    from samachar.translate.engines.openai import misfits, numbers_in, output_budget

    assert numbers_in("१२,००,००० रुपये और 4.5%") == numbers_in("Rs 1,200,000 and 4.5%") == ["1200000", "45"]
    assert misfits(["<g1>Kim</g1> met 3 envoys.", "Prices rose 4%."],
                   ["<g1>किम</g1> ने ३ दूतों से मुलाकात की।", "दाम बढ़े।"]) == [2]
    text = "The monsoon brought 12 cm of rain to Shimla on Tuesday." * 10
    assert output_budget(text, "hi") > 2 * output_budget(text, "es")


def test_openai_windows_and_truncated_answers(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def answer(system, user, call):
        lines = user.splitlines()
        if len(lines) > 2:
            return translate_numbered("\n".join(lines[:2])), "length"  # cut off by max_tokens
        return translate_numbered(user), "stop"

    segments = [f"Sentence number {i} about the monsoon and the farmers." for i in range(12)]
    with chat_server(answer, first_429=False) as server:
        engine = OpenAIEngine("tiny-llm", base_url=server.url + "/v1", window_tokens=120)
        out = engine.translate(segments, "en", "hi")
    assert out == [fake_translation(s) for s in segments]
    windows = [r["body"]["messages"][1]["content"].count("\n") + 1 for r in server.requests]
    assert max(windows) > 2 and max(windows) < len(segments), windows


def test_openai_errors_are_one_line_and_keyless(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)

    def respond(method, path, headers, body):
        return 401, {}, {"error": {"message": "invalid api key"}}

    with StandIn(respond) as server:
        engine = OpenAIEngine("tiny-llm", base_url=server.url + "/v1")
        with pytest.raises(TranslationError) as excinfo:
            engine.translate(["Hello."], "en", "hi")
    message = str(excinfo.value)
    assert "401" in message and "\n" not in message and SECRET not in message
    assert len(server.requests) == 1, "401 is not retried"
    assert not OpenAIEngine("", base_url=server.url).supports("en", "hi")


def test_parse_numbered_flags_duplicates_and_joins_wrapped_lines():
    assert parse_numbered("[1] a\ncontinued\n[2] b") == {1: "a continued", 2: "b"}
    assert -1 in parse_numbered("[1] a\n[1] again")


# -- LibreTranslate -------------------------------------------------------------------------------

def test_libretranslate_request_shape():
    def respond(method, path, headers, body):
        if method == "GET":
            assert path == "/languages"
            return 200, {}, [{"code": "en", "name": "English", "targets": ["hi", "es"]}]
        assert path == "/translate"
        assert set(body) == {"q", "source", "target", "format", "api_key"}
        assert body["format"] == "html" and body["source"] == "en" and body["target"] == "hi"
        assert body["api_key"] == SECRET and isinstance(body["q"], list)
        assert body["q"][0] == 'Pyongyang will always stand with <span data-s="g1">Moscow</span>, he said.'
        assert body["q"][2] == "Prices rose 4% &amp; fell."
        return 200, {}, {"translatedText": [fake_translation(q) for q in body["q"]]}

    with StandIn(respond) as server:
        engine = LibreTranslateEngine(server.url, api_key=SECRET)
        assert engine.supports("en", "hi") and not engine.supports("hi", "en")
        out = engine.translate(SEGMENTS, "en", "hi")
    assert out[0] == "GNAYGNOYP LLIW SYAWLA DNATS HTIW <g1>WOCSOM</g1>, EH DIAS."
    assert out[1].endswith("<x3/>") and out[2] == "SECIRP ESOR 4% & LLEF."
    assert SECRET not in repr(engine)


def test_libretranslate_unreachable_supports_nothing():
    engine = LibreTranslateEngine("http://127.0.0.1:9", max_retries=0, timeout=2)
    assert engine.supports("en", "hi") is False


# -- DeepL ----------------------------------------------------------------------------------------

def test_deepl_request_shape_glossary_and_retry():
    state = {"translate_calls": 0, "glossaries": []}

    def respond(method, path, headers, body):
        assert headers.get("authorization") == f"DeepL-Auth-Key {SECRET}"
        if method == "GET":
            if path.startswith("/v2/languages?type="):
                codes = ["EN", "HI", "DE"] if path.endswith("source") else ["EN-GB", "EN-US", "HI", "PT-BR"]
                return 200, {}, [{"language": c, "name": c} for c in codes]
            assert path == "/v2/glossaries"
            return 200, {}, {"glossaries": state["glossaries"]}
        assert method == "POST"
        if path == "/v2/glossaries":
            assert set(body) == {"name", "source_lang", "target_lang", "entries", "entries_format"}
            assert body["entries_format"] == "tsv" and body["entries"] == "Moscow\tमॉस्को"
            assert (body["source_lang"], body["target_lang"]) == ("en", "hi")
            created = {"glossary_id": "def3a26b-3e84-45b3-84ae-0c0aaf3525f7", "ready": True,
                       "name": body["name"], "source_lang": "en", "target_lang": "hi", "entry_count": 1}
            state["glossaries"].append(created)
            return 201, {}, created
        assert path == "/v2/translate"
        state["translate_calls"] += 1
        if state["translate_calls"] == 1:
            return 503, {"Retry-After": "0"}, {"message": "Service unavailable"}
        if state["translate_calls"] == 2:
            return 524, {"Retry-After": "0"}, {"message": "A timeout occurred"}  # a CDN in front of the API
        assert body["tag_handling"] == "xml" and body["target_lang"] == "HI" and body["source_lang"] == "EN"
        assert body["glossary_id"] == "def3a26b-3e84-45b3-84ae-0c0aaf3525f7"
        assert body["text"][0].endswith("<g1>Moscow</g1>, he said.")
        assert len(body["text"]) == 1 or body["text"][2] == "Prices rose 4% &amp; fell."
        return 200, {}, {"translations": [{"detected_source_language": "EN", "text": fake_translation(t)}
                                          for t in body["text"]]}

    with StandIn(respond) as server:
        engine = DeepLEngine(SECRET, url=server.url)
        assert engine.supports("en", "hi") and engine.supports("en-IN", "pt-BR")
        assert not engine.supports("en", "ta") and not engine.supports("ta", "en")
        out = engine.translate(SEGMENTS, "en-IN", "hi", glossary={"Moscow": "मॉस्को"})
        again = engine.translate(SEGMENTS[:1], "en", "hi", glossary={"Moscow": "मॉस्को"})
        later = DeepLEngine(SECRET, url=server.url)  # another process: finds the glossary by its name
        assert later.translate(SEGMENTS[:1], "en", "hi", glossary={"Moscow": "मॉस्को"}) == out[:1]
    assert out[0].endswith("<g1>WOCSOM</g1>, EH DIAS.") and out[2] == "SECIRP ESOR 4% & LLEF."
    assert again == out[:1]
    posts = [r["path"] for r in server.requests if r["method"] == "POST"]
    assert posts.count("/v2/glossaries") == 1, "the glossary is created once, on the account"
    assert SECRET not in repr(engine)


def test_deepl_keeps_requests_under_its_byte_limit():
    sizes = []

    def respond(method, path, headers, body):
        sizes.append(len(json.dumps(body, ensure_ascii=False).encode()))
        return 200, {}, {"translations": [{"text": t} for t in body["text"]]}

    hindi = "सरकार ने मंगलवार को किसानों के लिए एक नई योजना की घोषणा की। " * 20  # ~3 bytes a character
    with StandIn(respond) as server:
        out = DeepLEngine(SECRET, url=server.url, batch_bytes=20_000).translate([hindi] * 12, "hi", "en")
    assert len(out) == 12 and len(sizes) > 1 and max(sizes) < 24_000


def test_credentials_in_an_api_url_never_reach_errors_repr_or_memory_keys():
    def respond(method, path, headers, body):
        return 403, {}, {"error": "forbidden"}

    with StandIn(respond) as server:
        url = server.url.replace("http://", "http://bob:s3cret@")
        libre = LibreTranslateEngine(url, max_retries=0)
        with pytest.raises(TranslationError) as excinfo:
            libre.translate(["Hello."], "en", "hi")
        chat = OpenAIEngine("tiny-llm", base_url=url + "/v1", max_retries=0)
    for text in (str(excinfo.value), repr(libre), libre.model, repr(chat)):
        assert "s3cret" not in text and "bob" not in text, text
    assert libre.model == "libretranslate@" + server.url.removeprefix("http://")


def test_deepl_translates_without_glossary_when_the_pair_has_none():
    def respond(method, path, headers, body):
        if path == "/v2/glossaries":
            return 400, {}, {"message": "Unsupported glossary source and target language pair"}
        assert "glossary_id" not in body
        return 200, {}, {"translations": [{"text": t} for t in body["text"]]}

    with StandIn(respond) as server:
        out = DeepLEngine(SECRET, url=server.url).translate(["Hola <g1>mundo</g1>"], "es", "hi",
                                                           glossary={"mundo": "दुनिया"})
    assert out == ["Hola <g1>mundo</g1>"]


def test_deepl_free_keys_use_the_free_endpoint():
    assert DeepLEngine("abc:fx").url == "https://api-free.deepl.com"
    assert DeepLEngine("abc").url == "https://api.deepl.com"
    assert not DeepLEngine("").supports("en", "hi")


# -- Google Cloud Translation v3 ------------------------------------------------------------------

def test_google_v3_request_shape_with_glossary():
    def respond(method, path, headers, body):
        assert method == "POST"
        assert path == "/v3/projects/news-site/locations/us-central1:translateText", path
        assert headers.get("authorization") == f"Bearer {SECRET}"
        assert headers.get("x-goog-user-project") == "news-site"
        assert body["mimeType"] == "text/html"
        assert (body["sourceLanguageCode"], body["targetLanguageCode"]) == ("en", "hi")
        assert body["glossaryConfig"] == {
            "glossary": "projects/news-site/locations/us-central1/glossaries/names", "ignoreCase": False}
        assert len(body["contents"]) == 3 and '<span data-s="g1">Moscow</span>' in body["contents"][0]
        translated = [{"translatedText": fake_translation(c)} for c in body["contents"]]
        glossary = [{"translatedText": fake_translation(c).replace("WOCSOM", "मॉस्को"),
                     "glossaryConfig": body["glossaryConfig"]} for c in body["contents"]]
        return 200, {}, {"translations": translated, "glossaryTranslations": glossary}

    with StandIn(respond) as server:
        engine = GoogleTranslateEngine("news-site", location="us-central1", glossary="names",
                                       access_token=SECRET, url=server.url)
        out = engine.translate(SEGMENTS, "en", "hi")
    assert out[0].endswith("<g1>मॉस्को</g1>, EH DIAS."), "the glossary translation is used"
    assert out[1].endswith("<x3/>") and out[2] == "SECIRP ESOR 4% & LLEF."
    assert SECRET not in repr(engine)
    assert not GoogleTranslateEngine("", access_token="").supports("en", "hi")


def test_google_gets_a_new_token_from_the_token_command_when_one_expires(tmp_path):
    import sys

    counter = tmp_path / "tokens-issued"
    script = tmp_path / "print_token.py"
    script.write_text(  # first an expired token, then a good one, as `gcloud auth print-access-token` would
        "import pathlib, sys\n"
        f"p = pathlib.Path({str(counter)!r})\n"
        "n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        f"print('expired-token' if n == 0 else {SECRET!r})\n")

    def respond(method, path, headers, body):
        if headers.get("authorization") != f"Bearer {SECRET}":
            return 401, {}, {"error": {"code": 401, "status": "UNAUTHENTICATED"}}
        return 200, {}, {"translations": [{"translatedText": fake_translation(c)} for c in body["contents"]]}

    with StandIn(respond) as server:
        engine = GoogleTranslateEngine("news-site", access_token="", url=server.url,
                                       token_command=f"{sys.executable} {script}")
        assert engine.supports("en", "hi")
        out = engine.translate(SEGMENTS[:1], "en", "hi")
    assert out == [fake_translation(SEGMENTS[0])]
    assert counter.read_text() == "2" and len(server.requests) == 2
    assert SECRET not in repr(engine)
    with pytest.raises(ConfigError, match="region"):
        GoogleTranslateEngine("news-site", glossary="names", access_token=SECRET)


# -- Azure AI Translator --------------------------------------------------------------------------

def test_azure_request_shape_languages_and_retry():
    state = {"translate_calls": 0}

    def respond(method, path, headers, body):
        if method == "GET":
            assert path == "/languages?api-version=3.0&scope=translation"
            return 200, {}, {"translation": {code: {"name": code, "nativeName": code, "dir": "ltr"}
                                             for code in ("en", "hi", "pt", "pt-pt", "zh-Hans")}}
        assert method == "POST" and path.startswith("/translate?")
        assert headers.get("ocp-apim-subscription-key") == SECRET
        assert headers.get("ocp-apim-subscription-region") == "centralindia"
        assert headers.get("content-type") == "application/json"
        query = dict(p.split("=", 1) for p in path.split("?", 1)[1].split("&"))
        assert query == {"api-version": "3.0", "from": "en", "to": "hi", "textType": "html"}, query
        state["translate_calls"] += 1
        if state["translate_calls"] == 1:
            return 429, {"Retry-After": "0"}, {"error": {"code": 429001, "message": "too many requests"}}
        assert isinstance(body, list) and all(set(item) == {"Text"} for item in body)
        assert body[0]["Text"] == 'Pyongyang will always stand with <span data-s="g1">Moscow</span>, he said.'
        assert body[2]["Text"] == "Prices rose 4% &amp; fell."
        return 200, {}, [{"translations": [{"text": fake_translation(item["Text"]), "to": "hi"}]} for item in body]

    from samachar.translate.engines.azure import AzureTranslatorEngine

    with StandIn(respond) as server:
        engine = AzureTranslatorEngine(SECRET, region="centralindia", endpoint=server.url)
        assert engine.supports("en", "hi") and engine.supports("en-IN", "pt-BR") and engine.supports("en", "zh")
        assert not engine.supports("en", "ta")
        out = engine.translate(SEGMENTS, "en", "hi")
    assert out[0] == "GNAYGNOYP LLIW SYAWLA DNATS HTIW <g1>WOCSOM</g1>, EH DIAS."
    assert out[1].endswith("<x3/>") and out[2] == "SECIRP ESOR 4% & LLEF."
    assert state["translate_calls"] == 2, "429 was retried"
    assert SECRET not in repr(engine)
    assert not AzureTranslatorEngine("").supports("en", "hi")
    with pytest.raises(ConfigError, match="AZURE_TRANSLATOR_KEY"):
        AzureTranslatorEngine("").translate(["Hello."], "en", "hi")


def test_every_registered_engine_is_in_the_readme_and_engines_doc_tables():
    from pathlib import Path

    from samachar.translate.engine import available_engines

    root = Path(__file__).resolve().parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    engines_doc = (root / "docs" / "engines.md").read_text(encoding="utf-8")
    names = sorted(available_engines())
    assert {"apertium", "ctranslate2", "openai", "libretranslate", "deepl", "google", "azure"} <= set(names)
    for name in names:
        assert f"| `{name}` |" in readme and f"| `{name}` |" in engines_doc, name
