"""The month's pack for the learning network's meeting, as one use case: one zip
(``mhf-pack-YYYY-MM.zip``) whose ``index.html`` shows and links everything in it.

The same pack is downloaded from the reports page, from ``GET /api/v1/reports/pack`` and
written by ``mhf report``. It holds the network table (every metric, every site and the
network, with each metric's SPC reading of the network's months), each site's table with its
teams and its lessons for the month, each site's equity splits, the SPC and funnel charts (drawn
by the reports pages' own renderer, ``service.charts``),
and each value framework's dashboard. Every figure is a disclosed cell of the one
``FigureStore`` the reports use, so the pack never shows what the reports hide; the SPC
readings are read from the published values.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Literal

from sqlalchemy.orm import Session

from service import charts
from service.charts import report_charts
from service.deps import Principal
from service.reports import build, lessons, practice, spc_view
from service.reports.csv_export import (
    equity_csv_rows,
    network_csv_rows,
    network_wide_csv,
    site_report_rows,
    to_csv,
)
from service.reports.figures import FigureStore
from service.reports.groups import EQUITY_DIMENSIONS
from service.reports.metrics import REGISTRY
from service.reports.pack_html import index_html, safe
from service.reports.practice import Practice
from service.reports.rate_funnels import funnel_of, has_funnel
from service.reports.shapes import EquityReport, NetworkReport, SiteReport
from service.stewardship.boards import every_dashboard
from service.stewardship.dashboard_csv import dashboard_csv
from service.stewardship.shapes import Dashboard

PACK_MEDIA = "application/zip"
CsvFormat = Literal["long", "wide"]
FORMATS: tuple[CsvFormat, ...] = ("long", "wide")


@dataclass(frozen=True, slots=True)
class PackFile:
    """One file of the pack: where it sits (relative, ``/``-separated) and its bytes."""

    path: str
    data: bytes


@dataclass(frozen=True, slots=True)
class SpcReading:
    """A metric's XmR chart of the network's published months, as the index shows it."""

    variation: str | None
    words: str
    mean: float | None
    lower: float | None
    upper: float | None
    points: int
    too_few_points: bool


@dataclass(frozen=True, slots=True)
class SitePart:
    report: SiteReport
    csv: str
    equity: list[tuple[EquityReport, str]]
    lesson: lessons.Lesson | None
    # The site's pathway version and overrides in words, and their changes in the month.
    practice: Practice | None = None


@dataclass(frozen=True, slots=True)
class BoardPart:
    board: Dashboard
    json: str
    csv: str


@dataclass
class PackContents:
    """Everything the index shows, with the path of each file it links."""

    month: str
    generated_at: datetime
    trend_months: int
    formats: tuple[CsvFormat, ...]
    network: NetworkReport
    spc: dict[str, SpcReading]
    sites: list[SitePart]
    spc_charts: dict[str, str]  # metric id -> SVG
    funnels: dict[str, str]
    site_numbers: dict[str, int]  # site code -> its number on the funnel plots
    boards: list[BoardPart]
    # The network's months in long form (every trend month), when asked for.
    long_csv: str | None = None
    paths: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Pack:
    month: str
    generated_at: datetime
    files: tuple[PackFile, ...]

    @property
    def name(self) -> str:
        return f"mhf-pack-{self.month}"

    @property
    def filename(self) -> str:
        return f"{self.name}.zip"

    def zip_bytes(self) -> bytes:
        """The pack as one zip, its files under one folder named like the zip."""
        out = io.BytesIO()
        stamp = self.generated_at.timetuple()[:6]
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for item in self.files:
                info = zipfile.ZipInfo(f"{self.name}/{item.path}", date_time=stamp)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, item.data)
        return out.getvalue()

    def write_files(self, out_dir: Path) -> list[Path]:
        """The pack's files, unzipped, under ``out_dir``."""
        written = []
        for item in self.files:
            target = out_dir.joinpath(*PurePosixPath(item.path).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(item.data)
            written.append(target)
        return written


# --- file names -------------------------------------------------------------------------------


def slug(name: str) -> str:
    """A framework's name as a file name: lower case words joined by hyphens."""
    words = "".join(c.lower() if c.isalnum() else " " for c in name).split()
    return "-".join(words)[:80] or "framework"


def spc_reading(view: spc_view.SpcView) -> SpcReading:
    """The index's words for a metric's chart: the same reading as the reports' SPC page."""
    present = sum(p["value"] is not None for p in view["points"])
    if present < 2:
        return SpcReading(None, "Too few months to read", None, None, None, present, True)
    icon = view["variation_icon"]
    return SpcReading(
        icon,
        spc_view.VARIATION_WORDS.get(icon or "", "No reading"),
        view["mean"],
        view["lower"],
        view["upper"],
        present,
        view["too_few_points"],
    )


def site_numbers(network: NetworkReport) -> dict[str, int]:
    """Each site's number on the funnel plots, in the network table's order (the key)."""
    return {site["code"]: i for i, site in enumerate(network["sites"], start=1)}


# --- the use case -----------------------------------------------------------------------------


def gather(
    session: Session,
    principal: Principal,
    month: str,
    now: datetime,
    *,
    trend_months: int = build.DEFAULT_TREND_MONTHS,
    formats: Sequence[CsvFormat] = FORMATS,
    progress: Callable[[str], None] | None = None,
) -> PackContents:
    """Every part of the month's pack, from one ``FigureStore`` (a month is read and disclosed
    once for all of them). ``month`` is checked by the caller (``report_month``)."""
    step = progress or (lambda _part: None)
    store = FigureStore(session, now)
    step("network")
    network = build.network_report(store, month, trend_months)
    chosen = tuple(f for f in FORMATS if f in formats)
    long_csv = to_csv(network_csv_rows(store, month, trend_months)) if "long" in chosen else None
    views = {
        m.id: spc_view.spc_view(store, m, month, None, trend_months) for m in REGISTRY.values()
    }
    readings = {metric_id: spc_reading(view) for metric_id, view in views.items()}
    notes = lessons.for_month(session, month)
    practices = {p["site_id"]: p for p in practice.network_practice(session, month)}
    site_parts: list[SitePart] = []
    for site in store.sites():
        step(f"site {site.code}")
        report = build.site_report(store, site, month, 1)
        equity = []
        for by in EQUITY_DIMENSIONS:
            split = build.equity_report(store, site, month, by)
            equity.append((split, to_csv(equity_csv_rows(split))))
        site_parts.append(
            SitePart(
                report,
                to_csv(site_report_rows(report)),
                equity,
                notes.get(site.id),
                practices.get(str(site.id)),
            )
        )
    step("charts")
    # The page's own charts (``service.charts``), drawn as standalone SVG files.
    spc_charts = {
        metric_id: str(charts.render(report_charts.spc_chart(f"spc-{metric_id}", view)))
        for metric_id, view in views.items()
    }
    numbers = site_numbers(network)
    funnels = {
        m.id: str(
            charts.render(
                report_charts.funnel_chart(
                    f"funnel-{m.id}", funnel_of(store, m, month), numbers, key_in_legend=True
                )
            )
        )
        for m in REGISTRY.values()
        if has_funnel(m)
    }
    step("value frameworks")
    boards = [
        BoardPart(board, json.dumps(board, indent=2), dashboard_csv(board))
        for board in every_dashboard(session, principal, month, now)
    ]
    return PackContents(
        month=month,
        generated_at=now,
        trend_months=trend_months,
        formats=chosen,
        network=network,
        spc=readings,
        sites=site_parts,
        spc_charts=spc_charts,
        site_numbers=numbers,
        funnels=funnels,
        boards=boards,
        long_csv=long_csv,
    )


def files_of(contents: PackContents) -> list[PackFile]:
    """The pack's data files, each path recorded in ``contents.paths`` for the index."""
    month = contents.month
    out: list[PackFile] = []
    paths = contents.paths

    def add(key: str, path: str, text: str) -> None:
        paths[key] = path
        out.append(PackFile(path, text.encode("utf-8")))

    if "wide" in contents.formats:
        add("network-wide", f"network-wide-{month}.csv", network_wide_csv(contents.network))
    if "long" in contents.formats:
        assert contents.long_csv is not None
        add("network-long", f"network-{month}.csv", contents.long_csv)
    for part in contents.sites:
        code = safe(part.report["site"]["code"])
        add(f"site:{code}", f"sites/site-{code}-{month}.csv", part.csv)
        for split, text in part.equity:
            by = split["by"]
            add(f"equity:{code}:{by}", f"equity/equity-{code}-{by}-{month}.csv", text)
    for metric_id, svg in contents.spc_charts.items():
        add(f"spc:{metric_id}", f"charts/spc-{metric_id}.svg", svg)
    for metric_id, svg in contents.funnels.items():
        add(f"funnel:{metric_id}", f"charts/funnel-{metric_id}.svg", svg)
    taken: set[str] = set()
    for index, board in enumerate(contents.boards):
        stem = slug(board.board["meta"]["name"])
        if stem in taken:  # two frameworks of one name: keep both files
            stem = f"{stem}-{index + 1}"
        taken.add(stem)
        add(f"board-json:{index}", f"frameworks/{stem}-{month}.json", board.json)
        add(f"board-csv:{index}", f"frameworks/{stem}-{month}.csv", board.csv)
    return out


def build_pack(
    session: Session,
    principal: Principal,
    month: str,
    now: datetime,
    *,
    trend_months: int = build.DEFAULT_TREND_MONTHS,
    formats: Sequence[CsvFormat] = FORMATS,
    progress: Callable[[str], None] | None = None,
) -> Pack:
    """The month's pack, its ``index.html`` first (a programme lead's: ``principal`` reads
    every value framework)."""
    contents = gather(
        session,
        principal,
        month,
        now,
        trend_months=trend_months,
        formats=formats,
        progress=progress,
    )
    data = files_of(contents)
    index = PackFile("index.html", index_html(contents).encode("utf-8"))
    return Pack(month, now, (index, *data))


__all__ = [
    "FORMATS",
    "PACK_MEDIA",
    "CsvFormat",
    "Pack",
    "PackContents",
    "PackFile",
    "build_pack",
]
