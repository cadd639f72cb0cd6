"""FHIR R4 front door (filled by the FHIR work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/fhir", tags=["fhir"])
