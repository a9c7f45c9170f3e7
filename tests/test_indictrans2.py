"""IndicTrans2 checkpoints: their pre/post-processing, the release layouts, and the engine around them."""

from __future__ import annotations

import json
import unicodedata
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

pytest.importorskip("sacremoses")

from samachar.models.indic_text import (
    detokenize_indic,
    from_devanagari,
    normalize_indic,
    postprocess,
    preprocess,
    restore_placeholders,
    to_devanagari,
    wrap_placeholders,
)

# -- processing -----------------------------------------------------------------------------------


def test_english_source_is_normalised_placeholdered_and_moses_tokenized():
    prepared = preprocess("“We expect above-normal rain,” said Dr. M. Ravichandran on 12/05/2024 — "
                          "see https://mausam.imd.gov.in/forecast or write to info@imd.gov.in.", "eng_Latn")
    assert prepared.text == ('" We expect above-normal rain , " said Dr. M. Ravichandran on < ID3 > - '
                             "see < ID2 > or write to < ID1 > .")
    assert prepared.placeholders == {1: "info@imd.gov.in", 2: "https://mausam.imd.gov.in/forecast", 3: "12/05/2024"}


def test_short_numbers_and_initials_are_left_to_the_model():
    prepared = preprocess("In 2024 the error was 3.5 points, said Dr. M. Rao of the U.S. team.", "eng_Latn")
    assert prepared.placeholders == {}
    assert "2024" in prepared.text and "3.5" in prepared.text and "Dr. M. Rao" in prepared.text


def test_handles_hashtags_ranges_and_lakh_groups_are_placeholders():
    prepared = wrap_placeholders("Rs 1,20,000 for 2023-24 (5-7% more), says @FinMinIndia #Budget2024")
    assert prepared.text == "Rs <ID1> for <ID2> (<ID3> more), says <ID4> <ID5>"
    assert prepared.placeholders == {1: "1,20,000", 2: "2023-24", 3: "5-7%", 4: "@FinMinIndia", 5: "#Budget2024"}


def test_hindi_source_digits_nukta_danda_and_punctuation():
    # ZWJ dropped, क़ (U+0958) decomposed, native digits ASCII, '|' a danda, ':' after a letter a visarga.
    text = "सरकार ने \u0958ानून के तहत १,२०,००० रुपये दिए | अध्यक्ष: राम (\u200dदिल्ली)"
    prepared = preprocess(text, "hin_Deva")
    assert prepared.text == ("सरकार ने \u0915\u093cानून के तहत < ID1 > रुपये दिए । अध्यक्ष\u0903 राम ( दिल्ली )")
    assert prepared.placeholders == {1: "1,20,000"}


def test_bengali_and_tamil_sources_are_written_in_devanagari():
    bengali = preprocess("কলকাতায় ২৫ জুন বৃষ্টি হয়েছে।", "ben_Beng")
    assert bengali.text == "कलकाताय\u093c 25 जुन बृष्टि हय\u093cेछे ।"
    tamil = preprocess("சென்னையில் மழை பெய்தது.", "tam_Taml")
    assert tamil.text == "चॆऩ्ऩैयिल् मऴै पॆय्ततु ."


def test_urdu_stays_in_its_script_with_its_own_punctuation():
    prepared = preprocess("حکومت نے ۱۲ منصوبوں کا اعلان کیا، ٹھیک؟", "urd_Arab")
    assert prepared.text == "حکومت نے 12 منصوبوں کا اعلان کیا ، ٹھیک؟"  # their Urdu tokenizer leaves ؟ attached
    assert postprocess("حکومت نے اعلان کیا ، ٹھیک ؟", "urd_Arab") == "حکومت نے اعلان کیا، ٹھیک؟"


def test_scripts_survive_the_round_trip_through_devanagari():
    samples = {
        "Beng": "কলকাতায় বৃষ্টি হয়েছে, আর ৎ", "Taml": "சென்னையில் மழை பெய்தது ஜனவரி ஸ்ரீ",
        "Telu": "హైదరాబాద్లో వర్షం కురిసింది", "Knda": "ಬೆಂಗಳೂರಿನಲ್ಲಿ ಮಳೆ", "Mlym": "തിരുവനന്തപുരത്ത് മഴ",
        "Gujr": "અમદાવાદમાં વરસાદ પડ્યો", "Guru": "ਅੰਮ੍ਰਿਤਸਰ ਵਿੱਚ ਮੀਂਹ ਪਿਆ", "Orya": "ଭୁବନେଶ୍ୱରରେ ବର୍ଷା ୟ",
    }
    for script, text in samples.items():
        native = normalize_indic(unicodedata.normalize("NFC", text), script)
        devanagari = unicodedata.normalize("NFC", to_devanagari(native, script))
        assert any("\u0900" <= c <= "\u097f" for c in devanagari), script
        assert from_devanagari(devanagari, script) == native, script


def test_target_script_exceptions():
    # Tamil has no voiced/aspirated stops or nukta: भ → ப, ढ़ → ட; श → ஷ.
    assert from_devanagari("भारी बा\u0922\u093c शहर", "Taml") == "பாரீ பாட ஷஹர"
    # Odia writes य़ as its own letter ୟ, not ଯ + nukta; Bengali writes va as ব.
    assert from_devanagari("य\u093cात्रा", "Orya") == "ୟାତ୍ରା"
    assert from_devanagari("विश्व", "Beng") == "বিশ্ব"
    # Danda stays the shared Devanagari one; ASCII passes through.
    assert from_devanagari("मैच 2-1 से जीता।", "Beng") == "মৈচ 2-1 সে জীতা।"


def test_indic_detokenization():
    assert detokenize_indic("उन्होंने कहा , \" यह ( बहुत ) अच्छा है \" । क्या ?") == \
        'उन्होंने कहा, "यह (बहुत) अच्छा है"। क्या?'
    assert detokenize_indic("भारत - पाकिस्तान मैच 10 : 30 बजे") == "भारत-पाकिस्तान मैच 10:30 बजे"


def test_placeholders_come_back_even_when_the_model_mangles_them():
    spans = {1: "10:30", 2: "info@pmo.gov.in", 3: "https://pmindia.gov.in", 4: "2023-24"}
    out = restore_placeholders("< ID1 > बजे [ID2] पर <आईडी3> और आईडी 4 में <ID9>", spans)
    assert out == "10:30 बजे info@pmo.gov.in पर https://pmindia.gov.in और 2023-24 में <ID9>"


def test_postprocess_per_target():
    assert postprocess("कोलकाता में < ID1 > को ( गुरुवार ) बारिश हुई ।", "ben_Beng", {1: "25/06/2024"}) == \
        "কোলকাতা মেং 25/06/2024 কো (গুরুবার) বারিশ হুঈ।"
    assert postprocess("The minister said , \" it 's < ID1 > of the budget . \"", "eng_Latn", {1: "5-7%"}) == \
        'The minister said, "it\'s 5-7% of the budget."'
    assert postprocess("प्रधानमंत्री ने कहा , यह ठीक है ।", "hin_Deva") == "प्रधानमंत्री ने कहा, यह ठीक है।"


# -- layouts and detection ------------------------------------------------------------------------

ENGLISH_PIECES = ["▁the", "▁minister", "▁said", "▁rain", "▁forecast", "s", "▁India", "ed", "▁on", "▁a"]
INDIC_PIECES = ["▁सरकार", "▁ने", "▁कहा", "▁बारिश", "▁में", "ों", "▁के", "▁लिए", "ा", "▁की"]
TAGS = ["eng_Latn", "hin_Deva", "ben_Beng", "tam_Taml", "urd_Arab", "mar_Deva"]


def _fake_checkpoint(folder: Path, source_pieces: list[str], target_pieces: list[str], vocab: str = "vocab") -> Path:
    """Just enough of a converted IndicTrans2 folder for detection (no weights)."""
    folder.mkdir(parents=True)
    (folder / "model.bin").write_bytes(b"")
    (folder / "source_vocabulary.json").write_text(json.dumps(["<s>", "<pad>", "</s>", "<unk>", *TAGS, *source_pieces]))
    (folder / "target_vocabulary.json").write_text(json.dumps(["<s>", "<pad>", "</s>", "<unk>", *target_pieces]))
    spm = (folder / vocab).resolve()
    spm.mkdir(parents=True, exist_ok=True)
    (spm / "model.SRC").write_bytes(b"src")
    (spm / "model.TGT").write_bytes(b"tgt")
    return folder


@pytest.mark.parametrize("source_pieces, target_pieces, sources, targets", [
    (ENGLISH_PIECES, INDIC_PIECES, ("en",), ("bn", "hi", "mr", "ta", "ur")),
    (INDIC_PIECES, ENGLISH_PIECES, ("bn", "hi", "mr", "ta", "ur"), ("en",)),
    (INDIC_PIECES, INDIC_PIECES, ("bn", "hi", "mr", "ta", "ur"), ("bn", "hi", "mr", "ta", "ur")),
])
def test_release_folder_direction_comes_from_its_vocabularies(tmp_path, source_pieces, target_pieces, sources,
                                                              targets):
    from samachar.models import describe_model

    info = describe_model(_fake_checkpoint(tmp_path / "ct2_int8_model", source_pieces, target_pieces))
    assert info.kind == "indictrans2"
    assert (info.sources, info.targets) == (sources, targets), "tags come from the source vocabulary"


def test_vocab_beside_the_ct2_folder_is_found(tmp_path):
    from samachar.models import describe_model

    folder = _fake_checkpoint(tmp_path / "indic-en-preprint" / "ct2_fp16_model", INDIC_PIECES, ENGLISH_PIECES,
                              vocab="../fairseq_model/vocab")
    info = describe_model(folder)
    assert info.source_spm == "../fairseq_model/vocab/model.SRC"
    assert (info.path / info.target_spm).read_bytes() == b"tgt"
    assert info.targets == ("en",) and info.name == "indic-en-preprint-ct2_fp16_model"


ct2 = pytest.importorskip("ctranslate2")
spm_module = pytest.importorskip("sentencepiece")

from samachar.models import import_model
from samachar.models.tiny import train_sentencepiece, write_ct2_model
from samachar.translate.engines.ctranslate2 import CTranslate2Engine


@pytest.fixture(scope="module")
def sp_bytes() -> bytes:
    return train_sentencepiece(training_text=["कोलकाता में बारिश हुई। उन्होंने कहा कि यह अच्छा है।"] * 4)


def _tiny_checkpoint(folder: Path, sp_bytes: bytes, tags: list[str], vocab_inside: bool = True) -> Path:
    """A real random-weight CTranslate2 model shaped like an IndicTrans2 release folder."""
    processor = spm_module.SentencePieceProcessor(model_proto=sp_bytes)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())] + tags
    write_ct2_model(folder, vocabulary, eos_bias=2.0)
    vocab = folder / "vocab" if vocab_inside else folder.parent / "fairseq_model" / "vocab"
    vocab.mkdir(parents=True, exist_ok=True)
    (vocab / "model.SRC").write_bytes(sp_bytes)
    (vocab / "model.TGT").write_bytes(sp_bytes)
    return folder


def test_official_release_zip_imports_one_ct2_folder(tmp_path, sp_bytes):
    release = tmp_path / "build" / "en-indic-preprint"
    _tiny_checkpoint(release / "ct2_int8_model", sp_bytes, TAGS, vocab_inside=False)
    _tiny_checkpoint(release / "ct2_fp16_model", sp_bytes, TAGS, vocab_inside=False)
    (release / "fairseq_model" / "model").mkdir(parents=True)
    (release / "fairseq_model" / "model" / "checkpoint_best.pt").write_bytes(b"\0" * 1024)
    package = tmp_path / "en-indic-preprint.zip"
    with zipfile.ZipFile(package, "w") as archive:
        for path in sorted(release.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(release.parent).as_posix())
    models = tmp_path / "models"
    info = import_model(package, models)
    assert info.kind == "indictrans2" and info.name == "en-indic-preprint-ct2_int8_model"
    assert info.sources == ("en",) and set(info.targets) == {"hi", "bn", "ta", "ur", "mr"}
    assert (info.path / "vocab" / "model.SRC").read_bytes() == sp_bytes, "the copy stands alone"
    assert not list(models.rglob("checkpoint_best.pt")), "the fairseq checkpoint is not unpacked"
    assert [p.name for p in models.iterdir() if not p.name.startswith(".")] == [info.path.name]

    # The indic-en release imports beside it (same folder names inside, different model).
    other = tmp_path / "indic-en-preprint" / "ct2_int8_model"
    _tiny_checkpoint(other, sp_bytes, TAGS, vocab_inside=False)
    reverse = import_model(other, models)  # a folder taken out of its release: vocab comes from ../fairseq_model
    assert reverse.sources == ("bn", "hi", "mr", "ta", "ur") and reverse.targets == ("en",)
    assert reverse.name == "indic-en-preprint-ct2_int8_model" and (reverse.path / "vocab" / "model.TGT").exists()
    assert CTranslate2Engine(models).model_for("hi", "en") == reverse.id
    assert CTranslate2Engine(models).model_for("en", "hi") == info.id


class ScriptedTranslator:
    """Stands in for the CTranslate2 translator at the edge: records the rows, answers with set pieces."""

    def __init__(self, answer: list[str]):
        self.answer = answer
        self.rows: list[list[str]] = []

    def translate_batch(self, tokens, **kwargs):
        self.rows.extend(tokens)
        return [SimpleNamespace(hypotheses=[list(self.answer)]) for _ in tokens]


@pytest.fixture()
def models_dir(tmp_path, sp_bytes) -> Path:
    models = tmp_path / "models"
    _tiny_checkpoint(tmp_path / "en-indic-preprint" / "ct2_int8_model", sp_bytes, TAGS)
    _tiny_checkpoint(tmp_path / "indic-en-preprint" / "ct2_int8_model", sp_bytes, TAGS)
    import_model(tmp_path / "en-indic-preprint" / "ct2_int8_model", models)
    import_model(tmp_path / "indic-en-preprint" / "ct2_int8_model", models)
    return models


def test_engine_sends_preprocessed_rows_to_the_real_model(models_dir):
    engine = CTranslate2Engine(models_dir, beam_size=1)
    loaded = engine.load(engine.model_info("en", "hi"))
    real = loaded.translator
    rows: list[list[str]] = []

    class Spy:
        def translate_batch(self, tokens, **kwargs):
            rows.extend(tokens)
            return real.translate_batch(tokens, **kwargs)

    loaded.translator = Spy()
    sentence = "“Rain,” said the IMD at 10:30 — see https://mausam.imd.gov.in."
    out = engine.translate([sentence], "en", "hi")
    assert len(out) == 1 and out[0] and "< ID" not in out[0]
    (row,) = rows
    assert row[:2] == ["eng_Latn", "hin_Deva"] and "</s>" not in row
    expected = '" Rain , " said the IMD at < ID2 > - see < ID1 > .'
    assert row[2:] == loaded.source_sp.encode(expected, out_type=str)
    assert "https" not in loaded.source_sp.decode(row[2:])


def test_engine_postprocesses_per_target_script(models_dir):
    engine = CTranslate2Engine(models_dir, workers=1)  # the scripted translator answers synchronously
    loaded = engine.load(engine.model_info("en", "bn"))
    answer = loaded.target_sp.encode("कोलकाता में < ID1 > पर बारिश हुई ।", out_type=str)
    loaded.translator = ScriptedTranslator(answer)
    out = engine.translate(["It rained in Kolkata on 25/06/2024."], "en", "bn")
    assert out == ["কোলকাতা মেং 25/06/2024 পর বারিশ হুঈ।"]
    assert loaded.translator.rows[0][:2] == ["eng_Latn", "ben_Beng"]


def test_engine_unifies_indic_sources_and_detokenizes_english(models_dir):
    engine = CTranslate2Engine(models_dir, workers=1)
    loaded = engine.load(engine.model_info("bn", "en"))
    answer = loaded.target_sp.encode("The minister said , \" it 's fine . \"", out_type=str)
    loaded.translator = ScriptedTranslator(answer)
    out = engine.translate(["মন্ত্রী বললেন, ২৫ জুন ভালো।", "   "], "bn", "en")
    assert out == ['The minister said, "it\'s fine."', "   "]
    (row,) = loaded.translator.rows
    assert row[:2] == ["ben_Beng", "eng_Latn"]
    assert row[2:] == loaded.source_sp.encode("मन्त्री बललेन , 25 जुन भालो ।", out_type=str)
