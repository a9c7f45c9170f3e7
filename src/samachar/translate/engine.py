"""The translation engine interface: samachar's one extension point for MT.

An engine is any object with a ``name`` and a ``translate`` method::

    class UpperEngine:
        name = "upper"

        def translate(self, segments: list[str], source: str, target: str) -> list[str]:
            return [s.upper() for s in segments]

``segments`` are whole sentences. Inline markup travels inside them as
numbered XML-like tags, the XLIFF convention: paired ``<g1>…</g1>`` and
standalone ``<x1/>``. An engine returns one string per segment, in order, and
should keep the tags (samachar repairs what it moves, duplicates or drops).
Language codes are ISO 639-1 (``en``, ``hi``, ``es``).

Optional attributes an engine may have:

``model``
    a string naming the model/version; part of the translation-memory key.
``supports(source, target) -> bool``
    whether the pair is available; samachar asks before translating.
``supports_glossary = True``
    then ``translate`` is also called with ``glossary={source_term: target_term}``.
``tag_aware = False``
    the engine's output text changes when markup is present; samachar then
    translates the plain text too and projects the tags onto it.
``document_context = True``
    the engine reads one call's segments as one document (an LLM that sees
    neighbouring sentences); samachar then never mixes two articles in a
    call. Without it, sentences of several articles share calls, which is
    what makes batching engines (CTranslate2, HTTP APIs) fast.
``deterministic = True``
    the same input always gets the same answer; samachar does not re-send a
    segment its QA rejected to this engine (a fallback chain may still pass it
    to the next engine).

Engines are found through the entry-point group ``samachar.engines`` (the
built-ins are registered there too), or loaded from ``package.module:Class``.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from samachar.errors import ConfigError

ENTRY_POINT_GROUP = "samachar.engines"


@runtime_checkable
class Engine(Protocol):
    name: str

    def translate(self, segments: list[str], source: str, target: str) -> list[str]: ...


def available_engines() -> dict[str, Any]:
    """Engine classes registered under the ``samachar.engines`` entry points."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_engine(spec: str, **options: Any) -> Engine:
    """Instantiate an engine by registered name or ``package.module:Class``."""
    if ":" in spec:
        module_name, _, attr = spec.partition(":")
        try:
            cls = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ConfigError(f"cannot load engine {spec!r}: {exc}") from exc
    else:
        registered = available_engines()
        if spec not in registered:
            names = ", ".join(sorted(registered)) or "none"
            raise ConfigError(f"unknown engine {spec!r}; installed engines: {names}")
        cls = registered[spec].load()
    return cls(**options) if options else cls()


def engine_supports(engine: Engine, source: str, target: str) -> bool:
    check = getattr(engine, "supports", None)
    return True if check is None else bool(check(source, target))
