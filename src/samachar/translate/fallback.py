"""A fallback chain: several engines behind the one engine interface.

``[translation] engines = ["openai", "ctranslate2"]`` becomes
``FallbackEngine([openai, ctranslate2])``, an engine like any other (see
:mod:`.engine`): it wraps its members as a pivot or a cache wraps a model. For
each call:

1. the first engine that supports the pair gets every segment;
2. if it raises, the batch is halved and retried so only the segments it
   truly cannot translate move on (within a small budget of failed calls,
   so an engine that is down is given up quickly rather than bisected);
   an empty answer for a non-empty segment, or an answer with the wrong
   number of translations, counts as a failure too;
3. the failed segments go to the next engine, and so on;
4. a segment that fails everywhere raises ``TranslationError``.

``serve`` returns each translation with the name of the member that made it
(``translate`` only the texts); the document pipeline remembers each under
that member's key. ``retry_engine`` says where a translation QA rejected can
go once more: the rest of the chain after the engine that made it, else that
engine again when its answer can change.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

from samachar.errors import TranslationError
from samachar.translate.engine import (
    Engine,
    Served,
    engine_model,
    engine_supports,
    is_deterministic,
    is_tag_aware,
    members,
    reads_as_document,
    takes_glossary,
    translate_segments,
)

log = logging.getLogger(__name__)


class FallbackEngine:
    """Each segment from the first of ``engines`` that supports the pair and can translate it."""

    def __init__(self, engines: Sequence[Engine]) -> None:
        if not engines:
            raise ValueError("FallbackEngine needs at least one engine")
        self.engines = list(engines)
        self.name = "+".join(engine.name for engine in self.engines)
        self.tag_aware = all(is_tag_aware(engine) for engine in self.engines)
        self.document_context = any(reads_as_document(engine) for engine in self.engines)
        self.supports_glossary = any(takes_glossary(engine) for engine in self.engines)
        self.deterministic = all(is_deterministic(engine) for engine in self.engines)

    def __repr__(self) -> str:
        return f"FallbackEngine({self.engines!r})"

    @property
    def model(self) -> str:
        return "+".join(str(getattr(engine, "model", engine.name)) for engine in self.engines)

    def model_for(self, source: str, target: str) -> str:
        """The model of the engine that would serve the pair: the first that supports it."""
        first = next((engine for engine in self.engines if engine_supports(engine, source, target)), None)
        return engine_model(first, source, target) if first is not None else ""

    def supports(self, source: str, target: str) -> bool:
        return any(engine_supports(engine, source, target) for engine in self.engines)

    def translate(self, segments: list[str], source: str, target: str,
                  glossary: dict[str, str] | None = None) -> list[str]:
        return [served.text for served in self.serve(segments, source, target, glossary)]

    def serve(self, segments: list[str], source: str, target: str,
              glossary: dict[str, str] | None = None) -> list[Served]:
        """Each segment's translation, with the name of the member that made it."""
        served: dict[int, Served] = {}
        remaining = list(range(len(segments)))
        errors: list[str] = []
        for engine in self.engines:
            if not remaining:
                break
            if not engine_supports(engine, source, target):
                continue
            done, failed, error = _attempt(engine, [segments[i] for i in remaining], source, target, glossary)
            for local, text in done.items():
                served[remaining[local]] = Served(text, engine.name)
            if failed:
                errors.append(f"{engine.name}: {error}")
                log.warning("%s could not translate %d of %d segments (%s); passing them on",
                            engine.name, len(failed), len(remaining), error)
            remaining = [remaining[local] for local in failed]
        if remaining:
            why = "; ".join(errors) or "no engine in the chain supports the pair"
            raise TranslationError(f"{len(remaining)} of {len(segments)} segments failed on every engine "
                                   f"({self.name} {source}→{target}): {why}")
        return [served[i] for i in range(len(segments))]


def retry_engine(engine: Engine, made_by: str, source: str, target: str) -> Engine | None:
    """Where a translation by ``made_by`` that QA rejected goes once more, if anywhere.

    The engines of the chain after ``made_by`` that support the pair, as a chain; else
    ``made_by`` itself when its answer can change: it handles tags itself and is not
    ``deterministic`` (Apertium and CTranslate2's beam search give the same answer again).
    """
    chain = members(engine)
    position = next((i for i, member in enumerate(chain) if member.name == made_by), None)
    if position is None:
        return None
    rest = [member for member in chain[position + 1 :] if engine_supports(member, source, target)]
    if rest:
        return FallbackEngine(rest)
    member = chain[position]
    if is_tag_aware(member) and not is_deterministic(member):
        return member
    return None


def _attempt(engine: Engine, segments: list[str], source: str, target: str,
             glossary: dict[str, str] | None) -> tuple[dict[int, str], list[int], str]:
    """What ``engine`` translates of ``segments``: ({index: text}, failed indices, last error)."""
    budget = 2 * math.ceil(math.log2(len(segments) + 1)) + 2
    done: dict[int, str] = {}
    failed: list[int] = []
    error = ""

    def run(indices: list[int]) -> None:
        nonlocal budget, error
        if budget <= 0:
            failed.extend(indices)
            return
        try:
            out = translate_segments(engine, [segments[i] for i in indices], source, target, glossary)
        except Exception as exc:  # noqa: BLE001 - any engine failure moves its segments on; the reason is logged
            budget -= 1
            error = f"{type(exc).__name__}: {exc}"
            if len(indices) == 1:
                failed.extend(indices)
                return
            half = len(indices) // 2
            run(indices[:half])
            run(indices[half:])
            return
        for i, text in zip(indices, out, strict=True):
            if text.strip() or not segments[i].strip():
                done[i] = text
            else:
                failed.append(i)
                error = error or "empty translation"

    run(list(range(len(segments))))
    return done, sorted(failed), error
