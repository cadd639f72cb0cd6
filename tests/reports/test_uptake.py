"""Uptake, enrolled over eligible per equity group: a hand-computed table on both databases, the
load in force for a month, and disclosure of small enrolled counts (hidden cells stay hidden,
complementary suppression, nothing derived from a hidden figure, the eligible counts as a
reader's extra knowledge)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.models import Site
from service.reports import build, disclosure, population
from service.reports.disclosure import Shown
from service.reports.figures import FigureStore
from service.reports.uptake import (
    ENROLLED_METRIC,
    UptakeGroup,
    UptakeSite,
    uptake_funnel,
    uptake_report,
    who_is_missed,
)
from tests.reports.builders import Data

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEAD = Principal(role="programme_lead")
IMD = ["1", "2", "3", "4", "5", "Not known"]


def _patients(data: Data, team: str, count: int, imd: int | None, **extra: Any) -> None:
    for _ in range(count):
        data.patient(team, extra.pop("enrolled", "2026-09-01"), imd_quintile=imd, **extra)


def _load(session: Session, site: Any, as_of: str, imd: list[int], source: str = "PHM") -> None:
    rows = [
        population.Row(f"groups[{i}]", "imd_quintile", g, n)
        for i, (g, n) in enumerate(zip(IMD, imd, strict=True))
    ]
    population.add_load(session, LEAD, "test", NOW, site, population.LoadIn(as_of, source, rows))


def _report(session: Session, by: str = "imd_quintile") -> dict[str, Any]:
    return dict(uptake_report(FigureStore(session, NOW, [ENROLLED_METRIC]), "2026-10", by))


def _site(report: dict[str, Any], code: str) -> dict[str, Any]:
    return next(s for s in report["sites"] if s["code"] == code)


def _table(site: dict[str, Any]) -> list[tuple[str, object, object, object]]:
    return [(g["group"], g["enrolled"], g["eligible"], g["uptake"]) for g in site["groups"]]


def test_uptake_by_hand_with_the_load_in_force_at_the_months_end(session: Session) -> None:
    data = Data(session)
    a, b = data.site("A"), data.site("B")
    # On the pathway at 31 October: A has 10 in IMD 1, 30 in IMD 2, 20 in IMD 3; B 20 and 20.
    _patients(data, "A-team", 10, 1)
    _patients(data, "A-team", 30, 2)
    _patients(data, "A-team", 20, 3)
    _patients(data, "B-team", 20, 1)
    _patients(data, "B-team", 20, 2)
    # Not on the pathway at 31 October: discharged before it, or enrolled after it.
    for _ in range(5):
        data.patient("A-team", "2026-08-01", "2026-10-15", "stable_optimised", imd_quintile=1)
    _patients(data, "A-team", 3, 2, enrolled="2026-11-05")
    data.done()
    # Three loads at A: an older one, the one in force (30 Sep), one dated after the month.
    _load(session, a, "2026-06-01", [10, 10, 10, 0, 0, 0])
    _load(session, a, "2026-09-30", [100, 120, 80, 0, 0, 0])
    _load(session, a, "2026-11-05", [1, 1, 1, 0, 0, 0])
    _load(session, b, "2026-10-31", [200, 50, 0, 0, 0, 0])

    report = _report(session)

    site_a, site_b = _site(report, "A"), _site(report, "B")
    assert site_a["load"] is not None and site_a["load"]["as_of"] == "2026-09-30"
    assert (site_a["enrolled"]["numerator"], site_a["eligible"], site_a["uptake"]) == (
        60,
        300,
        20.0,
    )
    assert _table(site_a) == [
        ("1", 10, 100, 10.0),
        ("2", 30, 120, 25.0),
        ("3", 20, 80, 25.0),
        ("4", 0, 0, None),
        ("5", 0, 0, None),
        ("Not known", 0, 0, None),
    ]
    assert (site_b["enrolled"]["numerator"], site_b["eligible"], site_b["uptake"]) == (
        40,
        250,
        16.0,
    )
    assert _table(site_b)[:3] == [("1", 20, 200, 10.0), ("2", 20, 50, 40.0), ("3", 0, 0, None)]
    assert report["network"] == {
        "enrolled": {"numerator": 100, "denominator": None, "value": 100},
        "eligible": 550,
        "uptake": 18.2,
    }
    funnel = report["funnel"]
    assert funnel["target"] == round(100 * 100 / 550, 2)
    assert [
        (p["code"], p["enrolled"], p["eligible"], p["uptake"], p["position"])
        for p in funnel["points"]
    ] == [
        ("A", 60, 300, 20.0, "inside"),
        ("B", 40, 250, 16.0, "inside"),
    ]
    assert funnel["left_out"] == []
    # Only groups below their site's own uptake are named.
    assert report["missed"] == [
        "Site A: by IMD quintile, uptake is lowest in IMD quintile 1 (10 % of 100 eligible), "
        "against 20 % of all its eligible people.",
        "Site B: by IMD quintile, uptake is lowest in IMD quintile 1 (10 % of 200 eligible), "
        "against 16 % of all its eligible people.",
    ]


def test_a_dimension_left_out_of_the_load_and_a_site_without_one(session: Session) -> None:
    data = Data(session)
    a = data.site("A")
    data.site("B")
    _patients(data, "A-team", 20, 1)
    _patients(data, "B-team", 20, 1)
    data.done()
    _load(session, a, "2026-10-01", [100, 0, 0, 0, 0, 0])
    report = _report(session, "sex")
    site_a, site_b = _site(report, "A"), _site(report, "B")
    assert site_a["groups_note"] == "The eligible population loaded leaves this dimension out."
    assert site_a["eligible"] is None and site_a["uptake"] is None
    assert {g["enrolled"] for g in site_a["groups"]} == {None}
    assert site_b["load"] is None and site_b["groups_note"].startswith("No eligible population")
    # The network's enrolled patients count both sites, the eligible only A's: no network uptake.
    assert report["network"]["uptake"] is None
    assert report["funnel"]["points"] == [] and report["funnel"]["left_out"] == ["A", "B"]


def test_small_counts_stay_hidden_with_their_complements_and_nothing_derived(
    session: Session,
) -> None:
    data = Data(session)
    a, b, c = data.site("A"), data.site("B"), data.site("C")
    # A: 2 in IMD 1 (small) and 20 in IMD 2; the 20 must be hidden too, or 22 - 20 gives the 2.
    _patients(data, "A-team", 2, 1)
    _patients(data, "A-team", 20, 2)
    _patients(data, "B-team", 40, 2)
    _patients(data, "C-team", 5, 3)  # a site of 5: hidden whole
    data.done()
    _load(session, a, "2026-10-01", [50, 100, 0, 0, 0, 0])
    _load(session, b, "2026-10-01", [0, 200, 0, 0, 0, 0])
    _load(session, c, "2026-10-01", [0, 0, 60, 0, 0, 0])

    report = _report(session)

    site_a, site_c = _site(report, "A"), _site(report, "C")
    assert _table(site_a)[:3] == [("1", "*", 50, "*"), ("2", "*", 100, "*"), ("3", 0, 0, None)]
    assert (site_a["enrolled"]["numerator"], site_a["uptake"]) == (20, 13.3)  # 20 / 150
    # C's own count is hidden: its uptake, its groups and its funnel point with it.
    assert (site_c["enrolled"]["numerator"], site_c["eligible"], site_c["uptake"]) == ("*", 60, "*")
    assert {g["enrolled"] for g in site_c["groups"]} == {None}
    assert {g["uptake"] for g in site_c["groups"]} == {None}
    assert [p["code"] for p in report["funnel"]["points"]] == ["A", "B"]
    assert report["funnel"]["left_out"] == ["C"]
    # The pooled uptake is of published figures only: (20 + 40) / (150 + 200).
    assert report["funnel"]["target"] == round(100 * 60 / 350, 2)
    # No sentence names a hidden figure: A has no published group uptake, C none at all.
    assert not any("Site A" in line or "Site C" in line for line in report["missed"])
    # The enrolled cells are the equity split's own: one rounding of each count, not two.
    store = FigureStore(session, NOW)
    for code in ("A", "B"):
        site = session.scalars(select(Site).where(Site.code == code)).one()
        split = build.equity_report(store, site, "2026-10", "imd_quintile")
        metric = next(m for m in split["metrics"] if m["id"] == ENROLLED_METRIC)
        assert [g["numerator"] for g in metric["groups"]] == [
            g["enrolled"] for g in _site(report, code)["groups"]
        ]


def test_eligible_counts_that_would_pin_a_hidden_count_withhold_the_groups(
    session: Session,
) -> None:
    data = Data(session)
    a, b = data.site("A"), data.site("B")
    _patients(data, "A-team", 1, 1)
    _patients(data, "A-team", 30, 2)
    _patients(data, "B-team", 1, 1)
    _patients(data, "B-team", 30, 2)
    data.done()
    # At A one person is eligible in IMD 1: a reader who knows A has 31 and takes enrolled to be
    # at most eligible learns the hidden count is 1. At B five are eligible: 1 to 5 stay open.
    _load(session, a, "2026-10-01", [1, 100, 0, 0, 0, 0])
    _load(session, b, "2026-10-01", [5, 100, 0, 0, 0, 0])

    report = _report(session)

    site_a, site_b = _site(report, "A"), _site(report, "B")
    assert site_a["groups_note"] is not None and site_a["groups_note"].startswith("Withheld")
    assert {g["enrolled"] for g in site_a["groups"]} == {None}
    assert {g["uptake"] for g in site_a["groups"]} == {None}
    assert site_b["groups_note"] is None
    # (The 30 is hidden as 1's complement, as the equity split hides it.)
    assert _table(site_b)[:2] == [("1", "*", 5, "*"), ("2", "*", 100, "*")]


def _site_row(code: str, enrolled: Shown, eligible: int, groups: list[UptakeGroup]) -> UptakeSite:
    return {
        "site_id": code,
        "code": code,
        "name": f"Site {code}",
        "enrolled": {"numerator": enrolled, "denominator": None, "value": enrolled},
        "eligible": eligible,
        "uptake": disclosure.percentage(enrolled, eligible),
        "load": None,
        "groups": groups,
        "groups_note": None,
    }


def _group(group: str, enrolled: Shown, eligible: int) -> UptakeGroup:
    return {
        "group": group,
        "enrolled": enrolled,
        "eligible": eligible,
        "uptake": disclosure.percentage(enrolled, eligible),
    }


def test_the_reading_names_real_gaps_and_the_sites_below_the_funnel() -> None:
    sites = [
        _site_row(
            "X",
            10,
            200,
            [
                _group("85+", 0, 19),  # too few eligible to name: chance
                _group("75-84", 0, 100),
                _group("<65", "*", 40),  # hidden: never named
                _group("65-74", 10, 41),
            ],
        ),
        _site_row("Y", 60, 200, [_group("<65", 60, 200)]),
        _site_row("Z", 60, 200, [_group("<65", 50, 150), _group("85+", 10, 50)]),
        _site_row("W", "*", 200, []),
    ]
    funnel = uptake_funnel(sites)
    # Pooled over the published sites: 130 / 600. At 200 eligible the 99.8 % limits are
    # 21.67 +- 3.09 * sqrt(0.2167 * 0.7833 / 200) * 100 = 12.66 to 30.67.
    assert funnel["target"] == 21.67
    assert [(p["code"], p["position"]) for p in funnel["points"]] == [
        ("X", "below"),
        ("Y", "inside"),
        ("Z", "inside"),
    ]
    assert funnel["left_out"] == ["W"]
    assert who_is_missed(sites, funnel, "age_band") == [
        "Site X: by age band, uptake is lowest in aged 75-84 (0 % of 100 eligible), against 5 % "
        "of all its eligible people.",
        "Site Z: by age band, uptake is lowest in aged 85+ (20 % of 50 eligible), against 30 % of "
        "all its eligible people.",
        "Site X: uptake (5 %) is below the funnel's 99.8 % limit around the sites' pooled 21.7 %, "
        "more missed than chance would explain.",
    ]
