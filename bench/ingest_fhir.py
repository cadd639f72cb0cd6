"""FHIR Bundle ingest throughput beside the native JSON batch path, on a real uvicorn server.

    .venv/bin/python bench/ingest_fhir.py [--batches 20] [--size 100]

Starts ``mhf serve`` on a free port over a fresh SQLite database migrated with ``mhf migrate``
(or MHF_DATABASE_URL if set, e.g. PostgreSQL), seeds one patient per path, posts the same
readings as FHIR transaction Bundles and as native ``{"readings": [...]}`` batches, and prints
readings/s for each. Then measures in process how much of the FHIR path is ``fhir.resources``
parsing (``Bundle.model_validate``) and our translation to the native inputs, beside the one-pass
path the route takes for such Bundles (``inbound_fast``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import server
from service.db import build_engine, build_sessionmaker, unit_of_work
from service.fhir import inbound_fast, ingest, parse
from service.fhir.inbound import EntryKey
from service.fhir.resources import Bundle
from service.identity.security import hash_device_token, new_device_token
from service.models import DeviceToken, Patient, Site, Team

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
UCUM, LOINC = "http://unitsofmeasure.org", "http://loinc.org"
# Plausible, alert-free values so both paths do the same (green) pathway work.
KINDS = (("29463-7", 80.0, "kg"), ("8867-4", 70, "/min"), ("59408-5", 97, "%"))


def _times(n: int, start: datetime) -> list[datetime]:
    return [start + timedelta(minutes=17 * i) for i in range(n)]


def fhir_bundle_payload(
    n: int, patient_ref: str, *, start: datetime | None = None, kind: str = "transaction"
) -> dict[str, Any]:
    """A Bundle of ``n`` Observations (weight, heart rate, SpO2 in turn) about ``patient_ref``."""
    start = start or datetime.now(UTC) - timedelta(days=30)
    entries = []
    for i, when in enumerate(_times(n, start)):
        code, value, unit = KINDS[i % len(KINDS)]
        resource = {
            "resourceType": "Observation",
            "identifier": [{"system": "urn:example:bench", "value": str(uuid.uuid4())}],
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                            "code": "vital-signs",
                        }
                    ]
                }
            ],
            "code": {"coding": [{"system": LOINC, "code": code}]},
            "subject": {"reference": patient_ref},
            "effectiveDateTime": when.isoformat(),
            "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
        }
        entries.append({"resource": resource, "request": {"method": "POST", "url": "Observation"}})
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


_VITALS = {
    "weight": ("29463-7", "kg"),
    "heart_rate": ("8867-4", "/min"),
    "spo2": ("59408-5", "%"),
}
_VITAL_SIGNS = [
    {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                "code": "vital-signs",
            }
        ]
    }
]
_ANSWERS = "https://mhf-home.example/fhir/CodeSystem/symptom-answer"


def as_fhir(reading: dict[str, Any], patient_ref: str) -> dict[str, Any]:
    """A native reading (``bench.ingest.backlog``) as the FHIR resource an app would send."""
    common: dict[str, Any] = {
        "identifier": [{"system": "urn:example:bench", "value": str(reading["id"])}],
        "subject": {"reference": patient_ref},
    }
    if reading["type"] == "symptoms":
        items = [
            {"linkId": k, "answer": [{"valueBoolean": v}]}
            if isinstance(v, bool)
            else {"linkId": k, "answer": [{"valueCoding": {"system": _ANSWERS, "code": v}}]}
            for k, v in reading["answers"].items()
        ]
        return {
            "resourceType": "QuestionnaireResponse",
            "identifier": common["identifier"][0],
            "questionnaire": "https://mhf-home.example/fhir/Questionnaire/mhf-symptoms",
            "status": "completed",
            "subject": common["subject"],
            "authored": reading["taken_at"],
            "item": items,
        }
    out: dict[str, Any] = {
        "resourceType": "Observation",
        **common,
        "status": "final",
        "category": _VITAL_SIGNS,
        "effectiveDateTime": reading["taken_at"],
    }
    if reading["type"] == "blood_pressure":
        out["code"] = {"coding": [{"system": LOINC, "code": "85354-9"}]}
        out["component"] = [
            {
                "code": {"coding": [{"system": LOINC, "code": code}]},
                "valueQuantity": {
                    "value": reading[name],
                    "unit": "mmHg",
                    "system": UCUM,
                    "code": "mm[Hg]",
                },
            }
            for name, code in (("systolic", "8480-6"), ("diastolic", "8462-4"))
        ]
        return out
    code, unit = _VITALS[reading["type"]]
    out["code"] = {"coding": [{"system": LOINC, "code": code}]}
    out["valueQuantity"] = {"value": reading["value"], "unit": unit, "system": UCUM, "code": unit}
    return out


def as_fhir_bundle(
    readings: list[dict[str, Any]], patient_ref: str, kind: str = "transaction"
) -> dict[str, Any]:
    entries = []
    for reading in readings:
        resource = as_fhir(reading, patient_ref)
        request = {"method": "POST", "url": resource["resourceType"]}
        entries.append({"resource": resource, "request": request})
    return {"resourceType": "Bundle", "type": kind, "entry": entries}


def native_batch_payload(n: int, *, start: datetime) -> dict[str, Any]:
    types = {"29463-7": "weight", "8867-4": "heart_rate", "59408-5": "spo2"}
    readings = []
    for i, when in enumerate(_times(n, start)):
        code, value, unit = KINDS[i % len(KINDS)]
        readings.append(
            {
                "id": str(uuid.uuid4()),
                "type": types[code],
                "taken_at": when.isoformat(),
                "value": value,
                "unit": unit,
            }
        )
    return {"readings": readings}


# --- server: the lead's bench/common.py helpers (same uvicorn start as bench/ingest.py) -----


@contextmanager
def live_server(url: str, secret: str) -> Iterator[str]:
    env = {"MHF_DATABASE_URL": url, "MHF_SECRET_KEY": secret, "MHF_LOG_LEVEL": "WARNING"}
    env["MHF_DEVICE_RATE_LIMIT"] = str(10**9)  # a few devices post flat out (bench/ingest.py)
    subprocess.run(
        [str(BIN / "mhf"), "migrate"], env={**os.environ, **env}, check=True, capture_output=True
    )
    with server("service.app:app_factory", env) as base:
        yield base


def seed(url: str, count: int) -> list[tuple[uuid.UUID, str]]:
    """A site, a team and ``count`` patients with device tokens, written directly."""
    now = datetime.now(UTC)
    numbers = ["9434765919", "9434765870", "9434765897", "9434765846"]
    out = []
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as s:
        site = Site(id=uuid.uuid4(), code=f"B{uuid.uuid4().hex[:6]}", name="Bench", created_at=now)
        s.add(site)
        s.flush()
        team = Team(id=uuid.uuid4(), site_id=site.id, name="Bench team", created_at=now)
        s.add(team)
        s.flush()
        for number in numbers[:count]:
            patient = Patient(
                id=uuid.uuid4(),
                nhs_number=number,
                date_of_birth=datetime(1950, 1, 1).date(),
                sex="female",
                team_id=team.id,
                cohort="post_discharge",
                enrolled_on=now.date(),
                status="active",
                expects_daily_weight=False,
                thresholds={},
                version=1,
                created_at=now,
            )
            s.add(patient)
            s.flush()
            token = new_device_token()
            s.add(
                DeviceToken(
                    id=uuid.uuid4(),
                    patient_id=patient.id,
                    token_hash=hash_device_token(token),
                    created_at=now,
                )
            )
            out.append((patient.id, token))
    engine.dispose()
    return out


def throughput(
    base: str, path: str, token: str, payloads: list[dict[str, Any]], content_type: str
) -> tuple[float, float]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": content_type}
    readings = 0
    latencies = []
    with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
        started = time.perf_counter()
        for payload in payloads:
            t0 = time.perf_counter()
            response = client.post(path, content=json.dumps(payload))
            latencies.append(time.perf_counter() - t0)
            if response.status_code not in (200, 201):
                raise RuntimeError(f"{path}: {response.status_code} {response.text[:300]}")
            readings += len(payload.get("entry") or payload.get("readings"))
        elapsed = time.perf_counter() - started
    return readings / elapsed, statistics.median(latencies) * 1000


def in_process(size: int, repeat: int) -> dict[str, float]:
    """Milliseconds per Bundle of ``size`` for each step of the FHIR path before the database."""
    payload = fhir_bundle_payload(size, f"Patient/{uuid.uuid4()}")
    raw = json.dumps(payload).encode()

    def best(fn: Any) -> float:
        runs = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            runs.append(time.perf_counter() - t0)
        return min(runs) * 1000

    compiled = parse.parse_bundle(payload)

    def translate() -> None:
        for i, resource in enumerate(e.resource for e in compiled.entries):
            ingest.map_resource(resource, f"Bundle.entry[{i}].resource", EntryKey(where=""))

    return {
        "one pass from the bytes (inbound_fast, what the route runs)": best(
            lambda: inbound_fast.bundle(raw, size)
        ),
        "json.loads": best(lambda: json.loads(raw)),
        "Bundle.model_validate (fhir.resources R4B, the reference)": best(
            lambda: Bundle.model_validate(json.loads(raw))
        ),
        "parse_bundle (compiled inbound models)": best(lambda: parse.parse_bundle(json.loads(raw))),
        "translate to native inputs": best(translate),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--size", type=int, default=100, help="readings per Bundle / batch")
    args = parser.parse_args()
    secret = "bench-secret-" + "x" * 40
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("MHF_DATABASE_URL") or f"sqlite:///{tmp}/bench.db"
        with live_server(url, secret) as base:
            (fhir_patient, fhir_token), (_native_patient, native_token) = seed(url, 2)
            # Each batch covers its own stretch of the last 300 days, so nothing collides.
            origin = datetime.now(UTC) - timedelta(days=300)
            span = timedelta(minutes=17 * args.size + 60)
            fhir_payloads = [
                fhir_bundle_payload(args.size, f"Patient/{fhir_patient}", start=origin + i * span)
                for i in range(args.batches)
            ]
            native_payloads = [
                native_batch_payload(args.size, start=origin + i * span)
                for i in range(args.batches)
            ]
            # Warm both paths (imports, connection pool) outside the measurement.
            warm = datetime.now(UTC) - timedelta(days=340)
            throughput(
                base,
                "/fhir",
                fhir_token,
                [fhir_bundle_payload(3, f"Patient/{fhir_patient}", start=warm)],
                "application/fhir+json",
            )
            throughput(
                base,
                "/api/v1/me/readings",
                native_token,
                [native_batch_payload(3, start=warm)],
                "application/json",
            )
            fhir_rate, fhir_ms = throughput(
                base, "/fhir", fhir_token, fhir_payloads, "application/fhir+json"
            )
            native_rate, native_ms = throughput(
                base, "/api/v1/me/readings", native_token, native_payloads, "application/json"
            )
    print(f"{args.batches} batches of {args.size} readings, one client, {url.split(':', 1)[0]}")
    print(
        f"  native JSON batch  {native_rate:8.0f} readings/s   median {native_ms:7.1f} ms per batch"
    )
    print(f"  FHIR Bundle        {fhir_rate:8.0f} readings/s   median {fhir_ms:7.1f} ms per Bundle")
    steps = in_process(args.size, repeat=20)
    print(f"in process, per Bundle of {args.size} (best of 20):")
    for name, ms in steps.items():
        print(
            f"  {name:60s} {ms:7.2f} ms  ({ms / fhir_ms * 100:4.1f} % of the median FHIR request)"
        )


if __name__ == "__main__":
    main()
