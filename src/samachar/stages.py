"""The pipeline as data: one table of stages, and the one failure policy they all follow.

Each row of :data:`STAGES` says which state a stage takes entries from, its
function (data in, data out: it does no I/O beyond the client or translator
it is handed), the states it moves entries to, and what each class of error
does to an entry. ``load`` reads what the function needs from the store and
``save`` stores what it made, one transaction per entry; the runner
(:class:`samachar.pipeline.Pipeline`) reads the table top to bottom and knows
nothing about any one stage::

    stage      takes       function                          moves to              on a permanent error
    poll       sources     sources.poll.poll_many            new                   the source's own backoff
    fetch      new         fetch_page (concurrent)           fetched               the feed's content, else failed
    extract    fetched     extract_page (extract.entry)      extracted             the feed's content, else failed
    filter     extracted   apply_filters (filters)           extracted | filtered  failed
    cluster    extracted   stories.policy.decide             extracted | merged    on alone (extracted)
    translate  extracted   translate_group (batched)         translated | held     failed
    publish    translated  post_title, images before, index  published             failed

The failure policy (:func:`classify`, then the stage's ``on_error``):

* **temporary** (timeouts, 5xx, 429, robots.txt unreachable, an engine
  outage): the entry stays, the attempt is counted and it is tried again
  after a backoff (10, 20, 40… minutes); after :data:`MAX_ATTEMPTS` it is
  treated as permanent;
* **permanent** (4xx, a blocked address, robots.txt disallows, over the
  size cap, no article body): the stage's fallback, else ``failed`` with the
  reason;
* **configuration** (no engine for the pair, a bad option or filter): the
  entry waits untouched and the run says why (``RunReport.waiting``);
* **unexpected** (any other exception: a bug, a broken install): the entry
  stays retryable (attempt counted, backoff, never failed for it), the
  traceback is logged once per kind and run, and the run counts it
  (``RunReport.unexpected``).

An entry a stage could not handle goes no further in that run, so a later
stage never skips over an earlier one's trouble (filters before translation).
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from samachar.errors import (
    BlockedAddress,
    ConfigError,
    ExtractionError,
    FeedError,
    FetchError,
    HTTPStatusError,
    PairNotInstalled,
    RobotsDisallowed,
    SamacharError,
    TargetError,
    TooLarge,
    TranslationError,
    one_line,
)
from samachar.model import (
    Article,
    EntryState,
    FeedEntry,
    PollOutcome,
    TranslatedArticle,
)

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.fetch import HttpClient
    from samachar.filters import Candidate, FilterRules
    from samachar.store import Store
    from samachar.store.entries import EntryRow
    from samachar.store.sources import SourceRow

log = logging.getLogger("samachar.pipeline")

MAX_ATTEMPTS = 5  # temporary failures of one entry in one stage before they count as permanent
RETRY_BASE = timedelta(minutes=10)  # backoff after the n-th failure: 10, 20, 40, 80 minutes…
MAX_RETRY_WAIT = timedelta(days=1)  # …but never more than a day (an unexpected error is retried forever)
ARTICLE_CONCURRENCY = 8
IMAGE_CONCURRENCY = 8


# -- the failure policy --------------------------------------------------------------------------

class ErrorClass(str, Enum):
    TEMPORARY = "temporary"
    PERMANENT = "permanent"
    CONFIGURATION = "configuration"
    UNEXPECTED = "unexpected"


class Treatment(str, Enum):
    BACKOFF = "backoff"  # state kept, attempt counted, tried after the backoff; out of attempts: as permanent
    FALLBACK = "fallback"  # the stage's fallback (which may still end failed)
    FAIL = "fail"  # failed, with the reason
    WAIT = "wait"  # untouched; the run reports why
    RETRY = "retry"  # state kept, attempt counted, backoff, never failed; traceback logged once per kind


class NoLink(FetchError):
    """The feed entry has no link: there is no page to fetch, now or later."""


def classify(error: BaseException) -> ErrorClass:
    """The class of an error, the same for every stage."""
    if isinstance(error, (PairNotInstalled, ConfigError)):  # RuntimeMissing is a PairNotInstalled
        return ErrorClass.CONFIGURATION
    if isinstance(error, (BlockedAddress, RobotsDisallowed, TooLarge, NoLink, ExtractionError)):
        return ErrorClass.PERMANENT
    if isinstance(error, HTTPStatusError):
        permanent = 400 <= error.status < 500 and error.status not in (408, 425, 429)
        return ErrorClass.PERMANENT if permanent else ErrorClass.TEMPORARY
    if isinstance(error, (FetchError, FeedError, TranslationError, TargetError, TimeoutError, OSError)):
        return ErrorClass.TEMPORARY  # RobotsUnavailable, timeouts, refused connections, an engine outage
    if isinstance(error, SamacharError):
        return ErrorClass.PERMANENT  # raised on purpose about this input: waiting will not change it
    return ErrorClass.UNEXPECTED


STANDARD_POLICY: Mapping[ErrorClass, Treatment] = {
    ErrorClass.TEMPORARY: Treatment.BACKOFF,
    ErrorClass.PERMANENT: Treatment.FAIL,
    ErrorClass.CONFIGURATION: Treatment.WAIT,
    ErrorClass.UNEXPECTED: Treatment.RETRY,
}
FEED_FALLBACK_POLICY: Mapping[ErrorClass, Treatment] = {**STANDARD_POLICY, ErrorClass.PERMANENT: Treatment.FALLBACK}


def ready(entry: EntryRow, now: datetime) -> bool:
    """Whether an entry that failed in its stage has waited out its backoff."""
    if not entry.attempts or entry.updated_at is None:
        return True
    wait: timedelta = min(RETRY_BASE * 2 ** min(entry.attempts - 1, 16), MAX_RETRY_WAIT)
    due: datetime = entry.updated_at + wait
    return due <= now


# -- what a run reports ---------------------------------------------------------------------------

@dataclass
class RunReport:
    """What one run did: sources polled, entries moved into each state, and why some could not move."""

    polled: int = 0
    poll_errors: int = 0
    new_entries: int = 0
    fetched: int = 0
    extracted: int = 0
    filtered: int = 0
    merged: int = 0  # reports of a story already being published: credited on its page, not translated
    translated: int = 0
    held: int = 0
    published: int = 0
    failed: int = 0
    waiting: list[str] = field(default_factory=list)  # why some entries could not move on
    skipped: list[str] = field(default_factory=list)  # sources another live process is polling
    unexpected: Counter[str] = field(default_factory=Counter)  # "stage: ExceptionType" → entries kept for retry

    def count(self, state: EntryState) -> None:
        """One more entry moved into ``state`` (a state without a counter, like ``new``, is not counted)."""
        if isinstance(getattr(self, state.value, None), int):
            setattr(self, state.value, getattr(self, state.value) + 1)

    def summary(self) -> str:
        text = (f"polled {self.polled} sources ({self.poll_errors} errors), {self.new_entries} new entries, "
                f"{self.fetched} pages fetched, {self.extracted} extracted, {self.filtered} filtered, "
                f"{self.merged} merged into stories, "
                f"{self.translated} translated, {self.held} held for review, {self.published} published, "
                f"{self.failed} failed")
        if self.unexpected:
            text += f", {sum(self.unexpected.values())} unexpected errors (kept for retry)"
        return text

    def unexpected_lines(self) -> list[str]:
        """One line per kind of unexpected error: the entries it touched stay where they were."""
        return [f"{kind} in {count} {'entry' if count == 1 else 'entries'}; they are retried later "
                "(the traceback is in the log)" for kind, count in self.unexpected.most_common()]


# -- the table's shape ---------------------------------------------------------------------------

class Mode(str, Enum):
    """How the runner calls a stage's function."""

    SOURCES = "sources"  # function(client, source states, now, on_outcome=save): polls sources, not entries
    CONCURRENT = "concurrent"  # await function(client, data) for many entries at once over the run's client
    EACH = "each"  # function(data), one entry after another
    BATCHED = "batched"  # function(translator, group, [data]): entries of one group share calls


SKIP = object()  # what ``load`` returns for an entry the stage has nothing to do with


class Rewind(Exception):
    """The entry's stored input is gone (a lost page or article): it goes back to ``state`` to be redone."""

    def __init__(self, state: EntryState, reason: str):
        super().__init__(reason)
        self.state = state
        self.reason = reason


@dataclass(frozen=True)
class Stage:
    name: str
    takes: EntryState | None  # None: the stage works on sources, not entries
    function: Callable[..., Any]
    moves_to: frozenset[EntryState]
    on_error: Mapping[ErrorClass, Treatment]
    fails_as: str  # how an error reads on the entry: "<fails_as>: <error>"
    mode: Mode = Mode.EACH
    load: Callable[[StageContext, EntryRow], Any] | None = None
    # (ctx, entry, result) → the new state, None: unchanged; poll: (ctx, outcomes) → one PollStored each
    save: Callable[..., Any] | None = None
    fallback: Callable[[StageContext, EntryRow, str], tuple[EntryState, str]] | None = None
    fallback_to: frozenset[EntryState] = frozenset()
    group: Callable[[StageContext, EntryRow, Any], str] | None = None
    batch_size: Callable[[Config], int] | None = None
    before: Callable[[StageContext, list[EntryRow]], Awaitable[None] | None] | None = None  # with the due ones
    after: Callable[[StageContext, list[EntryRow]], None] | None = None  # with those it moved; every run
    label: str | None = None  # the progress bar's title


@dataclass
class StageContext:
    """What one run hands its stages: the store, the config, the run's HTTP client and translator, the time."""

    store: Store
    config: Config
    translator: Translator
    now: datetime
    client: HttpClient | None = None
    held_back: set[int] = field(default_factory=set)  # entries a stage could not handle: no further this run
    _sources: dict[int, SourceRow | None] = field(default_factory=dict)
    _rules: dict[int, FilterRules] = field(default_factory=dict)

    def source(self, entry: EntryRow) -> SourceRow | None:
        if entry.source_id is None:
            return None
        if entry.source_id not in self._sources:
            self._sources[entry.source_id] = self.store.sources.get(entry.source_id)
        return self._sources[entry.source_id]

    def feed_title(self, entry: EntryRow) -> str | None:
        source = self.source(entry)
        return (source.feed_title or source.name) if source else None

    def rules(self, entry: EntryRow) -> FilterRules:
        """The entry's source's filters, read and checked once per run (a bad rule: ConfigError)."""
        from samachar.filters import FilterRules

        source = self.source(entry)
        if source is None:
            return FilterRules()
        if source.id not in self._rules:
            try:
                self._rules[source.id] = FilterRules.from_json(source.filters)
            except ConfigError as exc:
                raise ConfigError(f"the filters of source {source.id} cannot be used: {exc}; fix them with "
                                  f"'samachar source filter {source.id}'") from None
        return self._rules[source.id]


class Translator:
    """The engines of a site, one per language pair and kept between runs, with its memory and glossary."""

    def __init__(self, store: Store, config: Config, engine_names: list[str] | None = None):
        self.store = store
        self.config = config
        self.engine_names = engine_names or config.translation.engines
        self._engines: dict[tuple[str, str], Any] = {}

    def engine_for(self, source: str, target: str) -> Any:
        from samachar.translate.select import resolve_engine

        key = (source, target)
        if key not in self._engines:
            self._engines[key] = resolve_engine(self.engine_names, source, target,
                                                models_dir=self.config.models_dir,
                                                options=self.config.translation.options or None)
        return self._engines[key]

    def translate(self, article: Article, source: str, target: str) -> TranslatedArticle:
        return self.translate_many([article], source, target)[0]

    def translate_many(self, articles: list[Article], source: str, target: str) -> list[TranslatedArticle]:
        """Articles of one language pair, their new sentences sharing engine calls."""
        from samachar.translate.document import translate_articles
        from samachar.translate.memory import SqlTranslationMemory

        if source == target:
            return [TranslatedArticle(title=a.title, blocks=a.blocks, source_lang=source, target_lang=target,
                                      engine="none", summary=a.summary) for a in articles]
        from samachar.store.activity import record_engine_usage
        from samachar.translate.document import EngineUsage

        engine = self.engine_for(source, target)
        usage: dict[str, EngineUsage] = {}
        try:
            return translate_articles(articles, engine, source, target,
                                      memory=SqlTranslationMemory(self.store.engine),
                                      glossary=self.store.glossary.terms(target) or None, usage=usage)
        finally:  # what the engines were sent, for the dashboard: a failed batch cost them all the same
            if usage:
                try:
                    record_engine_usage(self.store.engine, usage, source, target)
                except Exception:  # the figures are not worth a translation
                    log.exception("engine usage not recorded for %s→%s", source, target)


# -- poll: sources → new entries -----------------------------------------------------------------

@dataclass
class PollStored:
    new_entries: int
    failed: bool


def store_poll(ctx: StageContext, outcome: PollOutcome) -> PollStored:
    """Store one source's poll on its own (when :func:`store_polls` could not): entries, then outcome.

    Entries before the new ETag: if storing fails, the next poll fetches the feed
    again instead of being told "not modified". The parsed feed is dropped here,
    so memory stays flat over thousands of feeds.
    """
    from samachar.sources.identity import entry_identity

    new_ids: list[int] = []
    feed, outcome.feed = outcome.feed, None
    if feed is not None:
        try:
            items: list[tuple[FeedEntry, object]] = [(e, entry_identity(e, outcome.source_id)) for e in feed.entries]
            new_ids = ctx.store.entries.add_many(outcome.source_id, items)
        except Exception as exc:  # the database, not the feed: retry soon, validators unchanged
            log.exception("storing entries failed source_id=%s", outcome.source_id)
            outcome = PollOutcome(source_id=outcome.source_id, status="error",
                                  next_poll_at=ctx.now + timedelta(minutes=5),
                                  error=f"entries could not be stored: {one_line(exc)}",
                                  error_count=outcome.error_count + 1)
        else:
            log.info("polled source_id=%s entries=%d new=%d", outcome.source_id, len(feed.entries), len(new_ids))
    ctx.store.sources.record_poll(outcome, ctx.now, feed=feed)
    failed = outcome.status in ("error", "gone")
    if failed:
        log.warning("poll failed source_id=%s: %s", outcome.source_id, outcome.error)
    elif feed is None:
        log.info("polled source_id=%s not modified", outcome.source_id)
    return PollStored(new_entries=len(new_ids), failed=failed)


def store_polls(ctx: StageContext, outcomes: list[PollOutcome]) -> list[PollStored]:
    """Store the polls that came back meanwhile, entries and outcomes, in one transaction.

    One commit for many feeds instead of two per feed (300 for 150 feeds, each a disk
    sync under SQLite's FULL, a WAL flush on PostgreSQL). A feed's entries and its
    new ETag commit together, so neither survives without the other. Should the
    transaction fail, each poll is stored on its own (:func:`store_poll`): one feed's
    trouble costs only that feed. Identities are computed before the transaction,
    so the database is held no longer than the statements take.
    """
    import gc

    from samachar.sources.identity import entry_identity

    def identified(outcome: PollOutcome) -> list[tuple[FeedEntry, object]] | None:
        return None if outcome.feed is None else [(e, entry_identity(e, outcome.source_id))
                                                  for e in outcome.feed.entries]

    # Storing allocates some ten objects per entry (identity, probe, row, parameters), all freed by
    # reference counting; full collections walking them meanwhile cost 0.1 s of a 10,000-item feed.
    # So no cyclic collection (in the whole process) while a batch is stored; it catches up after.
    collecting = gc.isenabled()
    gc.disable()
    try:
        prepared = [(outcome, identified(outcome)) for outcome in outcomes]
        with ctx.store.engine.begin() as conn:
            new_ids = [ctx.store.entries.add_many(outcome.source_id, items, conn=conn) if items else []
                       for outcome, items in prepared]
            for outcome, _ in prepared:
                ctx.store.sources.record_poll(outcome, ctx.now, conn=conn)
    except Exception as exc:  # noqa: BLE001 - each on its own says which feed, and stores the others
        log.warning("storing %d polls at once failed (%s); storing them one by one", len(outcomes), one_line(exc))
        return [store_poll(ctx, outcome) for outcome in outcomes]
    finally:
        if collecting:
            gc.enable()
    stored = []
    for (outcome, items), ids in zip(prepared, new_ids, strict=True):
        outcome.feed = None  # memory stays flat over thousands of feeds
        failed = outcome.status in ("error", "gone")
        if failed:
            log.warning("poll failed source_id=%s: %s", outcome.source_id, outcome.error)
        elif items is None:
            log.info("polled source_id=%s not modified", outcome.source_id)
        else:
            log.info("polled source_id=%s entries=%d new=%d", outcome.source_id, len(items), len(ids))
        stored.append(PollStored(new_entries=len(ids), failed=failed))
    return stored


# -- fetch: new → fetched ------------------------------------------------------------------------

@dataclass
class PageRequest:
    url: str
    robots: bool


@dataclass
class Page:
    url: str  # after redirects
    html: str


def _page_request(ctx: StageContext, entry: EntryRow) -> PageRequest:
    if not entry.url:
        raise NoLink("entry has no link")
    return PageRequest(entry.url, ctx.config.fetch.respect_robots)


async def fetch_page(client: HttpClient, request: PageRequest) -> Page:
    """The article's page, through the run's client (SSRF guard, robots.txt, per-host politeness)."""
    result = await client.fetch(request.url, robots=request.robots)
    return Page(result.url, result.text())


def _save_page(ctx: StageContext, entry: EntryRow, page: Page) -> EntryState:
    ctx.store.entries.save_page(entry.id, page.url, page.html)
    log.info("fetched entry_id=%d source_id=%s url=%s", entry.id, entry.source_id, page.url)
    return EntryState.FETCHED


def feed_content_fallback(ctx: StageContext, entry: EntryRow, reason: str) -> tuple[EntryState, str]:
    """The page cannot be had (or has no body): the feed's own content becomes the article, if it has any."""
    from samachar.extract.entry import article_from_entry, has_feed_content

    feed_entry = entry.feed_entry()
    if not has_feed_content(feed_entry):
        ctx.store.entries.set_state(entry.id, EntryState.FAILED, error=reason)
        return EntryState.FAILED, reason
    try:
        article = article_from_entry(feed_entry, feed_title=ctx.feed_title(entry))
    except ExtractionError as exc:
        reason = f"{reason}; feed content unusable: {one_line(exc)}"
        ctx.store.entries.set_state(entry.id, EntryState.FAILED, error=reason)
        return EntryState.FAILED, reason
    note = f"{reason}; used the feed's content"
    ctx.store.articles.save(entry.id, article, note=note)
    log.info("extracted entry_id=%d source_id=%s from feed content (%s)", entry.id, entry.source_id, note)
    return EntryState.EXTRACTED, note


# -- extract: fetched → extracted ----------------------------------------------------------------

@dataclass
class PageToExtract:
    entry: FeedEntry
    url: str
    html: str
    feed_title: str | None


def _page_to_extract(ctx: StageContext, entry: EntryRow) -> PageToExtract:
    page = ctx.store.entries.page(entry.id)
    if page is None:
        raise Rewind(EntryState.NEW, "page lost; fetching again")
    return PageToExtract(entry.feed_entry(), page[0], page[1], ctx.feed_title(entry))


def extract_page(page: PageToExtract) -> tuple[Article, str | None]:
    from samachar.extract.entry import article_from_page

    return article_from_page(page.entry, page.url, page.html, feed_title=page.feed_title)


def _save_article(ctx: StageContext, entry: EntryRow, made: tuple[Article, str | None]) -> EntryState:
    article, note = made
    ctx.store.articles.save(entry.id, article, note=note)
    log.info("extracted entry_id=%d source_id=%s blocks=%d", entry.id, entry.source_id, len(article.blocks))
    return EntryState.EXTRACTED


# -- filter: extracted → extracted | filtered ----------------------------------------------------

@dataclass
class FilterCase:
    rules: FilterRules
    candidate: Candidate
    now: datetime


def _filter_case(ctx: StageContext, entry: EntryRow) -> FilterCase | object:
    from samachar.filters import Candidate

    rules = ctx.rules(entry)
    if rules.is_empty() or ctx.store.entries.was_released(entry.id):
        return SKIP
    article = ctx.store.articles.get(entry.id)
    if article is None:
        return SKIP  # the translate stage extracts it again
    return FilterCase(rules, Candidate.of(article, entry.feed_entry()), ctx.now)


def apply_filters(case: FilterCase) -> str | None:
    from samachar.filters import first_match

    return first_match(case.rules, case.candidate, case.now)


def _save_verdict(ctx: StageContext, entry: EntryRow, matched: str | None) -> EntryState | None:
    if matched is None:
        return None
    reason = f"filtered by the source's rules: {matched}"
    ctx.store.entries.set_state(entry.id, EntryState.FILTERED, error=reason, expect=EntryState.EXTRACTED)
    log.info("filtered entry_id=%d source_id=%s: %s", entry.id, entry.source_id, matched)
    return EntryState.FILTERED


# -- cluster: extracted → extracted | merged -----------------------------------------------------

def _place_due(ctx: StageContext, entries: list[EntryRow]) -> None:
    """The round's entries placed in their stories in one transaction, in the order they were published."""
    from samachar.stories.policy import story_index, story_item

    items = []
    for entry in entries:
        article = ctx.store.articles.get(entry.id)
        if article is not None:
            items.append(story_item(entry, article, _source_language(ctx, entry, article), ctx.now))
    if not items:
        return
    try:
        story_index(ctx.store, ctx.config).place_many(sorted(items, key=lambda item: (item.published, item.entry_id)))
    except Exception as exc:  # each entry is placed again on its own, and its error dealt with there
        log.warning("placing %d entries in their stories at once failed (%s); placing them one by one",
                    len(items), one_line(exc))


def _story_case(ctx: StageContext, entry: EntryRow) -> Any:
    from samachar.stories.policy import StoryDesk, story_item

    article = ctx.store.articles.get(entry.id)
    if article is None:
        return SKIP  # the translate stage extracts it again
    desk = StoryDesk(ctx.store, ctx.config)
    placement = desk.index.place(story_item(entry, article, _source_language(ctx, entry, article), ctx.now))
    return desk.case(entry, article, placement)


def _decide_story(case: Any) -> Any:
    from samachar.stories.policy import decide

    return decide(case)


def _save_story(ctx: StageContext, entry: EntryRow, decision: Any) -> EntryState | None:
    from samachar.stories.policy import StoryDesk

    return StoryDesk(ctx.store, ctx.config).apply(entry, decision)


def translated_alone(ctx: StageContext, entry: EntryRow, reason: str) -> tuple[EntryState, str]:
    """The entry cannot be placed in a story: it is translated and published on its own, as before stories."""
    said = f"{reason}; translated on its own"
    log.warning("entry_id=%d source_id=%s: %s", entry.id, entry.source_id, said)
    return EntryState.EXTRACTED, said


# -- translate: extracted → translated | held ----------------------------------------------------

def _article_to_translate(ctx: StageContext, entry: EntryRow) -> Article:
    article = ctx.store.articles.get(entry.id)
    if article is None:
        state = EntryState.FETCHED if ctx.store.entries.page(entry.id) else EntryState.NEW
        raise Rewind(state, "article lost; extracting again")
    return article


def _source_language(ctx: StageContext, entry: EntryRow, article: Article) -> str:
    from samachar.translate.language import source_language

    source = ctx.source(entry)
    return source_language(source.language if source else None, article.language,
                           ctx.config.translation.source_language)


def translate_group(translator: Translator, source: str, articles: list[Article]) -> list[TranslatedArticle]:
    return translator.translate_many(articles, source, translator.config.site.language)


def review_reason(translated: TranslatedArticle) -> str | None:
    """Why a translation waits for a reviewer (its QA errors), or None."""
    errors = [f for f in translated.flags if f.severity == "error"]
    if not errors:
        return None
    reason = "held for review: " + "; ".join(f"{f.check}: {f.message}" for f in errors[:3])
    return reason + (f" (+{len(errors) - 3} more)" if len(errors) > 3 else "")


def _save_translation(ctx: StageContext, entry: EntryRow, translated: TranslatedArticle) -> EntryState:
    reason = review_reason(translated) if ctx.config.translation.hold_on_error else None
    if reason:
        ctx.store.translations.save(entry.id, translated, state=EntryState.HELD, reason=reason)
        log.warning("held entry_id=%d source_id=%s: %s", entry.id, entry.source_id, reason)
        return EntryState.HELD
    ctx.store.translations.save(entry.id, translated, state=EntryState.TRANSLATED)
    log.info("translated entry_id=%d source_id=%s engine=%s %s→%s flags=%d", entry.id, entry.source_id,
             translated.engine, translated.source_lang, translated.target_lang, len(translated.flags))
    return EntryState.TRANSLATED


# -- publish: translated → published -------------------------------------------------------------

def _titles(ctx: StageContext, entry: EntryRow) -> tuple[str | None, str] | object:
    from samachar.editorial import publish_due

    if not publish_due(ctx.store, entry.id, ctx.now):
        return SKIP  # approved for a later time (the desk's "publish at"): a run after it publishes it
    article = ctx.store.articles.get(entry.id)
    return (article.title if article else None), entry.title


def post_title(titles: tuple[str | None, str]) -> str:
    """The title the post's slug is made from: the article's, else the feed entry's."""
    article_title, entry_title = titles
    return article_title or entry_title


def _save_post(ctx: StageContext, entry: EntryRow, title: str) -> EntryState | None:
    """The site's post (its slug, once); an entry published before is back with a new translation."""
    lang = ctx.config.site.language
    if ctx.store.posts.publish(entry.id, lang, title):
        log.info("published entry_id=%d source_id=%s lang=%s", entry.id, entry.source_id, lang)
    else:
        log.info("republished entry_id=%d source_id=%s lang=%s (a new translation)", entry.id, entry.source_id, lang)
    return EntryState.PUBLISHED


_BACKFILLED: set[str] = set()  # stores whose pre-v3 articles' images were looked for by this process


async def store_images(ctx: StageContext, entries: list[EntryRow]) -> None:
    """Keep the images of articles about to be published, when the site serves its own (``images = "local"``).

    Fetched concurrently through the run's guarded client (SSRF guard,
    robots.txt, a 5 MiB cap), checked from their bytes and stored as each
    arrives. One that cannot be had is recorded with its reason and left out
    of the site; the article is published all the same. A site published
    before images were stored gets its published articles' images too.
    """
    if ctx.config.site.images != "local" or ctx.client is None:
        return
    from samachar.images import MAX_IMAGE_BYTES, article_image_urls, fetch_image

    store = ctx.store
    if store.url not in _BACKFILLED and store.images.revision()[0] == 0:
        # Articles published before images were stored (schema v3) get theirs: once per process.
        _BACKFILLED.add(store.url)
        older = set(store.posts.published_before_version(3))
        known = {e.id for e in entries}
        entries = entries + [e for e in store.entries.in_state(EntryState.PUBLISHED)
                             if e.id in older and e.id not in known]
    urls: list[str] = []
    for entry in entries:
        article = store.articles.get(entry.id)
        urls.extend(article_image_urls(article) if article else [])
    wanted = store.images.wanted(urls)
    if not wanted:
        return
    robots = ctx.config.fetch.respect_robots
    client = ctx.client

    def keep(url: str, image: Any, error: BaseException | None) -> None:
        if image is not None:
            stored = store.images.save(url, image)
            log.info("stored image %s as %s (%s, %sx%s)", url, stored.name, stored.content_type,
                     stored.width, stored.height)
        else:
            store.images.save_error(url, one_line(error) if error else "not fetched")
            log.warning("image not stored, left out of the site: %s: %s", url, one_line(error) if error else "")

    semaphore = asyncio.Semaphore(IMAGE_CONCURRENCY)

    async def one(url: str) -> None:
        async with semaphore:
            try:
                outcome: tuple[Any, BaseException | None] = (await fetch_image(client, url, robots=robots), None)
            except (SamacharError, TimeoutError, OSError) as exc:
                outcome = (None, exc)
        try:
            keep(url, *outcome)
        except Exception:  # one image's trouble never stops the others, nor the publishing
            log.exception("storing the image failed url=%s", url)

    # The run's client, capped at the image size while images are fetched (no page fetch runs meanwhile).
    cap, client.max_bytes = client.max_bytes, min(client.max_bytes, MAX_IMAGE_BYTES)
    try:
        await asyncio.gather(*(one(u) for u in wanted))
    finally:
        client.max_bytes = cap
    log.info("images: %d wanted, fetched for %d articles", len(wanted), len(entries))


def _index_published(ctx: StageContext, published: list[EntryRow]) -> None:
    """Search indexing is part of publishing; every run also mends what a killed one left out of the index."""
    from samachar.service import SiteService

    service = SiteService(ctx.store, ctx.config)
    if published:
        service.index_for_search([e.id for e in published])
    service.reconcile_search()


def deliver(ctx: StageContext, published: list[EntryRow]) -> None:
    """Every publish target gets what the site published, and what it could not take before.

    Besides this run's entries: those a target failed or never confirmed (retried
    after their backoff) and those published before the target was configured.
    Unchanged articles are not sent again (:func:`samachar.publish.targets.publish_to_targets`).
    """
    from samachar.publish.targets import load_targets, publish_to_targets, routed_away

    _index_published(ctx, published)
    lang = ctx.config.site.language
    targets = load_targets(ctx.store, ctx.config)
    ours = {e.id for e in published}  # this run's: already ours (one run per home, or a worker's lease)
    others: set[int] = set()
    for target in targets:
        waiting = ctx.store.publications.unfinished(target.name, lang) + ctx.store.publications.never_sent(
            target.name, lang)
        others.update(set(waiting) - routed_away(ctx.store, target.name, waiting))  # per-source targets
    # Older entries are leased before they are sent, so two workers never push the same post at once.
    leases = ctx.store.entries.leases
    extra = leases.claim(sorted(others - ours), ctx.now).claimed if others - ours else []
    try:
        ids = sorted(ours | set(extra))
        if not ids:
            return
        articles = ctx.store.posts.published_articles(lang, default_policy=ctx.config.default_policy,
                                                       excerpt_words=ctx.config.excerpt_words, entry_ids=ids)
        report = publish_to_targets(targets, articles, ctx.store, now=ctx.now)
    finally:
        if extra:
            leases.release(extra)
    _deliver_held(ctx, [t for t in targets if getattr(t, "publish_held", False)], lang)
    for name, failures in report.failed.items():
        log.warning("target %s: %d posts not published this run (retried later): %s", name, len(failures),
                    failures[0])


def _deliver_held(ctx: StageContext, targets: list[Any], lang: str) -> None:
    """Held entries go to the targets that take them for review (WordPress ``held = "pending"``).

    Approval later publishes them as any other entry: the article is no longer
    ``held``, so its revision changes and every target updates its post.
    """
    from samachar.publish.targets import publish_to_targets

    if not targets:
        return
    held = [e.id for e in ctx.store.entries.in_state(EntryState.HELD)]
    if not held:
        return
    leases = ctx.store.entries.leases
    claimed = leases.claim(held, ctx.now).claimed
    try:
        articles = ctx.store.posts.held_articles(lang, claimed, default_policy=ctx.config.default_policy,
                                                 excerpt_words=ctx.config.excerpt_words)
        publish_to_targets(targets, articles, ctx.store, now=ctx.now)
    finally:
        leases.release(claimed)


# -- the table -----------------------------------------------------------------------------------

def _poll_many(*args: Any, **kwargs: Any) -> Any:
    from samachar.sources.poll import poll_many

    return poll_many(*args, **kwargs)


STAGES: tuple[Stage, ...] = (
    Stage("poll", takes=None, function=_poll_many, moves_to=frozenset({EntryState.NEW}),
          on_error={}, fails_as="poll failed", mode=Mode.SOURCES, save=store_polls, label="Polling sources"),
    Stage("fetch", takes=EntryState.NEW, function=fetch_page, moves_to=frozenset({EntryState.FETCHED}),
          on_error=FEED_FALLBACK_POLICY, fails_as="page not fetched", mode=Mode.CONCURRENT,
          load=_page_request, save=_save_page, fallback=feed_content_fallback,
          fallback_to=frozenset({EntryState.EXTRACTED, EntryState.FAILED}), label="Fetching articles"),
    Stage("extract", takes=EntryState.FETCHED, function=extract_page, moves_to=frozenset({EntryState.EXTRACTED}),
          on_error=FEED_FALLBACK_POLICY, fails_as="page not extracted", load=_page_to_extract,
          save=_save_article, fallback=feed_content_fallback,
          fallback_to=frozenset({EntryState.EXTRACTED, EntryState.FAILED}), label="Extracting"),
    Stage("filter", takes=EntryState.EXTRACTED, function=apply_filters,
          moves_to=frozenset({EntryState.EXTRACTED, EntryState.FILTERED}), on_error=STANDARD_POLICY,
          fails_as="filters not applied", load=_filter_case, save=_save_verdict),
    Stage("cluster", takes=EntryState.EXTRACTED, function=_decide_story,
          moves_to=frozenset({EntryState.EXTRACTED, EntryState.MERGED}), on_error=FEED_FALLBACK_POLICY,
          fails_as="story not placed", load=_story_case, save=_save_story, fallback=translated_alone,
          fallback_to=frozenset({EntryState.EXTRACTED}), before=_place_due, label="Grouping stories"),
    Stage("translate", takes=EntryState.EXTRACTED, function=translate_group,
          moves_to=frozenset({EntryState.TRANSLATED, EntryState.HELD}), on_error=STANDARD_POLICY,
          fails_as="translation failed", mode=Mode.BATCHED, load=_article_to_translate, save=_save_translation,
          group=_source_language, batch_size=lambda config: config.translation.batch_articles,
          label="Translating"),
    Stage("publish", takes=EntryState.TRANSLATED, function=post_title, moves_to=frozenset({EntryState.PUBLISHED}),
          on_error=STANDARD_POLICY, fails_as="not published", load=_titles, save=_save_post,
          before=store_images, after=deliver),
)


def stage(name: str) -> Stage:
    """The stage called ``name``; a name the table lacks is a one-line error."""
    for candidate in STAGES:
        if candidate.name == name:
            return candidate
    raise ConfigError(f"unknown stage {name!r}; stages: {', '.join(s.name for s in STAGES)}")
