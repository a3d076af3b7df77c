"""Inline SVG charts for the run report: a line chart over months, horizontal share bars, and an on/off grid; and
for the policy simulation's page, horizontal bars of values from a zero line.

Hand-written rather than a plotting library (pygal, matplotlib): the pages need four plain chart shapes, each a
few dozen lines of SVG; a library would add a dependency (and its release cadence) to a government system's core
install for that, and pygal's interactive output wants a JavaScript file from a CDN to show tooltips, which the
closed network cannot load. The SVG here is static, readable without JavaScript, and carries its numbers as
`<title>` tooltips and `aria-label`s. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

PALETTE = ("#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4b5563")
FONT = "font-family='system-ui,sans-serif'"


def _number(value: float, percent: bool) -> str:
    return f"{100 * value:.1f} %" if percent else f"{value:,.0f}".replace(",", " ")


def _ceiling(value: float, percent: bool) -> float:
    """A round top for the y axis a little above the largest value, so the four gridlines carry round numbers."""
    if percent:
        return min(1.0, max(0.05, (int(value * 1.15 * 20) + 1) / 20)) if value > 0 else 0.1
    if value <= 0:
        return 4.0
    raw = value * 1.1 / 4
    magnitude = 10 ** (len(str(int(raw))) - 1) if raw >= 1 else 1
    factors = (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if magnitude >= 10 else (1, 2, 3, 4, 5, 6, 8, 10)
    step = next(m * magnitude for m in factors if m * magnitude >= raw)  # whole numbers on every gridline
    return float(4 * step)


def line_chart(title: str, periods: Sequence[str], series: dict[str, Sequence[float | None]], *,
               percent: bool = False, width: int = 460, height: int = 200) -> Markup:
    """One line per series over the months (a dot where there is one month only); gaps where a value is None."""
    left, right, top, bottom = 56, 30, 26, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    values = [v for points in series.values() for v in points if v is not None]
    ceiling = _ceiling(max(values, default=0.0), percent)
    step = plot_w / max(1, len(periods) - 1)

    def x(index: int) -> float:
        return left + (index * step if len(periods) > 1 else plot_w / 2)

    def y(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    parts = [f"<text x='0' y='15' font-size='13' font-weight='600' {FONT}>{escape(title)}</text>"]
    for tick in range(5):
        value = ceiling * tick / 4
        parts.append(f"<line x1='{left}' x2='{width - right}' y1='{y(value):.1f}' y2='{y(value):.1f}' "
                     f"stroke='#e5e7eb'/><text x='{left - 6}' y='{y(value) + 4:.1f}' font-size='10' "
                     f"text-anchor='end' fill='#4b5563' {FONT}>{_number(value, percent)}</text>")
    fits = max(2, plot_w // 56)  # month labels that fit side by side
    label_every = max(1, -(-len(periods) // fits))
    for index, period in enumerate(periods):
        if (len(periods) - 1 - index) % label_every == 0:  # counted back from the latest month, always shown
            parts.append(f"<text x='{x(index):.1f}' y='{height - bottom + 16}' font-size='10' text-anchor='middle' "
                         f"fill='#4b5563' {FONT}>{escape(period)}</text>")
    for number, (name, points) in enumerate(series.items()):
        colour = PALETTE[number % len(PALETTE)]
        coords = [(x(i), y(v), v) for i, v in enumerate(points) if v is not None]
        if len(coords) > 1:
            path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy, _ in coords)
            parts.append(f"<polyline points='{path}' fill='none' stroke='{colour}' stroke-width='2'/>")
        for (cx, cy, value), period in zip(coords, [p for p, v in zip(periods, points, strict=True)
                                                      if v is not None], strict=True):
            parts.append(f"<circle cx='{cx:.1f}' cy='{cy:.1f}' r='3' fill='{colour}'><title>{escape(name)} "
                         f"{escape(period)}: {_number(value, percent)}</title></circle>")
        if len(series) > 1:
            parts.append(f"<rect x='{left + 4 + 90 * number}' y='{height - 12}' width='10' height='10' "
                         f"fill='{colour}'/><text x='{left + 18 + 90 * number}' y='{height - 3}' font-size='10' "
                         f"{FONT}>{escape(name)}</text>")
    return _svg(title, width, height + (10 if len(series) > 1 else 0), parts)


def share_bars(title: str, rows: Sequence[tuple[str, float]], *, width: int = 640) -> Markup:
    """Horizontal bars, one per row, each a share from 0 to 1, in the order given."""
    label_w, bar_w, row_h = 190, width - 190 - 60, 20
    height = 30 + row_h * len(rows)
    parts = [f"<text x='0' y='15' font-size='13' font-weight='600' {FONT}>{escape(title)}</text>"]
    for index, (label, share) in enumerate(rows):
        y = 24 + index * row_h
        parts.append(
            f"<text x='{label_w - 8}' y='{y + 13}' font-size='11' text-anchor='end' {FONT}>{escape(label)}</text>"
            f"<rect x='{label_w}' y='{y + 2}' width='{bar_w}' height='14' fill='#eef2f7'/>"
            f"<rect x='{label_w}' y='{y + 2}' width='{share * bar_w:.1f}' height='14' fill='{PALETTE[0]}'>"
            f"<title>{escape(label)}: {_number(share, True)}</title></rect>"
            f"<text x='{label_w + bar_w + 6}' y='{y + 13}' font-size='11' {FONT}>{_number(share, True)}</text>")
    return _svg(title, width, height, parts)


def value_bars(title: str, rows: Sequence[tuple[str, float | None, str]], *, width: int = 640) -> Markup:
    """Horizontal bars, one per row, each a value drawn to scale from a zero line (negative values to its left),
    labelled with the row's own text; a row whose value is None (e.g. a suppressed cell) shows its text only."""
    label_w, text_w, row_h = 190, 90, 20
    bar_w = width - label_w - text_w
    values = [value for _, value, _ in rows if value is not None]
    low, high = min(0.0, *values) if values else 0.0, max(0.0, *values) if values else 0.0
    span = (high - low) or 1.0
    zero = label_w + bar_w * (-low / span)
    height = 30 + row_h * len(rows)
    parts = [f"<text x='0' y='15' font-size='13' font-weight='600' {FONT}>{escape(title)}</text>"]
    for index, (label, value, text) in enumerate(rows):
        y = 24 + index * row_h
        parts.append(f"<text x='{label_w - 8}' y='{y + 13}' font-size='11' text-anchor='end' {FONT}>"
                     f"{escape(label)}</text>")
        if value is not None:
            start, length = (zero, value / span * bar_w) if value >= 0 else (zero + value / span * bar_w,
                                                                              -value / span * bar_w)
            parts.append(f"<rect x='{start:.1f}' y='{y + 2}' width='{length:.1f}' height='14' "
                         f"fill='{PALETTE[0] if value >= 0 else PALETTE[1]}'><title>{escape(label)}: "
                         f"{escape(text)}</title></rect>")
        parts.append(f"<text x='{label_w + bar_w + 6}' y='{y + 13}' font-size='11' {FONT}>{escape(text)}</text>")
    parts.append(f"<line x1='{zero:.1f}' x2='{zero:.1f}' y1='22' y2='{height - 4}' stroke='#9aa5b1'/>")
    return _svg(title, width, height, parts)


def on_off_grid(title: str, periods: Sequence[str], rows: dict[str, Sequence[bool]]) -> Markup:
    """A row per support type, a square per month: filled when the type was on."""
    label_w, cell = 170, 18
    width = label_w + cell * max(1, len(periods)) + 70
    height = 30 + cell * len(rows) + 18
    parts = [f"<text x='0' y='15' font-size='13' font-weight='600' {FONT}>{escape(title)}</text>"]
    for row, (name, flags) in enumerate(rows.items()):
        y = 24 + row * cell
        parts.append(f"<text x='{label_w - 8}' y='{y + 13}' font-size='11' text-anchor='end' {FONT}>"
                     f"{escape(name)}</text>")
        for column, (period, on) in enumerate(zip(periods, flags, strict=True)):
            parts.append(f"<rect x='{label_w + column * cell}' y='{y + 1}' width='{cell - 3}' height='{cell - 3}' "
                         f"rx='2' fill='{PALETTE[2] if on else '#e5e7eb'}'><title>{escape(name)} {escape(period)}: "
                         f"{'on' if on else 'off'}</title></rect>")
    if periods:
        parts.append(f"<text x='{label_w}' y='{height - 4}' font-size='10' fill='#4b5563' {FONT}>"
                     f"{escape(periods[0])}</text>")
    if len(periods) > 1:
        parts.append(f"<text x='{label_w + cell * len(periods)}' y='{height - 4}' font-size='10' text-anchor='end' "
                     f"fill='#4b5563' {FONT}>{escape(periods[-1])}</text>")
    return _svg(title, width, height, parts)


def _svg(title: str, width: int, height: int, parts: list[str]) -> Markup:
    return Markup(f"<svg width='{width}' height='{height}' "
                  f"viewBox='0 0 {width} {height}' role='img' aria-label='{escape(title)}'>{''.join(parts)}</svg>")
