"""DeepL API: ``POST /v2/translate`` with ``tag_handling=xml``, and glossaries where the pair has them.

The ``<g1>``/``<x1/>`` tags are valid XML, so they go as they are and DeepL
moves them with the words they wrap. A samachar glossary becomes a DeepL
glossary (``POST /v2/glossaries``, TSV entries), named after a digest of its
content: created once, and found again by name (``GET /v2/glossaries``) by
later processes instead of piling up against the account's limit; pairs DeepL
has no glossaries for translate without one. ``supports`` asks
``GET /v2/languages`` which pairs exist. Requests stay under DeepL's 128 KiB
body limit counted in bytes (a Devanagari character is three).
``DEEPL_API_KEY`` configures it; keys ending in ``:fx`` use the free endpoint.
"""

from __future__ import annotations

import hashlib
import logging
import os

from samachar.errors import ConfigError, TranslationError
from samachar.translate.engines.http_api import ApiStatusError, JsonApi, batches_by_size, utf8_bytes
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
                 max_retries: int = 4, formality: str | None = None, batch_bytes: int = 100_000,
                 backoff: float = 1.0):
        key = api_key if api_key is not None else os.environ.get("DEEPL_API_KEY", "")
        self._has_key = bool(key)
        default = FREE_URL if key.endswith(":fx") else PRO_URL
        self.url = (url or os.environ.get("DEEPL_API_URL") or default).rstrip("/")
        self.api = JsonApi(self.url, headers={"Authorization": f"DeepL-Auth-Key {key}"} if key else {},
                           timeout=timeout, max_retries=max_retries, backoff=backoff)
        self.formality = formality
        self.batch_bytes = batch_bytes  # the request body must stay under 128 KiB
        self._glossaries: dict[str, str | None] = {}
        self._existing: dict[str, str] | None = None  # glossary name → id on the account
        self._languages: tuple[set[str], set[str]] | None = None

    def __repr__(self) -> str:
        return f"DeepLEngine(url={self.url!r})"

    model = "deepl"

    def supports(self, source: str, target: str) -> bool:
        """Asks ``GET /v2/languages`` (source and target lists) once; unreachable means no."""
        if not self._has_key or source == target:
            return False
        if self._languages is None:
            try:
                listed = [self.api.get(f"v2/languages?type={kind}") for kind in ("source", "target")]
            except TranslationError as exc:
                log.warning("deepl: cannot list languages: %s", exc)
                return False
            self._languages = tuple(  # type: ignore[assignment]
                {_base(entry.get("language", "")) for entry in listing or () if isinstance(entry, dict)}
                for listing in listed)
        sources, targets = self._languages  # type: ignore[misc]
        return _base(source) in sources and _base(target) in targets

    def _glossary_on_account(self, name: str) -> str | None:
        if self._existing is None:
            self._existing = {}
            try:
                listing = self.api.get("v2/glossaries")
            except ApiStatusError as exc:
                log.info("deepl: cannot list glossaries (%s); creating", exc.status)
                listing = None
            for entry in (listing or {}).get("glossaries", []) if isinstance(listing, dict) else []:
                if isinstance(entry, dict) and entry.get("ready", True) and entry.get("glossary_id"):
                    self._existing[str(entry.get("name"))] = entry["glossary_id"]
        return self._existing.get(name)

    def glossary_id(self, glossary: dict[str, str], source: str, target: str) -> str | None:
        """A DeepL glossary with these entries, created on first use; None where the pair has none."""
        entries = "\n".join(f"{k}\t{v}" for k, v in sorted(glossary.items())
                            if k.strip() and v.strip() and "\t" not in k + v and "\n" not in k + v)
        if not entries:
            return None
        source, target = _base(source), _base(target)
        digest = hashlib.sha256(f"{source}|{target}|{entries}".encode()).hexdigest()[:16]
        name = f"samachar-{source}-{target}-{digest}"
        if digest not in self._glossaries and (existing := self._glossary_on_account(name)):
            self._glossaries[digest] = existing
        if digest not in self._glossaries:
            try:
                answer = self.api.post("v2/glossaries", {
                    "name": name, "source_lang": source, "target_lang": target,
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
        for batch in batches_by_size(segments, self.batch_bytes, max_items=50, measure=utf8_bytes):
            body: dict = {"text": [to_xml(s) for s in batch], "source_lang": _base(source).upper(),
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


def _base(code: str) -> str:
    """``pt-BR``/``PT-BR``/``pt`` → ``pt``: DeepL takes variants only for some targets, never for sources."""
    return code.replace("_", "-").split("-")[0].lower()
