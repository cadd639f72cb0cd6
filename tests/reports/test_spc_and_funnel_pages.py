"""SPC views and funnel plots on the reports page and in the API: the right figures go into
``spc``/``funnel``, the readings and limits come out; months; the median-of-sites rule."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from service.charts import report_charts
from service.models import Patient
from service.reports import build
from service.reports.disclosure import Cell
from service.reports.figures import FigureStore
from service.reports.funnel import rate_limits
from service.reports.metrics import REGISTRY
from service.reports.period import month_of
from service.reports.spc_view import chart_of_cells, variation_words
from service.timeutil import LONDON
from tests.reports.builders import Data
from tests.support.signin import signed_in

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

# --- the wiring, by hand ------------------------------------------------------------------

# 8 months; the moving ranges 2 1 2 3 2 1 19: 19 > 3.267 x 30/7 is screened out, so
# mR-bar = 11/6, mean = 109/8 = 13.625, limits 13.625 -+ 2.66 x 11/6 = 8.7483 .. 18.5017.
XMR_VALUES = [10, 12, 11, 13, 10, 12, 11, 30]


@pytest.mark.parametrize(
    ("metric_id", "icon", "words"),
    [
        ("kccq_discharge_median", "improvement_high", "Special cause: improvement (high)"),
        ("alert_first_action_median_hours", "concern_high", "Special cause: concern (high)"),
        ("days_on_pathway_median", "neither_high", "Special cause: higher, neither better"),
    ],
)
def test_an_xmr_chart_reads_the_shown_values_in_the_metrics_direction(metric_id, icon, words):
    cells = [Cell(None, None, float(v)) for v in XMR_VALUES]
    chart = chart_of_cells(REGISTRY[metric_id], cells)
    assert chart.kind == "xmr"
    assert chart.mean == pytest.approx(13.625)
    assert chart.upper == pytest.approx(13.625 + 2.66 * 11 / 6)
    assert chart.lower == pytest.approx(13.625 - 2.66 * 11 / 6)
    assert chart.points[-1].rules == ("beyond_limits",)
    assert chart.variation_icon == icon
    assert variation_words(icon).startswith(words)


def test_a_hidden_month_is_a_gap():
    cells = [Cell(None, None, float(v)) for v in XMR_VALUES]
    cells[3] = Cell(None, None, "*")
    chart = chart_of_cells(REGISTRY["kccq_discharge_median"], cells)
    assert chart.points[3].value is None and chart.points[3].point_type is None
    # 7 values now: 10 12 11 10 12 11 30, mean 96/7.
    assert chart.mean == pytest.approx(96 / 7)


def test_a_proportion_is_a_laney_p_chart_of_its_shown_counts():
    # p-bar = 150/300 = 0.5, sigma at n=100 = 0.05; z-scores -2 0 2, mR-bar 2, sigma_z = 2/1.128
    # > 1: the p'-chart, limits 0.5 -+ 3 x 0.05 x 2/1.128. The fourth month rests on few people
    # (value *): its counts must not go in.
    cells = [
        Cell(40, 100, 40.0),
        Cell(50, 100, 50.0),
        Cell(60, 100, 60.0),
        Cell(5, 10, "*"),
    ]
    chart = chart_of_cells(REGISTRY["weight_adherence"], cells)
    assert chart.kind == "p_prime"
    assert chart.mean == pytest.approx(0.5)
    assert chart.sigma_z == pytest.approx(2 / 1.128)
    assert chart.points[0].upper == pytest.approx(0.5 + 3 * 0.05 * 2 / 1.128)
    assert chart.points[3].value is None
    assert chart.variation_icon == "common_cause"


# --- the median-of-sites rule ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "median"),
    [
        ([100.0, 90.0, 80.0], 90.0),
        ([100.0, "*", "*"], None),  # two of three hidden: not the third site's figure
        ([100.0, 90.0, "*"], None),
        ([100.0, None, 80.0], 90.0),  # nothing to report at a site is not a hidden figure
        ([None, None], None),
    ],
)
def test_the_median_of_sites_needs_every_site_published(values, median):
    assert build._median_of_shown(values) == median


def test_the_rule_is_stated_in_the_disclosure_block():
    rules = build.disclosure_meta()["rules"]
    assert build.PERCENT_RULE in rules and build.MEDIAN_RULE in rules


# --- Poisson limits at one exposure ----------------------------------------------------------


def test_rate_limits_by_hand():
    # Poisson(1): P(X<=2) = 0.919699, P(X<=3) = 0.981012; the 97.5 % quantile is 3,
    # interpolated 3 - (0.981012 - 0.975) / (0.981012 - 0.919699) = 2.90194.
    at = rate_limits(1.0, 1.0)
    assert at.upper_95 == pytest.approx(2.90194, abs=1e-4)
    assert at.lower_95 == 0.0


# --- through the API and the pages -----------------------------------------------------------


def _network(client, world, month="2026-10"):
    url = f"/api/v1/reports/network?month={month}"
    return client.get(url, headers=world.auth("lead")).json()


def test_the_spc_json_charts_the_network_reports_figures(client, world):
    report = _network(client, world)
    for metric_id in ("weight_adherence", "caseload"):
        response = client.get(
            f"/api/v1/reports/network/spc?metric={metric_id}&month=2026-10",
            headers=world.auth("lead"),
        )
        assert response.status_code == 200, response.text
        spc = response.json()
        row = next(m for m in report["metrics"] if m["id"] == metric_id)
        assert [p["month"] for p in spc["points"]] == [t["month"] for t in row["trend"]]
        assert [p["shown"] for p in spc["points"]] == [t["network"] for t in row["trend"]]
        assert spc["chart"] == ("xmr" if metric_id == "caseload" else spc["chart"])
        assert spc["run_length"] == 7 and spc["assurance_icon"] is None
        assert spc["variation"] == variation_words(spc["variation_icon"])
    site = client.get(
        f"/api/v1/reports/network/spc?metric=caseload&month=2026-10&site_id={world.sites['A']}"
        "&run_length=6",
        headers=world.auth("lead"),
    ).json()
    assert site["site"]["code"] == "SITEA" and site["run_length"] == 6
    row = next(m for m in report["metrics"] if m["id"] == "caseload")
    assert [p["shown"] for p in site["points"]] == [t["sites"]["SITEA"] for t in row["trend"]]


@pytest.mark.parametrize(
    "query",
    ["metric=caseload&run_length=5", "metric=nope", "metric=caseload&month=1999-01"],
)
def test_spc_json_refuses_bad_input(client, world, query):
    response = client.get(f"/api/v1/reports/network/spc?{query}", headers=world.auth("lead"))
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


def test_spc_json_is_for_programme_leads(client, world):
    url = "/api/v1/reports/network/spc?metric=caseload"
    assert client.get(url, headers=world.auth("clin_A1")).status_code == 403


def test_rate_funnels_answer_with_poisson_limits(client, world):
    response = client.get(
        "/api/v1/reports/network/funnel?metric=alerts_per_100_patient_days&month=2026-10",
        headers=world.auth("lead"),
    )
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["kind"] == "rate" and data["x_label"] == "Patient-days on the pathway"
    if data["limits"]:
        rate = data["network"]["numerator"] / data["network"]["denominator"]
        row = data["limits"][-1]
        expected = rate_limits(rate, row["denominator"])
        assert row["upper_998"] == pytest.approx(expected.upper_998 * 100, abs=1e-3)
    year = client.get(
        "/api/v1/reports/network/funnel?metric=admissions_hf&month=2026-10",
        headers=world.auth("lead"),
    ).json()
    assert year["x_label"] == "Patient-years on the pathway"
    svg = client.get(
        "/api/v1/reports/network/funnel.svg?metric=admissions_hf&month=2026-10",
        headers=world.auth("lead"),
    )
    assert svg.status_code == 200 and svg.text.startswith("<svg")  # no longer 422 for a rate
    # The pages' own plot, standalone, with a title for screen readers (both sites hidden
    # here, so no site is drawn or keyed).
    assert "<title" in svg.text and "99.8% limits" in svg.text and "SITEA" not in svg.text
    minutes = client.get(
        "/api/v1/reports/network/funnel?metric=staff_minutes_per_alert",
        headers=world.auth("lead"),
    )
    assert minutes.status_code == 422 and "metric" in minutes.text


def test_months_before_the_first_with_data_are_422_naming_month(client, world):
    response = client.get("/api/v1/reports/network?month=2001-01", headers=world.auth("lead"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "month"
    malformed = client.get("/api/v1/reports/network?month=2026-13", headers=world.auth("lead"))
    assert malformed.status_code == 422 and "month" in malformed.text


def test_the_month_list_starts_at_the_first_month_with_data(client, world):
    with world.app.state.sessions() as session:
        enrolled, created = session.execute(
            select(func.min(Patient.enrolled_on), func.min(Patient.created_at))
        ).one()
    first = min(month_of(enrolled), month_of(created.astimezone(LONDON).date()))
    signed_in(client, "lead")
    html = client.get("/ui/reports?month=2026-10").text
    select_html = re.search(r'<select id="month" name="month">(.*?)</select>', html, re.S)
    assert select_html is not None
    months = re.findall(r'<option value="(\d{4}-\d{2})"', select_html.group(1))
    assert months[-1] == first and months[0] > first


def test_a_garbage_month_on_the_page_says_so(client, world):
    signed_in(client, "lead")
    page = client.get("/ui/reports?month=garbage")
    assert page.status_code == 200
    assert "\u201cgarbage\u201d is not a month with data" in page.text
    assert "Showing October 2026 instead" in page.text


def test_the_lead_reads_variation_and_opens_the_spc_and_funnel_pages(client, world):
    signed_in(client, "lead")
    html = client.get("/ui/reports?month=2026-10").text
    assert "Variation (network, 12 months)" in html
    assert "/ui/reports/spc?metric=weight_adherence&amp;month=2026-10" in html
    assert "One rule for percentages" in html
    spc = client.get("/ui/reports/spc?metric=caseload&site=SITEB&month=2026-10")
    assert spc.status_code == 200
    assert ("Network" in spc.text and "Site B" in spc.text) or "SITEB" in spc.text
    api = client.get(
        "/api/v1/reports/network/spc?metric=caseload&month=2026-10", headers=world.auth("lead")
    ).json()
    assert api["variation"] in spc.text
    assert "Nov 2025" in spc.text or "Oct 2026" in spc.text  # "Mon YYYY" ticks
    funnel = client.get("/ui/reports/funnel?metric=admissions_hf&month=2026-10")
    assert funnel.status_code == 200
    assert "Patient-years on the pathway" in funnel.text
    assert "differences in case mix are not adjusted for" in funnel.text
    proportion = client.get("/ui/reports/funnel?metric=weight_adherence&month=2026-10")
    assert proportion.status_code == 200 and "95% limits" in proportion.text


def test_clinicians_cannot_open_the_spc_or_funnel_pages(client, world):
    signed_in(client, "clin_A1")
    assert client.get("/ui/reports/spc").status_code == 403
    assert client.get("/ui/reports/funnel").status_code == 403


def _funnel(
    kind: str,
    metric_id: str,
    network: tuple[int, float],
    points: list[tuple[str, int, float, float]],
) -> dict[str, Any]:
    return {
        "kind": kind,
        "metric": {"id": metric_id},
        "network": {"numerator": network[0], "denominator": network[1], "value": None},
        "points": [
            {"code": code, "numerator": num, "denominator": x, "x": x, "value": value}
            for code, num, x, value in points
        ],
    }


@pytest.mark.parametrize(
    ("value", "words"),
    [
        # p = 0.5 at n = 100: sigma 5 points; 95 % 50 -+ 9.8, 99.8 % 50 -+ 15.45.
        (59.0, "Within the 95% limits"),
        (62.0, "Above the 95% limit"),
        (66.0, "Above the 99.8% limit"),
        (34.0, "Below the 99.8% limit"),
    ],
)
def test_a_proportions_key_says_where_each_site_falls(value, words):
    data = _funnel("proportion", "weight_adherence", (50, 100), [("S", 50, 100, value)])
    assert report_charts.positions(data) == {"S": words}  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        # Rate 1 at exposure 1: 95 % upper 2.90194 (by hand above); 99.8 % upper: Poisson(1)
        # P(X<=4) = 0.996340, P(X<=5) = 0.999406: 5 - (0.999406 - 0.999) / 0.003066 = 4.8676.
        (2.5, "Within the 95% limits"),
        (3.0, "Above the 95% limit"),
        (5.0, "Above the 99.8% limit"),
    ],
)
def test_a_rates_key_uses_the_poisson_limits_at_the_sites_exposure(value, words):
    data = _funnel("rate", "admissions_hf", (10, 10.0), [("S", 3, 1.0, value)])
    assert report_charts.positions(data) == {"S": words}  # type: ignore[arg-type]
    assert rate_limits(1.0, 1.0).upper_998 == pytest.approx(4.8676, abs=1e-3)


def test_the_adherence_funnel_is_drawn_against_patients(client, world):
    data = client.get(
        "/api/v1/reports/network/funnel?metric=weight_adherence&month=2026-10",
        headers=world.auth("lead"),
    ).json()
    assert data["x_label"] == "Patients behind the figure"
    assert data["points"] == []  # the world's sites have too few patients to draw
    days = client.get(
        "/api/v1/reports/network/funnel?metric=on_beta_blocker&month=2026-10",
        headers=world.auth("lead"),
    ).json()
    assert all(p["x"] == p["denominator"] for p in days["points"])


def test_adherence_limits_use_the_patients_not_their_days(session):
    # 12 patients at S1 and 31 at S2, each with a weight on 10 of October's 31 days: 372 and
    # 961 expected reading-days (shown 370 and 960) but 10 and 30 patients (rounded).
    data = Data(session)
    for code, count in (("S1", 12), ("S2", 31)):
        data.site(code)
        for _ in range(count):
            pid = data.patient(f"{code}-team", "2026-09-01")
            for day in range(1, 11):
                data.reading(pid, f"2026-10-{day:02d}T08:00")
    session.flush()
    funnel = build.funnel_data(FigureStore(session, NOW), REGISTRY["weight_adherence"], "2026-10")
    by_code = {p["code"]: p for p in funnel["points"]}
    assert {c: (p["x"], p["denominator"]) for c, p in by_code.items()} == {
        "S1": (10, 370),
        "S2": (30, 960),
    }
    assert funnel["x_label"] == "Patients behind the figure"
    # The limits run to 110 % of the most patients (33), not of the most days.
    assert funnel["limits"][-1]["denominator"] == 33
