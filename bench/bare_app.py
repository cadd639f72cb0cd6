"""The baseline: a bare FastAPI endpoint inserting one row, no auth, validation or rules."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from sqlalchemy import Column, DateTime, Float, MetaData, String, Table, Uuid, insert
from starlette.concurrency import run_in_threadpool

from service.db import build_engine

metadata = MetaData()
bare = Table(
    "bench_bare",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("type", String(16)),
    Column("value", Float),
    Column("taken_at", DateTime(timezone=True)),
)


def create() -> FastAPI:
    engine = build_engine(os.environ["MHF_DATABASE_URL"])
    metadata.create_all(engine)
    app = FastAPI()

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/bare")
    async def post(request: Request) -> dict[str, Any]:
        body = await request.json()
        return await _store(body)

    async def _store(body: dict[str, Any]) -> dict[str, Any]:
        def write() -> None:
            with engine.begin() as conn:
                conn.execute(
                    insert(bare).values(
                        id=uuid.uuid4(),
                        type="weight",
                        value=body.get("value"),
                        taken_at=datetime.now(UTC),
                    )
                )

        await run_in_threadpool(write)
        return {"stored": 1}

    return app
