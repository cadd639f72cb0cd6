"""The demo's eligible populations: each site's heart-failure register as an ICS would load it,
made so that some groups are missed more than others (the most deprived quintile, Asian and
Black patients, people aged 85 and over, women), as the national audits find.

Each site's register is sized from its own caseload (about one in five eligible people on the
pathway) and split by the network's enrolled mix divided by each group's relative uptake, so a
group with uptake 0.5 has twice the eligible share of its enrolled share. Counts are rounded by
largest remainders so every dimension counts the same people. One site's register is larger
for its caseload, so its uptake falls below the funnel. Two loads per site: a year ago and the
first of last month, so the history of loads shows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.models import Site, User
from service.reports import population
from service.reports.groups import (
    EQUITY_DIMENSIONS,
    GROUP_ORDER,
    Grouping,
    site_and,
    split_site_key,
)
from service.reports.period import check_month, current_month, shift_month
from service.reports.runner import compute_all

ROUTE = "mhf demo"
SOURCE = "Demo ICS population health management platform: heart-failure register (made up)"
ENROLLED = "active_month_end"
# About one eligible person in five is on the pathway at a month's end.
OVERALL_UPTAKE = 0.2
# A site whose referrals reach fewer of its register: its uptake sits below the funnel.
REGISTER_SCALE = {"NOTTS": 1.8}
# A year ago the register was a little smaller.
YEAR_AGO_SIZE = 0.96
# Uptake of each group relative to the rest: below 1 is missed more.
RELATIVE_UPTAKE: dict[str, dict[str, float]] = {
    "imd_quintile": {"1": 0.55, "2": 0.85, "3": 1.0, "4": 1.1, "5": 1.15},
    "ethnicity": {"Asian": 0.6, "Black": 0.55, "Mixed": 0.8, "Other": 0.8},
    "age_band": {"<65": 1.1, "85+": 0.5},
    "sex": {"female": 0.8},
}


def split(total: int, weights: Mapping[str, float], groups: list[str]) -> dict[str, int]:
    """``total`` shared by ``weights`` in whole numbers that add up to it (largest remainder,
    ties to the earlier group)."""
    weight_sum = sum(weights.get(g, 0.0) for g in groups)
    if total == 0 or weight_sum == 0:
        return dict.fromkeys(groups, 0)
    exact = {g: total * weights.get(g, 0.0) / weight_sum for g in groups}
    counts = {g: math.floor(x) for g, x in exact.items()}
    short = total - sum(counts.values())
    by_remainder = sorted(groups, key=lambda g: (-(exact[g] - counts[g]), groups.index(g)))
    for g in by_remainder[:short]:
        counts[g] += 1
    return counts


def build(session: Session, now: datetime) -> int:
    """Load two registers per site through the use case, as the programme lead; returns the
    loads made."""
    lead_id = session.scalar(select(User.id).where(User.role == "programme_lead"))
    lead = Principal(role="programme_lead", user_id=lead_id)
    month = shift_month(current_month(now), -1)
    period = check_month(month, now)
    mix: dict[str, dict[str, float]] = {}
    per_site: dict[object, float] = {}
    for dimension in EQUITY_DIMENSIONS:
        grouped = compute_all(session, period, Grouping(site_and(dimension)), [ENROLLED])
        shares: dict[str, float] = {}
        for key, figure in grouped[ENROLLED].groups.items():
            site_id, group = split_site_key(str(key))
            shares[group] = shares.get(group, 0.0) + (figure.numerator or 0.0)
            if dimension == "sex":
                per_site[site_id] = per_site.get(site_id, 0.0) + (figure.numerator or 0.0)
        relative = RELATIVE_UPTAKE[dimension]
        mix[dimension] = {g: n / relative.get(g, 1.0) for g, n in shares.items()}
    latest = period.first_day
    year_ago = date(latest.year - 1, latest.month, 1)
    loads = 0
    for site in session.scalars(select(Site).order_by(Site.code)):
        enrolled = per_site.get(site.id, 0.0)
        size = max(50, round(REGISTER_SCALE.get(site.code, 1.0) * enrolled / OVERALL_UPTAKE))
        for as_of, people in ((year_ago, round(size * YEAR_AGO_SIZE)), (latest, size)):
            rows = [
                population.Row(f"{dimension}:{group}", dimension, group, count)
                for dimension in EQUITY_DIMENSIONS
                for group, count in split(people, mix[dimension], GROUP_ORDER[dimension]).items()
            ]
            given = population.LoadIn(as_of.isoformat(), SOURCE, rows)
            population.add_load(session, lead, ROUTE, now, site.id, given)
            loads += 1
    return loads
