"""Google Cloud Translation v3: ``projects/P/locations/L:translateText`` with ``mimeType text/html``.

Segments travel as HTML (tags as elements, see ``tag_markup``), at most 1024
per request and under 30,000 code points, as Google recommends. A glossary is
a Cloud resource the operator creates once (from ``samachar glossary list``);
name it with ``glossary`` (its ID, or the full ``projects/…/glossaries/…``
name). Glossaries live in a region, so ``location`` must match (e.g.
``us-central1``). Configuration: ``GOOGLE_CLOUD_PROJECT``,
``GOOGLE_TRANSLATE_LOCATION`` (default ``global``), ``GOOGLE_TRANSLATE_GLOSSARY``
and an OAuth access token: ``GOOGLE_ACCESS_TOKEN``, or better for a long
``samachar run``, ``GOOGLE_ACCESS_TOKEN_COMMAND`` (e.g. ``gcloud auth
print-access-token``), run for the first token and again whenever Google
answers 401, since access tokens expire after about an hour. samachar's own
site glossary is enforced on Google's output as on every engine's.
"""

from __future__ import annotations

import os
import shlex
import subprocess

from samachar.errors import ConfigError, TranslationError
from samachar.translate.engines.http_api import ApiStatusError, JsonApi, batches_by_size
from samachar.translate.engines.tag_markup import from_html, to_html

DEFAULT_URL = "https://translation.googleapis.com"


class GoogleTranslateEngine:
    name = "google"
    deterministic = True  # a re-send of a rejected segment gets the same answer
    tag_aware = True

    def __init__(self, project: str | None = None, *, location: str | None = None, glossary: str | None = None,
                 access_token: str | None = None, token_command: str | None = None, url: str | None = None,
                 model: str | None = None, timeout: float = 60.0, max_retries: int = 4, backoff: float = 1.0):
        self.project = project or os.environ.get("GOOGLE_CLOUD_PROJECT", "")
        self.location = location or os.environ.get("GOOGLE_TRANSLATE_LOCATION") or "global"
        self.glossary = glossary or os.environ.get("GOOGLE_TRANSLATE_GLOSSARY") or None
        if self.glossary and self.location == "global":
            raise ConfigError("google engine: glossaries live in a region; set location (GOOGLE_TRANSLATE_LOCATION) "
                              "to the glossary's region, e.g. us-central1")
        token = access_token if access_token is not None else os.environ.get("GOOGLE_ACCESS_TOKEN", "")
        self.token_command = token_command or os.environ.get("GOOGLE_ACCESS_TOKEN_COMMAND") or None
        self._has_token = bool(token or self.token_command)
        self.url = (url or DEFAULT_URL).rstrip("/")
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        if self.project:
            headers["x-goog-user-project"] = self.project
        self.api = JsonApi(self.url, headers=headers, timeout=timeout, max_retries=max_retries, backoff=backoff)
        self.model_name = model  # e.g. "general/nmt" or "general/translation-llm"

    def __repr__(self) -> str:
        return f"GoogleTranslateEngine(project={self.project!r}, location={self.location!r})"

    @property
    def model(self) -> str:
        return f"google:{self.model_name or 'nmt'}" + (f"+{self.glossary_name}" if self.glossary else "")

    @property
    def parent(self) -> str:
        return f"projects/{self.project}/locations/{self.location}"

    @property
    def glossary_name(self) -> str | None:
        if not self.glossary:
            return None
        return self.glossary if self.glossary.startswith("projects/") else f"{self.parent}/glossaries/{self.glossary}"

    def supports(self, source: str, target: str) -> bool:
        return bool(self.project and self._has_token) and source != target

    def refresh_token(self) -> None:
        """A fresh access token from ``token_command``; its output is the token, never logged."""
        if not self.token_command:
            raise ConfigError("google engine: the access token was refused (401) and no GOOGLE_ACCESS_TOKEN_COMMAND "
                              "is set to get a new one; set it, e.g. to 'gcloud auth print-access-token'")
        try:
            done = subprocess.run(shlex.split(self.token_command), capture_output=True, text=True, timeout=60,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise ConfigError(f"google engine: cannot run the token command: {exc}") from None
        token = done.stdout.strip()
        if done.returncode != 0 or not token or any(c.isspace() for c in token):
            raise ConfigError(f"google engine: the token command exited with {done.returncode} and no token; "
                              "run it by hand to see why")
        self.api.headers["Authorization"] = f"Bearer {token}"

    def _post(self, path: str, body: dict) -> object:
        if "Authorization" not in self.api.headers:
            self.refresh_token()
        try:
            return self.api.post(path, body)
        except ApiStatusError as exc:
            if exc.status != 401 or not self.token_command:
                raise
            self.refresh_token()  # expired: one more try with a new token
            return self.api.post(path, body)

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        if not segments:
            return []
        if not (self.project and self._has_token):
            raise ConfigError("google engine: set GOOGLE_CLOUD_PROJECT and GOOGLE_ACCESS_TOKEN")
        out: list[str] = []
        for batch in batches_by_size(segments, 25000, max_items=1024):
            body: dict = {"contents": [to_html(s) for s in batch], "mimeType": "text/html",
                          "sourceLanguageCode": source, "targetLanguageCode": target}
            if self.model_name:
                body["model"] = f"{self.parent}/models/{self.model_name}"
            if self.glossary_name:
                body["glossaryConfig"] = {"glossary": self.glossary_name, "ignoreCase": False}
            answer = self._post(f"v3/{self.parent}:translateText", body)
            if not isinstance(answer, dict):
                raise TranslationError("google: the answer is not a JSON object")
            translations = answer.get("glossaryTranslations") or answer.get("translations")
            if not isinstance(translations, list) or len(translations) != len(batch):
                raise TranslationError(f"google: expected {len(batch)} translations in the answer")
            out.extend(from_html(t.get("translatedText", "")) for t in translations)
        return out
