"""The alert queue and clinicians' moves on alerts."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["alerts"])
