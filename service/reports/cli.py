"""``mhf report``: the monthly pack for stewardship meetings (CSVs and SVG charts).

Everything in the pack is disclosure-controlled: it is made to be shared.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
from tqdm import tqdm

from service.settings import get_settings


@click.command("report")
@click.option("--month", required=True, help="Calendar month, YYYY-MM (Europe/London).")
@click.option(
    "--out",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write the pack into (created if missing).",
)
@click.option("--database-url", default=None, help="Defaults to MHF_DATABASE_URL.")
@click.option("--trend-months", default=12, show_default=True, type=click.IntRange(1, 24))
@click.option("--no-progress", is_flag=True, help="No progress bar (for logs).")
def report_command(
    month: str, out_dir: Path, database_url: str | None, trend_months: int, no_progress: bool
) -> None:
    """Write the network and site reports, equity splits, funnel plots, trend charts and each
    value framework's dashboard (JSON and CSV)."""
    from service.db import build_engine, build_sessionmaker, unit_of_work
    from service.identity.principal import Principal
    from service.reports import build, charts
    from service.reports.csv_export import (
        equity_csv_rows,
        network_csv_rows,
        site_csv_rows,
        to_csv,
    )
    from service.reports.figures import FigureStore
    from service.reports.groups import EQUITY_DIMENSIONS
    from service.reports.metrics import REGISTRY
    from service.reports.period import current_month, parse_month
    from service.stewardship.boards import every_dashboard
    from service.stewardship.dashboard_csv import dashboard_csv
    from service.timeutil import utcnow

    try:
        parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    now = utcnow()
    if month > current_month(now):
        raise click.BadParameter("that month has not started yet", param_hint="--month")
    url = database_url or get_settings().database_url
    engine = build_engine(url)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "charts").mkdir(exist_ok=True)
    (out_dir / "frameworks").mkdir(exist_ok=True)
    written: list[Path] = []
    try:
        with unit_of_work(build_sessionmaker(engine)) as session:
            store = FigureStore(session, now)
            sites = store.sites()
            proportions = [m for m in REGISTRY.values() if m.is_proportion]
            steps = (
                [("network", None, None)]
                + [("site", s, None) for s in sites]
                + [("equity", s, by) for s in sites for by in EQUITY_DIMENSIONS]
                + [("funnel", None, m.id) for m in proportions]
                + [("trend", None, m.id) for m in REGISTRY.values()]
            )
            for kind, site, extra in tqdm(
                steps, desc=f"report {month}", unit="part", disable=no_progress
            ):
                if kind == "network":
                    rows = network_csv_rows(store, month, trend_months)
                    written.append(_write(out_dir / f"network-{month}.csv", to_csv(rows)))
                elif kind == "site" and site is not None:
                    rows = site_csv_rows(store, site, month, 1)
                    written.append(
                        _write(
                            out_dir / f"site-{_safe(site.code)}-{month}.csv",
                            to_csv(rows),
                        )
                    )
                elif kind == "equity" and site is not None and extra is not None:
                    report = build.equity_report(store, site, month, extra)
                    name = f"equity-{_safe(site.code)}-{extra}-{month}.csv"
                    written.append(_write(out_dir / name, to_csv(equity_csv_rows(report))))
                elif kind == "funnel" and extra is not None:
                    data = build.funnel_data(store, REGISTRY[extra], month)
                    written.append(
                        _write(out_dir / "charts" / f"funnel-{extra}.svg", charts.funnel_svg(data))
                    )
                elif kind == "trend" and extra is not None:
                    series = build.trend_series(store, REGISTRY[extra], month, trend_months)
                    written.append(
                        _write(out_dir / "charts" / f"trend-{extra}.svg", charts.trend_svg(series))
                    )
            # The pack is a programme lead's: every framework, disclosure-controlled as always.
            for board in every_dashboard(session, Principal(role="programme_lead"), month, now):
                stem = out_dir / "frameworks" / f"{_slug(board['meta']['name'])}-{month}"
                written.append(_write(stem.with_suffix(".json"), json.dumps(board, indent=2)))
                written.append(_write(stem.with_suffix(".csv"), dashboard_csv(board)))
    finally:
        engine.dispose()
    click.echo(f"wrote {len(written)} files to {out_dir}")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _slug(name: str) -> str:
    """A framework's name as a file name: lower case words joined by hyphens."""
    words = "".join(c.lower() if c.isalnum() else " " for c in name).split()
    return "-".join(words)[:80] or "framework"


def _safe(code: str) -> str:
    """Site codes become file names: keep them to characters every file system accepts."""
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in code)
