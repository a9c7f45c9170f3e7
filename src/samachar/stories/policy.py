"""The merge policy: which entry of a story is translated and published, and what the others become.

In ``merge`` mode (``[stories] mode``, per source ``sources.stories_mode``) a story
is published once. Its *primary* is the first complete version, unless a source
ranked higher in ``[stories] prefer`` (or a complete version after an incomplete
one) arrives before the primary is translated: then it takes over. Every other
entry ends ``merged``: not translated, its source credited on the primary's page
("also reported by", JSON-LD ``isBasedOn``, the feeds, every target). After the
primary is translated, a later version with new facts (numbers or named entities
the published text lacks) takes its place when ``replace = "new-facts"``: it is
translated, and on publishing it takes over the primary's post (same page, same
remote posts, updated by the targets) while the old primary is credited.

``separate`` entries are placed in their story (for listing) and go on as before, and so
do a publisher's own articles that resemble each other: only other publishers' reports
are merged into a story's primary.
Nothing is deleted: every entry stays listed with its story and its reason.

:func:`decide` is the policy itself, plain data in and out; :class:`StoryDesk`
reads what it needs from the store and carries out what it decides, for the
pipeline's ``cluster`` stage and for ``samachar story split|merge``.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from samachar.model import Article, EntryState
from samachar.store.schema import posts, stories, story_members
from samachar.stories.model import Placement, StoryItem, StorySettings

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.store import Store
    from samachar.store.entries import EntryRow
    from samachar.store.sources import SourceRow
    from samachar.stories.index import StoryIndex

log = logging.getLogger("samachar.stories")

MODES = ("merge", "separate")
COMPLETE_WORDS = 150  # a body from the feed is a complete version from this many words on (a page always is)
NOT_TRANSLATED = (EntryState.NEW, EntryState.FETCHED, EntryState.EXTRACTED)  # a primary that may still be replaced
ALIVE = (*NOT_TRANSLATED, EntryState.TRANSLATED, EntryState.HELD, EntryState.PUBLISHED)


# -- the policy ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Version:
    """One entry of a story as the policy weighs it."""

    entry_id: int
    source_id: int | None
    state: EntryState
    rank: int  # its source's place in [stories] prefer; len(prefer) when not listed
    complete: bool
    mode: str  # merge / separate
    text: str = ""  # the extracted body's plain text (for new facts)
    own_names: frozenset[str] = frozenset()  # its byline and publisher: not facts about the story

    @property
    def weight(self) -> tuple[int, int]:
        """Lower is preferred: the ranked source first, then the complete version."""
        return self.rank, 0 if self.complete else 1


@dataclass(frozen=True)
class StoryCase:
    """What :func:`decide` needs: the entry, where the index placed it, and the story's current primary."""

    entry: Version
    placement: Placement
    primary: Version | None  # None: none chosen, or the chosen one is gone (failed, filtered, deleted)
    replace: str  # new-facts / never


@dataclass(frozen=True)
class Decision:
    action: str  # separate | own | primary | takeover | replace | merge
    story_id: int
    primary: int | None  # the entry published for the story after this decision
    demoted: int | None = None  # the former primary, credited from now on
    facts: tuple[str, ...] = ()  # the new facts that decided a replacement


def decide(case: StoryCase) -> Decision:
    """Where the entry goes: on to translation (as the story's primary, or separately) or merged."""
    entry, primary, story = case.entry, case.primary, case.placement.story_id
    if entry.mode == "separate":
        return Decision("separate", story, primary.entry_id if primary else None)
    if primary is None or primary.entry_id == entry.entry_id:
        return Decision("primary", story, entry.entry_id)
    if entry.source_id is not None and entry.source_id == primary.source_id:
        # A publisher's own articles alike (a daily bulletin, an update under a new address) are its
        # own choice, published as before: only other publishers' reports are merged and credited.
        return Decision("own", story, primary.entry_id)
    if primary.state in NOT_TRANSLATED:
        if entry.weight < primary.weight:
            return Decision("takeover", story, entry.entry_id, demoted=primary.entry_id)
        return Decision("merge", story, primary.entry_id)
    if case.replace == "new-facts" and entry.complete:
        facts = new_facts(primary.text, entry.text, ignore=entry.own_names)
        if facts:
            return Decision("replace", story, entry.entry_id, demoted=primary.entry_id, facts=tuple(sorted(facts)))
    return Decision("merge", story, primary.entry_id)


# -- new facts -----------------------------------------------------------------------------------------

_MONTHS = ("january|february|march|april|may|june|july|august|september|october|november|december|"
           "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec")
_DATE = re.compile(rf"\b(?:(?:{_MONTHS})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTHS})\b)",
                   re.IGNORECASE)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"[A-Z][\w'’.-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w'’.-]*)*")
_SENTENCE_START = re.compile(r"(?:^|[.!?:;\"“”'‘’]\s*|\n)$")
_FUNCTION_WORDS = frozenset(
    "a an the in on at of for to by from with and but or as it its he she they we i you his her their our this "
    "that these those there here when where while after before if then so also said says mr mrs ms dr".split())
_MIN_NEW_NAMES = 2  # one new name is a byline or a dateline more often than a fact


def _digits(text: str) -> str:
    """Any script's digits as ASCII ones (Devanagari ४१ is 41)."""
    return "".join(str(unicodedata.digit(ch)) if ch.isdigit() else ch for ch in text)


def story_facts(text: str) -> tuple[set[str], set[str]]:
    """(numbers, names) a text states: figures without their separators, and runs of capitalised words."""
    plain = _DATE.sub(" ", _digits(text))  # a dateline's day is not a fact of the story
    numbers = {n.replace(",", "").rstrip(".").lstrip("0") or "0" for n in _NUMBER.findall(plain)}
    names: set[str] = set()
    for match in _NAME.finditer(plain):
        words = match.group().rstrip(".").split()
        while words and words[0].lower() in _FUNCTION_WORDS:
            words = words[1:]
        if not words:
            continue
        at_start = _SENTENCE_START.search(plain[:match.start()]) is not None
        if len(words) == 1 and at_start and match.group().split()[0] == words[0]:
            continue  # a sentence's first word: capitalised for the grammar, not for a name
        names.add(" ".join(words).lower())
    return numbers, names


def new_facts(published: str, candidate: str, *, ignore: frozenset[str] = frozenset()) -> set[str]:
    """What the candidate states that the published text does not: any new figure, or new names (two or more).

    ``ignore``: the candidate's own byline and publisher, which are not news.
    """
    old_numbers, old_names = story_facts(published)
    numbers, names = story_facts(candidate)
    ignored = {name.lower() for name in ignore}
    known = " ".join(sorted(old_names))
    fresh_names = {n for n in names - old_names - ignored if n not in known}  # "Sharma" is in "Asha Sharma"
    fresh_numbers = numbers - old_numbers
    if fresh_numbers:
        return fresh_numbers | fresh_names
    return fresh_names if len(fresh_names) >= _MIN_NEW_NAMES else set()


# -- the store's side ----------------------------------------------------------------------------------

def stories_mode(source: SourceRow | None, config: Config) -> str:
    """The source's mode (``source add --stories``), else ``[stories] mode``."""
    mode = source.stories_mode if source is not None else None
    return mode if mode in MODES else config.stories.mode


def source_rank(source: SourceRow | None, prefer: list[str | int]) -> int:
    """The source's place in ``[stories] prefer`` (by feed URL or id); ``len(prefer)`` when it is not there."""
    if source is not None:
        for place, wanted in enumerate(prefer):
            if wanted == source.id or (isinstance(wanted, str) and wanted.strip() in (source.url, str(source.id))):
                return place
    return len(prefer)


def is_complete(article: Article) -> bool:
    """A page's article is a complete version; a feed's own content once it is long enough."""
    return article.source == "page" or len(article.text.split()) >= COMPLETE_WORDS


def story_item(entry: EntryRow, article: Article, language: str, now: datetime) -> StoryItem:
    published = article.published or entry.published or now
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    return StoryItem(entry_id=entry.id, source_id=entry.source_id, lang=language,
                     title=article.title or entry.title, text=article.text, published=published)


def story_index(store: Store, config: Config) -> StoryIndex:
    """The store's index, kept on the store for its life: it rebuilds from the database once, then follows.

    Kept on the instance (not in a cache keyed by it, which the index's own reference to
    the store would keep alive forever).
    """
    from samachar.stories.index import StoryIndex

    settings = StorySettings(window_hours=config.stories.window_hours)
    index: StoryIndex | None = vars(store).get("_story_index")
    if index is None or index.settings != settings:
        index = StoryIndex(store, settings)
        vars(store)["_story_index"] = index
    return index


class StoryDesk:
    """Reads stories from the store for the policy, and carries out its decisions and an editor's corrections."""

    def __init__(self, store: Store, config: Config):
        self.store = store
        self.config = config
        self.index = story_index(store, config)
        self._sources: dict[int, SourceRow | None] = {}

    def source(self, source_id: int | None) -> SourceRow | None:
        if source_id is None:
            return None
        if source_id not in self._sources:
            self._sources[source_id] = self.store.sources.get(source_id)
        return self._sources[source_id]

    def version(self, entry: EntryRow, article: Article | None = None) -> Version:
        source = self.source(entry.source_id)
        article = article or self.store.articles.get(entry.id)
        names = frozenset(filter(None, [*(article.authors if article else []), article.publisher if article else None,
                                        source.name if source else None, source.feed_title if source else None]))
        return Version(entry_id=entry.id, source_id=entry.source_id, state=EntryState(entry.state),
                       rank=source_rank(source, self.config.stories.prefer),
                       complete=is_complete(article) if article else False,
                       mode=stories_mode(source, self.config), text=article.text if article else "",
                       own_names=names)

    def primary_of(self, story_id: int) -> int | None:
        with self.store.engine.connect() as conn:
            found: int | None = conn.execute(select(stories.c.primary_entry_id)
                                             .where(stories.c.id == story_id)).scalar()
        return found

    def holder_of(self, story_id: int, lang: str) -> int | None:
        """The member whose post the story has on the site in ``lang``, if one has."""
        query = (select(posts.c.entry_id).join(story_members, story_members.c.entry_id == posts.c.entry_id)
                 .where(story_members.c.story_id == story_id).where(posts.c.lang == lang)
                 .order_by(posts.c.published_at).limit(1))
        with self.store.engine.connect() as conn:
            found: int | None = conn.execute(query).scalar()
        return found

    def case(self, entry: EntryRow, article: Article, placement: Placement) -> StoryCase:
        """The entry and its story's primary: the chosen one while it lives, else the member the site shows."""
        primary: Version | None = None
        for candidate in (self.primary_of(placement.story_id),
                          self.holder_of(placement.story_id, self.config.site.language)):
            if candidate is None:
                continue
            if candidate == entry.id:
                primary = self.version(entry, article)
                break
            row = self.store.entries.get(candidate)
            if row is not None and (row.state in ALIVE or row.state is EntryState.MERGED):
                primary = self.version(row)
                break
        return StoryCase(self.version(entry, article), placement, primary, self.config.stories.replace)

    # -- carrying out -------------------------------------------------------------------------------------

    def apply(self, entry: EntryRow, decision: Decision) -> EntryState | None:
        """Store a decision about an extracted entry; the entry's new state (None: it goes on to translation)."""
        entries, story = self.store.entries, decision.story_id
        if decision.action in ("separate", "own"):
            return None
        if decision.primary != self.primary_of(story):
            self.index.set_primary(story, decision.primary)
        if decision.action == "primary":
            return None
        if decision.action in ("takeover", "replace") and decision.demoted is not None:
            why = ("from a source ranked higher in [stories] prefer, or more complete" if decision.action == "takeover"
                   else f"with new facts ({', '.join(decision.facts[:5])}) replaces its text once translated")
            self.demote(decision.demoted, story, f"merged into story {story}: entry {entry.id} {why}")
            log.info("story %d: entry %d %s entry %d", story, entry.id,
                     "takes over from" if decision.action == "takeover" else "replaces", decision.demoted)
            return None
        assert decision.primary is not None
        entries.set_state(entry.id, EntryState.MERGED, expect=EntryState.EXTRACTED,
                          error=f"merged into story {story}: entry {decision.primary} is published, crediting "
                                "this source")
        log.info("story %d: entry %d merged into entry %d", story, entry.id, decision.primary)
        self.recredit(decision.primary)
        return EntryState.MERGED

    def demote(self, entry_id: int, story_id: int, reason: str) -> None:
        """The former primary is credited from now on (its post, if any, stays until its successor's is up)."""
        row = self.store.entries.get(entry_id)
        if row is not None and row.state in ALIVE:
            self.store.entries.set_state(entry_id, EntryState.MERGED, error=reason)

    def recredit(self, entry_id: int) -> None:
        """A published entry whose credits changed goes through publishing again: every target updates its post."""
        row = self.store.entries.get(entry_id)
        if row is not None and row.state is EntryState.PUBLISHED:
            self.store.entries.set_state(entry_id, EntryState.TRANSLATED, expect=EntryState.PUBLISHED,
                                         reason="its story's sources changed: its posts are updated")

    def reopen(self, entry_id: int, reason: str) -> None:
        """A merged entry goes back to translation (an article), or to be extracted again."""
        row = self.store.entries.get(entry_id)
        if row is None or row.state is not EntryState.MERGED:
            return
        has_post = self.holder_of_entry(entry_id)
        state = EntryState.TRANSLATED if has_post else (
            EntryState.EXTRACTED if self.store.articles.get(entry_id) is not None else EntryState.NEW)
        self.store.entries.set_state(entry_id, state, expect=EntryState.MERGED, reason=reason)

    def holder_of_entry(self, entry_id: int) -> bool:
        with self.store.engine.connect() as conn:
            return conn.execute(select(posts.c.id).where(posts.c.entry_id == entry_id)
                                .where(posts.c.lang == self.config.site.language)).first() is not None

    # -- an editor's corrections --------------------------------------------------------------------------

    def split(self, entry_id: int) -> tuple[int, int | None]:
        """The entry leaves its story; returns (its new story, the old one). A merged entry is translated again."""
        old = self.index.story_of(entry_id)
        old_primary = self.primary_of(old) if old is not None else None
        was_merged = (row := self.store.entries.get(entry_id)) is not None and row.state is EntryState.MERGED
        new = self.index.split(entry_id)
        self.index.set_primary(new, entry_id)
        if was_merged:
            self.reopen(entry_id, f"split from story {old} by an editor: published on its own")
        self.recredit(entry_id)  # its page no longer credits the others
        if old is not None:
            if old_primary == entry_id or old_primary is None:
                self.promote(old)
            elif old_primary is not None:
                self.recredit(old_primary)  # one source fewer to credit
        return new, old

    def merge(self, entry_a: int, entry_b: int) -> int:
        """B's story joins A's: B's members that are not published yet are merged into A's story's primary."""
        story = self.index.merge(entry_a, entry_b)
        primary = self.primary_of(story)
        if primary is None:
            primary = self.promote(story)
        for member in self.index.members(story):
            row = self.store.entries.get(member)
            if row is None or member == primary or self.version(row).mode == "separate":
                continue
            if row.state in (*NOT_TRANSLATED, EntryState.TRANSLATED, EntryState.HELD):
                self.store.entries.set_state(member, EntryState.MERGED,
                                             error=f"merged into story {story} by an editor: entry {primary} is "
                                                   "published, crediting this source")
        if primary is not None:
            self.recredit(primary)
        return story

    def promote(self, story_id: int) -> int | None:
        """A story that lost its primary gets the best of its merged members, sent back to translation."""
        candidates = [row for member in self.index.members(story_id)
                      if (row := self.store.entries.get(member)) is not None]
        if not candidates:
            return None
        living = [r for r in candidates if r.state in ALIVE and self.version(r).mode == "merge"]
        merged = [r for r in candidates if r.state is EntryState.MERGED]
        pool = living or merged
        if not pool:
            return None
        best = min(pool, key=lambda r: self.version(r).weight)
        self.index.set_primary(story_id, best.id)
        if best.state is EntryState.MERGED:
            self.reopen(best.id, f"story {story_id} lost its published entry: this one is published instead")
        else:
            self.recredit(best.id)
        return best.id
