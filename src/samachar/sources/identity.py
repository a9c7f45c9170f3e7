"""Entry identity: the one place that says when two feed entries are the same story.

Order: a GUID that is a URL is treated as the URL (feeds often use the
permalink as GUID, and the same story syndicated elsewhere keeps it); any
other GUID is only unique inside its source; then the normalized link; then a
hash of title and text. The store keeps these keys unique across all sources
and forever.

A GUID is an identity as written: its fragment is kept, because some feeds
tell their entries apart by nothing else (``now.html#2026-02-16``, one anchor
per day). Only a link used as the identity loses its fragment. Older versions
dropped GUID fragments too; ``legacy_key`` is the key they stored, so that a
re-poll recognises the one entry they kept instead of importing it again.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

from samachar.model import FeedEntry, html_words

# Query parameters that only say where a click came from.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid", "ttclid",
        "mc_cid", "mc_eid", "_ga", "_gl", "igshid", "mkt_tok", "ref_src", "ref_url",
        "cmpid", "ocid", "icid", "s_cid", "xtor", "ito", "spm", "sr_share", "smid", "smtyp",
        "ns_mchannel", "ns_source", "ns_campaign", "ns_linkname", "ns_fee",
        "__twitter_impression", "at_medium", "at_campaign", "at_custom1", "at_custom2",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_", "oly_", "vero_", "wt.", "wt_")
# Hosts whose links only redirect to a URL given in a query parameter.
REDIRECT_HOSTS = {
    "news.google.com": ("url",),
    "www.google.com": ("url", "q"),
    "google.com": ("url", "q"),
    "feedproxy.google.com": ("url",),
    "l.facebook.com": ("u",),
    "lm.facebook.com": ("u",),
    "t.umblr.com": ("z",),
    "out.reddit.com": ("url",),
    "href.li": ("url",),
    "www.bing.com": ("url",),
    "r.search.yahoo.com": ("ru",),
    "l.messenger.com": ("u",),
    "link.zhihu.com": ("target",),
}
# Any host: a path like /url, /redirect or /out whose parameter is a full URL.
REDIRECT_PATHS = re.compile(r"/(?:url|redirect|redir|out|outbound|l\.php|click|r|goto|link)/?$", re.I)
REDIRECT_PARAMS = ("url", "u", "target", "dest", "destination", "to", "link", "redirect")
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class EntryIdentity:
    key: str
    normalized_url: str | None
    content_hash: str
    legacy_key: str | None = None  # the key older versions stored for this GUID, if it differs


def normalize_url(url: str) -> str:
    """The form of a URL under which duplicates compare equal.

    Unwraps aggregator redirects, drops tracking parameters and the fragment,
    lowercases scheme and host, drops the default port. Path and the order of
    the remaining parameters are kept: they can matter to the site.
    """
    current = url.strip()
    parts = _split(current)
    hostname = parts.hostname if parts is not None else None  # a property that parses: read once
    for _ in range(4):  # redirects can be nested; a few levels is plenty
        target = _redirect_target(parts, hostname) if parts is not None else None
        if not target:
            break
        current = target
        parts = _split(current)
        hostname = parts.hostname if parts is not None else None
    if parts is None:
        return current
    scheme = parts.scheme.lower()
    host = (hostname or "").rstrip(".")
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host
    if ":" in host:  # IPv6 literal
        netloc = f"[{host}]"
    if port and DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in TRACKING_PARAMS and not k.lower().startswith(TRACKING_PREFIXES)
    ]
    path = parts.path or ("/" if netloc else "")
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True) if query else "", ""))


def _split(url: str) -> SplitResult | None:
    try:
        return urlsplit(url)
    except ValueError:
        return None


def _redirect_target(parts: SplitResult, hostname: str | None) -> str | None:
    names = REDIRECT_HOSTS.get(hostname or "")  # already lowercase
    if names is None:
        if not REDIRECT_PATHS.search(parts.path):
            return None
        names = REDIRECT_PARAMS
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    for name in names:
        value = params.get(name, "")
        if value and not value.startswith(("http://", "https://")):
            value = unquote(value)
        if value.startswith(("http://", "https://")) and urlsplit(value).hostname:
            return value
    return None


def _is_url(value: str) -> bool:
    if ":" not in value:  # no scheme (most GUIDs): nothing to parse
        return False
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def content_hash(entry: FeedEntry) -> str:
    words = html_words(entry.content_html or entry.summary or "")
    material = f"{' '.join(entry.title.split())}\n{' '.join(words)}"
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def entry_identity(entry: FeedEntry, source_id: int) -> EntryIdentity:
    """The key the store keeps unique: see the module docstring for the order."""
    digest = content_hash(entry)
    normalized = normalize_url(entry.url) if entry.url and _is_url(entry.url) else None
    guid = (entry.guid or "").strip()
    if guid and _is_url(guid):
        guid_url = normalize_url(guid)
        fragment = urlsplit(guid).fragment
        if fragment:
            exact = f"{guid_url}#{fragment}"
            # A link to the same page says no more than the GUID: it must not merge the anchors.
            link = exact if normalized in (None, guid_url) else normalized
            return EntryIdentity(f"url:{exact}", link, digest, legacy_key=f"url:{guid_url}")
        return EntryIdentity(f"url:{guid_url}", normalized or guid_url, digest)
    if guid:
        return EntryIdentity(f"guid:{source_id}:{guid}", normalized, digest)
    if normalized:
        return EntryIdentity(f"url:{normalized}", normalized, digest)
    return EntryIdentity(f"hash:{digest}", None, digest)
