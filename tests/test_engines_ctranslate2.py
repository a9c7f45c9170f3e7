"""The ctranslate2 engine on tiny random-weight models built in the test (nothing is downloaded)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("ctranslate2")
pytest.importorskip("sentencepiece")

from samachar.cli import main  # noqa: E402
from samachar.errors import ConfigError, PairNotInstalled  # noqa: E402
from samachar.models import import_model  # noqa: E402
from samachar.models.tiny import build_tiny_argos_package, train_sentencepiece, write_ct2_model  # noqa: E402
from samachar.translate.engines.ctranslate2 import CTranslate2Engine  # noqa: E402
from samachar.translate.select import resolve_engine  # noqa: E402

CORPUS = Path(__file__).resolve().parents[1] / ".." / "shared" / "corpus"

SENTENCES = [
    "The India Meteorological Department on Tuesday raised its forecast for the monsoon.",
    "“We expect above-normal rainfall over most parts of the country,” said <g1>Dr. M. Ravichandran</g1>.",
    "Kharif sowing depends heavily on the first four weeks of rain.",
    "Officials in Lucknow and Patna said seed stocks were sufficient.<x1/>",
    "The forecast has a model error of plus or minus 4%.",
    "Mumbai beat Chennai by six wickets.",
]


class RecordingTranslator:
    """Passes calls through to the real CTranslate2 translator and remembers their arguments."""

    def __init__(self, real):
        self.real = real
        self.calls: list[tuple[list[list[str]], dict]] = []
        self.results: list = []

    def translate_batch(self, tokens, **kwargs):
        self.calls.append((tokens, kwargs))
        results = self.real.translate_batch(tokens, **kwargs)
        self.results.append(results)
        return results


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A samachar home with the tiny en→hi package imported through the CLI."""
    root = tmp_path_factory.mktemp("ct2")
    package = build_tiny_argos_package(root / "translate-en_hi-tiny.argosmodel")
    home = root / "home"
    assert main(["--home", str(home), "models", "import", str(package)]) == 0
    return home


def recording(engine: CTranslate2Engine, source: str = "en", target: str = "hi") -> RecordingTranslator:
    loaded = engine.load(engine.model_info(source, target))
    spy = RecordingTranslator(loaded.translator)
    loaded.translator = spy
    return spy


def test_auto_picks_the_imported_package(home):
    engine = resolve_engine(["auto"], "en", "hi", models_dir=home / "models")
    assert isinstance(engine, CTranslate2Engine)
    assert engine.model == "argos:translate-en_hi-tiny@0.0.1"
    assert engine.tag_aware is False
    with pytest.raises(PairNotInstalled, match="samachar models install hi en"):
        resolve_engine(["ctranslate2"], "hi", "en", models_dir=home / "models")


def test_translates_all_segments_in_one_token_batch(home):
    engine = CTranslate2Engine(home / "models", beam_size=2, workers=1)
    spy = recording(engine)
    segments = SENTENCES + ["", "   "]
    out = engine.translate(segments, "en", "hi")
    assert len(out) == len(segments)
    assert all(text.strip() for text in out[:len(SENTENCES)]), out
    assert out[-2:] == ["", "   "], "blank segments come back untouched, without a model call"
    assert len(spy.calls) == 1
    tokens, kwargs = spy.calls[0]
    assert len(tokens) == len(SENTENCES)
    assert kwargs["batch_type"] == "tokens" and kwargs["max_batch_size"] == engine.max_batch_tokens
    assert kwargs["beam_size"] == 2
    assert kwargs["max_decoding_length"] == engine.decoding_length(max(len(t) for t in tokens))


def test_token_budget_splits_into_length_sorted_chunks(home):
    engine = CTranslate2Engine(home / "models", max_batch_tokens=60, beam_size=1)
    spy = recording(engine)
    segments = SENTENCES * 3
    out = engine.translate(segments, "en", "hi")
    assert len(out) == len(segments) and all(out)
    assert len(spy.calls) > 1 and len(spy.calls) < len(segments)
    for tokens, kwargs in spy.calls:
        assert sum(map(len, tokens)) <= 60 or len(tokens) == 1
        assert kwargs["max_decoding_length"] == engine.decoding_length(max(map(len, tokens)))
    lengths = [max(map(len, tokens)) for tokens, _ in spy.calls]
    assert lengths == sorted(lengths), "chunks are cut from length-sorted segments"


def test_workers_decode_a_batch_in_parallel_chunks_with_the_same_result(home):
    from samachar.translate.engines.ctranslate2 import MIN_CHUNK_TOKENS, available_cpus

    segments = SENTENCES * 8
    alone = CTranslate2Engine(home / "models", beam_size=2, workers=1, threads=1)
    single = alone.translate(segments, "en", "hi")
    engine = CTranslate2Engine(home / "models", beam_size=2, workers=2, threads=1)
    spy = recording(engine)
    assert engine.translate(segments, "en", "hi") == single  # same translations, in input order
    assert len(spy.calls) >= 2, "the batch is shared out between the workers"
    assert all(kwargs["asynchronous"] for _, kwargs in spy.calls)
    sizes = [sum(map(len, tokens)) for tokens, _ in spy.calls]
    total = sum(sizes)
    assert len(sizes) == min(4, total // MIN_CHUNK_TOKENS), "two chunks per worker, none under the minimum"
    assert max(sizes) - min(sizes) <= max(len(row) for tokens, _ in spy.calls for row in tokens), "even chunks"
    # Defaults on CPU: one worker per core up to 4, left-over cores as threads; one thread given → workers fill the CPUs.
    cpus = available_cpus()
    assert CTranslate2Engine(home / "models").parallelism("cpu") == (min(4, cpus), max(1, cpus // min(4, cpus)))
    assert CTranslate2Engine(home / "models", threads=1).parallelism("cpu") == (max(1, min(4, cpus)), 1)
    assert CTranslate2Engine(home / "models").parallelism("cuda") == (1, 0)


def test_long_sentences_are_not_cut_at_256_tokens(tmp_path):
    """A model that never ends a sentence shows the decoding limit: it must follow the input's length."""
    package = build_tiny_argos_package(tmp_path / "endless", zipped=False, eos_bias=-1e4)
    models = tmp_path / "models"
    import_model(package, models)
    engine = CTranslate2Engine(models, beam_size=1, workers=1)
    spy = recording(engine)
    long_sentence = " ".join(SENTENCES[:4])
    engine.translate([long_sentence], "en", "hi")
    (tokens, kwargs), = spy.calls
    assert len(tokens[0]) > 100
    assert kwargs["max_decoding_length"] > 256
    produced = len(spy.results[0][0].hypotheses[0])
    assert produced > 256, f"decoding stopped at {produced} tokens"


def test_overlong_input_is_translated_in_pieces(home):
    engine = CTranslate2Engine(home / "models", max_input_tokens=12, beam_size=1)
    spy = recording(engine)
    out = engine.translate([SENTENCES[0]], "en", "hi")
    assert len(out) == 1 and out[0]
    assert all(len(t) <= 12 for tokens, _ in spy.calls for t in tokens)
    assert sum(len(tokens) for tokens, _ in spy.calls) > 1


def test_compute_type_and_device_options(home):
    import ctranslate2

    with pytest.raises(ConfigError, match="compute_type"):
        CTranslate2Engine(home / "models", compute_type="int3")
    engine = CTranslate2Engine(home / "models", compute_type="float", threads=1)
    assert engine.compute_type == "float32"
    assert engine.translate(["Mumbai beat Chennai."], "en", "hi")[0]
    expected = "cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu"
    assert CTranslate2Engine(home / "models").resolved_device() == expected
    int8 = CTranslate2Engine(home / "models", compute_type="int8")
    assert int8.translate(["Mumbai beat Chennai."], "en", "hi")[0]


def _multilingual_model(tmp_path: Path, name: str, extra_tokens: list[str], layout: str) -> Path:
    import sentencepiece as spm

    sp_bytes = train_sentencepiece()
    processor = spm.SentencePieceProcessor(model_proto=sp_bytes)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())] + extra_tokens
    folder = write_ct2_model(tmp_path / name, vocabulary, eos_bias=2.0)
    if layout == "indictrans2":
        (folder / "vocab").mkdir()
        (folder / "vocab" / "model.SRC").write_bytes(sp_bytes)
        (folder / "vocab" / "model.TGT").write_bytes(sp_bytes)
    elif layout == "marian":
        (folder / "source.spm").write_bytes(sp_bytes)
        (folder / "target.spm").write_bytes(sp_bytes)
    else:
        (folder / "sentencepiece.bpe.model").write_bytes(sp_bytes)
    return folder


@pytest.mark.parametrize("name, extra, layout, kind, source_head, source_tail, prefix", [
    ("nllb-200-tiny", ["eng_Latn", "hin_Deva", "spa_Latn"], "shared", "nllb", ["eng_Latn"], ["</s>"], ["hin_Deva"]),
    ("m2m100-tiny", ["__en__", "__hi__"], "shared", "m2m100", ["__en__"], ["</s>"], ["__hi__"]),
    ("indictrans2-en-indic-tiny", ["eng_Latn", "hin_Deva", "ben_Beng"], "indictrans2", "indictrans2",
     ["eng_Latn", "hin_Deva"], [], []),
    ("opus-mt-en-hi", [">>hin<<", ">>urd<<"], "marian", "marian", [">>hin<<"], [], []),
])
def test_model_families_get_their_language_tokens(tmp_path, name, extra, layout, kind, source_head,
                                                   source_tail, prefix):
    folder = _multilingual_model(tmp_path, name, extra, layout)
    models = tmp_path / "models"
    info = import_model(folder, models)
    assert info.kind == kind
    engine = resolve_engine(["auto"], "en", "hi", models_dir=models)
    assert isinstance(engine, CTranslate2Engine)
    spy = recording(engine)
    out = engine.translate(SENTENCES[:3], "en", "hi")
    assert len(out) == 3 and all(out)
    (tokens, kwargs), = spy.calls
    for row in tokens:
        assert row[:len(source_head)] == source_head
        assert row[len(row) - len(source_tail):] == source_tail if source_tail else True
    if prefix:
        assert kwargs["target_prefix"] == [prefix] * 3
        assert not any(p in text for p in prefix for text in out), "the language token is stripped"
        assert kwargs["max_decoding_length"] == engine.decoding_length(max(map(len, tokens))) + len(prefix)
    else:
        assert kwargs["target_prefix"] is None

    # An overlong sentence is cut into runs that each keep the family's language tokens, cut at word starts.
    limit = len(source_head) + len(source_tail) + 10
    short = CTranslate2Engine(models, max_input_tokens=limit)
    spy = recording(short)
    text = SENTENCES[0] + " " + SENTENCES[2]
    assert short.translate([text], "en", "hi")[0]
    rows = [row for tokens, _ in spy.calls for row in tokens]
    loaded = short.load(short.model_info("en", "hi"))
    pieces = loaded.source_sp.encode(short.prepare_source(loaded.info, text, "en")[0], out_type=str)
    room = limit - len(source_head) - len(source_tail)
    runs = short.split_overlong(pieces, room)
    assert [p for run in runs for p in run] == pieces  # nothing lost or doubled at the cuts
    assert sorted(rows) == sorted([*source_head, *run, *source_tail] for run in runs)
    assert len(rows) > 2 and all(len(row) <= limit for row in rows)
    for run, previous in zip(runs[1:], runs, strict=False):
        if not run[0].startswith("\u2581"):
            # Cut inside a word only when no word started in the second half of the run before.
            assert not any(p.startswith("\u2581") for p in previous[room // 2 + 1:])
    assert sum(run[0].startswith("\u2581") for run in runs) > len(runs) // 2


def test_model_id_changes_when_the_package_is_upgraded(tmp_path):
    folder = build_tiny_argos_package(tmp_path / "pkg", zipped=False)
    models = tmp_path / "models"
    import_model(folder, models)
    engine = CTranslate2Engine(models)
    before = engine.model_for("en", "hi")
    meta = json.loads((folder / "metadata.json").read_text())
    meta["package_version"] = "0.0.9"
    (folder / "metadata.json").write_text(json.dumps(meta))
    import_model(folder, models)
    assert engine.model_for("en", "hi") != before and engine.model_for("en", "hi").endswith("@0.0.9")


def test_resolve_keeps_positional_signature_and_builds_chains(home):
    from samachar.translate.engines.apertium import ApertiumEngine
    from samachar.translate.fallback import FallbackEngine

    if not ApertiumEngine().supports("en", "es"):
        pytest.skip("apertium eng-spa not installed")
    assert resolve_engine(["apertium"], "en", "es").name == "apertium"
    assert resolve_engine(["auto"], "en", "es", models_dir=home / "models").name == "apertium"
    chain = resolve_engine(["ctranslate2", "apertium"], "en", "hi", models_dir=home / "models")
    assert chain.name == "ctranslate2", "apertium has no en→hi, so the chain is the model alone"
    with pytest.raises(PairNotInstalled, match="tried: ctranslate2, apertium"):
        resolve_engine(["auto"], "en", "hi", models_dir=home / "empty")
    # A pair two engines can do becomes a fallback chain in the configured order.
    extra = home.parent / "es-models"
    shutil.rmtree(extra, ignore_errors=True)
    import_model(build_tiny_argos_package(home.parent / "en-es", zipped=False, target="es"), extra)
    chain = resolve_engine(["ctranslate2", "apertium"], "en", "es", models_dir=extra)
    assert isinstance(chain, FallbackEngine) and chain.name == "ctranslate2+apertium"


@pytest.mark.corpus
def test_samachar_translate_uses_the_imported_model(home, capsys):
    page = CORPUS / "fidelity" / "trade-talks.html"
    if not page.exists():
        pytest.skip("corpus absent")
    code = main(["--home", str(home), "translate", str(page), "--from", "en", "--to", "hi", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    data = json.loads(captured.out)
    assert data["engine"] == "ctranslate2"
    assert data["html"].count("<p") == data["source_html"].count("<p"), "blocks stay intact"
    assert data["flags"], "QA flags the tiny model's nonsense"


@pytest.mark.parametrize("name, extra, layout, limit", [
    ("indictrans2-en-indic-tiny", ["eng_Latn", "hin_Deva"], "indictrans2", 256),
    ("opus-mt-en-hi", [], "marian", 512),
])
def test_each_family_gets_inputs_no_longer_than_it_was_trained_on(tmp_path, name, extra, layout, limit):
    models = tmp_path / "models"
    import_model(_multilingual_model(tmp_path, name, extra, layout), models)
    engine = CTranslate2Engine(models, beam_size=1)
    spy = recording(engine)
    long_sentence = " ".join(s.replace(".", ",") for s in SENTENCES * 12)  # one "sentence" of ~1,000 tokens
    assert engine.translate([long_sentence], "en", "hi")[0]
    rows = [row for tokens, _ in spy.calls for row in tokens]
    assert len(rows) > 1 and max(map(len, rows)) <= limit
    assert max(map(len, rows)) > limit * 0.8  # cut near the limit, not into tiny pieces
