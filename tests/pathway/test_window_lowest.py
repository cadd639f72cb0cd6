"""The weight-gain comparator's per-day lowest weight (Series.lowest_on) against a plain scan."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pathway import evaluate
from pathway.model import Reading, ReadingType
from pathway.window import Window, london_day
from tests.pathway.tables import domain_table, patient

START = datetime(2026, 3, 27, 0, 0, tzinfo=UTC)  # spans the spring clock change
minutes = st.integers(min_value=0, max_value=6 * 24 * 60)
weights = st.sampled_from([80.0, 80.5, 81.0, 82.0, 83.5])


def _readings(points: list[tuple[int, float]]) -> list[Reading]:
    return [
        Reading(f"w{i:03d}", ReadingType.WEIGHT, START + timedelta(minutes=m), value=v)
        for i, (m, v) in enumerate(sorted(points))
    ]


@given(st.lists(st.tuples(minutes, weights), min_size=1, max_size=60))
def test_lowest_on_is_the_first_lowest_reading_of_the_day(points: list[tuple[int, float]]) -> None:
    window = Window()
    readings = _readings(points)
    for r in readings:
        window.append(r)
    series = window.get(ReadingType.WEIGHT)
    for day in range(min(series.days) - 1, max(series.days) + 2):
        on_day = [i for i, d in enumerate(series.days) if d == day]
        expected = min(on_day, key=lambda i: (series.readings[i].value, i)) if on_day else None
        assert series.lowest_on(day) == expected


@given(st.lists(st.tuples(minutes, weights), min_size=2, max_size=40))
def test_an_appended_weight_replaces_a_cached_lowest(points: list[tuple[int, float]]) -> None:
    readings = _readings(points)
    window = Window()
    for r in readings[:-1]:
        window.append(r)
    series = window.get(ReadingType.WEIGHT)
    last_day = london_day(readings[-1].taken_at)
    series.lowest_on(last_day)  # cache the day before the last reading arrives
    lighter = Reading("zz-lighter", ReadingType.WEIGHT, readings[-1].taken_at, value=70.0)
    window.append(lighter)
    assert series.readings[series.lowest_on(last_day) or 0] is lighter


def test_a_scale_syncing_all_day_is_compared_with_the_first_lowest_weight() -> None:
    # 200 weights a day for 3 days, each day's first the lightest (80.0 kg): the comparator is
    # day d-3's first weight, as a scan of every reading would find.
    history = [
        Reading(
            f"h{d}-{k:03d}",
            ReadingType.WEIGHT,
            START + timedelta(days=d, minutes=k),
            value=80.0 + k / 100,
        )
        for d in range(3)
        for k in range(200)
    ]
    new = Reading("new", ReadingType.WEIGHT, START + timedelta(days=3, hours=8), value=82.5)
    result = evaluate(domain_table(), patient(), history, [new], new.taken_at)
    gain = next(f for f in result.findings if f.rule_id == "amber.weight_gain_3d")
    assert gain.evidence == ("h0-000", "new")
    assert "2.5 kg in 3 days" in gain.summary
