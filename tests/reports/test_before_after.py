"""The before/after enrolment comparison against a hand-built world, on SQLite and PostgreSQL.

Report month 2026-10 (last day 31 October), windows of 6 months: an enrolment counts when
enrolled_on + 6 months <= 2026-10-31, i.e. enrolled on or before 30 April 2026.

| patient | site | enrolled | before window (days) | after window (days) |
| P1 | A (team A1) | 2026-03-01 | 2025-09-01..2026-02-28 (181) | 2026-03-01..2026-08-31 (184) |
| P2 | A (team A2) | 2026-04-30 | 2025-10-30..2026-04-29 (182) | died 2026-06-09: 41 days |
| P4 | B (team B1) | 2026-01-15, off monitoring 2026-03-01 | 2025-07-15..2026-01-14 (184) | 2026-01-15..2026-07-14 (181) |
| P3 | A | 2026-05-01: after window ends 1 November, excluded | | |
| world's own patients | A, A, B | 2026-10-21: excluded | | |

Events (emergency unless said; nights before / after):
- P1: HF admission 20 Feb-3 Mar 2026 (before; 9 / 2 nights: the stay crosses enrolment);
  admission 25 Aug-3 Sep 2025 (admitted before the window: not counted; 2 nights inside);
  A&E 10 Oct 2025 (before); A&E on the enrolment day (after); elective admission 10-12 May
  (not an emergency: 2 bed days after only); HF admission 30 Aug-5 Sep 2026 (after; 2 nights
  inside, the rest past the window's end).
- P2: HF admission 20-28 Apr 2026 (before, 8 nights); admission 1 Jun 2026, never discharged, died
  9 Jun (after, not HF; nights to the death day included: 9).
- P4: HF admission 1-5 Dec 2025 (before, 4 nights); A&E 14 Jul 2025 (a day before the window:
  not counted); A&E 2 Apr 2026 (after, though off monitoring: intention to treat); A&E
  15 Jul 2026 (the after window's first day outside it: not counted).
- P3: admission 1 Apr 2026 (excluded patient).

| site | patients | days before | days after | all-cause b/a | HF b/a | bed days b/a | A&E b/a |
| A | 2 | 363 | 225 | 2 / 2 | 2 / 1 | 19 / 15 | 1 / 1 |
| B | 1 | 184 | 181 | 1 / 0 | 1 / 0 | 4 / 0 | 0 / 1 |
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Date, Integer, bindparam, select, update
from sqlalchemy.orm import Session

from service.db import unit_of_work
from service.models import BeforeAfterSnapshot, Patient, PatientEvent
from service.reports.before_after import (
    Sums,
    before_after,
    complete_by,
    freeze,
    publish,
    shift_months,
    site_sums,
    suppress_exact,
)
from service.reports.shapes import SiteRef
from service.reports.sqlfuncs import add_months
from tests.support.clock import T0
from tests.support.factories import make_patient, nhs_number
from tests.support.world import World

AS_OF = date(2026, 10, 31)
URL = "/api/v1/reports/before-after"

SITE_A = Sums(
    2,
    363,
    225,
    {
        "admissions_all_cause_before": 2,
        "admissions_all_cause_after": 2,
        "admissions_hf_before": 2,
        "admissions_hf_after": 1,
        "bed_days_before": 19,
        "bed_days_after": 15,
        "ae_attendances_before": 1,
        "ae_attendances_after": 1,
    },
)
SITE_B = Sums(
    1,
    184,
    181,
    {
        "admissions_all_cause_before": 1,
        "admissions_all_cause_after": 0,
        "admissions_hf_before": 1,
        "admissions_hf_after": 0,
        "bed_days_before": 4,
        "bed_days_after": 0,
        "ae_attendances_before": 0,
        "ae_attendances_after": 1,
    },
)


def _event(
    s: Session,
    pid: uuid.UUID,
    kind: str,
    on: str,
    out: str | None = None,
    hf: bool | None = None,
    emergency: bool = True,
) -> None:
    s.add(
        PatientEvent(
            id=uuid.uuid4(),
            patient_id=pid,
            kind=kind,
            occurred_on=date.fromisoformat(on),
            discharged_on=date.fromisoformat(out) if out else None,
            hf_related=hf if kind == "admission" else None,
            emergency=emergency,
            recorded_at=T0,
        )
    )


def _patient(
    s: Session, world: World, seed: int, team: str, enrolled: str, **extra: object
) -> uuid.UUID:
    extra["enrolled_on"] = date.fromisoformat(enrolled)
    return make_patient(s, nhs_number(seed), world.teams[team], cohort="post_discharge", **extra)


@pytest.fixture
def hand_built(world: World) -> World:
    with unit_of_work(world.app.state.sessions) as s:
        p1 = _patient(s, world, 101, "A1", "2026-03-01")
        _event(s, p1, "admission", "2026-02-20", "2026-03-03", hf=True)
        _event(s, p1, "admission", "2025-08-25", "2025-09-03", hf=False)
        _event(s, p1, "ae_attendance", "2025-10-10")
        _event(s, p1, "ae_attendance", "2026-03-01")
        _event(s, p1, "admission", "2026-05-10", "2026-05-12", hf=False, emergency=False)
        _event(s, p1, "admission", "2026-08-30", "2026-09-05", hf=True)
        p2 = _patient(
            s,
            world,
            102,
            "A2",
            "2026-04-30",
            died_on=date(2026, 6, 9),
            status="discharged",
            discharged_on=date(2026, 6, 9),
            discharge_reason="died",
        )
        _event(s, p2, "admission", "2026-04-20", "2026-04-28", hf=True)
        _event(s, p2, "admission", "2026-06-01", None, hf=False)
        _event(s, p2, "death", "2026-06-09")
        p3 = _patient(s, world, 103, "A1", "2026-05-01")
        _event(s, p3, "admission", "2026-04-01", "2026-04-05", hf=True)
        p4 = _patient(
            s,
            world,
            104,
            "B1",
            "2026-01-15",
            status="discharged",
            discharged_on=date(2026, 3, 1),
            discharge_reason="stable_optimised",
        )
        _event(s, p4, "admission", "2025-12-01", "2025-12-05", hf=True)
        _event(s, p4, "ae_attendance", "2025-07-14")
        _event(s, p4, "ae_attendance", "2026-04-02")
        _event(s, p4, "ae_attendance", "2026-07-15")
        # The world's own patients were enrolled 30 days before T0: no complete after window.
        s.execute(update(Patient).values(created_at=T0))
    return world


def test_each_sites_sums_match_the_hand_computed_table(hand_built: World) -> None:
    with hand_built.app.state.sessions() as s:
        sums = site_sums(s, AS_OF, None, 6)
    assert sums == {hand_built.sites["A"]: SITE_A, hand_built.sites["B"]: SITE_B}


def test_a_set_of_sites_is_only_those_sites(hand_built: World) -> None:
    with hand_built.app.state.sessions() as s:
        sums = site_sums(s, AS_OF, [hand_built.sites["B"]], 6)
        report = before_after(s, "2026-10", [hand_built.sites["B"]], 6)
    assert sums == {hand_built.sites["B"]: SITE_B}
    assert report["scope"] == "sites" and [r["site"]["code"] for r in report["sites"]] == ["SITEB"]


def test_a_later_month_takes_in_the_next_enrolment(hand_built: World) -> None:
    # Through November, P3 (enrolled 1 May) has a complete after window: one more patient at A,
    # with its admission of 1-5 April before (4 nights).
    with hand_built.app.state.sessions() as s:
        sums = site_sums(s, date(2026, 11, 1), None, 6)
    a = sums[hand_built.sites["A"]]
    assert a.patients == 3
    assert a.outcomes["admissions_hf_before"] == 3 and a.outcomes["bed_days_before"] == 23


def test_published_small_counts_are_suppressed_with_their_rates(hand_built: World) -> None:
    with hand_built.app.state.sessions() as s:
        report = before_after(s, "2026-10", None, 6)
    assert report["as_of"] == "2026-10-31" and report["window_months"] == 6
    assert report["scope"] == "network"
    assert "regression to the mean" in report["caution"].lower()
    network = report["network"]
    assert network["patients"] == "*"
    beds = next(o for o in network["outcomes"] if o["outcome"] == "bed_days")
    # Site B's 4 nights before are hidden, and A's 19 to protect them; the network's 23 shows
    # as 25, but rests on 3 patients: nothing per patient is shown.
    assert beds["before"] == {
        "events": 25,
        "person_years": "*",
        "rate_per_patient_year": "*",
        "ci95": "*",
    }
    assert beds["rate_ratio"] == "*" and beds["rate_ratio_ci95"] == "*"
    site_a = next(o for o in report["sites"][0]["outcomes"] if o["outcome"] == "bed_days")
    assert report["sites"][0]["patients"] == "*"
    assert site_a["before"]["events"] == "*" and site_a["before"]["rate_per_patient_year"] == "*"
    assert site_a["after"]["events"] == 15 and site_a["rate_ratio"] == "*"


def _sums(patients: int, before_days: int, after_days: int, before: int, after: int) -> Sums:
    outcomes = Sums.zero().outcomes | {
        "admissions_all_cause_before": before,
        "admissions_all_cause_after": after,
    }
    return Sums(patients, before_days, after_days, outcomes)


def _ref(code: str) -> SiteRef:
    return SiteRef(id=code.lower(), code=code, name=f"Site {code}")


def test_rates_come_from_exact_counts_and_only_where_the_counts_are_shown() -> None:
    # Site X: 40 patients, 7305 days (20 person-years) each window, 22 admissions before and 11
    # after. Site Y: 10 patients, 1826 days, 3 admissions before (suppressed), 9 after.
    x = _sums(40, 7305, 7305, 22, 11)
    y = _sums(10, 1826, 1826, 3, 9)
    sites, total = publish([(_ref("X"), x), (_ref("Y"), y)])
    row = sites[0]["outcomes"][0]
    assert sites[0]["patients"] == 40 and row["outcome"] == "admissions_all_cause"
    # 11 / 20 = 0.55; Garwood for 11 events: 5.491 to 19.682 (R: poisson.test(11)), / 20.
    assert row["after"] == {
        "events": 10,
        "person_years": 20.0,
        "rate_per_patient_year": 0.55,
        "ci95": [0.27, 0.98],
    }
    # Y's 3 before is small; X's 22 would give it away beside the network's 25 (22 = 1.1 x 20
    # exactly, from X's rate), so X's is hidden too, with everything resting on either.
    assert row["before"]["events"] == "*" and row["before"]["rate_per_patient_year"] == "*"
    assert row["rate_ratio"] == "*" and row["rate_ratio_ci95"] == "*"
    y_row = sites[1]["outcomes"][0]
    assert y_row["before"]["events"] == "*" and y_row["rate_ratio"] == "*"
    assert y_row["after"]["events"] == 10 and y_row["after"]["rate_per_patient_year"] == 1.8
    # The network: 25 before over 9131 days (25.0 person-years), 20 after: rates from the exact
    # counts. Ratio 0.8 with 20 of 45 at equal time: Clopper-Pearson 0.2964 to 0.6000
    # -> pi / (1 - pi) = 0.42 to 1.50.
    network = total["outcomes"][0]
    assert total["patients"] == 50
    assert network["before"] == {
        "events": 25,
        "person_years": 25.0,
        "rate_per_patient_year": 1.0,
        "ci95": [0.65, 1.48],
    }
    assert network["rate_ratio"] == 0.8 and network["rate_ratio_ci95"] == [0.42, 1.5]


def test_a_total_of_some_sites_hides_what_the_network_hides() -> None:
    # Before: X 30, Y 3 (small), Z 20 -> Y hidden, then Z (the smallest shown) to protect it.
    x, y, z = (
        _sums(40, 7305, 7305, 30, 20),
        _sums(10, 1826, 1826, 3, 9),
        _sums(40, 7305, 7305, 20, 20),
    )
    sites = [(_ref("X"), x), (_ref("Y"), y), (_ref("Z"), z)]
    _, network = publish(sites)
    assert network["outcomes"][0]["before"]["events"] == 55
    # X and Y: takes in Y but not Z, so X + Y less X would give Y: hidden.
    _, xy = publish(sites, [True, True, False])
    assert xy["outcomes"][0]["before"]["events"] == "*"
    assert xy["outcomes"][0]["after"]["events"] == 30  # nothing hidden after
    # Y and Z: every hidden count, their sum is what the network gives anyway.
    yz_rows, yz = publish(sites, [False, True, True])
    assert [r["site"]["code"] for r in yz_rows] == ["Y", "Z"]
    assert yz["outcomes"][0]["before"]["events"] == 25
    # X alone: no hidden count.
    _, only_x = publish(sites, [True, False, False])
    assert only_x["outcomes"][0]["before"]["events"] == 30


@pytest.mark.parametrize(
    ("counts", "shown", "hide_total"),
    [
        ([30, 20, 0], [30, 20, 0], False),
        ([30, 3, 20], [30, "*", "*"], False),
        # Two hidden counts of 1: their sum 2 pins both, so a third is hidden (12 over three
        # counts: each 1..10).
        ([1, 1, 10, 40], ["*", "*", "*", 40], False),
        # Nothing left to hide but the total.
        ([4, 0], ["*", 0], True),
        ([1, 1], ["*", "*"], True),
    ],
)
def test_suppress_exact(counts: list[int], shown: list[object], hide_total: bool) -> None:
    assert suppress_exact(counts) == (shown, hide_total)


def test_windows_move_by_calendar_months() -> None:
    assert shift_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert shift_months(date(2024, 8, 31), -6) == date(2024, 2, 29)
    assert complete_by(date(2026, 10, 31), 6) == date(2026, 4, 30)
    # 31 August + 6 months is 28 February: every enrolment of 29-31 August is complete then.
    assert complete_by(date(2027, 2, 28), 6) == date(2026, 8, 31)
    assert complete_by(date(2026, 11, 15), 6) == date(2026, 5, 15)


def test_the_route_is_for_programme_leads(client: TestClient, hand_built: World) -> None:
    for who in ("pat_A1", "clin_A1"):
        assert client.get(URL, headers=hand_built.auth(who)).status_code == 403
    response = client.get(f"{URL}?month=2026-10", headers=hand_built.auth("lead"))
    assert response.status_code == 200, response.text
    body = response.json()
    assert [r["site"]["code"] for r in body["sites"]] == ["SITEA", "SITEB"]
    assert body["as_of"] == "2026-10-31" and body["network"]["patients"] == "*"
    one = client.get(
        f"{URL}?month=2026-10&site_id={hand_built.sites['A']}&window_months=3",
        headers=hand_built.auth("lead"),
    )
    assert one.status_code == 200 and one.json()["window_months"] == 3
    assert [r["site"]["code"] for r in one.json()["sites"]] == ["SITEA"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("month=2026-13", "month"),
        ("month=2027-01", "month"),
        ("window_months=0", "window_months"),
        ("window_months=13", "window_months"),
        (f"site_id={uuid.UUID(int=7)}", "site_id"),
    ],
)
def test_bad_input_is_a_422_naming_the_field(
    client: TestClient, world: World, query: str, field: str
) -> None:
    response = client.get(f"{URL}?{query}", headers=world.auth("lead"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert field in str(response.json()["errors"])


@pytest.mark.parametrize("months", [-12, -6, -1, 1, 6, 12])
def test_add_months_in_sql_is_shift_months(session: Session, months: int) -> None:
    days = [date(2024, 2, 29), date(2026, 1, 31), date(2026, 8, 31), date(2026, 12, 31)]
    days += [date(2026, 3, 1), date(2026, 6, 15), date(2026, 10, 30)]
    for day in days:
        moved = session.scalar(
            select(add_months(bindparam("d", day, Date), bindparam("n", months, Integer)))
        )
        assert moved == shift_months(day, months), (day, months)


def test_a_re_enrolment_is_a_patient_row_of_its_own(world: World) -> None:
    # One person, two enrolments at site B: the first (1 Oct 2025, off monitoring 10 Jan 2026)
    # with an admission on 1-4 Dec 2025 in its after window; the second (1 Feb 2026) sees none
    # of the first row's events in its before window (2025-08-01..2026-01-31), though that
    # admission falls in it: each enrolment counts only the events recorded on its own row.
    with unit_of_work(world.app.state.sessions) as s:
        first = _patient(
            s,
            world,
            201,
            "B1",
            "2025-10-01",
            status="discharged",
            discharged_on=date(2026, 1, 10),
            discharge_reason="stable_optimised",
        )
        _event(s, first, "admission", "2025-12-01", "2025-12-04", hf=True)
        second = _patient(s, world, 201, "B1", "2026-02-01")  # the same NHS number
        _event(s, second, "ae_attendance", "2026-03-10")
    with world.app.state.sessions() as s:
        b = site_sums(s, AS_OF, [world.sites["B"]], 6)[world.sites["B"]]
    # Days: first 2025-04-01..09-30 (183) and 2025-10-01..2026-03-31 (182); second
    # 2025-08-01..2026-01-31 (184) and 2026-02-01..07-31 (181).
    assert (b.patients, b.before_days, b.after_days) == (2, 183 + 184, 182 + 181)
    assert b.outcomes["admissions_all_cause_before"] == 0
    assert b.outcomes["admissions_all_cause_after"] == 1
    assert b.outcomes["bed_days_after"] == 3 and b.outcomes["bed_days_before"] == 0
    assert b.outcomes["ae_attendances_after"] == 1


def test_a_frozen_month_reads_the_same_sums_as_live(hand_built: World) -> None:
    # The month-end job freezes every site's sums (B's too); read back, the comparison is the
    # one computed live, and an event recorded after the freeze does not move a closed month.
    now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
    with unit_of_work(hand_built.app.state.sessions) as s:
        live = before_after(s, "2026-10", None, 6)
        assert freeze(s, "2026-10", now) == 2
    with unit_of_work(hand_built.app.state.sessions) as s:
        frozen = s.scalars(select(BeforeAfterSnapshot)).all()
        assert {row.site_id for row in frozen} == set(hand_built.sites.values())
        p4 = s.scalars(select(Patient.id).where(Patient.nhs_number == nhs_number(104))).one()
        _event(s, p4, "ae_attendance", "2025-08-01")
    with hand_built.app.state.sessions() as s:
        assert before_after(s, "2026-10", None, 6) == live
        assert site_sums(s, AS_OF, None, 6)[hand_built.sites["B"]] != SITE_B  # live has moved
