"""One story, many sources, through the real pipeline: loopback publishers, the story index, Apertium, the site.

A wire story copied by a second outlet is translated once and its page, feeds and
JSON-LD credit both; a source ranked higher in ``[stories] prefer`` takes over
before translation; a later version with new facts replaces the published text on
the same page (``replace = "new-facts"``), or not (``never``); ``separate`` sources
are published as before, in their story all the same.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import database_url
from loopback import LoopbackSite
from lxml import etree
from lxml import html as lxml_html

from samachar.config import Config, SiteConfig, StoriesConfig, TranslationConfig, load_config
from samachar.errors import ConfigError
from samachar.model import Credit, EntryState
from samachar.pipeline import Pipeline
from samachar.publish.targets import revision
from samachar.service import SiteService
from samachar.stages import STAGES
from samachar.store import Store
from samachar.stories.policy import new_facts
from samachar.translate.engines.apertium import ApertiumEngine

if not ApertiumEngine().supports("en", "es"):
    pytest.skip("Apertium eng-spa is not installed (apt-get install apertium apertium-eng-spa)", allow_module_level=True)

BASE_URL = "https://noticias.example/"

WIRE = [
    "SHIMLA: Thirty-six people were killed on Tuesday when a state transport bus carrying 52 passengers "
    "skidded off the road and plunged into a gorge near Jhakri in Shimla district, officials said.",
    "The bus was travelling from Rampur to Shimla when the driver lost control on a sharp bend at about "
    "7.40 am, Deputy Commissioner Anupam Kashyap told reporters at the site of the accident.",
    "Rescue teams of the National Disaster Response Force and local volunteers pulled 16 injured "
    "passengers from the wreckage; they were taken to the civil hospital in Rampur, where four are critical.",
    "Chief Minister Sukhvinder Thakur announced compensation of 5 lakh rupees for the family of each "
    "person killed and ordered a magisterial inquiry into the accident, to report within 15 days.",
    "Residents said the stretch had no crash barrier and that two smaller accidents had happened at the "
    "same bend since the monsoon. The transport corporation said the bus had passed its fitness test in May.",
]
FOLLOW_UP = ("By Wednesday evening the toll had risen to 41 after five of the injured died at the Indira Gandhi "
             "Medical College in Shimla, where Health Minister Dhani Ram Shandil visited the survivors.")

PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | {publisher}</title>
<link rel="canonical" href="{canonical}">
<meta property="og:site_name" content="{publisher}">
<script type="application/ld+json">{{"@context":"https://schema.org","@type":"NewsArticle","headline":"{title}",
"datePublished":"{published}","author":{{"@type":"Person","name":"{author}"}},
"publisher":{{"@type":"Organization","name":"{publisher}"}}}}</script></head>
<body><nav><a href="/">Home</a></nav><main><article><h1>{title}</h1>
{body}
</article></main><footer>© 2026 {publisher}</footer></body></html>"""

FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>{publisher}</title><link>{site}</link><description>News</description>
<item><title>{title}</title><link>{{{{BASE}}}}{path}</link><guid>{canonical}</guid>
<pubDate>{pubdate}</pubDate></item>
</channel></rss>"""

OUTLETS = {  # folder: (publisher, its site, the byline, the report's headline, its published time)
    "hill": ("Hill Post", "https://hillpost.example/", "Asha Negi", "Bus falls into gorge near Jhakri, 36 dead",
             "2026-03-03T10:00:00+05:30", "Tue, 03 Mar 2026 04:30:00 GMT"),
    "doaba": ("Doaba Times", "https://doabatimes.example/", "Harpreet Sidhu",
              "36 killed as bus plunges into gorge in Shimla district", "2026-03-03T11:00:00+05:30",
              "Tue, 03 Mar 2026 05:30:00 GMT"),
    "wire": ("Meridian Wire", "https://meridianwire.example/", "Staff Reporter",
             "Shimla bus accident: 36 dead, inquiry ordered", "2026-03-03T12:00:00+05:30",
             "Tue, 03 Mar 2026 06:30:00 GMT"),
}


def outlet_routes(folder: str, paragraphs: list[str]) -> dict:
    publisher, site, author, title, published, pubdate = OUTLETS[folder]
    path = f"/{folder}/bus-gorge.html"
    canonical = f"{site}2026/03/03/bus-gorge-jhakri"
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return {
        f"/{folder}/feed.xml": (200, "application/rss+xml", FEED.format(
            publisher=publisher, site=site, title=title, path=path, canonical=canonical, pubdate=pubdate)),
        path: (200, "text/html; charset=utf-8", PAGE.format(
            title=title, publisher=publisher, canonical=canonical, published=published, author=author, body=body)),
    }


def canonical(folder: str) -> str:
    return f"{OUTLETS[folder][1]}2026/03/03/bus-gorge-jhakri"


def make_pipeline(tmp_path, **stories) -> Pipeline:
    config = Config(home=tmp_path, site=SiteConfig(language="es", title="Noticias", base_url=BASE_URL),
                    translation=TranslationConfig(source_language="en", engines=["apertium"]),
                    default_policy="full", stories=StoriesConfig(**stories))
    return Pipeline(Store(database_url(tmp_path)), config, allow_private=True)


def entry_of(pipeline: Pipeline, folder: str):
    [entry] = [e for e in pipeline.store.entries.list() if f"/{folder}/" in (e.url or "")]
    return entry


def follow(pipeline: Pipeline, site: LoopbackSite, folder: str, **options):
    return pipeline.store.sources.add(site.url(f"/{folder}/feed.xml"), policy="full", **options)


def built_page(pipeline: Pipeline, tmp_path) -> tuple[lxml_html.HtmlElement, str, object]:
    """The one article page of the built site, its text, and the article as published."""
    service = SiteService(pipeline.store, pipeline.config)
    [article] = service.published_articles()
    out = tmp_path / "site"
    service.build(out)
    text = (out / "articles" / article.slug / "index.html").read_text(encoding="utf-8")
    return lxml_html.fromstring(text), text, article


def based_on(doc) -> list[dict]:
    [script] = [s for s in doc.xpath('//script[@type="application/ld+json"]') if "isBasedOn" in s.text]
    works = json.loads(script.text)["isBasedOn"]
    return works if isinstance(works, list) else [works]


# -- the table and the config --------------------------------------------------------------------------

def test_cluster_sits_between_filter_and_translate():
    names = [s.name for s in STAGES]
    assert names.index("filter") < names.index("cluster") < names.index("translate")
    cluster = STAGES[names.index("cluster")]
    assert cluster.takes is EntryState.EXTRACTED and EntryState.MERGED in cluster.moves_to


@pytest.mark.parametrize(("text", "named"), [
    ('[stories]\nmode = "together"\n', "mode"),
    ('[stories]\nreplace = "always"\n', "replace"),
    ("[stories]\nwindow_hours = 0\n", "window_hours"),
    ("[stories]\nprefer = [true]\n", "prefer"),
    ('[stories]\nprefered = ["x"]\n', "prefered"),
])
def test_a_bad_stories_setting_is_one_line_naming_the_key(tmp_path, text, named):
    (tmp_path / "samachar.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_config(tmp_path)
    assert named in str(raised.value) and "\n" not in str(raised.value)


def test_stories_settings_load(tmp_path):
    (tmp_path / "samachar.toml").write_text('[stories]\nmode = "separate"\nprefer = ["https://w.example/feed", 3]\n'
                                            'replace = "never"\nwindow_hours = 24\n', encoding="utf-8")
    stories = load_config(tmp_path).stories
    assert (stories.mode, stories.prefer, stories.replace, stories.window_hours) == (
        "separate", ["https://w.example/feed", 3], "never", 24)
    assert load_config(tmp_path / "none").stories == StoriesConfig()


def test_new_facts_are_new_figures_or_new_names_not_a_byline_or_a_dateline():
    published = " ".join(WIRE)
    assert not new_facts(published, published)
    assert not new_facts(published, published.replace("on Tuesday", "on Tuesday, March 3"))
    assert not new_facts(published, "By Harpreet Sidhu. " + published, ignore=frozenset({"Harpreet Sidhu"}))
    assert "41" in new_facts(published, published + " " + FOLLOW_UP)
    assert not new_facts(published + " " + FOLLOW_UP, published)  # a shorter copy states nothing new


def test_credits_change_the_revision_and_none_keep_the_old_one(tmp_path):
    from dataclasses import asdict
    from datetime import UTC, datetime
    from hashlib import sha256

    from samachar.model import PublishedArticle

    article = PublishedArticle(id=1, slug="1-a", lang="es", title="t", blocks=[], summary=None,
                               published_at=datetime(2026, 3, 3, tzinfo=UTC), policy="full", original_title="o",
                               original_url="https://a.example/1", publisher="A", source_id=1, source_name="A",
                               source_url="https://a.example/feed")
    before_stories = asdict(article)
    before_stories.pop("published_at")
    before_stories.pop("also_reported_by")
    old = sha256(json.dumps(before_stories, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()
    assert revision(article) == old  # an upgrade does not resend every post
    credited = replace(article, also_reported_by=[Credit("B", "b", "https://b.example/1")])
    assert revision(credited) != old


# -- merge ---------------------------------------------------------------------------------------------

def test_a_wire_copy_from_a_second_source_is_not_translated_again_and_every_surface_credits_both(tmp_path):
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("doaba", WIRE)}
    with LoopbackSite(routes) as site:
        pipeline = make_pipeline(tmp_path)
        follow(pipeline, site, "hill")
        assert pipeline.run_once().published == 1
        primary = entry_of(pipeline, "hill")
        first = pipeline.store.publications.get(primary.id, "es", "site")
        assert first is not None and first.state == "published"

        follow(pipeline, site, "doaba")
        report = pipeline.run_once()
        copy = entry_of(pipeline, "doaba")

    assert copy.state is EntryState.MERGED and "merged into story" in copy.error and str(primary.id) in copy.error
    assert pipeline.store.translations.get(copy.id, "es") is None  # not paid for twice
    assert report.translated == 0
    assert report.merged == 1 and "1 merged into stories" in report.summary()  # the run says where it went
    assert pipeline.store.posts.count("es") == 1
    assert entry_of(pipeline, "hill").state is EntryState.PUBLISHED
    again = pipeline.store.publications.get(primary.id, "es", "site")
    assert again.state == "published" and again.revision != first.revision  # the targets updated the post

    doc, _, article = built_page(pipeline, tmp_path)
    assert [c.publisher for c in article.also_reported_by] == ["Doaba Times"]
    credits = doc.xpath('//*[contains(@class, "also-reported")]//a/@href')
    assert canonical("doaba") in credits and "https://doabatimes.example/" in credits
    assert "Hill Post" in doc.text_content() and "Doaba Times" in doc.text_content()
    assert {w.get("url") for w in based_on(doc)} == {canonical("hill"), canonical("doaba")}

    out = tmp_path / "site"
    rss = etree.parse(str(out / "feed.xml"))
    content = rss.findtext(".//item/{http://purl.org/rss/1.0/modules/content/}encoded")
    assert canonical("doaba") in content and "Doaba Times" in content
    atom = etree.parse(str(out / "atom.xml"))
    related = atom.xpath('//a:entry/a:link[@rel="related"]/@href', namespaces={"a": "http://www.w3.org/2005/Atom"})
    assert canonical("doaba") in related and canonical("hill") in related
    [item] = json.loads((out / "feed.json").read_text(encoding="utf-8"))["items"]
    assert item["_samachar"]["also_reported_by"] == [{"name": "Doaba Times", "url": canonical("doaba")}]
    assert canonical("doaba") in item["content_html"]


def test_a_source_ranked_higher_takes_over_before_the_primary_is_translated(tmp_path):
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("wire", WIRE)}
    with LoopbackSite(routes) as site:
        pipeline = make_pipeline(tmp_path, prefer=[site.url("/wire/feed.xml")])
        follow(pipeline, site, "hill")
        upto_cluster = [s for s in STAGES if s.name not in ("translate", "publish")]
        pipeline.run_stages(upto_cluster)  # extracted and placed; not translated yet
        assert entry_of(pipeline, "hill").state is EntryState.EXTRACTED

        follow(pipeline, site, "wire")
        pipeline.run_once()

    hill, wire = entry_of(pipeline, "hill"), entry_of(pipeline, "wire")
    assert wire.state is EntryState.PUBLISHED and hill.state is EntryState.MERGED
    assert pipeline.store.translations.get(hill.id, "es") is None
    doc, _, article = built_page(pipeline, tmp_path)
    assert article.id == wire.id and [c.publisher for c in article.also_reported_by] == ["Hill Post"]
    assert canonical("hill") in doc.xpath('//*[contains(@class, "also-reported")]//a/@href')


def test_a_lower_ranked_source_arriving_first_is_published_and_the_ranked_one_waits_credited(tmp_path):
    """The other way round: the ranked source's copy is merged when the primary is published already."""
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("wire", WIRE)}
    with LoopbackSite(routes) as site:
        pipeline = make_pipeline(tmp_path, prefer=[site.url("/hill/feed.xml")])
        follow(pipeline, site, "wire")
        pipeline.run_once()
        follow(pipeline, site, "hill")
        pipeline.run_once()
    assert entry_of(pipeline, "wire").state is EntryState.PUBLISHED
    assert entry_of(pipeline, "hill").state is EntryState.MERGED


@pytest.mark.parametrize("replace_setting", ["new-facts", "never"])
def test_a_later_version_with_new_facts_replaces_the_published_text_on_the_same_page(tmp_path, replace_setting):
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("doaba", [*WIRE, FOLLOW_UP])}
    with LoopbackSite(routes) as site:
        pipeline = make_pipeline(tmp_path, replace=replace_setting)
        follow(pipeline, site, "hill")
        pipeline.run_once()
        hill = entry_of(pipeline, "hill")
        [before] = SiteService(pipeline.store, pipeline.config).published_articles()
        first = pipeline.store.publications.get(hill.id, "es", "site")

        follow(pipeline, site, "doaba")
        pipeline.run_once()
        doaba = entry_of(pipeline, "doaba")

    doc, _, after = built_page(pipeline, tmp_path)
    assert pipeline.store.posts.count("es") == 1
    assert after.slug == before.slug  # the same page
    if replace_setting == "never":
        assert doaba.state is EntryState.MERGED and pipeline.store.translations.get(doaba.id, "es") is None
        assert after.id == hill.id and "41" not in " ".join(b.text for b in after.blocks)
        assert [c.publisher for c in after.also_reported_by] == ["Doaba Times"]
        return
    assert doaba.state is EntryState.PUBLISHED and entry_of(pipeline, "hill").state is EntryState.MERGED
    assert after.id == doaba.id and "41" in " ".join(b.text for b in after.blocks)
    assert after.original_url == canonical("doaba")
    assert [c.publisher for c in after.also_reported_by] == ["Hill Post"]
    moved = pipeline.store.publications.get(doaba.id, "es", "site")
    assert moved.remote_id == first.remote_id and moved.revision != first.revision  # updated, not created
    assert {w.get("url") for w in based_on(doc)} == {canonical("hill"), canonical("doaba")}
    history = [e.reason or "" for e in pipeline.store.entries.history(hill.id)]
    assert any("new facts" in reason for reason in history)


def test_separate_sources_are_published_as_before_and_still_share_the_story(tmp_path):
    from samachar.stories.policy import story_index

    routes = {**outlet_routes("hill", WIRE), **outlet_routes("doaba", WIRE)}
    with LoopbackSite(routes) as site:
        pipeline = make_pipeline(tmp_path)
        follow(pipeline, site, "hill")
        pipeline.run_once()
        follow(pipeline, site, "doaba", stories_mode="separate")
        pipeline.run_once()
    hill, doaba = entry_of(pipeline, "hill"), entry_of(pipeline, "doaba")
    assert hill.state is EntryState.PUBLISHED and doaba.state is EntryState.PUBLISHED
    assert pipeline.store.posts.count("es") == 2
    index = story_index(pipeline.store, pipeline.config)
    assert index.story_of(hill.id) is not None and index.story_of(hill.id) == index.story_of(doaba.id)


def test_separate_as_the_site_default(tmp_path):
    routes = {**outlet_routes("hill", WIRE), **outlet_routes("doaba", WIRE)}
    with LoopbackSite(routes) as site:
        pipeline = make_pipeline(tmp_path, mode="separate")
        follow(pipeline, site, "hill")
        follow(pipeline, site, "doaba")
        report = pipeline.run_once()
    assert report.published == 2 and pipeline.store.posts.count("es") == 2


# -- the demo ------------------------------------------------------------------------------------------

def test_the_demo_publishes_the_story_two_publishers_reported_once_crediting_both(tmp_path, monkeypatch, capsys):
    from samachar.demo import load_manifest
    from samachar.demo.run import run_demo

    monkeypatch.setenv("SAMACHAR_DATABASE_URL", database_url(tmp_path))
    out = tmp_path / "out"
    assert run_demo(tmp_path / "home", build_only=True, out=out, quiet=True, install=False) == 0
    capsys.readouterr()
    articles = load_manifest()["articles"]
    [konkan] = [a for a in articles if a["path"] == "/konkan-tide/business/rbi-holds-repo-rate.html"]
    [meridian] = [a for a in articles if a["path"] == "/meridian-wire/business/rbi-keeps-repo-rate-unchanged.html"]
    pages = [p for p in out.glob("articles/*/index.html")
             if {konkan["canonical_url"], meridian["canonical_url"]} & set(lxml_html.parse(str(p)).xpath("//a/@href"))]
    [page] = pages  # published once
    doc = lxml_html.parse(str(page)).getroot()
    text = doc.text_content()
    assert "Konkan Tide" in text and "Meridian Wire" in text
    links = set(doc.xpath("//a/@href"))
    assert {konkan["canonical_url"], meridian["canonical_url"]} <= links
    assert {w.get("url") for w in based_on(doc)} == {konkan["canonical_url"], meridian["canonical_url"]}
