"""The FHIR front door, in process, on every database engine."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

from service.fhir import codes
from service.fhir.inbound import id_from_identifier
from service.fhir.outcome import MAX_JSON_DEPTH, nesting_exceeds
from service.models import Alert, AuditEvent, Patient
from tests.fhir.helpers import (
    FHIR_JSON,
    as_ours,
    at,
    bundle,
    entry,
    example,
    issues,
    parse,
    post,
    quantity_obs,
    rows,
    symptoms,
)


def alerts(world, patient="pat_A1"):
    with world.app.state.sessions() as s:
        return {
            (a.rule_id, a.severity)
            for a in s.scalars(select(Alert).where(Alert.patient_id == world.patients[patient]))
        }


def audits(world):
    with world.app.state.sessions() as s:
        return s.scalar(select(func.count()).select_from(AuditEvent))


# --- conformance ---------------------------------------------------------------------------


def test_metadata_is_open_and_lists_what_is_supported(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    statement = parse(response)
    assert statement.fhirVersion == "4.0.1"
    rest = statement.rest[0]
    types = {r.type: r for r in rest.resource}
    assert set(types) == {
        "Observation",
        "QuestionnaireResponse",
        "Questionnaire",
        "Patient",
        "Flag",
        "Encounter",
        "MedicationStatement",
    }
    assert {i.code for i in rest.interaction} == {"batch", "transaction"}
    assert {p.name for p in types["Observation"].searchParam} >= {"subject", "code", "date"}
    assert types["Patient"].operation[0].name == "everything"


def test_questionnaire_needs_a_token_and_lists_the_native_answers(client, world):
    assert client.get("/fhir/Questionnaire/mhf-symptoms").status_code == 401
    response = client.get("/fhir/Questionnaire/mhf-symptoms", headers=world.auth("pat_A1"))
    questionnaire = parse(response)
    assert questionnaire.url == codes.QUESTIONNAIRE_URL
    link_ids = [i.linkId for i in questionnaire.item]
    assert link_ids[:6] == [
        "breathlessness",
        "orthopnoea",
        "ankle_swelling",
        "dizziness",
        "chest_pain",
        "fatigue",
    ]
    missing = client.get("/fhir/Questionnaire/other", headers=world.auth("pat_A1"))
    assert missing.status_code == 404 and issues(missing)[0].code == "not-found"


# --- the specification's own examples --------------------------------------------------------


SPEC = [
    ("body-weight", "weight", {"value": pytest.approx(185 * 0.45359237), "unit_as_sent": "lb"}),
    ("bloodpressure", "blood_pressure", {"systolic": 107, "diastolic": 60}),
    ("heart-rate", "heart_rate", {"value": 44}),
    ("satO2", "spo2", {"value": 95}),
]


@pytest.mark.parametrize(("name", "reading_type", "stored"), SPEC, ids=[s[0] for s in SPEC])
def test_spec_example_is_stored_once_in_service_units(client, world, name, reading_type, stored):
    resource = as_ours(example(name), world.patients["pat_A1"])
    first = post(client, world, resource)
    assert first.status_code == 201, first.text
    created = parse(first)
    assert first.headers["location"].endswith(f"/Observation/{created.id}/_history/1")
    again = post(client, world, resource)
    assert again.status_code == 200, again.text
    assert parse(again).id == created.id
    (row,) = rows(world)
    assert row.type == reading_type and row.source == "device"
    for column, value in stored.items():
        assert getattr(row, column) == value
    if reading_type == "weight":
        assert float(created.valueQuantity.value) == 83.91 and created.valueQuantity.code == "kg"
        assert created.note[0].text == "As sent: 185 lb"


def test_spec_examples_as_published_are_refused_with_reasons(client, world):
    """The spec's dates are too old (and mostly have no time): refused, never stored."""
    for name in ("body-weight", "satO2"):
        resource = example(name)
        resource["subject"] = {"reference": f"Patient/{world.patients['pat_A1']}"}
        response = post(client, world, resource)
        assert response.status_code == 422
        found = issues(response)
        assert any("Observation.effective" in (i.expression or [""])[0] for i in found), found
    assert rows(world) == []


def test_heart_rate_44_raises_amber_pulse_and_spo2_91_red(client, world):
    heart = as_ours(example("heart-rate"), world.patients["pat_A1"], hours=1)
    response = post(client, world, heart, Prefer="return=OperationOutcome")
    assert response.status_code == 201
    (advice,) = issues(response)
    # A borderline pulse is re-measured before it alerts (the pathway's rule, as on /api/v1).
    assert advice.severity == "information" and advice.details.coding[0].code == "remeasure"
    again = as_ours(example("heart-rate"), world.patients["pat_A1"], hours=0.5)
    response = post(client, world, again, Prefer="return=OperationOutcome")
    advice = issues(response)
    assert advice[0].details.coding[0].code == "amber_next_day"
    assert [(i.severity, i.details.coding[0].code) for i in advice[1:]] == [
        ("warning", "amber.pulse")
    ]
    spo2 = as_ours(example("satO2"), world.patients["pat_A1"])
    spo2["valueQuantity"]["value"] = 91
    assert post(client, world, spo2).status_code == 201
    assert alerts(world) == {("amber.pulse", "amber"), ("red.spo2", "red")}
    flags = parse(
        client.get(
            f"/fhir/Flag?subject=Patient/{world.patients['pat_A1']}", headers=world.auth("clin_A1")
        )
    )
    priorities = {
        f.resource.code.coding[0].code: f.resource.extension[0].valueCodeableConcept.coding[0].code
        for f in flags.entry
    }
    assert priorities == {"amber.pulse": "PM", "red.spo2": "PH"}


# --- units, codes and refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "kg"),
    [(82.4, "kg", 82.4), (82400, "g", 82.4), (13, "[stone_av]", 13 * 14 * 0.45359237)],
)
def test_weight_units_are_converted_to_kg(client, world, value, unit, kg):
    obs = quantity_obs("29463-7", value, unit, world.patients["pat_A1"])
    assert post(client, world, obs).status_code == 201
    assert rows(world)[0].value == pytest.approx(kg)


@pytest.mark.parametrize(
    ("change", "expression", "code"),
    [
        (
            {
                "valueQuantity": {
                    "value": 180,
                    "unit": "oz",
                    "system": "http://unitsofmeasure.org",
                    "code": "[oz_av]",
                }
            },
            "Observation.value.ofType(Quantity).code",
            "code-invalid",
        ),
        (
            {"valueQuantity": {"value": 80, "unit": "kg"}},
            "Observation.value.ofType(Quantity).system",
            "code-invalid",
        ),
        (
            {"code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]}},
            "Observation.code",
            "code-invalid",
        ),
        ({"status": "preliminary"}, "Observation.status", "not-supported"),
        ({"subject": {"reference": "Practitioner/1"}}, "Observation.subject.reference", "invalid"),
        (
            {
                "valueQuantity": {
                    "value": 900,
                    "unit": "kg",
                    "system": "http://unitsofmeasure.org",
                    "code": "kg",
                }
            },
            "Observation.value.ofType(Quantity).value",
            "value",
        ),
        ({"effectiveDateTime": at(-2)}, "Observation.effective", "value"),
    ],
    ids=["unit", "no-ucum", "code", "status", "subject", "implausible", "future"],
)
def test_unsupported_or_invalid_observations_are_refused(client, world, change, expression, code):
    obs = quantity_obs("29463-7", 80, "kg", world.patients["pat_A1"])
    obs.update(change)
    response = post(client, world, obs)
    assert response.status_code == 422, response.text
    found = issues(response)
    assert [(i.code, i.expression[0]) for i in found] == [(code, expression)], found
    assert rows(world) == []


def test_invalid_fhir_is_400_and_bad_json_too(client, world):
    bad = quantity_obs("29463-7", 80, "kg", world.patients["pat_A1"])
    bad["valueQuantity"]["value"] = "eighty"
    response = post(client, world, bad)
    assert response.status_code == 400
    assert "Observation.valueQuantity.value" in issues(response)[0].expression[0]
    broken = client.post(
        "/fhir/Observation",
        content=b"{not json",
        headers={**world.auth("pat_A1"), "Content-Type": FHIR_JSON},
    )
    assert broken.status_code == 400 and issues(broken)[0].code == "structure"
    xml = client.post(
        "/fhir/Observation",
        content=b"<Observation/>",
        headers={**world.auth("pat_A1"), "Content-Type": "application/fhir+xml"},
    )
    assert xml.status_code == 415


@pytest.mark.parametrize("path", ["/fhir/Observation", "/fhir/QuestionnaireResponse", "/fhir"])
@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"resourceType":"Observation","extension":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
    ],
    ids=["arrays", "in-a-resource", "objects"],
)
def test_a_body_nested_100k_deep_is_a_400_not_a_recursion_error(client, world, path, body):
    """Issue 18 finding 6: json.loads recursed until RecursionError, a 500; the depth is now
    bounded before parsing."""
    response = client.post(
        path, content=body, headers={**world.auth("pat_A1"), "Content-Type": FHIR_JSON}
    )
    assert response.status_code == 400, response.text[:300]
    assert issues(response)[0].code == "structure"


def test_nesting_depth_counts_arrays_and_objects_not_text():
    assert not nesting_exceeds(json.loads(b'{"note":"' + b"[" * 500 + b'"}'))
    deep = json.loads(b'{"a":"]","b":' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}")
    assert nesting_exceeds(deep)
    assert not nesting_exceeds(json.loads(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH))
    assert nesting_exceeds({"a": [{"b": []}]}, limit=3) and not nesting_exceeds([[]], limit=2)


# --- identity and idempotency ----------------------------------------------------------------


def test_identifier_maps_to_a_published_uuid5_and_reuse_is_409(client, world):
    obs = quantity_obs("8867-4", 70, "/min", world.patients["pat_A1"], identifier="r-1")
    assert post(client, world, obs).status_code == 201
    (row,) = rows(world)
    assert row.id == id_from_identifier("Observation", "urn:example:device-readings", "r-1")
    obs["valueQuantity"]["value"] = 71
    response = post(client, world, obs)
    assert response.status_code == 409 and issues(response)[0].code == "conflict"
    assert issues(response)[0].expression == ["Observation.identifier[0]"]
    assert [r.value for r in rows(world)] == [70]


def test_bundle_fullurl_and_ifnoneexist_make_resends_idempotent(client, world):
    pid = world.patients["pat_A1"]
    first = quantity_obs("8867-4", 70, "/min", pid, hours=3)
    second = quantity_obs("8867-4", 72, "/min", pid, hours=2)
    reading_uuid = uuid.uuid4()
    body = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            entry(first, fullUrl=f"urn:uuid:{reading_uuid}"),
            entry(second, request={"ifNoneExist": "identifier=urn:example:hub|abc"}),
        ],
    }
    response = post(client, world, body)
    assert response.status_code == 200, response.text
    result = parse(response)
    assert result.type == "batch-response"
    assert [e.response.status for e in result.entry] == ["201 Created", "201 Created"]
    again = parse(post(client, world, body))
    assert [e.response.status for e in again.entry] == ["200 OK", "200 OK"]
    ids = {r.id for r in rows(world)}
    assert ids == {reading_uuid, id_from_identifier("Observation", "urn:example:hub", "abc")}


def test_no_identifier_at_all_is_still_stored_once(client, world):
    obs = quantity_obs("59408-5", 96, "%", world.patients["pat_A1"])
    assert post(client, world, obs).status_code == 201
    assert post(client, world, obs).status_code == 200
    assert len(rows(world)) == 1


# --- bundles -------------------------------------------------------------------------------


def test_transaction_with_one_bad_entry_stores_nothing_and_names_each_problem(client, world):
    pid = world.patients["pat_A1"]
    body = bundle(
        [
            quantity_obs("29463-7", 80, "kg", pid, hours=3),
            quantity_obs("29463-7", 80, "[oz_av]", pid, hours=2),
            quantity_obs("8867-4", 400, "/min", pid, hours=1),
            symptoms(pid, breathlessness="sometimes"),
        ]
    )
    response = post(client, world, body)
    assert response.status_code == 422
    expressions = {i.expression[0] for i in issues(response)}
    assert expressions == {
        "Bundle.entry[1].resource.value.ofType(Quantity).code",
        "Bundle.entry[2].resource.value.ofType(Quantity).value",
        "Bundle.entry[3].resource.item[0].answer[0]",
    }
    assert rows(world) == []
    for kind in ("batch", "transaction"):
        assert (
            post(
                client, world, bundle(body["entry"][0:1] and [body["entry"][0]["resource"]], kind)
            ).status_code
            == 200
        )


def test_bundle_with_observations_and_symptoms_for_two_patients_by_nhs_number(client, world):
    a1, a2 = world.patients["pat_A1"], world.patients["pat_A2"]
    clin = "clin_A1"
    with world.app.state.sessions() as s:
        nhs_a1 = s.get(Patient, a1).nhs_number
    # clin_A1 cannot see pat_A2: the whole Bundle is 404 and nothing is stored.
    by_nhs = quantity_obs("29463-7", 81, "kg", a1)
    by_nhs["subject"] = {"identifier": {"system": codes.NHS_NUMBER, "value": nhs_a1}}
    hidden = quantity_obs("29463-7", 70, "kg", a2)
    response = post(client, world, bundle([by_nhs, hidden]), who=clin)
    assert response.status_code == 404 and issues(response)[0].code == "not-found"
    assert rows(world) == [] and rows(world, "pat_A2") == []
    # Three congestion signs today and worse ankles yesterday reach the symptom score (one
    # answer alone is held, mhf-2026.2; the score alerts at 3 points, mhf-2026.3).
    answers: dict[str, Any] = {
        "ankle_swelling": "worse",
        "orthopnoea": True,
        "breathlessness": "worse",
    }
    yesterday = symptoms(a1, hours=25, ankle_swelling="worse")
    body = bundle([by_nhs, yesterday, symptoms(a1, **answers)])
    before = audits(world)
    result = parse(post(client, world, body, who=clin, Prefer="return=representation"))
    assert [e.resource.get_resource_type() for e in result.entry] == [
        "Observation",
        "QuestionnaireResponse",
        "QuestionnaireResponse",
    ]
    assert {r.type for r in rows(world)} == {"weight", "symptoms"}
    assert {r.source for r in rows(world)} == {"clinician"}
    assert audits(world) == before + 1
    assert ("amber.symptoms_worse", "amber") in alerts(world)


def test_bundle_refuses_other_types_methods_and_too_many_entries(client, world, settings):
    pid = world.patients["pat_A1"]
    collection = bundle([quantity_obs("29463-7", 80, "kg", pid)], "collection")
    assert post(client, world, collection).status_code == 400
    put = bundle([quantity_obs("29463-7", 80, "kg", pid)])
    put["entry"][0]["request"]["method"] = "PUT"
    response = post(client, world, put)
    assert response.status_code == 422 and issues(response)[0].expression == [
        "Bundle.entry[0].request.method"
    ]
    many = bundle(
        [
            quantity_obs("29463-7", 80, "kg", pid, hours=i / 10)
            for i in range(settings.max_batch_readings + 1)
        ]
    )
    assert post(client, world, many).status_code == 422


def test_questionnaire_response_without_a_required_answer_is_refused(client, world):
    answers = symptoms(world.patients["pat_A1"])
    answers["item"] = answers["item"][1:]
    response = post(client, world, answers)
    assert response.status_code == 422
    assert "breathlessness" in issues(response)[0].diagnostics
    unknown = symptoms(world.patients["pat_A1"])
    unknown["item"].append({"linkId": "appetite", "answer": [{"valueBoolean": True}]})
    assert post(client, world, unknown).status_code == 422
    good = symptoms(world.patients["pat_A1"], breathlessness="at_rest")
    response = post(client, world, good)
    assert response.status_code == 201
    assert parse(response).item[0].answer[0].valueCoding.code == "at_rest"
    assert ("red.emergency_symptoms", "red") in alerts(world)


# --- who may do what -----------------------------------------------------------------------


def test_auth_errors_are_operation_outcomes(client, world):
    obs = quantity_obs("29463-7", 80, "kg", world.patients["pat_A1"])
    anonymous = client.post("/fhir/Observation", json=obs)
    assert anonymous.status_code == 401 and issues(anonymous)[0].code == "login"
    assert anonymous.headers["www-authenticate"] == "Bearer"
    for who in ("lead", "admin"):
        response = post(client, world, obs, who=who)
        assert response.status_code == 403 and issues(response)[0].code == "forbidden"
        search = client.get(
            f"/fhir/Observation?subject=Patient/{world.patients['pat_A1']}", headers=world.auth(who)
        )
        assert search.status_code == 403
    # Another patient's token, or a clinician of another team: 404, so ids cannot be probed.
    assert post(client, world, obs, who="pat_A2").status_code == 404
    assert post(client, world, obs, who="clin_B1").status_code == 404
    assert (
        client.get(
            f"/fhir/Patient/{world.patients['pat_A1']}", headers=world.auth("pat_A1")
        ).status_code
        == 403
    )
    assert (
        client.get(
            f"/fhir/Patient/{world.patients['pat_A1']}", headers=world.auth("clin_A2")
        ).status_code
        == 404
    )
    assert rows(world) == []


def test_unknown_paths_and_methods_are_operation_outcomes(client, world):
    response = client.get("/fhir/Practitioner", headers=world.auth("clin_A1"))
    assert response.status_code == 404 and issues(response)
    response = client.delete(
        f"/fhir/Patient/{world.patients['pat_A1']}", headers=world.auth("clin_A1")
    )
    assert response.status_code == 405 and issues(response)[0].code == "not-supported"


# --- reads and searches --------------------------------------------------------------------


def _seed(client, world, n=5):
    pid = world.patients["pat_A1"]
    body = bundle(
        [quantity_obs("29463-7", 80 + i / 10, "kg", pid, hours=24 * (n - i)) for i in range(n)]
    )
    body["entry"].append(entry(quantity_obs("8867-4", 70, "/min", pid, hours=2)))
    body["entry"].append(entry(symptoms(pid, hours=2)))
    assert post(client, world, body).status_code == 200


def test_observation_search_pages_and_filters(client, world):
    _seed(client, world)
    pid = world.patients["pat_A1"]
    url = f"/fhir/Observation?subject=Patient/{pid}&code=http://loinc.org|29463-7&_count=2"
    seen = []
    pages = 0
    while url:
        page = parse(client.get(url, headers=world.auth("clin_A1")))
        assert page.type == "searchset"
        seen += [float(e.resource.valueQuantity.value) for e in page.entry]
        links = {link.relation: link.url for link in page.link}
        url = links.get("next", "").replace("http://testserver", "")
        pages += 1
    assert seen == [80.0, 80.1, 80.2, 80.3, 80.4] and pages == 3
    latest = parse(
        client.get(
            "/fhir/Observation?code=29463-7&_sort=-date&_count=1", headers=world.auth("pat_A1")
        )
    )
    assert float(latest.entry[0].resource.valueQuantity.value) == 80.4
    recent = parse(
        client.get(
            f"/fhir/Observation?subject={pid}&date=ge{at(30)}".replace("+", "%2B"),
            headers=world.auth("clin_A1"),
        )
    )
    assert sorted(e.resource.code.coding[0].code for e in recent.entry) == ["29463-7", "8867-4"]
    day = parse(client.get("/fhir/Observation?date=2026-11-19", headers=world.auth("pat_A1")))
    assert [float(e.resource.valueQuantity.value) for e in day.entry] == [80.4]
    everything = parse(client.get("/fhir/Observation", headers=world.auth("pat_A1")))
    assert len(everything.entry) == 6  # symptoms are QuestionnaireResponses, not Observations
    answers = parse(client.get("/fhir/QuestionnaireResponse", headers=world.auth("pat_A1")))
    assert len(answers.entry) == 1


def test_search_refuses_unknown_parameters_and_foreign_patients(client, world):
    pid = world.patients["pat_A1"]
    response = client.get(
        f"/fhir/Observation?subject={pid}&value-quantity=gt80", headers=world.auth("clin_A1")
    )
    assert response.status_code == 400 and issues(response)[0].code == "not-supported"
    assert client.get("/fhir/Observation", headers=world.auth("clin_A1")).status_code == 400
    assert (
        client.get(f"/fhir/Observation?subject={pid}", headers=world.auth("pat_A2")).status_code
        == 404
    )
    assert (
        client.get(f"/fhir/Observation?subject={pid}", headers=world.auth("clin_B1")).status_code
        == 404
    )
    assert (
        client.get(
            f"/fhir/Observation?subject={pid}&date=xx2026", headers=world.auth("clin_A1")
        ).status_code
        == 400
    )


def test_read_observation_patient_and_everything_are_audited(client, world):
    _seed(client, world, n=2)
    pid = world.patients["pat_A1"]
    post(client, world, quantity_obs("8867-4", 45, "/min", pid, hours=0.5))
    created = parse(post(client, world, quantity_obs("8867-4", 45, "/min", pid, hours=0.25)))
    own = client.get(f"/fhir/Observation/{created.id}", headers=world.auth("pat_A1"))
    assert parse(own).id == created.id
    assert (
        client.get(f"/fhir/Observation/{created.id}", headers=world.auth("pat_A2")).status_code
        == 404
    )
    before = audits(world)
    assert (
        parse(client.get(f"/fhir/Observation/{created.id}", headers=world.auth("clin_A1"))).id
        == created.id
    )
    patient = parse(client.get(f"/fhir/Patient/{pid}", headers=world.auth("clin_A1")))
    assert patient.identifier[0].system == codes.NHS_NUMBER and patient.active is True
    bundle_ = parse(client.get(f"/fhir/Patient/{pid}/$everything", headers=world.auth("clin_A1")))
    kinds = [e.resource.get_resource_type() for e in bundle_.entry]
    assert kinds[0] == "Patient"
    assert kinds.count("Flag") == 1  # the amber pulse alert
    assert kinds.count("Observation") == 5 and kinds.count("QuestionnaireResponse") == 1
    flag_id = next(e.resource.id for e in bundle_.entry if e.resource.get_resource_type() == "Flag")
    assert (
        parse(client.get(f"/fhir/Flag/{flag_id}", headers=world.auth("clin_A1"))).status == "active"
    )
    assert client.get(f"/fhir/Flag/{flag_id}", headers=world.auth("clin_B1")).status_code == 404
    # Four reads, and the other team's refused probe, kept in the trail (issue 18 finding 8).
    assert audits(world) == before + 5
    with world.app.state.sessions() as s:
        refused = s.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).one()
    assert (refused.actor_id, refused.outcome) == (world.users["clin_B1"], "4")
    paged = parse(
        client.get(f"/fhir/Patient/{pid}/$everything?_count=2", headers=world.auth("clin_A1"))
    )
    assert any(link.relation == "next" for link in paged.link)
