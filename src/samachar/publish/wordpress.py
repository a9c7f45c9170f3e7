"""WordPress as a publish target: posts through the REST API, from outside the site.

Configured as ``[[targets]] kind = "wordpress"`` (README: "Publishing to WordPress"). Each
article becomes one post: the translated title, the body as republished under the source's
policy, the site's own attribution block (publisher, link to the original, its date) in the
site language, the excerpt, a category, the article's tags, and the lead image as the
featured image.

Never twice:

* a post is created once per (entry, language, target) and updated afterwards
  (``POST /wp/v2/posts/ID``); the publish records keep its id;
* the runner records the intent before a create. A post WordPress made while samachar was
  killed, or whose answer timed out, has no recorded id: before every create the target
  looks for it by its slug (``status=any``: drafts and pending posts too) and recognises it
  by a marker comment in its content, then updates it instead. Core REST cannot filter by
  meta, and a taken slug silently becomes ``slug-2`` (looked for too), so the slug alone
  would not do;
* images are uploaded once per target (the ``target_media`` table). The upload's intent is
  written there first and the file is named by its content hash, so an upload whose answer
  was lost is found by that name before the image is sent again; a file type the site
  refuses (core WordPress takes no SVG) is remembered for a day and the post goes out
  without it. Terms are looked up by name, created when missing, and cached.

The lookup is made only when the runner says the create may already have happened
(``previous.recovering``: an intent from an earlier attempt), so a first create costs no GET.

Slugs are ASCII: WordPress would percent-encode a Devanagari title and cut it at about its
first three words. They come from the original title's words (:func:`samachar.store.posts.slugify`:
``<entry id>-<words>``), at most :data:`SLUG_MAX` characters.

Transport: HTTPS unless private networks are allowed (a local test site); the SSRF guard's
address check before every request; no redirects followed with credentials; no proxy from the
environment; a timeout on every request. The Application Password is read from the
environment variable ``password_env`` when a request needs it and appears in no log, error or
record.
"""

from __future__ import annotations

import base64
import hashlib
import html as html_lib
import json
import logging
import os
import re
import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from email.message import Message
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urljoin, urlsplit

from samachar.config import http_url_problem
from samachar.errors import ConfigError, TargetError
from samachar.model import Block, Image, PublishedArticle, blocks_to_html, html_to_text

if TYPE_CHECKING:
    from jinja2 import Template

    from samachar.publish.site import SiteView
    from samachar.publish.targets import Remote, TargetContext
    from samachar.store.images import StoredImage
    from samachar.store.publications import Publication

log = logging.getLogger("samachar.publish.wordpress")

KIND = "wordpress"
STATUSES = ("publish", "draft", "pending")
HELD_CHOICES = ("skip", "pending")
SLUG_CHOICES = ("ascii",)
SLUG_MAX = 80
TIMEOUT = 30.0
MAX_ANSWER = 16 * 1024 * 1024
API_REL = "https://api.w.org/"
POST_FIELDS = "id,link,slug,status"
MAX_REDIRECTS = 5
# What core WordPress 6.1 takes as an image upload; another type may be refused (SVG needs a plugin).
CORE_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
REFUSAL_KEPT = timedelta(days=1)  # a refused file type is offered again after this
# The capabilities samachar's posts need; publish_posts too when posts go out published.
NEEDED_CAPABILITIES = ("edit_posts", "upload_files")
HEADER_FIX = ('the host strips the Authorization header before PHP sees it: pass it on (Apache: '
              '"SetEnvIf Authorization (.*) HTTP_AUTHORIZATION=$1" in .htaccess; nginx/PHP-FPM: '
              '"fastcgi_param HTTP_AUTHORIZATION $http_authorization;")')
_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?([^";,]+)"?')
_MARKER = "<!-- samachar {} -->"


def post_slug(article: PublishedArticle) -> str:
    """``<entry id>-<ascii words>``, at most :data:`SLUG_MAX` characters, from the original title's words
    (else the translated title's); never digits alone, which WordPress would take for a date archive."""
    from samachar.store.posts import slugify

    room = SLUG_MAX - len(str(article.id)) - 1
    for title in (article.original_title, article.title):
        slug = slugify(title or "", article.id, max_length=room)
        if slug != str(article.id):
            return slug
    return f"{article.id}-{article.lang}"[:SLUG_MAX]


def post_marker(article: PublishedArticle) -> str:
    """A comment in the post's content that says which (entry, language, original) it carries."""
    original = hashlib.sha256((article.original_url or "").encode("utf-8")).hexdigest()[:12]
    return _MARKER.format(f"entry={article.id} lang={article.lang} original={original}")


@dataclass
class Answer:
    status: int
    headers: Message
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8-sig"))
        except ValueError:
            return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects come back as answers: the caller decides (credentials never follow one)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())


class RestClient:
    """The site's REST API: discovery of its root, authenticated JSON requests, errors as one line each."""

    def __init__(self, target: str, site_url: str, user: str, password_env: str, *, allow_private: bool,
                 timeout: float, user_agent: str):
        self.target = target
        self.site_url = site_url if site_url.endswith("/") else site_url + "/"
        self.user = user
        self.password_env = password_env
        self.allow_private = allow_private
        self.timeout = timeout
        self.user_agent = user_agent
        self._root: str | None = None
        self._index: dict | None = None

    # ---- transport -------------------------------------------------------------------------
    def _authorization(self) -> str:
        password = os.environ.get(self.password_env, "").strip()
        if not password:
            raise TargetError(f"target {self.target!r}: the environment variable {self.password_env} is empty; "
                              f"put user {self.user!r}'s Application Password there (WordPress admin: Users → "
                              "Profile → Application Passwords)")
        token = base64.b64encode(f"{self.user}:{password}".encode()).decode("ascii")
        return f"Basic {token}"

    def _check_address(self, url: str) -> None:
        from samachar.fetch.guard import blocked_reason

        parts = urlsplit(url)
        if parts.scheme != "https" and not self.allow_private:
            raise TargetError(f"refused {url}: plain http sends the Application Password in the clear; "
                              "use the site's https:// address")
        if self.allow_private:
            return
        host = parts.hostname or ""
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)}
        except OSError as exc:
            raise TargetError(f"cannot reach WordPress at {host}: {exc.strerror or exc}") from None
        for address in sorted(addresses):
            reason = blocked_reason(str(address))
            if reason:
                raise TargetError(f"refused {host}: resolves to {address} ({reason} address; "
                                  "set SAMACHAR_ALLOW_PRIVATE_NETWORKS=1 to allow)")

    def send(self, method: str, url: str, *, body: bytes | None = None, headers: dict[str, str] | None = None,
             auth: bool = True, timeout: float | None = None) -> Answer:
        """One request, no redirect followed; any HTTP status is an answer, a network failure a TargetError."""
        self._check_address(url)
        request = urllib.request.Request(url, data=body, method=method)
        request.add_header("User-Agent", self.user_agent)
        request.add_header("Accept", "application/json")
        for name, value in (headers or {}).items():
            request.add_header(name, value)
        if auth:
            request.add_unredirected_header("Authorization", self._authorization())
        try:
            response = _OPENER.open(request, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as exc:
            with exc:
                return Answer(exc.code, exc.headers, exc.read(MAX_ANSWER), url)
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, (TimeoutError, socket.timeout)) or "timed out" in str(reason):
                raise TargetError(f"WordPress at {urlsplit(url).netloc} did not answer {method} within "
                                  f"{timeout or self.timeout:g} s; tried again later (a post it made meanwhile "
                                  "is found by its slug, not made twice)") from None
            raise TargetError(f"cannot reach WordPress at {urlsplit(url).netloc}: {reason}") from None
        with response:
            return Answer(response.status, response.headers, response.read(MAX_ANSWER), url)

    # ---- the REST root ---------------------------------------------------------------------
    def root(self) -> str:
        """The REST API's root URL: from the site's ``Link: <…>; rel="https://api.w.org/"`` header, else
        ``?rest_route=/`` (sites without pretty permalinks)."""
        if self._root is None:
            self._root = self._discover()
        return self._root

    def _discover(self) -> str:
        url = self.site_url
        for _ in range(MAX_REDIRECTS + 1):
            answer = self.send("HEAD", url, auth=False)
            if answer.status in (301, 302, 303, 307, 308) and answer.headers.get("Location"):
                next_url = urljoin(url, answer.headers["Location"])
                if urlsplit(next_url).scheme not in ("http", "https"):
                    break
                url = next_url
                continue
            for link in answer.headers.get_all("Link") or []:
                for href, rel in _LINK.findall(link):
                    if rel.strip() == API_REL and not http_url_problem(urljoin(url, href)):
                        return urljoin(url, href)
            break
        fallback = self.site_url + "?rest_route=/"
        answer = self.send("GET", fallback, auth=False)
        index = answer.json() if answer.status == 200 else None
        if isinstance(index, dict) and "wp/v2" in (index.get("namespaces") or []):
            self._index = index
            return fallback
        raise TargetError(f"no WordPress REST API at {self.site_url} (HTTP {answer.status} for ?rest_route=/, and "
                          f'no Link rel="{API_REL}" header): check url (the site\'s address) and that no plugin or '
                          "host setting has switched the REST API off")

    def index(self) -> dict:
        """The REST root's description (name, namespaces, authentication): read once."""
        if self._index is None:
            answer = self.send("GET", self.root(), auth=False)
            data = answer.json() if answer.status == 200 else None
            self._index = data if isinstance(data, dict) else {}
        return self._index

    def endpoint(self, route: str, params: dict[str, Any] | None = None) -> str:
        root = self.root()
        url = root + route.lstrip("/")
        if params:
            url += ("&" if "?" in root else "?") + urlencode(params)
        return url

    # ---- JSON requests ---------------------------------------------------------------------
    def call(self, method: str, route: str, *, params: dict[str, Any] | None = None, payload: Any = None,
             body: bytes | None = None, headers: dict[str, str] | None = None, doing: str,
             allow: tuple[int, ...] = ()) -> tuple[int, Any]:
        """A REST call: (status, JSON). A status in ``allow`` is returned; other failures raise one line."""
        headers = dict(headers or {})
        if payload is not None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        answer = self.send(method, self.endpoint(route, params), body=body, headers=headers)
        data = answer.json()
        if 200 <= answer.status < 300 and data is not None:
            return answer.status, data
        if answer.status in allow:
            return answer.status, data
        raise TargetError(self.problem(answer, data, doing, route))

    def problem(self, answer: Answer, data: Any, doing: str, route: str = "") -> str:
        """What went wrong with ``doing`` (e.g. "create a post"), and what to do about it, in one line."""
        status = answer.status
        code = data.get("code", "") if isinstance(data, dict) else ""
        message = html_to_text(str(data.get("message", ""))) if isinstance(data, dict) else ""
        said = f"{status} {code}".strip() + (f": {message}" if message else "")
        if 200 <= status < 300:
            return f"WordPress answered {doing} with HTTP {status} but no JSON: is {self.site_url} a WordPress site?"
        if status in (301, 302, 303, 307, 308):
            return (f"WordPress redirected {doing} to {answer.headers.get('Location')}: set url to the site's "
                    "final address (samachar sends no password through a redirect)")
        inner = _refused_parameter(data)  # a parameter only some users may give (status=any)
        if status == 401 or inner == 401:
            return self.login_problem(said)
        if status == 403 or inner == 403:
            return (f"WordPress user {self.user!r} may not {doing} ({said}); give that user a role that can "
                    "(Editor: edit_posts, publish_posts, upload_files, manage_categories)")
        if status == 404:
            return (f"WordPress at {self.site_url} has no /{route.lstrip('/')} ({said}): the REST API is switched "
                    "off or url is not the WordPress site's address")
        if status == 413:
            return (f"the site refused to {doing}: too large (HTTP 413); raise its upload limits (nginx "
                    "client_max_body_size, PHP upload_max_filesize and post_max_size) or set featured_image = false")
        if status == 429:
            return f"WordPress asked samachar to slow down ({said}) to {doing}; tried again later"
        if status >= 500:
            return f"WordPress failed to {doing} ({said}); tried again later"
        return f"WordPress refused to {doing} ({said})"

    def login_problem(self, said: str) -> str:
        """A 401: WordPress says the same for a wrong password, a stripped header and disabled Application
        Passwords, so samachar says which it can tell and the fix for each it cannot."""
        who = f"user {self.user!r} with the Application Password in {self.password_env}"
        try:
            available = "application-passwords" in (self.index().get("authentication") or {})
        except TargetError:
            available = True
        if not available:
            return (f"WordPress did not log in {who} ({said}): Application Passwords are off on this site; "
                    "WordPress offers them over HTTPS only (or where WP_ENVIRONMENT_TYPE is 'local'), and a "
                    "plugin may disable them: serve the site over https:// and set url to that address")
        return (f"WordPress did not log in {who} ({said}): either the password is wrong (create one in the "
                "WordPress admin: Users → Profile → Application Passwords, for that user, and put it in "
                f"{self.password_env}) or {HEADER_FIX}")


@dataclass(frozen=True)
class Upload:
    """An image as one target has it: its media id and URL, or why the target refused it; neither is an
    upload under way (or interrupted: the site is asked for the file by its name before uploading again)."""

    remote_id: str | None
    remote_url: str | None = None
    error: str | None = None
    at: datetime | None = None


class UploadedMedia:
    """Which stored image is which media item on one target (``target_media``); in memory without a store."""

    def __init__(self, target: str, engine=None):
        self.target = target
        self.engine = engine
        self._known: dict[str, Upload] = {}

    def get(self, image: str) -> Upload | None:
        if image in self._known or self.engine is None:
            return self._known.get(image)
        from sqlalchemy import select

        from samachar.store.schema import target_media

        with self.engine.connect() as conn:
            row = conn.execute(select(target_media).where(target_media.c.target == self.target)
                               .where(target_media.c.image == image)).first()
        if row is not None:
            self._known[image] = Upload(row.remote_id, row.remote_url, row.error, row.uploaded_at)
        return self._known.get(image)

    def remember(self, image: str, upload: Upload) -> Upload:
        from samachar.store.sources import utcnow

        upload = replace(upload, at=upload.at or utcnow())
        self._known[image] = upload
        if self.engine is None:
            return upload
        from sqlalchemy import delete

        from samachar.store.schema import target_media

        with self.engine.begin() as conn:
            conn.execute(delete(target_media).where(target_media.c.target == self.target)
                         .where(target_media.c.image == image))
            conn.execute(target_media.insert().values(target=self.target, image=image, remote_id=upload.remote_id,
                                                      remote_url=upload.remote_url, error=upload.error,
                                                      uploaded_at=upload.at))
        return upload


def _choice(name: str, key: str, value: Any, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(f"target {name!r}: {key} = {value!r}; use {', '.join(choices[:-1])} or {choices[-1]}"
                          if len(choices) > 1 else f"target {name!r}: {key} = {value!r}; use {choices[0]!r}")
    return value


def _flag(name: str, key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise ConfigError(f"target {name!r}: {key} = {value!r}; use true or false")
    return value


def _text(name: str, key: str, value: Any, hint: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"target {name!r}: {key} = {value!r}; {hint}")
    return value.strip()


class WordPressTarget:
    """Posts each article to a WordPress site through its REST API (see the module docstring)."""

    kind = KIND
    KEYS = ("url", "user", "password_env", "status", "category", "source_categories", "tags", "featured_image",
            "held", "slug", "timeout")

    def __init__(self, name: str, *, url: Any = None, user: Any = None, password_env: Any = None,
                 status: Any = "publish", category: Any = None, source_categories: Any = None, tags: Any = True,
                 featured_image: Any = True, held: Any = "skip", slug: Any = "ascii", timeout: Any = TIMEOUT,
                 context: TargetContext | None = None, **unknown: Any):
        self.name = name
        if unknown:
            raise ConfigError(f"target {name!r}: unknown key(s) {', '.join(sorted(unknown))}; a wordpress target "
                              f"takes {', '.join(self.KEYS)}")
        config = context.config if context is not None else None
        allow_private = config.allow_private_networks if config is not None else False
        self.url = _text(name, "url", url, "give the WordPress site's address, e.g. https://news.example.org")
        if problem := http_url_problem(self.url):
            raise ConfigError(f"target {name!r}: url = {self.url!r}: {problem}")
        if "@" in urlsplit(self.url).netloc:
            # said without the address: it holds a secret that the targets page and the logs must not show
            raise ConfigError(f"target {name!r}: url carries a user name or password; give the user as user "
                              "and the password in the environment variable named by password_env")
        if urlsplit(self.url).scheme != "https" and not allow_private:
            raise ConfigError(f"target {name!r}: url = {self.url!r}: use the site's https:// address (the "
                              "Application Password must not travel in the clear; plain http only where private "
                              "networks are allowed, SAMACHAR_ALLOW_PRIVATE_NETWORKS=1, for a local site)")
        self.user = _text(name, "user", user, "give the WordPress user name that posts")
        self.password_env = _text(name, "password_env", password_env,
                                  "name the environment variable holding the user's Application Password")
        self.status = _choice(name, "status", status, STATUSES)
        self.category = None if category is None else _text(name, "category", category,
                                                             "give a category name, or leave the key out")
        if source_categories is None:
            source_categories = {}
        if not isinstance(source_categories, dict) or not all(
                isinstance(v, str) and v.strip() for v in source_categories.values()):
            raise ConfigError(f"target {name!r}: source_categories = {source_categories!r}; use a table of "
                              'source (id, name or feed URL) = "category name"')
        self.source_categories = {str(k).strip(): v.strip() for k, v in source_categories.items()}
        self.tags = _flag(name, "tags", tags)
        self.featured_image = _flag(name, "featured_image", featured_image)
        self.held = _choice(name, "held", held, HELD_CHOICES)
        self.slug = _choice(name, "slug", slug, SLUG_CHOICES)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise ConfigError(f"target {name!r}: timeout = {timeout!r}; use a number of seconds above 0")
        self.publish_held = self.held == "pending"
        self.store = context.store if context is not None else None
        from samachar.config import FetchConfig, SiteConfig

        self.site = config.site if config is not None else SiteConfig()
        user_agent = (config.fetch if config is not None else FetchConfig()).user_agent
        self.api = RestClient(name, self.url, self.user, self.password_env, allow_private=allow_private,
                              timeout=float(timeout), user_agent=user_agent)
        self.media = UploadedMedia(name, self.store.engine if self.store is not None else None)
        self._terms: dict[tuple[str, str], int] = {}
        self._routed: dict[int, str | None] = {}  # source id → its category here (sources.targets)
        self._view: SiteView | None = None

    # ---- the protocol ----------------------------------------------------------------------
    def publish(self, article: PublishedArticle, previous: Publication | None) -> Remote:
        from samachar.publish.targets import Remote

        payload = self.post_payload(article)
        post: dict | None = None
        if previous is not None and previous.remote_id:
            status, post = self.api.call("POST", f"wp/v2/posts/{previous.remote_id}", params={"_fields": POST_FIELDS},
                                         payload=payload, doing="update a post", allow=(404,))
            if status == 404:  # deleted in WordPress meanwhile: made again
                log.info("target=%s post %s is gone; creating it again", self.name, previous.remote_id)
                post = None
        if post is None:
            # Only a create that may already have happened (a kill, a lost answer) is looked for first.
            orphan = self.find_post(article, payload["slug"]) if previous is not None and previous.recovering else None
            if orphan is not None:
                log.info("target=%s entry_id=%s: found post %s made by an interrupted run", self.name, article.id,
                         orphan)
                _, post = self.api.call("POST", f"wp/v2/posts/{orphan}", params={"_fields": POST_FIELDS},
                                        payload=payload, doing="update a post")
            else:
                _, post = self.api.call("POST", "wp/v2/posts", params={"_fields": POST_FIELDS}, payload=payload,
                                        doing="create a post")
        if not isinstance(post, dict) or "id" not in post:
            raise TargetError("WordPress answered a post request without the post's id")
        return Remote(id=str(post["id"]), url=post.get("link"))

    def unpublish(self, previous: Publication) -> None:
        """Moves the post to WordPress's trash (its slug becomes ``…__trashed`` there)."""
        self.api.call("DELETE", f"wp/v2/posts/{previous.remote_id}", params={"_fields": POST_FIELDS},
                      doing="trash a post", allow=(404, 410))

    # ---- what a post says ------------------------------------------------------------------
    def post_payload(self, article: PublishedArticle) -> dict[str, Any]:
        """The post's fields; uploads its images and finds (or creates) its terms on the way."""
        lead_media, lead_shown = self._lead_image(article)
        body = self._body(article)
        parts = [post_marker(article)]
        if lead_shown is not None and not (self.featured_image and lead_media is not None):
            parts.append(_figure_html(lead_shown))
        if body:
            parts.append(body)
        elif article.summary:
            parts.append(f"<p>{html_lib.escape(html_to_text(article.summary))}</p>")
        parts.append(self.attribution_html(article))
        payload: dict[str, Any] = {
            "title": article.title, "content": "\n".join(parts), "status": self._status(article),
            "slug": post_slug(article),
        }
        if excerpt := html_to_text(article.summary or ""):
            payload["excerpt"] = excerpt
        category = self.category_for(article)
        if category:
            payload["categories"] = [self.term_id("categories", category)]
        if self.tags:
            labels = dict.fromkeys(article.tag_labels.get(c, c).strip()[:190] for c in article.categories)
            payload["tags"] = [self.term_id("tags", label) for label in labels if label]
        if self.featured_image:
            payload["featured_media"] = int(lead_media) if lead_media is not None else 0
        return payload

    def _status(self, article: PublishedArticle) -> str:
        if self.publish_held and article.held:
            return "pending"  # for an editor to review in WordPress; approval publishes it
        return self.status

    def category_for(self, article: PublishedArticle) -> str | None:
        """The category the source's own targets give it (the desk), else ``source_categories``
        (by id, name or feed URL), else the target's ``category``."""
        routed = self._routed_category(article.source_id)
        if routed:
            return routed
        for key in (str(article.source_id), article.source_name, article.source_url, article.publisher):
            if key and key in self.source_categories:
                return self.source_categories[key]
        return self.category

    def _routed_category(self, source_id: int) -> str | None:
        """``sources.targets[<this target>].category``, read once per source for this target's life (a run)."""
        if self.store is None or not source_id:
            return None
        if source_id not in self._routed:
            from samachar.publish.targets import routed_category, source_routes

            self._routed[source_id] = routed_category(source_routes(self.store, [source_id]).get(source_id), self.name)
        return self._routed[source_id]

    def attribution_html(self, article: PublishedArticle) -> str:
        """The built-in site's attribution block (or the operator's template), in the site language."""
        if self._view is None:
            from samachar.publish.site import SiteView

            self._view = SiteView([], self.site)
        view = self._view
        template: Template = view.env.globals["attribution"]  # type: ignore[assignment]
        rendered = template.render(view.attribution_context(article))
        return re.sub(r">\s*\n\s*<", "><", rendered.strip())  # no stray <br> from wpautop

    def _body(self, article: PublishedArticle) -> str:
        """The blocks as the site shows them; each body image uploaded (local images) or linked (hotlink)."""
        from samachar.publish.site import _clean_blocks, safe_url

        if self.site.images == "local":
            stored = self._stored([b.image.src for b in article.blocks if b.image is not None])

            def resolve(image: Image) -> Image | None:
                found = stored.get(image.src)
                uploaded = self.upload(found, alt=image.alt) if found is not None else None
                if found is None or uploaded is None or not uploaded[1]:
                    return None  # left out, as the site leaves out an image it could not keep
                return replace(image, src=uploaded[1], width=found.width or image.width,
                               height=found.height or image.height)
        else:
            def resolve(image: Image) -> Image | None:
                src = safe_url(image.src)
                return replace(image, src=src) if src else None
        return blocks_to_html(_clean_blocks(article, resolve))

    def _lead_image(self, article: PublishedArticle) -> tuple[str | None, Image | None]:
        """(media id, the image as shown) for the lead image; the media id only for a stored, uploaded one."""
        from samachar.publish.site import safe_url

        image = article.image
        if image is None:
            return None, None
        if self.site.images == "local":
            found = self._stored([image.src]).get(image.src)
            if found is None:
                return None, None
            caption = " ".join(part for part in (image.caption, image.credit) if part)
            uploaded = self.upload(found, alt=image.alt, caption=caption)
            if uploaded is None:
                return None, None
            media_id, url = uploaded
            return media_id, replace(image, src=url or image.src, width=found.width or image.width,
                                     height=found.height or image.height)
        src = safe_url(image.src)
        return None, replace(image, src=src) if src else None

    def _stored(self, urls: list[str]) -> dict[str, StoredImage]:
        return self.store.images.files_for(urls) if self.store is not None and urls else {}

    # ---- media -----------------------------------------------------------------------------
    def upload(self, image: StoredImage, *, alt: str = "", caption: str = "") -> tuple[str, str | None] | None:
        """The image's media id and URL on this site, uploading it the first time (``/wp/v2/media``, the raw
        bytes with ``Content-Disposition``, the intent recorded before); one upload per image across posts
        and runs, the file named by its content so that an interrupted upload is found. None when the site
        does not take its file type (core WordPress refuses SVG and, before 6.5, AVIF): the post goes out
        without it, and the site is asked again a day later."""
        from samachar.store.sources import utcnow

        known = self.media.get(image.name)
        if known is not None and known.remote_id is not None:
            return known.remote_id, known.remote_url
        if known is not None and known.error is not None and known.at and utcnow() - known.at < REFUSAL_KEPT:
            return None
        if known is not None and known.error is None:  # an upload began and never learnt its answer
            stem = image.name.rsplit(".", 1)[0]
            _, found = self.api.call("GET", "wp/v2/media", params={"slug": stem, "_fields": "id,slug,source_url"},
                                     doing="look up an image")
            for item in found if isinstance(found, list) else []:
                if str(item.get("source_url", "")).rsplit("/", 1)[-1].startswith(stem):
                    self.media.remember(image.name, Upload(str(item["id"]), item.get("source_url")))
                    return str(item["id"]), item.get("source_url")
        stored = self.store.images.read(image.name) if self.store is not None else None
        if stored is None:
            raise TargetError(f"image {image.name} is no longer stored; run 'samachar run' to fetch it again")
        data, content_type = stored
        params = {"_fields": "id,source_url"}
        if alt:
            params["alt_text"] = alt
        if caption:
            params["caption"] = caption
        self.media.remember(image.name, Upload(None))  # the intent: found by its name if the answer is lost
        status, media = self.api.call(
            "POST", "wp/v2/media", params=params, body=data, doing=f"upload image {image.name}",
            headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{image.name}"'},
            allow=() if content_type in CORE_IMAGE_TYPES else (400, 403, 415, 500))
        if status >= 400:  # a type core WordPress does not take, refused as such
            code = media.get("code", "") if isinstance(media, dict) else ""
            if not str(code).startswith("rest_upload") and status != 415:
                raise TargetError(self.api.problem(Answer(status, Message(), b"", ""), media,
                                                   f"upload image {image.name}", "wp/v2/media"))
            reason = f"WordPress does not take {content_type} uploads ({status} {code})"
            log.warning("target=%s: %s; posts go out without %s (a plugin such as Safe SVG lets it take them)",
                        self.name, reason, image.name)
            self.media.remember(image.name, Upload(None, error=reason))
            return None
        if not isinstance(media, dict) or "id" not in media:
            raise TargetError("WordPress answered an upload without the media item's id")
        self.media.remember(image.name, Upload(str(media["id"]), media.get("source_url")))
        return str(media["id"]), media.get("source_url")

    # ---- terms -----------------------------------------------------------------------------
    def term_id(self, taxonomy: str, name: str) -> int:
        """The id of the category or tag called ``name`` (case aside), created when missing; cached."""
        key = (taxonomy, name.casefold())
        if key in self._terms:
            return self._terms[key]
        kind = "category" if taxonomy == "categories" else "tag"
        _, found = self.api.call("GET", f"wp/v2/{taxonomy}", params={"search": name, "per_page": 100,
                                                                      "_fields": "id,name"},
                                 doing=f"look up the {kind} {name!r}")
        for term in found if isinstance(found, list) else []:
            if html_lib.unescape(str(term.get("name", ""))).strip().casefold() == name.casefold():
                self._terms[key] = int(term["id"])
                return self._terms[key]
        status, made = self.api.call("POST", f"wp/v2/{taxonomy}", params={"_fields": "id,name"}, payload={"name": name},
                                     doing=f"create the {kind} {name!r}", allow=(400,))
        made = made if isinstance(made, dict) else {}
        if status == 400:  # made meanwhile (or a name the search missed): WordPress says which it is
            existing = (made.get("data") or {}).get("term_id")
            if made.get("code") != "term_exists" or existing is None:
                raise TargetError(f"WordPress refused to create the {kind} {name!r} "
                                  f"(400 {made.get('code', '')}: {html_to_text(str(made.get('message', '')))})")
            made = {"id": existing}
        self._terms[key] = int(made["id"])
        return self._terms[key]

    # ---- idempotence -----------------------------------------------------------------------
    def find_post(self, article: PublishedArticle, slug: str) -> str | None:
        """The id of a post an interrupted create left behind for this article, if any: by its slug (or the
        ``-2``… WordPress gives a taken one), in any status but the trash, recognised by its marker."""
        slugs = ",".join([slug, *(f"{slug}-{n}" for n in (2, 3, 4))])
        _, found = self.api.call("GET", "wp/v2/posts", params={"slug": slugs, "status": "any", "context": "edit",
                                                               "_fields": "id,content", "per_page": 10},
                                 doing="look for an earlier post")
        marker = post_marker(article)
        for post in found if isinstance(found, list) else []:
            content = post.get("content") or {}
            if marker in str(content.get("raw", "") if isinstance(content, dict) else content):
                return str(post["id"])
        return None

    # ---- target check ----------------------------------------------------------------------
    def check(self) -> str:
        """Reach the REST root, log in, check the capabilities posts need; one line saying so, or TargetError."""
        root = self.api.root()
        index = self.api.index()
        if "wp/v2" not in (index.get("namespaces") or ["wp/v2"]):
            raise TargetError(f"{root} answers, but without the wp/v2 routes: a plugin has switched them off")
        _, me = self.api.call("GET", "wp/v2/users/me", params={"context": "edit"}, doing="read the user's profile")
        capabilities = me.get("capabilities") or {} if isinstance(me, dict) else {}
        needed = [*NEEDED_CAPABILITIES, *(["publish_posts"] if self.status == "publish" else [])]
        missing = [cap for cap in needed if not capabilities.get(cap)]
        roles = ", ".join(me.get("roles") or []) or "no role"
        if missing:
            raise TargetError(f"WordPress user {self.user!r} ({roles}) lacks {', '.join(missing)}: give them the "
                              "Editor role (Users → All Users → Edit → Role) or one with those capabilities")
        return (f"{self.name}: {root} answers; logged in as {self.user!r} ({roles}), who can "
                f"{', '.join(needed)}; posts go out as {self.status!r}")


def _figure_html(image: Image) -> str:
    caption = html_lib.escape(image.caption)
    if image.credit:
        caption += f' <span class="credit">{html_lib.escape(image.credit)}</span>'
    return blocks_to_html([Block("figure", caption.strip(), image=image)])



def _refused_parameter(data: Any) -> int | None:
    """The 401/403 inside WordPress's 400 for a parameter this user may not give (``status=any``
    needs a login and edit_posts): the real refusal."""
    if not isinstance(data, dict) or data.get("code") != "rest_invalid_param":
        return None
    details = (data.get("data") or {}).get("details") or {}
    for detail in details.values():
        status = (detail.get("data") or {}).get("status") if isinstance(detail, dict) else None
        if status in (401, 403):
            return status
    return None
