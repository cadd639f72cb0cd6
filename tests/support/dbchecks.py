"""Checks read from the database itself, never from the API under test."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import create_engine, text

from service.db import normalise_url
from tests.support.load import Sent


def stored_readings(url: str) -> Counter[tuple[str, str]]:
    """(patient_id, reading id) -> how many rows hold it."""
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT patient_id, id FROM readings")).all()
    finally:
        engine.dispose()
    return Counter((_norm(r[0]), _norm(r[1])) for r in rows)


def _sync_url(url: str) -> str:
    return normalise_url(url)


def _norm(value: Any) -> str:
    """UUIDs come back as uuid.UUID (PostgreSQL) or 32-hex strings (SQLite)."""
    return str(uuid.UUID(str(value)))


def alert_coverage(url: str, sent: list[Sent]) -> list[str]:
    """Qualifying readings without their alert: none in the findings' evidence and no open
    SpO2 alert for that patient."""
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as conn:
            evidence: set[tuple[str, str]] = set()
            for patient_id, raw in conn.execute(
                text(
                    "SELECT a.patient_id, f.evidence FROM alert_findings f "
                    "JOIN alerts a ON a.id = f.alert_id"
                )
            ):
                ids = json.loads(raw) if isinstance(raw, str) else raw
                evidence.update((_norm(patient_id), _norm(i)) for i in ids)
            open_spo2 = {
                _norm(r[0])
                for r in conn.execute(
                    text(
                        "SELECT patient_id FROM alerts WHERE alert_group = 'spo2' "
                        "AND status <> 'resolved' AND severity = 'red'"
                    )
                )
            }
    finally:
        engine.dispose()
    missing = []
    for item in sent:
        if not item.qualifying:
            continue
        key = (str(item.patient_id), _norm(item.body["id"]))
        if key not in evidence and str(item.patient_id) not in open_spo2:
            missing.append(item.body["id"])
    return missing


def red_alerts_without_notification(url: str) -> list[str]:
    """Red alerts whose ``alert.raised`` outbox event is missing or doubled."""
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT a.id, COUNT(o.id) FROM alerts a LEFT JOIN outbox_events o "
                    "ON o.alert_id = a.id AND o.event_type IN ('alert.raised', "
                    "'alert.severity_raised') WHERE a.severity = 'red' GROUP BY a.id"
                )
            ).all()
    finally:
        engine.dispose()
    return [f"{r[0]}: {r[1]} events" for r in rows if r[1] != 1]


def sql_rows(url: str, sql: str, **params: Any) -> list[Any]:
    engine = create_engine(_sync_url(url))
    try:
        with engine.connect() as conn:
            return list(conn.execute(text(sql), params).all())
    finally:
        engine.dispose()
