"""Was a difference made? Emergency admissions, bed days and A&E attendances per patient-year in
matched windows before and after enrolment, per site and for the network or a set of sites.

Who is counted: each enrolment (a patient row: a re-enrolment is a row of its own, with its own
windows and only the events recorded on it) whose after window is complete by the report's last
day, ``enrolled_on + window <= as_of``. The before window needs no such check: teams record the
admissions and attendances before enrolment as history.

The windows: before is the ``window_months`` calendar months up to the day before enrolment,
after is the same number of months from the enrolment day, so an event on the enrolment day
counts after (monitoring has started that day, as the monthly outcome metrics count it).

Person-time: the whole window, by intention to treat (a discharge from monitoring does not end
it), except that a patient who dies in the after window contributes time until the day of death,
that day included.

Bed days: the nights of any admission (elective ones too, as the ``bed_days`` metric counts
them) that fall in the window; a stay crossing the window's edge counts only its nights inside,
and a stay with no discharge date counts to the window's end (or the death, or the report's last
day, whichever comes first). They get the ratio method as the counts do: they are counts of
nights, though clustered in stays, so their intervals are too narrow (stated in ``METHOD``).

One SQL statement answers each site's patients, person-days and sums of each outcome before and
after; the network, or a set of sites, is the sum of those rows (at most a few dozen).
"""

from __future__ import annotations

import calendar
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, TypedDict

from sqlalchemy import Integer, and_, bindparam, case, delete, func, insert, literal, or_, select
from sqlalchemy.orm import Session

from service.db.capabilities import tune_for_reports
from service.models import BeforeAfterSnapshot, Patient, PatientEvent, Site, Team
from service.problems import field_error
from service.reports.disclosure import SUPPRESSED, Shown, disclose_count
from service.reports.period import Period, as_of_date
from service.reports.rates import rate, rate_ratio
from service.reports.runner import REPORT_WORK_MEM
from service.reports.shapes import SiteRef
from service.reports.sqlfuncs import add_months, days_between, greatest, least

Outcome = Literal["admissions_all_cause", "admissions_hf", "bed_days", "ae_attendances"]
OUTCOMES: tuple[Outcome, ...] = (
    "admissions_all_cause",
    "admissions_hf",
    "bed_days",
    "ae_attendances",
)
WINDOWS = ("before", "after")
DEFAULT_WINDOW_MONTHS = 6
MAX_WINDOW_MONTHS = 12
DAYS_PER_YEAR = 365.25
RATE_DECIMALS = 2
YEARS_DECIMALS = 1

CAUTION = (
    "These are before-and-after figures without a control group, and they overstate any effect. "
    "Regression to the mean: patients are often enrolled after an admission, so the months "
    "before enrolment were chosen for being bad, and fewer admissions are expected afterwards "
    "even if the service did nothing. Without a comparable group not on the service, a change "
    "cannot be attributed to it. Events after a discharge from monitoring may be under-recorded, "
    "as the team no longer follows the patient, which flatters the after window."
)
METHOD = (
    "Each enrolment whose after window is complete by the report's last day (enrolment date + "
    "window <= as_of); a re-enrolment is a patient row of its own, with only the events "
    "recorded on it. Before: the window's calendar months up to the day before enrolment; "
    "after: the same months from the enrolment day (an event on the enrolment day counts "
    "after). Intention to treat: a discharge from monitoring does not end the window; a "
    "patient who dies in the after window contributes time until the day of death, included. "
    "Emergency admissions (all-cause and heart-failure) counted on their admission date; A&E "
    "attendances on their date; bed days are the nights of any admission inside the window, a "
    "stay crossing its edge counting only its nights inside and an open stay counting to the "
    "window end. Rates per patient-year (365.25 days) with Garwood's exact Poisson 95% "
    "intervals; the rate ratio after/before with the conditional binomial (Clopper-Pearson) "
    "interval, as R's poisson.test; bed days use the same ratio method (not a mean "
    "difference), though nights cluster in stays so their intervals are too narrow. Counts of "
    "patients and events are disclosure-controlled (1-7 suppressed, others rounded to 5); as a "
    "rate is worked out from the exact counts, a shown count can be worked back exactly, so "
    "complementary suppression keeps at least two hidden counts with room for two values each, "
    "decided over the whole network whatever sites are asked for, and a total of some sites is "
    "shown only where it takes in all or none of the hidden counts. A rate, interval or ratio "
    "is published only where every count behind it (patients and events) is shown."
)


# --- the published shape ----------------------------------------------------------------------


ShownFloat = float | str | None
ShownInterval = list[float | None] | str | None


class WindowJson(TypedDict):
    events: Shown
    person_years: float | str
    rate_per_patient_year: ShownFloat
    ci95: ShownInterval


class OutcomeJson(TypedDict):
    outcome: str
    before: WindowJson
    after: WindowJson
    # None where it is not defined (no events in either window); a null upper limit, or a null
    # ratio with a lower limit, is unbounded (no events before).
    rate_ratio: ShownFloat
    rate_ratio_ci95: ShownInterval


class TotalJson(TypedDict):
    patients: Shown
    outcomes: list[OutcomeJson]


class SiteJson(TotalJson):
    site: SiteRef


class BeforeAfter(TypedDict):
    window_months: int
    as_of: str
    # "network": every site; "sites": the sites asked for, and ``network`` is their total.
    scope: str
    sites: list[SiteJson]
    network: TotalJson
    caution: str
    method: str


# --- the statement ----------------------------------------------------------------------------


def _statement(site_ids: Sequence[uuid.UUID] | None) -> Any:
    """Per site: patients, person-days before and after, and each outcome's sum in each window.

    Bound parameters: ``months`` (the window), ``cutoff`` (the last enrolment date with a
    complete after window) and ``as_of`` (the report's last day, where open stays stop).
    """
    months = bindparam("months", type_=Integer)
    enrolled = Patient.enrolled_on
    before_start = add_months(enrolled, -months)
    after_end = add_months(enrolled, months)
    full_after = days_between(after_end, enrolled)
    died_after = and_(Patient.died_on >= enrolled, Patient.died_on < after_end)
    patients = select(
        Patient.id.label("patient_id"),
        Team.site_id,
        enrolled.label("enrolled_on"),
        before_start.label("before_start"),
        after_end.label("after_end"),
        days_between(enrolled, before_start).label("before_days"),
        case((died_after, days_between(Patient.died_on, enrolled) + 1), else_=full_after).label(
            "after_days"
        ),
    ).join(Team, Team.id == Patient.team_id)
    patients = patients.where(enrolled <= bindparam("cutoff"))
    if site_ids is not None:
        patients = patients.where(Team.site_id.in_(list(site_ids)))
    w = patients.cte("before_after_patients")

    ev = PatientEvent
    is_admission = ev.kind == "admission"
    emergency = and_(is_admission, ev.emergency.is_(True))
    hf = and_(emergency, ev.hf_related.is_(True))
    in_before = and_(ev.occurred_on >= w.c.before_start, ev.occurred_on < w.c.enrolled_on)
    in_after = and_(ev.occurred_on >= w.c.enrolled_on, ev.occurred_on < w.c.after_end)
    # Nights as day numbers from enrolment: before is [-before_days, 0), after [0, after_days).
    start = days_between(ev.occurred_on, w.c.enrolled_on)
    open_end = least(w.c.after_days, days_between(bindparam("as_of"), w.c.enrolled_on) + 1)
    end = func.coalesce(days_between(ev.discharged_on, w.c.enrolled_on), open_end)
    zero = literal(0, Integer)
    nights_before = greatest(least(end, zero) - greatest(start, -w.c.before_days), zero)
    nights_after = greatest(least(end, w.c.after_days) - greatest(start, zero), zero)

    def total(when: Any, value: Any = 1) -> Any:
        return func.sum(case((when, value), else_=0))

    sums = {
        "admissions_all_cause_before": total(and_(emergency, in_before)),
        "admissions_all_cause_after": total(and_(emergency, in_after)),
        "admissions_hf_before": total(and_(hf, in_before)),
        "admissions_hf_after": total(and_(hf, in_after)),
        "bed_days_before": total(is_admission, nights_before),
        "bed_days_after": total(is_admission, nights_after),
        "ae_attendances_before": total(and_(ev.kind == "ae_attendance", in_before)),
        "ae_attendances_after": total(and_(ev.kind == "ae_attendance", in_after)),
    }
    # Events are summed straight into their patient's site, and patients into theirs: no
    # grouping by patient, whose tens of thousands of groups cost more than the sums.
    events = (
        select(w.c.site_id, *(value.label(name) for name, value in sums.items()))
        .select_from(w)
        .join(ev, ev.patient_id == w.c.patient_id)
        .where(
            ev.occurred_on < w.c.after_end,
            or_(
                ev.occurred_on >= w.c.before_start,
                and_(
                    is_admission,
                    or_(ev.discharged_on.is_(None), ev.discharged_on > w.c.before_start),
                ),
            ),
        )
        .group_by(w.c.site_id)
        .subquery("before_after_events")
    )
    people = (
        select(
            w.c.site_id,
            func.count().label("patients"),
            func.sum(w.c.before_days).label("before_days"),
            func.sum(w.c.after_days).label("after_days"),
        )
        .group_by(w.c.site_id)
        .subquery("before_after_people")
    )
    return select(
        people.c.site_id,
        people.c.patients,
        people.c.before_days,
        people.c.after_days,
        *(func.coalesce(events.c[name], 0).label(name) for name in sums),
    ).outerjoin(events, events.c.site_id == people.c.site_id)


def complete_by(as_of: date, window_months: int) -> date:
    """The last enrolment date whose after window is complete by ``as_of``:
    the latest ``d`` with ``add_months(d, window_months) <= as_of``."""
    day = shift_months(as_of, -window_months)
    while shift_months(day + timedelta(days=1), window_months) <= as_of:
        day += timedelta(days=1)
    while shift_months(day, window_months) > as_of:
        day -= timedelta(days=1)
    return day


def shift_months(day: date, months: int) -> date:
    """``sqlfuncs.add_months`` in Python: the day kept, else the month's last day."""
    year, index = divmod(day.year * 12 + day.month - 1 + months, 12)
    month = index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


# --- from sums to what is published ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Sums:
    """One site's (or a total's) exact figures."""

    patients: int
    before_days: int
    after_days: int
    outcomes: dict[str, int]

    @staticmethod
    def zero() -> Sums:
        return Sums(0, 0, 0, {f"{o}_{w}": 0 for o in OUTCOMES for w in WINDOWS})

    def __add__(self, other: Sums) -> Sums:
        return Sums(
            self.patients + other.patients,
            self.before_days + other.before_days,
            self.after_days + other.after_days,
            {k: v + other.outcomes[k] for k, v in self.outcomes.items()},
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, RATE_DECIMALS)


def _window(events: int, shown: Shown, days: int, patients_shown: Shown) -> WindowJson:
    years = days / DAYS_PER_YEAR
    if patients_shown == SUPPRESSED:
        return {
            "events": shown,
            "person_years": SUPPRESSED,
            "rate_per_patient_year": SUPPRESSED,
            "ci95": SUPPRESSED,
        }
    published = shown != SUPPRESSED
    r = rate(events, years)
    return {
        "events": shown,
        "person_years": round(years, YEARS_DECIMALS),
        "rate_per_patient_year": _rounded(r.rate) if published else SUPPRESSED,
        "ci95": (
            SUPPRESSED
            if not published
            else None
            if r.rate is None
            else [_rounded(r.lower), _rounded(r.upper)]
        ),
    }


def _outcomes(sums: Sums, shown: dict[str, Shown], patients_shown: Shown) -> list[OutcomeJson]:
    """An outcome's rates are worked out from the exact counts and person-time, but published
    only where the patients and every event count they rest on are shown."""
    out: list[OutcomeJson] = []
    for outcome in OUTCOMES:
        before, after = sums.outcomes[f"{outcome}_before"], sums.outcomes[f"{outcome}_after"]
        shown_before, shown_after = shown[f"{outcome}_before"], shown[f"{outcome}_after"]
        ratio_json: ShownFloat = SUPPRESSED
        ci_json: ShownInterval = SUPPRESSED
        if SUPPRESSED not in (patients_shown, shown_before, shown_after):
            ratio = rate_ratio(
                after, sums.after_days / DAYS_PER_YEAR, before, sums.before_days / DAYS_PER_YEAR
            )
            ratio_json = _rounded(ratio.ratio)
            ci_json = (
                None if ratio.lower is None else [_rounded(ratio.lower), _rounded(ratio.upper)]
            )
        out.append(
            {
                "outcome": outcome,
                "before": _window(before, shown_before, sums.before_days, patients_shown),
                "after": _window(after, shown_after, sums.after_days, patients_shown),
                "rate_ratio": ratio_json,
                "rate_ratio_ci95": ci_json,
            }
        )
    return out


def suppress_exact(counts: Sequence[int]) -> tuple[list[Shown], bool]:
    """One column of site counts as published, and whether their total must be hidden.

    The published rates are worked out from the exact counts, so a reader can multiply a shown
    rate by its person-years and get the exact count back: the reports' reader model (a shown
    ``v`` is ``v - 2``..``v + 2``) does not hold, and neither does their audit. So every shown
    count is taken here as known exactly. Then the hidden counts (1-7, and those hidden to
    protect them) are known only through their sum ``S`` (the total less the shown ones); each
    of ``k`` hidden counts lies in ``1..S - k + 1``, at least two values when ``k >= 2`` and
    ``S >= k + 1``. Until that holds the smallest shown non-zero count is hidden as well; with
    none left, the total is hidden instead.
    """
    shown = [disclose_count(c) for c in counts]
    while True:
        hidden = [i for i, cell in enumerate(shown) if cell == SUPPRESSED]
        if not hidden:
            return shown, False
        if len(hidden) >= 2 and sum(counts[i] for i in hidden) >= len(hidden) + 1:
            return shown, False
        candidates = [i for i, cell in enumerate(shown) if cell not in (SUPPRESSED, 0)]
        if not candidates:
            return shown, True
        shown[min(candidates, key=lambda i: (counts[i], i))] = SUPPRESSED


COLUMNS = ("patients", *(f"{o}_{w}" for o in OUTCOMES for w in WINDOWS))


def publish(
    sites: Sequence[tuple[SiteRef, Sums]], chosen: Sequence[bool] | None = None
) -> tuple[list[SiteJson], TotalJson]:
    """Disclose every site of the network, then publish the ``chosen`` ones (all by default)
    and their total.

    Which counts are hidden is decided over the whole network (``suppress_exact``), the same
    whatever sites are asked for, so no two answers hide differently. A total of some sites
    gives nothing away when it takes in none of a column's hidden counts (it is a sum of shown
    ones) or all of them (their sum is what the network's total less its shown counts gives
    anyway); any other total is hidden, as the network's is when ``suppress_exact`` says so.
    """
    picked = list(chosen) if chosen is not None else [True] * len(sites)

    def value(sums: Sums, column: str) -> int:
        return sums.patients if column == "patients" else sums.outcomes[column]

    total = Sums.zero()
    for (_, sums), keep in zip(sites, picked, strict=True):
        total = total + sums if keep else total
    shown_sites: list[dict[str, Shown]] = [{} for _ in sites]
    shown_total: dict[str, Shown] = {}
    for column in COLUMNS:
        cells, hide_network = suppress_exact([value(s, column) for _, s in sites])
        hidden = {i for i, cell in enumerate(cells) if cell == SUPPRESSED}
        taken = {i for i, keep in enumerate(picked) if keep}
        safe = not hide_network and (not hidden & taken or hidden <= taken)
        shown_total[column] = disclose_count(value(total, column)) if safe else SUPPRESSED
        for i, cell in enumerate(cells):
            shown_sites[i][column] = cell
    site_rows: list[SiteJson] = [
        {
            "site": ref,
            "patients": shown["patients"],
            "outcomes": _outcomes(sums, shown, shown["patients"]),
        }
        for (ref, sums), shown, keep in zip(sites, shown_sites, picked, strict=True)
        if keep
    ]
    total_row: TotalJson = {
        "patients": shown_total["patients"],
        "outcomes": _outcomes(total, shown_total, shown_total["patients"]),
    }
    return site_rows, total_row


# --- the use case -----------------------------------------------------------------------------


def site_sums(
    session: Session, as_of: date, site_ids: Sequence[uuid.UUID] | None, window_months: int
) -> dict[uuid.UUID, Sums]:
    """The exact figures of each site with a patient whose after window ends by ``as_of``
    (undisclosed: for ``publish``, and for the tests' hand-computed tables)."""
    params = {
        "months": window_months,
        "cutoff": complete_by(as_of, window_months),
        "as_of": as_of,
    }
    # As the reports' own large aggregate: no JIT, and the events' hash join kept in memory.
    tune_for_reports(session, REPORT_WORK_MEM)
    sums: dict[uuid.UUID, Sums] = {}
    for row in session.execute(_statement(site_ids), params).mappings():
        sums[row["site_id"]] = Sums(
            int(row["patients"]),
            int(row["before_days"] or 0),
            int(row["after_days"] or 0),
            {f"{o}_{w}": int(row[f"{o}_{w}"] or 0) for o in OUTCOMES for w in WINDOWS},
        )
    return sums


def freeze(session: Session, month: str, now: datetime) -> int:
    """Store a closed month's sums of every site for the default window (the month-end job,
    with ``service.reports.snapshot``); the rows written. Every site gets a row, zeros
    included, so a frozen month is told from one frozen before this table existed."""
    last_day = Period.for_month(month, as_of=as_of_date(now)).last_day
    sums = site_sums(session, last_day, None, DEFAULT_WINDOW_MONTHS)
    site_ids = session.scalars(select(Site.id)).all()
    session.execute(
        delete(BeforeAfterSnapshot).where(
            BeforeAfterSnapshot.month == month,
            BeforeAfterSnapshot.window_months == DEFAULT_WINDOW_MONTHS,
        )
    )
    rows = [
        {
            "month": month,
            "window_months": DEFAULT_WINDOW_MONTHS,
            "site_id": site_id,
            "patients": figures.patients,
            "before_days": figures.before_days,
            "after_days": figures.after_days,
            "outcomes": figures.outcomes,
            "computed_at": now,
        }
        for site_id in site_ids
        for figures in [sums.get(site_id, Sums.zero())]
    ]
    if rows:
        session.execute(insert(BeforeAfterSnapshot), rows)
    return len(rows)


def _frozen_sums(session: Session, month: str, window_months: int) -> dict[uuid.UUID, Sums] | None:
    frozen = BeforeAfterSnapshot.__table__
    rows = session.execute(
        select(
            frozen.c.site_id,
            frozen.c.patients,
            frozen.c.before_days,
            frozen.c.after_days,
            frozen.c.outcomes,
        ).where(frozen.c.month == month, frozen.c.window_months == window_months)
    ).all()
    if not rows:
        return None
    return {
        row.site_id: Sums(row.patients, row.before_days, row.after_days, dict(row.outcomes))
        for row in rows
    }


def before_after(
    session: Session,
    month: str,
    site_ids: Sequence[uuid.UUID] | None,
    window_months: int = DEFAULT_WINDOW_MONTHS,
    as_of: date | None = None,
) -> BeforeAfter:
    """The comparison for ``month``, for every site (``site_ids`` None: the network) or for the
    sites named and their total (the ``network`` key, with ``scope`` "sites").

    The after windows must be complete by the month's last day, or by ``as_of`` where that is
    earlier: pass today (London) for a month still running, as the route does, or patients whose
    after window has not ended yet would count. 422 naming ``window_months`` outside 1-12, or
    ``site_id`` for a site that does not exist."""
    if not 1 <= window_months <= MAX_WINDOW_MONTHS:
        raise field_error("window_months", f"must be 1 to {MAX_WINDOW_MONTHS}")
    last_day = Period.for_month(month, as_of=as_of).last_day
    # Every site is read and disclosed, whatever is asked for: see ``publish``.
    site_rows = session.execute(select(Site.id, Site.code, Site.name).order_by(Site.code)).all()
    wanted = set(site_ids) if site_ids is not None else None
    if wanted is not None and not wanted <= {row.id for row in site_rows}:
        raise field_error("site_id", "no such site")
    period = Period.for_month(month, as_of=as_of)
    frozen = _frozen_sums(session, month, window_months) if period.complete else None
    sums = frozen if frozen is not None else site_sums(session, last_day, None, window_months)
    sites = [
        (SiteRef(id=str(row.id), code=row.code, name=row.name), sums.get(row.id, Sums.zero()))
        for row in site_rows
    ]
    chosen = None if wanted is None else [row.id in wanted for row in site_rows]
    shown_sites, shown_total = publish(sites, chosen)
    return {
        "window_months": window_months,
        "as_of": last_day.isoformat(),
        "scope": "network" if site_ids is None else "sites",
        "sites": shown_sites,
        "network": shown_total,
        "caution": CAUTION,
        "method": METHOD,
    }
