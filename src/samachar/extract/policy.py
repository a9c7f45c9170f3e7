"""Republish policy: how much of an article samachar shows.

``full``     every block;
``excerpt``  the first *N* words, ended at a sentence end (whole blocks up to
             the cut, the last one trimmed); only when the very first sentence
             is longer than *N* is it cut at a word boundary, marked with "…";
             images stay with the original;
``link``     no body at all: the site shows title, summary and the link.

Blocks may be in any language: the Hindi danda (``।``) ends a sentence like
a full stop does. Inline markup of a trimmed block is closed properly.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import replace

from samachar.model import POLICIES, Block

ELLIPSIS = "…"
# Sentence-final punctuation (Latin, Devanagari danda and double danda, CJK, Arabic), then closing quotes.
_SENTENCE_END = re.compile(r"[.!?।॥…。！？؟](?:[\"'”’»)\]]*)(?=\s|$)")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr gen lt col capt sgt rev hon gov sen rep no vs etc fig approx dept est "
    "inc ltd co corp jan feb mar apr jun jul aug sep sept oct nov dec mt ft e.g i.e u.s u.k".split()
)
_TOKEN = re.compile(r"(<[^>]*>)")
_VOID_TAGS = frozenset({"br", "img", "wbr", "hr"})
_TEXT_KINDS = frozenset({"paragraph", "quote", "list_item", "preformatted"})


def apply_policy(blocks: list[Block], policy: str, words: int = 60) -> list[Block]:
    """The blocks a source's republish ``policy`` allows; the input list is never changed."""
    if policy not in POLICIES:
        raise ValueError(f"unknown republish policy {policy!r} (expected one of {', '.join(POLICIES)})")
    if policy == "full":
        return list(blocks)
    if policy == "link":
        return []
    return excerpt(blocks, max(1, words))


def excerpt(blocks: list[Block], words: int) -> list[Block]:
    kept: list[Block] = []
    budget = words
    for block in blocks:
        if block.kind == "figure":
            continue
        fragment = _Fragment(block.html)
        count = len(fragment.word_spans)
        if not count:
            continue
        if count <= budget:
            kept.append(block)
            budget -= count
            if budget == 0:
                break
            continue
        cut = fragment.last_sentence_end_within(budget)
        if cut is not None:
            kept.append(replace(block, html=fragment.cut(cut)))
        elif not any(b.kind in _TEXT_KINDS for b in kept):
            # The first sentence alone is longer than the excerpt: cut between words.
            end = fragment.word_spans[budget - 1][1]
            kept.append(replace(block, html=fragment.cut(end) + ELLIPSIS))
        break
    while kept and kept[-1].kind == "heading":  # an excerpt does not end on a heading
        kept.pop()
    return kept


class _Fragment:
    """Inline HTML seen as plain text, with a way to cut it at a text offset and keep the tags balanced."""

    def __init__(self, fragment: str) -> None:
        self.tokens = [t for t in _TOKEN.split(fragment) if t]
        pieces: list[str] = []
        self.offsets: list[tuple[int, int]] = []  # plain-text span of each token (tags are empty spans)
        position = 0
        for token in self.tokens:
            if token.startswith("<"):
                text = "\n" if re.match(r"<br\b", token, re.I) else ""
            else:
                text = html_lib.unescape(token)
            pieces.append(text)
            self.offsets.append((position, position + len(text)))
            position += len(text)
        self.plain = "".join(pieces)
        self.word_spans = [m.span() for m in re.finditer(r"\S+", self.plain)]

    def last_sentence_end_within(self, budget: int) -> int | None:
        """Offset just after the last sentence end that keeps at most ``budget`` words."""
        if budget < 1:
            return None
        limit = self.word_spans[budget - 1][1]
        best = None
        for match in _SENTENCE_END.finditer(self.plain, 0, limit):
            if match.end() > limit:
                break
            if not _is_abbreviation(self.plain, match.start()):
                best = match.end()
        return best

    def cut(self, offset: int) -> str:
        """The fragment up to plain-text ``offset``, with every open tag closed."""
        out: list[str] = []
        stack: list[str] = []
        for token, (start, end) in zip(self.tokens, self.offsets, strict=True):
            if start >= offset and not token.startswith("</"):
                break
            if token.startswith("</"):
                if start > offset or not stack:
                    break
                out.append(token)
                stack.pop()
            elif token.startswith("<"):
                out.append(token)
                name = re.match(r"<\s*([a-zA-Z0-9]+)", token)
                if name and name.group(1).lower() not in _VOID_TAGS and not token.endswith("/>"):
                    stack.append(name.group(1).lower())
            elif end <= offset:
                out.append(token)
            else:
                out.append(html_lib.escape(html_lib.unescape(token)[: offset - start], quote=False))
        out.extend(f"</{name}>" for name in reversed(stack))
        return "".join(out).rstrip()


def _is_abbreviation(text: str, dot: int) -> bool:
    """A full stop after an initial ("M.") or a known abbreviation ("Dr.") does not end a sentence."""
    if text[dot] != ".":
        return False
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].strip("\"'“‘(").lower()
    if len(word) == 1 and word.isalpha():
        return True
    return word in _ABBREVIATIONS
