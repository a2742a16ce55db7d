"""Charts as server-side SVG: no script, no build step, a text alternative with every chart.

Each chart carries a <title> and a <desc> that say what it shows in words (its total, its
highest day); the page puts the same figures in a table beside it for screen readers and print.
Colours meet 4.5:1 against white for text and 3:1 for the bars (WCAG 1.4.11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 16, 40
BAR = "#1d4ed8"
AXIS = "#374151"


@dataclass(frozen=True)
class Chart:
    svg: str  # escaped markup, safe to place in the page as is
    summary: str


def _ticks(top: int) -> list[int]:
    if top <= 0:
        return [0]
    step = max(1, -(-top // 4))
    return list(range(0, step * 4 + 1, step))


def bar_chart(chart_id: str, title: str, points: Sequence[tuple[str, int]], unit: str) -> Chart:
    """Vertical bars for labelled values (days, months); labels thinned to stay legible."""
    total = sum(v for _, v in points)
    peak_label, peak = max(points, key=lambda p: p[1]) if points else ("", 0)
    summary = f"{title}：共 {len(points)} 项，合计 {total} {unit}"
    if peak:
        summary += f"，最高为 {peak_label}（{peak} {unit}）"
    ticks = _ticks(peak)
    scale_top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(1, len(points))
    every = max(1, -(-len(points) // 10))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-t {chart_id}-d" class="chart">',
        f'<title id="{chart_id}-t">{escape(title)}</title>',
        f'<desc id="{chart_id}-d">{escape(summary)}</desc>',
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / scale_top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#d1d5db"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="12" fill="{AXIS}">{tick}</text>'
        )
    for i, (label, value) in enumerate(points):
        h = plot_h * value / scale_top
        x = LEFT + i * slot + slot * 0.15
        parts.append(
            f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{BAR}"><title>{escape(label)}：{value} {escape(unit)}</title></rect>'
        )
        if i % every == 0:
            parts.append(
                f'<text x="{x + slot * 0.35:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
                f'font-size="12" fill="{AXIS}">{escape(label)}</text>'
            )
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{TOP + plot_h}" y2="{TOP + plot_h}" stroke="{AXIS}"/>'
    )
    parts.append("</svg>")
    return Chart("".join(parts), summary)
