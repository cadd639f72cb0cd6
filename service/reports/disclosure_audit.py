"""The disclosure audit: what a reader can work out about each hidden figure, by linear programming.

A reader of a published table knows, for every figure, an interval (the reader's model in
``disclosure``) and the linear relations between figures (parts add up to their total, a
numerator is at most its denominator). The smallest and largest value a hidden figure can take
under all of them is a pair of linear programmes, as tau-ARGUS and sdcTable's audit solve them.

Many small programmes cost more in solver start-up than in solving, so the questions of a
round are put to HiGHS as block-diagonal programmes of a hundred or so: one copy of a table's
variables per question and sense, minimising the asked figure in one copy and maximising it in
another. The copies share no constraint, so the joint optimum is each copy's own optimum, read
off its own columns.

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
# The simplex method's work grows faster than the programme: a few hundred small blocks at a
# time solve fastest (measured on a month of 39 metrics x 10 sites, 2,000 questions).
_QUESTIONS_PER_PROGRAMME = 128


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
    out: list[tuple[float, float]] = []
    for start in range(0, len(questions), _QUESTIONS_PER_PROGRAMME):
        chunk = questions[start : start + _QUESTIONS_PER_PROGRAMME]
        answers = _ranges_in_one_programme(views, chunk)
        if answers is None:
            # One inconsistent view makes the joint programme infeasible: ask each question
            # on its own so only that view's questions fail.
            answers = []
            for question in chunk:
                alone = _ranges_in_one_programme(views, [question])
                answers.extend(alone if alone is not None else [(math.nan, math.nan)])
        out.extend(answers)
    return out


@dataclass(frozen=True, slots=True)
class _Arrays:
    """One view as the solver's arrays, built once however many questions it is asked."""

    lower: np.ndarray
    upper: np.ndarray
    starts: np.ndarray  # row starts, without the final end
    indices: np.ndarray
    values: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray

    @staticmethod
    def of(view: View) -> _Arrays:
        starts: list[int] = []
        indices: list[int] = []
        values: list[float] = []
        for relation in view.relations:
            starts.append(len(indices))
            for variable, coefficient in relation.terms:
                indices.append(variable)
                values.append(coefficient)
        inf = highspy.kHighsInf
        return _Arrays(
            np.array([lo for lo, _ in view.bounds], dtype=np.float64),
            np.minimum(np.array([hi for _, hi in view.bounds], dtype=np.float64), UNBOUNDED),
            np.array(starts, dtype=np.int32),
            np.array(indices, dtype=np.int32),
            np.array(values, dtype=np.float64),
            np.array([max(r.lower, -inf) for r in view.relations], dtype=np.float64),
            np.array([min(r.upper, inf) for r in view.relations], dtype=np.float64),
        )


def _ranges_in_one_programme(
    views: Sequence[View], questions: Sequence[Question]
) -> list[tuple[float, float]] | None:
    built: dict[int, _Arrays] = {}
    copies: list[_Arrays] = []
    for question in questions:
        if question.view not in built:
            built[question.view] = _Arrays.of(views[question.view])
        copies += [built[question.view]] * 2  # one to minimise, one to maximise
    widths = np.array([len(c.lower) for c in copies], dtype=np.int64)
    column_offsets = np.concatenate(([0], np.cumsum(widths)[:-1]))
    nonzeros = np.array([len(c.indices) for c in copies], dtype=np.int64)
    nonzero_offsets = np.concatenate(([0], np.cumsum(nonzeros)[:-1]))
    asked = column_offsets + np.repeat([q.variable for q in questions], 2)
    cost = np.zeros(int(widths.sum()))
    cost[asked] = np.tile([1.0, -1.0], len(questions))
    lp = highspy.HighsLp()
    lp.num_col_ = len(cost)
    lp.col_cost_ = cost
    lp.col_lower_ = np.concatenate([c.lower for c in copies])
    lp.col_upper_ = np.concatenate([c.upper for c in copies])
    lp.row_lower_ = np.concatenate([c.row_lower for c in copies])
    lp.row_upper_ = np.concatenate([c.row_upper for c in copies])
    lp.num_row_ = len(lp.row_lower_)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate(
        [
            *(c.starts + off for c, off in zip(copies, nonzero_offsets, strict=True)),
            [nonzeros.sum()],
        ]
    ).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate(
        [c.indices + off for c, off in zip(copies, column_offsets, strict=True)]
    ).astype(np.int32)
    lp.a_matrix_.value_ = np.concatenate([c.values for c in copies])
    solver = _new_solver()
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    solution = np.asarray(solver.getSolution().col_value)[asked]
    out: list[tuple[float, float]] = []
    for k in range(len(questions)):
        smallest, largest = float(solution[2 * k]), float(solution[2 * k + 1])
        out.append((_whole(smallest), math.inf if largest >= UNBOUNDED - 1 else _whole(largest)))
    return out


def _whole(value: float) -> float:
    nearest = round(value)
    return float(nearest) if abs(value - nearest) < _TOLERANCE else value
