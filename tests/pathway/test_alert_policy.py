"""The alert policy the live service and the replay share (pathway.alert_policy)."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from pathway import Finding, Level
from pathway.alert_policy import PROBLEMS, OpenAlerts, lead, problem_of
from pathway.catalogue import RULES

T = datetime(2026, 3, 2, 9, tzinfo=UTC)


def finding(rule_id: str, level: Level, minutes: int = 0) -> Finding:
    return Finding(
        rule_id, level, "v1", ("r",), f"{rule_id} summary", "title", T + timedelta(minutes=minutes)
    )


def test_every_grouped_rule_exists_and_unlisted_rules_are_their_own_problem() -> None:
    assert set(PROBLEMS) <= set(RULES)
    assert problem_of("trend.macd") == problem_of("red.weight_gain_symptoms") == "congestion"
    assert problem_of("amber.missed_weight") == "amber.missed_weight"


def test_lead_is_most_severe_then_latest_in_any_order() -> None:
    found = [
        finding("trend.macd", Level.AMBER, 30),
        finding("red.weight_gain_symptoms", Level.RED, 0),
        finding("amber.symptoms_worse", Level.AMBER, 60),
    ]
    for order in itertools.permutations(found):
        assert lead(order).rule_id == "red.weight_gain_symptoms"
    assert lead(found[::2]).rule_id == "amber.symptoms_worse"


def test_open_alerts_attach_rise_and_raise_after_their_response_time() -> None:
    # Amber due a day after raising, red two hours after.
    due = {Level.AMBER: timedelta(days=1), Level.RED: timedelta(hours=2)}
    book = OpenAlerts(lambda level, at: at + due[level])
    first = book.offer([finding("trend.macd", Level.AMBER), finding("amber.spo2", Level.AMBER)], T)
    assert [(r.problem, r.finding.rule_id, r.raised_at) for r in first] == [
        ("congestion", "trend.macd", T),
        ("spo2", "amber.spo2", T),
    ]
    # While open: the same problem attaches, a red rise shortens the due time to 2 hours.
    assert book.offer([finding("amber.symptoms_worse", Level.AMBER)], T + timedelta(hours=1)) == []
    assert (
        book.offer([finding("red.weight_gain_symptoms", Level.RED)], T + timedelta(hours=2)) == []
    )
    assert book.offer([finding("trend.macd", Level.AMBER)], T + timedelta(hours=3)) == []
    # Resolved at its (red) due time: the next amber finding raises a new alert at once.
    again = book.offer([finding("trend.macd", Level.AMBER)], T + timedelta(hours=4))
    assert [(r.problem, r.finding.level) for r in again] == [("congestion", Level.AMBER)]
    # The SpO2 alert, untouched, is still open until a day after it was raised.
    assert book.offer([finding("amber.spo2", Level.AMBER)], T + timedelta(hours=23)) == []
    assert len(book.offer([finding("red.spo2", Level.RED)], T + timedelta(days=1))) == 1
