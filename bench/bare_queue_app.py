"""The HTTP baseline for the alert queue: the raw indexed query behind a bare endpoint.

No auth, no scoping, no audit, no response model: the same SQL text as the bench's in-process
baseline (``bench.alert_queue.RAW``: the page's alerts with their findings), its rows dumped as
JSON, served by the same uvicorn as the service, so the difference between the two HTTP figures
is the service's own work.
"""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from fastapi import FastAPI, Response
from sqlalchemy import text

from bench.alert_queue import RAW
from service.db import build_engine


def create() -> FastAPI:
    engine = build_engine(os.environ["MHF_DATABASE_URL"])
    raw = text(RAW.replace("%s", ":team"))
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # A plain def runs in the thread pool, as the service's routes do.
    @app.get("/bare-queue")
    def bare_queue(team: uuid.UUID) -> Response:
        with engine.connect() as conn:
            rows: list[dict[str, Any]] = [
                dict(row._mapping) for row in conn.execute(raw, {"team": team})
            ]
        body = json.dumps({"items": rows}, default=str, separators=(",", ":"))
        return Response(body, media_type="application/json")

    return app
