"""Which database a session, connection, engine or dialect talks to: the one place that asks.

The service runs on SQLite (embedded, tests) and PostgreSQL (production); code that takes a
faster or PostgreSQL-only path asks here, and tests/service/test_project.py keeps every other
module from reading the dialect's name itself.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

DialectName = Literal["postgresql", "sqlite"]


def name_of(bind: Session | Connection | Engine | Dialect) -> DialectName:
    if isinstance(bind, Session):
        dialect = bind.get_bind().dialect
    elif isinstance(bind, Dialect):
        dialect = bind
    else:
        dialect = bind.dialect
    if dialect.name not in ("postgresql", "sqlite"):
        raise ValueError(f"unsupported database: {dialect.name}")
    return "postgresql" if dialect.name == "postgresql" else "sqlite"


def is_postgresql(bind: Session | Connection | Engine | Dialect) -> bool:
    return name_of(bind) == "postgresql"
