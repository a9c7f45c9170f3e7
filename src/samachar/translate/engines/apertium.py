"""Apertium: rule-based, offline, deterministic MT from Debian's packages.

Shells out to the ``apertium`` command, one process per batch. Pairs are
named with Apertium's three-letter codes (``eng-spa``); the interface speaks
ISO 639-1.

Apertium runs in its HTML mode: each segment goes in as ``<p id="sN">``
(a block element, so no transfer rule reaches across two segments), text is
HTML-escaped, and samachar's tags become elements Apertium treats as inline
(``<g1>`` → ``<span id="g1">``, ``<x2/>`` → ``<br id="x2">``), which it keeps
attached to the words they wrap. Inline markup still changes Apertium's
choices, so the engine says ``tag_aware = False`` and samachar keeps the plain
translation and only borrows the tag positions from the tagged one.
"""

from __future__ import annotations

import html as html_lib
import re
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
_SEGMENT_TAG = re.compile(r"<\s*(/?)\s*([gx])\s*(\d+)\s*(/?)\s*>")
_OUT_SEGMENT = re.compile(r'<p id="s(\d+)">(.*?)</p>', re.S)
_OUT_TAG = re.compile(r'<span id="(g\d+)">|</span>|<br id="(x\d+)"\s*/?>|<br\s*/?>|</?\w+[^>]*>')
_SPACE = re.compile(r"\s+")


@cache
def installed_modes() -> frozenset[str]:
    """Mode names such as ``eng-spa`` found in Apertium's modes folders."""
    modes = set()
    for folder in MODES_DIRS:
        if folder.is_dir():
            modes.update(p.stem for p in folder.glob("*.mode"))
    return frozenset(modes)


def to_apertium_html(segment: str) -> str:
    """A tagged segment as HTML that Apertium's HTML mode keeps inline."""
    out: list[str] = []
    pos = 0
    for m in _SEGMENT_TAG.finditer(segment):
        out.append(html_lib.escape(segment[pos : m.start()], quote=False))
        pos = m.end()
        tag_id = f"{m.group(2)}{m.group(3)}"
        if m.group(2) == "x":
            out.append(f'<br id="{tag_id}">')
        elif m.group(1):
            out.append("</span>")
        else:
            out.append(f'<span id="{tag_id}">')
    out.append(html_lib.escape(segment[pos:], quote=False))
    return _SPACE.sub(" ", "".join(out)).strip()


def from_apertium_html(fragment: str) -> str:
    """Apertium's HTML output back to a tagged segment."""
    out: list[str] = []
    stack: list[str | None] = []
    pos = 0
    for m in _OUT_TAG.finditer(fragment):
        out.append(html_lib.unescape(fragment[pos : m.start()]))
        pos = m.end()
        token = m.group(0)
        if m.group(1):
            stack.append(m.group(1))
            out.append(f"<{m.group(1)}>")
        elif token == "</span>":
            tag_id = stack.pop() if stack else None
            if tag_id:
                out.append(f"</{tag_id}>")
        elif m.group(2):
            out.append(f"<{m.group(2)}/>")
        elif token.startswith("<br"):
            out.append(" ")
        # any other element Apertium invented is dropped
    out.append(html_lib.unescape(fragment[pos:]))
    return _SPACE.sub(" ", "".join(out)).strip()


class ApertiumEngine:
    """Translate with Debian's ``apertium``; one process per batch."""

    name = "apertium"
    tag_aware = False

    def __init__(self, timeout: float = 120.0, batch_chars: int = 200_000):
        self.timeout = timeout
        self.batch_chars = batch_chars

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
        results: list[str] = []
        batch: list[str] = []
        size = 0
        for segment in segments:
            if batch and size + len(segment) > self.batch_chars:
                results.extend(self._run(batch, mode))
                batch, size = [], 0
            batch.append(segment)
            size += len(segment)
        results.extend(self._run(batch, mode))
        return results

    def _run(self, segments: list[str], mode: str) -> list[str]:
        document = "\n".join(f'<p id="s{i}">{to_apertium_html(s)}</p>' for i, s in enumerate(segments))
        try:
            proc = subprocess.run(
                ["apertium", "-u", "-f", "html", mode],
                input=document,
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired as exc:
            raise TranslationError(f"apertium {mode} took over {self.timeout:.0f}s") from exc
        if proc.returncode != 0:
            raise TranslationError(f"apertium {mode} failed: {proc.stderr.strip()[:200]}")
        found = {int(m.group(1)): m.group(2) for m in _OUT_SEGMENT.finditer(proc.stdout)}
        if len(found) != len(segments) or set(found) != set(range(len(segments))):
            if len(segments) == 1:
                raise TranslationError(f"apertium {mode} returned no segment for {segments[0][:60]!r}")
            # A segment marker was lost; translate one by one.
            return [self._run([s], mode)[0] for s in segments]
        return [from_apertium_html(found[i]) for i in range(len(segments))]
