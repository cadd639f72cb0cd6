"""What a report groups by: site, team or an equity dimension, each a column of the patient or
of the patient's team, so every patient falls in exactly one group."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Date, String, Uuid, bindparam, case, cast, literal

from service.models import Patient, Team
from service.reports.period import Period

EQUITY_DIMENSIONS = ("imd_quintile", "ethnicity", "age_band", "sex")
ETHNIC_GROUPS: dict[str, tuple[str, ...]] = {
    "White": ("A", "B", "C"),
    "Mixed": ("D", "E", "F", "G"),
    "Asian": ("H", "J", "K", "L"),
    "Black": ("M", "N", "P"),
    "Other": ("R", "S"),
    "Not stated": ("Z",),
}
NOT_KNOWN = "Not known"
AGE_BANDS = ((65, "<65"), (75, "65-74"), (85, "75-84"))
OLDEST_BAND = "85+"
GROUP_ORDER: dict[str, list[str]] = {
    "imd_quintile": ["1", "2", "3", "4", "5", NOT_KNOWN],
    "ethnicity": [*ETHNIC_GROUPS, NOT_KNOWN],
    "age_band": [label for _, label in AGE_BANDS] + [OLDEST_BAND],
    "sex": ["female", "male", "other", "unknown"],
}


@dataclass(frozen=True, slots=True)
class Grouping:
    by: str
    site_id: uuid.UUID | None = None
    team_id: uuid.UUID | None = None
    # For ``by=IN_SITES``: the sites whose patients make the group "in" (the others are "out").
    site_ids: tuple[uuid.UUID, ...] = ()

    @property
    def needs_team(self) -> bool:
        """Whether the key or the scope reads the patient's team row."""
        return (
            self.by in ("site", IN_SITES)
            or self.by.startswith(SITE_AND)
            or self.site_id is not None
        )


# Patients of a set of sites against the rest: a median over several sites (a value framework's
# scope) is the median of their patients, not something made of the sites' own medians.
IN_SITES = "in_sites"


# A key of a site and an equity group in one statement (``site_and("sex")``): the groups of every
# site at once, for a value framework that judges inequalities over several sites.
SITE_AND = "site+"
KEY_SEPARATOR = "|"


def site_and(dimension: str) -> str:
    if dimension not in EQUITY_DIMENSIONS:
        raise ValueError(f"unknown equity dimension {dimension}")
    return SITE_AND + dimension


def split_site_key(key: str) -> tuple[uuid.UUID, str]:
    """The site and group of a ``site_and`` key. Each database writes a uuid as text its own way
    (hyphens or not); ``uuid.UUID`` reads both."""
    site, _, group = key.partition(KEY_SEPARATOR)
    return uuid.UUID(site), group


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February: the birthday falls on 1 March in other years
        return day.replace(year=day.year - years, day=28)


def group_key(by: str, period: Period) -> Any:
    """The group of a patient, as an expression over ``patients`` (and ``teams`` for sites)."""
    if by == "site":
        return Team.site_id
    if by == "team":
        return Patient.team_id
    if by == "imd_quintile":
        whens = [(Patient.imd_quintile == q, str(q)) for q in range(1, 6)]
        return case(*whens, else_=NOT_KNOWN)
    if by == "ethnicity":
        groups = [(Patient.ethnicity.in_(codes), name) for name, codes in ETHNIC_GROUPS.items()]
        return case(*groups, else_=NOT_KNOWN)
    if by == "age_band":
        # Age on the last day of the period, by comparing dates of birth with fixed cut-offs.
        bands = [
            (
                Patient.date_of_birth
                > bindparam(f"born_after_{age}", _years_before(period.last_day, age), type_=Date),
                label,
            )
            for age, label in AGE_BANDS
        ]
        return case(*bands, else_=OLDEST_BAND)
    if by == "sex":
        return Patient.sex
    if by == IN_SITES:
        chosen = Team.site_id.in_(bindparam("in_site_ids", expanding=True, type_=Uuid))
        return case((chosen, "in"), else_="out")
    if by.startswith(SITE_AND):
        group = group_key(by.removeprefix(SITE_AND), period)
        return cast(Team.site_id, String) + literal(KEY_SEPARATOR, String) + group
    raise ValueError(f"unknown grouping {by}")


def group_params(period: Period, grouping: Grouping) -> dict[str, Any]:
    """The grouping's values by name, for a statement built once and run for many periods."""
    values: dict[str, Any] = {
        f"born_after_{age}": _years_before(period.last_day, age) for age, _ in AGE_BANDS
    }
    if grouping.site_id is not None:
        values["scope_site_id"] = grouping.site_id
    if grouping.by == IN_SITES:
        values["in_site_ids"] = list(grouping.site_ids)
    if grouping.team_id is not None:
        values["scope_team_id"] = grouping.team_id
    return values


def scoped(query: Any, grouping: Grouping) -> Any:
    """``query``, with ``patients`` (and for a site scope ``teams``) in its FROM, cut to scope."""
    if grouping.site_id is not None:
        query = query.where(
            Team.site_id == bindparam("scope_site_id", grouping.site_id, type_=Uuid)
        )
    if grouping.team_id is not None:
        query = query.where(
            Patient.team_id == bindparam("scope_team_id", grouping.team_id, type_=Uuid)
        )
    return query


def with_group(query: Any, grouping: Grouping, period: Period) -> Any:
    """``query``, whose FROM has ``patients``, with the patient's group as column ``grp``, cut to
    the grouping's scope."""
    if grouping.needs_team:
        query = query.join(Team, Team.id == Patient.team_id)
    return scoped(query.add_columns(group_key(grouping.by, period).label("grp")), grouping)
