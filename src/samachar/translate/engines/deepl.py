"""DeepL API: ``POST /v2/translate`` with ``tag_handling=xml``, and glossaries where the pair has them.

The ``<g1>``/``<x1/>`` tags are valid XML, so they go as they are and DeepL
moves them with the words they wrap. A samachar glossary becomes a DeepL
glossary (``POST /v2/glossaries``, TSV entries), created once per distinct
content and reused; pairs DeepL has no glossaries for translate without one.
``DEEPL_API_KEY`` configures it; keys ending in ``:fx`` use the free endpoint.
"""

from __future__ import annotations

import hashlib
import logging
import os

from samachar.errors import ConfigError, TranslationError
from samachar.translate.engines.http_api import ApiStatusError, JsonApi, batches_by_size
from samachar.translate.engines.tag_markup import from_xml, to_xml

log = logging.getLogger(__name__)

PRO_URL = "https://api.deepl.com"
FREE_URL = "https://api-free.deepl.com"
TARGET_VARIANTS = {"en": "EN-GB", "pt": "PT-PT", "zh": "ZH-HANS"}  # DeepL wants a variant for these


class DeepLEngine:
    name = "deepl"
    deterministic = True  # a re-send of a rejected segment gets the same answer
    tag_aware = True
    supports_glossary = True

    def __init__(self, api_key: str | None = None, *, url: str | None = None, timeout: float = 60.0,
                 max_retries: int = 4, formality: str | None = None, batch_chars: int = 60000,
                 backoff: float = 1.0):
        key = api_key if api_key is not None else os.environ.get("DEEPL_API_KEY", "")
        self._has_key = bool(key)
        default = FREE_URL if key.endswith(":fx") else PRO_URL
        self.url = (url or os.environ.get("DEEPL_API_URL") or default).rstrip("/")
        self.api = JsonApi(self.url, headers={"Authorization": f"DeepL-Auth-Key {key}"} if key else {},
                           timeout=timeout, max_retries=max_retries, backoff=backoff)
        self.formality = formality
        self.batch_chars = batch_chars  # the request body must stay under 128 KiB
        self._glossaries: dict[str, str | None] = {}

    def __repr__(self) -> str:
        return f"DeepLEngine(url={self.url!r})"

    model = "deepl"

    def supports(self, source: str, target: str) -> bool:
        return self._has_key and source != target

    def glossary_id(self, glossary: dict[str, str], source: str, target: str) -> str | None:
        """A DeepL glossary with these entries, created on first use; None where the pair has none."""
        entries = "\n".join(f"{k}\t{v}" for k, v in sorted(glossary.items())
                            if k.strip() and v.strip() and "\t" not in k + v and "\n" not in k + v)
        if not entries:
            return None
        digest = hashlib.sha256(f"{source}|{target}|{entries}".encode()).hexdigest()[:16]
        if digest not in self._glossaries:
            try:
                answer = self.api.post("v2/glossaries", {
                    "name": f"samachar-{source}-{target}-{digest}", "source_lang": source, "target_lang": target,
                    "entries": entries, "entries_format": "tsv"})
                self._glossaries[digest] = answer.get("glossary_id")
            except ApiStatusError as exc:
                if exc.status not in (400, 404):
                    raise
                log.info("deepl: no glossary for %s→%s (%s); translating without", source, target, exc.status)
                self._glossaries[digest] = None
        return self._glossaries[digest]

    def translate(self, segments: list[str], source: str, target: str,
                  glossary: dict[str, str] | None = None) -> list[str]:
        if not segments:
            return []
        if not self._has_key:
            raise ConfigError("deepl engine: no API key; set DEEPL_API_KEY")
        glossary_id = self.glossary_id(glossary, source, target) if glossary else None
        out: list[str] = []
        for batch in batches_by_size(segments, self.batch_chars, max_items=50):
            body: dict = {"text": [to_xml(s) for s in batch], "source_lang": source.upper(),
                          "target_lang": TARGET_VARIANTS.get(target, target.upper()), "tag_handling": "xml"}
            if glossary_id:
                body["glossary_id"] = glossary_id
            if self.formality:
                body["formality"] = self.formality
            answer = self.api.post("v2/translate", body)
            translations = answer.get("translations") if isinstance(answer, dict) else None
            if not isinstance(translations, list) or len(translations) != len(batch):
                raise TranslationError(f"deepl: expected {len(batch)} translations in the answer")
            out.extend(from_xml(t.get("text", "")) for t in translations)
        return out
