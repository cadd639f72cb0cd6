"""A framework's dashboard as one CSV: one row per outcome, resource figure, before-and-after
figure and unit cost, from the same dashboard as the JSON and the page."""

from __future__ import annotations

from typing import Any

from service.reports.csv_export import write_csv
from service.stewardship.shapes import Dashboard

FIELDS = [
    "month",
    "framework",
    "version",
    "section",
    "domain",
    "measure",
    "group",
    "unit",
    "numerator",
    "denominator",
    "value",
    "target",
    "direction",
    "status",
]


def _blank(value: object) -> object:
    return "" if value is None else value


def _row(board: Dashboard, section: str, measure: str, **cells: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(FIELDS, "")
    row.update(
        month=board["month"],
        framework=board["meta"]["name"],
        version=board["meta"]["version"],
        section=section,
        measure=measure,
    )
    row.update({k: _blank(v) for k, v in cells.items()})
    return row


def _before_after_rows(board: Dashboard) -> list[dict[str, object]]:
    comparison: dict[str, Any] | None = board["before_after"]
    if not comparison:
        return []
    rows = []
    totals = comparison.get("network") or {}
    for outcome in totals.get("outcomes", []):
        for window in ("before", "after"):
            figures = outcome.get(window, {})
            rows.append(
                _row(
                    board,
                    "before_after",
                    f"{outcome['outcome']}_per_patient_year_{window}",
                    unit="per patient-year",
                    numerator=figures.get("events"),
                    denominator=figures.get("person_years"),
                    value=figures.get("rate_per_patient_year"),
                )
            )
        rows.append(
            _row(
                board,
                "before_after",
                f"{outcome['outcome']}_rate_ratio",
                unit="after / before",
                value=outcome.get("rate_ratio"),
            )
        )
    return rows


def dashboard_csv(board: Dashboard) -> str:
    rows = []
    for outcome in board["outcomes"]:
        rows.append(
            _row(
                board,
                "outcome",
                outcome["metric"],
                domain=outcome["domain"],
                group=f"gap by {outcome['equity_split']}" if "equity_split" in outcome else "",
                unit=outcome["unit"],
                numerator=outcome["numerator"],
                denominator=outcome["denominator"],
                value=outcome["value"],
                target=outcome["target"],
                direction=outcome["direction"],
                status=outcome["status"],
            )
        )
    for key, value in board["resources"].items():
        unit = "GBP" if key.endswith("_gbp") else ""
        rows.append(_row(board, "resources", key, unit=unit, value=value))
    rows.extend(_before_after_rows(board))
    for site in board["meta"]["unit_costs"]:
        for cost in site["unit_costs"]:
            rows.append(
                _row(
                    board,
                    "unit_cost",
                    cost["key"],
                    group=site["site"]["code"],
                    unit="GBP",
                    value=cost["gbp"],
                    status="site's own" if cost["overridden"] else "national default",
                )
            )
    return write_csv(FIELDS, rows)
