"""Project-level guarantees: the committed OpenAPI document, import direction, migrations."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from service.db import build_engine
from service.migrations_util import downgrade, upgrade
from service.models import Base
from service.openapi_doc import openapi_json

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


def test_every_route_states_who_may_call_it():
    from service.app import create_app
    from service.settings import Settings

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
