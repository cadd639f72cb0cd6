"""End to end: a Bundle built with a real FHIR client library (``fhirclient`` models), posted to a
live ``mhf serve`` on a temporary SQLite database migrated with ``mhf migrate``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fhirclient.models.bundle import Bundle, BundleEntry, BundleEntryRequest
from fhirclient.models.codeableconcept import CodeableConcept
from fhirclient.models.coding import Coding
from fhirclient.models.fhirdatetime import FHIRDateTime
from fhirclient.models.fhirreference import FHIRReference
from fhirclient.models.identifier import Identifier
from fhirclient.models.observation import Observation, ObservationComponent
from fhirclient.models.quantity import Quantity
from sqlalchemy import select

from service.db import build_engine, build_sessionmaker, unit_of_work
from service.identity.security import issue_access_token, token_settings
from service.models import Alert, Reading, Site, Team
from service.settings import Settings
from tests.fhir.helpers import parse
from tests.support.factories import NHS_NUMBERS, make_device_token, make_patient, make_user
from tests.support.world import SECRET

BIN = Path(sys.executable).parent
UCUM, LOINC = "http://unitsofmeasure.org", "http://loinc.org"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('live') / 'mhf.db'}"
    env = {
        **os.environ,
        "MHF_DATABASE_URL": url,
        "MHF_SECRET_KEY": SECRET,
        "MHF_LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(BIN / "mhf"), "migrate"], env=env, check=True, capture_output=True)
    now = datetime.now(UTC)
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as s:
        site = Site(id=uuid.uuid4(), code="LIVE", name="Live site", created_at=now)
        s.add(site)
        s.flush()
        team = Team(id=uuid.uuid4(), site_id=site.id, name="Live team", created_at=now)
        s.add(team)
        s.flush()
        clinician = make_user(s, "live_clin", "clinician", [team.id])
        patient = make_patient(s, NHS_NUMBERS[3], team.id)
        device = make_device_token(s, patient)
    settings = Settings(database_url=url, secret_key=SECRET)
    staff = issue_access_token(token_settings(settings), clinician, "clinician", now)
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "mhf"), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"mhf serve did not start: {server.stderr.read().decode(errors='replace') if server.stderr else ''}"
                )
            time.sleep(0.1)
        yield {"base": base, "patient": patient, "device": device, "staff": staff, "engine": engine}
    finally:
        server.terminate()
        server.wait(timeout=10)
        engine.dispose()


def _quantity(value: float, code: str, unit: str | None = None) -> Quantity:
    q = Quantity()
    q.value, q.unit, q.system, q.code = value, unit or code, UCUM, code
    return q


def _concept(code: str) -> CodeableConcept:
    coding = Coding()
    coding.system, coding.code = LOINC, code
    concept = CodeableConcept()
    concept.coding = [coding]
    return concept


def _observation(patient: uuid.UUID, code: str, when: datetime, ident: str) -> Observation:
    obs = Observation()
    obs.status = "final"
    obs.code = _concept(code)
    obs.subject = FHIRReference()
    obs.subject.reference = f"Patient/{patient}"
    obs.effectiveDateTime = FHIRDateTime(when.isoformat())
    identifier = Identifier()
    identifier.system, identifier.value = "urn:example:live-hub", ident
    obs.identifier = [identifier]
    return obs


def client_bundle(patient: uuid.UUID, now: datetime) -> Bundle:
    weight = _observation(patient, "29463-7", now - timedelta(hours=3), "w1")
    weight.valueQuantity = _quantity(185, "[lb_av]", "lbs")
    bp = _observation(patient, "85354-9", now - timedelta(hours=3), "bp1")
    components = []
    for code, value in (("8480-6", 107), ("8462-4", 60)):
        component = ObservationComponent()
        component.code = _concept(code)
        component.valueQuantity = _quantity(value, "mm[Hg]", "mmHg")
        components.append(component)
    bp.component = components
    pulses = []
    for i, minutes in enumerate((60, 20)):
        pulse = _observation(patient, "8867-4", now - timedelta(minutes=minutes), f"hr{i}")
        pulse.valueQuantity = _quantity(44, "/min")
        pulses.append(pulse)
    spo2 = _observation(patient, "59408-5", now - timedelta(minutes=10), "spo2")
    spo2.valueQuantity = _quantity(91, "%")
    bundle = Bundle()
    bundle.type = "transaction"
    entries = []
    for resource in (weight, bp, *pulses, spo2):
        entry = BundleEntry()
        entry.fullUrl = f"urn:uuid:{uuid.uuid4()}"
        entry.resource = resource
        entry.request = BundleEntryRequest()
        entry.request.method, entry.request.url = "POST", "Observation"
        entries.append(entry)
    bundle.entry = entries
    return bundle


def test_fhirclient_bundle_on_a_live_server(live):
    base, patient = live["base"], live["patient"]
    payload = client_bundle(patient, datetime.now(UTC)).as_json()
    device = {"Authorization": f"Bearer {live['device']}", "Content-Type": "application/fhir+json"}
    response = httpx.post(f"{base}/fhir", json=payload, headers=device, timeout=30)
    assert response.status_code == 200, response.text
    result = parse(response)
    assert [e.response.status for e in result.entry] == ["201 Created"] * 5
    # The client library reads the answer back too.
    assert Bundle(response.json()).type == "transaction-response"
    # A retry of the same Bundle is answered the same and stores nothing new.
    again = httpx.post(f"{base}/fhir", json=payload, headers=device, timeout=30)
    assert [e.response.status for e in parse(again).entry] == ["200 OK"] * 5
    with build_sessionmaker(live["engine"])() as s:
        readings = {
            r.type: r for r in s.scalars(select(Reading).where(Reading.patient_id == patient))
        }
        assert len(list(s.scalars(select(Reading).where(Reading.patient_id == patient)))) == 5
        found = {
            (a.rule_id, a.severity)
            for a in s.scalars(select(Alert).where(Alert.patient_id == patient))
        }
    assert readings["weight"].value == pytest.approx(83.91, abs=0.005)
    assert (readings["blood_pressure"].systolic, readings["blood_pressure"].diastolic) == (107, 60)
    assert readings["heart_rate"].value == 44 and readings["spo2"].value == 91
    assert ("amber.pulse", "amber") in found and ("red.spo2", "red") in found
    staff = {"Authorization": f"Bearer {live['staff']}"}
    flags = parse(httpx.get(f"{base}/fhir/Flag?subject=Patient/{patient}", headers=staff))
    assert {e.resource.code.coding[0].code for e in flags.entry} >= {"amber.pulse", "red.spo2"}
    assert parse(httpx.get(f"{base}/fhir/metadata")).fhirVersion == "4.0.1"
