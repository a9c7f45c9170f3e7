"""A real WordPress for the tests (Debian's package, started by tools/wordpress/start_wordpress.py).

``wordpress_site`` starts one per session on a free 127.0.0.1 port in a temporary folder and
stops its process groups afterwards; ``wp`` hands it to a test emptied of posts, media and
terms, its test hooks cleared. Where WordPress cannot start (its packages absent) the tests
skip, except in CI (``CI=true``), where they fail.

``seed`` fills a store with published Hindi articles (stored images, tags) as the pipeline
leaves them; ``Admin`` reads the site back over REST, its requests marked so that the
request counts a test asserts leave them out.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest

TOOLS = Path(__file__).resolve().parents[1] / "tools" / "wordpress"
sys.path.insert(0, str(TOOLS))
import start_wordpress

PASSWORD_ENV = "SAMACHAR_TEST_WP_PASSWORD"
ADMIN_MARK = "samachar_test_admin"  # in the query of the assertions' own requests


@pytest.fixture(scope="session")
def wordpress_site(tmp_path_factory):
    try:
        site = start_wordpress.start(tmp_path_factory.mktemp("wordpress") / "site", test_hooks=True)
    except start_wordpress.Unavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"WordPress must start in CI: {exc}")
        pytest.skip(f"WordPress cannot start here: {exc}")
    yield site
    site.stop()


@pytest.fixture
def wp(wordpress_site, monkeypatch):
    """The session's WordPress, empty: no posts, media or terms of earlier tests; hooks off; the
    administrator's Application Password in :data:`PASSWORD_ENV`; private networks allowed."""
    wordpress_site.control()
    Admin(wordpress_site).empty()
    monkeypatch.setenv(PASSWORD_ENV, wordpress_site.password)
    monkeypatch.setenv("SAMACHAR_ALLOW_PRIVATE_NETWORKS", "1")
    yield wordpress_site
    wordpress_site.control()


def target_requests(site, since: int = 0) -> list[str]:
    """The requests samachar sent (the assertions' own left out), from the ``since``-th on."""
    return [r for r in site.requests()[since:] if ADMIN_MARK not in r]


def target_table(site, name: str = "wp", **options) -> dict:
    """A ``[[targets]]`` table for the test site."""
    return {"kind": "wordpress", "name": name, "url": site.url, "user": site.user, "password_env": PASSWORD_ENV,
            **options}


def target_toml(site, name: str = "wp", **options) -> str:
    table = target_table(site, name, **options)
    return "[[targets]]\n" + "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in table.items())


class Admin:
    """The test's own view of the site, as its administrator."""

    def __init__(self, site):
        self.site = site
        token = base64.b64encode(f"{site.user}:{site.password}".encode()).decode()
        self.headers = {"Authorization": f"Basic {token}"}

    def call(self, method: str, route: str, **params):
        query = urlencode({**params, ADMIN_MARK: 1})
        request = urllib.request.Request(f"{self.site.url}/wp-json/{route}?{query}", method=method,
                                         headers=self.headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.load(response)

    def get(self, route: str, **params):
        return self.call("GET", route, **params)

    def posts(self, **params) -> list[dict]:
        """Every post in any status but the trash, with its raw fields."""
        return self.get("wp/v2/posts", status="any", context="edit", per_page=100, **params)

    def trashed(self) -> list[dict]:
        return self.get("wp/v2/posts", status="trash", context="edit", per_page=100)

    def media(self) -> list[dict]:
        return self.get("wp/v2/media", context="edit", per_page=100)

    def terms(self, taxonomy: str) -> list[dict]:
        return self.get(f"wp/v2/{taxonomy}", per_page=100, hide_empty="false")

    def empty(self) -> None:
        for post in self.posts() + self.trashed():
            self.call("DELETE", f"wp/v2/posts/{post['id']}", force="true")
        for item in self.media():
            self.call("DELETE", f"wp/v2/media/{item['id']}", force="true")
        for taxonomy in ("tags", "categories"):
            for term in self.terms(taxonomy):
                if term["id"] != 1:  # "Uncategorized" cannot be deleted
                    self.call("DELETE", f"wp/v2/{taxonomy}/{term['id']}", force="true")


@dataclass
class Story:
    """One article as the seed stores it: English original, Hindi translation."""

    title: str
    title_hi: str
    body_hi: list[str]
    tags: list[str] = field(default_factory=list)
    tags_hi: list[str] = field(default_factory=list)
    lead: str | None = None  # image path on the fictional publisher's site
    figure: str | None = None  # a body image


STORIES = [
    Story("Pyongyang always stands with Moscow, says envoy", "प्योंगयांग हमेशा मास्को के साथ खड़ा है, दूत ने कहा",
          ["राजदूत ने सोमवार को कहा कि दोनों देशों के संबंध मज़बूत हैं।", "उन्होंने व्यापार बढ़ाने की बात भी की।"],
          ["World", "Korea"], ["दुनिया", "कोरिया"], lead="/img/envoy.png", figure="/img/flag.png"),
    Story("Monsoon rains shut schools in Shimla", "मानसून की बारिश से शिमला में स्कूल बंद",
          ["ज़िला परिषद ने कहा कि मंगलवार को स्कूल बंद रहेंगे।"], ["World", "Weather"], ["दुनिया", "मौसम"],
          lead="/img/envoy.png"),
    Story("Council approves new bridge", "परिषद ने नए पुल को मंज़ूरी दी", ["पुल की लागत 12.5 करोड़ रुपये होगी।"]),
]
PUBLISHER = "Meridian Wire"
ORIGIN = "https://meridian.example"


def image_bytes(path: str) -> bytes:
    from test_images_files import png

    size = {"/img/envoy.png": (96, 64), "/img/flag.png": (48, 32)}.get(path, (40, 30))
    return png(*size)


def _not_due(store, source_id: int) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from samachar.store.schema import sources

    with store.engine.begin() as conn:
        conn.execute(update(sources).where(sources.c.id == source_id)
                     .values(status="ok", next_poll_at=datetime.now(UTC) + timedelta(days=3650)))


def seed(store, stories: list[Story] = STORIES, *, lang: str = "hi") -> list[int]:
    """Published entries as the pipeline leaves them: article, translation, stored images, post record."""
    from samachar.images import read_image
    from samachar.model import Article, Block, FeedEntry, Image, TranslatedArticle
    from samachar.sources.identity import entry_identity

    source = store.sources.add(f"{ORIGIN}/feed.xml", name=PUBLISHER, policy="full").id
    _not_due(store, source)  # its host is not on this machine: a run must not poll it (no DNS lookup leaves)
    ids = []
    for n, story in enumerate(stories, start=1):
        url = f"{ORIGIN}/story/{n}"
        item = FeedEntry(title=story.title, url=url, categories=story.tags)
        [entry_id] = store.entries.add_many(source, [(item, entry_identity(item, source))])
        lead = Image(f"{ORIGIN}{story.lead}", alt="The envoy at the podium", caption="The envoy on Monday.",
                     credit="Photo: Meridian Wire") if story.lead else None
        blocks = [Block("paragraph", f"Paragraph {k}.") for k in range(len(story.body_hi))]
        blocks_hi = [Block("paragraph", text) for text in story.body_hi]
        if story.figure:
            figure = Image(f"{ORIGIN}{story.figure}", alt="The flag")
            blocks.insert(1, Block("figure", "The flag at the embassy.", image=figure))
            blocks_hi.insert(1, Block("figure", "दूतावास पर झंडा।", image=Image(figure.src, alt="झंडा")))
        article = Article(url=url, title=story.title, blocks=blocks, canonical_url=url, publisher=PUBLISHER,
                          authors=["Asha Rao"], published=datetime(2026, 11, 20, 3, 30, tzinfo=UTC), image=lead,
                          language="en", tags=story.tags)
        lead_hi = Image(lead.src, alt="मंच पर राजदूत", caption="सोमवार को राजदूत।", credit="फ़ोटो: मेरिडियन वायर") \
            if lead else None
        translated = TranslatedArticle(title=story.title_hi, blocks=blocks_hi, source_lang="en", target_lang=lang,
                                       engine="test", summary=story.body_hi[0], image=lead_hi, tags=story.tags_hi)
        store.articles.save(entry_id, article)
        store.translations.save(entry_id, translated, state="translated")
        for path in (story.lead, story.figure):
            if path:
                store.images.save(f"{ORIGIN}{path}", read_image(image_bytes(path)))
        store.posts.publish(entry_id, lang, story.title)
        ids.append(entry_id)
    return ids


def home_with_target(home: Path, site, **options) -> Path:
    """A home whose samachar.toml publishes in Hindi to the test site as target ``wp``."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "samachar.toml").write_text(
        'default_policy = "full"\n[site]\nlanguage = "hi"\nbase_url = "https://samachar.example/"\n'
        + target_toml(site, **options), encoding="utf-8")
    return home


def http_error(call) -> tuple[int, dict]:
    try:
        call()
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    return 200, {}



def run_env(site, database: str) -> dict[str, str]:
    """The environment of a ``samachar run`` subprocess that publishes to the test site."""
    return {**os.environ, PASSWORD_ENV: site.password, "SAMACHAR_ALLOW_PRIVATE_NETWORKS": "1",
            "SAMACHAR_DATABASE_URL": database}
