"""Images end to end: a run stores each article's images (once per image, checked from the bytes), the built
site shows only its own copies, captions and credits translated; tag labels are translated (Apertium en→es)
on stable tag URLs; ``images = "hotlink"`` fetches nothing and links the publisher's files."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import database_url
from loopback import LoopbackSite
from lxml import html as lxml_html
from test_images_files import jpeg, png

from samachar.config import Config, SiteConfig, TranslationConfig
from samachar.pipeline import Pipeline
from samachar.service import SiteService
from samachar.store import Store
from samachar.translate.engines.apertium import ApertiumEngine

if not ApertiumEngine().supports("en", "es"):
    pytest.skip("Apertium eng-spa is not installed (apt-get install apertium apertium-eng-spa)", allow_module_level=True)

CLOUDS_SVG = ('<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" onload="alert(1)">'
              '<rect width="1200" height="630" fill="#345"/></svg>')
PAGE = """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title} | Hill Post</title>
<link rel="canonical" href="https://hillpost.example/{slug}">
<meta property="og:site_name" content="Hill Post">
<meta property="og:image" content="{{{{BASE}}}}/img/clouds.svg">
<meta property="article:tag" content="Monsoon">
</head>
<body><nav><a href="/">Home</a></nav><main><article><h1>{title}</h1>
<p class="standfirst">The weather office warned of heavy rain across the hills for the next two days.</p>
<figure class="lead"><img src="/img/clouds.svg" alt="Dark clouds over the hills" width="1200" height="630">
<figcaption>Dark clouds over Shimla on Monday. Photo: Hill Post</figcaption></figure>
<p>The district council in Shimla said on Monday that schools would stay shut on Tuesday, according to
<a href="https://hillpost.example/council">a statement from the council</a>.</p>
{figure}
<p>Residents of Shimla said the roads had been in poor shape since the monsoon, when heavy rain damaged
several bridges and retaining walls across the hills.</p>
<p>The council said the repairs would cost 12.5 million rupees and would start once the rain eased.</p>
</article></main><footer>© 2026 Hill Post</footer></body></html>"""
ROAD = '<figure><img src="/img/road.png" alt="A road washed away"><figcaption>The road near Solan.</figcaption></figure>'
FAKE = '<figure><img src="/img/fake.png" alt="Not an image"><figcaption>A fake picture.</figcaption></figure>'
RIVER = '<figure><img src="/img/river.jpg" alt="A swollen river"><figcaption>The river at Mandi.</figcaption></figure>'
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Hill Post</title><link>https://hillpost.example/</link><description>News</description>
<item><title>Rain shuts schools in Shimla</title><link>{{BASE}}/rain.html</link><guid>https://hillpost.example/rain</guid>
<category>Weather</category><pubDate>Fri, 20 Nov 2026 03:30:00 GMT</pubDate></item>
<item><title>Rivers rise in Mandi</title><link>{{BASE}}/river.html</link><guid>https://hillpost.example/river</guid>
<category>Weather</category><pubDate>Thu, 19 Nov 2026 03:30:00 GMT</pubDate></item>
</channel></rss>"""


def routes() -> dict:
    rain = PAGE.format(title="Rain shuts schools in Shimla", slug="rain", figure=ROAD + FAKE)
    river = PAGE.format(title="Rivers rise in Mandi", slug="river", figure=RIVER)
    return {
        "/feed.xml": (200, "application/rss+xml", FEED),
        "/rain.html": (200, "text/html; charset=utf-8", rain),
        "/river.html": (200, "text/html; charset=utf-8", river),
        "/img/clouds.svg": (200, "image/svg+xml", CLOUDS_SVG),
        "/img/road.png": (200, "image/png", png(64, 48)),
        "/img/fake.png": (200, "image/png", "<!DOCTYPE html><html><body>Sorry, hotlinking is not allowed</body></html>"),
        "/img/river.jpg": (200, "application/octet-stream", jpeg(800, 450)),  # the header lies; the bytes do not
    }


def make_pipeline(home: Path, images: str = "local") -> Pipeline:
    config = Config(home=home, site=SiteConfig(language="es", title="Noticias", base_url="https://noticias.example/",
                                               images=images),
                    translation=TranslationConfig(source_language="en", engines=["apertium"]),
                    default_policy="full")
    return Pipeline(Store(database_url(home)), config, allow_private=True)


def pages_of(out: Path) -> dict[str, lxml_html.HtmlElement]:
    return {p.relative_to(out).as_posix(): lxml_html.fromstring(p.read_bytes()) for p in out.rglob("*.html")}


def test_a_run_stores_each_image_once_and_the_site_shows_only_its_own_copies(tmp_path):
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        report = pipeline.run_once()
        assert report.published == 2, report.summary()  # the refused image stopped nothing
        assert site.hits["/img/clouds.svg"] == 1  # shared by both articles, fetched once
        assert all(site.hits[p] == 1 for p in ("/img/road.png", "/img/fake.png", "/img/river.jpg"))
        images = pipeline.store.images
        assert "not a JPEG, PNG" in images.error(site.url("/img/fake.png"))
        stored = images.files_for([site.url(p) for p in ("/img/clouds.svg", "/img/road.png", "/img/river.jpg")])
        assert {s.content_type for s in stored.values()} == {"image/svg+xml", "image/png", "image/jpeg"}
        assert stored[site.url("/img/river.jpg")].width == 800

        pipeline.store.sources.schedule_now()
        again = make_pipeline(tmp_path).run_once()
        assert again.published == 0 and site.hits["/img/clouds.svg"] == 1  # nothing fetched twice

    out = tmp_path / "built"
    SiteService(pipeline.store, pipeline.config).build(out)
    media = sorted(p.name for p in (out / "media").iterdir())
    assert media == sorted(s.name for s in stored.values())  # three files, one per distinct image
    pages = pages_of(out)
    for path, doc in pages.items():
        assert not [s for s in doc.xpath("//@src") if s.startswith(("http:", "https:", "//"))], path
        for src in doc.xpath("//img/@src"):  # each a relative link to a file the build wrote
            target = (out / path).parent.joinpath(src).resolve()
            assert target.parent == (out / "media").resolve() and target.is_file(), (path, src)
    article = next(doc for path, doc in pages.items() if path.startswith("articles/") and "Shimla" in doc.text_content())
    lead = article.xpath("//figure[@class='lead-image']")[0]
    assert (lead.xpath("img/@width"), lead.xpath("img/@height")) == (["1200"], ["630"])
    caption = lead.xpath("figcaption")[0].text_content()
    assert "nubes" in caption.lower() and "Shimla" in caption  # translated, the name kept
    assert lead.xpath("figcaption/span[@class='credit']")[0].text_content().startswith("Foto")
    assert lead.xpath("img/@alt")[0].lower().startswith("nubes")
    body_images = article.xpath("//div[@class='article-body']//img")
    assert len(body_images) == 1 and body_images[0].get("alt") != "A road washed away"  # the fake one left out
    assert (out / "media").joinpath(stored[site.url("/img/clouds.svg")].name).read_bytes().find(b"onload") == -1

    # Tags (the feed's category): the label in Spanish, the URL from the English name.
    tags = {a.text_content(): a.get("href") for a in article.xpath("//nav[@class='tags']//a")}
    assert tags == {"Tiempo": "../../tags/weather/index.html"}, tags
    assert "tags/weather/index.html" in pages and "Tiempo" in pages["tags/weather/index.html"].xpath("//h1")[0].text_content()


def test_hotlink_fetches_no_image_and_links_the_publishers(tmp_path):
    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path, images="hotlink")
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        assert pipeline.run_once().published == 2
        assert not [p for p in site.hits if p.startswith("/img/")]
    out = tmp_path / "built"
    SiteService(pipeline.store, pipeline.config).build(out)
    assert not (out / "media").exists()
    srcs = {s for doc in pages_of(out).values() for s in doc.xpath("//figure[@class='lead-image']/img/@src")}
    assert srcs == {site.url("/img/clouds.svg")}


def test_the_demo_site_shows_its_own_images_with_captions(tmp_path):
    from test_end_to_end import run_cli

    out = tmp_path / "site"
    run_cli(tmp_path / "home", "demo", "--build-only", "--out", str(out))
    articles = sorted(out.glob("articles/*/index.html"))
    assert len(articles) >= 10
    for path in articles:
        doc = lxml_html.fromstring(path.read_bytes())
        lead = doc.xpath("//figure[@class='lead-image']")
        assert lead and lead[0].xpath("figcaption/span[@class='credit']"), path
        assert lead[0].xpath("string(figcaption)").strip() and lead[0].xpath("img/@alt")[0], path
        for src in doc.xpath("//img/@src"):
            assert not src.startswith(("http:", "https:", "//")), (path, src)
            target = path.parent.joinpath(src).resolve()
            assert target.parent == (out / "media").resolve() and target.is_file(), (path, src)



def test_a_site_published_before_images_were_stored_gets_them_on_the_next_run(tmp_path):
    """An upgrade: articles published by a version that stored no images get theirs on the next run."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import delete, update

    from samachar import stages
    from samachar.store.schema import images, schema_version

    with LoopbackSite(routes()) as site:
        pipeline = make_pipeline(tmp_path)
        pipeline.store.sources.add(site.url("/feed.xml"), policy="full")
        assert pipeline.run_once().published == 2
        with pipeline.store.engine.begin() as conn:  # as a version before schema v3 left it
            conn.execute(delete(images))
            conn.execute(update(schema_version).where(schema_version.c.version == 3)
                         .values(applied_at=datetime.now(UTC) + timedelta(days=1)))
        stages._BACKFILLED.clear()  # the upgraded version's first process
        again = make_pipeline(tmp_path).run_once()
        assert again.published == 0  # nothing published twice
        assert site.hits["/img/clouds.svg"] == 2 and site.hits["/img/river.jpg"] == 2
        assert make_pipeline(tmp_path).store.images.files_for([site.url("/img/river.jpg")])
