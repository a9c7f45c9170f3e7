"""The built-in site: every page and feed rendered from published articles.

One :class:`SiteView` holds the articles and their indexes (by slug, source and
tag) and renders any page by its relative path; the static export renders them
all (:func:`render_site`, :func:`build_site`) and the ASGI app renders them on
demand (``live=True`` adds the search form), so both serve the same pages.

Paths (relative to the site root)::

    index.html, page/N/index.html                  latest articles, paginated
    articles/<slug>/index.html                     one article
    sources/<id>/index.html, …/page/N/index.html   one source
    tags/<slug>/index.html, …/page/N/index.html    one category/tag
    feed.xml, atom.xml, feed.json                  site feeds (also under sources/<id>/, tags/<slug>/)
    sitemap.xml (or sitemap-N.xml parts), sitemap-news.xml, robots.txt
    404.html, static/site.css, static/favicon.svg, static/devanagari.css, static/fonts/…

Links: every link, asset and feed URL in a page is relative to that page
(:func:`asset_url`), so the export works under any path prefix and opened from
disk; in the export a link to a directory names its ``index.html`` (file://
opens no directory index), in the app it stays ``…/``. Only ``404.html`` links
from the root (``/prefix/…`` from ``base_url``), because hosts serve it at any
depth. Feeds, sitemaps, canonicals and JSON-LD need absolute URLs: they use
``base_url``, and say so in the file when it is missing.

Dates: an article's date is its publisher's (``original_published``); our
republication comes second. Where the original date is unknown, or later than
ours (a publisher's clock we cannot trust), ours stands in and is labelled as
the republication. Lists and feeds stay ordered by republication, newest
first: that is what is new on this site, and pages never reshuffle when an old
story arrives.

Search engines (``[site] seo``, per source ``sources.seo``): ``canonical``
links ``rel=canonical`` to the original; ``noindex`` asks not to index our
copy (``<meta name="robots" content="noindex">``, no canonical: Google's advice
for syndicated copies, and a canonical beside it would be a conflicting
signal); ``index`` makes our page its own canonical. The older ``[site]
canonical = "self"`` means ``index`` unless ``seo`` is set to something other
than its default. Noindex pages stay out of the sitemaps.

Fonts: Noto Sans Devanagari (OFL, subset by ``tools/build_font.py``) ships in
``static/fonts/``; ``static/devanagari.css`` declares it with ``font-display:
swap`` and a Devanagari ``unicode-range``, and only pages whose body holds
Devanagari text link that stylesheet.

Images (``[site] images``): ``local`` (the default) shows the copies the
pipeline stored (:class:`~samachar.store.images.ImageRepository`), as
``media/<content hash>.<ext>`` beside the pages, sized from the stored file,
and leaves out an image that could not be stored; the pages' CSP then allows
images from the site only. ``hotlink`` shows the publisher's URLs, as does a
view given no image store. The lead image is shown once, in a figure with its
translated caption and credit, loaded at once; body images load lazily. Tags
keep their URL (the slug of the source's name) and show their translated label.

Safety: templates autoescape everything; article block HTML is sanitized
again here with the project's allow-list before it is marked safe (cheap, and
it keeps rows stored by older versions honest); URLs that reach ``href``/``src``
must be http(s).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, Template, TemplateError
from markupsafe import Markup

from samachar.config import SiteConfig
from samachar.errors import ConfigError
from samachar.extract.sanitize import sanitize_html
from samachar.model import Block, Image, PublishedArticle, blocks_to_html, html_to_text
from samachar.publish import feeds, i18n, sitemaps

DEFAULT_BASE_URL = "http://localhost:8000/"  # used for absolute URLs when site.base_url is empty
FEED_ITEMS = 50
SUMMARY_WORDS = 40
STATIC_DIR = Path(__file__).parent / "static"
DEVANAGARI_FAMILY = "Samachar Devanagari"  # the @font-face name; site.css puts it first in its stack
DEVANAGARI_FONT_FILES = {"regular": "noto-sans-devanagari-regular.woff2", "bold": "noto-sans-devanagari-bold.woff2"}
# What the font is cut to and what its unicode-range declares: Devanagari, Vedic extensions, Devanagari
# Extended, common Indic number forms, ZWNJ/ZWJ, the rupee sign and the dotted circle shapers show
# for a stray matra. Latin digits and punctuation stay with the reader's Latin font.
DEVANAGARI_RANGES = ((0x0900, 0x097F), (0x1CD0, 0x1CF9), (0x200C, 0x200D), (0x20B9, 0x20B9), (0x20F0, 0x20F0),
                     (0x25CC, 0x25CC), (0xA830, 0xA839), (0xA8E0, 0xA8FF))
_DEVANAGARI_TEXT = re.compile("[\u0900-\u097f\u1cd0-\u1cf9\ua8e0-\ua8ff]")
FONT_CSS = "devanagari.css"  # generated from the constants above
STATIC_FILES = {"site.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml",
                **{f"fonts/{name}": "font/woff2" for name in DEVANAGARI_FONT_FILES.values()},
                "fonts/OFL.txt": "text/plain; charset=utf-8"}
# Meta-delivered policy for every page (static hosts too); the app adds frame-ancestors as a header.
CSP_POLICY = ("default-src 'none'; style-src 'self'; font-src 'self'; img-src 'self' https: http:; "
              "form-action 'self'; base-uri 'none'")
MEDIA_DIR = "media"  # stored images, named by content: media/<hash>.<ext>
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".woff2": "font/woff2",
}
FEED_FILES = {"feed.xml": "application/rss+xml; charset=utf-8",
              "atom.xml": "application/atom+xml; charset=utf-8",
              "feed.json": "application/feed+json; charset=utf-8"}
CRAWLER_FILES = {"sitemap.xml": CONTENT_TYPES[".xml"], "sitemap-news.xml": CONTENT_TYPES[".xml"],
                 "robots.txt": CONTENT_TYPES[".txt"]}
TIME_DEPENDENT_FILES = {"sitemap-news.xml"}  # changes as articles age, not only when they change
SEO_CHOICES = ("canonical", "noindex", "index")
SITEMAP_MAX_URLS = sitemaps.MAX_URLS_PER_FILE
NEWS_WINDOW = timedelta(days=2)  # Google News: articles of the last two days
MISSING_BASE_URL_NOTE = (f"samachar: [site] base_url is not set in samachar.toml, so the URLs here use the "
                         f"placeholder {DEFAULT_BASE_URL}; set base_url to the site's address and build again.")


def _(message: str) -> str:
    """Marks a msgid for extraction; translated at render time."""
    return message


POLICY_LABELS = {
    "full": _("Full text, translated"),
    "excerpt": _("Excerpt, translated"),
    "link": _("Headline and summary only"),
}


@dataclass
class Page:
    body: bytes
    content_type: str


@dataclass(frozen=True)
class ArticleDates:
    """What a reader is told of an article's dates: its publisher's first, our republication second."""

    published: datetime  # the original's date; ours where that is unknown or not believable
    republished: datetime
    original_known: bool


def _aware(value: datetime) -> datetime:
    """A stored datetime without a zone is UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def article_dates(article: PublishedArticle) -> ArticleDates:
    ours = _aware(article.published_at)
    original = _aware(article.original_published) if article.original_published else None
    if original is not None and original <= ours:
        return ArticleDates(original, ours, True)
    return ArticleDates(ours, ours, False)


def asset_url(page_path: str, target_path: str) -> str:
    """The relative, percent-encoded URL from the page at ``page_path`` to the site path ``target_path``.

    Both are site-relative (``articles/x/index.html``, ``static/site.css``, ``tags/a/``); a
    target ending in ``/`` (or empty, the root) is a directory and stays one. Relative URLs keep
    the site working under any path prefix and opened from disk.
    """
    page_dir = page_path.split("/")[:-1]
    target = target_path.split("/")
    common = 0
    while common < len(page_dir) and common < len(target) - 1 and page_dir[common] == target[common]:
        common += 1
    url = "/".join([".."] * (len(page_dir) - common) + target[common:])
    return quote(url, safe="/?=&") or "./"


@dataclass
class Listing:
    """A paginated list of articles: the home page, one source, or one tag."""

    kind: str  # "home", "source", "tag"
    base: str  # path prefix: "", "sources/3/", "tags/world/"
    name: str
    articles: list[PublishedArticle] = field(default_factory=list)
    home_url: str | None = None  # the source's own site, for source listings


def safe_url(url: str | None) -> str | None:
    """``url`` if it is an absolute http(s) URL without control characters, else None."""
    if not url:
        return None
    url = url.strip()
    if any(ord(ch) < 0x21 or ch in "<>\"'`\\" for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def _word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LMN"


def slugify(text: str, *, fold_case: bool = True) -> str:
    """A URL path segment: letters (any script, matras included), digits and hyphens."""
    text = unicodedata.normalize("NFC", text or "")
    if fold_case:
        text = text.casefold()
    out: list[str] = []
    for ch in text:
        if _word_char(ch) or (not fold_case and ch in "_"):
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out).strip("-")[:96].strip("-")
    return slug


def _tag_slug(name: str) -> str:
    return slugify(name) or "tag-" + hashlib.blake2b(name.encode(), digest_size=4).hexdigest()


def _summary_text(article: PublishedArticle, words: int = SUMMARY_WORDS) -> str:
    text = html_to_text(article.summary or "")
    if not text:
        text = next((b.text for b in article.blocks if b.kind == "paragraph" and b.text), "")
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def csp_policy(local_images: bool) -> str:
    """The pages' Content-Security-Policy: images from the site only when it serves its own."""
    return CSP_POLICY.replace("img-src 'self' https: http:", "img-src 'self'") if local_images else CSP_POLICY


class MediaLibrary(Protocol):
    """Where a site finds its stored images (the store's ``images``)."""

    def files_for(self, urls: list[str]) -> dict: ...  # source URL → StoredImage (name, content_type, width, height)

    def read(self, name: str) -> tuple[bytes, str] | None: ...  # a file's bytes and Content-Type


def _clean_blocks(article: PublishedArticle, resolve: Callable[[Image], Image | None]) -> list[Block]:
    """Blocks re-sanitized, each image as the site shows it (``resolve``; None: the image is left out,
    its caption stays). The lead image is shown above the body, so a figure repeating it is not shown again.
    """
    cleaned: list[Block] = []
    lead = article.image.src if article.image is not None else None
    for block in article.blocks:
        image = block.image
        if image is not None:
            if block.kind == "figure" and image.src == lead:
                continue
            image = resolve(image)
        html = sanitize_html(block.html, article.original_url if safe_url(article.original_url) else None,
                             inline_only=True)
        if block.kind == "figure" and image is None and not html:
            continue
        cleaned.append(replace(block, html=html, image=image))
    return cleaned


def template_environment(lang: str, attribution_template: str | None = None) -> Environment:
    """A Jinja environment for one interface language; autoescaping on for every template."""
    env = Environment(
        loader=PackageLoader("samachar.publish", "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(i18n.translations_for(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["date"] = lambda value, fmt="long": i18n.local_date(value, lang, fmt)
    env.filters["number"] = lambda value: i18n.local_number(value, lang)
    env.filters["isodate"] = lambda value: value.isoformat() if value else ""
    env.filters["langname"] = lambda code: i18n.language_name(code, lang)
    env.globals["attribution"] = _attribution_template(env, attribution_template)
    return env


def _attribution_template(env: Environment, path: str | None) -> Template:
    if not path:
        return env.get_template("attribution.html")
    file = Path(path).expanduser()
    try:
        return env.from_string(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"site.attribution_template {file}: cannot read it ({exc.strerror}); "
                          "fix the path in samachar.toml") from exc
    except TemplateError as exc:
        raise ConfigError(f"site.attribution_template {file}: template error: {exc}") from exc


class SiteView:
    """Published articles plus the indexes needed to render any page of the site.

    ``live`` marks the served site (search form shown; the static export has no
    search endpoint; directory links without ``index.html``). ``now`` is the
    moment the news sitemap counts back from (the current time when None).
    """

    def __init__(self, articles: list[PublishedArticle], site: SiteConfig, *, live: bool = False,
                 now: datetime | None = None, media: MediaLibrary | None = None):
        self.site = site
        self.live = live
        self.now = now
        self.media = media if site.images == "local" else None
        self.media_files: dict = {}  # image URL → StoredImage, when the site serves its own images
        self.csp = csp_policy(self.media is not None)
        self.lang = i18n.normalize_language(site.language)
        self.dir = i18n.text_direction(site.language)
        self.env = template_environment(site.language, site.attribution_template)
        self.translations = i18n.translations_for(site.language)
        base = (site.base_url or "").strip() or DEFAULT_BASE_URL
        self.base_url = base if base.endswith("/") else base + "/"
        self.base_url_note = None if (site.base_url or "").strip() else MISSING_BASE_URL_NOTE
        self.prefix = urlsplit(self.base_url).path or "/"
        self.seo_default = site_seo(site)
        self.static = {name: (STATIC_DIR / name).read_bytes() for name in STATIC_FILES}
        self.static_types = dict(STATIC_FILES)
        self.static[FONT_CSS] = devanagari_css({weight: _version(self.static[f"fonts/{name}"])
                                                for weight, name in DEVANAGARI_FONT_FILES.items()}).encode()
        self.static_types[FONT_CSS] = CONTENT_TYPES[".css"]
        self.css_version = _version(self.static["site.css"])
        self.font_css_version = _version(self.static[FONT_CSS])
        self._body_cache: dict[tuple[int, str | None], Markup] = {}
        self._attribution_cache: dict[int, Markup] = {}
        self._feed_item_cache: dict[int, feeds.FeedItem] = {}
        self._feed_info_cache: dict[str, feeds.FeedInfo] = {}
        self._sitemap_cache: list[list[sitemaps.SitemapUrl]] | None = None

        self.articles: list[PublishedArticle] = []
        self.by_segment: dict[str, PublishedArticle] = {}
        self.segment_of: dict[int, str] = {}
        self.home = Listing("home", "", site.title)
        self.sources: dict[str, Listing] = {}
        self.tags: dict[str, Listing] = {}
        for article in articles:
            if article.id in self.segment_of:
                continue
            segment = slugify(article.slug, fold_case=False) or str(article.id)
            if segment in self.by_segment:
                segment = f"{segment}-{article.id}"
            self.by_segment[segment] = article
            self.segment_of[article.id] = segment
            self.articles.append(article)
            self.home.articles.append(article)
            source_key = str(article.source_id)
            if source_key not in self.sources:
                self.sources[source_key] = Listing("source", f"sources/{source_key}/", article.source_name,
                                                   home_url=safe_url(article.source_site_url or article.source_url))
            self.sources[source_key].articles.append(article)
            seen: set[str] = set()
            for category in article.categories:
                slug = _tag_slug(category)
                if slug in seen:
                    continue
                seen.add(slug)
                label = article.tag_labels.get(category, category)
                self.tags.setdefault(slug, Listing("tag", f"tags/{slug}/", label)).articles.append(article)
        if self.media is not None:
            urls = [i.src for a in self.articles for i in [a.image, *(b.image for b in a.blocks)] if i is not None]
            self.media_files = self.media.files_for(list(dict.fromkeys(urls)))

    # ---- URLs -------------------------------------------------------------
    def url(self, path: str = "") -> str:
        """Root-relative link to a site path (percent-encoded): for the 404 page, served at any depth."""
        return quote(self.prefix + path, safe="/?=&")

    def href(self, page_path: str | None, target: str = "") -> str:
        """The link from the page at ``page_path`` to a site path; None: a page served at any depth.

        Relative (:func:`asset_url`); in the static export a directory link names its
        ``index.html``, because a browser opening files from disk shows no directory index.
        """
        if page_path is None:
            return self.url(target)
        if not self.live and (target == "" or target.endswith("/")):
            target += "index.html"
        return asset_url(page_path, target)

    def abs_url(self, path: str = "") -> str:
        return self.base_url + quote(path, safe="/?=&")

    def article_path(self, article: PublishedArticle) -> str:
        return f"articles/{self.segment_of[article.id]}/"

    def tag_path(self, name: str) -> str:
        return f"tags/{_tag_slug(name)}/"

    def seo_for(self, article: PublishedArticle) -> str:
        """The article's source's choice, else the site's (see the module docstring)."""
        return article.seo if article.seo in SEO_CHOICES else self.seo_default

    def canonical_for(self, article: PublishedArticle) -> str | None:
        """Where ``rel=canonical`` points; None for a noindex page, which gets none."""
        seo = self.seo_for(article)
        if seo == "noindex":
            return None
        if seo == "canonical" and (original := safe_url(article.original_url)):
            return original
        return self.abs_url(self.article_path(article))

    # ---- page inventory ---------------------------------------------------
    def listings(self) -> list[Listing]:
        return [self.home, *self.sources.values(), *self.tags.values()]

    def page_count(self, listing: Listing) -> int:
        return max(1, math.ceil(len(listing.articles) / max(1, self.site.per_page)))

    def paths(self) -> list[str]:
        """Every file of the static site, as relative paths."""
        out = ["index.html", "404.html", *(f"static/{name}" for name in self.static_types), *CRAWLER_FILES]
        parts = len(self._sitemap_parts())
        out.extend(f"sitemap-{n}.xml" for n in range(1, parts + 1) if parts > 1)
        for listing in self.listings():
            if listing.kind != "home":
                out.append(listing.base + "index.html")
            out.extend(f"{listing.base}page/{n}/index.html" for n in range(2, self.page_count(listing) + 1))
            out.extend(listing.base + name for name in FEED_FILES)
        out.extend(self.article_path(a) + "index.html" for a in self.articles)
        return out

    # ---- rendering --------------------------------------------------------
    def render(self, path: str) -> Page | None:
        """The page at a relative path (``articles/x/index.html``), or None when there is none."""
        parts = path.split("/")
        if parts[-1] == "":
            parts[-1] = "index.html"
        if path in ("404.html",):
            return self._html(self.render_not_found())
        if parts[0] == "static" and (name := "/".join(parts[1:])) in self.static_types:
            return Page(self.static[name], self.static_types[name])
        if len(parts) == 1 and (crawler := self.render_crawler_file(parts[0])) is not None:
            return crawler
        if len(parts) == 3 and parts[0] == "articles" and parts[2] == "index.html":
            article = self.by_segment.get(parts[1])
            return self._html(self.render_article(article)) if article else None
        listing, rest = self.home, parts
        if len(parts) >= 3 and parts[0] == "sources":
            listing, rest = self.sources.get(parts[1]), parts[2:]
        elif len(parts) >= 3 and parts[0] == "tags":
            listing, rest = self.tags.get(parts[1]), parts[2:]
        if listing is None:
            return None
        if rest == ["index.html"]:
            return self._html(self.render_listing(listing, 1))
        if len(rest) == 3 and rest[0] == "page" and rest[2] == "index.html" and rest[1].isascii() \
                and rest[1].isdigit() and not rest[1].startswith("0"):
            number = int(rest[1])
            if 2 <= number <= self.page_count(listing):
                return self._html(self.render_listing(listing, number))
            return None
        if len(rest) == 1 and rest[0] in FEED_FILES:
            return Page(self.render_feed(listing, rest[0]), FEED_FILES[rest[0]])
        return None

    def render_all(self) -> dict[str, bytes]:
        pages: dict[str, bytes] = {}
        for path in self.paths():
            page = self.render(path)
            assert page is not None, path
            pages[path] = page.body
        return pages

    def _html(self, text: str) -> Page:
        return Page(text.encode("utf-8"), CONTENT_TYPES[".html"])

    def _render_page(self, template: str, page_path: str | None, **extra: object) -> str:
        """A page from ``template``; the Devanagari font is linked only when the page's body shows Devanagari."""
        context = self._context(page_path, **extra)
        text = self.env.get_template(template).render(context)
        if not _DEVANAGARI_TEXT.search(text, text.find("<body")):
            text = text.replace(str(context["font_link"]), "", 1)
        return text

    def _context(self, page_path: str | None, **extra: object) -> dict[str, object]:
        """What every page template sees; ``href(target)`` links from this page (``page_path``) to a site path."""
        def href(target: str = "") -> str:
            return self.href(page_path, target)

        context: dict[str, object] = {
            "site": self.site, "lang": self.lang, "dir": self.dir, "live": self.live,
            "view": self, "csp": self.csp, "href": href, "page_path": page_path,
            "css_href": href(f"static/site.css?v={self.css_version}"),
            "font_link": Markup('<link rel="stylesheet" href="{}">').format(
                href(f"static/{FONT_CSS}?v={self.font_css_version}")),
            "icon_href": href("static/favicon.svg"),
            "site_feeds": self._feed_links(self.home, page_path),
            "extra_feeds": [], "canonical": None, "meta": {}, "jsonld": None, "noindex": False,
        }
        context.update(extra)
        return context

    def _feed_links(self, listing: Listing, page_path: str | None) -> list[dict[str, str]]:
        title = self.site.title if listing.kind == "home" else f"{self.site.title}: {listing.name}"
        return [
            {"type": "application/rss+xml", "href": self.href(page_path, listing.base + "feed.xml"),
             "title": f"{title} (RSS)"},
            {"type": "application/atom+xml", "href": self.href(page_path, listing.base + "atom.xml"),
             "title": f"{title} (Atom)"},
            {"type": "application/feed+json", "href": self.href(page_path, listing.base + "feed.json"),
             "title": f"{title} (JSON Feed)"},
        ]

    def card(self, article: PublishedArticle, page_path: str | None) -> dict[str, object]:
        """What a list on the page at ``page_path`` shows of one article."""
        return {"article": article, "href": self.href(page_path, self.article_path(article)),
                "summary": _summary_text(article), "image": self.image(article.image, page_path, decorative=True),
                "source_href": self.href(page_path, f"sources/{article.source_id}/"),
                "dates": article_dates(article)}

    def image(self, image: Image | None, page_path: str | None, *, decorative: bool = False) -> dict | None:
        """What a template needs of an image shown on the page at ``page_path`` (None: absolute URLs);
        None when it cannot be shown. Its alt is its own, never the headline."""
        shown = self.shown_image(image, page_path) if image is not None else None
        if shown is None:
            return None
        return {"src": shown.src, "alt": "" if decorative else shown.alt, "width": shown.width,
                "height": shown.height, "caption": shown.caption, "credit": shown.credit}

    def shown_image(self, image: Image, page_path: str | None) -> Image | None:
        """``image`` as this site shows it: its stored copy (sized from the file) or the publisher's URL."""
        if self.media is None:
            return replace(image, src=src) if (src := safe_url(image.src)) else None
        stored = self.media_files.get(image.src)
        if stored is None:
            return None
        path = f"{MEDIA_DIR}/{stored.name}"
        src = self.abs_url(path) if page_path is None else self.href(page_path, path)
        return replace(image, src=src, width=stored.width or image.width, height=stored.height or image.height)

    def media_paths(self) -> list[str]:
        """The stored image files the site's pages show (written beside them by the static export)."""
        return sorted({f"{MEDIA_DIR}/{stored.name}" for stored in self.media_files.values()})

    def body_html(self, article: PublishedArticle, page_path: str | None = None) -> Markup:
        """The article's blocks as HTML for the page at ``page_path`` (None: absolute URLs, for feeds):
        re-sanitized, unsafe or unstored image sources dropped."""
        key = (article.id, page_path)
        if key not in self._body_cache:
            blocks = _clean_blocks(article, lambda image: self.shown_image(image, page_path))
            self._body_cache[key] = Markup(blocks_to_html(blocks))
        return self._body_cache[key]

    def attribution_html(self, article: PublishedArticle) -> Markup:
        if article.id not in self._attribution_cache:
            template: Template = self.env.globals["attribution"]  # type: ignore[assignment]
            self._attribution_cache[article.id] = Markup(template.render(self.attribution_context(article)))
        return self._attribution_cache[article.id]

    def attribution_context(self, article: PublishedArticle) -> dict[str, object]:
        """What an attribution template sees (the operator's too), besides ``_``/``gettext``/``ngettext``:

        ``article`` (the PublishedArticle; its text fields are autoescaped), ``site``, ``lang``,
        ``original_url`` (http(s) or None), ``policy_label`` (translated), ``original_date``
        (localized, may be empty), ``source_language`` (its name in the site language),
        ``translated`` (source and site languages differ), ``credits`` (the other publishers that
        reported the story: ``publisher``, ``title``, ``url`` and ``site_url``, both http(s) or None,
        ``lang``). Filters: ``date``, ``isodate``, ``number``.
        """
        label = POLICY_LABELS.get(article.policy, POLICY_LABELS["link"])
        return {
            "article": article, "site": self.site, "lang": self.lang,
            "original_url": safe_url(article.original_url),
            "credits": [{"publisher": c.publisher, "title": c.title, "url": safe_url(c.url),
                         "site_url": safe_url(c.site_url), "lang": c.lang} for c in article.also_reported_by],
            "policy_label": self.translations.gettext(label),
            "original_date": i18n.local_date(article.original_published, self.lang),
            "source_language": i18n.language_name(article.source_lang, self.lang) if article.source_lang else "",
            "translated": bool(article.source_lang) and i18n.normalize_language(article.source_lang) != article.lang,
        }

    def render_listing(self, listing: Listing, number: int) -> str:
        per_page = max(1, self.site.per_page)
        total = self.page_count(listing)
        chunk = listing.articles[(number - 1) * per_page: number * per_page]
        page_dir = listing.base if number == 1 else f"{listing.base}page/{number}/"
        page_path = page_dir + "index.html"
        pagination = {
            "number": number, "total": total,
            "prev": None if number == 1 else self.href(
                page_path, listing.base if number == 2 else f"{listing.base}page/{number - 1}/"),
            "next": self.href(page_path, f"{listing.base}page/{number + 1}/") if number < total else None,
        }
        return self._render_page(
            "list.html", page_path,
            listing=listing, cards=[self.card(a, page_path) for a in chunk], pagination=pagination,
            canonical=self.abs_url(page_dir),
            extra_feeds=self._feed_links(listing, page_path) if listing.kind != "home" else [],
            meta={"og:type": "website", "og:title": self.site.title if listing.kind == "home" else listing.name,
                  "og:url": self.abs_url(page_dir), "og:site_name": self.site.title,
                  "og:locale": i18n.og_locale(self.lang), "twitter:card": "summary"},
        )

    def render_article(self, article: PublishedArticle) -> str:
        own_url = self.abs_url(self.article_path(article))
        page_path = self.article_path(article) + "index.html"
        seo = self.seo_for(article)
        canonical = self.canonical_for(article)
        dates = article_dates(article)
        image = self.image(article.image, page_path)
        shared_image = self.image(article.image, None)  # og:image and JSON-LD need an absolute URL
        description = _summary_text(article, 30)
        meta = {
            "og:type": "article", "og:title": article.title, "og:description": description,
            "og:url": canonical or own_url, "og:site_name": self.site.title,
            "og:locale": i18n.og_locale(article.lang or self.lang),
            "article:published_time": dates.published.isoformat(),
            "article:modified_time": dates.republished.isoformat(),
            "twitter:card": "summary_large_image" if image else "summary",
            "twitter:title": article.title, "twitter:description": description,
        }
        if shared_image:
            meta["og:image"] = meta["twitter:image"] = shared_image["src"]
            if shared_image["alt"]:
                meta["og:image:alt"] = shared_image["alt"]
        for category in article.categories[:6]:
            meta.setdefault("article:tag", article.tag_labels.get(category, category))
        return self._render_page(
            "article.html", page_path,
            article=article, image=image, body=self.body_html(article, page_path),
            attribution_block=self.attribution_html(article),
            original_url=safe_url(article.original_url),
            source_href=self.href(page_path, f"sources/{article.source_id}/"),
            tags=[{"name": article.tag_labels.get(c, c), "href": self.href(page_path, self.tag_path(c))}
                  for c in dict.fromkeys(article.categories)],
            summary=html_to_text(article.summary or ""), canonical=canonical, meta=meta,
            jsonld=self.jsonld(article, own_url, shared_image), seo=seo, noindex=seo == "noindex", dates=dates,
        )

    def jsonld(self, article: PublishedArticle, own_url: str, image: dict | None) -> dict[str, object]:
        original: dict[str, object] = {"@type": "NewsArticle", "headline": article.original_title,
                                       "publisher": {"@type": "Organization", "name": article.publisher}}
        if url := safe_url(article.original_url):
            original["url"] = url
            original["@id"] = url
        if article.source_lang:
            original["inLanguage"] = article.source_lang
        if article.original_published:
            original["datePublished"] = article.original_published.isoformat()
        if article.authors:
            original["author"] = [{"@type": "Person", "name": name} for name in article.authors]
        data: dict[str, object] = {
            "@context": "https://schema.org", "@type": "NewsArticle",
            "headline": article.title[:110], "inLanguage": article.lang or self.lang,
            "url": own_url, "mainEntityOfPage": own_url,
            "datePublished": article_dates(article).published.isoformat(),
            "dateModified": article_dates(article).republished.isoformat(),
            "publisher": {"@type": "Organization", "name": self.site.title, "url": self.base_url},
            "isBasedOn": [original, *self._credited_works(article)] if article.also_reported_by else original,
        }
        if article.authors:
            data["author"] = original["author"]
        if image:
            data["image"] = [image["src"]]
        if "url" in original and article.source_lang and article.source_lang != article.lang:
            data["translationOfWork"] = {"@id": original["url"]}
        if article.categories:
            data["keywords"] = list(dict.fromkeys(article.tag_labels.get(c, c) for c in article.categories))
        return data

    @staticmethod
    def _credited_works(article: PublishedArticle) -> list[dict[str, object]]:
        """The story's other reports, each a work the article is based on (JSON-LD ``isBasedOn``)."""
        works: list[dict[str, object]] = []
        for credit in article.also_reported_by:
            work: dict[str, object] = {"@type": "NewsArticle", "headline": credit.title,
                                       "publisher": {"@type": "Organization", "name": credit.publisher}}
            if url := safe_url(credit.url):
                work["url"] = work["@id"] = url
            if site := safe_url(credit.site_url):
                work["publisher"] = {"@type": "Organization", "name": credit.publisher, "url": site}
            if credit.lang:
                work["inLanguage"] = credit.lang
            works.append(work)
        return works

    def render_not_found(self) -> str:
        return self._render_page("404.html", None, noindex=True)

    def render_search(self, query: str, results: list[PublishedArticle] | None, page_path: str = "search") -> str:
        """The search page; ``page_path`` is where it was asked for (``search`` or ``search/index.html``)."""
        return self._render_page(
            "search.html", page_path,
            query=query, cards=[self.card(a, page_path) for a in results or [] if a.id in self.segment_of],
            searched=results is not None, noindex=True)

    # ---- feeds ------------------------------------------------------------
    def feed_info(self, listing: Listing) -> feeds.FeedInfo:
        if listing.base not in self._feed_info_cache:
            self._feed_info_cache[listing.base] = self._make_feed_info(listing)
        return self._feed_info_cache[listing.base]

    def _make_feed_info(self, listing: Listing) -> feeds.FeedInfo:
        gettext = self.translations.gettext
        if listing.kind == "home":
            title, description = self.site.title, gettext("Latest articles from %(site)s") % {"site": self.site.title}
        elif listing.kind == "source":
            title = f"{self.site.title}: {listing.name}"
            description = gettext("Articles from %(source)s") % {"source": listing.name}
        else:
            title = f"{self.site.title}: {listing.name}"
            description = gettext("Articles tagged %(tag)s") % {"tag": listing.name}
        items = [self.feed_item(a) for a in listing.articles[:FEED_ITEMS]]
        return feeds.FeedInfo(
            title=title, description=description, home_url=self.abs_url(listing.base),
            rss_url=self.abs_url(listing.base + "feed.xml"), atom_url=self.abs_url(listing.base + "atom.xml"),
            json_url=self.abs_url(listing.base + "feed.json"), language=self.lang, author=self.site.title,
            items=items, note=self.base_url_note,
        )

    def feed_item(self, article: PublishedArticle) -> feeds.FeedItem:
        if article.id not in self._feed_item_cache:
            self._feed_item_cache[article.id] = self._make_feed_item(article)
        return self._feed_item_cache[article.id]

    def _make_feed_item(self, article: PublishedArticle) -> feeds.FeedItem:
        content = self.env.get_template("feed_content.html").render(self._context(
            None, article=article, body=self.body_html(article, None), summary=html_to_text(article.summary or ""),
            original_url=safe_url(article.original_url), attribution_block=self.attribution_html(article)))
        image = self.image(article.image, None)
        dates = article_dates(article)
        return feeds.FeedItem(
            url=self.abs_url(self.article_path(article)), title=article.title, content_html=content.strip(),
            published=dates.published, updated=dates.republished, summary=_summary_text(article),
            original_url=safe_url(article.original_url), authors=list(article.authors),
            categories=list(dict.fromkeys(article.tag_labels.get(c, c) for c in article.categories)),
            image=image["src"] if image else None,
            language=article.lang,
            credits=[(c.publisher, url) for c in article.also_reported_by if (url := safe_url(c.url))],
        )

    def render_feed(self, listing: Listing, name: str) -> bytes:
        info = self.feed_info(listing)
        if name == "feed.xml":
            return feeds.rss_feed(info)
        if name == "atom.xml":
            return feeds.atom_feed(info)
        return feeds.json_feed(info)

    # ---- crawlers: sitemaps and robots.txt ---------------------------------
    def render_crawler_file(self, name: str) -> Page | None:
        """``robots.txt``, ``sitemap.xml`` (a urlset, or an index of ``sitemap-N.xml`` parts), ``sitemap-news.xml``."""
        xml = CONTENT_TYPES[".xml"]
        if name == "robots.txt":
            return Page(self.robots_txt(), CRAWLER_FILES[name])
        if name == "sitemap-news.xml":
            return Page(sitemaps.news_sitemap_xml(self.news_urls(), self.site.title, self.base_url_note), xml)
        parts = self._sitemap_parts()
        if name == "sitemap.xml":
            if len(parts) <= 1:
                return Page(sitemaps.sitemap_xml(parts[0] if parts else [], self.base_url_note), xml)
            index = [sitemaps.SitemapUrl(self.abs_url(f"sitemap-{n}.xml"),
                                         max((u.lastmod for u in part if u.lastmod), default=None))
                     for n, part in enumerate(parts, 1)]
            return Page(sitemaps.sitemap_index(index, self.base_url_note), xml)
        number = name.removeprefix("sitemap-").removesuffix(".xml")
        if len(parts) > 1 and name == f"sitemap-{number}.xml" and number.isascii() and number.isdigit() \
                and not number.startswith("0") and int(number) <= len(parts):
            return Page(sitemaps.sitemap_xml(parts[int(number) - 1], self.base_url_note), xml)
        return None

    def sitemap_urls(self) -> list[sitemaps.SitemapUrl]:
        """Every list's first page and every article search engines may index, with when it last changed."""
        urls = []
        for listing in self.listings():
            newest = max((article_dates(a).republished for a in listing.articles), default=None)
            urls.append(sitemaps.SitemapUrl(self.abs_url(listing.base), newest))
        urls.extend(sitemaps.SitemapUrl(self.abs_url(self.article_path(a)), article_dates(a).republished)
                    for a in self.articles if self.seo_for(a) != "noindex")
        return urls

    def _sitemap_parts(self) -> list[list[sitemaps.SitemapUrl]]:
        if self._sitemap_cache is None:
            urls, size = self.sitemap_urls(), SITEMAP_MAX_URLS
            self._sitemap_cache = [urls[i:i + size] for i in range(0, len(urls), size)]
        return self._sitemap_cache

    def news_urls(self) -> list[sitemaps.NewsUrl]:
        """Indexable articles first published within :data:`NEWS_WINDOW` of now.

        The original's date decides, as the page itself says (``datePublished``): an old
        story republished today is not news, and Google checks the two agree.
        """
        now = _aware(self.now) if self.now else datetime.now(UTC)
        items = []
        for article in self.articles:
            dates = article_dates(article)
            if self.seo_for(article) == "noindex" or dates.published < now - NEWS_WINDOW:
                continue
            items.append(sitemaps.NewsUrl(self.abs_url(self.article_path(article)), article.title,
                                          i18n.normalize_language(article.lang or self.lang), dates.published))
        return items

    def robots_txt(self) -> bytes:
        notes = [self.base_url_note] if self.base_url_note else []
        if self.prefix != "/":
            root = self.base_url[: len(self.base_url) - len(self.prefix) + 1]
            notes.append(f"Crawlers read robots.txt only at the root of a host: put these lines in {root}robots.txt")
        return sitemaps.robots_txt([self.abs_url("sitemap.xml"), self.abs_url("sitemap-news.xml")],
                                   disallow=[self.prefix + "search"], notes=notes)


def site_seo(site: SiteConfig) -> str:
    """The site's default for search engines: ``seo``; the older ``canonical = "self"`` still means ``index``."""
    seo = site.seo if site.seo in SEO_CHOICES else "canonical"
    return "index" if seo == "canonical" and site.canonical == "self" else seo


def _version(data: bytes) -> str:
    """A short content hash for ``?v=`` (caches keep a file until it changes)."""
    return hashlib.blake2b(data, digest_size=4).hexdigest()


def devanagari_css(versions: dict[str, str]) -> str:
    """The ``@font-face`` rules of the bundled font; ``versions`` maps a weight to its file's ``?v=``."""
    ranges = ", ".join(f"U+{first:04X}" if first == last else f"U+{first:04X}-{last:04X}"
                       for first, last in DEVANAGARI_RANGES)
    rules = ["/* Noto Sans Devanagari, SIL Open Font License 1.1 (fonts/OFL.txt): for pages showing Devanagari. */"]
    for weight, css_weight in (("regular", 400), ("bold", 700)):
        rules.append(
            f'@font-face {{\n  font-family: "{DEVANAGARI_FAMILY}";\n  font-style: normal;\n'
            f"  font-weight: {css_weight};\n  font-display: swap;\n"
            f'  src: url(fonts/{DEVANAGARI_FONT_FILES[weight]}?v={versions[weight]}) format("woff2");\n'
            f"  unicode-range: {ranges};\n}}")
    return "\n".join(rules) + "\n"


def render_site(articles: list[PublishedArticle], site: SiteConfig, *, now: datetime | None = None) -> dict[str, bytes]:
    """Every page and feed of the static site, keyed by relative path."""
    return SiteView(articles, site, now=now).render_all()


BUILD_MANIFEST = ".samachar-build.json"


def build_site(articles: list[PublishedArticle], site: SiteConfig, out_dir: Path, *,
               now: datetime | None = None, media: MediaLibrary | None = None) -> int:
    """Write the static site into ``out_dir``; returns the number of files.

    Changed files are replaced atomically, unchanged ones left alone (their times
    too), and files an earlier build wrote that are no longer part of the site
    (a deleted article, an emptied tag) are removed. Only files listed in the
    previous build's manifest are ever removed, so other files in ``out_dir`` are safe.
    Stored images (``media``) are read and written one at a time, and only when
    the file is not there yet: its name is its content.
    """
    view = SiteView(articles, site, now=now, media=media)
    pages = view.render_all()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, body in pages.items():
        _write_if_changed(out_dir / path, body)
    files = set(pages)
    for path in view.media_paths():
        target = out_dir / path
        if not target.is_file() and media is not None and (stored := media.read(path.rsplit("/", 1)[-1])):
            _write_if_changed(target, stored[0])
        if target.is_file():
            files.add(path)
    manifest = out_dir / BUILD_MANIFEST
    previous: list[str] = []
    if manifest.is_file():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError:
            previous = []
    for stale in set(previous) - files:
        target = (out_dir / stale).resolve()
        if target.is_relative_to(out_dir.resolve()) and target.is_file():
            target.unlink()
            _remove_empty_parents(target.parent, out_dir.resolve())
    manifest.write_text(json.dumps(sorted(files), ensure_ascii=False), encoding="utf-8")
    return len(files)


def _write_if_changed(target: Path, body: bytes) -> None:
    if target.is_file() and target.stat().st_size == len(body) and target.read_bytes() == body:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_bytes(body)
    tmp.replace(target)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root) and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
