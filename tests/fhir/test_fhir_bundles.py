"""Bundles with bad entries, as FHIR R4 says (http.html#transaction): a batch answers per entry,
a transaction all or nothing; oversized, deep and unknown input is a 4xx OperationOutcome."""

from __future__ import annotations

import json
import uuid
from typing import get_args

from service.fhir.inbound import id_from_identifier
from service.fhir.problem_codes import SYSTEM
from service.fhir.problem_codes import Code as FhirCode
from service.problem_codes import ErrorCode
from tests.fhir.helpers import (
    FHIR_JSON,
    bundle,
    entry,
    issues,
    parse,
    post,
    quantity_obs,
    rows,
    symptoms,
)


def machine_codes(found):
    return [(i.expression[0] if i.expression else None, i.details.coding[0].code) for i in found]


def test_a_batch_answers_each_entry_and_stores_the_good_ones(client, world):
    pid, other = world.patients["pat_A1"], world.patients["pat_A2"]
    reused = quantity_obs("8867-4", 70, "/min", pid, hours=5, identifier="hr-1")
    assert post(client, world, reused).status_code == 201
    changed = quantity_obs("8867-4", 71, "/min", pid, hours=5, identifier="hr-1")
    bad_value = quantity_obs("29463-7", 80, "kg", pid, hours=3)
    bad_value["valueQuantity"]["value"] = "eighty"
    twice = quantity_obs("59408-5", 96, "%", pid, hours=2, identifier="s-1")
    body = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            entry(quantity_obs("29463-7", 80, "kg", pid, hours=4)),  # stored
            entry(bad_value),  # 400: not FHIR
            entry(quantity_obs("29463-7", 80, "[oz_av]", pid, hours=3)),  # 422: unit
            entry(quantity_obs("29463-7", 900, "kg", pid, hours=2)),  # 422: implausible
            entry(quantity_obs("29463-7", 81, "kg", other, hours=2)),  # 404: not theirs
            entry(changed),  # 409: identity reused
            entry(twice),  # stored
            entry(twice),  # 422: the same id twice in one Bundle
            entry(symptoms(pid, hours=1)),  # stored
            {"resource": {"resourceType": "Foo"}, "request": {"method": "POST", "url": "Foo"}},
        ],
    }
    response = post(client, world, body)
    assert response.status_code == 200, response.text
    result = parse(response)
    assert result.type == "batch-response"
    statuses = [e.response.status for e in result.entry]
    assert statuses == [
        "201 Created",
        "400 Bad Request",
        "422 Unprocessable Entity",
        "422 Unprocessable Entity",
        "404 Not Found",
        "409 Conflict",
        "201 Created",
        "422 Unprocessable Entity",
        "201 Created",
        "400 Bad Request",
    ]
    outcomes = {i: e.response.outcome for i, e in enumerate(result.entry) if e.response.outcome}
    assert sorted(outcomes) == [1, 2, 3, 4, 5, 7, 9]
    assert machine_codes(outcomes[1].issue) == [
        ("Bundle.entry[1].resource.valueQuantity.value", "invalid_value")
    ]
    assert machine_codes(outcomes[2].issue) == [
        ("Bundle.entry[2].resource.value.ofType(Quantity).code", "unknown_unit")
    ]
    assert machine_codes(outcomes[3].issue) == [
        ("Bundle.entry[3].resource.value.ofType(Quantity).value", "out_of_range")
    ]
    assert outcomes[4].issue[0].code == "not-found"
    assert machine_codes(outcomes[5].issue) == [
        ("Bundle.entry[5].resource.identifier[0]", "duplicate_id")
    ]
    assert machine_codes(outcomes[7].issue) == [
        ("Bundle.entry[7].resource.identifier[0]", "duplicate_id")
    ]
    assert machine_codes(outcomes[9].issue) == [
        ("Bundle.entry[9].resource.resourceType", "unknown_type")
    ]
    assert outcomes[9].issue[0].details.coding[0].system == SYSTEM
    stored = {(r.type, r.value) for r in rows(world)}
    assert stored == {("heart_rate", 70), ("weight", 80), ("spo2", 96), ("symptoms", None)}
    assert rows(world, "pat_A2") == []


def test_a_batch_whose_entries_all_fail_is_still_200(client, world):
    pid = world.patients["pat_A1"]
    body = bundle([quantity_obs("29463-7", 80, "[oz_av]", pid)], "batch")
    response = post(client, world, body)
    assert response.status_code == 200
    assert [e.response.status for e in parse(response).entry] == ["422 Unprocessable Entity"]
    assert rows(world) == []


def test_a_transaction_with_a_bad_entry_is_refused_whole_naming_it(client, world):
    pid = world.patients["pat_A1"]
    good = quantity_obs("29463-7", 80, "kg", pid, hours=2)
    for bad, status, where, code in [
        (
            quantity_obs("29463-7", 900, "kg", pid),
            422,
            "Bundle.entry[1].resource.value.ofType(Quantity).value",
            "out_of_range",
        ),
        (
            {**quantity_obs("29463-7", 80, "kg", pid), "colour": "blue"},
            400,
            "Bundle.entry[1].resource.colour",
            "unknown_field",
        ),
        (
            {**quantity_obs("29463-7", 80, "kg", pid), "effectiveDateTime": "2026-11-19T10:00"},
            400,
            "Bundle.entry[1].resource.effectiveDateTime",
            "invalid_value",
        ),
        (
            {"resourceType": "Foo"},
            400,
            "Bundle.entry[1].resource.resourceType",
            "unknown_type",
        ),
    ]:
        response = post(client, world, bundle([good, bad]))
        assert response.status_code == status, response.text
        assert machine_codes(issues(response)) == [(where, code)]
    future = quantity_obs("29463-7", 80, "kg", pid, hours=-3)
    response = post(client, world, bundle([good, future]))
    assert response.status_code == 422
    assert machine_codes(issues(response)) == [
        ("Bundle.entry[1].resource.effective", "future_time")
    ]
    assert rows(world) == []


def test_unknown_resource_types_are_4xx_never_500(client, world):
    """A transaction or a single resource is refused whole; a batch refuses the entry."""
    headers = {**world.auth("pat_A1"), "Content-Type": FHIR_JSON}
    for resource in ({"resourceType": "Foo"}, {}, {"resourceType": 5}, {"resourceType": None}):
        for path, body in [
            ("/fhir/Observation", resource),
            (
                "/fhir",
                {
                    "resourceType": "Bundle",
                    "type": "transaction",
                    "entry": [{"resource": resource, "request": {"method": "POST", "url": "x"}}],
                },
            ),
        ]:
            response = client.post(path, json=body, headers=headers)
            assert response.status_code == 400, response.text
            parse(response)
        batch = {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": resource}]}
        response = client.post("/fhir", json=batch, headers=headers)
        assert response.status_code == 200, response.text
        (answer,) = parse(response).entry
        assert answer.response.status.startswith("4")
        assert answer.response.outcome.issue[0].details.coding[0].code in {
            "unknown_type",
            "missing",
        }


def test_huge_bundles_are_refused_by_entry_count_and_byte_size(client, world, settings):
    pid = world.patients["pat_A1"]
    many = bundle(
        [quantity_obs("29463-7", 80, "kg", pid, hours=i / 100) for i in range(501)], "batch"
    )
    response = post(client, world, many)
    assert response.status_code == 422
    assert machine_codes(issues(response)) == [("Bundle.entry", "too_large")]
    padded = bundle([quantity_obs("29463-7", 80, "kg", pid)], "batch")
    padded["entry"][0]["resource"]["code"]["text"] = "x" * settings.max_body_bytes
    response = client.post(
        "/fhir",
        content=json.dumps(padded).encode(),
        headers={**world.auth("pat_A1"), "Content-Type": FHIR_JSON},
    )
    assert response.status_code == 413 and issues(response)[0].code == "too-costly"
    assert rows(world) == []


def test_deep_nesting_and_bad_json_carry_machine_codes(client, world):
    headers = {**world.auth("pat_A1"), "Content-Type": FHIR_JSON}
    deep = client.post("/fhir", content=b"[" * 1000 + b"]" * 1000, headers=headers)
    assert deep.status_code == 400
    assert machine_codes(issues(deep)) == [(None, "too_large")]
    broken = client.post("/fhir", content=b'{"resourceType": "Bundle",', headers=headers)
    assert broken.status_code == 400
    assert machine_codes(issues(broken)) == [(None, "malformed_json")]
    xml = client.post(
        "/fhir", content=b"<Bundle/>", headers={**headers, "Content-Type": "application/fhir+xml"}
    )
    assert xml.status_code == 415
    assert machine_codes(issues(xml)) == [(None, "unsupported_media_type")]


def test_a_batch_resent_gives_200_for_what_was_stored_and_stores_the_rest(client, world):
    pid = world.patients["pat_A1"]
    first = quantity_obs("8867-4", 70, "/min", pid, hours=3, identifier="a")
    body = bundle([first, quantity_obs("29463-7", 80, "[oz_av]", pid)], "batch")
    assert [e.response.status for e in parse(post(client, world, body)).entry] == [
        "201 Created",
        "422 Unprocessable Entity",
    ]
    body["entry"][1] = entry(quantity_obs("29463-7", 80, "kg", pid, hours=2))
    assert [e.response.status for e in parse(post(client, world, body)).entry] == [
        "200 OK",
        "201 Created",
    ]
    ids = {r.id for r in rows(world)}
    assert id_from_identifier("Observation", "urn:example:device-readings", "a") in ids
    assert len(ids) == 2 and all(isinstance(i, uuid.UUID) for i in ids)


def test_the_fhir_codes_are_the_patient_apis_vocabulary():
    """One vocabulary for both front doors: every machine code an OperationOutcome can carry
    is a documented code of the patient API (README "Errors")."""
    assert set(get_args(FhirCode)) <= {code.value for code in ErrorCode}
