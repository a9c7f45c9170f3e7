"""SSRF guard: which addresses samachar refuses to connect to.

A feed URL comes from whoever added the source, and an article URL from
whoever wrote the feed, so neither may reach the operator's own network.
Addresses are checked after DNS resolution (in :class:`GuardedResolver`, so
the address checked is the address connected to) and for IP-literal URLs
before the request, on every redirect hop.
"""

from __future__ import annotations

import ipaddress
import socket

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from samachar.errors import BlockedAddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def blocked_reason(address: str) -> str | None:
    """Why ``address`` may not be connected to, or None when it is public."""
    try:
        ip: IPAddress = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return "not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        mapped = ip.ipv4_mapped or ip.sixtofour
        if mapped is not None:
            return blocked_reason(str(mapped))
        if ip.teredo is not None:
            return blocked_reason(str(ip.teredo[1]))
    for attribute, reason in (
        ("is_loopback", "loopback"),
        ("is_unspecified", "unspecified"),
        ("is_link_local", "link-local"),
        ("is_multicast", "multicast"),
        ("is_reserved", "reserved"),
        ("is_private", "private"),
    ):
        if getattr(ip, attribute):
            return reason
    if not ip.is_global:
        return "not globally routable"
    return None


def ip_literal(host: str) -> str | None:
    """The address when ``host`` is an IP literal (brackets allowed), else None."""
    candidate = host.strip("[]")
    try:
        ipaddress.ip_address(candidate.split("%", 1)[0])
    except ValueError:
        return None
    return candidate


def check_ip_literal(host: str, allowed: frozenset[str] = frozenset()) -> None:
    address = ip_literal(host)
    if address is not None and address not in allowed:
        reason = blocked_reason(address)
        if reason:
            raise BlockedAddress(f"refused {address}: {reason} address (set SAMACHAR_ALLOW_PRIVATE_NETWORKS=1 to allow)")


class GuardedResolver(AbstractResolver):
    """Resolves like aiohttp's default resolver, then drops refused addresses.

    When nothing is left the request fails with BlockedAddress before any
    connection is attempted.
    """

    def __init__(self, inner: AbstractResolver | None = None, allowed: frozenset[str] = frozenset()) -> None:
        self._inner = inner or DefaultResolver()
        self._allowed = allowed

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed: list[ResolveResult] = []
        refused: list[tuple[str, str]] = []
        for result in results:
            address = str(result["host"])
            reason = None if address in self._allowed else blocked_reason(address)
            if reason:
                refused.append((str(result["host"]), reason))
            else:
                allowed.append(result)
        if not allowed:
            address, reason = refused[0] if refused else ("nothing", "no address")
            raise BlockedAddress(
                f"refused {host}: resolves to {address} ({reason} address; set SAMACHAR_ALLOW_PRIVATE_NETWORKS=1 to allow)"
            )
        return allowed

    async def close(self) -> None:
        await self._inner.close()
