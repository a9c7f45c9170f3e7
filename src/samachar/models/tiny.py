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
from collections.abc import Sequence
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


def train_sentencepiece(vocab_size: int = 256, training_text: Sequence[str] = ()) -> bytes:
    """A SentencePiece model trained in memory on English and Hindi lines (plus ``training_text``); returns its bytes.

    The vocabulary is capped by what the text supports (``hard_vocab_limit`` off).
    """
    import sentencepiece as spm

    buffer = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(list(TRAINING_TEXT) * 4 + list(training_text)), model_writer=buffer,
        vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, hard_vocab_limit=False,
        minloglevel=2, num_threads=1,
    )
    return buffer.getvalue()


def write_ct2_model(directory: Path, vocabulary: list[str], *, d_model: int = 32, ffn: int = 64,
                    layers: int = 2, heads: int = 2, seed: int = 7, eos_bias: float = 0.0,
                    output_length_ratio: float | None = None) -> Path:
    """Save a random-weight CTranslate2 Transformer with a shared ``vocabulary`` into ``directory``.

    ``eos_bias`` raises the logit of ``</s>`` so decoding can end early, as a
    trained model's would; 0 leaves the output length to chance.

    ``output_length_ratio`` instead wires the model so that every sentence
    ends after about ratio × its source length in tokens, whatever the batch
    it is decoded in — as a trained model's output tracks its input. Random
    weights end sentences at random steps, which makes batched and
    one-by-one decoding do different amounts of work; this model makes a
    throughput comparison fair. How: positions are a linear ramp in
    dimension 0 (learned position encodings), other weights are small, one
    cross-attention head averages the encoder's ramp into dimension 1 (its
    mean over the source grows with the source length), and the ``</s>``
    logit is a steep function of (decoder position − that mean). The matrices
    keep their full size, so the model costs as much to run as a trained
    one of the same shape.
    """
    import numpy as np
    from ctranslate2.specs import common_spec, transformer_spec

    rng = np.random.default_rng(seed)
    wired = output_length_ratio is not None
    scale = 1e-3 if wired else 1.0  # wired: other weights only add small deterministic noise

    def matrix(rows: int, cols: int):
        return (scale * rng.standard_normal((rows, cols)) / np.sqrt(cols)).astype(np.float32)

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
    if wired:
        _wire_output_length(spec, vocabulary, d_model, output_length_ratio, rng)
    elif eos_bias and "</s>" in vocabulary:
        spec.decoder.projection.bias[vocabulary.index("</s>")] = eos_bias
    spec.register_source_vocabulary(vocabulary)
    spec.register_target_vocabulary(vocabulary)
    spec.validate()
    spec.optimize(quantization=None)
    directory.mkdir(parents=True, exist_ok=True)
    spec.save(str(directory))
    return directory


RAMP = 1 / 32  # position ramp per token: small next to the ±1 embeddings, so layer norms barely move
STEEPNESS = 640.0  # </s> logit per position unit / RAMP: 20 nats per token, a sharp stop
MAX_POSITIONS = 4096


def _wire_output_length(spec, vocabulary: list[str], d_model: int, ratio: float, rng) -> None:
    """Make ``</s>`` fire once the decoder position passes ``ratio`` × the source length (see ``write_ct2_model``)."""
    import numpy as np

    for stack in (spec.encoder, spec.decoder):
        embeddings = stack.embeddings[0] if isinstance(stack.embeddings, list) else stack.embeddings
        signs = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(len(vocabulary), d_model))
        signs[:, :2] = 0.0  # dimensions 0 and 1 carry the length signals
        embeddings.weight = signs / np.float32(np.sqrt(d_model))  # ×√d_model at run time → ±1
        ramp = np.zeros((MAX_POSITIONS, d_model), dtype=np.float32)
        ramp[:, 0] = RAMP * np.arange(MAX_POSITIONS, dtype=np.float32)
        stack.position_encodings.encodings = ramp
    cross = spec.decoder.layer[0].attention
    # Near-zero queries and keys: uniform attention over the real (unpadded) source positions, so
    # value row d_model+1 (head 0) yields the mean of the encoder's ramp, (L − 1)/2 × RAMP; doubled
    # and scaled by the ratio, written to dimension 1 of the decoder's residual stream.
    cross.linear[1].weight[d_model + 1, 0] = 2.0 * ratio
    cross.linear[2].weight[1, 1] = 1.0
    eos = vocabulary.index("</s>")
    projection = spec.decoder.projection
    projection.weight[eos] = 0.0
    projection.weight[eos, 0] = STEEPNESS
    projection.weight[eos, 1] = -STEEPNESS
    projection.bias[eos] = -STEEPNESS * RAMP * (ratio + 0.5)


def build_tiny_argos_package(out: Path, *, source: str = "en", target: str = "hi", zipped: bool = True,
                             eos_bias: float = 2.0, seed: int = 7, d_model: int = 32, ffn: int = 64,
                             layers: int = 2, heads: int = 2, sp_vocab_size: int = 256,
                             training_text: Sequence[str] = (), model_vocab_size: int = 0,
                             output_length_ratio: float | None = None) -> Path:
    """Write a tiny Argos package (``.argosmodel`` zip, or a folder when ``zipped`` is false).

    The defaults give a model small enough for tests. The benchmark asks for
    one shaped like OPUS-MT (``d_model=512, ffn=2048, layers=6, heads=8``) so
    that its weights no longer fit in cache; ``model_vocab_size`` pads the
    vocabulary with unused pieces up to a realistic output-layer size, and
    ``sp_vocab_size``/``training_text`` give a tokenizer with realistic
    sentence lengths in tokens.
    """
    import sentencepiece as spm

    sp_bytes = train_sentencepiece(sp_vocab_size, training_text)
    processor = spm.SentencePieceProcessor(model_proto=sp_bytes)
    vocabulary = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocabulary += [f"\u2581pad{i}" for i in range(max(0, model_vocab_size - len(vocabulary)))]
    name = f"translate-{source}_{target}-tiny"
    metadata = {
        "package_version": "0.0.1", "argos_version": "1.9", "from_code": source, "from_name": source,
        "to_code": target, "to_name": target, "package_type": "translate",
        "description": "random-weight test model; output is nonsense",
    }
    staging = out if not zipped else out.with_suffix(".staging")
    root = staging / name if zipped else staging
    write_ct2_model(root / "model", vocabulary, eos_bias=eos_bias, seed=seed, d_model=d_model, ffn=ffn,
                    layers=layers, heads=heads, output_length_ratio=output_length_ratio)
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
