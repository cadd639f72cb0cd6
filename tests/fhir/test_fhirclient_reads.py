"""A real FHIR client library (``fhirclient``, SMART on FHIR's Python client, strict R4 models)
reads the whole record from a live ``mhf serve``: every page of ``$everything`` and of a type
search, following the Bundle's next links itself. A resource fhirclient cannot parse fails it."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fhirclient.models.bundle import Bundle
from fhirclient.models.encounter import Encounter
from fhirclient.models.medicationstatement import MedicationStatement
from fhirclient.server import FHIRServer

from service.db import build_engine, build_sessionmaker, unit_of_work
from service.identity.security import issue_access_token, token_settings
from service.models import Site, Team
from service.settings import Settings
from tests.support.factories import NHS_NUMBERS, make_patient, make_user
from tests.support.fhir_record import seed_record
from tests.support.live import LIVE_SECRET, free_port, processes, run_mhf


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('fhirclient') / 'mhf.db'}"
    run_mhf(["migrate"], url)
    now = datetime.now(UTC)
    engine = build_engine(url)
    with unit_of_work(build_sessionmaker(engine)) as s:
        site = Site(id=uuid.uuid4(), code="FHIRC", name="Client site", created_at=now)
        s.add(site)
        s.flush()
        team = Team(id=uuid.uuid4(), site_id=site.id, name="Client team", created_at=now)
        s.add(team)
        s.flush()
        clinician = make_user(s, "fhirclient_clin", "clinician", [team.id])
        patient = make_patient(s, NHS_NUMBERS[4], team.id)
    engine.dispose()
    settings = Settings(database_url=url, secret_key=LIVE_SECRET)
    staff = issue_access_token(token_settings(settings), clinician, "clinician", now)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with processes(tmp_path_factory.mktemp("fhirclient-logs")) as procs:
        # The next links are built on the public address: the client follows them here.
        procs.server("api", url, port, MHF_PUBLIC_BASE_URL=base)
        headers = {"Authorization": f"Bearer {staff}"}
        with httpx.Client(base_url=base, timeout=30) as api:
            counts = seed_record(api, headers, patient)
        yield {"base": base, "patient": patient, "staff": staff, "counts": counts}


def _server(live: dict[str, Any]) -> FHIRServer:
    server = FHIRServer(None, base_uri=f"{live['base']}/fhir")
    # fhirclient signs requests only through its SMART OAuth flow; a bearer token the service
    # issued goes on the requests session it uses for every call.
    server.session.headers["Authorization"] = f"Bearer {live['staff']}"
    return server


def _pages(first: Bundle, server: FHIRServer) -> Iterator[Bundle]:
    """Every page, following each Bundle's next link through the client's public reads."""
    page: Bundle | None = first
    while page is not None:
        yield page
        after = next((link.url for link in page.link or [] if link.relation == "next"), None)
        page = Bundle.read_from(after, server) if after else None


def test_fhirclient_reads_all_of_everything(live):
    server = _server(live)
    first = Bundle.read_from(f"Patient/{live['patient']}/$everything?_count=3", server)
    pages = list(_pages(first, server))
    resources = [e.resource for page in pages for e in page.entry or []]
    assert len(pages) > 3
    kinds = Counter(r.resource_type for r in resources)
    kinds.pop("Flag", None)
    assert dict(kinds) == live["counts"]
    assert len({(r.resource_type, r.id) for r in resources}) == len(resources)
    patient = next(r for r in resources if r.resource_type == "Patient")
    assert patient.deceasedDateTime.as_json() == "2026-11-19"  # as sent: a date alone


def test_fhirclient_reads_a_searchset_page_by_page(live):
    server = _server(live)
    subject = f"Patient/{live['patient']}"
    search = Encounter.where(struct={"subject": subject, "_count": "1"})
    encounters = list(search.perform_resources_iter(server))
    assert len(encounters) == live["counts"]["Encounter"]
    assert {e.class_fhir.code for e in encounters} == {"HH", "IMP", "EMER"}
    statements = MedicationStatement.where(struct={"subject": subject}).perform_resources_iter(
        server
    )
    dosed = [s for s in list(statements) if s.dosage]
    assert dosed[0].dosage[0].doseAndRate[0].doseQuantity.code == "mg"
