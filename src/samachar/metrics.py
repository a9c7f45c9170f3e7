"""Metrics in Prometheus' text format (version 0.0.4): what this process did and what the store holds.

Process metrics are counted where the work happens (:func:`observe_stage`,
:func:`count_engine`, :func:`count_fetch_error`); store metrics are read when
``/metrics`` is scraped (:func:`render`). Names:

==========================================  =======  ================================================
``samachar_entries{state}``                 gauge    entries per state (the store)
``samachar_publications{target,state}``     gauge    publish records per target and state (the store)
``samachar_sources{status}``                gauge    sources per status: new, ok, error, gone (the store)
``samachar_leases_held{kind}``              gauge    live leases on entries and sources (the store)
``samachar_stage_seconds{stage}``           summary  time spent in each stage (``_sum``, ``_count``)
``samachar_stage_entries_total{stage}``     counter  entries each stage handled
``samachar_engine_seconds_total{engine}``   counter  time in engine calls
``samachar_engine_segments_total{engine}``  counter  segments sent to engines
``samachar_engine_characters_total{engine}`` counter characters sent to engines
``samachar_fetch_errors_total{host,kind}``  counter  fetch failures per host and error class
==========================================  =======  ================================================

Served by ``samachar serve`` at ``/metrics`` and by ``samachar worker --metrics-port``,
to loopback clients unless ``$SAMACHAR_METRICS_ALLOW`` names other networks.
"""

from __future__ import annotations

import ipaddress
import os
import threading
from collections import defaultdict
from datetime import datetime, timezone
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from samachar.store import Store

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
DEFAULT_ALLOW = ("127.0.0.0/8", "::1/128")

_lock = threading.Lock()
_counters: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(lambda: defaultdict(float))
HELP = {
    "samachar_entries": ("gauge", "Entries per state."),
    "samachar_publications": ("gauge", "Publish records per target and state."),
    "samachar_sources": ("gauge", "Sources per status."),
    "samachar_leases_held": ("gauge", "Live leases held by workers."),
    "samachar_stage_seconds": ("summary", "Time spent in each stage."),
    "samachar_stage_entries_total": ("counter", "Entries each stage handled."),
    "samachar_engine_seconds_total": ("counter", "Time spent in translation engine calls."),
    "samachar_engine_segments_total": ("counter", "Segments sent to translation engines."),
    "samachar_engine_characters_total": ("counter", "Characters sent to translation engines."),
    "samachar_fetch_errors_total": ("counter", "Fetch failures per host and error class."),
}


def _add(name: str, labels: dict[str, str], value: float) -> None:
    key = tuple(sorted(labels.items()))
    with _lock:
        _counters[name][key] += value


def observe_stage(stage: str, seconds: float, entries: int = 0) -> None:
    """One run of a stage: its duration and how many entries it handled."""
    _add("samachar_stage_seconds_sum", {"stage": stage}, seconds)
    _add("samachar_stage_seconds_count", {"stage": stage}, 1)
    if entries:
        _add("samachar_stage_entries_total", {"stage": stage}, entries)


def count_engine(engine: str, segments: int, characters: int, seconds: float) -> None:
    """One engine call."""
    _add("samachar_engine_seconds_total", {"engine": engine}, seconds)
    _add("samachar_engine_segments_total", {"engine": engine}, segments)
    _add("samachar_engine_characters_total", {"engine": engine}, characters)


def count_fetch_error(host: str, kind: str) -> None:
    _add("samachar_fetch_errors_total", {"host": host or "?", "kind": kind}, 1)


def reset() -> None:
    """Forget the process counters (a new worker, a test)."""
    with _lock:
        _counters.clear()


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _sample(name: str, labels: tuple[tuple[str, str], ...], value: float) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    number = repr(float(value)) if value != int(value) else str(int(value))
    return f"{name}{{{inner}}} {number}" if inner else f"{name} {number}"


def store_samples(store: Store, now: datetime | None = None) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """The store's gauges, read with one grouped query each."""
    from sqlalchemy import func, select

    from samachar.store.schema import entries, publications, sources

    now = now or datetime.now(timezone.utc)
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = defaultdict(dict)
    with store.engine.connect() as conn:
        for state, count in conn.execute(select(entries.c.state, func.count()).where(entries.c.deleted_at.is_(None))
                                         .group_by(entries.c.state)):
            found["samachar_entries"][(("state", str(state)),)] = count
        for target, state, count in conn.execute(select(publications.c.target, publications.c.state, func.count())
                                                 .group_by(publications.c.target, publications.c.state)):
            found["samachar_publications"][(("state", str(state)), ("target", str(target)))] = count
        for status, count in conn.execute(select(sources.c.status, func.count()).group_by(sources.c.status)):
            found["samachar_sources"][(("status", str(status)),)] = count
        held_entries = conn.execute(select(func.count()).where(entries.c.lease_until > now)).scalar() or 0
        held_sources = conn.execute(select(func.count()).where(sources.c.locked_until > now)).scalar() or 0
    found["samachar_leases_held"][(("kind", "entry"),)] = held_entries
    found["samachar_leases_held"][(("kind", "source"),)] = held_sources
    return found


def render(store: Store | None = None) -> str:
    """Every metric in the text format; ``store`` adds the store's gauges."""
    with _lock:
        samples = {name: dict(values) for name, values in _counters.items()}
    if store is not None:
        samples.update(store_samples(store))
    lines: list[str] = []
    for family, (kind, text) in HELP.items():
        names = [family + suffix for suffix in (("_sum", "_count") if kind == "summary" else ("",))]
        present = [n for n in names if samples.get(n)]
        if not present:
            continue
        lines += [f"# HELP {family} {text}", f"# TYPE {family} {kind}"]
        for name in present:
            lines += [_sample(name, labels, value) for labels, value in sorted(samples[name].items())]
    return "\n".join(lines) + "\n"


def client_allowed(address: str | None) -> bool:
    """Whether a scraper at ``address`` may read metrics (loopback, or ``$SAMACHAR_METRICS_ALLOW``)."""
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    allowed = os.environ.get("SAMACHAR_METRICS_ALLOW", "")
    networks = [n.strip() for n in allowed.split(",") if n.strip()] or list(DEFAULT_ALLOW)
    for network in networks:
        try:
            if ip in ipaddress.ip_network(network, strict=False):
                return True
        except ValueError:
            continue
    return False
