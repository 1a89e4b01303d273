"""Inline SVG charts, drawn here rather than by a script in the page: they
show without JavaScript, print, and need nothing from the network.

Every text goes through :func:`html.escape`; each bar segment has a
``<title>`` (a tooltip) and the chart an accessible name. The numbers are
also in the tables beside each chart, for readers that see no image.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

# (label, value, colour) of one segment; a row is a label and its segments.
Segment = tuple[str, int, str]

CHAR_WIDTH = 7.2  # of a 12px sans-serif character, roughly: sizes the label column
MAX_LABEL = 42  # characters; longer labels are cut in the middle
WIDTH = 980  # the page's text width: drawn at 1:1 on a screen, scaled down on paper


def _cut(label: str) -> str:
    if len(label) <= MAX_LABEL:
        return label
    half = (MAX_LABEL - 1) // 2
    return f"{label[:half]}\u2026{label[-(MAX_LABEL - 1 - half):]}"


def _legend(series: Sequence[tuple[str, str]], y: float, x: float = 0) -> tuple[list[str], float]:
    """One row of colour swatches with their names; returns the parts and the
    height used."""
    parts, at = [], x
    for name, colour in series:
        parts.append(f'<rect x="{at:.1f}" y="{y:.1f}" width="12" height="12" rx="2" '
                     f'fill="{colour}"/>')
        parts.append(f'<text x="{at + 17:.1f}" y="{y + 10.5:.1f}">{escape(name)}</text>')
        at += 17 + len(name) * CHAR_WIDTH + 18
    return parts, 22


def stacked_bars(title: str, rows: Sequence[tuple[str, Sequence[Segment], str]],
                 series: Sequence[tuple[str, str]], width: int = WIDTH) -> str:
    """Horizontal bars, one per row (label, segments, the text after the
    bar), stacked by segment. ``series`` (name, colour) is the legend."""
    labels = [_cut(label) for label, _, _ in rows]
    label_width = min(max([len(label) for label in labels] + [4]) * CHAR_WIDTH + 12, 320)
    totals = [sum(v for _, v, _ in segments) for _, segments, _ in rows]
    largest = max(totals + [1])
    end_width = max([len(end) for _, _, end in rows] + [2]) * CHAR_WIDTH + 10
    bar_space = width - label_width - end_width
    parts, legend_height = _legend(series, 4, label_width)
    bar, gap = 18, 8
    top = legend_height + 12
    for i, ((label, segments, end), shown, total) in enumerate(zip(rows, labels, totals)):
        y = top + i * (bar + gap)
        parts.append(f'<g class="row"><title>{escape(label)}: {total}</title>')
        parts.append(f'<text class="label" x="{label_width - 8:.1f}" y="{y + 13:.1f}" '
                     f'text-anchor="end">{escape(shown)}</text>')
        x = label_width
        for name, value, colour in segments:
            if value <= 0:
                continue
            w = bar_space * value / largest
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1.5):.1f}" height="{bar}" '
                         f'fill="{colour}"><title>{escape(label)}: {value} {escape(name)}'
                         f'</title></rect>')
            x += w
        parts.append(f'<text class="value" x="{x + 6:.1f}" y="{y + 13:.1f}">{escape(end)}'
                     '</text></g>')
    height = top + len(rows) * (bar + gap) + 4
    return _svg(title, width, height, parts)


def proportion_bar(title: str, segments: Sequence[Segment], width: int = WIDTH) -> str:
    """One bar split by share (a readiness bar), with a legend that gives
    each segment's count."""
    total = sum(v for _, v, _ in segments) or 1
    parts: list[str] = []
    x, bar = 0.0, 26
    for name, value, colour in segments:
        if value <= 0:
            continue
        w = width * value / total
        parts.append(f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{bar}" fill="{colour}">'
                     f'<title>{escape(name)}: {value}</title></rect>')
        if w >= 28:
            parts.append(f'<text class="inbar" x="{x + w / 2:.1f}" y="17.5" '
                         f'text-anchor="middle">{value}</text>')
        x += w
    legend, used = _legend([(f"{name} ({value})", colour) for name, value, colour in segments
                            if value > 0], bar + 10)
    parts += legend
    return _svg(title, width, bar + 10 + used, parts)


def _svg(title: str, width: float, height: float, parts: list[str]) -> str:
    return (f'<svg class="chart" role="img" aria-label="{escape(title)}" '
            f'viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" '
            f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
            + "".join(parts) + "</svg>")
