"""Small inline SVG charts for the evaluation report: grouped bars, and a histogram drawn with them.

No plotting library, no scripts, no external references: each function returns one ``<svg>`` element
as text, every label HTML-escaped, ready to paste into an HTML page (inline SVG in HTML needs no
``xmlns``). Each bar is a ``<rect class="bar">`` with ``data-series`` and ``data-value`` and a
``<title>`` tooltip, so readers (and tests) can find and read the bars.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from html import escape

log = logging.getLogger(__name__)

PALETTE = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#b07aa1", "#9c755f")
PLOT_H = 220  # height of the plotting area
TOP, BOTTOM, LEFT, RIGHT = 44, 40, 44, 12
BAR_W = 16
CHAR_W = 6.5  # rough width of one label character at the chart's font size
TICKS = 4


def bar_chart(
    name: str,
    title: str,
    groups: Sequence[str],
    series: Mapping[str, Sequence[float | None]],
    *,
    y_max: float | None = None,
    fmt: str = "{:.2f}",
) -> str:
    """Grouped vertical bars: one group per label in ``groups``, one bar per series inside each group.

    ``series`` maps a series name to one value per group; ``None`` draws no bar (the value does not
    apply). The y axis runs from 0 to ``y_max`` (default: the largest value, at least 1); ``fmt``
    formats tick labels and tooltips. ``name`` becomes the ``data-chart`` attribute.
    """
    for key, values in series.items():
        if len(values) != len(groups):
            raise ValueError(
                f"series {key!r} has {len(values)} values for {len(groups)} groups; give one per group"
            )
    present = [v for values in series.values() for v in values if v is not None]
    top = y_max if y_max is not None else max([1.0, *present])
    if top <= 0:
        raise ValueError(f"y_max must be > 0, got {top}")
    k = max(1, len(series))
    group_w = max(k * BAR_W + 16, max((len(g) for g in groups), default=0) * CHAR_W + 10, 40)
    width = LEFT + RIGHT + group_w * max(1, len(groups))
    height = TOP + PLOT_H + BOTTOM
    base = TOP + PLOT_H
    out = [
        f'<svg class="chart" data-chart="{escape(name)}" viewBox="0 0 {width:.0f} {height}" '
        f'width="{width:.0f}" height="{height}" role="img" aria-label="{escape(title)}">',
        f'<text class="chart-title" x="{LEFT}" y="15">{escape(title)}</text>',
    ]
    x = float(LEFT)
    for i, key in enumerate(series):
        out.append(f'<rect class="swatch" x="{x:.0f}" y="24" width="10" height="10" fill="{_color(i)}"/>')
        out.append(f'<text x="{x + 14:.0f}" y="33">{escape(key)}</text>')
        x += 14 + len(key) * CHAR_W + 16
    for t in range(TICKS + 1):
        y = base - PLOT_H * t / TICKS
        out.append(f'<line class="grid" x1="{LEFT}" y1="{y:.1f}" x2="{width - RIGHT:.0f}" y2="{y:.1f}"/>')
        out.append(
            f'<text class="tick" x="{LEFT - 4}" y="{y + 4:.1f}">{escape(fmt.format(top * t / TICKS))}</text>'
        )
    for gi, group in enumerate(groups):
        x0 = LEFT + gi * group_w + (group_w - k * BAR_W) / 2
        for si, (key, values) in enumerate(series.items()):
            v = values[gi]
            if v is None:
                continue
            h = max(1.0, PLOT_H * min(max(v, 0.0), top) / top)  # a zero still shows, unlike n/a
            tip = f"{key} · {group}: {fmt.format(v)}"
            out.append(
                f'<rect class="bar" data-series="{escape(key)}" data-value="{v:g}" x="{x0 + si * BAR_W:.1f}" '
                f'y="{base - h:.1f}" width="{BAR_W - 2}" height="{h:.1f}" fill="{_color(si)}">'
                f"<title>{escape(tip)}</title></rect>"
            )
        cx = LEFT + (gi + 0.5) * group_w
        out.append(f'<text class="label" x="{cx:.1f}" y="{base + 16}">{escape(group)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def histogram(
    name: str, title: str, samples: Mapping[str, Sequence[float]], *, bins: int = 12, unit: str = "ms"
) -> str:
    """Counts of ``samples`` (one series per key) in shared bins of a round width, as grouped bars."""
    if bins <= 0:
        raise ValueError(f"bins must be > 0, got {bins}")
    values = [v for vs in samples.values() for v in vs]
    if not values:
        return bar_chart(name, f"{title} (no data)", [], {key: [] for key in samples})
    lo, hi = min(values), max(values)
    step = _nice_step((hi - lo) / bins if hi > lo else max(abs(hi), 1.0) / bins)
    start = math.floor(lo / step) * step
    n = max(1, math.floor((hi - start) / step) + 1)
    counts: dict[str, list[float | None]] = {}
    for key, vs in samples.items():
        row = [0] * n
        for v in vs:
            row[min(n - 1, max(0, int((v - start) // step)))] += 1
        counts[key] = [float(c) for c in row]
    labels = [f"{_num(start + i * step)}–{_num(start + (i + 1) * step)}" for i in range(n)]
    most = max(c or 0.0 for row in counts.values() for c in row)
    y_max = float(TICKS * max(1, math.ceil(most / TICKS)))
    return bar_chart(name, f"{title} ({unit})", labels, counts, y_max=y_max, fmt="{:.0f}")


def _nice_step(raw: float) -> float:
    """The smallest of 1, 2, 5 × 10^k that is at least ``raw`` (> 0)."""
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw * (1 - 1e-9))


def _num(x: float) -> str:
    return f"{x:.0f}" if abs(x - round(x)) < 1e-9 else f"{x:.3g}"


def _color(i: int) -> str:
    return PALETTE[i % len(PALETTE)]
