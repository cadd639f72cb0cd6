"""Site and network reports (filled by the reports work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["reports"])
