"""The one orchestrator: sources → entries → pages → articles → translations → posts → site.

Every other module is a stage that turns data into data; this one does the
I/O between them and moves each entry through its states::

    new ─fetch─► fetched ─extract─► extracted ─translate─► translated ─publish─► published
      └──────────── page unreachable: feed content ──────►┘     └─► held (QA errors)
    any stage: failed (reason recorded) after repeated or permanent errors

Each step is idempotent and commits per entry, so a crash or a second run
loses nothing and publishes nothing twice. Temporary failures (timeouts, 5xx,
an engine outage) are retried with a per-entry backoff; permanent ones (404,
robots.txt disallows) fall back to the feed's own content or end ``failed``;
a missing engine or a configuration error leaves entries waiting, untouched.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from samachar.config import Config
from samachar.errors import (
    BlockedAddress,
    ConfigError,
    ExtractionError,
    FetchError,
    HTTPStatusError,
    PairNotInstalled,
    RobotsDisallowed,
    SamacharError,
    TooLarge,
    one_line,
)
from samachar.model import Article, PollOutcome, TranslatedArticle
from samachar.progress import QUIET, Progress
from samachar.store import Store
from samachar.store.entries import EntryRow

log = logging.getLogger("samachar.pipeline")

MAX_ATTEMPTS = 5  # temporary failures of one entry before it is given up (or falls back to the feed)
RETRY_BASE = timedelta(minutes=10)  # backoff after the n-th failure: 10, 20, 40, 80 minutes
ARTICLE_CONCURRENCY = 8


@dataclass
class RunReport:
    polled: int = 0
    poll_errors: int = 0
    new_entries: int = 0
    fetched: int = 0
    extracted: int = 0
    translated: int = 0
    held: int = 0
    published: int = 0
    failed: int = 0
    waiting: list[str] = field(default_factory=list)  # why some entries could not move on

    def summary(self) -> str:
        return (f"polled {self.polled} sources ({self.poll_errors} errors), {self.new_entries} new entries, "
                f"{self.fetched} pages fetched, {self.extracted} extracted, {self.translated} translated, "
                f"{self.held} held for review, {self.published} published, {self.failed} failed")


def _is_permanent(error: BaseException) -> bool:
    """A page that will not come back by waiting: blocked, disallowed, over the size cap, 4xx (but 408/429)."""
    if isinstance(error, (BlockedAddress, RobotsDisallowed, TooLarge)):
        return True
    return isinstance(error, HTTPStatusError) and 400 <= error.status < 500 and error.status not in (408, 425, 429)


def _ready(entry: EntryRow, now: datetime) -> bool:
    """Whether an entry that failed before has waited out its backoff."""
    if not entry.attempts or entry.updated_at is None:
        return True
    return entry.updated_at + RETRY_BASE * (2 ** (entry.attempts - 1)) <= now


class Pipeline:
    def __init__(self, store: Store, config: Config, *, progress: Progress = QUIET,
                 allow_private: bool | None = None, engines: list[str] | None = None):
        self.store = store
        self.config = config
        self.progress = progress
        self.allow_private = config.allow_private_networks if allow_private is None else allow_private
        self.engine_names = engines or config.translation.engines
        self._engines: dict[tuple[str, str], object] = {}

    # -- polling ---------------------------------------------------------------------------------

    def _client(self):
        from samachar.fetch import HttpClient

        fetch = self.config.fetch
        return HttpClient(allow_private=self.allow_private, user_agent=fetch.user_agent, timeout=fetch.timeout,
                          max_bytes=fetch.max_bytes, per_host=fetch.per_host, host_interval=fetch.host_interval)

    def poll(self, report: RunReport | None = None, *, now: datetime | None = None) -> RunReport:
        """Fetch and parse every due source once; store new entries and each source's outcome."""
        from samachar.sources.identity import entry_identity
        from samachar.sources.poll import poll_many

        report = report or RunReport()
        now = now or datetime.now(timezone.utc)
        due = [s for s in self.store.sources.due(now) if self.store.sources.acquire(s.id, now)]
        if not due:
            return report

        def store_outcome(outcome) -> None:
            # Stored as each source answers, then dropped: memory stays flat with thousands of feeds.
            # Entries are stored before the source's new ETag: if storing fails, the next poll
            # fetches the feed again instead of being told "not modified".
            report.polled += 1
            advance(1)
            feed, outcome.feed = outcome.feed, None
            if feed is not None:
                try:
                    items = [(e, entry_identity(e, outcome.source_id)) for e in feed.entries]
                    new_ids = self.store.entries.add_many(outcome.source_id, items)
                except Exception as exc:  # the database, not the feed: retry soon, validators unchanged
                    log.exception("storing entries failed source_id=%s", outcome.source_id)
                    outcome = PollOutcome(source_id=outcome.source_id, status="error",
                                          next_poll_at=now + timedelta(minutes=5),
                                          error=f"entries could not be stored: {one_line(exc)}",
                                          error_count=outcome.error_count + 1)
                else:
                    report.new_entries += len(new_ids)
                    log.info("polled source_id=%s entries=%d new=%d", outcome.source_id, len(feed.entries),
                             len(new_ids))
            self.store.sources.record_poll(outcome, now, feed=feed)
            if outcome.status in ("error", "gone"):
                report.poll_errors += 1
                log.warning("poll failed source_id=%s: %s", outcome.source_id, outcome.error)
            elif feed is None:
                log.info("polled source_id=%s not modified", outcome.source_id)

        async def poll_all():
            async with self._client() as client:
                await poll_many(client, [s.state() for s in due], now, on_outcome=store_outcome)

        try:
            with self.progress.stage("Polling sources", len(due)) as advance:
                asyncio.run(poll_all())
        finally:
            for source in due:
                self.store.sources.release(source.id)
        return report

    # -- article pages ---------------------------------------------------------------------------

    def fetch_pages(self, report: RunReport) -> None:
        """Fetch each new entry's page; each page is stored as it arrives."""
        now = datetime.now(timezone.utc)
        pending = [e for e in self.store.entries.in_state("new") if _ready(e, now)]
        if not pending:
            return
        robots = self.config.fetch.respect_robots

        async def fetch_all(advance):
            semaphore = asyncio.Semaphore(ARTICLE_CONCURRENCY)
            async with self._client() as client:
                async def one(entry: EntryRow):
                    async with semaphore:
                        try:
                            if not entry.url:
                                raise FetchError("entry has no link")
                            result = await client.fetch(entry.url, robots=robots)
                            outcome = (result, None)
                        except (SamacharError, asyncio.TimeoutError, OSError) as exc:
                            outcome = (None, exc)
                    try:
                        self._store_page(entry, *outcome, report)
                    except Exception:  # one entry's trouble never stops the others
                        log.exception("storing the page failed entry_id=%d", entry.id)
                    advance(1)
                await asyncio.gather(*(one(e) for e in pending))

        with self.progress.stage("Fetching articles", len(pending)) as advance:
            asyncio.run(fetch_all(advance))

    def _store_page(self, entry: EntryRow, result, error: BaseException | None, report: RunReport) -> None:
        if result is not None:
            self.store.entries.save_page(entry.id, result.url, result.text())
            report.fetched += 1
            log.info("fetched entry_id=%d source_id=%s url=%s", entry.id, entry.source_id, result.url)
            return
        reason = f"page not fetched: {one_line(error)}"
        has_feed_content = bool(entry.content_html or entry.summary)
        if _is_permanent(error) or entry.attempts + 1 >= MAX_ATTEMPTS:
            if has_feed_content:
                self._extract_from_feed(entry, report, note=f"{reason}; used the feed's content")
            else:
                self._fail(entry, reason, report)
            return
        attempts = self.store.entries.record_error(entry.id, reason)
        log.warning("will retry entry_id=%d source_id=%s (attempt %d): %s", entry.id, entry.source_id, attempts,
                    reason)

    def _fail(self, entry: EntryRow, reason: str, report: RunReport) -> None:
        self.store.entries.set_state(entry.id, "failed", error=reason)
        report.failed += 1
        log.warning("failed entry_id=%d source_id=%s: %s", entry.id, entry.source_id, reason)

    # -- extraction ------------------------------------------------------------------------------

    def _feed_title(self, entry: EntryRow) -> str | None:
        source = self.store.sources.get(entry.source_id) if entry.source_id else None
        return (source.feed_title or source.name) if source else None

    def _extract_from_feed(self, entry: EntryRow, report: RunReport, note: str) -> None:
        from samachar.extract import article_from_feed

        try:
            article = article_from_feed(entry.feed_entry(), entry.url or "", feed_title=self._feed_title(entry))
        except ExtractionError as exc:
            self._fail(entry, f"{note.split(';')[0]}; feed content unusable: {one_line(exc)}", report)
            return
        self.store.articles.save(entry.id, self._complete(article, entry), note=note)
        report.extracted += 1
        log.info("extracted entry_id=%d source_id=%s from feed content (%s)", entry.id, entry.source_id, note)

    @staticmethod
    def _complete(article: Article, entry: EntryRow) -> Article:
        """Fill what the page did not say from the feed entry; never invent."""
        article.title = article.title or entry.title
        if not article.published:
            article.published = entry.published
        if not article.authors and entry.author:
            article.authors = [entry.author]
        if entry.categories:  # the feed's categories are tags the site shows: they are translated with the rest
            known = {t.casefold() for t in article.tags}
            article.tags = article.tags + [c for c in dict.fromkeys(entry.categories) if c.casefold() not in known]
        if article.image is None and entry.image:
            from samachar.model import Image

            article.image = Image(src=entry.image)
        return article

    SHORT_BODY_WORDS = 120

    def _prefer_fuller_body(self, article: Article, entry: EntryRow) -> tuple[Article, str | None]:
        """A page with a stub body (a video page, a teaser) loses to a much fuller feed content.

        The page's own metadata (canonical URL, publisher, dates) is kept either way.
        """
        if not entry.content_html:
            return article, None
        page_words = len(article.text.split())
        if page_words >= self.SHORT_BODY_WORDS:
            return article, None
        from samachar.extract import article_from_feed

        try:
            feed_article = article_from_feed(entry.feed_entry(), entry.url or article.url)
        except ExtractionError:
            return article, None
        feed_words = len(feed_article.text.split())
        if feed_words < 2 * max(page_words, 1):
            return article, None
        article.blocks, article.source = feed_article.blocks, "feed"
        return article, f"page body has {page_words} words; used the feed's content ({feed_words} words)"

    def extract_pending(self, report: RunReport) -> None:
        pending = self.store.entries.in_state("fetched")
        with self.progress.stage("Extracting", len(pending)) as advance:
            for entry in pending:
                advance(1)
                try:
                    self._extract_one(entry, report)
                except Exception as exc:  # one bad page never stops the run
                    log.exception("extraction crashed entry_id=%d", entry.id)
                    self._fail(entry, f"extraction failed: {one_line(exc)}", report)

    def _extract_one(self, entry: EntryRow, report: RunReport) -> None:
        from samachar.extract import extract_article

        page = self.store.entries.page(entry.id)
        if page is None:
            log.warning("page lost entry_id=%d; fetching again", entry.id)
            self.store.entries.set_state(entry.id, "new", error="page lost; fetching again")
            return
        url, html = page
        try:
            article = extract_article(html, url, feed_title=self._feed_title(entry))
        except ExtractionError as exc:
            if entry.content_html or entry.summary:
                self._extract_from_feed(entry, report,
                                        note=f"no body on the page ({one_line(exc)}); used the feed's content")
            else:
                self._fail(entry, f"no article body: {one_line(exc)}", report)
            return
        article, note = self._prefer_fuller_body(article, entry)
        self.store.articles.save(entry.id, self._complete(article, entry), note=note)
        report.extracted += 1
        log.info("extracted entry_id=%d source_id=%s blocks=%d", entry.id, entry.source_id, len(article.blocks))

    # -- translation -----------------------------------------------------------------------------

    def source_language(self, entry: EntryRow, article: Article) -> str:
        source = self.store.sources.get(entry.source_id) if entry.source_id else None
        if source and source.language:
            return source.language
        if article.language:
            return article.language.split("-")[0].split("_")[0].lower()
        return self.config.translation.source_language

    def engine_for(self, source: str, target: str):
        from samachar.translate.select import resolve_engine

        key = (source, target)
        if key not in self._engines:
            self._engines[key] = resolve_engine(self.engine_names, source, target, models_dir=self.config.models_dir,
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
        engine = self.engine_for(source, target)
        return translate_articles(articles, engine, source, target, memory=SqlTranslationMemory(self.store.engine),
                                  glossary=self.store.glossary.terms(target) or None)

    def translate_pending(self, report: RunReport) -> None:
        """Translate extracted entries, up to ``translation.batch_articles`` of one source language per batch."""
        target = self.config.site.language
        size = self.config.translation.batch_articles
        now = datetime.now(timezone.utc)
        pending = [e for e in self.store.entries.in_state("extracted") if _ready(e, now)]
        batches: dict[str, list[tuple[EntryRow, Article]]] = {}
        with self.progress.stage("Translating", len(pending)) as advance:
            for entry in pending:
                article = self.store.articles.get(entry.id)
                if article is None:
                    advance(1)
                    log.warning("article lost entry_id=%d; extracting again", entry.id)
                    self.store.entries.set_state(entry.id, "fetched" if self.store.entries.page(entry.id) else "new")
                    continue
                source = self.source_language(entry, article)
                batch = batches.setdefault(source, [])
                batch.append((entry, article))
                if len(batch) >= size:
                    self._translate_batch(batches.pop(source), source, target, report, advance)
            for source, batch in batches.items():
                self._translate_batch(batch, source, target, report, advance)

    def _translate_batch(self, batch: list[tuple[EntryRow, Article]], source: str, target: str,
                         report: RunReport, advance: Callable[[int], None]) -> None:
        try:
            results = self.translate_many([article for _, article in batch], source, target)
        except (PairNotInstalled, ConfigError) as exc:
            # Not the entries' fault: they wait, unchanged, until an engine is installed or configured.
            for entry, _ in batch:
                self.store.entries.set_state(entry.id, "extracted", error=one_line(exc))
            advance(len(batch))
            if one_line(exc) not in report.waiting:
                report.waiting.append(one_line(exc))
                log.warning("waiting for an engine: %s", one_line(exc))
            return
        except Exception as exc:  # an engine crash never stops the run
            if len(batch) > 1:
                # Find the article that breaks the engine: the others must not pay for it.
                log.warning("batch of %d articles failed (%s); translating them one by one entry_ids=%s",
                            len(batch), one_line(exc), ",".join(str(entry.id) for entry, _ in batch))
                for item in batch:
                    self._translate_batch([item], source, target, report, advance)
                return
            entry = batch[0][0]
            reason = f"translation failed: {one_line(exc)}"
            log.warning("translate error entry_id=%d source_id=%s: %s", entry.id, entry.source_id, reason)
            if self.store.entries.record_error(entry.id, reason) >= MAX_ATTEMPTS:
                self._fail(entry, reason, report)
            advance(1)
            return
        for (entry, _), translated in zip(batch, results):
            self._save_translation(entry, translated, source, target, report)
            advance(1)

    def _save_translation(self, entry: EntryRow, translated: TranslatedArticle, source: str, target: str,
                          report: RunReport) -> None:
        errors = [f for f in translated.flags if f.severity == "error"]
        if errors and self.config.translation.hold_on_error:
            reason = "held for review: " + "; ".join(f"{f.check}: {f.message}" for f in errors[:3])
            if len(errors) > 3:
                reason += f" (+{len(errors) - 3} more)"
            self.store.translations.save(entry.id, translated, state="held", reason=reason)
            report.held += 1
            log.warning("held entry_id=%d source_id=%s flags=%d", entry.id, entry.source_id, len(errors))
        else:
            self.store.translations.save(entry.id, translated, state="translated")
            report.translated += 1
            log.info("translated entry_id=%d source_id=%s engine=%s %s→%s flags=%d", entry.id,
                     entry.source_id, translated.engine, source, target, len(translated.flags))

    # -- publishing ------------------------------------------------------------------------------

    def publish_pending(self, report: RunReport) -> None:
        lang = self.config.site.language
        published: list[int] = []
        pending = self.store.entries.in_state("translated")
        if self.config.site.images == "local" and self.store.images.revision()[0] == 0:
            # A site published before images were stored: its articles' images are fetched once, too.
            pending_ids = {e.id for e in pending}
            pending += [e for e in self.store.entries.in_state("published") if e.id not in pending_ids]
        self.store_images(pending)
        pending = [e for e in pending if e.state == "translated"]
        for entry in pending:
            article = self.store.articles.get(entry.id)
            if self.store.posts.publish(entry.id, lang, (article.title if article else None) or entry.title):
                report.published += 1
                published.append(entry.id)
                log.info("published entry_id=%d source_id=%s lang=%s", entry.id, entry.source_id, lang)
        if published:
            self.index_for_search(published)

    IMAGE_CONCURRENCY = 8

    def store_images(self, entries: list[EntryRow]) -> None:
        """Keep the images of articles about to be published, when the site serves its own (``images = "local"``).

        Fetched concurrently through the pages' guarded client (SSRF guard,
        robots.txt, a 5 MiB cap), checked from their bytes and stored as each
        arrives. One that cannot be had is recorded with its reason and left out
        of the site; the article is published all the same.
        """
        if self.config.site.images != "local" or not entries:
            return
        from samachar.images import MAX_IMAGE_BYTES, article_image_urls, fetch_image

        urls: list[str] = []
        for entry in entries:
            article = self.store.articles.get(entry.id)
            urls.extend(article_image_urls(article) if article else [])
        wanted = self.store.images.wanted(urls)
        if not wanted:
            return
        robots = self.config.fetch.respect_robots

        def keep(url: str, image, error: BaseException | None) -> None:
            if image is not None:
                stored = self.store.images.save(url, image)
                log.info("stored image %s as %s (%s, %sx%s)", url, stored.name, stored.content_type,
                         stored.width, stored.height)
            else:
                self.store.images.save_error(url, one_line(error))
                log.warning("image not stored, left out of the site: %s: %s", url, one_line(error))

        async def fetch_all(advance: Callable[[int], None]) -> None:
            semaphore = asyncio.Semaphore(self.IMAGE_CONCURRENCY)
            client = self._client()
            client.max_bytes = min(client.max_bytes, MAX_IMAGE_BYTES)
            async with client:
                async def one(url: str) -> None:
                    async with semaphore:
                        try:
                            outcome = (await fetch_image(client, url, robots=robots), None)
                        except (SamacharError, TimeoutError, OSError) as exc:
                            outcome = (None, exc)
                    try:
                        keep(url, *outcome)
                    except Exception:  # one image's trouble never stops the others, nor the publishing
                        log.exception("storing the image failed url=%s", url)
                    advance(1)
                await asyncio.gather(*(one(u) for u in wanted))

        with self.progress.stage("Fetching images", len(wanted)) as advance:
            asyncio.run(fetch_all(advance))

    def index_for_search(self, entry_ids: list[int] | None = None) -> None:
        """Keep the site's full-text index in step with what is published (SQLite FTS5)."""
        if self.store.engine.dialect.name != "sqlite":
            return
        from samachar.publish.search import index_articles

        articles = self.published_articles(entry_ids=entry_ids)
        with self.store.engine.begin() as conn:
            index_articles(conn, articles)

    def search(self, query: str) -> list:
        """Published articles matching ``query``, best first (the served site's /search).

        SQLite has a full-text index (FTS5); elsewhere, for now, every word must appear.
        """
        from samachar.publish.search import search_ids

        if self.store.engine.dialect.name != "sqlite":
            words = query.casefold().split()
            return [a for a in self.published_articles()
                    if words and all(w in (a.title + " " + " ".join(b.text for b in a.blocks)).casefold()
                                     for w in words)]
        with self.store.engine.connect() as conn:
            ids = search_ids(conn, query, self.config.site.language)
        by_id = {a.id: a for a in self.published_articles(entry_ids=ids)}
        return [by_id[i] for i in ids if i in by_id]

    def delete(self, entry_id: int) -> bool:
        """Unpublish an entry and leave a tombstone, so no later poll imports it again."""
        if self.store.entries.get(entry_id) is None:
            return False
        self.store.entries.tombstone(entry_id)
        if self.store.engine.dialect.name == "sqlite":
            from samachar.publish.search import remove_articles

            with self.store.engine.begin() as conn:
                remove_articles(conn, [entry_id])
        return True

    def retry(self, entry_id: int) -> str | None:
        """Give a failed or held entry another go from the furthest stage it reached."""
        return self.store.entries.reset(entry_id)

    def approve(self, entry_id: int) -> bool:
        """A reviewer accepts a held translation: it is published on the next run."""
        return self.store.entries.set_state(entry_id, "translated", expect="held", reason="approved by an editor")

    # -- the whole run ---------------------------------------------------------------------------

    def run_once(self) -> RunReport:
        report = RunReport()
        reopened = self.store.entries.reopen_for_language(self.config.site.language)
        if reopened:
            log.info("site language is %s: %d entries will be translated into it", self.config.site.language, reopened)
        self.poll(report)
        self.fetch_pages(report)
        self.extract_pending(report)
        self.translate_pending(report)
        self.publish_pending(report)
        return report

    def published_articles(self, entry_ids: list[int] | None = None):
        return self.store.posts.published_articles(
            self.config.site.language, default_policy=self.config.default_policy,
            excerpt_words=self.config.excerpt_words, entry_ids=entry_ids)

    def create_app(self):
        """The served site: the same pages as the static build, plus search."""
        from samachar.web.app import create_app

        self.index_for_search()
        return create_app(self.published_articles, self.config.site,
                          search=self.search if self.store.engine.dialect.name == "sqlite" else None,
                          media=self.store.images)

    def build_site(self, out_dir: Path) -> int:
        from samachar.publish.site import build_site

        return build_site(self.published_articles(), self.config.site, out_dir, media=self.store.images)
