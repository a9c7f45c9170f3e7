"""Publish targets: samachar's one extension point for the places articles go.

A target is any class with a ``name`` and a ``publish`` method. A complete one,
which posts each article to an in-house JSON API::

    import json
    import urllib.request

    from samachar.model import blocks_to_html
    from samachar.publish.targets import Remote


    class NewsDeskTarget:
        \"\"\"Sends each article to the newsroom's own API; it answers with the post's id and URL.\"\"\"

        kind = "newsdesk"

        def __init__(self, name: str, url: str = "http://127.0.0.1:5006/posts"):
            self.name = name
            self.url = url

        def publish(self, article, previous):
            html = blocks_to_html(article.blocks)
            body = json.dumps({"title": article.title, "html": html, "source": article.original_url})
            url = f"{self.url}/{previous.remote_id}" if previous and previous.remote_id else self.url
            request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=30) as response:
                answer = json.load(response)
            return Remote(id=str(answer["id"]), url=answer["url"])

        def unpublish(self, previous):
            request = urllib.request.Request(f"{self.url}/{previous.remote_id}", method="DELETE")
            urllib.request.urlopen(request, timeout=30).close()

Register it in your package's ``pyproject.toml`` and name it in ``samachar.toml``::

    [project.entry-points."samachar.targets"]
    newsdesk = "my_targets:NewsDeskTarget"

    [[targets]]
    kind = "newsdesk"
    name = "desk"
    url = "https://desk.example.org/api/posts"

The built-in site is a target registered the same way (``site``), always
present and always first: it gives each article its slug.

The protocol:

``name``
    the configured name (unique; ``site`` for the built-in site): logs, records, ``entry list --json``.
``publish(article, previous) -> Remote``
    create the post, or update it when ``previous`` (the :class:`~samachar.store.publications.Publication`
    of an earlier publish) has a ``remote_id``. ``article`` is a
    :class:`~samachar.model.PublishedArticle` (translated title and blocks as republished under the
    source's policy, attribution metadata, dates, image, tags). A create that may already have
    happened — a crash or a timeout after the request was sent — arrives with ``previous.recovering``
    (and no ``remote_id``): look for the orphan (by a unique slug, a marker) before creating another.
    A first create arrives with ``recovering`` false and needs no lookup.
Optional:

``unpublish(previous)``
    remove the post (``entry delete``); without it the record is just marked unpublished.
``flush()``
    called once after a batch of publishes (the site rebuilds its pages there).
``publish_held = False``
    ``True``: held entries are published too (e.g. as WordPress drafts for review).

Errors: raise :class:`~samachar.errors.TargetError` (or any :class:`~samachar.errors.SamacharError`)
with a one-line message; it is recorded on the (entry, target) and retried with backoff. A failing
target never blocks the others.

Constructors get ``name`` and the table's other keys as keywords; one that accepts ``context``
also gets a :class:`TargetContext` (the store, the config, an image reader).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from samachar.errors import ConfigError, SamacharError, one_line

if TYPE_CHECKING:
    from samachar.config import Config
    from samachar.model import PublishedArticle
    from samachar.store import Store
    from samachar.store.publications import Publication

log = logging.getLogger("samachar.publish")
ENTRY_POINT_GROUP = "samachar.targets"
SITE = "site"


@dataclass(frozen=True)
class Remote:
    """What a target answers for one post: its id there and its public URL (either may be unknown)."""

    id: str | None = None
    url: str | None = None


@dataclass
class TargetContext:
    """What a built-in or third-party target may use besides its own options."""

    store: Store
    config: Config


@runtime_checkable
class PublishTarget(Protocol):
    name: str

    def publish(self, article: PublishedArticle, previous: Publication | None) -> Remote: ...


def available_targets() -> dict[str, Any]:
    """Registered target kinds (entry-point group ``samachar.targets``), by kind."""
    from importlib.metadata import entry_points  # 20 ms of start-up, only needed here

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def target_class(kind: str) -> type:
    """The class behind a registered kind, or ``package.module:Class`` (as engines are named)."""
    from samachar.plugins import load_class

    return load_class(kind, ENTRY_POINT_GROUP, "target kind")


def build_target(spec: dict[str, Any], context: TargetContext) -> PublishTarget:
    """One target from its ``[[targets]]`` table (``kind``, ``name`` and the kind's own options)."""
    options = {k: v for k, v in spec.items() if k != "kind"}
    cls = target_class(spec["kind"])
    try:
        accepts_context = "context" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        accepts_context = False
    if accepts_context:
        options["context"] = context
    try:
        target: PublishTarget = cls(**options)
    except TypeError as exc:
        raise ConfigError(f"target {spec.get('name')!r} ({spec['kind']}): {exc}") from None
    return target


def load_targets(store: Store, config: Config) -> list[PublishTarget]:
    """The site first, then every ``[[targets]]`` table of samachar.toml, in order."""
    context = TargetContext(store=store, config=config)
    specs = [{"kind": SITE, "name": SITE}, *config.targets]
    return [build_target(spec, context) for spec in specs]


def revision(article: PublishedArticle) -> str:
    """A hash of what a target is sent: a changed translation (or policy, or image, or credits) changes it."""
    data = asdict(article)
    data.pop("published_at", None)  # our own timestamp is not content
    if not data.get("also_reported_by"):
        data.pop("also_reported_by", None)  # no credits: the revision it had before stories existed
    blob = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


# -- per-source targets (sources.targets: {target name: {"category": …}}; NULL: every target) -------------

def sends_to(routes: Any, target: str) -> bool:
    """Whether a source with these ``routes`` goes to ``target``; the built-in site takes every source."""
    return target == SITE or not isinstance(routes, dict) or target in routes


def routed_category(routes: Any, target: str) -> str | None:
    """The category a source's routes give its posts on ``target``, if any."""
    route = routes.get(target) if isinstance(routes, dict) else None
    category = route.get("category") if isinstance(route, dict) else None
    return (category.strip() or None) if isinstance(category, str) else None


def source_routes(store: Store, source_ids: Any = None) -> dict[int, Any]:
    """``sources.targets`` of the sources that list theirs (None: of every source), by source id."""
    from sqlalchemy import select

    from samachar.store.schema import sources

    query = select(sources.c.id, sources.c.targets)
    if source_ids is not None:
        query = query.where(sources.c.id.in_(sorted(set(source_ids))))
    with store.engine.connect() as conn:
        return {row.id: row.targets for row in conn.execute(query) if isinstance(row.targets, dict)}


def routed_away(store: Store, target: str, entry_ids: list[int]) -> set[int]:
    """Those of ``entry_ids`` whose source lists its targets without ``target``: never sent there."""
    from sqlalchemy import select

    from samachar.store.schema import entries

    excluded = sorted(i for i, routes in source_routes(store).items() if not sends_to(routes, target))
    away: set[int] = set()
    if not excluded:
        return away
    with store.engine.connect() as conn:
        for start in range(0, len(entry_ids), 500):
            chunk = entry_ids[start:start + 500]
            away.update(conn.execute(select(entries.c.id).where(entries.c.id.in_(chunk))
                                     .where(entries.c.source_id.in_(excluded))).scalars())
    return away


@dataclass
class PublishReport:
    """What one round of publishing did, per target: counts and the failures' reasons."""

    published: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    failed: dict[str, list[str]] = field(default_factory=dict)

    def count(self, table: dict[str, int], target: str) -> None:
        table[target] = table.get(target, 0) + 1


def publish_to_targets(targets: list[PublishTarget], articles: list[PublishedArticle], store: Store,
                       *, now: datetime | None = None, report: PublishReport | None = None) -> PublishReport:
    """Publish (or update) each article on each target, recording every outcome per (entry, target).

    Idempotent: an article whose record shows the same revision published is not
    sent again; a create is preceded by a recorded intent, so a crash in between is
    recovered by the target (it looks for the orphan) rather than duplicated.
    One target's failure is recorded and retried later; the others go on.
    """
    from samachar.store.sources import utcnow

    now = now or utcnow()
    report = report or PublishReport()
    publications = store.publications
    routes = source_routes(store, {a.source_id for a in articles}) if articles else {}
    for target in targets:
        touched = False
        for article in articles:
            if not sends_to(routes.get(article.source_id), target.name):
                continue  # the source lists its targets, and this is not one of them
            previous = publications.get(article.id, article.lang, target.name)
            current = revision(article)
            if previous and previous.state == "published" and previous.revision == current:
                continue
            if previous and not previous.due(now):
                continue
            if previous is None or previous.remote_id is None:
                recovering = previous is not None and previous.intent_at is not None
                previous = replace(publications.record_intent(article.id, article.lang, target.name, now),
                                   recovering=recovering)
            try:
                remote = target.publish(article, previous)
            except SamacharError as exc:
                reason = one_line(exc)
                attempts = publications.record_failure(article.id, article.lang, target.name, reason, now)
                report.failed.setdefault(target.name, []).append(f"entry {article.id}: {reason}")
                log.warning("publish failed target=%s entry_id=%s attempt=%d: %s", target.name, article.id,
                            attempts, reason)
                continue
            except Exception as exc:  # a bug in a target: recorded and retried, the others go on
                reason = f"{type(exc).__name__}: {one_line(exc)}"
                publications.record_failure(article.id, article.lang, target.name, reason, now)
                report.failed.setdefault(target.name, []).append(f"entry {article.id}: {reason}")
                log.exception("publish failed unexpectedly target=%s entry_id=%s", target.name, article.id)
                continue
            publications.record_published(article.id, article.lang, target.name, remote_id=remote.id,
                                          remote_url=remote.url, revision=current, now=now)
            report.count(report.updated if previous.remote_id else report.published, target.name)
            log.info("published target=%s entry_id=%s remote_id=%s", target.name, article.id, remote.id)
            touched = True
        flush = getattr(target, "flush", None)
        if touched and flush is not None:
            try:
                flush()
            except SamacharError as exc:
                log.warning("flush failed target=%s: %s", target.name, one_line(exc))
    return report


def unpublish_everywhere(targets: list[PublishTarget], store: Store, entry_id: int) -> list[str]:
    """Take an entry down from every target it was published to; returns the one-line failures."""
    failures: list[str] = []
    records = {p.target: p for p in store.publications.for_entry(entry_id) if p.state != "unpublished"}
    for target in targets:
        record = records.get(target.name)
        if record is None:
            continue
        remove = getattr(target, "unpublish", None)
        try:
            if remove is not None and record.remote_id is not None:
                remove(record)
        except SamacharError as exc:
            failures.append(f"{target.name}: {one_line(exc)}")
            store.publications.record_failure(entry_id, record.lang, target.name, f"unpublish: {one_line(exc)}")
            continue
        store.publications.record_unpublished(entry_id, record.lang, target.name)
    for target in targets:
        flush = getattr(target, "flush", None)
        if flush is not None and target.name in records:
            flush()
    return failures
