"""Exceptions raised by samachar.

Every error carries a one-line message that says what went wrong and, where
there is one, what to do next. The tree::

    SamacharError
    ├── ConfigError            bad samachar.toml, unknown engine, missing home
    ├── FetchError             a URL could not be fetched
    │   ├── BlockedAddress     SSRF guard refused the target address
    │   ├── TooLarge           body over the size cap (after decompression)
    │   ├── TooManyRedirects
    │   ├── HTTPStatusError    4xx/5xx (``status``; ``retry_after`` seconds when given)
    │   ├── RobotsDisallowed   robots.txt forbids the article page
    │   ├── RobotsUnavailable  robots.txt could not be read (5xx, unreachable): try later
    │   └── NotAnImage         an image URL answered with bytes that are no image we keep
    ├── FeedError              the body is not a feed we can parse
    ├── ExtractionError        no article body could be found
    ├── TargetError            a publish target refused or failed a post (retried with backoff)
    └── TranslationError       engine failed or is not installed for a pair
        └── PairNotInstalled
            └── RuntimeMissing a model is installed but the library that runs it is not
"""

from __future__ import annotations


class SamacharError(Exception):
    """Base of every error samachar raises on purpose."""


def one_line(exc: BaseException, limit: int = 500) -> str:
    """An exception as the one-line reason recorded on a source or an entry."""
    text = str(exc).strip()
    return (text.splitlines()[0] if text else type(exc).__name__)[:limit]


class ConfigError(SamacharError):
    pass


class FetchError(SamacharError):
    pass


class BlockedAddress(FetchError):
    pass


class TooLarge(FetchError):
    pass


class TooManyRedirects(FetchError):
    pass


class HTTPStatusError(FetchError):
    def __init__(self, message: str, status: int, retry_after: float | None = None):
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class RobotsDisallowed(FetchError):
    pass


class RobotsUnavailable(FetchError):
    """robots.txt answered 5xx or not at all: RFC 9309 says wait, not give up."""


class NotAnImage(FetchError):
    """The bytes are not JPEG, PNG, GIF, WebP, AVIF or a safe SVG, whatever the Content-Type said."""


class FeedError(SamacharError):
    pass


class ExtractionError(SamacharError):
    pass


class TargetError(SamacharError):
    """A publish target could not take a post; recorded per (entry, target), retried later."""


class TranslationError(SamacharError):
    pass


class PairNotInstalled(TranslationError):
    pass


class RuntimeMissing(PairNotInstalled):
    """A model for the pair is installed, but a package its engine needs cannot be imported.

    Said apart from "no model": the fix is a ``pip install``, not another model.
    """
