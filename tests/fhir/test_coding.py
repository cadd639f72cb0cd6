"""The coding table: one source in code, the same table in docs/coding.md, every local code of
each coded domain covered, and every concept id a well-formed SNOMED CT concept id. Medicines'
dm+d codes and doses through the API, on every database engine."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from alerts.lifecycle import Outcome
from service.coding.dmd import concept_id_problem, verhoeff_valid
from service.coding.dose import DOSE_UNITS, DoseUnitName
from service.coding.snomed import CONCEPTS, coding, markdown_table
from service.fhir.questionnaire import QUESTIONS
from service.models.patients import DISCHARGE_REASONS, EVENT_KINDS

DOC = Path(__file__).resolve().parents[2] / "docs" / "coding.md"


def _with_check_digit(stem: str) -> str:
    return next(stem + d for d in "0123456789" if verhoeff_valid(stem + d))


def test_the_doc_prints_the_code_table():
    text = DOC.read_text()
    start = text.index("<!-- table: generated from service.coding.snomed.CONCEPTS -->\n")
    end = text.index("<!-- end table -->")
    printed = text[start:end].split("\n", 1)[1]
    assert printed == markdown_table()


def test_every_local_code_of_each_domain_has_a_row():
    rows: dict[str, set[str]] = {}
    for concept in CONCEPTS:
        rows.setdefault(concept.domain, set()).add(concept.local_code)
    assert rows["symptom"] == {q.link_id for q in QUESTIONS}
    assert rows["event"] == set(EVENT_KINDS) | {"admission.emergency"}
    assert rows["alert_outcome"] == {o.value for o in Outcome}
    assert rows["discharge_reason"] == set(DISCHARGE_REASONS)
    assert len({(c.domain, c.local_code) for c in CONCEPTS}) == len(CONCEPTS)


@pytest.mark.parametrize("concept", [c for c in CONCEPTS if c.concept_id], ids=str)
def test_each_listed_id_is_a_snomed_concept_id(concept):
    assert concept.concept_id is not None and concept_id_problem(concept.concept_id) is None
    assert concept.term and concept.checked != "not confirmed: local code only"
    assert coding(concept.domain, concept.local_code) == {
        "system": "http://snomed.info/sct",
        "code": concept.concept_id,
        "display": concept.term,
    }


def test_unconfirmed_rows_carry_no_coding():
    bare = [c for c in CONCEPTS if c.concept_id is None]
    assert bare and all(coding(c.domain, c.local_code) is None for c in bare)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("84114007", None),  # heart failure: a short-format concept id
        ("39720311000001101", None),  # long format, extension namespace 1000001
        ("84114008", "check digit"),
        ("84114070", "check digit"),  # two digits swapped: Verhoeff catches transpositions
        ("12345", "6 to 18 digits"),
        ("084114007", "6 to 18 digits"),
        ("1234567890123456789", "6 to 18 digits"),
        ("8411400a", "6 to 18 digits"),
        (_with_check_digit("8411401"), "not a concept"),  # partition 01: a description id
        (_with_check_digit("8411402"), "not a concept"),  # partition 02: a relationship id
    ],
)
def test_dmd_code_shape(value, problem):
    found = concept_id_problem(value)
    assert (found is None) if problem is None else (problem in (found or ""))


def test_dose_units_are_ucum_and_match_the_api_names():
    assert tuple(DOSE_UNITS) == get_args(DoseUnitName)
    assert DOSE_UNITS["microgram"].ucum == "ug" and DOSE_UNITS["tablet"].ucum == "{tablet}"


def _post(client, world, body):
    pid = world.patients["pat_A1"]
    return client.post(
        f"/api/v1/patients/{pid}/medications",
        json={"pillar": "sglt2i", "status": "started", "changed_on": "2026-11-01", **body},
        headers=world.auth("clin_A1"),
    )


@pytest.mark.parametrize(
    "body",
    [
        {"dmd_code": "84114008"},
        {"dmd_code": "not-a-code"},
        {"dose_value": 10},
        {"dose_unit": "mg"},
        {"dose_value": 0, "dose_unit": "mg"},
        {"dose_value": 10, "dose_unit": "spoonful"},
        {"dose_value": 1e9, "dose_unit": "mg"},
    ],
    ids=str,
)
def test_bad_medicine_codes_and_doses_are_422_problems(client, world, body):
    response = _post(client, world, body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_medicine_with_code_and_dose_round_trips(client, world):
    # The API checks the shape of a dm+d code, not that dm+d lists it: any concept id passes.
    created = _post(
        client,
        world,
        {"drug": "Dapagliflozin", "dmd_code": " 84114007 ", "dose_value": 10, "dose_unit": "mg"},
    )
    assert created.status_code == 201, created.text
    listed = client.get(
        f"/api/v1/patients/{world.patients['pat_A1']}/medications", headers=world.auth("clin_A1")
    ).json()["items"]
    assert [(m["drug"], m["dmd_code"], m["dose_value"], m["dose_unit"]) for m in listed] == [
        ("Dapagliflozin", "84114007", 10.0, "mg")
    ]
    free = _post(client, world, {"drug": "a new SGLT2i, name as written"})
    assert free.status_code == 201 and free.json()["dmd_code"] is None
