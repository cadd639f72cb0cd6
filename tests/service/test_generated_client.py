"""A client generated from the committed OpenAPI document works against the app.

``openapi-python-client`` (the maintained Python generator) builds a client from
``openapi/openapi.json`` into a temporary directory once per run, as an app developer would; the
test then posts a batch with it, re-sends it, reads the readings back and receives typed errors,
against the app in this process (its ``TestClient`` is the httpx client the generated one uses).

It fails when the document and the app disagree: the generated models read answers strictly (a
required member missing is a ``KeyError``, an undocumented error code a ``ValueError``), an
undocumented status raises ``UnexpectedStatus``, and ``test_a_disagreement_is_caught`` shows one.
Generated at test time rather than committed: nothing to keep in step, and the committed document
is already held to the app by ``test_openapi_document_is_current``.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.support.clock import T0

ROOT = Path(__file__).resolve().parents[2]
GENERATOR = Path(sys.executable).parent / "openapi-python-client"


def _generate(document: Path, out: Path, package: str) -> ModuleType:
    config = out.parent / "generator.json"
    # No post hooks: formatting the generated code is not what is tested, and costs seconds.
    config.write_text(json.dumps({"post_hooks": [], "package_name_override": package}))
    command: list[str | Path] = [GENERATOR, "generate", "--path", document, "--output-path", out]
    subprocess.run(
        [*command, "--meta", "none", "--config", config],
        check=True,
        capture_output=True,
        timeout=120,
    )
    sys.path.insert(0, str(out.parent))
    try:
        return importlib.import_module(package)
    finally:
        sys.path.remove(str(out.parent))


@pytest.fixture(scope="module")
def mhf_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    out = tmp_path_factory.mktemp("generated") / "mhf_client"
    yield _generate(ROOT / "openapi" / "openapi.json", out, "mhf_client")


def _api(name: str, package: str = "mhf_client") -> Any:
    return importlib.import_module(f"{package}.api.readings.{name}")


def _models(package: str = "mhf_client") -> Any:
    return importlib.import_module(f"{package}.models")


def _connected(generated: ModuleType, client: Any, token: str) -> Any:
    api = generated.AuthenticatedClient(
        base_url="http://testserver", token=token, raise_on_unexpected_status=True
    )
    client.headers["Authorization"] = f"Bearer {token}"
    return api.set_httpx_client(client)


def test_a_patient_app_built_from_the_document(
    mhf_client: ModuleType, client: Any, world: Any
) -> None:
    models = _models()
    post = _api("post_my_readings_api_v1_me_readings_post")
    listing = _api("get_my_readings_api_v1_me_readings_get")
    api = _connected(mhf_client, client, world.device_tokens["pat_A1"])
    day = timedelta(days=1)
    batch = models.ReadingBatchIn(
        readings=[
            models.WeightIn(
                id=uuid.uuid4(),
                taken_at=T0 - 2 * day,
                type_="weight",
                value=176.4,
                unit=models.WeightInUnit.LB,
            ),
            models.Spo2In(id=uuid.uuid4(), taken_at=T0 - day, type_="spo2", value=96),
            models.BloodPressureIn(
                id=uuid.uuid4(),
                taken_at=T0 - day,
                type_="blood_pressure",
                systolic=121,
                diastolic=74,
            ),
        ]
    )

    first = post.sync_detailed(client=api, body=batch)
    assert first.status_code == 201
    assert isinstance(first.parsed, models.IngestOut)
    stored = {r.type_: r for r in first.parsed.stored}
    assert sorted(stored) == ["blood_pressure", "spo2", "weight"]
    assert (stored["weight"].value, stored["weight"].unit) == (80.01, "kg")

    again = post.sync_detailed(client=api, body=batch)
    assert again.status_code == 200
    assert isinstance(again.parsed, models.IngestOut)
    assert again.parsed.stored == [] and len(again.parsed.already_stored) == 3

    page = listing.sync(client=api)
    assert isinstance(page, models.PageReadingOut)
    assert {r.id for r in page.items} == {r.id for r in batch.readings}

    impossible = models.Spo2In(id=uuid.uuid4(), taken_at=T0 - day, type_="spo2", value=30)
    refused = post.sync_detailed(
        client=api, body=models.ReadingBatchIn(readings=[impossible, impossible])
    )
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Problem)
    assert [(e.pointer, e.code) for e in refused.parsed.errors] == [
        ("/readings/0/value", models.ErrorCode.OUT_OF_RANGE),
        ("/readings/1/id", models.ErrorCode.DUPLICATE_ID),
        ("/readings/1/value", models.ErrorCode.OUT_OF_RANGE),
    ]

    reused = models.WeightIn(id=batch.readings[0].id, taken_at=T0 - day, type_="weight", value=70)
    conflict = post.sync_detailed(client=api, body=reused)
    assert conflict.status_code == 409
    assert isinstance(conflict.parsed, models.Problem)
    assert conflict.parsed.errors[0].code == models.ErrorCode.DUPLICATE_ID
    assert conflict.parsed.errors[0].pointer == "/id"


@pytest.fixture(scope="module")
def doctored_client(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    """A client of a document promising a member of IngestOut the app does not send."""
    document = json.loads((ROOT / "openapi" / "openapi.json").read_text())
    ingest = document["components"]["schemas"]["IngestOut"]
    ingest["properties"]["receipt"] = {"type": "string"}
    ingest["required"].append("receipt")
    out = tmp_path_factory.mktemp("doctored")
    (out / "openapi.json").write_text(json.dumps(document))
    return _generate(out / "openapi.json", out / "doctored_client", "doctored_client")


def test_a_disagreement_is_caught(doctored_client: ModuleType, client: Any, world: Any) -> None:
    post = _api("post_my_readings_api_v1_me_readings_post", "doctored_client")
    models = _models("doctored_client")
    api = _connected(doctored_client, client, world.device_tokens["pat_A1"])
    one = models.Spo2In(id=uuid.uuid4(), taken_at=T0 - timedelta(hours=1), type_="spo2", value=97)
    with pytest.raises(KeyError, match="receipt"):
        post.sync_detailed(client=api, body=one)
