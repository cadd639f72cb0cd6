"""STAR (socio-technical allocation of resources): what stabilising, reducing or increasing an
intervention would change in cost and in QALYs, judged against NICE's threshold.

Pure: values in, values out. The rules, which the answer also states in words (``ASSUMPTIONS``):

- delta cost = delta activity x unit cost;
- delta people = delta activity when the activity is counted in people ("patients",
  "people"), else delta activity x people_per_year / yearly_activity (the people reached per
  unit of activity stays as it is now);
- delta QALYs = delta people x QALYs per person;
- cost per QALY = delta cost / delta QALYs, for a move that trades money for health either way.

For an increase the cost per QALY gained is judged as NICE does: at most GBP 20,000
cost-effective, up to GBP 30,000 a matter of judgement, above that not cost-effective. For a
reduction it is the saving per QALY forgone, judged the mirror way: a saving of at least
GBP 30,000 for each QALY given up is cost-effective, GBP 20,000-30,000 a judgement, less not
cost-effective (the health given up is worth more than the money). A move that saves money and
gains QALYs is dominant; one that costs money (or saves none) and loses QALYs is dominated.
The verdicts are worked out from unrounded figures; the answer rounds money to the penny,
QALYs to three decimals and the cost per QALY to the pound.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Action = Literal["stabilise", "reduce", "increase"]
ACTIONS: tuple[Action, ...] = ("stabilise", "reduce", "increase")
Verdict = Literal[
    "cost-effective",
    "judgement",
    "not cost-effective",
    "dominant",
    "dominated",
    "no change",
    "no QALY evidence",
]
NICE_LOWER_GBP = 20_000.0
NICE_UPPER_GBP = 30_000.0
PEOPLE_UNITS = ("patients", "people", "persons")

ASSUMPTIONS = (
    "QALYs are linear in people: each extra (or fewer) person gains (or forgoes) the QALYs per "
    "person the evidence gives, whatever the scale.",
    "Unit costs stay as they are at every volume: no economies of scale, no step costs.",
    "People reached per unit of activity stay as now (delta people = delta activity x people per "
    "year / yearly activity), unless the activity is counted in people.",
    "No displacement: a change to one intervention does not change the activity, cost or "
    "outcomes of another; the totals are simple sums.",
    "QALYs and costs are per year, undiscounted, and the QALY figures are only as good as their "
    "sources (each move names its own).",
    "Measured activity is the last 12 complete months of the service's reports, rounded as "
    "every published count is; entered figures are the stewards' own.",
    f"Judged against NICE's threshold of GBP {NICE_LOWER_GBP:,.0f}-{NICE_UPPER_GBP:,.0f} per QALY.",
)


@dataclass(frozen=True, slots=True)
class InterventionFigures:
    id: str
    name: str
    yearly_activity: float
    activity_unit: str
    unit_cost_gbp: float
    people_per_year: float | None = None
    qaly_per_person: float | None = None
    qaly_source: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    intervention_id: str
    action: Action
    by: float = 0.0


@dataclass(frozen=True, slots=True)
class Move:
    intervention_id: str
    name: str
    action: Action
    activity_unit: str
    activity_before: float
    activity_after: float
    delta_activity: float
    delta_cost_gbp: float
    delta_people: float | None
    delta_qalys: float | None
    cost_per_qaly_gbp: float | None
    # What the ratio is: "cost per QALY gained" (an increase) or "saving per QALY forgone".
    ratio_meaning: str | None
    verdict: Verdict
    qaly_source: str | None


@dataclass(frozen=True, slots=True)
class Totals:
    delta_cost_gbp: float
    # Over the moves with QALY evidence only; the cost of those moves beside it.
    delta_qalys: float
    delta_cost_with_qaly_evidence_gbp: float
    cost_per_qaly_gbp: float | None
    ratio_meaning: str | None
    verdict: Verdict


@dataclass(frozen=True, slots=True)
class Scenario:
    moves: tuple[Move, ...]
    totals: Totals
    assumptions: tuple[str, ...] = ASSUMPTIONS


class InvalidChange(ValueError):
    """A change that cannot be applied, naming the field at fault (``changes.2.by``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def delta_people(figures: InterventionFigures, delta_activity: float) -> float | None:
    """The people a change of activity reaches more (or fewer), by the rule in the docstring."""
    if figures.activity_unit.lower() in PEOPLE_UNITS:
        return delta_activity
    if figures.people_per_year is None or figures.yearly_activity <= 0:
        return None
    return delta_activity * figures.people_per_year / figures.yearly_activity


def judge(delta_cost: float, delta_qalys: float) -> tuple[float | None, Verdict]:
    """The cost per QALY of a move and its verdict against NICE's threshold."""
    if delta_cost == 0 and delta_qalys == 0:
        return None, "no change"
    if delta_qalys >= 0 and delta_cost <= 0:
        # Weakly too: the same health for less money, or more health for no more.
        return None, "dominant"
    if delta_qalys <= 0 and delta_cost >= 0:
        return None, "dominated"
    ratio = delta_cost / delta_qalys
    if delta_qalys > 0:
        # Paying more for more health: the cost per QALY gained.
        if ratio <= NICE_LOWER_GBP:
            return ratio, "cost-effective"
        return ratio, "judgement" if ratio <= NICE_UPPER_GBP else "not cost-effective"
    # Saving money by giving health up: the saving per QALY forgone.
    if ratio >= NICE_UPPER_GBP:
        return ratio, "cost-effective"
    return ratio, "judgement" if ratio >= NICE_LOWER_GBP else "not cost-effective"


def meaning(ratio: float | None, delta_qalys: float | None) -> str | None:
    if ratio is None or delta_qalys is None:
        return None
    return "cost per QALY gained" if delta_qalys > 0 else "saving per QALY forgone"


def move(figures: InterventionFigures, change: Change, field: str) -> Move:
    if change.by < 0:
        raise InvalidChange(f"{field}.by", "must be 0 or more")
    if change.action == "stabilise":
        if change.by:
            raise InvalidChange(f"{field}.by", "stabilise keeps activity as it is: give no 'by'")
        delta = 0.0
    elif change.action == "reduce":
        if change.by > figures.yearly_activity:
            raise InvalidChange(
                f"{field}.by",
                f"cannot reduce below 0: the yearly activity is {figures.yearly_activity:g}",
            )
        delta = -change.by
    else:
        delta = change.by
    cost = delta * figures.unit_cost_gbp
    people = delta_people(figures, delta)
    qalys: float | None = None
    ratio: float | None = None
    verdict: Verdict
    if delta == 0:
        verdict = "no change"
        qalys = 0.0 if figures.qaly_per_person is not None and people is not None else None
    elif figures.qaly_per_person is None or people is None:
        verdict = "no QALY evidence"
    else:
        qalys = people * figures.qaly_per_person
        ratio, verdict = judge(cost, qalys)
    return Move(
        intervention_id=figures.id,
        name=figures.name,
        action=change.action,
        activity_unit=figures.activity_unit,
        activity_before=figures.yearly_activity,
        activity_after=figures.yearly_activity + delta,
        delta_activity=delta,
        delta_cost_gbp=round(cost, 2),
        delta_people=None if people is None else round(people, 3),
        delta_qalys=None if qalys is None else round(qalys, 3),
        cost_per_qaly_gbp=None if ratio is None else round(ratio),
        ratio_meaning=meaning(ratio, qalys),
        verdict=verdict,
        qaly_source=figures.qaly_source,
    )


def scenario(interventions: Sequence[InterventionFigures], changes: Sequence[Change]) -> Scenario:
    """Every change's move, and their totals; ``InvalidChange`` names the change at fault."""
    by_id = {i.id: i for i in interventions}
    seen: set[str] = set()
    moves: list[Move] = []
    cost = evidenced_cost = qalys = 0.0
    for index, change in enumerate(changes):
        field = f"changes.{index}"
        figures = by_id.get(change.intervention_id)
        if figures is None:
            raise InvalidChange(f"{field}.intervention_id", "no such intervention in the framework")
        if change.intervention_id in seen:
            raise InvalidChange(f"{field}.intervention_id", "named in an earlier change")
        seen.add(change.intervention_id)
        one = move(figures, change, field)
        moves.append(one)
        delta_cost = one.delta_activity * figures.unit_cost_gbp
        cost += delta_cost
        people = delta_people(figures, one.delta_activity)
        if figures.qaly_per_person is not None and people is not None:
            qalys += people * figures.qaly_per_person
            evidenced_cost += delta_cost
    ratio, verdict = judge(evidenced_cost, qalys)
    if not any(m.delta_qalys is not None for m in moves) and cost != 0:
        ratio, verdict = None, "no QALY evidence"
    totals = Totals(
        delta_cost_gbp=round(cost, 2),
        delta_qalys=round(qalys, 3),
        delta_cost_with_qaly_evidence_gbp=round(evidenced_cost, 2),
        cost_per_qaly_gbp=None if ratio is None else round(ratio),
        ratio_meaning=meaning(ratio, qalys),
        verdict=verdict,
    )
    return Scenario(tuple(moves), totals)
