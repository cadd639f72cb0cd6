"""The sensitivity / false-alert trade-off as SVG text (no plotting library needed)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

from pathway.evaluation.metrics import Metrics

WIDTH, HEIGHT, PAD = 640, 420, 56
COLOURS = ("#005eb8", "#da291c", "#007f3b", "#ffb81c", "#330072")


def trade_off(
    curves: Mapping[str, Sequence[tuple[str, Metrics]]],
    marks: Sequence[Metrics] = (),
    title: str = "Sensitivity against false alerts per patient-year",
) -> str:
    points = [m for curve in curves.values() for _, m in curve] + list(marks)
    x_max = max([m.false_per_patient_year for m in points] + [2.0]) * 1.1

    def x(value: float) -> float:
        return PAD + (WIDTH - 2 * PAD) * value / x_max

    def y(value: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="Arial" font-size="11">',
        f"<title>{escape(title)}</title>",
        f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{escape(title)}</text>',
        f'<line x1="{PAD}" y1="{y(0)}" x2="{WIDTH - PAD}" y2="{y(0)}" stroke="#333"/>',
        f'<line x1="{PAD}" y1="{y(0)}" x2="{PAD}" y2="{y(1)}" stroke="#333"/>',
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 14}" text-anchor="middle">'
        "false alerts per patient-year</text>",
        f'<text x="14" y="{HEIGHT / 2}" transform="rotate(-90 14 {HEIGHT / 2})" '
        'text-anchor="middle">sensitivity (event within 14 days)</text>',
        # The goal: at least 60 % sensitivity at no more than 2 false alerts a year.
        f'<rect x="{PAD}" y="{y(1):.1f}" width="{x(2) - PAD:.1f}" height="{y(0.6) - y(1):.1f}" '
        'fill="#007f3b" fill-opacity="0.08"/>',
    ]
    for tick in range(0, 11, 2):
        parts.append(
            f'<text x="{PAD - 6}" y="{y(tick / 10) + 4:.1f}" text-anchor="end">{tick * 10}%</text>'
        )
    for tick in range(int(x_max) + 1):
        parts.append(f'<text x="{x(tick):.1f}" y="{y(0) + 16}" text-anchor="middle">{tick}</text>')
    for index, (name, curve) in enumerate(curves.items()):
        colour = COLOURS[index % len(COLOURS)]
        ordered = sorted(curve, key=lambda item: item[1].false_per_patient_year)
        path = " ".join(
            f"{x(m.false_per_patient_year):.1f},{y(m.sensitivity):.1f}" for _, m in ordered
        )
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for label, m in ordered:
            cx, cy = x(m.false_per_patient_year), y(m.sensitivity)
            parts.append(f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="3" fill="{colour}"/>')
            parts.append(f'<text x="{cx + 5:.1f}" y="{cy - 5:.1f}">{escape(label)}</text>')
        parts.append(
            f'<text x="{WIDTH - PAD}" y="{40 + 14 * index}" text-anchor="end" '
            f'fill="{colour}">{escape(name)}</text>'
        )
    for m in marks:
        cx, cy = x(m.false_per_patient_year), y(m.sensitivity)
        parts.append(
            f'<rect x="{cx - 5:.1f}" y="{cy - 5:.1f}" width="10" height="10" fill="#000"/>'
            f'<text x="{cx + 8:.1f}" y="{cy + 4:.1f}" font-weight="bold">{escape(m.name)}</text>'
        )
    parts.append("</svg>")
    return "\n".join(parts)
