"""Apertium: rule-based, offline, deterministic MT from Debian's packages.

Shells out to the ``apertium`` command. Pairs are named with Apertium's
three-letter codes (``eng-spa``); the interface speaks ISO 639-1.
"""

from __future__ import annotations

import shutil
import subprocess
from functools import cache
from pathlib import Path

from samachar.errors import PairNotInstalled, TranslationError

ISO3 = {
    "en": "eng", "es": "spa", "hi": "hin", "ur": "urd", "ca": "cat", "fr": "fra",
    "pt": "por", "it": "ita", "gl": "glg", "oc": "oci", "eo": "epo", "de": "deu",
    "nl": "nld", "ro": "ron", "bn": "ben", "mr": "mar", "pa": "pan",
}
MODES_DIRS = (Path("/usr/share/apertium/modes"), Path("/usr/local/share/apertium/modes"))
SEPARATOR = "\n\n[[[samachar-segment]]]\n\n"


@cache
def installed_modes() -> frozenset[str]:
    """Mode names such as ``eng-spa`` found in Apertium's modes folders."""
    modes = set()
    for folder in MODES_DIRS:
        if folder.is_dir():
            modes.update(p.stem for p in folder.glob("*.mode"))
    return frozenset(modes)


class ApertiumEngine:
    """Translate with Debian's ``apertium``; one process per batch."""

    name = "apertium"
    tag_aware = False

    def __init__(self, timeout: float = 120.0):
        self.timeout = timeout

    @property
    def model(self) -> str:
        return "apertium"

    def mode(self, source: str, target: str) -> str:
        return f"{ISO3.get(source, source)}-{ISO3.get(target, target)}"

    def supports(self, source: str, target: str) -> bool:
        return shutil.which("apertium") is not None and self.mode(source, target) in installed_modes()

    def translate(self, segments: list[str], source: str, target: str) -> list[str]:
        if not segments:
            return []
        mode = self.mode(source, target)
        if shutil.which("apertium") is None:
            raise PairNotInstalled(
                "apertium is not installed; install it with: apt-get install apertium apertium-eng-spa"
            )
        if mode not in installed_modes():
            raise PairNotInstalled(
                f"Apertium pair {mode} ({source}→{target}) is not installed; "
                f"look for it with: apt-cache search apertium-{ISO3.get(source, source)}"
            )
        # -u: no unknown-word marks; -f html: tags are kept as format, text between translated.
        proc = subprocess.run(
            ["apertium", "-u", "-f", "html", mode],
            input=SEPARATOR.join(segments),
            capture_output=True,
            text=True,
            timeout=self.timeout,
        )
        if proc.returncode != 0:
            raise TranslationError(f"apertium {mode} failed: {proc.stderr.strip()[:200]}")
        out = proc.stdout.split(SEPARATOR.strip())
        if len(out) != len(segments):
            # The separator was altered; fall back to one call per segment.
            return [self.translate([s], source, target)[0] for s in segments] if len(segments) > 1 else [proc.stdout.strip()]
        return [part.strip() for part in out]
