"""The out-of-hours red alert metrics against a hand-built month, on SQLite and PostgreSQL, and
through the lead's disclosure-controlled report.

October 2026 (British Summer Time ends on the 25th). Site S1: a red alert queued over a weekend
and answered in time, one sent to the out-of-hours service (delivered) and answered late, one sent
to urgent community response (delivery failed) and never answered; plus a red alert in hours and
one out of hours in September, neither counted. Site S2: one whose handover was unavailable,
answered in time, and one sent to the out-of-hours service at 23:30 on 31 October (London), its
delivery only after the report's as-of date.
"""

from __future__ import annotations

import pytest

from service.reports import build
from service.reports.figures import FigureStore
from tests.reports.builders import Data, check_table
from tests.support.clock import T0


@pytest.fixture
def data(session):
    data = Data(session)
    data.site("S1")
    data.site("S2")
    s1 = data.patient("S1-team", "2026-09-01")
    s2 = data.patient("S2-team", "2026-09-01")
    data.alert(
        s1,
        "red",
        "2026-10-03T19:00",  # Saturday 20:00 London
        due="2026-10-05T11:00",
        action="2026-10-05T08:30",
        out_of_hours="queue_for_next_working_day",
    )
    sent = data.alert(
        s1,
        "red",
        "2026-10-06T21:00",
        due="2026-10-07T11:00",
        action="2026-10-07T12:00",
        out_of_hours="out_of_hours_webhook",
    )
    data.handover(sent, "delivered", "2026-10-06T21:01")
    ucr = data.alert(
        s1,
        "red",
        "2026-10-10T01:00",
        due="2026-10-12T11:00",
        out_of_hours="urgent_community_response",
    )
    data.handover(ucr, "failed")
    data.alert(s1, "red", "2026-10-07T10:00", action="2026-10-07T10:30")  # in hours
    data.alert(
        s1, "red", "2026-09-30T21:00", due="2026-10-01T11:00", out_of_hours="out_of_hours_webhook"
    )  # 22:00 London on 30 September: the month before
    data.alert(
        s2,
        "red",
        "2026-10-20T18:00",
        due="2026-10-21T11:00",
        action="2026-10-21T07:30",
        out_of_hours="handover_unavailable",
    )
    late = data.alert(
        s2, "red", "2026-10-31T23:30", due="2026-11-02T12:00", out_of_hours="out_of_hours_webhook"
    )
    data.handover(late, "delivered", "2026-11-25T09:00")  # after the as-of date (20 November)
    data.done()
    return data


OUT_OF_HOURS = [
    ("red_alerts_out_of_hours", 3, 2, 5),
    ("red_alerts_out_of_hours_queued", 1, None, 1),
    ("red_alerts_out_of_hours_to_ooh_service", 1, 1, 2),
    ("red_alerts_out_of_hours_to_ucr", 1, None, 1),
    ("red_alerts_out_of_hours_handover_unavailable", None, 1, 1),
    # S1: the weekend one in time, the two others late; S2: the unavailable one in time.
    ("red_alerts_out_of_hours_actioned_in_time", 100 / 3, 50, 40),
    # S1: one of two handovers delivered; S2: delivered only after the as-of date.
    ("red_alerts_out_of_hours_handover_delivered", 50, 0, 100 / 3),
]


def test_out_of_hours_metrics(session, data):
    check_table(session, data, OUT_OF_HOURS)


def test_a_lead_sees_the_out_of_hours_counts_disclosure_controlled(session, data):
    store = FigureStore(session, T0)
    report = build.network_report(store, "2026-10", trend_months=1)
    metric = next(m for m in report["metrics"] if m["id"] == "red_alerts_out_of_hours")
    # Counts of 1-7 are never shown to a lead: the sites and the network are all hidden.
    assert {s["code"]: s["value"] for s in metric["sites"]} == {"S1": "*", "S2": "*"}
    assert metric["network"]["value"] == "*"
