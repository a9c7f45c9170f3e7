"""Entry identities are forever: the fast paths of ``sources/identity.py`` must give the keys it always gave.

The digests below were taken with the version before the fast paths (one ``urlsplit`` per URL, no early
exits), over every entry of the shared corpus and over hand-made cases that reach each branch.
"""

from __future__ import annotations

import gzip
import hashlib

import pytest
from conftest import CORPUS

from samachar.model import FeedEntry
from samachar.sources.identity import entry_identity, normalize_url

CASES = [
    "https://Example.ORG:443/a/b?utm_source=x&id=3#frag", "HTTP://example.org:80", "http://example.org:8080/",
    "https://[2001:db8::1]:8443/x?b=2&a=1", "https://user:pw@example.org/p", "https://user@example.org/p",
    "https://news.google.com/articles?url=https%3A%2F%2Fsite.example%2Fstory", "https://example.org/url?u=https://x.example/y",
    "https://l.facebook.com/l.php?u=https%3A%2F%2Fa.example%2Fb%3Fc%3D1&h=x", "https://example.org/out?to=ftp://x",
    "https://example.org/redirect?url=https%3A%2F%2Fn1.example%2F%3Furl%3Dhttps%253A%252F%252Fn2.example%2F",
    " https://example.org/trailing ", "ht\ttps://example.org/tab", "https://exa\nmple.org/nl", "https://example.org.:443/",
    "https://example.org:99999/bad-port", "https://example.org:abc/bad-port", "http://[::1/broken", "https:///no-host",
    "mailto:someone@example.org", "urn:uuid:1234", "tag:example.org,2026:story-1", "wire-42", "", "   ",
    "https://example.org/?fbclid=1&WT.mc_id=2&Utm_Medium=3&keep=&x=1&x=2", "https://example.org/a#", "//example.org/p",
    "https://example.org/now.html#2026-02-16", "HTTPS://EXAMPLE.org/Case/Path?Q=1", "https://example.org/%7Euser/",
]


def _identities(entries: list[FeedEntry]) -> str:
    digest = hashlib.sha256()
    for source_id, entry in enumerate(entries):
        ident = entry_identity(entry, source_id % 7)
        digest.update(repr((ident.key, ident.normalized_url, ident.content_hash, ident.legacy_key)).encode())
    return digest.hexdigest()


def test_identities_of_hand_made_cases_are_unchanged():
    entries = [FeedEntry(title=f"T {i}", url=url, guid=guid, summary=f"<p>x{i}<br>y</p>")
               for i, (url, guid) in enumerate((u, g) for u in CASES for g in (None, "wire-1", CASES[3], CASES[28], u))]
    urls = hashlib.sha256(repr([normalize_url(u) for u in CASES]).encode()).hexdigest()
    assert (urls, _identities(entries)) == (PINNED_URLS, PINNED_CASES)


@pytest.mark.skipif(not (CORPUS / "feeds").is_dir(), reason="no shared corpus")
def test_identities_of_the_corpus_are_unchanged():
    from samachar.errors import FeedError
    from samachar.sources.parse import parse_feed

    entries: list[FeedEntry] = []
    for i, path in enumerate(sorted((CORPUS / "feeds").glob("*.xml.gz"))):
        try:
            entries.extend(parse_feed(gzip.decompress(path.read_bytes()), f"https://feed{i}.example/rss").entries)
        except FeedError:
            continue
    assert len(entries) > 5000
    assert _identities(entries) == PINNED_CORPUS


PINNED_URLS = "7a76ccb4af56ad652a6e683e52732b5d342fbffcbef85fcbbb20757c867af66d"
PINNED_CASES = "4fa5edf683fbaa0716dd48d449b2b494827ac15ad1aba4629fd4922b4701018a"
# Also moves if the parser or the sanitizer changes an entry's text (pinned by test_sanitize_speed.py).
PINNED_CORPUS = "fd0d30277ff22a6d7ac7df7d87dff72a6d3ba34d5385ba603d49dbcd2c96d60d"
