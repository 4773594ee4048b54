"""The analysts' chart, drawn server-side as inline SVG: declared training compute against the largest
independent estimate, on log axes, with the reportable and frontier thresholds as lines. Pure: no I/O."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class ComputePoint:
    registry_id: str
    label: str
    declared_flop: float
    estimate_flop: float
    open_case: bool


WIDTH, HEIGHT = 640, 440
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 20, 56


def _decades(points: Sequence[ComputePoint], thresholds: Sequence[float]) -> tuple[int, int]:
    values = [v for p in points for v in (p.declared_flop, p.estimate_flop) if v > 0] + list(thresholds)
    low = math.floor(math.log10(min(values))) - 1
    high = math.ceil(math.log10(max(values))) + 1
    return low, max(high, low + 2)


def compute_chart_svg(points: Sequence[ComputePoint], *, reportable_flop: float, frontier_flop: float) -> str:
    """SVG markup; each point has a tooltip title, and the figure has a title and description for readers."""
    low, high = _decades(points, (reportable_flop, frontier_flop))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(value: float) -> float:
        return LEFT + (math.log10(value) - low) / (high - low) * plot_w

    def y(value: float) -> float:
        return TOP + plot_h - (math.log10(value) - low) / (high - low) * plot_h

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" class="chart"'
        ' aria-labelledby="chart-title chart-desc">',
        '<title id="chart-title">Declared versus estimated training compute</title>',
        f'<desc id="chart-desc">{len(points)} models. Horizontal axis: declared FLOP; vertical axis: largest '
        "independent estimate, both logarithmic. Points above the diagonal were estimated higher than declared. "
        f"Dashed lines: reportable threshold {_exp(reportable_flop)} and frontier threshold {_exp(frontier_flop)} FLOP."
        "</desc>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" class="plot"/>',
    ]
    for decade in range(low, high + 1):
        value = 10.0**decade
        parts.append(f'<line x1="{x(value):.1f}" y1="{TOP}" x2="{x(value):.1f}" y2="{TOP + plot_h}" class="grid"/>')
        parts.append(f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + plot_w}" y2="{y(value):.1f}" class="grid"/>')
        parts.append(
            f'<text x="{x(value):.1f}" y="{TOP + plot_h + 18}" class="tick" text-anchor="middle">1e{decade}</text>'
        )
        parts.append(f'<text x="{LEFT - 8}" y="{y(value) + 4:.1f}" class="tick" text-anchor="end">1e{decade}</text>')
    lo, hi = 10.0**low, 10.0**high
    parts.append(f'<line x1="{x(lo):.1f}" y1="{y(lo):.1f}" x2="{x(hi):.1f}" y2="{y(hi):.1f}" class="diagonal"/>')
    for name, value in (("reportable", reportable_flop), ("frontier", frontier_flop)):
        parts.append(
            f'<line x1="{x(value):.1f}" y1="{TOP}" x2="{x(value):.1f}" y2="{TOP + plot_h}" class="threshold {name}"/>'
        )
        parts.append(
            f'<line x1="{LEFT}" y1="{y(value):.1f}" x2="{LEFT + plot_w}" y2="{y(value):.1f}" class="threshold {name}"/>'
        )
        parts.append(f'<text x="{x(value) + 4:.1f}" y="{TOP + 14}" class="threshold-label">{name} {_exp(value)}</text>')
    for point in points:
        css = "point open" if point.open_case else "point"
        title = escape(
            f"{point.label} ({point.registry_id}): declared {point.declared_flop:.2e}, "
            f"estimated {point.estimate_flop:.2e} FLOP{', open case' if point.open_case else ''}"
        )
        parts.append(
            f'<circle cx="{x(point.declared_flop):.1f}" cy="{y(point.estimate_flop):.1f}" r="5" class="{css}"'
            f' data-registry-id="{escape(point.registry_id)}"><title>{title}</title></circle>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 12}" class="axis-label" text-anchor="middle">'
        "Declared training compute (FLOP)</text>"
    )
    parts.append(
        f'<text transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" class="axis-label" text-anchor="middle">'
        "Largest independent estimate (FLOP)</text>"
    )
    parts.append("</svg>")
    return "\n".join(parts)


def _exp(value: float) -> str:
    """1e+25 -> 1e25, as officers write FLOP counts."""
    return f"{value:.0e}".replace("e+", "e")
