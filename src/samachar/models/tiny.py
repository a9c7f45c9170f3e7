"""A tiny random-weight en→hi Argos package, built offline for tests, benchmarks and demos.

No model can be downloaded in CI, yet the CTranslate2 path (import, load,
tokenize, batch, decode) must run for real. This module writes a genuine
CTranslate2 Transformer whose weights are random NumPy arrays and a genuine
SentencePiece model trained in memory on a few sentences, and packs them the
way Argos Translate does. Its translations are nonsense by construction.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

TRAINING_TEXT = (
    "The government announced a new plan for farmers on Tuesday.",
    "Officials said the monsoon would bring above-normal rainfall this year.",
    "The minister told reporters that talks would continue next week.",
    "Mumbai beat Chennai by six wickets to lift the title.",
    "The satellite reached orbit after a flawless night launch.",
    "Prices of vegetables rose sharply in Delhi and Lucknow.",
    "सरकार ने मंगलवार को किसानों के लिए एक नई योजना की घोषणा की।",
    "अधिकारियों ने कहा कि इस साल मानसून सामान्य से अधिक बारिश लाएगा।",
    "मंत्री ने संवाददाताओं से कहा कि बातचीत अगले सप्ताह जारी रहेगी।",
    "मुंबई ने चेन्नई को छह विकेट से हराकर खिताब जीता।",
    "उपग्रह रात में सफल प्रक्षेपण के बाद कक्षा में पहुँच गया।",
    "दिल्ली और लखनऊ में सब्ज़ियों के दाम तेज़ी से बढ़े।",
)


def train_sentencepiece(vocab_size: int = 256) -> bytes:
    """A SentencePiece model trained in memory on English and Hindi lines; returns its bytes."""
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(TRAINING_TEXT * 4), model_writer=buffer, vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
        minloglevel=2, num_threads=1,
    )
    return buffer.getvalue()


def write_ct2_model(directory: Path, vocabulary: list[str], *, d_model: int = 32, ffn: int = 64,
                    layers: int = 2, heads: int = 2, seed: int = 7, eos_bias: float = 0.0) -> Path:
    """Save a random-weight CTranslate2 Transformer with a shared ``vocabulary`` into ``directory``.

    ``eos_bias`` raises the logit of ``</s>`` so decoding can end early, as a
    trained model's would; 0 leaves the output length to chance.
    """
    import numpy as np
    from ctranslate2.specs import common_spec, transformer_spec

    rng = np.random.default_rng(seed)

    def matrix(rows: int, cols: int):
        return (rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

    def linear(spec, rows: int, cols: int) -> None:
        spec.weight = matrix(rows, cols)
        spec.bias = np.zeros(rows, dtype=np.float32)

    def norm(spec) -> None:
        spec.gamma = np.ones(d_model, dtype=np.float32)
        spec.beta = np.zeros(d_model, dtype=np.float32)

    def feed_forward(spec) -> None:
        norm(spec.layer_norm)
        linear(spec.linear_0, ffn, d_model)
        linear(spec.linear_1, d_model, ffn)

    spec = transformer_spec.TransformerSpec.from_config(layers, heads, activation=common_spec.Activation.RELU)
    vocab_size = len(vocabulary)
    for stack in (spec.encoder, spec.decoder):
        embeddings = stack.embeddings[0] if isinstance(stack.embeddings, list) else stack.embeddings
        embeddings.weight = matrix(vocab_size, d_model)
        norm(stack.layer_norm)
    for layer in spec.encoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * d_model, d_model)  # fused q, k, v
        linear(layer.self_attention.linear[1], d_model, d_model)
        feed_forward(layer.ffn)
    for layer in spec.decoder.layer:
        norm(layer.self_attention.layer_norm)
        linear(layer.self_attention.linear[0], 3 * d_model, d_model)
        linear(layer.self_attention.linear[1], d_model, d_model)
        norm(layer.attention.layer_norm)
        linear(layer.attention.linear[0], d_model, d_model)  # query
        linear(layer.attention.linear[1], 2 * d_model, d_model)  # fused key, value
        linear(layer.attention.linear[2], d_model, d_model)
        feed_forward(layer.ffn)
    linear(spec.decoder.projection, vocab_size, d_model)
    if eos_bias and "</s>" in vocabulary:
        spec.decoder.projection.bias[vocabulary.index("</s>")] = eos_bias
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=None)
    directory.mkdir(parents=True, exist_ok=True)
    spec.save(str(directory))
    return directory


def build_tiny_argos_package(out: Path, *, source: str = "en", target: str = "hi", zipped: bool = True,
                             eos_bias: float = 2.0, seed: int = 7) -> Path:
    """Write a tiny Argos package (``.argosmodel`` zip, or a folder when ``zipped`` is false)."""
    import sentencepiece as spm

    sp_bytes = train_sentencepiece()
    processor = spm.SentencePieceProcessor(model_proto=sp_bytes)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    name = f"translate-{source}_{target}-tiny"
    metadata = {
        "package_version": "0.0.1", "argos_version": "1.9", "from_code": source, "from_name": source,
        "to_code": target, "to_name": target, "package_type": "translate",
        "description": "random-weight test model; output is nonsense",
    }
    staging = out if not zipped else out.with_suffix(".staging")
    root = staging / name if zipped else staging
    write_ct2_model(root / "model", vocabulary, eos_bias=eos_bias, seed=seed)
    (root / "sentencepiece.model").write_bytes(sp_bytes)
    (root / "metadata.json").write_text(json.dumps(metadata, indent=1), encoding="utf-8")
    if not zipped:
        return root
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(staging).as_posix())
    import shutil

    shutil.rmtree(staging)
    return out
