"""CTranslate2: local neural MT (Argos packages, OPUS-MT, NLLB-200, M2M-100, IndicTrans2) on CPU or GPU.

The engine picks the installed model for the pair from the models folder
(``samachar models import``/``install``), loads it once, and translates with
token-based batching:

1. every segment is tokenized with the model's SentencePiece model and given
   the language tokens its family expects (``hin_Deva`` as target prefix for
   NLLB, ``__hi__`` for M2M-100, ``eng_Latn hin_Deva`` in front of the source
   for IndicTrans2, ``>>hin<<`` for multi-target OPUS-MT); IndicTrans2 text also goes
   through that family's own pre- and postprocessing (``samachar.models.indic_text``:
   Moses tokenization for English, Devanagari script unification for Indic
   languages, placeholders for URLs and numbers);
2. segments are sorted by length and cut into chunks of at most
   ``max_batch_tokens`` source tokens, so one call carries many segments
   (from one article or many) and short ones do not wait behind long ones;
   on CPU the chunks are decoded in parallel by ``workers`` (CTranslate2's
   ``inter_threads``), each on ``threads`` cores: a batch is split so that
   every worker gets a share. One sentence alone runs on one worker, which
   on CPU is also its fastest way (a single-row matrix product split over
   several OpenMP threads loses more to synchronisation than it gains);
3. each chunk is decoded with ``max_decoding_length`` computed from its own
   longest input (``length_ratio`` × tokens + ``decoding_margin``), never
   CTranslate2's fixed default of 256 tokens, which silently cuts long
   sentences.

Neural models move, drop or invent the ``<g1>`` tags, so ``tag_aware`` is
false: samachar translates the plain text and projects the markup itself.
"""

from __future__ import annotations

import logging
import math
import os
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from samachar.errors import ConfigError, PairNotInstalled, RuntimeMissing, TranslationError
from samachar.models.languages import FLORES, m2m_token, marian_target_token
from samachar.models.registry import InstalledModel, find_model, list_models

log = logging.getLogger(__name__)

# Longest input (tokens) a family was trained on; longer "sentences" are cut into runs. IndicTrans2
# was trained on at most 256 tokens, OPUS-MT/Marian on 512; NLLB-200 and M2M-100 take 1,024.
INPUT_LIMITS = {"indictrans2": 256, "marian": 512}
DEFAULT_INPUT_LIMIT = 1000

COMPUTE_TYPES = ("auto", "default", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16",
                 "float", "float32", "float16", "bfloat16")


@dataclass
class LoadedModel:
    """A model in memory: the translator and its tokenizers."""

    info: InstalledModel
    translator: Any
    source_sp: Any
    target_sp: Any
    workers: int = 1  # batches the translator decodes at the same time


MIN_CHUNK_TOKENS = 256  # smaller batches waste the worker they keep busy


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _default_models_dir() -> Path:
    from samachar.config import home_dir

    return home_dir() / "models"



# The packages a model kind needs at run time (module name → PyPI name).
RUNTIME_PACKAGES = {"ctranslate2": "ctranslate2", "sentencepiece": "sentencepiece"}
INDICTRANS2_PACKAGES = {"sacremoses": "sacremoses"}


def check_runtime(info: InstalledModel, pair: str) -> None:
    """Raise :class:`RuntimeMissing` when a package that runs ``info`` cannot be imported."""
    import importlib

    needed = dict(RUNTIME_PACKAGES)
    if info.kind == "indictrans2":
        needed.update(INDICTRANS2_PACKAGES)
    missing = []
    for module, pypi in needed.items():
        try:
            importlib.import_module(module)
        except ImportError:  # absent, or present but broken (a missing shared library)
            missing.append(pypi)
    if missing:
        raise RuntimeMissing(
            f"a {pair} model is installed ({info.id}) but the package(s) that run it are missing: "
            f"{', '.join(missing)}; install them with: pip install {' '.join(missing)} "
            "(a plain 'pip install samachar' includes them)")


class CTranslate2Engine:
    """Translate with a CTranslate2 model from the models folder (or one given by path)."""

    name = "ctranslate2"
    tag_aware = False

    def __init__(self, models_dir: str | Path | None = None, *, model: str | None = None,
                 model_path: str | Path | None = None, device: str = "auto", compute_type: str = "auto",
                 beam_size: int = 4, max_batch_tokens: int = 4096, threads: int = 0, workers: int = 0,
                 length_ratio: float = 3.0, decoding_margin: int = 16, max_input_tokens: int | None = None):
        if compute_type not in COMPUTE_TYPES:
            raise ConfigError(f"ctranslate2: unknown compute_type {compute_type!r}; use one of {', '.join(COMPUTE_TYPES)}")
        if compute_type == "float":
            compute_type = "float32"
        self.models_dir = Path(models_dir) if models_dir else _default_models_dir()
        self.pinned = model
        self.model_path = Path(model_path) if model_path else None
        self.device = device
        self.compute_type = compute_type
        self.beam_size = beam_size
        self.max_batch_tokens = max_batch_tokens
        self.threads = threads
        self.workers = workers
        self.length_ratio = length_ratio
        self.decoding_margin = decoding_margin
        self.max_input_tokens = max_input_tokens
        self._loaded: dict[Path, LoadedModel] = {}
        self._lock = threading.Lock()
        self.calls = 0  # translate_batch calls made; the benchmark and tests read it

    def __repr__(self) -> str:
        where = self.model_path or self.models_dir
        return f"CTranslate2Engine({str(where)!r}, device={self.device!r}, compute_type={self.compute_type!r})"

    # -- which model ------------------------------------------------------------------------------

    def model_info(self, source: str, target: str) -> InstalledModel | None:
        if self.model_path is not None:
            from samachar.models.registry import describe_model

            info = describe_model(self.model_path)
            return info if info.supports(source, target) else None
        return find_model(self.models_dir, source, target, self.pinned)

    @property
    def model(self) -> str:
        """The installed models' ids; changes when a model is added, upgraded or removed."""
        if self.model_path is not None:
            from samachar.models.registry import describe_model

            return describe_model(self.model_path).id
        return "+".join(sorted(m.id for m in list_models(self.models_dir) if m.engine == self.name)) or self.name

    def model_for(self, source: str, target: str) -> str:
        """The id of the model that would translate this pair."""
        info = self.model_info(source, target)
        return info.id if info else self.name

    def supports(self, source: str, target: str) -> bool:
        """True when a model for the pair is installed and its runtime imports.

        An installed model whose runtime is missing raises :class:`RuntimeMissing`
        naming the package, rather than reading as "no model".
        """
        try:
            info = self.model_info(source, target)
        except ConfigError:
            return False
        if info is None:
            return False
        check_runtime(info, f"{source}→{target}")
        return True

    # -- loading ----------------------------------------------------------------------------------

    def resolved_device(self) -> str:
        import ctranslate2

        if self.device != "auto":
            return self.device
        return "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"

    def parallelism(self, device: str) -> tuple[int, int]:
        """(workers, threads per worker): 0 in the options means "choose".

        On CPU the default is one worker per core, up to 4, with the cores
        left over shared out as threads: batches are what samachar decodes,
        and parallel batches scale where threads inside one batch do not
        (measured in docs/benchmarks.md). On a GPU, one worker and
        CTranslate2's own thread default.
        """
        if device != "cpu":
            return self.workers or 1, self.threads
        cpus = available_cpus()
        if self.workers and self.threads:
            return self.workers, self.threads
        if self.threads:
            return max(1, min(4, cpus // self.threads)), self.threads
        workers = self.workers or min(4, cpus)
        return workers, max(1, cpus // workers)

    def load(self, info: InstalledModel) -> LoadedModel:
        with self._lock:
            if info.path in self._loaded:
                return self._loaded[info.path]
            check_runtime(info, f"{info.source}→{info.target}")
            import ctranslate2
            import sentencepiece as spm

            device = self.resolved_device()
            if self.compute_type not in ("auto", "default"):
                supported = ctranslate2.get_supported_compute_types(device)
                if self.compute_type not in supported:
                    raise ConfigError(f"ctranslate2: compute_type {self.compute_type} is not supported on {device} "
                                      f"(supported: {', '.join(sorted(supported))})")
            try:
                workers, threads = self.parallelism(device)
                translator = ctranslate2.Translator(str(info.path / info.model_dir), device=device,
                                                   compute_type=self.compute_type, inter_threads=workers,
                                                   intra_threads=threads)
                source_sp = spm.SentencePieceProcessor(model_file=str(info.path / info.source_spm))
                target_sp = (source_sp if info.target_spm == info.source_spm
                             else spm.SentencePieceProcessor(model_file=str(info.path / info.target_spm)))
            except (RuntimeError, OSError, ValueError) as exc:
                raise TranslationError(f"cannot load model {info.path.name}: {exc}") from None
            log.info("loaded model %s on %s (%s, %d worker(s) × %s thread(s))", info.id, device, self.compute_type,
                     workers, threads or "default")
            loaded = LoadedModel(info, translator, source_sp, target_sp, workers)
            self._loaded[info.path] = loaded
            return loaded

    # -- translating ------------------------------------------------------------------------------

    def source_tokens(self, loaded: LoadedModel, text: str, source: str, target: str) -> list[str]:
        """Tokens for one segment, with the language tags the model family expects."""
        head, tail = self.source_frame(loaded.info, source, target)
        text = self.prepare_source(loaded.info, text, source)[0]
        return [*head, *loaded.source_sp.encode(text, out_type=str), *tail]

    def source_frame(self, info: InstalledModel, source: str, target: str) -> tuple[list[str], list[str]]:
        """The tokens a model family wants before and after a segment's pieces."""
        kind = info.kind
        if kind == "nllb":
            return [FLORES.get(source, source)], ["</s>"]
        if kind == "m2m100":
            return [m2m_token(source)], ["</s>"]
        if kind == "indictrans2":
            return [FLORES.get(source, source), FLORES.get(target, target)], []
        if kind == "marian" and info.extra.get("multi_target"):
            return [marian_target_token(target)], []
        return [], []

    def split_overlong(self, pieces: list[str], room: int) -> list[list[str]]:
        """Pieces of an overlong "sentence" cut into runs of at most ``room``, at word starts where possible."""
        runs: list[list[str]] = []
        start = 0
        while len(pieces) - start > room:
            cut = start + room
            # Back up to the start of a word (a piece beginning with ▁), unless the word is longer than half a run.
            word_start = next((j for j in range(cut, start + room // 2, -1) if pieces[j].startswith("\u2581")), None)
            if word_start is not None:
                cut = word_start
            runs.append(pieces[start:cut])
            start = cut
        runs.append(pieces[start:])
        return runs

    def target_prefix(self, info: InstalledModel, target: str) -> list[str]:
        if info.kind == "nllb":
            return [FLORES.get(target, target)]
        if info.kind == "m2m100":
            return [m2m_token(target)]
        return list(info.target_prefix)

    def decoding_length(self, longest_input: int) -> int:
        return int(math.ceil(longest_input * self.length_ratio)) + self.decoding_margin

    def chunks(self, lengths: list[int], parts: int = 1) -> list[list[int]]:
        """Indices grouped by similar length, each group within ``max_batch_tokens``.

        At least ``parts`` groups (fewer where they would fall under ``MIN_CHUNK_TOKENS``), as even as
        the lengths allow: n groups of about total / n tokens, not full groups and a small remainder,
        so parallel workers finish together.
        """
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        total = sum(lengths)
        count = max(math.ceil(total / self.max_batch_tokens), min(parts, total // MIN_CHUNK_TOKENS), 1)
        share = total / count
        groups: list[list[int]] = []
        current: list[int] = []
        tokens = done = 0
        for i in order:
            size = lengths[i]
            # Close the group when it would overflow the budget, or when this segment sits mostly
            # beyond the group's even share of the whole.
            if current and (tokens + size > self.max_batch_tokens
                            or done + tokens + size / 2 > (len(groups) + 1) * share):
                groups.append(current)
                done += tokens
                current, tokens = [], 0
            current.append(i)
            tokens += size
        if current:
            groups.append(current)
        return groups

    @staticmethod
    def chunk_parts(workers: int) -> int:
        """Two chunks per worker: one that finishes early takes the next, evening out unequal chunks
        (4 chunks on 2 workers decoded 7–9 % faster than 2–3 larger ones; docs/benchmarks.md)."""
        return 2 * workers if workers > 1 else 1

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        if not segments:
            return []
        info = self.model_info(source, target)
        if info is None:
            raise PairNotInstalled(f"no CTranslate2 model for {source}→{target} in {self.models_dir}; "
                                   f"install one with 'samachar models install {source} {target}' "
                                   "or 'samachar models import PACKAGE'")
        loaded = self.load(info)
        head, tail = self.source_frame(info, source, target)
        limit = self.max_input_tokens or INPUT_LIMITS.get(info.kind, DEFAULT_INPUT_LIMIT)
        room = max(1, limit - len(head) - len(tail))
        results = [""] * len(segments)
        indic = info.kind == "indictrans2"
        placeholders: dict[int, dict[int, str]] = {}
        # Overlong "sentences" are cut into runs the model can take, each with the language tokens, and joined again.
        pieces: list[tuple[int, list[str]]] = []
        for i, segment in enumerate(segments):
            text = unicodedata.normalize("NFC", " ".join(segment.split()))
            if not text:
                results[i] = segment
                continue
            text, placeholders[i] = self.prepare_source(info, text, source)
            for run in self.split_overlong(loaded.source_sp.encode(text, out_type=str), room):
                pieces.append((i, [*head, *run, *tail]))
        outputs = self.translate_tokens(loaded, [p[1] for p in pieces], target)
        if indic:
            from samachar.models.indic_text import postprocess

            flores_target = FLORES.get(target, target)
            outputs = [postprocess(text, flores_target, placeholders[i])
                       for (i, _), text in zip(pieces, outputs, strict=True)]
        joined: dict[int, list[str]] = {}
        for (i, _), text in zip(pieces, outputs, strict=True):
            joined.setdefault(i, []).append(text)
        for i, parts in joined.items():
            results[i] = " ".join(p for p in parts if p)
        return results

    def prepare_source(self, info: InstalledModel, text: str, source: str) -> tuple[str, dict[int, str]]:
        """The text a family's SentencePiece model encodes, and the spans hidden behind placeholders.

        Only IndicTrans2 changes the text (see ``samachar.models.indic_text``); other families get it as is.
        """
        if info.kind != "indictrans2":
            return text, {}
        from samachar.models.indic_text import preprocess

        try:
            prepared = preprocess(text, FLORES.get(source, source))
        except ImportError as exc:
            raise PairNotInstalled(str(exc)) from None
        return prepared.text, prepared.placeholders

    def translate_tokens(self, loaded: LoadedModel, batch: list[list[str]], target: str) -> list[str]:
        """Decode tokenized segments in length-sorted chunks, in parallel on several workers;
        returns detokenized text in input order."""
        prefix = self.target_prefix(loaded.info, target)
        out = [""] * len(batch)
        parallel = loaded.workers > 1
        submitted = []
        try:
            for group in self.chunks([len(t) for t in batch], self.chunk_parts(loaded.workers)):
                inputs = [batch[i] for i in group]
                longest = max(len(t) for t in inputs)
                results = loaded.translator.translate_batch(
                    inputs,
                    target_prefix=[prefix] * len(inputs) if prefix else None,
                    max_batch_size=self.max_batch_tokens,
                    batch_type="tokens",
                    beam_size=self.beam_size,
                    max_input_length=0,
                    max_decoding_length=self.decoding_length(longest) + len(prefix),
                    replace_unknowns=True,
                    asynchronous=parallel,  # queued: the translator's workers take chunks as they free up
                )
                self.calls += 1
                if len(results) != len(group):
                    raise TranslationError(f"ctranslate2 ({loaded.info.id}) returned {len(results)} results "
                                           f"for a chunk of {len(group)} segments")
                submitted.append((group, results))
            for group, results in submitted:
                for i, result in zip(group, results, strict=True):
                    hypothesis = list((result.result() if parallel else result).hypotheses[0])
                    if prefix and hypothesis[:len(prefix)] == prefix:
                        hypothesis = hypothesis[len(prefix):]
                    out[i] = detokenize(loaded.target_sp, hypothesis)
        except (RuntimeError, ValueError) as exc:
            raise TranslationError(f"ctranslate2 ({loaded.info.id}) failed: {exc}") from None
        return out


def detokenize(processor: Any, pieces: list[str]) -> str:
    """SentencePiece decoding that survives pieces the target model lacks (copied unknowns)."""
    unknown = processor.unk_id()
    if all(processor.piece_to_id(p) != unknown or p == "<unk>" for p in pieces):
        return processor.decode(pieces).strip()
    return "".join(pieces).replace("\u2581", " ").strip()
