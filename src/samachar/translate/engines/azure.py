"""Azure AI Translator (Text Translation v3): ``POST /translate?api-version=3.0`` with ``textType=html``.

Segments go as one JSON array of ``{"Text": …}`` objects (at most 1,000 and
50,000 characters a request, Azure's limits), in HTML mode so the inline tags
survive as elements, the way the Google engine carries them. ``supports`` asks
``GET /languages?api-version=3.0&scope=translation`` once (it needs no key).
Configuration: ``AZURE_TRANSLATOR_KEY``, ``AZURE_TRANSLATOR_REGION`` (the
resource's region; required for regional and multi-service resources) and
optionally ``AZURE_TRANSLATOR_ENDPOINT`` (a custom-domain or sovereign-cloud
endpoint). samachar's site glossary is enforced on the output, as with every
engine.
"""

from __future__ import annotations

import logging
import os
import urllib.parse

from samachar.errors import ConfigError, TranslationError
from samachar.translate.engines.http_api import JsonApi, batches_by_size, public_host
from samachar.translate.engines.tag_markup import from_html, to_html

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://api.cognitive.microsofttranslator.com"
MAX_CHARACTERS = 50_000
MAX_ITEMS = 1_000
SPECIAL_CODES = {"zh": "zh-Hans", "pt-br": "pt", "pt-pt": "pt-pt", "zh-cn": "zh-Hans", "zh-tw": "zh-Hant"}


class AzureTranslatorEngine:
    name = "azure"
    deterministic = True  # a re-send of a rejected segment gets the same answer
    tag_aware = True

    def __init__(self, api_key: str | None = None, *, region: str | None = None, endpoint: str | None = None,
                 category: str | None = None, timeout: float = 60.0, max_retries: int = 4, backoff: float = 1.0):
        key = api_key if api_key is not None else os.environ.get("AZURE_TRANSLATOR_KEY", "")
        self._has_key = bool(key)
        self.region = region or os.environ.get("AZURE_TRANSLATOR_REGION") or None
        self.endpoint = (endpoint or os.environ.get("AZURE_TRANSLATOR_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")
        headers = {"Ocp-Apim-Subscription-Key": key} if key else {}
        if self.region:
            headers["Ocp-Apim-Subscription-Region"] = self.region
        self.api = JsonApi(self.endpoint, headers=headers, timeout=timeout, max_retries=max_retries, backoff=backoff)
        self.category = category  # a Custom Translator model's category id
        self._languages: set[str] | None = None

    def __repr__(self) -> str:
        return f"AzureTranslatorEngine(host={public_host(self.endpoint)!r}, region={self.region!r})"

    @property
    def model(self) -> str:
        return f"azure:{self.category or 'general'}"

    def code(self, language: str) -> str:
        """samachar's ``pt-BR``/``zh``/``hi`` as Azure spells it (``pt``, ``zh-Hans``, ``hi``)."""
        lowered = language.replace("_", "-").lower()
        if lowered in SPECIAL_CODES:
            return SPECIAL_CODES[lowered]
        if "-" in lowered and (self._languages is None or lowered not in self._languages):
            return lowered.split("-")[0]  # a region variant Azure does not list: the language itself
        return lowered

    def supports(self, source: str, target: str) -> bool:
        """Asks ``GET /languages`` once; an unreachable service supports nothing."""
        if not self._has_key or source == target:
            return False
        if self._languages is None:
            try:
                listing = self.api.get("languages?api-version=3.0&scope=translation")
            except TranslationError as exc:
                log.warning("azure: cannot list languages: %s", exc)
                return False
            table = listing.get("translation") if isinstance(listing, dict) else None
            self._languages = {code.lower() for code in (table or {})}
        return self.code(source).lower() in self._languages and self.code(target).lower() in self._languages

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        if not segments:
            return []
        if not self._has_key:
            raise ConfigError("azure engine: no key; set AZURE_TRANSLATOR_KEY (and AZURE_TRANSLATOR_REGION)")
        query = {"api-version": "3.0", "from": self.code(source), "to": self.code(target), "textType": "html"}
        if self.category:
            query["category"] = self.category
        path = "translate?" + urllib.parse.urlencode(query)
        out: list[str] = []
        for batch in batches_by_size([to_html(s) for s in segments], MAX_CHARACTERS, max_items=MAX_ITEMS):
            answer = self.api.post(path, [{"Text": text} for text in batch])
            if not isinstance(answer, list) or len(answer) != len(batch):
                raise TranslationError(f"azure: expected {len(batch)} results in the answer")
            for item in answer:
                translations = item.get("translations") if isinstance(item, dict) else None
                if not translations or not isinstance(translations[0], dict):
                    raise TranslationError("azure: a result without translations")
                out.append(from_html(translations[0].get("text", "")))
        return out
