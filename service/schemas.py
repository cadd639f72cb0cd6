"""API schemas shared by the rooms: the base of every input (unknown fields are refused, so
nothing can be mass-assigned), the page of a list, a setting's history. Each room keeps its own
shapes in its ``schemas.py`` (``service/org``, ``service/patients``, ``service/alerting``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, field_validator

T = TypeVar("T")


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, str_max_length=10_000)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul_bytes(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold NUL, and no clinical text needs one.
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None


class SettingChangeOut(BaseModel):
    """One change of one setting: who, when, the value before and after."""

    setting: str
    before: Any
    after: Any
    changed_by: uuid.UUID | None
    changed_by_name: str | None
    changed_at: datetime


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
