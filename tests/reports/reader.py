"""A reader who knows the disclosure rules, attacking published figures by linear programming.

Written apart from ``service.reports.disclosure_audit`` (its own model, one programme per
question, HiGHS's incremental API), so the tests that use it check the audit, not restate it.
"""

from __future__ import annotations

import math

import highspy

from service.reports.disclosure import LARGEST_SUPPRESSED, SUPPRESSED


class Reader:
    def __init__(self) -> None:
        self.bounds: dict[str, tuple[float, float]] = {}
        self.equalities: list[tuple[str, list[str]]] = []
        self.orderings: list[tuple[str, str]] = []

    def sees(self, name: str, shown: object) -> None:
        """A published figure; ``None`` (not published) tells the reader only that it is >= 0."""
        if shown is None:
            bounds = (0.0, math.inf)
        elif shown == SUPPRESSED:
            bounds = (1.0, math.inf)
        elif shown == 0:
            bounds = (0.0, 0.0)
        else:
            assert isinstance(shown, int), (name, shown)
            bounds = (float(max(LARGEST_SUPPRESSED + 1, shown - 2)), float(shown + 2))
        old = self.bounds.get(name, (0.0, math.inf))
        self.bounds[name] = (max(old[0], bounds[0]), min(old[1], bounds[1]))

    def adds_up(self, total: str, parts: list[str]) -> None:
        self.equalities.append((total, parts))

    def at_most(self, smaller: str, larger: str) -> None:
        self.orderings.append((smaller, larger))

    def range_of(self, name: str) -> tuple[float, float]:
        return self._optimise(name, highspy.ObjSense.kMinimize), self._optimise(
            name, highspy.ObjSense.kMaximize
        )

    def _optimise(self, name: str, sense: highspy.ObjSense) -> float:
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        names = list(self.bounds)
        column = {n: i for i, n in enumerate(names)}
        inf = highspy.kHighsInf
        for n in names:
            lo, hi = self.bounds[n]
            h.addVar(lo, inf if hi == math.inf else hi)
        for total, parts in self.equalities:
            idx = [column[total], *(column[p] for p in parts)]
            h.addRow(0.0, 0.0, len(idx), idx, [1.0] + [-1.0] * len(parts))
        for smaller, larger in self.orderings:
            h.addRow(-inf, 0.0, 2, [column[smaller], column[larger]], [1.0, -1.0])
        h.changeColCost(column[name], 1.0)
        h.changeObjectiveSense(sense)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kUnbounded:
            return math.inf
        assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
        return float(h.getInfo().objective_function_value)

    def possible_values(self, name: str) -> float:
        lo, hi = self.range_of(name)
        return math.inf if hi == math.inf else math.floor(hi + 1e-6) - math.ceil(lo - 1e-6) + 1
