"""Liveness and readiness probes (no authentication)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from service.migrations_util import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Process alive (anyone)")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Database reachable and schema current (anyone)")
def readyz(request: Request) -> JSONResponse:
    engine = request.app.state.engine
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            revision = current_revision(conn)
    except Exception:
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"},
            status_code=503,
            headers={"Retry-After": "5"},
        )
    head = head_revision()
    if revision != head:
        return JSONResponse(
            {"status": "unavailable", "database": "ok", "schema": revision, "expected": head},
            status_code=503,
            headers={"Retry-After": "30"},
        )
    return JSONResponse({"status": "ok", "database": "ok", "schema": revision})
