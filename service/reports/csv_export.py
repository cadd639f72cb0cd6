"""The reports as tidy CSV: one row per month, place (site, network, team or group) and metric,
from the same disclosed cells as the JSON; safe to open in a spreadsheet. The network's month
also in wide form (``network_wide_csv``): a row per metric, a column per site and the network."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence

from service.models import Site
from service.reports.build import DEFAULT_TREND_MONTHS, site_report
from service.reports.disclosure import Cell
from service.reports.figures import FigureStore
from service.reports.metrics import REGISTRY, Metric
from service.reports.period import last_months
from service.reports.shapes import CellJson, CsvRow, EquityReport, NetworkReport, SiteReport

CSV_MEDIA = "text/csv; charset=utf-8"
CSV_FIELDS = [
    "month",
    "scope",
    "site_code",
    "group",
    "metric_id",
    "unit",
    "numerator",
    "denominator",
    "value",
]


def network_csv_rows(
    store: FigureStore, month: str, trend_months: int = DEFAULT_TREND_MONTHS
) -> list[CsvRow]:
    """Tidy rows: one per site (and the network) x metric x month of the trend."""
    months = last_months(month, max(trend_months, 1))
    all_sites = store.sites()
    disclosed = store.by_site(months)
    rows: list[CsvRow] = []
    for m in months:
        for metric in REGISTRY.values():
            cells = disclosed[m][metric.id]
            for site in all_sites:
                rows.append(_csv_row(m, "site", site.code, "", metric, cells.sites[site.id]))
            rows.append(_csv_row(m, "network", "", "", metric, cells.network))
    return rows


def site_csv_rows(store: FigureStore, site: Site, month: str, trend_months: int) -> list[CsvRow]:
    return site_report_rows(site_report(store, site, month, trend_months))


def site_report_rows(report: SiteReport) -> list[CsvRow]:
    """A site report's month as tidy rows: the site's figure, then each team's."""
    month, code = report["month"], report["site"]["code"]
    rows: list[CsvRow] = []
    for metric_json in report["metrics"]:
        metric = REGISTRY[metric_json["id"]]
        rows.append(_csv_row(month, "site", code, "", metric, _cell(metric_json["site"])))
        for team in metric_json["teams"]:
            cell = Cell(team["numerator"], team["denominator"], team["value"])
            rows.append(_csv_row(month, "team", code, team["name"], metric, cell))
    return rows


NETWORK_COLUMN = "network"
WIDE_LEAD_FIELDS = ["metric_id", "metric", "unit"]


def network_wide_csv(report: NetworkReport) -> str:
    """The report's month in wide form: one row per metric, one column per site (by code, in
    the report's order) and the network, each cell the published value (``*`` where
    suppressed, empty where there is nothing to report): the same cells as the long CSV."""
    codes = [s["code"] for s in report["sites"]]
    rows: list[dict[str, object]] = []
    for metric in report["metrics"]:
        row: dict[str, object] = {
            "metric_id": metric["id"],
            "metric": metric["title"],
            "unit": metric["unit"],
        }
        by_code = {s["code"]: s["value"] for s in metric["sites"]}
        for code in codes:
            row[code] = _blank(by_code.get(code))
        row[NETWORK_COLUMN] = _blank(metric["network"]["value"])
        rows.append(row)
    return write_csv([*WIDE_LEAD_FIELDS, *codes, NETWORK_COLUMN], rows)


def _blank(value: object) -> object:
    return "" if value is None else value


def equity_csv_rows(report: EquityReport) -> list[CsvRow]:
    rows = []
    for metric_json in report["metrics"]:
        metric = REGISTRY[metric_json["id"]]
        for group in metric_json["groups"]:
            cell = Cell(group["numerator"], group["denominator"], group["value"])
            rows.append(
                _csv_row(
                    report["month"],
                    report["by"],
                    report["site"]["code"],
                    group["group"],
                    metric,
                    cell,
                )
            )
    return rows


def _cell(cell: CellJson) -> Cell:
    return Cell(cell["numerator"], cell["denominator"], cell["value"])


def _csv_row(month: str, scope: str, code: str, group: str, metric: Metric, cell: Cell) -> CsvRow:
    return {
        "month": month,
        "scope": scope,
        "site_code": code,
        "group": group,
        "metric_id": metric.id,
        "unit": metric.unit,
        "numerator": "" if cell.numerator is None else cell.numerator,
        "denominator": "" if cell.denominator is None else cell.denominator,
        "value": "" if cell.value is None else cell.value,
    }


def to_csv(rows: list[CsvRow]) -> str:
    return write_csv(CSV_FIELDS, rows)


def write_csv(fields: Sequence[str], rows: Iterable[Mapping[str, object]]) -> str:
    """Rows as CSV, every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(fields), lineterminator="\n")
    # The header too: a wide CSV's columns are site codes, which administrators choose.
    writer.writerow({name: _safe_csv(name) for name in fields})
    for row in rows:
        # Spreadsheet formula injection: no cell may start with = + - @ unless it is a number.
        writer.writerow({k: _safe_csv(v) for k, v in row.items()})
    return out.getvalue()


def _safe_csv(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _is_number(value):
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
