"""Column types that store the same values on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, TypeDecorator, Uuid
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from service.db.dialect import is_postgresql


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every engine (SQLite has no time zone type)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: store aware UTC times only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if not is_postgresql(dialect) else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


JSONType = JSON().with_variant(JSON(none_as_null=True), "postgresql")


class UuidList(TypeDecorator[list[uuid.UUID]]):
    """A list of UUIDs: ``uuid[]`` on PostgreSQL (a GIN index can find the rows naming one),
    JSON text of their strings on SQLite."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if is_postgresql(dialect):
            return dialect.type_descriptor(ARRAY(Uuid()))
        return dialect.type_descriptor(JSON())

    def process_bind_param(
        self, value: list[uuid.UUID] | None, dialect: Dialect
    ) -> list[Any] | None:
        if value is None or is_postgresql(dialect):
            return value
        return [str(v) for v in value]

    def process_result_value(
        self, value: list[Any] | None, dialect: Dialect
    ) -> list[uuid.UUID] | None:
        if value is None or is_postgresql(dialect):
            return value
        return [uuid.UUID(v) for v in value]
