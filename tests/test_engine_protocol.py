"""The engine protocol says everything samachar reads from an engine; a wrapper engine is just an engine.

The docs test reads the source: every optional attribute samachar reads with
``getattr``/``hasattr`` — anywhere in ``src/samachar`` on something named like an
engine, and every literal read in the ``samachar.translate`` modules (outside the
engines' own code) — must be declared in ``engine.py``'s docstring and listed in
``docs/engines.md``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import samachar.translate.engine as engine_module
from samachar.model import Article, Block
from samachar.translate.document import translate_article
from samachar.translate.engine import Served, engine_model, members, serve_segments
from samachar.translate.fallback import FallbackEngine
from samachar.translate.memory import InMemoryTranslationMemory, MemoryKey

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "samachar"


def optional_reads() -> dict[str, list[str]]:
    """Attribute names read optionally from engines → where ("path:line")."""
    found: dict[str, list[str]] = {}
    for path in SRC.rglob("*.py"):
        in_translate = path.parent == SRC / "translate"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("getattr", "hasattr") and len(node.args) >= 2):
                continue
            subject, attribute = node.args[0], node.args[1]
            if not (isinstance(attribute, ast.Constant) and isinstance(attribute.value, str)):
                continue
            if in_translate or "engine" in ast.unparse(subject).lower():
                found.setdefault(attribute.value, []).append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def declared_in_protocol() -> set[str]:
    """Names the protocol docstring declares: in its "Optional attributes" part, lines that start with ``name``."""
    doc = engine_module.__doc__ or ""
    optional = doc[doc.index("Optional attributes"):]
    return set(re.findall(r"^``(\w+)", optional, re.MULTILINE))


def test_the_scan_finds_the_optional_reads_it_is_meant_to_guard():
    reads = optional_reads()
    assert {"model", "model_for", "supports", "tag_aware", "document_context", "deterministic",
            "supports_glossary"} <= set(reads), reads


def test_every_optional_engine_attribute_read_is_declared_in_the_protocol():
    declared = declared_in_protocol()
    missing = {name: where for name, where in optional_reads().items() if name not in declared}
    assert not missing, f"read from engines but not declared in engine.py's docstring: {missing}"


def test_docs_list_every_attribute_the_protocol_declares():
    docs = (ROOT / "docs" / "engines.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"`(\w+)", docs))
    assert declared_in_protocol(), "the protocol declares its optional attributes"
    assert declared_in_protocol() - listed == set()


# -- the fallback chain behaves as an engine -------------------------------------------------------


class Named:
    """Prefixes its name; optionally fails on segments containing ``bad``; one model per pair."""

    def __init__(self, name: str, pairs: tuple[tuple[str, str], ...] = (("en", "es"),), bad: str = "",
                 deterministic: bool = True):
        self.name = name
        self.pairs = pairs
        self.bad = bad
        self.deterministic = deterministic
        self.calls: list[list[str]] = []

    def supports(self, source: str, target: str) -> bool:
        return (source, target) in self.pairs

    def model_for(self, source: str, target: str) -> str:
        return f"{self.name}-{source}{target}-v3"

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        self.calls.append(list(segments))
        if self.bad and any(self.bad in s for s in segments):
            raise RuntimeError(f"{self.name} cannot")
        return [f"{self.name}:{s}" for s in segments]


def test_the_chain_answers_supports_and_model_for_as_the_engine_that_would_serve():
    hindi_only = Named("hindi", pairs=(("en", "hi"),))
    both = Named("both", pairs=(("en", "hi"), ("en", "es")))
    chain = FallbackEngine([hindi_only, both])
    assert chain.supports("en", "es") and chain.supports("en", "hi") and not chain.supports("en", "fr")
    assert chain.model_for("en", "es") == both.model_for("en", "es")
    assert chain.model_for("en", "hi") == hindi_only.model_for("en", "hi")
    assert engine_model(chain, "en", "hi") == hindi_only.model_for("en", "hi")
    assert members(chain) == [hindi_only, both] and members(both) == [both]


def test_the_chain_serves_each_segment_with_the_name_of_its_engine():
    first, second = Named("first", bad="boom"), Named("second")
    chain = FallbackEngine([first, second])
    served = chain.serve(["one", "boom two", "three"], "en", "es")
    assert served == [Served("first:one", "first"), Served("second:boom two", "second"),
                      Served("first:three", "first")]
    assert chain.translate(["one"], "en", "es") == ["first:one"]
    # A plain engine is served by itself.
    assert serve_segments(second, ["x"], "en", "es") == [Served("second:x", "second")]


class Router:
    """A wrapper engine that is not a FallbackEngine: short texts to one engine, long ones to another."""

    name = "router"

    def __init__(self, short: Named, long: Named) -> None:
        self.short, self.long = short, long
        self.engines = [short, long]

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        return [s.text for s in self.serve(segments, source, target)]

    def serve(self, segments: list[str], source: str, target: str,
              glossary: dict[str, str] | None = None) -> list[Served]:
        out = []
        for segment in segments:
            engine = self.short if len(segment) < 20 else self.long
            out.append(Served(engine.translate([segment], source, target)[0], engine.name))
        return out


def test_any_wrapper_engine_gets_its_members_memory_keys_and_credit():
    short, long = Named("short"), Named("long")
    memory = InMemoryTranslationMemory()
    article = Article(url="u", title="Rain", blocks=[Block("paragraph", "The rain fell all night on the city.")])
    result = translate_article(article, Router(short, long), "en", "es", memory=memory)
    assert result.title == "short:Rain"
    assert result.blocks[0].html == "long:The rain fell all night on the city."
    assert result.engine == "short+long"

    def stored(engine: Named, text: str) -> str | None:
        return memory.entries.get(MemoryKey(engine.name, engine.model_for("en", "es"), "en", "es", text).digest)

    assert stored(long, "The rain fell all night on the city.") == "long:The rain fell all night on the city."
    assert stored(short, "Rain") == "short:Rain"


def test_a_wrapper_that_answers_fewer_segments_is_a_clear_error():
    class Lossy(Router):
        def serve(self, segments, source, target, glossary=None):
            return super().serve(segments, source, target, glossary)[:-1]

    from samachar.errors import TranslationError

    with pytest.raises(TranslationError, match=r"router returned \d+ translations for \d+ segments"):
        translate_article(Article(url="u", title="Rain", blocks=[Block("paragraph", "It rained.")]),
                          Lossy(Named("a"), Named("b")), "en", "es")
