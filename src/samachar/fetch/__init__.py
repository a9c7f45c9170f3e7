"""The HTTP client shared by feed polling and article fetching."""

from __future__ import annotations

from samachar.fetch.client import DEFAULT_USER_AGENT, HttpClient, parse_retry_after
from samachar.fetch.result import FetchResult, decode_body

__all__ = ["DEFAULT_USER_AGENT", "FetchResult", "HttpClient", "decode_body", "parse_retry_after"]
