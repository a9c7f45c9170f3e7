"""Small charts for the desk, drawn on the server as SVG: numbers in, one SVG string out.

No script and no ``style`` attribute (the admin pages send the site's CSP): colours
come from CSS classes (``admin.css``) with a presentation-attribute fallback. Every
text is escaped; each chart has a ``<title>`` (its accessible name) and a
``<desc>`` that says its numbers, and the pages show the same numbers in a table,
so nobody needs to see the picture.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

SVG_NS = "http://www.w3.org/2000/svg"
# Fallback fills where the stylesheet is missing; the CSS classes ``series-N`` win.
PALETTE = ("#1f6f8b", "#e39a1d", "#9aa84a", "#4b8f8c", "#7057a3", "#2e7d4f", "#8c6d46", "#5b6770", "#b3261e")


def _text(value: object) -> str:
    return escape(str(value), quote=True)


def _number(value: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros."""
    return f"{value:.2f}".rstrip("0").rstrip(".") or "0"


def _figure(value: float) -> str:
    """A value as people read it: whole numbers without decimals."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _svg(width: int, height: int, title: str, desc: str, body: list[str], css: str) -> str:
    return (f'<svg xmlns="{SVG_NS}" class="chart {_text(css)}" role="img" aria-label="{_text(title)}" '
            f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
            f"<title>{_text(title)}</title><desc>{_text(desc)}</desc>{''.join(body)}</svg>")


def bar_chart(values: Sequence[tuple[str, float]], *, title: str, unit: str = "", width: int = 600,
              height: int = 160) -> str:
    """One bar per label (a day, say), heights to scale; each bar's ``<title>`` says its label and value."""
    top = max((v for _, v in values), default=0) or 1
    axis = 16  # room under the bars for the first and last label
    gap = 2
    slot = (width - gap) / max(len(values), 1)
    body = [f'<line class="axis" x1="0" y1="{height - axis}" x2="{width}" y2="{height - axis}" stroke="#888"/>']
    for i, (label, value) in enumerate(values):
        bar = (height - axis - 4) * max(value, 0) / top
        x = gap + i * slot
        body.append(f'<rect class="bar series-0" x="{_number(x)}" y="{_number(height - axis - bar)}" '
                    f'width="{_number(max(slot - gap, 1))}" height="{_number(bar)}" fill="{PALETTE[0]}">'
                    f"<title>{_text(label)}: {_text(_figure(value))}{_text(unit)}</title></rect>")
    if values:
        body.append(f'<text class="label" x="0" y="{height - 3}" font-size="11">{_text(values[0][0])}</text>')
        body.append(f'<text class="label" x="{width}" y="{height - 3}" font-size="11" text-anchor="end">'
                    f"{_text(values[-1][0])}</text>")
    desc = "; ".join(f"{label}: {_figure(v)}{unit}" for label, v in values) or "no data"
    return _svg(width, height, title, desc, body, "bar-chart")


def stacked_bars(rows: Sequence[tuple[str, Mapping[str, float]]], keys: Sequence[str], *, title: str,
                 width: int = 600, bar_height: int = 18, label_width: int = 160) -> str:
    """One horizontal bar per row, cut into its ``keys`` (states, say) in order, all to one scale.

    Each part's class is ``series-<position of its key>`` and ``key-<key>``; its ``<title>`` says
    the row, the key and the number.
    """
    total = max((sum(max(parts.get(k, 0), 0) for k in keys) for _, parts in rows), default=0) or 1
    room = width - label_width - 4
    height = max(len(rows), 1) * (bar_height + 6)
    body: list[str] = []
    for i, (label, parts) in enumerate(rows):
        y = i * (bar_height + 6)
        body.append(f'<text class="label" x="0" y="{y + bar_height - 5}" font-size="12">{_text(label)}</text>')
        x = float(label_width)
        for position, key in enumerate(keys):
            value = max(parts.get(key, 0), 0)
            if not value:
                continue
            part = room * value / total
            body.append(f'<rect class="part series-{position % len(PALETTE)} key-{_text(key)}" x="{_number(x)}" '
                        f'y="{y}" width="{_number(max(part, 1))}" height="{bar_height}" '
                        f'fill="{PALETTE[position % len(PALETTE)]}"><title>{_text(label)}: {_text(key)} '
                        f"{_text(_figure(value))}</title></rect>")
            x += part
    desc = "; ".join(f"{label}: " + ", ".join(f"{k} {_figure(parts.get(k, 0))}" for k in keys if parts.get(k))
                     for label, parts in rows) or "no data"
    return _svg(width, height, title, desc, body, "stacked-bars")


def sparkline(values: Sequence[float], *, title: str, width: int = 120, height: int = 24) -> str:
    """A line through ``values`` (oldest first), to scale between their smallest and largest."""
    low, high = (min(values), max(values)) if values else (0.0, 0.0)
    span = (high - low) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(f"{_number(i * step)},{_number(height - 2 - (height - 4) * (v - low) / span)}"
                      for i, v in enumerate(values))
    body = [f'<polyline class="line series-0" fill="none" stroke="{PALETTE[0]}" stroke-width="1.5" '
            f'points="{points}"/>'] if len(values) > 1 else []
    desc = ", ".join(_figure(v) for v in values) or "no data"
    return _svg(width, height, title, desc, body, "sparkline")
