"""The resource metrics (patient-months, contacts, staff time) against a hand-built October
2026, on SQLite and PostgreSQL.

British Summer Time ends on 25 October, so a London month starts at 23:00 UTC on 30 September
and ends at midnight UTC on 31 October/1 November.

Site S1 (October has 31 days):
  p1 on the pathway all month (31 days). Alerts resolved with 20, 40 and 10 minutes (the last at
  23:30 UTC on 30 September: 00:30 on 1 October in London), one resolved without minutes, and one
  with 99 minutes resolved in November. Contacts: a call (15) and a visit (60) in October, and a
  call at 22:59 UTC on 30 September (23:59 London, September: not counted).
  p2 enrolled on 22 October (10 days). An alert resolved with 15 minutes at 23:30 UTC on
  31 October (London is on GMT again: October), a review task resolved with 30, and a message
  (5) at 23:59 UTC on 31 October.
Site S2:
  p3 discharged from the pathway on 15 October (15 days): an alert resolved saying 0 minutes,
  and a visit of 45 minutes. p4 discharged in September: a call of 20 minutes in October counts
  as staff time but adds no patient-days.

                    S1                     S2                 network
  patient-days      31 + 10 = 41           15                 56
  alert minutes     70 + 45 = 115 (5)      0 (1)              115 (6 alerts timed)
  contacts          3, 80 minutes          2, 65 minutes      5, 145 minutes
  staff minutes     195                    65                 260
"""

from __future__ import annotations

import pytest

from service.reports import disclosure
from service.reports.metrics import REGISTRY
from service.reports.metrics.registry import RESOURCES
from tests.reports.builders import Data, check_table


@pytest.fixture
def data(session):
    data = Data(session)
    data.site("S1")
    data.site("S2")
    p1 = data.patient("S1-team", "2026-09-01")
    p2 = data.patient("S1-team", "2026-10-22")
    p3 = data.patient("S2-team", "2026-08-01", discharged="2026-10-15", reason="stable_optimised")
    p4 = data.patient("S2-team", "2026-08-01", discharged="2026-09-20", reason="withdrew")

    def resolved(pid, at, minutes, **kw):
        data.alert(
            pid,
            "amber",
            "2026-09-28T09:00",
            resolved=at,
            outcome="advice_given",
            minutes=minutes,
            **kw,
        )

    resolved(p1, "2026-10-05T12:00", 20)
    resolved(p1, "2026-10-07T12:00", 40)
    resolved(p1, "2026-09-30T23:30", 10)
    resolved(p1, "2026-10-08T12:00", None)
    resolved(p1, "2026-11-01T00:10", 99)
    resolved(p2, "2026-10-31T23:30", 15)
    resolved(p2, "2026-10-25T10:00", 30, kind="task")
    resolved(p3, "2026-10-10T10:00", 0)
    data.contact(p1, "call", "2026-10-03T09:00", 15)
    data.contact(p1, "visit", "2026-10-10T14:00", 60)
    data.contact(p1, "call", "2026-09-30T22:59", 12)
    data.contact(p2, "message", "2026-10-31T23:59", 5)
    data.contact(p3, "visit", "2026-10-12T10:00", 45)
    data.contact(p4, "call", "2026-10-02T10:00", 20)
    data.done()
    return data


STAFF_TIME = [
    ("patient_months", 41 / 31, 15 / 31, 56 / 31),
    ("contacts", 3, 2, 5),
    ("staff_hours", 195 / 60, 65 / 60, 260 / 60),
    ("staff_hours_alerts", 115 / 60, None, 115 / 60),
    ("staff_hours_contacts", 80 / 60, 65 / 60, 145 / 60),
    # Minutes per alert, not per 100: a rate of this section is read per one.
    ("staff_minutes_per_alert", 115 / 5, 0.0, 115 / 6),
    ("staff_minutes_per_patient_month", 195 / (41 / 31), 65 / (15 / 31), 260 / (56 / 31)),
]


def test_staff_time_metrics(session, data):
    check_table(session, data, STAFF_TIME)


def test_they_are_the_resources_section_listed_last():
    ids = [m.id for m in REGISTRY.values()]
    assert ids[-len(STAFF_TIME) :] == [row[0] for row in STAFF_TIME]
    assert {REGISTRY[row[0]].section for row in STAFF_TIME} == {RESOURCES}
    assert REGISTRY["staff_hours"].unit == "hours"


def test_a_rate_per_one_is_disclosed_per_one():
    """The lead's figure is the metric's own ratio of the rounded counts, not a percentage."""
    cell = disclosure.RawCell(1150.0, 50.0, None, 40)
    (shown,), _ = disclosure.disclose_many([disclosure.Request("rate", (cell,), cell, scale=1.0)])[
        0
    ]
    num, den, value = shown.numerator, shown.denominator, shown.value
    assert isinstance(num, int) and isinstance(den, int) and isinstance(value, float)
    assert value == pytest.approx(num / den, abs=0.01)
    assert 20 <= value <= 26
