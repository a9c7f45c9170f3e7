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
    404.html, static/site.css, static/favicon.svg

Safety: templates autoescape everything; article block HTML is sanitized
again here with the project's allow-list before it is marked safe (cheap, and
it keeps rows stored by older versions honest); URLs that reach ``href``/``src``
must be http(s).
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import quote, urlsplit

from jinja2 import Environment, PackageLoader, Template, TemplateError
from markupsafe import Markup

from samachar.config import SiteConfig
from samachar.errors import ConfigError
from samachar.extract.sanitize import sanitize_html
from samachar.model import Block, Image, PublishedArticle, blocks_to_html, html_to_text
from samachar.publish import feeds, i18n

DEFAULT_BASE_URL = "http://localhost:8000/"  # used for absolute URLs when site.base_url is empty
FEED_ITEMS = 50
SUMMARY_WORDS = 40
STATIC_DIR = Path(__file__).parent / "static"
STATIC_FILES = {"site.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}
# Meta-delivered policy for every page (static hosts too); the app adds frame-ancestors as a header.
CSP_POLICY = ("default-src 'none'; style-src 'self'; img-src 'self' https: http:; "
              "form-action 'self'; base-uri 'none'")
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
FEED_FILES = {"feed.xml": "application/rss+xml; charset=utf-8",
              "atom.xml": "application/atom+xml; charset=utf-8",
              "feed.json": "application/feed+json; charset=utf-8"}


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


def _clean_blocks(article: PublishedArticle) -> list[Block]:
    cleaned: list[Block] = []
    for block in article.blocks:
        image = block.image
        if image is not None:
            image = replace(image, src=src) if (src := safe_url(image.src)) else None
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
    search endpoint).
    """

    def __init__(self, articles: list[PublishedArticle], site: SiteConfig, *, live: bool = False):
        self.site = site
        self.live = live
        self.lang = i18n.normalize_language(site.language)
        self.dir = i18n.text_direction(site.language)
        self.env = template_environment(site.language, site.attribution_template)
        self.translations = i18n.translations_for(site.language)
        base = (site.base_url or DEFAULT_BASE_URL).strip()
        self.base_url = base if base.endswith("/") else base + "/"
        self.prefix = urlsplit(self.base_url).path or "/"
        self.static = {name: (STATIC_DIR / name).read_bytes() for name in STATIC_FILES}
        self.css_version = hashlib.blake2b(self.static["site.css"], digest_size=4).hexdigest()
        self._body_cache: dict[int, Markup] = {}
        self._attribution_cache: dict[int, Markup] = {}
        self._feed_item_cache: dict[int, feeds.FeedItem] = {}
        self._feed_info_cache: dict[str, feeds.FeedInfo] = {}

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
                                                   home_url=safe_url(article.source_url))
            self.sources[source_key].articles.append(article)
            seen: set[str] = set()
            for category in article.categories:
                slug = _tag_slug(category)
                if slug in seen:
                    continue
                seen.add(slug)
                self.tags.setdefault(slug, Listing("tag", f"tags/{slug}/", category)).articles.append(article)

    # ---- URLs -------------------------------------------------------------
    def url(self, path: str = "") -> str:
        """Root-relative link to a site path (percent-encoded)."""
        return quote(self.prefix + path, safe="/?=&")

    def abs_url(self, path: str = "") -> str:
        return self.base_url + quote(path, safe="/?=&")

    def article_path(self, article: PublishedArticle) -> str:
        return f"articles/{self.segment_of[article.id]}/"

    def tag_path(self, name: str) -> str:
        return f"tags/{_tag_slug(name)}/"

    def canonical_for(self, article: PublishedArticle) -> str:
        if self.site.canonical == "original" and (original := safe_url(article.original_url)):
            return original
        return self.abs_url(self.article_path(article))

    # ---- page inventory ---------------------------------------------------
    def listings(self) -> list[Listing]:
        return [self.home, *self.sources.values(), *self.tags.values()]

    def page_count(self, listing: Listing) -> int:
        return max(1, math.ceil(len(listing.articles) / max(1, self.site.per_page)))

    def paths(self) -> list[str]:
        """Every file of the static site, as relative paths."""
        out = ["index.html", "404.html", *(f"static/{name}" for name in STATIC_FILES)]
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
        if len(parts) == 2 and parts[0] == "static" and parts[1] in STATIC_FILES:
            return Page(self.static[parts[1]], STATIC_FILES[parts[1]])
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

    def _context(self, **extra: object) -> dict[str, object]:
        context: dict[str, object] = {
            "site": self.site, "lang": self.lang, "dir": self.dir, "live": self.live,
            "view": self, "csp": CSP_POLICY, "css_href": self.url(f"static/site.css?v={self.css_version}"),
            "icon_href": self.url("static/favicon.svg"),
            "site_feeds": self._feed_links(self.home),
            "extra_feeds": [], "canonical": None, "meta": {}, "jsonld": None, "noindex": False,
        }
        context.update(extra)
        return context

    def _feed_links(self, listing: Listing) -> list[dict[str, str]]:
        title = self.site.title if listing.kind == "home" else f"{self.site.title}: {listing.name}"
        return [
            {"type": "application/rss+xml", "href": self.url(listing.base + "feed.xml"), "title": f"{title} (RSS)"},
            {"type": "application/atom+xml", "href": self.url(listing.base + "atom.xml"), "title": f"{title} (Atom)"},
            {"type": "application/feed+json", "href": self.url(listing.base + "feed.json"),
             "title": f"{title} (JSON Feed)"},
        ]

    def card(self, article: PublishedArticle) -> dict[str, object]:
        """What a list shows of one article."""
        return {"article": article, "href": self.url(self.article_path(article)),
                "summary": _summary_text(article), "image": self.image(article.image, article.title, decorative=True),
                "source_href": self.url(f"sources/{article.source_id}/")}

    def image(self, image: Image | None, fallback_alt: str = "", *, decorative: bool = False) -> dict | None:
        if image is None or not (src := safe_url(image.src)):
            return None
        alt = "" if decorative else (image.alt or fallback_alt)
        return {"src": src, "alt": alt, "width": image.width, "height": image.height}

    def body_html(self, article: PublishedArticle) -> Markup:
        """The article's blocks as HTML: re-sanitized, unsafe image sources dropped."""
        if article.id not in self._body_cache:
            self._body_cache[article.id] = Markup(blocks_to_html(_clean_blocks(article)))
        return self._body_cache[article.id]

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
        ``translated`` (source and site languages differ). Filters: ``date``, ``isodate``, ``number``.
        """
        label = POLICY_LABELS.get(article.policy, POLICY_LABELS["link"])
        return {
            "article": article, "site": self.site, "lang": self.lang,
            "original_url": safe_url(article.original_url),
            "policy_label": self.translations.gettext(label),
            "original_date": i18n.local_date(article.original_published, self.lang),
            "source_language": i18n.language_name(article.source_lang, self.lang) if article.source_lang else "",
            "translated": bool(article.source_lang) and i18n.normalize_language(article.source_lang) != article.lang,
        }

    def render_listing(self, listing: Listing, number: int) -> str:
        per_page = max(1, self.site.per_page)
        total = self.page_count(listing)
        chunk = listing.articles[(number - 1) * per_page: number * per_page]
        page_path = listing.base if number == 1 else f"{listing.base}page/{number}/"
        pagination = {
            "number": number, "total": total,
            "prev": None if number == 1 else self.url(listing.base if number == 2 else f"{listing.base}page/{number - 1}/"),
            "next": self.url(f"{listing.base}page/{number + 1}/") if number < total else None,
        }
        template = self.env.get_template("list.html")
        return template.render(self._context(
            listing=listing, cards=[self.card(a) for a in chunk], pagination=pagination,
            canonical=self.abs_url(page_path),
            extra_feeds=self._feed_links(listing) if listing.kind != "home" else [],
            meta={"og:type": "website", "og:title": self.site.title if listing.kind == "home" else listing.name,
                  "og:url": self.abs_url(page_path), "og:site_name": self.site.title,
                  "og:locale": i18n.og_locale(self.lang), "twitter:card": "summary"},
        ))

    def render_article(self, article: PublishedArticle) -> str:
        own_url = self.abs_url(self.article_path(article))
        canonical = self.canonical_for(article)
        image = self.image(article.image, article.title)
        description = _summary_text(article, 30)
        meta = {
            "og:type": "article", "og:title": article.title, "og:description": description,
            "og:url": canonical, "og:site_name": self.site.title, "og:locale": i18n.og_locale(article.lang or self.lang),
            "article:published_time": article.published_at.isoformat(),
            "twitter:card": "summary_large_image" if image else "summary",
            "twitter:title": article.title, "twitter:description": description,
        }
        if image:
            meta["og:image"] = meta["twitter:image"] = image["src"]
            if image["alt"]:
                meta["og:image:alt"] = image["alt"]
        for category in article.categories[:6]:
            meta.setdefault("article:tag", category)
        template = self.env.get_template("article.html")
        return template.render(self._context(
            article=article, image=image, body=self.body_html(article),
            attribution_block=self.attribution_html(article),
            original_url=safe_url(article.original_url),
            source_href=self.url(f"sources/{article.source_id}/"),
            tags=[{"name": c, "href": self.url(self.tag_path(c))} for c in dict.fromkeys(article.categories)],
            summary=html_to_text(article.summary or ""), canonical=canonical, meta=meta,
            jsonld=self.jsonld(article, own_url, image),
        ))

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
            "datePublished": article.published_at.isoformat(),
            "publisher": {"@type": "Organization", "name": self.site.title, "url": self.base_url},
            "isBasedOn": original,
        }
        if article.authors:
            data["author"] = original["author"]
        if image:
            data["image"] = [image["src"]]
        if "url" in original and article.source_lang and article.source_lang != article.lang:
            data["translationOfWork"] = {"@id": original["url"]}
        if article.categories:
            data["keywords"] = list(dict.fromkeys(article.categories))
        return data

    def render_not_found(self) -> str:
        return self.env.get_template("404.html").render(self._context(noindex=True))

    def render_search(self, query: str, results: list[PublishedArticle] | None) -> str:
        return self.env.get_template("search.html").render(self._context(
            query=query, cards=[self.card(a) for a in results or [] if a.id in self.segment_of],
            searched=results is not None, noindex=True))

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
            items=items,
        )

    def feed_item(self, article: PublishedArticle) -> feeds.FeedItem:
        if article.id not in self._feed_item_cache:
            self._feed_item_cache[article.id] = self._make_feed_item(article)
        return self._feed_item_cache[article.id]

    def _make_feed_item(self, article: PublishedArticle) -> feeds.FeedItem:
        content = self.env.get_template("feed_content.html").render(self._context(
            article=article, body=self.body_html(article), summary=html_to_text(article.summary or ""),
            original_url=safe_url(article.original_url), attribution_block=self.attribution_html(article)))
        image = self.image(article.image)
        return feeds.FeedItem(
            url=self.abs_url(self.article_path(article)), title=article.title, content_html=content.strip(),
            published=article.published_at, summary=_summary_text(article),
            original_url=safe_url(article.original_url), authors=list(article.authors),
            categories=list(dict.fromkeys(article.categories)), image=image["src"] if image else None,
            language=article.lang,
        )

    def render_feed(self, listing: Listing, name: str) -> bytes:
        info = self.feed_info(listing)
        if name == "feed.xml":
            return feeds.rss_feed(info)
        if name == "atom.xml":
            return feeds.atom_feed(info)
        return feeds.json_feed(info)


def render_site(articles: list[PublishedArticle], site: SiteConfig) -> dict[str, bytes]:
    """Every page and feed of the static site, keyed by relative path."""
    return SiteView(articles, site).render_all()


BUILD_MANIFEST = ".samachar-build.json"


def build_site(articles: list[PublishedArticle], site: SiteConfig, out_dir: Path) -> int:
    """Write the static site into ``out_dir``; returns the number of files.

    Changed files are replaced atomically, unchanged ones left alone (their times
    too), and files an earlier build wrote that are no longer part of the site
    (a deleted article, an emptied tag) are removed. Only files listed in the
    previous build's manifest are ever removed, so other files in ``out_dir`` are safe.
    """
    pages = render_site(articles, site)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path, body in pages.items():
        target = out_dir / path
        if target.is_file() and target.stat().st_size == len(body) and target.read_bytes() == body:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_bytes(body)
        tmp.replace(target)
    manifest = out_dir / BUILD_MANIFEST
    previous: list[str] = []
    if manifest.is_file():
        try:
            previous = json.loads(manifest.read_text(encoding="utf-8"))
        except ValueError:
            previous = []
    for stale in set(previous) - set(pages):
        target = (out_dir / stale).resolve()
        if target.is_relative_to(out_dir.resolve()) and target.is_file():
            target.unlink()
            _remove_empty_parents(target.parent, out_dir.resolve())
    manifest.write_text(json.dumps(sorted(pages), ensure_ascii=False), encoding="utf-8")
    return len(pages)


def _remove_empty_parents(folder: Path, root: Path) -> None:
    while folder != root and folder.is_relative_to(root) and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
