"""Inline HTML ⇄ tagged segment text, and repair of what engines do to tags.

A block's inner HTML becomes text with numbered XML-like tags, the XLIFF
convention engines and CAT tools know: paired ``<g1>…</g1>`` for elements
around text (``a``, ``em``, ``strong``…), standalone ``<x2/>`` for elements
without text (``br``, ``img``). The :class:`TagMap` keeps each tag's original
element and attributes, so the HTML comes back exactly; engines never see URLs.

Engines move, duplicate and drop tags. :func:`restore` turns any engine output
into text where every source tag appears exactly once, properly nested, around
text:

1. unknown tags and extra standalone tags are dropped;
2. a paired tag that appears more than once (Apertium wraps two separated
   words in the same link when it reorders a noun phrase) becomes one span from
   its first opening to its last closing;
3. an opening or closing without its partner is completed around the next or
   previous word;
4. crossing spans are cut back so they nest as in the source;
5. a tag that is missing is re-attached around its source text if that text
   is in the translation (names, numbers), else at the same relative position,
   snapped to word boundaries, and the problem is reported.

:func:`project` is for engines whose output changes when markup is present
(``tag_aware = False``): the plain translation is kept and the tags of the
tagged translation are carried onto it by aligning the two word by word.
"""

from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

TAG_RE = re.compile(r"<\s*(/?)\s*([gx])\s*(\d+)\s*(/?)\s*>")
VOID_ELEMENTS = {"br", "img", "wbr", "hr", "input", "source", "track", "area", "col", "embed"}
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+(?:[’'\-.,:]\w+)*|[^\w\s]", re.UNICODE)


@dataclass
class TagSpec:
    """One tag of a segment: the element it stands for."""

    kind: str  # "g" (paired) or "x" (standalone)
    element: str
    attrs: tuple[tuple[str, str], ...] = ()
    html: str = ""  # for standalone tags: the element as HTML

    def open_html(self) -> str:
        attrs = "".join(f' {k}="{html_lib.escape(v, quote=True)}"' for k, v in self.attrs)
        return f"<{self.element}{attrs}>"


@dataclass
class Tagged:
    """Tagged text with the tags' elements, keyed by id (``g1``, ``x2``)."""

    text: str
    tags: dict[str, TagSpec] = field(default_factory=dict)

    @property
    def plain(self) -> str:
        return strip_tags(self.text)


# ---------------------------------------------------------------- HTML ⇄ tags


def html_to_tagged(fragment: str) -> Tagged:
    """A block's inner HTML as tagged text; whitespace folded as a browser would."""
    from lxml import html as lxml_html

    fragment = fragment or ""
    if "<" not in fragment and "&" not in fragment:
        return Tagged(_SPACE.sub(" ", fragment).strip())
    root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    tags: dict[str, TagSpec] = {}
    out: list[str] = []
    counter = 0

    def walk(el) -> None:  # noqa: ANN001 - lxml element
        nonlocal counter
        if el.text:
            out.append(el.text)
        for child in el:
            if not isinstance(child.tag, str):  # comments, processing instructions
                if child.tail:
                    out.append(child.tail)
                continue
            counter += 1
            name = child.tag.lower()
            attrs = tuple((str(k), str(v)) for k, v in child.attrib.items())
            has_text = bool((child.text_content() or "").strip())
            if name in VOID_ELEMENTS or not has_text:
                tag_id = f"x{counter}"
                child_html = lxml_html.tostring(child, encoding="unicode", with_tail=False)
                tags[tag_id] = TagSpec("x", name, attrs, child_html)
                out.append(f"<{tag_id}/>")
            else:
                tag_id = f"g{counter}"
                tags[tag_id] = TagSpec("g", name, attrs)
                out.append(f"<{tag_id}>")
                walk(child)
                out.append(f"</{tag_id}>")
            if child.tail:
                out.append(child.tail)

    walk(root)
    text = _SPACE.sub(" ", "".join(out)).strip()
    return Tagged(text, tags)


def tagged_to_html(text: str, tags: dict[str, TagSpec]) -> str:
    """Tagged text back to HTML with the original elements; unknown tags dropped."""
    out: list[str] = []
    stack: list[str] = []
    pos = 0
    for m in TAG_RE.finditer(text):
        out.append(html_lib.escape(text[pos : m.start()], quote=False))
        pos = m.end()
        tag_id = f"{m.group(2)}{m.group(3)}"
        spec = tags.get(tag_id)
        if spec is None:
            continue
        if spec.kind == "x":
            out.append(spec.html or f"<{spec.element}>")
        elif m.group(1):
            if tag_id in stack:
                while stack:
                    top = stack.pop()
                    out.append(f"</{tags[top].element}>")
                    if top == tag_id:
                        break
        else:
            out.append(spec.open_html())
            stack.append(tag_id)
    out.append(html_lib.escape(text[pos:], quote=False))
    while stack:
        out.append(f"</{tags[stack.pop()].element}>")
    return "".join(out)


def strip_tags(text: str) -> str:
    """Tagged text as plain text (standalone tags read as a space)."""
    plain = TAG_RE.sub(lambda m: " " if m.group(2) == "x" else "", text)
    return _SPACE.sub(" ", plain).strip()


def renumber(text: str) -> tuple[str, dict[str, str]]:
    """Tags renumbered from 1 in order of appearance; returns the map new id → old id."""
    mapping: dict[str, str] = {}
    reverse: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        old = f"{m.group(2)}{m.group(3)}"
        if old not in reverse:
            new = f"{m.group(2)}{len(reverse) + 1}"
            reverse[old] = new
            mapping[new] = old
        new = reverse[old]
        if m.group(2) == "x":
            return f"<{new}/>"
        return f"</{new}>" if m.group(1) else f"<{new}>"

    return TAG_RE.sub(sub, text), mapping


def rename(text: str, mapping: dict[str, str]) -> str:
    """Tag ids replaced through ``mapping`` (ids not in it are kept)."""

    def sub(m: re.Match[str]) -> str:
        new = mapping.get(f"{m.group(2)}{m.group(3)}", f"{m.group(2)}{m.group(3)}")
        if m.group(2) == "x":
            return f"<{new}/>"
        return f"</{new}>" if m.group(1) else f"<{new}>"

    return TAG_RE.sub(sub, text)


def tag_ids(text: str) -> list[str]:
    """Ids of the tags in ``text``, once each for pairs, in order of appearance."""
    seen: list[str] = []
    for m in TAG_RE.finditer(text):
        tag_id = f"{m.group(2)}{m.group(3)}"
        if not m.group(1) and tag_id not in seen:
            seen.append(tag_id)
    return seen


# ---------------------------------------------------------------- spans


@dataclass
class Spans:
    """Text plus tag positions as character offsets into it."""

    text: str
    pairs: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    points: dict[str, list[int]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def parse(text: str) -> Spans:
    """Tagged text as plain text and tag offsets; unmatched tags are recorded as problems
    and completed around the nearest word."""
    plain: list[str] = []
    length = 0
    opened: dict[str, list[int]] = {}
    pairs: dict[str, list[tuple[int, int]]] = {}
    points: dict[str, list[int]] = {}
    dangling_close: list[tuple[str, int]] = []
    pos = 0
    for m in TAG_RE.finditer(text):
        chunk = text[pos : m.start()]
        plain.append(chunk)
        length += len(chunk)
        pos = m.end()
        tag_id = f"{m.group(2)}{m.group(3)}"
        if m.group(2) == "x":
            points.setdefault(tag_id, []).append(length)
        elif m.group(1):
            if opened.get(tag_id):
                start = opened[tag_id].pop()
                pairs.setdefault(tag_id, []).append((start, length))
            else:
                dangling_close.append((tag_id, length))
        else:
            opened.setdefault(tag_id, []).append(length)
    plain.append(text[pos:])
    joined = "".join(plain)
    spans = Spans(joined, pairs, points)
    for tag_id, starts in opened.items():
        for start in starts:
            end = _word_end(joined, start)
            spans.problems.append(f"{tag_id} opened but not closed")
            pairs.setdefault(tag_id, []).append((start, end))
    for tag_id, end in dangling_close:
        start = _word_start(joined, end)
        spans.problems.append(f"{tag_id} closed but not opened")
        pairs.setdefault(tag_id, []).append((start, end))
    return spans


def _word_end(text: str, pos: int) -> int:
    m = re.match(r"\s*\S+", text[pos:])
    return pos + m.end() if m else len(text)


def _word_start(text: str, pos: int) -> int:
    m = re.search(r"\S+\s*$", text[:pos])
    return m.start() if m else 0


def _snap(text: str, start: int, end: int) -> tuple[int, int]:
    """A span trimmed of outer whitespace and widened to whole words."""
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    while start > 0 and text[start - 1].isalnum() and start < len(text) and text[start].isalnum():
        start -= 1
    while end < len(text) and end > 0 and text[end].isalnum() and text[end - 1].isalnum():
        end += 1
    return start, end


@dataclass
class SourceLayout:
    """Where each tag sits in the source segment, for re-attaching and nesting."""

    kinds: dict[str, str]
    relative: dict[str, tuple[float, float]]
    inner_text: dict[str, str]
    parent: dict[str, str | None]
    order: list[str]


def layout(source_tagged: str) -> SourceLayout:
    spans = parse(source_tagged)
    length = max(1, len(spans.text))
    kinds: dict[str, str] = {}
    relative: dict[str, tuple[float, float]] = {}
    inner: dict[str, str] = {}
    parent: dict[str, str | None] = {}
    for tag_id, occurrences in spans.pairs.items():
        start, end = occurrences[0]
        kinds[tag_id] = "g"
        relative[tag_id] = (start / length, end / length)
        inner[tag_id] = spans.text[start:end].strip()
    for tag_id, occurrences in spans.points.items():
        kinds[tag_id] = "x"
        relative[tag_id] = (occurrences[0] / length, occurrences[0] / length)
    for tag_id in spans.pairs:
        s, e = spans.pairs[tag_id][0]
        enclosing = [
            other
            for other, occ in spans.pairs.items()
            if other != tag_id and occ[0][0] <= s and e <= occ[0][1] and occ[0][1] - occ[0][0] > e - s
        ]
        parent[tag_id] = min(enclosing, key=lambda o: spans.pairs[o][0][1] - spans.pairs[o][0][0]) if enclosing else None
    return SourceLayout(kinds, relative, inner, parent, tag_ids(source_tagged))


@dataclass
class Restored:
    """A repaired tagged target and what had to be done to it."""

    text: str
    problems: list[str] = field(default_factory=list)  # worth a reviewer's look
    notes: list[str] = field(default_factory=list)  # routine repairs (duplicates merged)

    @property
    def repaired(self) -> bool:
        return bool(self.problems or self.notes)


def _fix(spans: Spans, source: SourceLayout) -> Restored:
    """Every source tag once, nested, around text; the rest of the algorithm in the module doc."""
    text = spans.text
    problems = list(spans.problems)
    notes: list[str] = []
    placed: dict[str, tuple[int, int]] = {}
    points: dict[str, int] = {}
    for tag_id in list(spans.pairs) + list(spans.points):
        if tag_id not in source.kinds or (
            source.kinds[tag_id] == "g" and tag_id in spans.points
        ):
            problems.append(f"{tag_id} not in the source; dropped")
    for tag_id, occ in spans.pairs.items():
        if source.kinds.get(tag_id) != "g":
            continue
        start = min(s for s, _ in occ)
        end = max(e for _, e in occ)
        if len(occ) > 1:
            notes.append(f"{tag_id} appeared {len(occ)} times; merged")
        placed[tag_id] = _snap(text, start, end)
    for tag_id, occ in spans.points.items():
        if source.kinds.get(tag_id) != "x":
            continue
        if len(occ) > 1:
            problems.append(f"{tag_id} appeared {len(occ)} times; kept the first")
        points[tag_id] = occ[0]
    # Missing paired tags: around their source text if the translation has it, else by position.
    for tag_id in source.order:
        if source.kinds.get(tag_id) == "g" and tag_id not in placed:
            inner = source.inner_text.get(tag_id, "")
            found = _find_words(text, inner) if inner else None
            if found is not None:
                placed[tag_id] = found
                problems.append(f"{tag_id} was dropped; re-attached around its source text")
            else:
                rs, re_ = source.relative[tag_id]
                placed[tag_id] = _snap(text, round(rs * len(text)), round(re_ * len(text)))
                problems.append(f"{tag_id} was dropped; re-attached by position")
        elif source.kinds.get(tag_id) == "x" and tag_id not in points:
            rs, _ = source.relative[tag_id]
            points[tag_id] = _boundary(text, round(rs * len(text)))
            problems.append(f"{tag_id} was dropped; re-attached by position")
    # Empty spans get the nearest word.
    for tag_id, (s, e) in list(placed.items()):
        if not text[s:e].strip():
            ws, we = _snap(text, _word_start(text, s) if s == len(text) else s, _word_end(text, s))
            if not text[ws:we].strip():
                ws, we = _snap(text, _word_start(text, s), s)
            placed[tag_id] = (ws, we)
            problems.append(f"{tag_id} was empty; put around the nearest word")
    _nest(placed, source, problems)
    return Restored(_serialise(text, placed, points), problems, notes)


def _find_words(text: str, needle: str) -> tuple[int, int] | None:
    if not needle.strip():
        return None
    m = re.search(r"(?<!\w)" + re.escape(needle) + r"(?!\w)", text, re.IGNORECASE)
    return (m.start(), m.end()) if m else None


def _boundary(text: str, pos: int) -> int:
    """The nearest word boundary to ``pos``."""
    pos = max(0, min(pos, len(text)))
    left = pos
    while 0 < left < len(text) and text[left - 1].isalnum() and text[left].isalnum():
        left -= 1
    return left


def _nest(placed: dict[str, tuple[int, int]], source: SourceLayout, problems: list[str]) -> None:
    """Cut crossing spans back so the family nests, keeping the source's parent/child order."""
    ids = sorted(placed, key=lambda t: (placed[t][0], -placed[t][1]))
    changed = True
    rounds = 0
    while changed and rounds < 10:
        changed = False
        rounds += 1
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                (as_, ae), (bs, be) = placed[a], placed[b]
                if not (as_ < bs < ae < be or bs < as_ < be < ae):
                    continue
                changed = True
                first, second = (a, b) if as_ < bs else (b, a)
                (fs, fe), (ss, se) = placed[first], placed[second]
                if source.parent.get(second) == first:
                    placed[first] = (fs, se)  # the parent grows to hold its child
                elif source.parent.get(first) == second:
                    placed[second] = (fs, se)
                else:
                    placed[second] = (fe, se) if se > fe else (ss, fe)
                problems.append(f"{first} and {second} crossed; un-crossed")


def _serialise(text: str, placed: dict[str, tuple[int, int]], points: dict[str, int]) -> str:
    events: list[tuple[int, int, int, str]] = []
    for tag_id, (s, e) in placed.items():
        # closes first, then points, then opens; outer opens before inner, inner closes before outer
        events.append((s, 2, -(e - s), f"<{tag_id}>"))
        events.append((e, 0, e - s, f"</{tag_id}>"))
    for tag_id, p in points.items():
        events.append((p, 1, 0, f"<{tag_id}/>"))
    events.sort(key=lambda ev: (ev[0], ev[1], ev[2]))
    out: list[str] = []
    pos = 0
    for offset, _, _, tag in events:
        out.append(text[pos:offset])
        out.append(tag)
        pos = offset
    out.append(text[pos:])
    return "".join(out)


def restore(target_tagged: str, source_tagged: str) -> Restored:
    """Repair a tag-aware engine's output against its source segment."""
    return _fix(parse(target_tagged), layout(source_tagged))


# ---------------------------------------------------------------- projection


def _tokens(text: str) -> list[tuple[str, int, int]]:
    return [(m.group(0), m.start(), m.end()) for m in _WORD.finditer(text)]


def project(tagged_translation: str, plain_translation: str, source_tagged: str) -> Restored:
    """Carry the tags of ``tagged_translation`` onto ``plain_translation``.

    Both are the same engine's output for the same segment, with and without
    markup; the plain one is the translation we keep. Words are aligned with
    :class:`difflib.SequenceMatcher`; a tag edge inside a changed stretch lands
    at the proportional word.
    """
    source = layout(source_tagged)
    spans = parse(tagged_translation)
    plain = _SPACE.sub(" ", plain_translation).strip()
    problems = list(spans.problems)
    if _SPACE.sub(" ", spans.text).strip() == plain and spans.text == plain:
        return _fix(Spans(plain, spans.pairs, spans.points, problems), source)
    t_tokens = _tokens(spans.text)
    p_tokens = _tokens(plain)
    matcher = SequenceMatcher(None, [t[0] for t in t_tokens], [p[0] for p in p_tokens], autojunk=False)
    opcodes = matcher.get_opcodes()

    def token_at(offset: int, edge: str) -> int:
        """Index of the T token that starts at/after (start edge) or ends at/before (end edge) offset."""
        if edge == "start":
            for i, (_, s, _) in enumerate(t_tokens):
                if s >= offset:
                    return i
            return len(t_tokens)
        for i in range(len(t_tokens) - 1, -1, -1):
            if t_tokens[i][2] <= offset:
                return i
        return -1

    p_lower = [p[0].lower() for p in p_tokens]

    def similar(word: str, j1: int, j2: int) -> int | None:
        """A P token in [j1, j2) equal to ``word`` or sharing its first four letters."""
        word = word.lower()
        for j in range(j1, j2):
            if p_lower[j] == word:
                return j
        if len(word) >= 4:
            for j in range(j1, j2):
                if p_lower[j][:4] == word[:4]:
                    return j
        return None

    def map_token(i: int) -> int:
        for tag, i1, i2, j1, j2 in opcodes:
            if i1 <= i < i2:
                if tag == "equal":
                    return j1 + (i - i1)
                word = t_tokens[i][0]
                if word[:1].isalnum():
                    near = similar(word, j1, j2)
                    if near is None and p_lower.count(word.lower()) == 1:
                        near = p_lower.index(word.lower())  # the word moved
                    if near is not None:
                        return near
                if tag == "replace":
                    return j1 + (i - i1) * (j2 - j1) // max(1, i2 - i1)
                return j1 if j1 < len(p_tokens) else len(p_tokens) - 1  # delete
        return len(p_tokens) - 1

    def map_start(offset: int) -> int:
        i = token_at(offset, "start")
        if i >= len(t_tokens):
            return len(plain)
        j = min(max(map_token(i), 0), max(0, len(p_tokens) - 1))
        return p_tokens[j][1] if p_tokens else 0

    def map_end(offset: int) -> int:
        i = token_at(offset, "end")
        if i < 0:
            return 0
        j = min(max(map_token(i), 0), max(0, len(p_tokens) - 1))
        return p_tokens[j][2] if p_tokens else 0

    pairs: dict[str, list[tuple[int, int]]] = {}
    for tag_id, occurrences in spans.pairs.items():
        mapped = []
        for s, e in occurrences:
            ms, me = map_start(s), map_end(e)
            if me < ms:
                ms, me = me, ms
            mapped.append((ms, me))
        pairs[tag_id] = mapped
    points = {tag_id: [map_start(p) for p in occ] for tag_id, occ in spans.points.items()}
    return _fix(Spans(plain, pairs, points, problems), source)
