"""A fallback chain: several engines behind the one engine interface.

``[translation] engines = ["openai", "ctranslate2"]`` becomes
``FallbackEngine([openai, ctranslate2])``. For each call:

1. the first engine that supports the pair gets every segment;
2. if it raises, the batch is halved and retried so only the segments it
   truly cannot translate move on (within a small budget of failed calls,
   so an engine that is down is given up quickly rather than bisected);
   an empty answer for a non-empty segment counts as a failure too;
3. the failed segments go to the next engine, and so on;
4. a segment that fails everywhere raises ``TranslationError``.

``last_engines`` records which engine produced each segment of the last call.

QA-driven retries: when QA rejects some translations, call
``retry_segments(indices)`` (indices into the last call's segments) to
translate just those again with the engine after the one that produced each
(one batched call per engine that produced them, not one per segment);
or ``retry(segments, source, target, after="openai")`` without relying on the
last call. Both return the new translations; a segment with no engine left
raises ``TranslationError``. ``next_engine(after, source, target)`` says
whether a retry has anywhere to go; :func:`~samachar.translate.document.translate_article`
uses these hooks for its one retry round.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from samachar.errors import TranslationError
from samachar.translate.engine import Engine, engine_supports

log = logging.getLogger(__name__)


class FallbackEngine:
    def __init__(self, engines: list[Engine]):
        if not engines:
            raise ValueError("FallbackEngine needs at least one engine")
        self.engines = list(engines)
        self.name = "+".join(e.name for e in self.engines)
        self.tag_aware = all(getattr(e, "tag_aware", True) for e in self.engines)
        self.document_context = any(getattr(e, "document_context", False) for e in self.engines)
        self.supports_glossary = any(getattr(e, "supports_glossary", False) for e in self.engines)
        self.last_engines: list[str] = []
        self._last: tuple[list[str], str, str, dict[str, str] | None] | None = None

    def __repr__(self) -> str:
        return f"FallbackEngine({self.engines!r})"

    @property
    def model(self) -> str:
        return "+".join(str(getattr(e, "model", e.name)) for e in self.engines)

    def supports(self, source: str, target: str) -> bool:
        return any(engine_supports(e, source, target) for e in self.engines)

    def translate(self, segments: list[str], source: str, target: str,
                  glossary: dict[str, str] | None = None) -> list[str]:
        results, used = self._translate_from(0, segments, source, target, glossary)
        self._last = (list(segments), source, target, glossary)
        self.last_engines = used
        return results

    def retry(self, segments: list[str], source: str, target: str, after: str,
              glossary: dict[str, str] | None = None) -> list[tuple[str, str]]:
        """Translate ``segments`` with the engines after the one named ``after``: [(text, engine name)]."""
        names = [e.name for e in self.engines]
        if after not in names:
            raise TranslationError(f"no engine {after!r} in the chain {self.name}")
        results, used = self._translate_from(names.index(after) + 1, segments, source, target, glossary)
        return list(zip(results, used))

    def retry_segments(self, indices: list[int]) -> list[str]:
        """Re-translate these segments of the last call with the next engine after their current one."""
        if self._last is None:
            raise TranslationError("retry_segments: nothing has been translated yet")
        segments, source, target, glossary = self._last
        by_engine: dict[str, list[int]] = {}
        for i in dict.fromkeys(indices):
            by_engine.setdefault(self.last_engines[i], []).append(i)
        answers: dict[int, str] = {}
        for after, group in by_engine.items():
            retried = self.retry([segments[i] for i in group], source, target, after, glossary)
            for i, (text, engine_name) in zip(group, retried):
                self.last_engines[i] = engine_name
                answers[i] = text
        return [answers[i] for i in indices]

    def member(self, name: str) -> Engine | None:
        """The engine of the chain called ``name``."""
        return next((e for e in self.engines if e.name == name), None)

    def next_engine(self, after: str, source: str, target: str) -> Engine | None:
        """The first engine after the one named ``after`` that supports the pair, if any."""
        names = [e.name for e in self.engines]
        if after not in names:
            return None
        return next((e for e in self.engines[names.index(after) + 1 :] if engine_supports(e, source, target)), None)

    # -- the chain --------------------------------------------------------------------------------

    def _call(self, engine: Engine, segments: list[str], source: str, target: str,
              glossary: dict[str, str] | None) -> list[str]:
        if glossary and getattr(engine, "supports_glossary", False):
            out = engine.translate(segments, source, target, glossary=glossary)  # type: ignore[call-arg]
        else:
            out = engine.translate(segments, source, target)
        if len(out) != len(segments):
            raise TranslationError(f"{engine.name} returned {len(out)} translations for {len(segments)} segments")
        return out

    def _attempt(self, engine: Engine, segments: list[str], source: str, target: str,
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
                out = self._call(engine, [segments[i] for i in indices], source, target, glossary)
            except Exception as exc:  # any engine failure moves its segments on; the reason is logged
                budget -= 1
                error = f"{type(exc).__name__}: {exc}"
                if len(indices) == 1:
                    failed.extend(indices)
                    return
                half = len(indices) // 2
                run(indices[:half])
                run(indices[half:])
                return
            for i, text in zip(indices, out):
                if text.strip() or not segments[i].strip():
                    done[i] = text
                else:
                    failed.append(i)
                    error = error or "empty translation"

        run(list(range(len(segments))))
        return done, sorted(failed), error

    def _translate_from(self, start: int, segments: list[str], source: str, target: str,
                        glossary: dict[str, str] | None) -> tuple[list[str], list[str]]:
        results: list[Any] = [None] * len(segments)
        used = [""] * len(segments)
        remaining = list(range(len(segments)))
        errors: list[str] = []
        for engine in self.engines[start:]:
            if not remaining:
                break
            if not engine_supports(engine, source, target):
                continue
            done, failed, error = self._attempt(engine, [segments[i] for i in remaining], source, target, glossary)
            for local, text in done.items():
                results[remaining[local]] = text
                used[remaining[local]] = engine.name
            if failed:
                errors.append(f"{engine.name}: {error}")
                log.warning("%s could not translate %d of %d segments (%s); passing them on",
                            engine.name, len(failed), len(remaining), error)
            remaining = [remaining[local] for local in failed]
        if remaining:
            why = "; ".join(errors) or "no engine in the chain supports the pair"
            raise TranslationError(f"{len(remaining)} of {len(segments)} segments failed on every engine "
                                   f"({self.name} {source}→{target}): {why}")
        return results, used
