"""What a reader sees, in Debian's headless Chromium driven by Playwright.

A built site is served by a static file server on 127.0.0.1. Requests for
any other host never leave the machine: images of the sample articles
(``*.example`` hosts) are answered by a local placeholder, anything else is
aborted and recorded. Set ``SAMACHAR_SCREENSHOTS=docs/screenshots`` to write
``home.png`` and ``article.png`` there.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import replace
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import pytest
from lxml import html as lxml_html
from site_data import loopback, samples, xss

from samachar.config import SiteConfig
from samachar.model import Block, Image, PublishedArticle
from samachar.publish.site import build_site

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PLACEHOLDER_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1600" height="900" viewBox="0 0 16 9">'
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#c9d6e8"/>'
    '<stop offset="1" stop-color="#7b93b5"/></linearGradient></defs><rect width="16" height="9" fill="url(#g)"/>'
    '<circle cx="12" cy="3" r="1.4" fill="#f4e3a1"/><path d="M0 9 L5 4 L9 7 L12 5 L16 9 Z" fill="#4d6584"/></svg>'
).encode()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed at /usr/bin/chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is not installed")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class Reader:
    """A browser page that records console errors, dialogs and off-machine requests."""

    def __init__(self, browser, *, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height}, locale="hi-IN")
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.external: list[str] = []
        self.page.on("console", lambda msg: self.errors.append(msg.text) if msg.type == "error" else None)
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on("dialog", self._dialog)
        self.page.route("**/*", self._route)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _route(self, route) -> None:
        parts = urlsplit(route.request.url)
        host = parts.hostname or ""
        if host == "127.0.0.1" or parts.scheme == "file":
            route.continue_()
        elif host.endswith(".example") and route.request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=PLACEHOLDER_SVG)
        else:
            self.external.append(route.request.url)
            route.abort()

    def open(self, url: str) -> None:
        response = self.page.goto(url, wait_until="load")
        assert response is not None and (url.startswith("file:") or response.status == 200), url

    def close(self) -> None:
        self.context.close()


def _luminance(rgb: str) -> float:
    channels = [int(c) / 255 for c in re.findall(r"\d+", rgb)[:3]]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(foreground: str, background: str) -> float:
    a, b = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (a + 0.05) / (b + 0.05)


@pytest.fixture(scope="module")
def sample_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    build_site(samples.sample_articles(), SiteConfig(base_url="https://news.example.in/", per_page=6), out)
    with loopback.serve_directory(out) as url:
        yield url


def test_reader_sees_hindi_home_and_article(browser, sample_site, tmp_path):
    reader = Reader(browser)
    page = reader.page
    reader.open(sample_site + "/")
    assert page.get_attribute("html", "lang") == "hi" and page.get_attribute("html", "dir") == "ltr"
    assert page.inner_text("h1") == "ताज़ा लेख"
    first = page.locator("h2.card-title a").first
    assert first.inner_text() == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"
    assert page.locator("li.card time").first.inner_text() == "28 नवंबर 2026"  # the original's date first
    if target := os.environ.get("SAMACHAR_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
    shot_dir = Path(os.environ.get("SAMACHAR_SCREENSHOTS") or tmp_path)
    page.screenshot(path=str(shot_dir / "home.png"), full_page=True)
    assert page.locator("a.skip-link").bounding_box()["y"] + page.locator("a.skip-link").bounding_box()["height"] <= 0
    # contrast of body text and links against the background (WCAG AA: 4.5)
    colors = page.evaluate("""() => {
        const s = (el) => getComputedStyle(el);
        return {text: s(document.body).color, bg: s(document.body).backgroundColor,
                link: s(document.querySelector('h2.card-title a')).color,
                muted: s(document.querySelector('.meta')).color};
    }""")
    for key in ("text", "link", "muted"):
        assert contrast(colors[key], colors["bg"]) >= 4.5, (key, colors)
    # the skip link is the first thing the keyboard reaches, and it becomes visible
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main"
    assert page.locator("a.skip-link").bounding_box()["y"] >= 0  # visible once focused

    first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith("/articles/moscow-pyongyang-talks/index.html")
    assert page.inner_text("h1") == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"
    assert page.title() == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की · समाचार"
    attribution = page.locator("aside.attribution")
    assert attribution.is_visible()
    text = attribution.inner_text()
    assert "मूल लेख" in text and "The Daily Ledger" in text and "28 नवंबर 2026" in text
    link = attribution.get_by_role("link", name="Moscow and Pyongyang discuss deeper cooperation")
    assert link.get_attribute("href") == "https://dailyledger.example/world/moscow-pyongyang-talks"
    assert link.is_visible()
    lead = page.locator("figure.lead-image img")
    assert lead.get_attribute("loading") is None and lead.get_attribute("fetchpriority") == "high"  # above the fold
    assert page.evaluate("document.querySelector('figure.lead-image img').naturalWidth") > 0
    ld = json.loads(page.locator("script[type='application/ld+json']").inner_text())
    assert ld["isBasedOn"]["url"] == "https://dailyledger.example/world/moscow-pyongyang-talks"
    page.screenshot(path=str(shot_dir / "article.png"), full_page=True)
    assert reader.errors == [] and reader.dialogs == [] and reader.external == []
    reader.close()


def test_small_screen_has_no_horizontal_scroll(browser, sample_site):
    reader = Reader(browser, width=360, height=740)
    for path in ("/", "/articles/moscow-pyongyang-talks/", "/" + quote("tags/शहर/")):
        reader.open(sample_site + path)
        assert reader.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    assert reader.errors == []
    reader.close()


def hostile_articles() -> list[PublishedArticle]:
    """One article per vector, the vector in every field a feed or page can supply."""
    base = samples.sample_articles()[0]
    out = []
    for i, vector in enumerate(xss.VECTORS):
        url_vector = xss.URL_VECTORS[i % len(xss.URL_VECTORS)]
        out.append(PublishedArticle(
            id=5000 + i, slug=vector, lang="hi", title=f"शीर्षक {i} {vector}",
            blocks=[Block("paragraph", f"सुरक्षित अनुच्छेद {i}. {vector}"),
                    Block("heading", vector, level=2),
                    Block("list_item", vector, group=1),
                    Block("quote", vector),
                    Block("figure", vector, image=Image(url_vector, alt=vector))],
            summary=vector, published_at=base.published_at, policy=("full", "excerpt", "link")[i % 3],
            original_title=vector, original_url=url_vector if i % 2 else f"https://hostile.example/{i}?q={vector}",
            publisher=vector, source_id=i % 4, source_name=vector, source_url=url_vector,
            authors=[vector, "लेखक"], original_published=base.original_published,
            image=Image(url_vector, alt=vector, width=10, height=10), categories=[vector, "सुरक्षा"],
            source_lang="en"))
    return out


URL_ATTRIBUTES = {"href", "src", "action", "formaction", "background", "data", "poster", "cite", "srcset",
                  "xlink:href", "{http://www.w3.org/1999/xlink}href", "ping", "lowsrc", "dynsrc"}
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
FORBIDDEN_ELEMENTS = {"iframe", "object", "embed", "base", "form", "input", "button", "svg", "math", "style",
                      "frame", "frameset", "applet", "video", "audio", "source", "body-extra"}


def assert_page_is_inert(body: bytes, path: str) -> None:
    page = lxml_html.fromstring(body)
    for element in page.iter():
        if not isinstance(element.tag, str):
            continue
        assert element.tag.lower() not in FORBIDDEN_ELEMENTS, (path, element.tag)
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), (path, element.tag, name)
            squeezed = re.sub(r"[\x00-\x20]", "", value).lower()
            if name.lower() in URL_ATTRIBUTES or (element.tag == "meta" and element.get("property") in (
                    "og:url", "og:image") or element.get("name") == "twitter:image"):
                assert not squeezed.startswith(BAD_SCHEMES), (path, element.tag, name, value)
        if element.tag == "script":
            assert element.get("type") == "application/ld+json" and not element.get("src"), path
            json.loads(element.text)  # a data block that did not break out of itself
        if element.tag == "meta":
            assert (element.get("http-equiv") or "").lower() in ("", "content-security-policy"), path
        if element.tag == "link":
            assert element.get("rel") in ("stylesheet", "icon", "alternate", "canonical"), path


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("hostile")
    articles = hostile_articles()
    build_site(articles, SiteConfig(base_url="https://news.example.in/", per_page=100), out)
    return out, articles


def test_hostile_content_is_inert_in_built_files_and_articles_survive(hostile_site):
    out, articles = hostile_site
    html_files = [p for p in out.rglob("*.html")]
    assert len(html_files) > len(articles)
    for file in html_files:
        assert_page_is_inert(file.read_bytes(), str(file.relative_to(out)))
    home = lxml_html.fromstring((out / "index.html").read_bytes())
    titles = home.xpath("//h2[@class='card-title']/a/text()")
    assert titles == [a.title for a in articles]  # every article is still published, title as plain text
    for link, article in zip(home.xpath("//h2[@class='card-title']/a/@href"), articles, strict=True):
        page = (out / unquote(link)).read_bytes()
        doc = lxml_html.fromstring(page)
        assert doc.xpath("//h1")[0].text_content() == article.title
        body = doc.xpath("//div[@class='article-body']")[0].text_content()
        assert f"सुरक्षित अनुच्छेद {article.id - 5000}." in body
        assert doc.xpath("//aside[@class='attribution']")
    for feed in out.rglob("feed.json"):
        for item in json.loads(feed.read_bytes())["items"]:
            assert_page_is_inert(f"<div>{item['content_html']}</div>".encode(), str(feed))
            assert not item.get("image") and not (item.get("external_url") or "").lower().startswith(BAD_SCHEMES)


def test_hostile_content_never_runs_in_chromium(browser, hostile_site):
    out, articles = hostile_site
    with loopback.serve_directory(out) as url:
        reader = Reader(browser)
        home = lxml_html.fromstring((out / "index.html").read_bytes())
        links = home.xpath("//h2[@class='card-title']/a/@href")
        links = ["/" + link for link in links]  # the export links relative to its root page
        extra = [*dict.fromkeys("/" + link for link in home.xpath("//p[@class='meta']/a/@href")),
                 "/" + quote("tags/सुरक्षा/"), "/404.html"]
        visited = 0
        for link in ["/", *links, *extra]:
            reader.open(url + link)
            visited += 1
            reader.page.hover("h1")
            state = reader.page.evaluate(f"() => typeof window.{xss.XSS_GLOBAL}")
            assert state == "undefined", link
        # an article page: the ld+json headline is the vector, intact, as data
        reader.open(url + links[33])
        ld = json.loads(reader.page.locator("script[type='application/ld+json']").inner_text())
        assert ld["headline"] == articles[33].title[:110]
        assert reader.page.inner_text("h1") == articles[33].title
        assert visited == len(links) + 1 + len(extra) and len(extra) == 6  # 4 sources, a tag, the 404
        assert reader.dialogs == []
        assert reader.errors == []
        assert reader.external == []
        reader.close()


DEVANAGARI_FONT_STATE = """async () => {
    await document.fonts.ready;
    const faces = [...document.fonts].filter(f => f.family.replace(/"/g, '') === 'Samachar Devanagari');
    return {faces: faces.map(f => f.weight + ':' + f.status),
            ready: document.fonts.check('700 20px "Samachar Devanagari"', 'क्ष')
                   && document.fonts.check('20px "Samachar Devanagari"', 'क्ष'),
            width: (() => {
                const probe = (family) => {
                    const span = document.createElement('span');
                    span.textContent = 'क्षत्रिय प्रधानमंत्री';
                    span.style.font = '40px ' + family;
                    span.style.whiteSpace = 'nowrap';
                    document.body.append(span);
                    const w = span.getBoundingClientRect().width;
                    span.remove();
                    return w;
                };
                return [probe('"Samachar Devanagari", monospace'), probe('monospace')];
            })()};
}"""


def test_hindi_renders_in_the_bundled_font_and_other_pages_do_not_load_it(browser, sample_site, tmp_path):
    reader = Reader(browser)
    fonts: list[str] = []
    reader.page.on("response", lambda r: fonts.append(f"{r.status} {r.url}") if ".woff2" in r.url else None)
    reader.open(sample_site + "/articles/moscow-pyongyang-talks/")
    state = reader.page.evaluate(DEVANAGARI_FONT_STATE)
    assert sorted(state["faces"]) == ["400:loaded", "700:loaded"] and state["ready"], state
    assert state["width"][0] != state["width"][1]  # the bundled font, not the fallback (or boxes), set it
    assert sorted(f.split("?")[0].rsplit("/", 1)[-1] for f in fonts) == [
        "noto-sans-devanagari-bold.woff2", "noto-sans-devanagari-regular.woff2"]
    assert all(f.startswith("200 ") for f in fonts)
    assert reader.errors == []  # the CSP lets the site's own fonts load
    # a Spanish site with no Devanagari on the page asks for neither the font nor its stylesheet
    article = samples.sample_articles()[0]
    spanish = replace(article, title="Moscú y Pionyang", summary="Resumen.", lang="es", image=None,
                      blocks=[Block("paragraph", "Texto.")], categories=["mundo"])
    out = tmp_path / "es"
    build_site([spanish], SiteConfig(language="es", title="Noticias", base_url="https://news.example.es/"), out)
    requested: list[str] = []
    reader.page.on("request", lambda r: requested.append(r.url))
    with loopback.serve_directory(out) as url:
        reader.open(url + "/articles/moscow-pyongyang-talks/")
        assert reader.page.evaluate("getComputedStyle(document.body).margin") == "0px"
    assert not [r for r in requested if "devanagari" in r or r.endswith(".woff2")], requested
    reader.close()


def test_the_export_opened_from_disk_is_styled_and_navigable(browser, tmp_path):
    out = tmp_path / "site"
    build_site(samples.sample_articles(), SiteConfig(base_url="https://news.example.in/", per_page=6), out)
    reader = Reader(browser)
    page = reader.page
    unstyled = page.evaluate("getComputedStyle(document.body).margin")  # about:blank, the browser's defaults
    reader.open((out / "index.html").as_uri())
    style = page.evaluate("""() => ({margin: getComputedStyle(document.body).margin,
        header: getComputedStyle(document.querySelector('.site-header')).backgroundColor})""")
    assert style["margin"] == "0px" and style["margin"] != unstyled and style["header"] != "rgba(0, 0, 0, 0)"
    page.locator("h2.card-title a").first.click()
    page.wait_for_load_state("load")
    assert page.url == (out / "articles" / "moscow-pyongyang-talks" / "index.html").as_uri()
    assert page.inner_text("h1") == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"
    assert page.evaluate("getComputedStyle(document.body).margin") == "0px"
    state = page.evaluate(DEVANAGARI_FONT_STATE)
    assert sorted(state["faces"]) == ["400:loaded", "700:loaded"], state
    page.locator("nav.tags a").first.click()
    page.wait_for_load_state("load")
    assert page.url.startswith((out / "tags").as_uri()) and page.url.endswith("/index.html")
    assert page.locator("h2.card-title a").count() >= 1
    page.locator("a.site-title").click()
    page.wait_for_load_state("load")
    assert page.url == (out / "index.html").as_uri() and page.inner_text("h1") == "ताज़ा लेख"
    assert reader.errors == [] and reader.external == []
    reader.close()
