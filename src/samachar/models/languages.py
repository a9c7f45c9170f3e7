"""Language codes the model families use, keyed by samachar's ISO 639-1 codes.

NLLB-200 and IndicTrans2 name languages with FLORES-200 codes (``hin_Deva``),
M2M-100 with ``__hi__`` tokens, multi-target OPUS-MT models with ``>>hin<<``.
"""

from __future__ import annotations

FLORES = {
    "en": "eng_Latn", "hi": "hin_Deva", "es": "spa_Latn", "fr": "fra_Latn", "de": "deu_Latn",
    "pt": "por_Latn", "it": "ita_Latn", "ca": "cat_Latn", "nl": "nld_Latn", "ru": "rus_Cyrl",
    "ar": "arb_Arab", "zh": "zho_Hans", "ja": "jpn_Jpan", "ko": "kor_Hang", "tr": "tur_Latn",
    "bn": "ben_Beng", "mr": "mar_Deva", "pa": "pan_Guru", "gu": "guj_Gujr", "ur": "urd_Arab",
    "ta": "tam_Taml", "te": "tel_Telu", "kn": "kan_Knda", "ml": "mal_Mlym", "or": "ory_Orya",
    "as": "asm_Beng", "ne": "npi_Deva", "sa": "san_Deva", "sd": "snd_Arab", "ks": "kas_Arab",
    "mai": "mai_Deva", "kok": "gom_Deva", "doi": "doi_Deva", "mni": "mni_Beng", "sat": "sat_Olck",
    "brx": "brx_Deva", "si": "sin_Sinh", "id": "ind_Latn", "vi": "vie_Latn", "uk": "ukr_Cyrl",
    "pl": "pol_Latn", "sv": "swe_Latn", "fa": "pes_Arab", "sw": "swh_Latn", "th": "tha_Thai",
}
FLORES_TO_ISO = {v: k for k, v in FLORES.items()}

ISO3 = {
    "en": "eng", "hi": "hin", "es": "spa", "fr": "fra", "de": "deu", "pt": "por", "it": "ita",
    "ca": "cat", "nl": "nld", "ru": "rus", "ar": "ara", "zh": "zho", "ja": "jpn", "ko": "kor",
    "tr": "tur", "bn": "ben", "mr": "mar", "pa": "pan", "gu": "guj", "ur": "urd", "ta": "tam",
    "te": "tel", "kn": "kan", "ml": "mal", "or": "ori", "as": "asm", "ne": "nep", "sa": "san",
    "id": "ind", "vi": "vie", "uk": "ukr", "pl": "pol", "sv": "swe", "fa": "fas", "sw": "swa",
}
ISO3_TO_ISO = {v: k for k, v in ISO3.items()}


def m2m_token(code: str) -> str:
    return f"__{code}__"


def marian_target_token(code: str) -> str:
    return f">>{ISO3.get(code, code)}<<"
