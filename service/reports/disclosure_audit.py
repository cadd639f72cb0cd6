"""The disclosure audit: what a reader can work out about each hidden figure, by linear programming.

A reader of a published table knows, for every figure, an interval (the reader's model in
``disclosure``) and the linear relations between figures (parts add up to their total, a
numerator is at most its denominator). The smallest and largest value a hidden figure can take
under all of them is a pair of linear programmes, as tau-ARGUS and sdcTable's audit solve them.

Many small programmes cost more in solver start-up than in solving, so every question of a
round is put to HiGHS as one block-diagonal programme: one copy of a table's variables per
question, minimising the asked figure in one copy and maximising it in another. The copies share
no constraint, so the joint optimum is each copy's own optimum, read off its own columns.

Relations over whole counts here are sums over trees and a numerator-below-denominator link:
their constraint matrices are totally unimodular, so the programme's bounds are whole numbers and
are the reader's exact integer bounds, not a relaxation of them.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np

# A stand-in for "no upper bound": hidden counts are bounded by their total in every table that
# publishes one; where none does, anything at or above this reads as unbounded.
UNBOUNDED = 1e9
_TOLERANCE = 1e-6


def _new_solver() -> highspy.Highs:
    solver = highspy.Highs()  # type: ignore[no-untyped-call]  # pybind11 stub without a signature
    solver.setOptionValue("output_flag", False)
    return solver


def _without_banner() -> None:
    """Create the process's first solver with standard output closed.

    HiGHS prints its copyright banner from C++ when the first solver of a process is built,
    whatever its options (ERGO-Code/HiGHS#1702, #2749); in `mhf report` and the server logs it
    would be noise. Done once, at import, before any thread serves a request.
    """
    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            _new_solver()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


_without_banner()


@dataclass(frozen=True, slots=True)
class Relation:
    """``sum(coefficient * variable) between lower and upper`` over a view's variables."""

    terms: tuple[tuple[int, float], ...]
    lower: float
    upper: float

    @staticmethod
    def total(total: int, parts: Sequence[int]) -> Relation:
        """``total == sum(parts)``."""
        return Relation(((total, 1.0), *((p, -1.0) for p in parts)), 0.0, 0.0)

    @staticmethod
    def at_most(smaller: int, larger: int) -> Relation:
        """``smaller <= larger`` (a numerator and its denominator)."""
        return Relation(((smaller, 1.0), (larger, -1.0)), -math.inf, 0.0)


@dataclass(slots=True)
class View:
    """What a reader sees of one table: bounds on each variable and the relations between them."""

    bounds: list[tuple[float, float]]
    relations: list[Relation] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Question:
    """The smallest and largest value of ``variable`` in ``view``."""

    view: int
    variable: int


def ranges(views: Sequence[View], questions: Sequence[Question]) -> list[tuple[float, float]]:
    """Each question's (smallest, largest) value; ``math.inf`` where nothing bounds it above.

    A view with no solution at all (bounds its own true figures break) answers ``(nan, nan)``
    for its questions, which the caller treats as a failed audit.
    """
    if not questions:
        return []
    answers = _ranges_in_one_programme(views, questions)
    if answers is not None or len({q.view for q in questions}) == 1:
        return answers if answers is not None else [(math.nan, math.nan)] * len(questions)
    # One inconsistent view makes the joint programme infeasible: ask each view on its own so
    # only that view's questions fail.
    out: list[tuple[float, float]] = []
    for question in questions:
        alone = _ranges_in_one_programme(views, [question])
        out.extend(alone if alone is not None else [(math.nan, math.nan)])
    return out


def _ranges_in_one_programme(
    views: Sequence[View], questions: Sequence[Question]
) -> list[tuple[float, float]] | None:
    lower: list[float] = []
    upper: list[float] = []
    cost: list[float] = []
    starts: list[int] = [0]
    indices: list[int] = []
    values: list[float] = []
    row_lower: list[float] = []
    row_upper: list[float] = []
    asked: list[int] = []
    for question in questions:
        view = views[question.view]
        for sense in (1.0, -1.0):
            offset = len(lower)
            for lo, hi in view.bounds:
                lower.append(lo)
                upper.append(min(hi, UNBOUNDED))
                cost.append(0.0)
            cost[offset + question.variable] = sense
            asked.append(offset + question.variable)
            for relation in view.relations:
                for variable, coefficient in relation.terms:
                    indices.append(offset + variable)
                    values.append(coefficient)
                starts.append(len(indices))
                row_lower.append(relation.lower)
                row_upper.append(relation.upper)
    solution = _solve(lower, upper, cost, starts, indices, values, row_lower, row_upper)
    if solution is None:
        return None
    out: list[tuple[float, float]] = []
    for k in range(len(questions)):
        smallest = solution[asked[2 * k]]
        largest = solution[asked[2 * k + 1]]
        out.append((_whole(smallest), math.inf if largest >= UNBOUNDED - 1 else _whole(largest)))
    return out


def _whole(value: float) -> float:
    nearest = round(value)
    return float(nearest) if abs(value - nearest) < _TOLERANCE else value


def _solve(
    lower: list[float],
    upper: list[float],
    cost: list[float],
    starts: list[int],
    indices: list[int],
    values: list[float],
    row_lower: list[float],
    row_upper: list[float],
) -> list[float] | None:
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = len(lower)
    lp.num_row_ = len(row_lower)
    lp.col_cost_ = np.asarray(cost, dtype=np.float64)
    lp.col_lower_ = np.asarray(lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(upper, dtype=np.float64)
    lp.row_lower_ = np.asarray([inf * -1 if r == -math.inf else r for r in row_lower])
    lp.row_upper_ = np.asarray([inf if r == math.inf else r for r in row_upper])
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(indices, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(values, dtype=np.float64)
    solver = _new_solver()
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    return list(solver.getSolution().col_value)
