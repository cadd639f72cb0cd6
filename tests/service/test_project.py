"""Project-level guarantees: the committed OpenAPI document, import direction, migrations."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import service.models
from service.app import create_app
from service.db import build_engine
from service.migrations_util import downgrade, upgrade
from service.models import Base
from service.openapi_doc import openapi_json
from service.settings import Settings
from tests.support.imports import imported_modules

ROOT = Path(__file__).resolve().parents[2]


def test_committed_openapi_document_is_current():
    committed = (ROOT / "openapi" / "openapi.json").read_text()
    assert json.loads(committed) == json.loads(openapi_json()), (
        "openapi/openapi.json is stale: run `make openapi` and commit it"
    )


def _imports(package: str) -> set[str]:
    found: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("pathway", {"service", "alerts", "fastapi", "sqlalchemy", "httpx", "pydantic"}),
        # alerts may use the pathway (README: service -> alerts -> pathway), never the service.
        ("alerts", {"service", "fastapi", "sqlalchemy", "pydantic"}),
    ],
)
def test_imports_point_one_way(package, forbidden):
    assert not (_imports(package) & forbidden)


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _router_modules() -> set[str]:
    """The API's router modules: those outside the pages that define ``router = APIRouter(...)``."""
    routers = set()
    for path in (ROOT / "service").rglob("*.py"):
        if (ROOT / "service" / "ui") in path.parents:
            continue
        for node in ast.parse(path.read_text()).body:
            if (
                isinstance(node, ast.Assign)
                and any(isinstance(t, ast.Name) and t.id == "router" for t in node.targets)
                and isinstance(node.value, ast.Call)
                and getattr(node.value.func, "id", None) == "APIRouter"
            ):
                routers.add(_module_name(path))
    return routers


def _callers_of_use_cases() -> list[Path]:
    service = ROOT / "service"
    return sorted(
        [*(service / "ui").rglob("*.py"), *(service / "fhir").rglob("*.py")]
        + [p for p in service.rglob("*.py") if "cli" in p.name]
    )


def test_the_routers_are_found():
    # Guards the rule below against finding nothing to forbid.
    assert {
        "service.alerting.api",
        "service.patients.api",
        "service.readings.api",
        "service.identity.api",
        "service.reports.api",
        "service.fhir.api",
        "service.pathway.api",
        "service.health",
    } <= _router_modules()


@pytest.mark.parametrize("path", _callers_of_use_cases(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pages_cli_and_fhir_call_use_cases_never_routers(path):
    """The pages, the CLI and FHIR call the rooms' services (``service.<room>.service``): a
    router's functions take FastAPI's request and dependencies, and its helpers are private."""
    assert not (imported_modules(path) & _router_modules())


@pytest.mark.parametrize(
    "path", sorted((ROOT / "service").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_private_framework_module_is_imported(path):
    """FastAPI's and Starlette's private modules change without notice. The fast readings
    route (service/readings/fast.py) does without them; its test holds it to FastAPI's own
    handler (tests/service/test_readings_fast_route.py)."""
    private = {
        m
        for m in imported_modules(path)
        if m.split(".")[0] in ("fastapi", "starlette")
        and any(part.startswith("_") for part in m.split(".")[1:])
    }
    assert not private


@pytest.mark.parametrize(
    "path", sorted((ROOT / "service").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_only_the_db_package_asks_which_database_it_is(path):
    """``service.db.dialect`` answers which database a session talks to; a module reading
    ``dialect.name`` itself would be one more place that knows SQLite from PostgreSQL.
    Migrations are exempt: each is frozen as it ran, and must not follow the application's
    helpers as they change."""
    if {ROOT / "service" / "db", ROOT / "service" / "migrations"} & set(path.parents):
        return
    assert "dialect.name" not in path.read_text()


# Rooms whose database-specific statements live in ``service.db.capabilities``: they say what
# they need and never ask which database it is. (The readings' ingest still asks, for its
# driver fast path; the reports' runner picks the SQL dialect its batch is compiled for.)
ASKS_NOTHING_OF_THE_DIALECT = [
    "service/alerting",
    "service/audit",
    "service/jobs.py",
    "service/scheduler.py",
]


@pytest.mark.parametrize("room", ASKS_NOTHING_OF_THE_DIALECT)
def test_the_alerting_audit_and_job_rooms_use_capabilities_not_the_dialect(room):
    paths = [ROOT / room] if room.endswith(".py") else sorted((ROOT / room).rglob("*.py"))
    assert paths
    for path in paths:
        text = path.read_text()
        assert "service.db.dialect" not in text, path
        # The audit's own SQL function (``audit_append``) takes a uuid[]: its call is the
        # audit's domain SQL, typed where it is written.
        if path != ROOT / "service" / "audit" / "__init__.py":
            assert "sqlalchemy.dialects" not in text, path


@pytest.mark.parametrize(
    "path", sorted((ROOT / "service").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT))
)
def test_no_module_is_over_600_lines(path):
    """A module past 600 lines holds more than one responsibility: split it by page area, by
    room (routes, use cases, queries) or, for a registry, by family. Migrations are exempt: each
    stays as it ran."""
    if ROOT / "service" / "migrations" in path.parents:
        return
    lines = len(path.read_text().splitlines())
    assert lines <= 600, f"{path.relative_to(ROOT)}: {lines} lines; split it"


def test_every_route_states_who_may_call_it():
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, environment="test"))
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            summary = operation.get("summary", "")
            assert summary.rstrip().endswith(")"), f"{method.upper()} {path}: say who may call it"


def test_migrations_run_up_and_down_and_match_the_models(tmp_path, db_url):
    """From empty to head, down to base, and up again; the schema equals the ORM models."""
    engine = build_engine(db_url)
    try:
        downgrade(db_url, "base")
        with engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) <= {"alembic_version"}
        upgrade(db_url)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, Base.metadata)
        if engine.dialect.name == "sqlite":
            # SQLite cannot reflect an index on an expression (severity_rank DESC), so Alembic
            # reports it as missing; PostgreSQL compares it properly. The GIN index on the
            # audit records' patient lists is PostgreSQL's only (``ddl_if``).
            diff = [
                d
                for d in diff
                if not (
                    (
                        d[0] in ("add_index", "remove_index")
                        and d[1].name in ("ix_alerts_queue", "ix_alerts_team_order")
                    )
                    or (d[0] == "add_index" and d[1].name == "ix_audit_events_patient_ids")
                )
            ]
        assert diff == [], diff
    finally:
        engine.dispose()


def test_importing_the_models_registers_every_table():
    """Alembic's env.py imports ``service.models`` alone: every table of every module in the
    package must be on ``Base.metadata`` from that one import, or autogenerate would not see it."""
    for module in pkgutil.iter_modules(service.models.__path__, "service.models."):
        importlib.import_module(module.name)
    every_table = {t.name: [c.name for c in t.columns] for t in Base.metadata.sorted_tables}
    script = (
        "import json\nfrom service.models import Base\n"
        "print(json.dumps({t.name: [c.name for c in t.columns] "
        "for t in Base.metadata.sorted_tables}))"
    )
    alone = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True, cwd=ROOT
    )
    assert json.loads(alone.stdout) == every_table
    assert "local_date" in every_table["readings"]
