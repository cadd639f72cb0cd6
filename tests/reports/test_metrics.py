"""Each metric against a small hand-built dataset with hand-computed values.

Every test runs on SQLite and PostgreSQL (the ``session`` fixture is parametrised over both) with
the same expected numbers, so the two engines must agree. October 2026 is the month under test:
British Summer Time ends on Sunday 25 October at 01:00 UTC, so the month starts at
2026-09-30T23:00Z and ends at 2026-11-01T00:00Z.
"""

from __future__ import annotations

from datetime import date

import pytest

from service.reports.metrics import REGISTRY
from service.reports.period import Period
from tests.reports.builders import Data, check_table, run


@pytest.fixture
def data(session):
    data = Data(session)
    data.site("S1")
    data.site("S2")
    return data


def test_period_boundaries_are_london_midnights():
    period = Period.for_month("2026-10")
    assert period.start_utc.isoformat() == "2026-09-30T23:00:00+00:00"
    assert period.end_utc.isoformat() == "2026-11-01T00:00:00+00:00"
    march = Period.for_month("2026-03")
    assert march.start_utc.isoformat() == "2026-03-01T00:00:00+00:00"
    assert march.end_utc.isoformat() == "2026-03-31T23:00:00+00:00"
    assert [m for _, m in period.utc_offsets()][-2:] == [60, 0]


def test_registry_covers_the_domain_reference():
    expected = {
        "referred",
        "onboarded",
        "caseload",
        "active_month_end",
        "discharged",
        "discharged_stable_optimised",
        "discharged_admitted",
        "discharged_died",
        "discharged_withdrew",
        "discharged_other",
        "days_on_pathway_median",
        "weight_adherence",
        "alerts_red",
        "alerts_amber",
        "alerts_per_100_patient_days",
        "alert_first_action_median_hours",
        "alert_first_action_p90_hours",
        "red_alerts_actioned_in_time",
        "alerts_resolved_no_action_needed",
        "admissions_hf",
        "admissions_all_cause",
        "readmissions_30d",
        "bed_days",
        "ae_attendances",
        "deaths",
        "hf_admissions_preceded_by_alert",
        "on_acei_arb_arni",
        "on_beta_blocker",
        "on_mra",
        "on_sglt2i",
        "at_target_acei_arb_arni",
        "at_target_beta_blocker",
        "at_target_mra",
        "at_target_sglt2i",
        "time_to_optimisation_median_days",
        "kccq_start_median",
        "kccq_discharge_median",
        "kccq_change_median",
        "kccq_improved",
        "red_alerts_out_of_hours",
        "red_alerts_out_of_hours_queued",
        "red_alerts_out_of_hours_to_ooh_service",
        "red_alerts_out_of_hours_to_ucr",
        "red_alerts_out_of_hours_handover_unavailable",
        "red_alerts_out_of_hours_actioned_in_time",
        "red_alerts_out_of_hours_handover_delivered",
        "post_discharge_reviews_due",
        "post_discharge_reviews_in_time",
        "patient_months",
        "contacts",
        "staff_hours",
        "staff_hours_alerts",
        "staff_hours_contacts",
        "staff_minutes_per_alert",
        "staff_minutes_per_patient_month",
    }
    assert set(REGISTRY) == expected
    for metric in REGISTRY.values():
        assert metric.title and metric.numerator and metric.description
        assert "SELECT" in metric.sql()


@pytest.fixture
def caseload(data):
    t1, t2 = "S1-team", "S2-team"
    # created 2026-09-30T22:30Z is 23:30 BST on 30 September: not referred in October
    data.patient(t1, "2026-09-15", created="2026-09-30T22:30")
    # created 2026-09-30T23:30Z is 00:30 BST on 1 October: referred in October; enrolled mid-month
    data.patient(t1, "2026-10-10", created="2026-09-30T23:30")
    data.patient(t1, "2026-08-01", "2026-10-31", "stable_optimised")  # discharged on the last day
    data.patient(t1, "2026-11-01", created="2026-11-01T00:30")  # after the month
    data.patient(t1, "2026-07-01", "2026-09-30", "withdrew")  # before the month
    # discharge and re-enrolment of the same person: two episodes
    data.patient(t1, "2026-09-01", "2026-10-05", "admitted", nhs="9434765919")
    data.patient(t1, "2026-10-20", nhs="9434765919", created="2026-10-20T09:00")
    data.patient(t2, "2026-10-01", "2026-10-15", "died", created="2026-10-01T08:00")
    data.done()
    return data


CASELOAD_AND_FLOW = [
    ("referred", 2, 1, 3),
    ("onboarded", 2, 1, 3),
    ("caseload", 5, 1, 6),
    ("active_month_end", 3, None, 3),
    ("discharged", 2, 1, 3),
    ("discharged_stable_optimised", 1, None, 1),
    ("discharged_admitted", 1, None, 1),
    ("discharged_died", None, 1, 1),
    ("discharged_withdrew", None, None, 0),
    ("discharged_other", None, None, 0),
    # 31 Oct - 1 Aug = 91 days, 5 Oct - 1 Sep = 34 days, 15 Oct - 1 Oct = 14 days
    ("days_on_pathway_median", 62.5, 14, 34),
]


def test_caseload_and_flow(session, caseload):
    check_table(session, caseload, CASELOAD_AND_FLOW)


def test_empty_month_gives_zero_counts_and_no_values(session, caseload):
    for metric in REGISTRY.values():
        result = run(session, metric.id, month="2025-06")
        assert result.groups == {}
        if metric.kind in ("count", "sum"):
            assert result.total.value == 0
        else:
            assert result.total.value is None
        assert result.total.n == 0


def test_weight_adherence_counts_london_days_across_the_bst_change(session, data):
    t1 = "S1-team"
    q1 = data.patient(t1, "2026-10-30")  # 2 expected days: 30 and 31 October
    data.reading(q1, "2026-10-30T07:00")
    data.reading(q1, "2026-10-31T08:00")
    data.reading(q1, "2026-10-31T23:30")  # 23:30 GMT, still 31 October: same day
    q2 = data.patient(t1, "2026-09-01")  # 31 expected days
    data.reading(q2, "2026-09-30T22:59")  # 23:59 BST on 30 September: not October
    data.reading(q2, "2026-09-30T23:30")  # 00:30 BST on 1 October
    data.reading(q2, "2026-10-24T23:30")  # 00:30 BST on 25 October
    data.reading(q2, "2026-10-25T00:30")  # 01:30 BST on 25 October: same day
    data.reading(q2, "2026-10-31T23:59")  # 31 October
    data.reading(q2, "2026-11-01T00:00")  # 1 November
    data.reading(q2, "2026-10-02T08:00", type_="blood_pressure")  # not a weight
    q3 = data.patient(t1, "2026-10-10", "2026-10-12", "other")  # 3 expected days
    data.reading(q3, "2026-10-11T08:00")
    data.reading(q3, "2026-10-13T08:00")  # after discharge
    q4 = data.patient(t1, "2026-09-01", expects_daily_weight=False)
    data.reading(q4, "2026-10-11T08:00")
    data.patient("S2-team", "2026-10-31")  # one expected day, no reading
    data.done()
    result = run(session, "weight_adherence")
    # (2 + 3 + 1) reading-days of (2 + 31 + 3) expected at S1; 0 of 1 at S2
    s1, s2 = result.groups[data.sites["S1"]], result.groups[data.sites["S2"]]
    assert (s1.numerator, s1.denominator, s1.n) == (6, 36, 3)
    assert s1.value == pytest.approx(100 * 6 / 36)
    assert (s2.numerator, s2.denominator, s2.value) == (0, 1, 0)
    assert (result.total.numerator, result.total.denominator) == (6, 37)


@pytest.fixture
def alerts(data):
    a1 = data.patient("S1-team", "2026-09-01")  # 31 patient-days
    a2 = data.patient("S1-team", "2026-10-17")  # 15 patient-days
    g1 = data.patient("S2-team", "2026-09-01")  # 31 patient-days
    data.alert(
        a1,
        "red",
        "2026-10-05T10:00",
        due="2026-10-05T14:00",
        action="2026-10-05T11:30",
        resolved="2026-10-06T09:00",
        outcome="advice_given",
    )  # 1.5 h, in time
    data.alert(
        a1,
        "red",
        "2026-10-10T10:00",
        due="2026-10-10T14:00",
        action="2026-10-10T16:00",
        resolved="2026-10-12T09:00",
        outcome="no_action_needed",
    )  # 6 h, late
    data.alert(
        a2,
        "amber",
        "2026-10-20T08:00",
        action="2026-10-21T08:00",
        resolved="2026-11-02T09:00",
        outcome="no_action_needed",
    )  # 24 h, resolved in Nov
    data.alert(
        a2,
        "amber",
        "2026-09-30T23:30",
        action="2026-10-01T00:30",
        resolved="2026-10-01T09:00",
        outcome="no_action_needed",
    )  # 1 October BST, 1 h
    data.alert(a1, "red", "2026-10-31T23:00", due="2026-11-01T03:00")  # never actioned: late
    data.alert(a1, "red", "2026-11-01T00:10", due="2026-11-01T04:00")  # November
    data.alert(g1, "red", "2026-10-15T09:00", due="2026-10-15T13:00", action="2026-10-15T12:00")
    data.done()
    return data


ALERTS = [
    ("alerts_red", 3, 1, 4),
    ("alerts_amber", 2, None, 2),
    ("alerts_per_100_patient_days", 100 * 5 / 46, 100 * 1 / 31, 100 * 6 / 77),
    # S1 times sorted 1, 1.5, 6, 24 hours; network 1, 1.5, 3, 6, 24
    ("alert_first_action_median_hours", 3.75, 3, 3),
    ("alert_first_action_p90_hours", 6 + 0.7 * 18, 3, 6 + 0.6 * 18),
    ("red_alerts_actioned_in_time", 100 / 3, 100, 50),
    ("alerts_resolved_no_action_needed", 200 / 3, None, 200 / 3),
]


def test_alert_metrics(session, alerts):
    check_table(session, alerts, ALERTS)


@pytest.fixture
def outcomes(data):
    o1 = data.patient("S1-team", "2026-09-01")
    data.admission(o1, "2026-09-20", "2026-09-25")  # before the month: look-back only
    data.admission(o1, "2026-10-20", "2026-10-24")  # HF, readmission (25 days), 4 bed days
    data.alert(o1, "amber", "2026-10-06T09:00")  # 14 days before 20 October: preceded
    data.admission(o1, "2026-10-28", hf=False)  # still in: 4 nights to the month end
    data.event(o1, "ae_attendance", "2026-10-31")
    o2 = data.patient("S1-team", "2026-10-01")
    data.admission(o2, "2026-10-05", "2026-10-05")  # HF, day case: 0 bed days
    data.alert(o2, "red", "2026-09-20T10:00")  # 15 days before: too early
    data.alert(o2, "amber", "2026-10-06T10:00")  # after the admission
    data.admission(
        o2, "2026-10-10", "2026-10-12", hf=False, emergency=False
    )  # elective: 2 bed days
    o3 = data.patient("S1-team", "2026-10-15")
    data.admission(o3, "2026-10-01", "2026-10-10")  # the index admission, before enrolment
    o4 = data.patient("S2-team", "2026-08-01", "2026-10-15", "died")
    data.admission(o4, "2026-09-25", "2026-10-03")  # 2 bed days in October
    data.event(o4, "death", "2026-10-15")
    data.event(o4, "ae_attendance", "2026-10-16")  # after discharge from monitoring
    data.event(o4, "ae_attendance", "2026-11-01")
    # an earlier episode of the same person, admitted and discharged from monitoring
    o6 = data.patient("S2-team", "2026-08-01", "2026-09-10", "admitted", nhs="9434765870")
    data.admission(o6, "2026-09-01", "2026-09-09")
    o5 = data.patient("S2-team", "2026-09-20", nhs="9434765870")
    data.admission(o5, "2026-10-08", "2026-10-09", hf=False)  # 29 days after: readmission
    data.done()
    return data


OUTCOMES = [
    ("admissions_hf", 2, None, 2),
    ("admissions_all_cause", 3, 1, 4),
    ("readmissions_30d", 2, 1, 3),
    ("bed_days", 10, 3, 13),
    ("ae_attendances", 1, None, 1),
    ("deaths", None, 1, 1),
    ("hf_admissions_preceded_by_alert", 50, None, 50),
]


def test_outcome_metrics(session, outcomes):
    check_table(session, outcomes, OUTCOMES)


@pytest.fixture
def medicines(data):
    m1 = data.patient("S1-team", "2026-09-01", hf_type="HFrEF")
    data.med(m1, "acei_arb_arni", "started", "2026-09-01")
    data.med(m1, "acei_arb_arni", "started", "2026-10-10", target=True)
    data.med(m1, "beta_blocker", "started", "2026-10-05", target=True)
    data.med(m1, "mra", "contraindicated", "2026-09-10")
    data.med(m1, "sglt2i", "started", "2026-10-01", target=True)  # optimised on 10 October
    m2 = data.patient("S1-team", "2026-09-01", hf_type="HFrEF")
    data.med(m2, "acei_arb_arni", "started", "2026-10-01")
    data.med(m2, "acei_arb_arni", "stopped", "2026-10-20")
    data.med(m2, "beta_blocker", "started", "2026-11-02")  # after the month
    data.med(m2, "sglt2i", "started", "2026-10-31")
    m3 = data.patient("S1-team", "2026-09-01", hf_type="HFpEF")
    data.med(m3, "acei_arb_arni", "started", "2026-10-01")
    m4 = data.patient("S1-team", "2026-09-01", "2026-10-15", "other", hf_type="HFrEF")
    data.med(m4, "mra", "started", "2026-10-01")
    data.patient("S2-team", "2026-09-01", hf_type="HFrEF")  # nothing recorded
    data.done()
    return data


MEDICINES = [
    ("on_acei_arb_arni", 50, 0, 100 / 3),
    ("on_beta_blocker", 50, 0, 100 / 3),
    ("on_mra", 0, 0, 0),
    ("on_sglt2i", 100, 0, 200 / 3),
    ("at_target_acei_arb_arni", 100, None, 100),
    ("at_target_beta_blocker", 100, None, 100),
    ("at_target_mra", None, None, None),
    ("at_target_sglt2i", 50, None, 50),
    # all four pillars settled on 10 October, enrolled 1 September
    ("time_to_optimisation_median_days", 39, None, 39),
]


def test_medicine_metrics(session, medicines):
    check_table(session, medicines, MEDICINES)


@pytest.fixture
def kccq(data):
    k1 = data.patient("S1-team", "2026-09-01", "2026-10-10", "stable_optimised")
    data.kccq(k1, 40, "start", "2026-09-01")
    data.kccq(k1, 50, "start", "2026-09-05")  # a later start score: the first one counts
    data.kccq(k1, 52, "discharge", "2026-10-08")
    data.kccq(k1, 60, "discharge", "2026-10-10")  # the last discharge score counts
    k2 = data.patient("S1-team", "2026-09-01", "2026-10-20", "stable_optimised")
    data.kccq(k2, 70, "start", "2026-09-01")
    data.kccq(k2, 73, "discharge", "2026-10-20")
    k3 = data.patient("S1-team", "2026-09-01", "2026-10-25", "withdrew")
    data.kccq(k3, 30, "start", "2026-09-01")  # no discharge score: not paired
    k4 = data.patient("S1-team", "2026-09-01")  # still on the pathway
    data.kccq(k4, 20, "start", "2026-09-01")
    data.kccq(k4, 50, "discharge", "2026-10-01")
    k5 = data.patient("S2-team", "2026-09-01", "2026-10-31", "other")
    data.kccq(k5, 55, "start", "2026-09-01")
    data.kccq(k5, 50, "discharge", "2026-10-31")
    data.done()
    return data


KCCQ = [
    ("kccq_start_median", 55, 55, 55),
    ("kccq_discharge_median", 66.5, 50, 60),
    ("kccq_change_median", 11.5, -5, 3),
    ("kccq_improved", 50, 0, 100 / 3),
]


def test_kccq_metrics(session, kccq):
    check_table(session, kccq, KCCQ)


def test_team_grouping_and_site_filter(session):
    data = Data(session)
    data.site("S1", teams=("A", "B"))
    data.site("S2", teams=("C",))
    for team, count in (("A", 2), ("B", 3), ("C", 4)):
        for _ in range(count):
            data.patient(team, "2026-10-05")
    data.done()
    by_team = run(session, "onboarded", by="team")
    assert {k: v.value for k, v in by_team.groups.items()} == {
        data.teams["A"]: 2,
        data.teams["B"]: 3,
        data.teams["C"]: 4,
    }
    assert by_team.total.value == 9
    in_site = run(session, "onboarded", by="team", site_id=data.sites["S1"])
    assert set(in_site.groups) == {data.teams["A"], data.teams["B"]}
    assert in_site.total.value == 5


def test_equity_groups(session):
    data = Data(session)
    data.site("S1")
    t = "S1-team"
    # ages on 31 October 2026, the last day of the period
    data.patient(t, "2026-10-01", date_of_birth=date(1961, 11, 1), sex="male", imd_quintile=1)  # 64
    data.patient(
        t, "2026-10-01", date_of_birth=date(1961, 10, 31), ethnicity="H", imd_quintile=1
    )  # 65
    data.patient(
        t, "2026-10-01", date_of_birth=date(1941, 11, 1), ethnicity="Z", imd_quintile=None
    )  # 84
    data.patient(
        t, "2026-10-01", date_of_birth=date(1941, 10, 31), ethnicity=None, imd_quintile=5
    )  # 85
    data.patient(t, "2026-10-01", date_of_birth=date(1980, 1, 1), ethnicity="99", sex="unknown")
    data.patient(t, "2026-10-01", ethnicity="M")
    data.patient(t, "2026-10-01", ethnicity="E")
    data.patient(t, "2026-10-01", ethnicity="S")
    data.done()
    site = data.sites["S1"]

    def split(by: str) -> dict[str, float | None]:
        return {
            k: v.value for k, v in run(session, "onboarded", by=by, site_id=site).groups.items()
        }

    assert split("age_band") == {"<65": 2, "65-74": 1, "75-84": 4, "85+": 1}
    assert split("ethnicity") == {
        "White": 1,
        "Asian": 1,
        "Not stated": 1,
        "Not known": 2,
        "Black": 1,
        "Mixed": 1,
        "Other": 1,
    }
    assert split("imd_quintile") == {"1": 2, "Not known": 1, "5": 1, "2": 4}
    assert split("sex") == {"male": 1, "female": 6, "unknown": 1}
