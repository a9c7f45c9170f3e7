"""Per-source filters: which extracted entries go on to translation.

An operator following a broad feed keeps only what the site is about, before
any engine time is spent. A source's rules (``sources.filters``, JSON) are
checked after extraction, in this order; the first that matches ends the entry
``filtered`` with that rule as its reason (``samachar entry release ID`` lets
one through by hand):

``exclude_categories``
    any of the entry's categories (the feed's, and the page's tags) is one of these;
``exclude`` / ``exclude_re``
    a word (or phrase) / a regular expression occurs in the title or the body;
``categories``
    the entry has none of these categories;
``include`` / ``include_re``
    none of these words or expressions occurs in the title or the body;
``min_words``
    the body has fewer words;
``max_age_days``
    the original was published longer ago (an entry without a date passes).

Words match whole words, in any script and any case (``"covid 19"`` is a
phrase); regular expressions are Python's, case-insensitive, at most
:data:`MAX_PATTERN_CHARS` long, without nested repetition (``(a+)+``), and see
the first :data:`PATTERN_TEXT_CHARS` characters of the body: ``re`` has no
time limit, so patterns are kept to ones that cannot run away.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from samachar.errors import ConfigError
from samachar.model import Article, FeedEntry

MAX_PATTERN_CHARS = 200
PATTERN_TEXT_CHARS = 200_000
WORD_LISTS = ("include", "exclude", "categories", "exclude_categories")
PATTERN_LISTS = ("include_re", "exclude_re")
NUMBERS = ("min_words", "max_age_days")

# A group that repeats something and is itself repeated: the shape of catastrophic backtracking.
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*(?:[+*]|\{\d*,\d*\})(?:[^()\\]|\\.)*\)\s*(?:[+*]|\{\d*,\d*\})")


@dataclass
class FilterRules:
    """One source's rules; empty lists and ``None`` mean no such rule."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    include_re: list[str] = field(default_factory=list)
    exclude_re: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    exclude_categories: list[str] = field(default_factory=list)
    min_words: int | None = None
    max_age_days: int | None = None

    def __post_init__(self) -> None:
        self._compiled: dict[str, re.Pattern[str]] = {}

    def is_empty(self) -> bool:
        return not any(self.to_json().values())

    def to_json(self) -> dict[str, Any]:
        """The rules as stored: only the keys that say something."""
        return {k: v for k, v in asdict(self).items() if v not in (None, [])}

    @classmethod
    def from_json(cls, data: object) -> FilterRules:
        """Rules from the stored JSON, checked as :func:`check_rules` checks them; ``None`` is no rules."""
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ConfigError(f"source filters must be an object, not {type(data).__name__}")
        unknown = sorted(set(data) - set(WORD_LISTS + PATTERN_LISTS + NUMBERS))
        if unknown:
            raise ConfigError(f"unknown filter rule {unknown[0]!r}; rules: {', '.join(WORD_LISTS + PATTERN_LISTS + NUMBERS)}")
        values: dict[str, Any] = {}
        for key in WORD_LISTS + PATTERN_LISTS:
            items = data.get(key) or []
            if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
                raise ConfigError(f"filter rule {key!r} must be a list of strings")
            values[key] = list(items)
        for key in NUMBERS:
            number = data.get(key)
            if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 0):
                raise ConfigError(f"filter rule {key!r} must be a whole number of at least 0, not {number!r}")
            values[key] = number
        return check_rules(cls(**values))

    def with_changes(self, other: FilterRules) -> FilterRules:
        """These rules with ``other``'s added: its words and patterns appended, its numbers replacing."""
        merged: dict[str, Any] = {k: list(dict.fromkeys(getattr(self, k) + getattr(other, k)))
                                  for k in WORD_LISTS + PATTERN_LISTS}
        for key in NUMBERS:
            merged[key] = getattr(other, key) if getattr(other, key) is not None else getattr(self, key)
        return check_rules(FilterRules(**merged))

    def pattern(self, source: str) -> re.Pattern[str]:
        if source not in self._compiled:
            self._compiled[source] = re.compile(source, re.IGNORECASE)
        return self._compiled[source]


def check_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a rule's regular expression, refusing one that is too long, broken or can run away."""
    shown = pattern if len(pattern) <= 60 else pattern[:59] + "…"
    if not pattern:
        raise ConfigError("an empty regular expression matches everything; give a pattern")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ConfigError(f"regular expression {shown!r} is {len(pattern)} characters long; "
                          f"at most {MAX_PATTERN_CHARS} are allowed")
    if _NESTED_REPEAT.search(pattern):
        raise ConfigError(f"regular expression {shown!r} repeats a group that repeats (like (a+)+), which can "
                          "take forever on some texts; write it without the nested repetition")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ConfigError(f"regular expression {shown!r} is not valid: {exc}") from None


def check_rules(rules: FilterRules) -> FilterRules:
    """The rules, each pattern compiled and each word list holding words; raises :class:`ConfigError`."""
    for key in PATTERN_LISTS:
        for pattern in getattr(rules, key):
            rules._compiled[pattern] = check_pattern(pattern)
    for key in WORD_LISTS:
        for word in getattr(rules, key):
            if not words_of(word):
                raise ConfigError(f"{key.replace('_', ' ')} {word!r} has no letters or digits to match")
    return rules


@dataclass
class Candidate:
    """What the rules look at in an extracted entry."""

    title: str
    text: str
    categories: list[str]
    published: datetime | None

    @classmethod
    def of(cls, article: Article, entry: FeedEntry) -> Candidate:
        categories = list(dict.fromkeys([*(entry.categories or []), *article.tags]))
        return cls(title=article.title or entry.title, text=article.text, categories=categories,
                   published=article.published or entry.published)


def words_of(text: str) -> list[str]:
    """Words as the rules compare them: runs of letters, marks and digits (any script), case-folded."""
    words: list[str] = []
    current: list[str] = []
    for ch in unicodedata.normalize("NFC", text).casefold():
        if unicodedata.category(ch)[0] in "LMN":
            current.append(ch)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).casefold()


class _Text:
    """The candidate's title and body, split into words once for all the word rules."""

    def __init__(self, candidate: Candidate):
        self.parts = {"title": candidate.title, "body": candidate.text}
        self.words = {name: " " + " ".join(words_of(value)) + " " for name, value in self.parts.items()}

    def word_in(self, phrase: str) -> str | None:
        wanted = " " + " ".join(words_of(phrase)) + " "
        return next((name for name, words in self.words.items() if wanted in words), None)

    def pattern_in(self, pattern: re.Pattern[str]) -> str | None:
        for name, value in self.parts.items():
            if pattern.search(unicodedata.normalize("NFC", value[:PATTERN_TEXT_CHARS])):
                return name
        return None


def first_match(rules: FilterRules, candidate: Candidate, now: datetime) -> str | None:
    """The rule that filters ``candidate`` out, said in words; ``None`` when it passes every rule."""
    if rules.is_empty():
        return None
    categories = {_fold(c) for c in candidate.categories}
    for category in rules.exclude_categories:
        if _fold(category) in categories:
            return f"category {category!r} is excluded"
    text = _Text(candidate)
    for word in rules.exclude:
        where = text.word_in(word)
        if where:
            return f"excluded word {word!r} in the {where}"
    for source in rules.exclude_re:
        where = text.pattern_in(rules.pattern(source))
        if where:
            return f"excluded pattern /{source}/ in the {where}"
    if rules.categories and not categories & {_fold(c) for c in rules.categories}:
        return f"none of the categories {', '.join(rules.categories)}"
    if rules.include or rules.include_re:
        found = any(text.word_in(w) for w in rules.include) or any(
            text.pattern_in(rules.pattern(p)) for p in rules.include_re)
        if not found:
            wanted = [repr(w) for w in rules.include] + [f"/{p}/" for p in rules.include_re]
            return f"none of the included words or patterns ({', '.join(wanted)}) in the title or the body"
    if rules.min_words is not None:
        count = len(candidate.text.split())
        if count < rules.min_words:
            return f"body has {count} words, fewer than the minimum of {rules.min_words}"
    if rules.max_age_days is not None and candidate.published is not None:
        age = now - candidate.published
        if age.total_seconds() > rules.max_age_days * 86400:
            return f"published {age.days} days ago, more than the maximum age of {rules.max_age_days} days"
    return None


def describe(rules: FilterRules) -> list[str]:
    """One line per rule, for ``samachar source filter``."""
    lines = [f"{key.replace('_', ' ')}: {', '.join(repr(v) for v in getattr(rules, key))}"
             for key in WORD_LISTS + PATTERN_LISTS if getattr(rules, key)]
    lines += [f"{key.replace('_', ' ')}: {getattr(rules, key)}" for key in NUMBERS if getattr(rules, key) is not None]
    return lines
