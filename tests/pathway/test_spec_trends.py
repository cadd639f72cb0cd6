"""Trend detectors: personal moving average (Ledwidge 2013) and MACD (Gyllensten 2016)."""

from __future__ import annotations

import pytest

from pathway import default_pathway
from pathway.model import Reading
from tests.pathway.tables import fired, w

MA = "trend.moving_average"
MACD = "trend.macd"


def steady(days: int = 28, last: int = -3) -> list[Reading]:
    # alternating 80.0 / 80.4: mean 80.2, SD about 0.2 (so the 0.3 kg floor applies)
    return [w(d, 80.0 if d % 2 else 80.4) for d in range(last - days + 1, last + 1)]


def only(rule: str):
    others = [
        "amber.weight_gain_3d",
        "amber.weight_gain_2d",
        "amber.weight_above_target",
        "trend.moving_average",
        "trend.macd",
    ]
    return default_pathway().with_overrides(
        {"disabled": [r for r in others if r != rule], "confirm": {rule: 1}}
    )


@pytest.mark.parametrize(
    ("recent", "expected"),
    [
        # baseline mean 80.2; the threshold is max(2.5 x 0.3, 3.0) = 3.0 kg above it
        ((83.1, 83.1, 83.1), set()),
        ((83.2, 83.2, 83.2), {MA}),
        ((83.3, 83.3, 83.3), {MA}),
    ],
)
def test_moving_average_threshold(recent: tuple[float, ...], expected: set[str]) -> None:
    rows = [*steady(), w(-2, recent[0]), w(-1, recent[1]), w(0, recent[2])]
    assert fired(rows, config=only(MA)) == expected


def test_moving_average_needs_a_baseline() -> None:
    rows = [*steady(days=6), w(-2, 85.0), w(-1, 85.0), w(0, 85.0)]
    assert fired(rows, config=only(MA)) == set()


def test_moving_average_needs_two_recent_readings() -> None:
    rows = [*steady(), w(0, 85.0)]
    assert fired(rows, config=only(MA)) == set()


def test_moving_average_uses_the_personal_spread() -> None:
    # A patient whose weight swings by 4 kg (SD 2.04) needs a rise of 2.5 x 2.04 = 5.09 kg:
    # k x SD beats the 3 kg floor.
    noisy = [w(d, 78.0 if d % 2 else 82.0) for d in range(-30, -2)]
    assert fired([*noisy, w(-2, 85.0), w(-1, 85.0), w(0, 85.0)], config=only(MA)) == set()
    assert fired([*noisy, w(-2, 85.2), w(-1, 85.2), w(0, 85.2)], config=only(MA)) == {MA}


@pytest.mark.parametrize(
    ("ramp_per_day", "expected"),
    [(0.0, set()), (0.1, set()), (0.4, {MACD})],
)
def test_macd_fires_on_a_steady_rise(ramp_per_day: float, expected: set[str]) -> None:
    rows = [w(d, 80.0) for d in range(-40, -7)]
    rows += [w(d, 80.0 + ramp_per_day * (d + 8)) for d in range(-7, 1)]
    assert fired(rows, config=only(MACD)) == expected


def test_macd_needs_enough_days() -> None:
    rows = [w(d, 80.0 + 0.5 * (d + 10)) for d in range(-10, 1)]
    assert fired(rows, config=only(MACD)) == set()


def test_macd_last_weight_of_a_day_stands_for_it() -> None:
    rows = [w(d, 80.0) for d in range(-40, -7)]
    rows += [w(d, 80.0 + 0.4 * (d + 8)) for d in range(-7, 1)]
    rows.insert(-1, w(0, 70.0, "07:00"))
    assert fired(rows, config=only(MACD)) == {MACD}


def test_macd_quiet_after_the_rise_flattens() -> None:
    # MACD above the threshold but falling below its signal line once weight plateaus.
    rows = [w(d, 80.0) for d in range(-40, -14)]
    rows += [w(d, 80.0 + 0.5 * (d + 15)) for d in range(-14, -7)]
    rows += [w(d, 83.5) for d in range(-7, 1)]
    assert fired(rows, config=only(MACD)) == set()
