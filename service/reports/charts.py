"""The API's network trend chart (every site and the network) as SVG written as text; the
reports' other charts are ``service.charts``.

Every label is escaped: site codes and names come from administrators' input.
"""

from __future__ import annotations

import calendar
from xml.sax.saxutils import escape

from service.reports.shapes import TrendSeries

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 64, 150, 40, 56
PALETTE = (
    "#005eb8",
    "#da291c",
    "#009639",
    "#ed8b00",
    "#7c2855",
    "#00a499",
    "#330072",
    "#ffb81c",
    "#425563",
    "#ae2573",
)
NETWORK_COLOUR = "#212b32"


def _attr(value: str) -> str:
    return escape(value, {'"': "&quot;"})


def _svg(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{_attr(title)}" '
            'font-family="Arial, sans-serif" font-size="12">',
            f"<title>{escape(title)}</title>",
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
            f'<text x="{LEFT}" y="22" font-size="15" font-weight="bold">{escape(title)}</text>',
            *body,
            "</svg>",
            "",
        ]
    )


class _Scale:
    def __init__(self, lo: float, hi: float, out_lo: float, out_hi: float) -> None:
        self.lo, self.hi = lo, hi if hi > lo else lo + 1
        self.out_lo, self.out_hi = out_lo, out_hi

    def __call__(self, value: float) -> float:
        share = (value - self.lo) / (self.hi - self.lo)
        return round(self.out_lo + share * (self.out_hi - self.out_lo), 2)


def _axes(
    x_label: str,
    y_label: str,
    xs: _Scale,
    ys: _Scale,
    x_ticks: list[tuple[float, str]],
    y_ticks: list[float],
) -> list[str]:
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    out = [
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#425563"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{bottom}" stroke="#425563"/>',
        f'<text x="{(LEFT + right) / 2}" y="{HEIGHT - 12}" text-anchor="middle">'
        f"{escape(x_label)}</text>",
        f'<text x="14" y="{(TOP + bottom) / 2}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(TOP + bottom) / 2})">{escape(y_label)}</text>',
    ]
    for value, label in x_ticks:
        x = xs(value)
        out.append(f'<text x="{x}" y="{bottom + 16}" text-anchor="middle">{escape(label)}</text>')
    for value in y_ticks:
        y = ys(value)
        out.append(f'<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="#e8edee"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y + 4}" text-anchor="end">{value:g}</text>')
    return out


def _nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    if hi <= lo:
        return [lo]
    raw = (hi - lo) / count
    magnitude = 10 ** len(str(int(raw))) / 10 if raw >= 1 else 0.1
    step = max(magnitude, round(raw / magnitude) * magnitude)
    first = (lo // step) * step
    ticks, value = [], first
    while value <= hi + 1e-9:
        if value >= lo - 1e-9:
            ticks.append(round(value, 6))
        value += step
    return ticks


def _month_tick(month: str) -> str:
    year, number = month.split("-")
    return f"{calendar.month_abbr[int(number)]} {year}"


def trend_svg(data: TrendSeries) -> str:
    metric = data["metric"]
    months: list[str] = data["months"]
    title = f"{metric['title']}: {months[0]} to {months[-1]}"
    numbers = [
        float(v)
        for values in data["series"].values()
        for v in values
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    top = max(numbers, default=1.0)
    top = 100.0 if metric["unit"] == "%" else (top * 1.1 if top > 0 else 1.0)
    xs = _Scale(0, max(len(months) - 1, 1), LEFT, WIDTH - RIGHT)
    ys = _Scale(0, top, HEIGHT - BOTTOM, TOP)
    body = _axes(
        "Month",
        metric["unit"],
        xs,
        ys,
        # "Nov 2025", as on the pages; every other month so the labels do not collide.
        [(i, _month_tick(m)) for i, m in enumerate(months) if (len(months) - 1 - i) % 2 == 0],
        _nice_ticks(0, top),
    )
    for index, (name, values) in enumerate(data["series"].items()):
        colour = NETWORK_COLOUR if index == 0 else PALETTE[(index - 1) % len(PALETTE)]
        width = 3 if index == 0 else 1.5
        # A suppressed month breaks the line rather than being drawn as zero.
        segments: list[list[str]] = [[]]
        for i, value in enumerate(values):
            if isinstance(value, int | float) and not isinstance(value, bool):
                segments[-1].append(f"{xs(i)},{ys(float(value))}")
            elif segments[-1]:
                segments.append([])
        for segment in segments:
            if len(segment) == 1:
                x, y = segment[0].split(",")
                body.append(f'<circle cx="{x}" cy="{y}" r="2.5" fill="{colour}"/>')
            elif segment:
                body.append(
                    f'<polyline points="{" ".join(segment)}" fill="none" '
                    f'stroke="{colour}" stroke-width="{width}"/>'
                )
        body.append(
            f'<text x="{WIDTH - RIGHT + 12}" y="{TOP + 10 + 16 * index}" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    return _svg(title, body)
