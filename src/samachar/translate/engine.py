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
An answer with fewer or more strings than segments fails the call with a
:class:`~samachar.errors.TranslationError`. Language codes are ISO 639-1
(``en``, ``hi``, ``es``).

Optional attributes, each with the default samachar assumes when it is absent
(read only through the functions of this module):

``model: str = ""``
    names the model/version. With ``name`` it keys the translation memory, so a
    new model does not reuse the old one's translations.
``model_for(source, target) -> str``
    the model that translates this pair, for an engine that holds several
    (CTranslate2: one per pair; a fallback chain: its first engine for the
    pair). Used instead of ``model`` in the memory key when present.
``supports(source, target) -> bool = True``
    whether the pair is available; samachar asks before translating and skips
    engines that say no.
``supports_glossary: bool = False``
    then ``translate`` is also called with ``glossary={source_term: target_term}``
    (the site glossary's terms found in the text).
``tag_aware: bool = True``
    ``False``: the engine's output text changes when markup is present;
    samachar then translates the plain text too and projects the tags onto it.
``document_context: bool = False``
    the engine reads one call's segments as one document (an LLM that sees
    neighbouring sentences); samachar then never mixes two articles in a
    call. Without it, sentences of several articles share calls, which is
    what makes batching engines (CTranslate2, HTTP APIs) fast.
``deterministic: bool = False``
    the same input always gets the same answer; samachar does not re-send a
    segment its QA rejected to this engine (a fallback chain may still pass it
    to the next engine).
``engines: list[Engine] = [the engine itself]``
    a wrapper engine's engines, in the order it prefers them (the fallback
    chain's members). Each translation is remembered under the engine that
    made it, keyed by that engine's name and model, and a translation QA
    rejects may go to the engines after the one that made it.
``serve(segments, source, target, glossary=None) -> list[Served]``
    a wrapper's translations, each with the name of the engine (one of
    ``engines``) that made it; samachar calls it instead of ``translate`` and
    hands it the glossary whenever there is one. Default: ``translate``, every
    segment credited to ``name``.
``tokens_used: int | None = None``
    a running total of the tokens the engine has been billed or has generated
    (an LLM or an HTTP API that reports them); samachar reads it before and
    after each call for the desk's usage figures. ``None``: not reported.

Engines are found through the entry-point group ``samachar.engines`` (the
built-ins are registered there too), or loaded from ``package.module:Class``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any, Protocol, runtime_checkable

from samachar.errors import TranslationError

ENTRY_POINT_GROUP = "samachar.engines"


@runtime_checkable
class Engine(Protocol):
    name: str

    def translate(self, segments: list[str], source: str, target: str) -> list[str]: ...


@dataclass(frozen=True)
class Served:
    """One segment's translation and the name of the engine that made it."""

    text: str
    engine: str


def available_engines() -> dict[str, EntryPoint]:
    """Engine classes registered under the ``samachar.engines`` entry points."""
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def load_engine(spec: str, **options: Any) -> Engine:
    """Instantiate an engine by registered name or ``package.module:Class``."""
    from samachar.plugins import load_class

    cls = load_class(spec, ENTRY_POINT_GROUP, "engine")
    engine: Engine = cls(**options) if options else cls()
    return engine


# -- the optional attributes, with their defaults ----------------------------------------------------


def engine_supports(engine: Engine, source: str, target: str) -> bool:
    check = getattr(engine, "supports", None)
    return True if check is None else bool(check(source, target))


def engine_model(engine: Engine, source: str, target: str) -> str:
    """The model that translates this pair (``model_for``), else the engine's ``model``, else ""."""
    model_for = getattr(engine, "model_for", None)
    model = model_for(source, target) if callable(model_for) else getattr(engine, "model", "")
    return str(model or "")


def takes_glossary(engine: Engine) -> bool:
    return bool(getattr(engine, "supports_glossary", False))


def is_tag_aware(engine: Engine) -> bool:
    return bool(getattr(engine, "tag_aware", True))


def reads_as_document(engine: Engine) -> bool:
    return bool(getattr(engine, "document_context", False))


def is_deterministic(engine: Engine) -> bool:
    return bool(getattr(engine, "deterministic", False))


def tokens_used(engine: Engine) -> int | None:
    """The engine's running token total (``tokens_used``), or None where it keeps none."""
    used = getattr(engine, "tokens_used", None)
    return used if isinstance(used, int) and not isinstance(used, bool) else None


def members(engine: Engine) -> list[Engine]:
    """The engines that may make a translation for ``engine``: a wrapper's ``engines``, else itself."""
    inner: Sequence[Engine] | None = getattr(engine, "engines", None)
    return list(inner) if inner else [engine]


# -- calling an engine ----------------------------------------------------------------------------------


def translate_segments(engine: Engine, segments: list[str], source: str, target: str,
                       glossary: dict[str, str] | None = None) -> list[str]:
    """``engine.translate``, with the glossary when the engine takes one, one answer per segment checked."""
    from samachar.metrics import count_engine

    started = time.perf_counter()
    if glossary and takes_glossary(engine):
        out: list[str] = engine.translate(segments, source, target, glossary=glossary)  # type: ignore[call-arg]
    else:
        out = engine.translate(segments, source, target)
    count_engine(engine.name, len(segments), sum(len(s) for s in segments), time.perf_counter() - started)
    _check_count(engine, len(out), len(segments))
    return out


def serve_segments(engine: Engine, segments: list[str], source: str, target: str,
                   glossary: dict[str, str] | None = None) -> list[Served]:
    """Each segment's translation with the engine that made it: a wrapper's ``serve``, else ``translate``."""
    serve = getattr(engine, "serve", None)
    if not callable(serve):
        return [Served(text, engine.name) for text in translate_segments(engine, segments, source, target, glossary)]
    served: list[Served] = serve(segments, source, target, glossary=glossary)
    _check_count(engine, len(served), len(segments))
    return served


def _check_count(engine: Engine, answers: int, segments: int) -> None:
    if answers != segments:
        raise TranslationError(f"{engine.name} returned {answers} translations for {segments} segments")
