"""Issue 18 findings 11 and 12: the Host header reflected nowhere and checked in production,
no-store and nosniff on the API, the API docs off in production and served without a CDN, and
the compose nginx terminating TLS."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from service.app import create_app
from service.settings import Settings
from tests.support.clock import T0
from tests.support.signin import page_login
from tests.support.world import SECRET, build_world

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://mhf.example.nhs.uk"


def _weight(world) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
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
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": f"Patient/{world.patients['pat_A1']}"},
        "effectiveDateTime": T0.isoformat(),
        "valueQuantity": {
            "value": 80,
            "unit": "kg",
            "system": "http://unitsofmeasure.org",
            "code": "kg",
        },
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{uuid.uuid4()}"}],
    }


@pytest.fixture
def public_app(db_url, clock):
    settings = Settings(
        database_url=db_url,
        secret_key=SECRET,
        environment="test",
        access_token_minutes=24 * 60,
        public_base_url=PUBLIC + "/",
    )
    return create_app(settings, clock=clock)


# --- finding 11: links from settings, hosts checked -----------------------------------------


def test_a_forged_host_header_is_not_reflected_into_fhir_links(public_app):
    with TestClient(public_app, raise_server_exceptions=False) as client:
        world = build_world(public_app, public_app.state.settings, public_app.state.clock)
        evil = {"Host": "evil.example", "X-Forwarded-Host": "evil.example"}
        made = client.post(
            "/fhir/Observation",
            json=_weight(world),
            headers={**world.auth("pat_A1"), "Content-Type": "application/fhir+json", **evil},
        )
        assert made.status_code == 201, made.text
        assert made.headers["location"].startswith(PUBLIC + "/fhir/Observation/")
        found = client.get(
            f"/fhir/Observation?subject=Patient/{world.patients['pat_A1']}&_count=1",
            headers={**world.auth("clin_A1"), **evil},
        )
        assert found.status_code == 200, found.text
        assert "evil.example" not in found.text
        assert all(link["url"].startswith(PUBLIC + "/fhir/") for link in found.json()["link"])
        metadata = client.get("/fhir/metadata", headers=evil)
        assert "evil.example" not in metadata.text


def _production(db_url: str, **extra) -> Settings:
    return Settings(
        database_url=db_url,
        secret_key=SECRET,
        environment="production",
        public_base_url=PUBLIC,
        **extra,
    )


def test_production_accepts_only_its_own_host_but_probes_from_anywhere(db_url):
    app = create_app(_production(db_url, allowed_hosts=["mhf-api.internal"]))
    with TestClient(app, raise_server_exceptions=False) as client:
        refused = client.get("/api/v1/pathway", headers={"Host": "evil.example"})
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"].endswith("/bad-host")
        for host in ("mhf.example.nhs.uk", "mhf-api.internal:8000"):
            assert client.get("/api/v1/pathway", headers={"Host": host}).status_code == 401
        assert client.get("/healthz", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_production_needs_an_https_public_address():
    with pytest.raises(ValidationError):
        Settings(environment="production", secret_key=SECRET, public_base_url="http://mhf.test")
    with pytest.raises(ValidationError):
        Settings(environment="test", secret_key=SECRET, public_base_url="mhf.test?x=1")


# --- finding 12: headers, docs, TLS ---------------------------------------------------------


def test_api_answers_are_not_stored_or_sniffed(client, world):
    pid = world.patients["pat_A1"]
    answers = [
        client.get("/api/v1/patients", headers=world.auth("clin_A1")),
        client.get(f"/api/v1/patients/{pid}", headers=world.auth("clin_A1")),
        client.get("/api/v1/me/readings", headers=world.auth("pat_A1")),
        client.get("/api/v1/alerts", headers=world.auth("clin_A1")),
        client.get(f"/fhir/Patient/{pid}", headers=world.auth("clin_A1")),
        client.get("/api/v1/patients"),  # 401
        client.post("/api/v1/me/readings", content=b"x" * (2 * 1024 * 1024)),  # 413
    ]
    for response in answers:
        assert response.headers.get("cache-control") == "no-store", response.request.url
        assert response.headers.get("x-content-type-options") == "nosniff", response.request.url


def test_the_pages_static_files_keep_their_own_caching(client):
    response = client.get("/ui/static/ui.css")
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["x-content-type-options"] == "nosniff"


def test_docs_are_off_in_production_unless_asked_for(db_url):
    with TestClient(create_app(_production(db_url)), base_url=PUBLIC) as client:
        for path in ("/docs", "/redoc", "/openapi.json", "/docs/assets/swagger-ui.css"):
            assert client.get(path).status_code == 404, path
    with TestClient(create_app(_production(db_url, api_docs=True)), base_url=PUBLIC) as client:
        assert client.get("/docs").status_code == 200
        assert client.get("/openapi.json").status_code == 200


def test_swagger_ui_is_served_from_the_package_not_a_cdn(client):
    page = client.get("/docs")
    assert page.status_code == 200
    sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert sources and all(s.startswith("/docs/assets/") for s in sources), sources
    # No address off this service anywhere in the page (a CDN, the bundle's public validator).
    assert not re.search(r"https?://|//[a-z]", page.text), page.text
    assert '"validatorUrl": null' in page.text
    for source in sources:
        asset = client.get(source)
        assert asset.status_code == 200 and asset.content, source
    assert client.get("/docs/oauth2-redirect").status_code == 200
    assert client.get("/redoc").status_code == 404  # its assets exist only on a CDN


def test_the_page_cookie_is_secure_when_the_service_is_public_over_https(db_url, clock):
    app = create_app(
        Settings(
            database_url=db_url,
            secret_key=SECRET,
            environment="test",
            public_base_url=PUBLIC,
            access_token_minutes=24 * 60,
        ),
        clock=clock,
    )
    # Plain http to the app, as behind the TLS-terminating proxy.
    with TestClient(app, raise_server_exceptions=False) as client:
        build_world(app, app.state.settings, clock)
        response = page_login(client, "clin_a1")
        cookie = response.headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie


def test_compose_nginx_terminates_tls_and_redirects_http():
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    assert re.search(r"listen 443 ssl", conf)
    assert re.search(r"ssl_certificate\s+/etc/nginx/tls/", conf)
    assert re.search(r"ssl_certificate_key\s+/etc/nginx/tls/", conf)
    assert re.search(r"return 301 https://\$host\$request_uri;", conf)
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in conf
    assert "Strict-Transport-Security" in conf
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    compose = (ROOT / "docker-compose.yml").read_text()
    assert '"443:443"' in compose and "./deploy/tls:/etc/nginx/tls:ro" in compose
    assert "MHF_PUBLIC_BASE_URL: ${MHF_PUBLIC_BASE_URL:?" in compose
