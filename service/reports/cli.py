"""``mhf report``: the month's pack for the learning network's meeting, one zip with an
``index.html`` (``service.reports.pack``, the same pack the reports page downloads).

Everything in the pack is disclosure-controlled: it is made to be shared.
"""

from __future__ import annotations

from pathlib import Path

import click

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
@click.option(
    "--format",
    "csv_format",
    type=click.Choice(["long", "wide", "both"]),
    default="both",
    show_default=True,
    help="The network CSV: wide (a row per metric, a column per site and the network, for the "
    "month), long (a row per month, place and metric, every trend month) or both.",
)
@click.option(
    "--unzipped", is_flag=True, help="Also write the pack's files, unzipped, beside the zip."
)
@click.option("--no-progress", is_flag=True, help="Do not say which part is being made.")
def report_command(
    month: str,
    out_dir: Path,
    database_url: str | None,
    trend_months: int,
    csv_format: str,
    unzipped: bool,
    no_progress: bool,
) -> None:
    """Write the month's pack, mhf-pack-YYYY-MM.zip: index.html with the network and site
    tables, SPC readings, equity splits, lessons, trend and funnel charts and each value
    framework's dashboard, and every file it links."""
    from service.db import build_engine, build_sessionmaker, unit_of_work
    from service.identity.principal import Principal
    from service.reports.pack import FORMATS, build_pack
    from service.reports.period import current_month, parse_month
    from service.timeutil import utcnow

    try:
        parse_month(month)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from exc
    now = utcnow()
    if month > current_month(now):
        raise click.BadParameter("that month has not started yet", param_hint="--month")
    formats = FORMATS if csv_format == "both" else tuple(f for f in FORMATS if f == csv_format)
    url = database_url or get_settings().database_url
    engine = build_engine(url)

    def progress(part: str) -> None:
        if not no_progress:
            click.echo(f"making {part}", err=True)

    try:
        with unit_of_work(build_sessionmaker(engine)) as session:
            # The pack is a programme lead's: every framework, disclosure-controlled as always.
            pack = build_pack(
                session,
                Principal(role="programme_lead"),
                month,
                now,
                trend_months=trend_months,
                formats=formats,
                progress=progress,
            )
    finally:
        engine.dispose()
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / pack.filename
    target.write_bytes(pack.zip_bytes())
    click.echo(f"wrote {target} ({len(pack.files)} files)")
    if unzipped:
        written = pack.write_files(out_dir / pack.name)
        click.echo(f"wrote {len(written)} files to {out_dir / pack.name}")
