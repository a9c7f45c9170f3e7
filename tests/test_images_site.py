"""The site with its own images: local files named by content, sized, lazy below the fold, captions and
credits under the lead image, translated tag labels on stable tag URLs; the app serves the files safely."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urljoin

import pytest
from conftest import database_url
from lxml import html as lxml_html
from site_data import loopback

from samachar.config import SiteConfig
from samachar.images import read_image
from samachar.model import Block, Image, PublishedArticle
from samachar.publish.site import SiteView, build_site
from samachar.store import Store
from samachar.web.app import create_app

BASE = "https://news.example.in/"
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" onload="alert(1)">'
       b'<rect width="1200" height="630" fill="#358"/></svg>')
LEAD = "https://pub.example/img/lead.svg"
FIGURE = "https://pub.example/img/figure.svg"
BROKEN = "https://pub.example/img/broken.png"


def figure_svg(colour: str) -> bytes:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 960 540">'
            f'<rect width="960" height="540" fill="{colour}"/></svg>').encode()


def article(entry_id: int, slug: str, *, lead: str = LEAD, categories: list[str] | None = None,
            labels: dict[str, str] | None = None) -> PublishedArticle:
    return PublishedArticle(
        id=entry_id, slug=slug, lang="es", title="Lluvia intensa en la ciudad",
        blocks=[Block("paragraph", "La oficina meteorológica advirtió de lluvias."),
                Block("figure", "Nubes sobre la carretera.", image=Image(lead, alt="Nubes")),  # the lead again
                Block("figure", "Una carretera inundada. Foto: El Correo",
                      image=Image(FIGURE, alt="Una carretera inundada", width=10, height=10)),
                Block("figure", "Pie de una imagen perdida", image=Image(BROKEN, alt="perdida")),
                Block("paragraph", "El agua bajó por la tarde.")],
        summary=None, published_at=datetime(2026, 11, 29, 6, 15, tzinfo=UTC), policy="full",
        original_title="Heavy rain in the city", original_url=f"https://pub.example/news/{slug}",
        publisher="The Courier", source_id=1, source_name="The Courier", source_url="https://pub.example/",
        image=Image(lead, alt="Nubes oscuras sobre una carretera", caption="Nubes oscuras el lunes.",
                    credit="Foto: El Correo"),
        categories=categories if categories is not None else ["Weather", "Rain"],
        tag_labels=labels if labels is not None else {"Weather": "Tiempo", "Rain": "Lluvia"}, source_lang="en",
    )


@pytest.fixture
def store(tmp_path):
    store = Store(database_url(tmp_path))
    store.images.save(LEAD, read_image(SVG))
    store.images.save(FIGURE, read_image(figure_svg("#063")))
    store.images.save_error(BROKEN, "NotAnImage: not a JPEG, PNG, GIF, WebP, AVIF or SVG image")
    yield store
    store.close()


def local(**extra) -> SiteConfig:
    return SiteConfig(language="es", title="Noticias", base_url=BASE, **extra)


def page(built: dict[str, bytes] | Path, path: str):
    body = (built / path).read_bytes() if isinstance(built, Path) else built[path]
    return lxml_html.fromstring(body)


def test_local_images_sized_named_by_content_and_lazy_below_the_fold(store, tmp_path):
    out = tmp_path / "site"
    build_site([article(1, "lluvia")], local(), out, media=store.images)
    doc = page(out, "articles/lluvia/index.html")
    lead = doc.xpath("//figure[@class='lead-image']/img")[0]
    lead_file = store.images.files_for([LEAD])[LEAD]
    assert lead.get("src") == f"../../media/{lead_file.name}"
    assert (out / "articles/lluvia" / lead.get("src")).resolve().read_bytes() == store.images.read(lead_file.name)[0]
    assert (lead.get("width"), lead.get("height")) == ("1200", "630")  # from the stored file
    assert lead.get("loading") is None and lead.get("fetchpriority") == "high"
    assert lead.get("alt") == "Nubes oscuras sobre una carretera"
    caption = doc.xpath("//figure[@class='lead-image']/figcaption")[0]
    assert "Nubes oscuras el lunes." in caption.text_content()
    assert caption.xpath(".//*[@class='credit']")[0].text_content() == "Foto: El Correo"
    body_images = doc.xpath("//div[@class='article-body']//img")
    figure_file = store.images.files_for([FIGURE])[FIGURE]
    assert [i.get("src") for i in body_images] == [f"../../media/{figure_file.name}"]  # lead once, broken left out
    assert body_images[0].get("loading") == "lazy" and (body_images[0].get("width"), body_images[0].get("height")) \
        == ("960", "540")
    assert "Pie de una imagen perdida" in doc.text_content()  # the caption of an image not stored stays
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert re.search(r"img-src 'self'(;|$)", csp), csp
    assert doc.xpath("//meta[@property='og:image']/@content") == [f"{BASE}media/{lead_file.name}"]
    stored = (out / "media" / lead_file.name).read_bytes()
    assert b"onload" not in stored and stored == store.images.read(lead_file.name)[0]
    for path in out.rglob("*.html"):
        srcs = lxml_html.fromstring(path.read_bytes()).xpath("//img/@src")
        assert not [s for s in srcs if s.startswith(("http:", "https:", "//"))], (path, srcs)
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    assert feed["items"][0]["image"] == f"{BASE}media/{lead_file.name}"
    feed_srcs = lxml_html.fromstring(feed["items"][0]["content_html"]).xpath("//img/@src")
    assert feed_srcs == [f"{BASE}media/{figure_file.name}"]  # feeds need absolute URLs


def test_one_file_per_image_and_stale_files_go(store, tmp_path):
    out = tmp_path / "site"
    two = [article(1, "lluvia"), article(2, "lluvia-otra")]
    build_site(two, local(), out, media=store.images)
    files = sorted(p.name for p in (out / "media").iterdir())
    assert len(files) == 2 and files == sorted(f.name for f in store.images.files_for([LEAD, FIGURE]).values())
    other = "https://pub.example/img/other.svg"
    store.images.save(other, read_image(figure_svg("#600")))
    build_site([article(3, "sol", lead=other)], local(), out, media=store.images)
    names = {p.name for p in (out / "media").iterdir()}
    assert store.images.files_for([other])[other].name in names
    assert store.images.files_for([LEAD])[LEAD].name not in names  # no article uses it any more


def test_hotlink_keeps_the_publishers_urls(store):
    view = SiteView([article(1, "lluvia")], local(images="hotlink"), media=store.images)
    doc = lxml_html.fromstring(view.render("articles/lluvia/index.html").body)
    assert doc.xpath("//figure[@class='lead-image']/img/@src") == [LEAD]
    assert FIGURE in doc.xpath("//div[@class='article-body']//img/@src")
    csp = doc.xpath("//meta[@http-equiv='Content-Security-Policy']/@content")[0]
    assert "img-src 'self' https: http:" in csp
    assert not [p for p in view.paths() if p.startswith("media/")]


def test_tag_labels_are_translated_and_tag_urls_stay(store):
    view = SiteView([article(1, "lluvia")], local(), media=store.images)
    doc = lxml_html.fromstring(view.render("articles/lluvia/index.html").body)
    tags = {a.text_content(): a.get("href") for a in doc.xpath("//nav[@class='tags']//a")}
    assert tags == {"Tiempo": "../../tags/weather/index.html", "Lluvia": "../../tags/rain/index.html"}
    listing = lxml_html.fromstring(view.render("tags/weather/index.html").body)
    assert "Tiempo" in listing.xpath("//h1")[0].text_content() and "Weather" not in listing.xpath("//h1")[0].text_content()
    assert "tags/weather/feed.xml" in view.paths()


def test_alt_is_never_the_headline(store):
    bare = article(1, "lluvia")
    bare.image = Image(LEAD)
    doc = lxml_html.fromstring(SiteView([bare], local(), media=store.images).render("articles/lluvia/index.html").body)
    assert doc.xpath("//figure[@class='lead-image']/img/@alt") == [""]


def get(url: str, headers: dict[str, str] | None = None):
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def test_app_serves_media_from_the_database_safely(store):
    app = create_app(lambda: [article(1, "lluvia")], local(), media=store.images, refresh_seconds=3600)
    lead = store.images.files_for([LEAD])[LEAD]
    with loopback.serve_app(app) as url:
        status, headers, body = get(f"{url}/articles/lluvia/")
        assert status == 200 and re.search(r"img-src 'self'(;|$)", headers["Content-Security-Policy"])
        src = lxml_html.fromstring(body).xpath("//figure[@class='lead-image']/img/@src")[0]
        media_url = urljoin(f"{url}/articles/lluvia/", src)
        status, headers, body = get(media_url)
        assert status == 200 and body == store.images.read(lead.name)[0]
        assert headers["Content-Type"] == "image/svg+xml"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
        assert "immutable" in headers["Cache-Control"]
        assert get(media_url, {"If-None-Match": headers["ETag"]})[0] == 304
        assert get(f"{url}/media/0123456789abcdef.svg")[0] == 404
        assert get(f"{url}/media/..%2Fsamachar.db")[0] == 404
