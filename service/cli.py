"""The `mhf` command line."""

from __future__ import annotations

import json
import sys
import uuid

import click

from service.settings import get_settings


@click.group()
def main() -> None:
    """MHF @home monitoring service."""


@main.command()
def migrate() -> None:
    """Bring the database (MHF_DATABASE_URL) to the latest schema."""
    from service.migrations_util import upgrade

    url = get_settings().database_url
    _ensure_sqlite_dir(url)
    upgrade(url)
    click.echo("database is at the latest schema")


def _ensure_sqlite_dir(url: str) -> None:
    from pathlib import Path

    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


@main.command("create-user")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["clinician", "programme_lead", "admin", "site_admin", "site_lead"]),
)
@click.option("--team", "teams", multiple=True, help="Team id (repeatable)")
@click.option(
    "--site", "site", default=None, help="The site id a site_admin manages or a site_lead stewards"
)
@click.option("--display-name", default=None)
def create_user(
    username: str, role: str, teams: tuple[str, ...], site: str | None, display_name: str | None
) -> None:
    """Create a staff user; the password is read from standard input."""
    from pydantic import ValidationError

    from service.db import build_engine, build_sessionmaker, unit_of_work
    from service.org.schemas import UserIn
    from service.org.service import add_user
    from service.problems import Problem
    from service.timeutil import utcnow

    password = sys.stdin.readline().rstrip("\n")
    try:
        body = UserIn(
            username=username,
            password=password,
            role=role,
            team_ids=[uuid.UUID(t) for t in teams],
            display_name=display_name,
            site_id=uuid.UUID(site) if site else None,
        )
    except (ValidationError, ValueError) as exc:
        raise click.ClickException(str(exc)) from exc
    engine = build_engine(get_settings().database_url)
    try:
        with unit_of_work(build_sessionmaker(engine)) as session:
            user = add_user(session, body, utcnow())
    except Problem as exc:
        raise click.ClickException(exc.detail) from exc
    finally:
        engine.dispose()
    click.echo(f"created {user.role} {user.username} ({user.id})")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, type=click.IntRange(1, 65535), show_default=True)
@click.option("--workers", default=1, type=int, show_default=True)
@click.option(
    "--forwarded-allow-ips",
    envvar="MHF_FORWARDED_ALLOW_IPS",
    default="127.0.0.1",
    show_default=True,
    help="Proxies whose X-Forwarded-For is trusted (login rate limits are per client address)",
)
@click.option(
    "--with-scheduler",
    is_flag=True,
    help="Also run the scheduled jobs (`mhf scheduler`) in a child process that stops with the "
    "server. For development: in production the scheduler runs as a service of its own.",
)
def serve(
    host: str, port: int, workers: int, forwarded_allow_ips: str, with_scheduler: bool
) -> None:
    """Run the API and pages (Ctrl-C stops them, and the scheduler with them)."""
    import subprocess

    import uvicorn

    scheduler = None
    if with_scheduler:
        # Its own session: Ctrl-C reaches the server, which stops it here, after the server
        # has shut down, rather than both racing to stop.
        scheduler = subprocess.Popen(
            [sys.executable, "-c", "from service.cli import main; main()", "scheduler"],
            start_new_session=True,
        )
    try:
        uvicorn.run(
            "service.app:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_config=None,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
            server_header=False,
        )
    finally:
        if scheduler is not None:
            scheduler.terminate()
            try:
                scheduler.wait(timeout=10)
            except subprocess.TimeoutExpired:
                scheduler.kill()


@main.command()
@click.option("--if-empty", is_flag=True, help="Do nothing if the database already has sites.")
@click.option("--seed", default=20261124, type=int, show_default=True)
@click.option("--patients", default=1000, type=click.IntRange(1, 5000), show_default=True)
@click.option(
    "--days",
    default=365,
    type=click.IntRange(30, 730),
    show_default=True,
    help="Enrolments are spread over this many days before today.",
)
@click.option("--no-progress", is_flag=True, help="No progress bar (for logs).")
@click.option(
    "--url",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where the service will be served, for the sign-in address printed.",
)
def demo(if_empty: bool, seed: int, patients: int, days: int, no_progress: bool, url: str) -> None:
    """Fill an empty database with a demo learning network and print the logins."""
    from service.demo import load_demo

    load_demo(
        get_settings().database_url,
        if_empty=if_empty,
        seed=seed,
        patients=patients,
        days=days,
        progress=not no_progress,
        url=url,
    )


@main.command()
def openapi() -> None:
    """Print the OpenAPI document."""
    from service.openapi_doc import openapi_json

    click.echo(openapi_json())


@main.group()
def audit() -> None:
    """The audit trail of staff access to patient data."""


@audit.command("verify")
def audit_verify() -> None:
    """Check the hash chain of the audit trail, its numbering, and its signed checkpoints."""
    from service.audit import checkpoint
    from service.db import build_engine, build_sessionmaker, unit_of_work

    settings = get_settings()
    engine = build_engine(settings.database_url)
    with unit_of_work(build_sessionmaker(engine)) as session:
        check = checkpoint.verify(session, checkpoint.key_of(settings))
    engine.dispose()
    click.echo(json.dumps(check.as_json()))
    if not check.ok:
        sys.exit(1)


def _print_audit(*, patient_id: uuid.UUID | None = None, actor_id: uuid.UUID | None = None) -> None:
    from service.audit.service import audit_events
    from service.db import build_engine, build_sessionmaker, unit_of_work

    engine = build_engine(get_settings().database_url)
    with unit_of_work(build_sessionmaker(engine)) as session:
        events = audit_events(session, patient_id=patient_id, actor_id=actor_id, limit=10_000)
    engine.dispose()
    for event in events:
        click.echo(event.model_dump_json())


@audit.command("patient")
@click.argument("patient_id", type=click.UUID)
def audit_patient(patient_id: uuid.UUID) -> None:
    """Who viewed or changed PATIENT_ID (JSON lines, newest first)."""
    _print_audit(patient_id=patient_id)


@audit.command("user")
@click.argument("user_id", type=click.UUID)
def audit_user(user_id: uuid.UUID) -> None:
    """Which patients USER_ID viewed or changed (JSON lines, newest first)."""
    _print_audit(actor_id=user_id)


from service.reports.cli import report_command  # noqa: E402 - after the commands above

main.add_command(report_command, "report")

try:
    from service.pathway.cli import pathway_group

    main.add_command(pathway_group, "pathway")
except ImportError:  # pragma: no cover - only while the pathway CLI is being built
    pass


@main.command()
@click.option("--job", "only", default=None, help="Run only this job")
@click.option("--once", is_flag=True, help="Run the selected jobs once and exit")
def scheduler(only: str | None, once: bool) -> None:
    """Run the scheduled jobs (missed readings, escalation, notifications) in this process."""
    from service.logs import configure_logging
    from service.scheduler import run_scheduler

    settings = get_settings()
    configure_logging(settings.log_level)
    run_scheduler(settings, only=only, once=once)
