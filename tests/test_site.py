"""Render tests for every page type of the built-in site."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from lxml import html as lxml_html
from site_data import BASE, samples

from samachar.config import SiteConfig
from samachar.errors import ConfigError
from samachar.model import Block, Image
from samachar.publish import i18n
from samachar.publish.site import SiteView, build_site, render_site, slugify


def doc(pages: dict[str, bytes], path: str):
    return lxml_html.fromstring(pages[path])


def test_every_page_type_is_rendered(pages, articles):
    expected = {"index.html", "page/2/index.html", "page/3/index.html", "404.html", "static/site.css",
                "feed.xml", "atom.xml", "feed.json", "sources/1/index.html", "sources/2/feed.xml",
                "tags/शहर/index.html", "tags/शहर/atom.xml", "tags/कारोबार/feed.json"}
    expected |= {f"articles/{a.slug}/index.html" for a in articles}
    assert expected <= set(pages)
    assert "page/4/index.html" not in pages  # 8 articles, 3 per page
    # every HTML page parses and carries the site chrome
    for path, body in pages.items():
        if path.endswith(".html"):
            page = lxml_html.fromstring(body)
            assert page.get("lang") == "hi", path
            assert page.xpath("//main[@id='main']"), path


def test_home_lists_latest_articles_with_pagination(pages, articles):
    home = doc(pages, "index.html")
    titles = [a.text_content() for a in home.xpath("//main//h2[@class='card-title']/a")]
    assert titles == [a.title for a in articles[:3]]
    assert home.xpath("//h1")[0].text_content() == "ताज़ा लेख"
    assert home.xpath("//a[@rel='next']/@href") == ["page/2/index.html"]  # relative: the export opens from disk
    assert not home.xpath("//a[@rel='prev']")
    middle = doc(pages, "page/2/index.html")
    assert [a.text_content() for a in middle.xpath("//h2[@class='card-title']/a")] == [a.title for a in articles[3:6]]
    assert middle.xpath("//a[@rel='prev']/@href") == ["../../index.html"]
    assert middle.xpath("//a[@rel='next']/@href") == ["../3/index.html"]
    assert "पृष्ठ 2 / 3" in middle.xpath("//nav[@class='pagination']")[0].text_content()
    last = doc(pages, "page/3/index.html")
    assert len(last.xpath("//li[@class='card']")) == 2 and not last.xpath("//a[@rel='next']")
    # localized dates on the card, machine-readable in datetime: the original's first, ours second
    published, republished = home.xpath("//li[@class='card'][1]//time")
    assert published.text == "28 नवंबर 2026" and published.get("datetime") == "2026-11-28T21:40:00+00:00"
    assert republished.text == "29 नवंबर 2026" and republished.get("datetime").startswith("2026-11-29T06:15")


def test_landmarks_skip_link_lang_dir_and_alt_text(pages):
    for path in ("index.html", "articles/moscow-pyongyang-talks/index.html", "404.html", "tags/शहर/index.html"):
        page = doc(pages, path)
        assert page.get("lang") == "hi" and page.get("dir") == "ltr"
        skip = page.xpath("//body/a[1]")[0]
        assert skip.get("href") == "#main" and skip.text == "मुख्य सामग्री पर जाएँ"
        assert page.xpath("//body/header") and page.xpath("//body/footer") and page.xpath("//nav[@aria-label]")
        assert all(img.get("alt") is not None for img in page.xpath("//img")), path
        assert page.xpath("//meta[@name='viewport']")


def test_right_to_left_language_sets_dir():
    articles = samples.sample_articles()[:1]
    page = lxml_html.fromstring(render_site(articles, SiteConfig(language="ur", title="خبریں"))["index.html"])
    assert page.get("lang") == "ur" and page.get("dir") == "rtl"


def test_article_page_shows_body_and_attribution(pages):
    page = doc(pages, "articles/moscow-pyongyang-talks/index.html")
    assert page.xpath("//h1")[0].text_content() == "मॉस्को और प्योंगयांग ने सहयोग बढ़ाने पर बात की"
    body = page.xpath("//div[@class='article-body']")[0]
    assert body.xpath(".//blockquote") and body.xpath(".//h2") and len(body.xpath(".//ul/li")) == 2
    assert body.xpath(".//strong")[0].text == "मॉस्को"
    aside = page.xpath("//aside[@class='attribution']")[0]
    text = aside.text_content()
    for expected in ("मूल लेख", "The Daily Ledger", "Anna Petrova, James Okafor", "28 नवंबर 2026",
                     "पूरा लेख, अनूदित", "अंग्रेज़ी से मशीनी अनुवाद"):
        assert expected in text
    link = aside.xpath(".//a[text()='Moscow and Pyongyang discuss deeper cooperation']")[0]
    assert link.get("href") == "https://dailyledger.example/world/moscow-pyongyang-talks"
    assert link.getparent().get("lang") == "en"
    assert page.xpath("//a[@rel='tag']/@href")[0] == "../../tags/%E0%A4%B5%E0%A4%BF%E0%A4%B6%E0%A5%8D%E0%A4%B5/index.html"


def test_article_head_canonical_social_and_jsonld(pages):
    page = doc(pages, "articles/moscow-pyongyang-talks/index.html")
    original = "https://dailyledger.example/world/moscow-pyongyang-talks"
    assert page.xpath("//link[@rel='canonical']/@href") == [original]
    meta = {m.get("property") or m.get("name"): m.get("content") for m in page.xpath("//meta[@content]")}
    assert meta["og:type"] == "article" and meta["og:title"].startswith("मॉस्को")
    assert meta["og:image"] == "https://images.dailyledger.example/2026/moscow-lead.jpg"
    assert meta["og:locale"] == "hi_IN" and meta["twitter:card"] == "summary_large_image"
    scripts = page.xpath("//script")
    assert len(scripts) == 1 and scripts[0].get("type") == "application/ld+json"
    data = json.loads(scripts[0].text)
    assert data["@type"] == "NewsArticle" and data["inLanguage"] == "hi"
    assert data["url"] == BASE + "articles/moscow-pyongyang-talks/"
    assert data["isBasedOn"]["url"] == original and data["isBasedOn"]["inLanguage"] == "en"
    assert data["isBasedOn"]["publisher"]["name"] == "The Daily Ledger"
    assert data["isBasedOn"]["datePublished"] == "2026-11-28T21:40:00+00:00"
    alternates = page.xpath("//link[@rel='alternate']/@type")
    assert alternates == ["application/rss+xml", "application/atom+xml", "application/feed+json"]


def test_canonical_self_points_at_own_page(articles):
    pages = render_site(articles, SiteConfig(base_url="https://news.example.in/hindi", canonical="self"))
    page = lxml_html.fromstring(pages["articles/heritage-walk/index.html"])
    assert page.xpath("//link[@rel='canonical']/@href") == ["https://news.example.in/hindi/articles/heritage-walk/"]
    assert page.xpath("//a[@class='site-title']/@href") == ["../../index.html"]  # relative, whatever the base path


def test_policies_excerpt_and_link(pages):
    excerpt = doc(pages, "articles/monsoon-reservoirs-full/index.html")
    more = excerpt.xpath("//p[@class='read-original']/a")[0]
    assert more.get("href") == "https://coastaltimes.example/news/2026/11/reservoirs"
    assert more.text == "पूरा लेख Coastal Times पर पढ़ें"
    assert "अंश, अनूदित" in excerpt.xpath("//aside")[0].text_content()
    link_only = doc(pages, "articles/city-metro-extension/index.html")
    body = link_only.xpath("//div[@class='article-body']")[0].text_content()
    assert "नई लाइन पर बारह स्टेशन होंगे" in body  # the summary stands in for the body
    aside = link_only.xpath("//aside")[0].text_content()
    assert "केवल शीर्षक और सारांश" in aside
    assert "लेखक" not in aside and "मूल प्रकाशन तिथि" not in aside  # unknown author/date are left out
    full = doc(pages, "articles/heritage-walk/index.html")
    assert not full.xpath("//p[@class='read-original']")


@pytest.mark.parametrize(("language", "heading", "dates", "label"), [
    ("en", "Latest articles", "Published November 28, 2026 · republished November 29, 2026", "Full text, translated"),
    ("es", "Últimos artículos", "Publicado el 28 de noviembre de 2026 · republicado el 29 de noviembre de 2026",
     "Texto completo, traducido"),
    ("hi", "ताज़ा लेख", "28 नवंबर 2026 को प्रकाशित · 29 नवंबर 2026 को पुनर्प्रकाशित", "पूरा लेख, अनूदित"),
])
def test_interface_languages(articles, language, heading, dates, label):
    pages = render_site(articles, SiteConfig(language=language, title="T", base_url=BASE))
    home = lxml_html.fromstring(pages["index.html"])
    assert home.get("lang") == language
    assert home.xpath("//h1")[0].text_content() == heading
    assert " ".join(home.xpath("//li[@class='card'][1]//*[@class='dates']")[0].text_content().split()) == dates
    article = lxml_html.fromstring(pages["articles/moscow-pyongyang-talks/index.html"])
    assert label in article.xpath("//aside")[0].text_content()


def test_unshipped_language_falls_back_to_english_strings(articles):
    pages = render_site(articles[:1], SiteConfig(language="fr", title="Nouvelles"))
    home = lxml_html.fromstring(pages["index.html"])
    assert home.get("lang") == "fr" and home.xpath("//h1")[0].text_content() == "Latest articles"
    assert home.xpath("//time")[0].text == "28 novembre 2026"  # Babel still formats the date in French


def test_operator_attribution_template(articles, tmp_path):
    template = tmp_path / "credit.html"
    template.write_text('<aside class="credit">{{ _("Publisher") }}: {{ article.publisher }} — '
                        '<a href="{{ original_url }}">{{ article.original_title }}</a> ({{ policy_label }})</aside>',
                        encoding="utf-8")
    hostile = replace(articles[0], publisher="<b>Ledger</b>")
    pages = render_site([hostile], SiteConfig(attribution_template=str(template)))
    page = lxml_html.fromstring(pages["articles/moscow-pyongyang-talks/index.html"])
    credit = page.xpath("//aside[@class='credit']")[0]
    assert credit.text_content().startswith("प्रकाशक: <b>Ledger</b> — ")  # autoescaped: text, not markup
    assert credit.xpath("a/@href") == ["https://dailyledger.example/world/moscow-pyongyang-talks"]
    assert not page.xpath("//aside[@class='attribution']")
    feed = pages["feed.json"].decode()
    assert "credit" in feed  # the feeds carry the operator's attribution too


def test_operator_attribution_template_errors_are_one_line(articles, tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        render_site(articles, SiteConfig(attribution_template=str(tmp_path / "missing.html")))
    broken = tmp_path / "broken.html"
    broken.write_text("{% if %}", encoding="utf-8")
    with pytest.raises(ConfigError, match="template error"):
        render_site(articles, SiteConfig(attribution_template=str(broken)))


def test_images_lazy_with_dimensions_and_unsafe_sources_dropped(pages, articles):
    page = doc(pages, "articles/moscow-pyongyang-talks/index.html")
    lead = page.xpath("//figure[@class='lead-image']/img")[0]
    # the lead image is above the fold: fetched at once, not lazily
    assert lead.get("loading") is None and lead.get("fetchpriority") == "high"
    assert (lead.get("width"), lead.get("height")) == ("1600", "900")
    assert lead.get("alt") == "क्रेमलिन के पास एक चौक"
    no_dims = doc(pages, "articles/monsoon-reservoirs-full/index.html").xpath("//figure[@class='lead-image']/img")[0]
    assert no_dims.get("width") is None and no_dims.get("height") is None
    assert no_dims.get("alt") == ""  # an image without alt text gets none, never the headline
    bad = [replace(articles[0], id=1, slug="a", image=Image("javascript:alert(1)")),
           replace(articles[0], id=2, slug="b", image=Image("data:image/png;base64,AAAA"),
                   blocks=[Block("figure", "cap", image=Image("data:image/svg+xml,<svg onload=alert(1)>"))])]
    built = render_site(bad, SiteConfig())
    for path in ("articles/a/index.html", "articles/b/index.html", "index.html"):
        srcs = lxml_html.fromstring(built[path]).xpath("//img/@src")
        assert all(s.startswith("https://") for s in srcs), (path, srcs)
    assert "cap" in lxml_html.fromstring(built["articles/b/index.html"]).xpath("//figcaption")[0].text_content()


def test_block_html_is_sanitized_again_and_text_fields_escaped(articles):
    article = replace(articles[3], title="<i>शीर्षक</i> & \"उद्धरण\"", authors=["<script>x()</script>"],
                      blocks=[Block("paragraph", 'ठीक <a href="javascript:alert(1)" onclick="x()">लिंक</a>'
                                                 '<img src=x onerror=alert(1)><script>alert(1)</script>')])
    page = lxml_html.fromstring(render_site([article], SiteConfig())[f"articles/{article.slug}/index.html"])
    assert page.xpath("//h1")[0].text_content() == "<i>शीर्षक</i> & \"उद्धरण\""
    assert not page.xpath("//h1/i")
    body = page.xpath("//div[@class='article-body']")[0]
    assert body.text_content().strip() == "ठीक लिंक"
    assert not body.xpath(".//img|.//script|.//@onclick") and body.xpath(".//a")[0].get("href") is None
    assert "<script>x()</script>" in page.xpath("//p[@class='meta']")[0].text_content()


def test_empty_site_renders(tmp_path):
    pages = render_site([], SiteConfig(language="es"))
    home = lxml_html.fromstring(pages["index.html"])
    assert "Todavía no hay artículos." in home.text_content()
    assert set(pages) == {"index.html", "404.html", "static/site.css", "static/favicon.svg",
                          "static/devanagari.css", "static/fonts/noto-sans-devanagari-regular.woff2",
                          "static/fonts/noto-sans-devanagari-bold.woff2", "static/fonts/OFL.txt",
                          "feed.xml", "atom.xml", "feed.json", "sitemap.xml", "sitemap-news.xml", "robots.txt"}


def test_404_page(pages):
    page = doc(pages, "404.html")
    assert page.xpath("//h1")[0].text == "पृष्ठ नहीं मिला"
    assert page.xpath("//meta[@name='robots']/@content") == ["noindex"]
    assert page.xpath("//main//a/@href") == ["/"]  # root-relative: hosts serve it at any depth


def test_duplicate_and_odd_slugs_get_distinct_paths(articles):
    a, b = replace(articles[0], id=1, slug="same"), replace(articles[1], id=2, slug="same")
    c = replace(articles[2], id=3, slug="../../etc/passwd")
    d = replace(articles[3], id=4, slug="")
    view = SiteView([a, b, c, d], SiteConfig())
    paths = [view.article_path(x) for x in (a, b, c, d)]
    assert paths == ["articles/same/", "articles/same-2/", "articles/etc-passwd/", "articles/4/"]
    assert all(view.render(p + "index.html") for p in paths)
    assert view.render("articles/../index.html") is None and view.render("page/1/index.html") is None


def test_slugify_keeps_devanagari_matras():
    assert slugify("मॉस्को यात्रा!") == "मॉस्को-यात्रा"
    assert slugify("World News") == "world-news"
    assert slugify("<script>") == "script"


def test_build_site_writes_every_page(articles, tmp_path):
    out = tmp_path / "site"
    count = build_site(articles, SiteConfig(base_url=BASE, per_page=3), out)
    files = [p for p in out.rglob("*") if p.is_file() and p.name != ".samachar-build.json"]
    assert count == len(files) == len(render_site(articles, SiteConfig(base_url=BASE, per_page=3)))
    assert (out / "tags" / "शहर" / "index.html").read_bytes().startswith(b"<!DOCTYPE html>")
    newer = [replace(articles[0], title="नया शीर्षक")] + articles[1:]
    build_site(newer, SiteConfig(base_url=BASE, per_page=3), out)  # a rebuild replaces pages in place
    assert "नया शीर्षक" in (out / "articles" / "moscow-pyongyang-talks" / "index.html").read_text(encoding="utf-8")
    assert not list(out.rglob("*.tmp"))


def test_catalogs_cover_every_interface_string():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    package = Path(i18n.__file__).parent
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    msgids = {msg[2] if isinstance(msg[2], str) else msg[2][0]
              for msg in extract_from_dir(str(package), method_map, options)}
    assert {"Skip to content", "Original article", "Full text, translated", "Page not found"} <= msgids
    for lang in i18n.SHIPPED_LANGUAGES:
        with i18n.catalog_path(lang).open("rb") as fh:
            catalog = read_po(fh)
        translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}
        missing = sorted(m for m in msgids if not translated.get(m)
                         or any(not form for form in ([translated[m]] if isinstance(translated[m], str)
                                                      else translated[m])))
        assert not missing, f"{lang}: untranslated {missing}"
        # the committed .mo is the compiled .po
        from babel.support import Translations
        compiled = Translations(__import__("io").BytesIO(i18n.compile_catalog(i18n.catalog_path(lang))))
        with i18n.catalog_path(lang, ".mo").open("rb") as fh:
            committed = Translations(fh)
        assert compiled._catalog == committed._catalog, f"{lang}: .mo is stale; run pybabel compile"


def test_dates_are_localized_by_babel():
    moment = datetime(2026, 11, 29, 4, 43, tzinfo=UTC)
    assert i18n.local_date(moment, "hi") == "29 नवंबर 2026"
    assert i18n.language_name("en", "hi") == "अंग्रेज़ी"
    assert i18n.text_direction("ar") == "rtl" and i18n.text_direction("hi") == "ltr"


# ---- dates: the original's first, ours second -------------------------------------------------


def test_article_page_shows_the_original_date_first_then_ours(pages):
    page = doc(pages, "articles/moscow-pyongyang-talks/index.html")
    published, republished = page.xpath("//header[@class='article-header']//time")
    assert (published.get("class"), published.get("datetime"), published.text) == \
        ("published", "2026-11-28T21:40:00+00:00", "28 नवंबर 2026")
    assert (republished.get("class"), republished.get("datetime"), republished.text) == \
        ("republished", "2026-11-29T06:15:00+00:00", "29 नवंबर 2026")
    meta = {m.get("property") or m.get("name"): m.get("content") for m in page.xpath("//meta[@content]")}
    assert meta["article:published_time"] == "2026-11-28T21:40:00+00:00"
    assert meta["article:modified_time"] == "2026-11-29T06:15:00+00:00"
    data = json.loads(page.xpath("//script[@type='application/ld+json']")[0].text)
    assert data["datePublished"] == "2026-11-28T21:40:00+00:00"
    assert data["dateModified"] == "2026-11-29T06:15:00+00:00"


def test_an_unknown_original_date_falls_back_to_ours_and_says_so(pages):
    for path, scope in (("index.html", "//li[@class='card'][3]"), ("articles/city-metro-extension/index.html",
                                                                   "//header[@class='article-header']")):
        page = doc(pages, path)
        [only] = page.xpath(scope + "//time")
        assert only.get("class") == "republished" and only.get("datetime") == "2026-11-28T18:30:00+00:00"
        assert " ".join(page.xpath(scope + "//*[@class='dates']")[0].text_content().split()) == \
            "28 नवंबर 2026 को पुनर्प्रकाशित"
    data = json.loads(doc(pages, "articles/city-metro-extension/index.html")
                      .xpath("//script[@type='application/ld+json']")[0].text)
    assert data["datePublished"] == data["dateModified"] == "2026-11-28T18:30:00+00:00"


def test_an_original_date_after_ours_is_not_trusted(articles):
    future = replace(articles[0], original_published=datetime(2027, 5, 1, tzinfo=UTC))
    page = lxml_html.fromstring(render_site([future], SiteConfig())["articles/moscow-pyongyang-talks/index.html"])
    assert [t.get("class") for t in page.xpath("//header//time")] == ["republished"]


def test_naive_dates_are_read_as_utc(articles):
    naive = replace(articles[0], published_at=datetime(2026, 11, 29, 6, 15),
                    original_published=datetime(2026, 11, 28, 21, 40))
    page = lxml_html.fromstring(render_site([naive], SiteConfig())["index.html"])
    assert page.xpath("//li[@class='card']//time/@datetime") == ["2026-11-28T21:40:00+00:00",
                                                                 "2026-11-29T06:15:00+00:00"]


# ---- a portable export ------------------------------------------------------------------------


def resolve(page_path: str, href: str) -> str:
    """The site file a relative link on ``page_path`` opens (as a file:// browser would)."""
    from urllib.parse import unquote, urljoin, urlsplit

    target = urlsplit(urljoin("file:///site/" + page_path, href))
    assert target.scheme == "file", (page_path, href)
    return unquote(target.path).removeprefix("/site/")


def test_every_link_of_the_export_is_relative_and_opens_a_file(pages):
    checked = 0
    for path, body in pages.items():
        if not path.endswith(".html") or path == "404.html":
            continue
        page = lxml_html.fromstring(body)
        for element, attribute in ((e, a) for e in page.iter() if isinstance(e.tag, str)
                                   for a in ("href", "src", "action") if e.get(a)):
            value = element.get(attribute)
            if value.startswith(("http://", "https://", "#")):
                continue
            assert not value.startswith("/"), (path, element.tag, value)
            assert resolve(path, value) in pages, (path, element.tag, value)
            checked += 1
    assert checked > 200


def test_live_pages_link_directories_relatively(articles):
    view = SiteView(articles, SiteConfig(base_url="https://news.example.in/hindi/", per_page=3), live=True)
    page = lxml_html.fromstring(view.render("articles/heritage-walk/index.html").body)
    assert page.xpath("//a[@class='site-title']/@href") == ["../../"]
    assert page.xpath("//form[@role='search']/@action") == ["../../search"]
    assert page.xpath("//link[@rel='stylesheet']/@href")[0].startswith("../../static/site.css?v=")
    home = lxml_html.fromstring(view.render("index.html").body)
    assert home.xpath("//a[@class='site-title']/@href") == ["./"]
    assert home.xpath("//a[@rel='next']/@href") == ["page/2/"]
    assert home.xpath("//h2[@class='card-title']/a/@href")[0] == "articles/moscow-pyongyang-talks/"


def test_asset_url_is_relative_to_the_page():
    from samachar.publish.site import asset_url

    assert asset_url("articles/x/index.html", "static/site.css") == "../../static/site.css"
    assert asset_url("index.html", "static/site.css") == "static/site.css"
    assert asset_url("page/2/index.html", "page/3/") == "../3/"
    assert asset_url("index.html", "") == "./"
    assert asset_url("articles/x/index.html", "articles/x/") == "./"
    assert asset_url("tags/a/index.html", "tags/शहर/") == "../%E0%A4%B6%E0%A4%B9%E0%A4%B0/"


# ---- the Devanagari webfont -------------------------------------------------------------------


def font_links(body: bytes) -> list[str]:
    return [href for href in lxml_html.fromstring(body).xpath("//link[@rel='stylesheet']/@href")
            if "devanagari" in href]


def test_the_devanagari_font_ships_with_the_site_and_its_licence(pages):
    for weight in ("regular", "bold"):
        font = pages[f"static/fonts/noto-sans-devanagari-{weight}.woff2"]
        assert font[:4] == b"wOF2" and 10_000 < len(font) < 80_000, (weight, len(font))
    licence = pages["static/fonts/OFL.txt"].decode("utf-8")
    assert "SIL Open Font License" in licence and "Google" in licence
    css = pages["static/devanagari.css"].decode()
    assert css.count("@font-face") == 2 and css.count("font-display: swap") == 2
    assert "unicode-range: U+0900-097F" in css
    assert "font-weight: 700" in css and "fonts/noto-sans-devanagari-bold.woff2?v=" in css
    assert '"Samachar Devanagari"' in pages["static/site.css"].decode()  # first in the family stack


def test_the_font_subset_covers_the_devanagari_block():
    fonttools = pytest.importorskip("fontTools.ttLib")
    pytest.importorskip("brotli")
    from samachar.publish.site import DEVANAGARI_RANGES, STATIC_DIR

    declared = {cp for first, last in DEVANAGARI_RANGES for cp in range(first, last + 1)}
    for weight in ("regular", "bold"):
        font = fonttools.TTFont(STATIC_DIR / "fonts" / f"noto-sans-devanagari-{weight}.woff2")
        covered = set(font.getBestCmap())
        assert covered <= declared  # nothing the unicode-range would never use
        assert {0x0915, 0x094D, 0x0937, 0x093F, 0x0964, 0x0966, 0x200D, 0x25CC} <= covered  # क ् ष ि । ० ZWJ ◌
        assert "GSUB" in font and "GPOS" in font  # conjuncts and matra placement


def test_the_font_is_linked_only_from_pages_with_devanagari(articles):
    hindi = render_site(articles, SiteConfig(base_url=BASE, per_page=3))
    for path in ("index.html", "articles/moscow-pyongyang-talks/index.html", "tags/शहर/index.html", "404.html"):
        [href] = font_links(hindi[path])
        if path == "404.html":
            assert href.startswith("/static/devanagari.css?v=")  # the 404 page links from the root
        else:
            assert resolve(path, href) == "static/devanagari.css"
    spanish = [replace(a, title=f"Noticia {a.id}", summary="Resumen.", categories=["mundo"], lang="es", image=None,
                       blocks=[Block("paragraph", "Texto en español.")]) for a in articles[:3]]
    mixed = spanish + [replace(articles[3], lang="hi")]
    pages = render_site(mixed, SiteConfig(language="es", title="Noticias", base_url=BASE, per_page=10))
    assert font_links(pages["articles/moscow-pyongyang-talks/index.html"]) == []
    assert font_links(pages["tags/mundo/index.html"]) == []
    assert font_links(pages["404.html"]) == []
    assert font_links(pages[f"articles/{articles[3].slug}/index.html"])  # a Hindi article on a Spanish site
    assert font_links(pages["index.html"])  # its card is on the home page


def test_pages_may_load_their_own_fonts_and_nothing_else():
    from samachar.publish.site import CSP_POLICY

    directives = dict(part.strip().split(" ", 1) for part in CSP_POLICY.split(";"))
    assert directives["font-src"] == "'self'" and directives["default-src"] == "'none'"


def test_every_static_file_is_package_data():
    """A wheel must carry the fonts and their licence, or an installed site renders boxes."""
    import fnmatch
    import tomllib

    from samachar.publish.site import STATIC_DIR

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    patterns = tomllib.loads(pyproject.read_text(encoding="utf-8"))["tool"]["setuptools"]["package-data"]["samachar"]
    files = [p for p in STATIC_DIR.rglob("*") if p.is_file()]
    assert any(p.suffix == ".woff2" for p in files)
    missing = [p.name for p in files if not any(fnmatch.fnmatch(p.name, pat.rsplit("/", 1)[-1]) for pat in patterns)]
    assert not missing


def test_a_source_page_sends_readers_to_the_publishers_site_not_its_feed(articles):
    first = replace(articles[0], source_site_url="https://paper.example/")
    page = lxml_html.fromstring(render_site([first], SiteConfig(base_url=BASE))[f"sources/{first.source_id}/index.html"])
    assert page.xpath("//p[@class='source-link']/a/@href") == ["https://paper.example/"]
    fallback = lxml_html.fromstring(render_site([articles[0]], SiteConfig(base_url=BASE))[
        f"sources/{articles[0].source_id}/index.html"])
    assert fallback.xpath("//p[@class='source-link']/a/@href") == [articles[0].source_url]
