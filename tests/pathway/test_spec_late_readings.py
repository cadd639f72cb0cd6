"""A reading sent late is judged on what arrived: no "measure again in 30 minutes" for the past."""

from __future__ import annotations

from datetime import timedelta

import pytest

from pathway import default_pathway, evaluate
from tests.pathway.tables import o2, patient


@pytest.mark.parametrize(
    ("age", "code", "rules"),
    [
        (timedelta(minutes=1), "remeasure", set()),
        (timedelta(hours=1, minutes=59), "remeasure", set()),
        (timedelta(hours=2, minutes=1), "amber_next_day", {"amber.spo2"}),
        (timedelta(days=6), "amber_next_day", {"amber.spo2"}),
    ],
)
def test_a_borderline_reading_is_re_measured_only_while_it_is_fresh(age, code, rules):
    reading = o2(0, 93)  # amber, and amber SpO2 waits for a confirming re-measure
    result = evaluate(default_pathway(), patient(), [], [reading], reading.taken_at + age)
    assert result.advice.code == code
    assert {f.rule_id for f in result.findings} == rules
    assert all("sent late" in f.summary for f in result.findings)
