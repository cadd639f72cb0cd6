"""A value framework's dashboard against a hand-computed table, on SQLite and PostgreSQL.

October 2026, three sites, every patient enrolled on 1 September:

| site | patients | IMD | HFrEF on a beta-blocker | HF admissions in Oct | nights each |
| A    | 40       | 20 in 1, 20 in 5 | 10 of IMD 1, 18 of IMD 5 | 10 | 3 |
| B    | 15       | 3   | 12 of 15                 | 8  | 4 |
| C    | 10       | 3   | not HFrEF                | 2  | 2 |

Published (counts of 1-7 hidden, others rounded to 5; percentages from the rounded figures):
caseload A 40, B 15, C 10, network 65; admissions A 10, B 10 (8), C *, network 20; bed days A 30,
B 30 (32), C * (4), network 65 (66); beta-blockers A 30/40 = 75.0 %, B 10/15 = 66.7 %.
Site A prices a bed day at GBP 400 (its own figure), the others at the national default (380).

Staff time: 20 calls of 30 minutes to A's patients (10 hours) and 24 to B's (12 hours, shown as
10); every patient was on the pathway all October, one patient-month each (A 40, B 15, C 10).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from service.models import PatientContact
from service.reports.figures import FigureStore
from service.stewardship import dashboard
from service.stewardship.costs import COST_KEYS, in_force
from service.stewardship.dashboard import FrameworkVersion
from service.stewardship.resources import UnitCosts
from service.stewardship.spec import FrameworkSpec, OutcomeSpec, Population, Resources
from tests.reports.builders import Data, utc
from tests.support.factories import make_user

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MONTH = "2026-10"


@pytest.fixture
def data(session):
    data = Data(session)
    for code in "ABC":
        data.site(code)
    imd_of_a = [1] * 20 + [5] * 20
    a_patients: list[uuid.UUID] = []
    on_bb_a = [i < 10 for i in range(20)] + [i < 18 for i in range(20)]
    for i, (imd, on_bb) in enumerate(zip(imd_of_a, on_bb_a, strict=True)):
        pid = data.patient("A-team", "2026-09-01", imd_quintile=imd, hf_type="HFrEF")
        if on_bb:
            data.med(pid, "beta_blocker", "started", "2026-09-10")
        if i < 10:
            data.admission(pid, "2026-10-05", "2026-10-08")
        if i < 20:
            a_patients.append(pid)
    nurse = make_user(session, "nurse", "clinician", [])
    for i in range(15):
        pid = data.patient("B-team", "2026-09-01", imd_quintile=3, hf_type="HFrEF")
        if i < 12:
            data.med(pid, "beta_blocker", "started", "2026-09-10")
        if i < 8:
            data.admission(pid, "2026-10-10", "2026-10-14")
        for day in (6, 13) if i < 12 else ():
            call(session, pid, nurse, f"2026-10-{day:02d}T10:00", 30)
    for pid in a_patients:
        call(session, pid, nurse, "2026-10-07T11:00", 30)
    for i in range(10):
        pid = data.patient("C-team", "2026-09-01", imd_quintile=3)
        if i < 2:
            data.admission(pid, "2026-10-20", "2026-10-22")
    data.done()
    return data


def call(session, pid: uuid.UUID, nurse: uuid.UUID, at: str, minutes: int) -> None:
    session.add(
        PatientContact(
            id=uuid.uuid4(),
            patient_id=pid,
            kind="call",
            occurred_at=utc(at),
            minutes=minutes,
            recorded_at=utc(at),
            recorded_by=nurse,
        )
    )


def costs(data: Data) -> UnitCosts:
    out = {site: in_force({}) for site in data.sites.values()}
    out[data.sites["A"]] = in_force({"bed_day_gbp": (400.0, "Site A finance, 2026/27")})
    return out


def framework(site_ids: tuple[uuid.UUID, ...]) -> FrameworkVersion:
    spec = FrameworkSpec(
        name="Test framework",
        site_ids=site_ids,
        aim="Fewer admissions",
        objectives=("Optimise medicines",),
        population=Population(description="Everyone on the pathway"),
        resources=Resources(team_wte=5.5),
        outcomes=(
            OutcomeSpec("inequalities", "on_beta_blocker", 20.0, "lower", "imd_quintile"),
            OutcomeSpec("resources", "bed_day_cost_gbp", 30_000.0, "lower"),
            OutcomeSpec("population_health", "admissions_hf", 15.0, "lower"),
            OutcomeSpec("quality", "on_beta_blocker", 70.0, "higher"),
            OutcomeSpec("resources", "caseload_per_wte", 12.0, "higher"),
        ),
    )
    return FrameworkVersion(uuid.uuid4(), 2, NOW, spec)


def build(session, data, *codes):
    store = FigureStore(session, NOW)
    chosen = tuple(data.sites[c] for c in codes)
    return dashboard.build(store, framework(chosen), MONTH, costs(data))


def test_two_sites_outcomes_by_domain(session, data):
    board = build(session, data, "A", "B")
    rows = [(o["domain"], o["metric"], o["value"], o["status"]) for o in board["outcomes"]]
    assert rows == [
        ("population_health", "admissions_hf", 20, "not_met"),
        ("quality", "on_beta_blocker", 72.7, "met"),  # (30 + 10) / (40 + 15)
        ("resources", "bed_day_cost_gbp", 23_400.0, "met"),  # 30 x 400 + 30 x 380
        ("resources", "caseload_per_wte", 10.0, "not_met"),  # 55 / 5.5
        ("inequalities", "on_beta_blocker", 50.0, "not_met"),  # 100.0 (IMD 5) - 50.0 (IMD 1)
    ]
    gap = board["outcomes"][-1]
    assert gap["equity_split"] == "imd_quintile"
    assert {g["group"]: g["value"] for g in gap["groups"]} == {
        "1": 50.0,  # A 10/20
        "2": None,
        "3": 66.7,  # B 10/15
        "4": None,
        "5": 100.0,  # A 20/20 (18 rounded)
        "Not known": None,
    }
    admissions = board["outcomes"][0]
    assert [p["value"] for p in admissions["trend"]][-2:] == [0, 20]
    assert admissions["trend"][0]["month"] == "2025-11"


def test_two_sites_resources(session, data):
    res = build(session, data, "A", "B")["resources"]
    assert res["bed_days"] == 60 and res["bed_day_cost_gbp"] == 23_400.0
    assert res["admissions"] == 20 and res["admission_cost_gbp"] == 20 * 3796.0
    assert res["ae_attendances"] == 0 and res["ae_cost_gbp"] == 0.0
    assert res["caseload"] == 55 and res["caseload_per_wte"] == 10.0
    assert res["nurse_hours"] == 20 and res["nurse_cost_gbp"] == 20 * 62.0  # 10 + 10 (12)
    assert res["patient_months"] == 55 and res["kit_cost_gbp"] == 55 * 30.0
    # (20 x 62 + 55 x 30) / 55
    assert res["cost_per_patient_month_gbp"] == 52.55
    # No alert was resolved: minutes per alert has nothing to count; 1,320 minutes over 55
    # patient-months (shown as 1,320 / 55 = 24.0).
    assert res["staff_minutes_per_alert"] is None
    assert res["staff_minutes_per_patient_month"] == 24.0


def test_network_prices_the_hidden_site_with_its_cost(session, data):
    res = build(session, data)["resources"]
    # C's 4 bed days are hidden, but the network's 65 less A's 30 and B's 30 is C's share, and
    # C prices a bed day at the default: 30 x 400 + 30 x 380 + 5 x 380.
    assert res["bed_days"] == 65 and res["bed_day_cost_gbp"] == 25_300.0
    assert res["admissions"] == 20 and res["admission_cost_gbp"] == 20 * 3796.0


def test_a_site_hidden_with_its_own_price_hides_the_cost(session, data):
    store = FigureStore(session, NOW)
    prices = costs(data)
    prices[data.sites["C"]] = in_force({"bed_day_gbp": (500.0, "")})
    prices[data.sites["B"]] = in_force({"bed_day_gbp": (390.0, "")})
    board = dashboard.build(store, framework(()), MONTH, prices)
    # Only C is hidden, so its share (65 - 60) is known and priced at its own 500.
    assert board["resources"]["bed_day_cost_gbp"] == 30 * 400 + 30 * 390 + 5 * 500


def test_one_site_is_the_site_report(session, data):
    board = build(session, data, "C")
    outcomes = {o["metric"]: o for o in board["outcomes"] if o["domain"] != "inequalities"}
    assert outcomes["admissions_hf"]["value"] == "*"
    assert outcomes["admissions_hf"]["status"] == "suppressed"
    assert outcomes["on_beta_blocker"]["value"] is None  # no HFrEF patients: nothing to count
    assert outcomes["on_beta_blocker"]["status"] == "no_data"
    assert board["resources"]["bed_days"] == "*" and board["resources"]["bed_day_cost_gbp"] == "*"


def test_meta_names_version_costs_and_rules(session, data):
    board = build(session, data, "A")
    meta = board["meta"]
    assert meta["version"] == 2 and meta["month"] == MONTH and meta["scope"] == "Site A"
    (site_costs,) = meta["unit_costs"]
    keys = [c["key"] for c in site_costs["unit_costs"]]
    assert keys == list(COST_KEYS)
    bed = next(c for c in site_costs["unit_costs"] if c["key"] == "bed_day_gbp")
    assert bed == {
        "key": "bed_day_gbp",
        "gbp": 400.0,
        "source": "Site A finance, 2026/27",
        "year": "",
        "overridden": True,
    }
    assert board["disclosure"]["applied"] is True


def test_a_median_over_two_sites_is_the_median_of_their_patients(session, data):
    # 8 patients at A on the pathway 31..38 days, 8 at B 49..56 days, all discharged in October:
    # the sites' medians are 34.5 and 52.5, the two sites' median is (38 + 49) / 2, not the
    # median of the two medians' mean.
    for i in range(8):
        data.patient("A-team", "2026-09-01", f"2026-10-{2 + i:02d}", "stable_optimised")
        data.patient("B-team", "2026-09-01", f"2026-10-{20 + i:02d}", "stable_optimised")
    data.done()
    spec = framework((data.sites["A"], data.sites["B"])).spec
    outcome = OutcomeSpec("quality", "days_on_pathway_median", 40.0, "lower")
    two = FrameworkVersion(uuid.uuid4(), 1, NOW, replace(spec, outcomes=(outcome,)))
    store = FigureStore(session, NOW)
    board = dashboard.build(store, two, MONTH, costs(data))
    (median,) = board["outcomes"]
    assert median["value"] == 43.5 and median["status"] == "not_met"
    site_cells = store.by_site([MONTH])[MONTH]["days_on_pathway_median"].sites
    assert site_cells[data.sites["A"]].value == 34.5
    assert site_cells[data.sites["B"]].value == 52.5


def test_a_store_of_the_framework_metrics_shows_the_same_cells(session, data):
    version = framework((data.sites["A"], data.sites["B"]))
    full = dashboard.build(FigureStore(session, NOW), version, MONTH, costs(data))
    needed = dashboard.metrics_needed(version.spec)
    assert "on_beta_blocker" in needed and "bed_days" in needed and "weight_adherence" not in needed
    only = FigureStore(session, NOW, needed)
    assert dashboard.build(only, version, MONTH, costs(data)) == full


def test_outcomes_carry_their_spc_reading(session, data):
    board = build(session, data, "A", "B")
    caseload = next(o for o in board["outcomes"] if o["metric"] == "caseload_per_wte")
    # 55 patients from September: ten months of 0.0, then two of 10.0. The one moving range of
    # 10 is screened out (over 3.267 x the mean moving range of 10/11), leaving limits on the
    # mean, 20/12: the last two months are special cause, and better, since higher is better;
    # the target, 12, is beyond the upper limit, so it will not be met without a change.
    assert [p["value"] for p in caseload["trend"]] == [0.0] * 10 + [10.0, 10.0]
    assert caseload["spc"] == {
        "variation": "improvement_high",
        "assurance": "consistent_fail",
        "mean": 1.67,
        "lower": 1.67,
        "upper": 1.67,
        "too_few_points": False,
    }
