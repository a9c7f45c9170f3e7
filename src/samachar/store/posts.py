"""Posts: what has been published, one per (entry, language); never twice."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from samachar.model import Article, Credit, PublishedArticle, TranslatedArticle
from samachar.store.entries import record_event
from samachar.store.schema import articles, entries, posts, sources, story_members, translations
from samachar.store.sources import utcnow


def slugify(title: str, entry_id: int, max_length: int = 60) -> str:
    """``<id>-<ascii-words>``: stable, unique, readable in any language's URL bar."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:max_length].rstrip("-")
    return f"{entry_id}-{words}" if words else str(entry_id)


class PostRepository:
    def __init__(self, engine: Engine):
        self.engine = engine

    def publish(self, entry_id: int, lang: str, title: str, now: datetime | None = None) -> bool:
        """Record the post and mark the entry published; False if it already was.

        The primary of a story whose former primary was replaced (``merged``, new facts) takes over
        that entry's post: same page, same records on every target, which update it.
        """
        now = now or utcnow()
        try:
            with self.engine.begin() as conn:
                if self._take_over_post(conn, entry_id, lang, now):
                    return True
                conn.execute(posts.insert().values(entry_id=entry_id, lang=lang, slug=slugify(title, entry_id),
                                                   published_at=now))
                conn.execute(update(entries).where(entries.c.id == entry_id)
                             .values(state="published", error=None, updated_at=now))
                record_event(conn, entry_id, f"published in {lang}")
            return True
        except IntegrityError:
            with self.engine.begin() as conn:
                conn.execute(update(entries).where(entries.c.id == entry_id).values(state="published"))
            return False

    @staticmethod
    def _take_over_post(conn, entry_id: int, lang: str, now: datetime) -> bool:
        """Move the post of the story's replaced entry to ``entry_id``, its story's primary, if there is one."""
        from samachar.store.schema import publications, stories

        story = conn.execute(select(story_members.c.story_id).join(stories, stories.c.id == story_members.c.story_id)
                             .where(story_members.c.entry_id == entry_id)
                             .where(stories.c.primary_entry_id == entry_id)).scalar()
        if story is None or conn.execute(select(posts.c.id).where(posts.c.entry_id == entry_id)
                                         .where(posts.c.lang == lang)).first():
            return False
        replaced = conn.execute(
            select(posts.c.entry_id).join(story_members, story_members.c.entry_id == posts.c.entry_id)
            .join(entries, entries.c.id == posts.c.entry_id)
            .where(story_members.c.story_id == story).where(posts.c.lang == lang)
            .where(entries.c.state == "merged").order_by(posts.c.published_at).limit(1)).scalar()
        if replaced is None:
            return False
        conn.execute(update(posts).where(posts.c.entry_id == replaced).where(posts.c.lang == lang)
                     .values(entry_id=entry_id))
        own = select(publications.c.target).where(publications.c.entry_id == entry_id).where(publications.c.lang == lang)
        conn.execute(update(publications).where(publications.c.entry_id == replaced)  # a draft of its own stays
                     .where(publications.c.lang == lang).where(publications.c.target.not_in(own))
                     .values(entry_id=entry_id))
        conn.execute(update(entries).where(entries.c.id == entry_id)
                     .values(state="published", error=None, updated_at=now))
        record_event(conn, entry_id, f"published in {lang} on the page of entry {replaced}, whose text it replaces")
        record_event(conn, replaced, f"its page in {lang} now shows entry {entry_id}'s text, crediting this source")
        return True

    def published_before_version(self, version: int) -> list[int]:
        """Entries whose post is older than schema ``version`` (what an upgrade may have to complete)."""
        from samachar.store.schema import schema_version

        with self.engine.connect() as conn:
            applied = conn.execute(select(schema_version.c.applied_at)
                                   .where(schema_version.c.version == version)).scalar()
            if applied is None:
                return []
            return list(conn.execute(select(posts.c.entry_id).where(posts.c.published_at < applied)).scalars())

    def count(self, lang: str | None = None) -> int:
        query = select(posts.c.id)
        if lang:
            query = query.where(posts.c.lang == lang)
        with self.engine.connect() as conn:
            return len(conn.execute(query).all())

    def published_articles(self, lang: str, *, default_policy: str = "excerpt", excerpt_words: int = 60,
                           limit: int | None = None, entry_ids: list[int] | None = None) -> list[PublishedArticle]:
        """Everything published in ``lang``, newest first, cut to each source's republish policy."""
        query = (
            select(posts.c.entry_id, posts.c.slug, posts.c.published_at, *self._columns())
            .select_from(posts.join(entries, entries.c.id == posts.c.entry_id)
                         .join(articles, articles.c.entry_id == posts.c.entry_id)
                         .join(translations, (translations.c.entry_id == posts.c.entry_id)
                               & (translations.c.lang == posts.c.lang))
                         .outerjoin(sources, sources.c.id == entries.c.source_id))
            .where(posts.c.lang == lang).where(entries.c.deleted_at.is_(None))
            .order_by(posts.c.published_at.desc(), posts.c.entry_id.desc())
        )
        if entry_ids is not None:
            query = query.where(posts.c.entry_id.in_(entry_ids))
        return self._articles(query, lang, default_policy, excerpt_words, limit)

    def held_articles(self, lang: str, entry_ids: list[int], *, default_policy: str = "excerpt",
                      excerpt_words: int = 60) -> list[PublishedArticle]:
        """Entries held for review, as they would be published (for targets that take them as drafts)."""
        from sqlalchemy import literal

        query = (
            select(entries.c.id.label("entry_id"), literal(None).label("slug"),
                   translations.c.created_at.label("published_at"), *self._columns())
            .select_from(entries.join(articles, articles.c.entry_id == entries.c.id)
                         .join(translations, (translations.c.entry_id == entries.c.id) & (translations.c.lang == lang))
                         .outerjoin(sources, sources.c.id == entries.c.source_id))
            .where(entries.c.state == "held").where(entries.c.deleted_at.is_(None))
            .where(entries.c.id.in_(entry_ids)).order_by(entries.c.id)
        )
        return self._articles(query, lang, default_policy, excerpt_words, None, held=True)

    @staticmethod
    def _columns() -> tuple:
        return (entries.c.categories, entries.c.title.label("entry_title"), entries.c.author, entries.c.source_id,
                sources.c.name, sources.c.feed_title, sources.c.url.label("source_url"), sources.c.site_url,
                sources.c.policy, sources.c.seo, articles.c.data.label("article"),
                translations.c.data.label("translation"))

    def _articles(self, query, lang: str, default_policy: str, excerpt_words: int, limit: int | None,
                  *, held: bool = False) -> list[PublishedArticle]:
        from samachar.extract.policy import apply_policy

        if limit:
            query = query.limit(limit)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        result = []
        for row in rows:
            article = Article.from_dict(row.article)
            translated = TranslatedArticle.from_dict(row.translation)
            policy = row.policy or default_policy
            source_name = row.name or row.feed_title or article.publisher or ""
            result.append(PublishedArticle(
                id=row.entry_id, slug=row.slug or slugify(article.title or row.entry_title, row.entry_id), lang=lang,
                title=translated.title,
                blocks=apply_policy(translated.blocks, policy, excerpt_words),
                summary=translated.summary, published_at=row.published_at, policy=policy,
                original_title=article.title or row.entry_title, original_url=article.original_url,
                publisher=article.publisher or source_name, source_id=row.source_id or 0,
                source_name=source_name, source_url=row.source_url or "", source_site_url=row.site_url,
                authors=article.authors or ([row.author] if row.author else []),
                original_published=article.published, image=translated.image or article.image,
                categories=list(row.categories or article.tags or []), source_lang=translated.source_lang,
                seo=row.seo,
                tag_labels=_tag_labels(article.tags, translated.tags), held=held,
            ))
        self._credit_stories(result)
        return result

    def _credit_stories(self, published: list[PublishedArticle]) -> None:
        """Each article credits the other sources of its story: its members merged into it (``merged``)."""
        if not published:
            return
        story_of: dict[int, int] = {}
        with self.engine.connect() as conn:
            ids = [a.id for a in published]
            for start in range(0, len(ids), 500):
                query = (select(story_members.c.entry_id, story_members.c.story_id)
                         .where(story_members.c.entry_id.in_(ids[start:start + 500])))
                story_of.update({row.entry_id: row.story_id for row in conn.execute(query)})
            if not story_of:
                return
            stories = sorted(set(story_of.values()))
            reports: dict[int, list] = {}
            for start in range(0, len(stories), 500):
                query = (select(story_members.c.story_id, entries.c.id, entries.c.source_id, entries.c.title,
                                entries.c.url, articles.c.data, sources.c.name, sources.c.feed_title,
                                sources.c.site_url)
                         .select_from(story_members.join(entries, entries.c.id == story_members.c.entry_id)
                                      .outerjoin(articles, articles.c.entry_id == entries.c.id)
                                      .outerjoin(sources, sources.c.id == entries.c.source_id))
                         .where(story_members.c.story_id.in_(stories[start:start + 500]))
                         .where(entries.c.state == "merged").where(entries.c.deleted_at.is_(None))
                         .order_by(story_members.c.published, entries.c.id))
                for row in conn.execute(query):
                    reports.setdefault(row.story_id, []).append(row)
        for article in published:
            seen = {(article.publisher, article.original_url)}
            for row in reports.get(story_of.get(article.id, -1), []):
                if row.id == article.id or (row.source_id is not None and row.source_id == article.source_id):
                    continue  # the publisher's own copies are not another source
                report = Article.from_dict(row.data) if row.data else None
                credit = Credit(
                    publisher=(report.publisher if report else None) or row.name or row.feed_title or "",
                    title=(report.title if report else None) or row.title,
                    url=report.original_url if report else (row.url or ""), site_url=row.site_url,
                    lang=report.language if report else None)
                if (credit.publisher, credit.url) not in seen:
                    seen.add((credit.publisher, credit.url))
                    article.also_reported_by.append(credit)


def _tag_labels(tags: list[str], labels: list[str]) -> dict[str, str]:
    """Each tag's label in the site language; a row translated before tags were has none (the tag shows as is)."""
    if len(labels) != len(tags):
        return {}
    return {tag: label for tag, label in zip(tags, labels, strict=True) if label and label != tag}
