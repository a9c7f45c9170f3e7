"""LibreTranslate (self-hosted or libretranslate.com): ``POST /translate`` with ``format=html``.

Segments go as one list in ``q`` (LibreTranslate answers with a list in
``translatedText``), in HTML mode so the inline tags survive as elements.
``LIBRETRANSLATE_URL`` and ``LIBRETRANSLATE_API_KEY`` configure it.
"""

from __future__ import annotations

import os

from samachar.errors import TranslationError
from samachar.translate.engines.http_api import JsonApi, batches_by_size, public_host
from samachar.translate.engines.tag_markup import from_html, to_html

DEFAULT_URL = "http://127.0.0.1:5000"


class LibreTranslateEngine:
    name = "libretranslate"
    deterministic = True  # a re-send of a rejected segment gets the same answer
    tag_aware = True

    def __init__(self, url: str | None = None, *, api_key: str | None = None, timeout: float = 120.0,
                 max_retries: int = 3, batch_chars: int = 20000, backoff: float = 1.0):
        self.url = (url or os.environ.get("LIBRETRANSLATE_URL") or DEFAULT_URL).rstrip("/")
        self._api_key = api_key if api_key is not None else os.environ.get("LIBRETRANSLATE_API_KEY", "")
        self.api = JsonApi(self.url, timeout=timeout, max_retries=max_retries, backoff=backoff)
        self.batch_chars = batch_chars
        self._languages: dict[str, set[str]] | None = None

    def __repr__(self) -> str:
        return f"LibreTranslateEngine(host={public_host(self.url)!r})"

    @property
    def model(self) -> str:
        return f"libretranslate@{public_host(self.url)}"

    def supports(self, source: str, target: str) -> bool:
        """Asks ``GET /languages`` once; an unreachable server supports nothing."""
        if self._languages is None:
            try:
                listing = self.api.get("languages")
            except TranslationError:
                return False
            self._languages = {entry.get("code"): set(entry.get("targets") or ()) for entry in listing or ()
                               if isinstance(entry, dict)}
        return target in self._languages.get(source, set())

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        out: list[str] = []
        for batch in batches_by_size(segments, self.batch_chars):
            body = {"q": [to_html(s) for s in batch], "source": source, "target": target, "format": "html"}
            if self._api_key:
                body["api_key"] = self._api_key
            answer = self.api.post("translate", body)
            translated = answer.get("translatedText") if isinstance(answer, dict) else None
            if isinstance(translated, str) and len(batch) == 1:
                translated = [translated]
            if not isinstance(translated, list) or len(translated) != len(batch):
                raise TranslationError(f"libretranslate: expected {len(batch)} translations, got "
                                       f"{len(translated) if isinstance(translated, list) else type(translated).__name__}")
            out.extend(from_html(t) for t in translated)
        return out

