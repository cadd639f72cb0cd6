"""The service's rows out as FHIR resources (plain dicts; callers validate the whole response
once with the model classes, so nested resources are checked without being validated twice)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from service.coding import snomed
from service.fhir import codes
from service.fhir.outcome import Issue
from service.fhir.questionnaire import BY_LINK_ID
from service.models import Alert, Patient, Reading

VITAL = {"weight", "blood_pressure", "heart_rate", "spo2"}
OBSERVATION_TYPES = VITAL | set(codes.LABS)


def resource_id(patient_id: uuid.UUID, reading_id: uuid.UUID) -> str:
    """A reading's FHIR id: both halves of its key, 64 hex digits (FHIR ids allow 64).

    Reading ids are chosen by clients and unique only per patient, so the reading id alone
    could name two patients' readings.
    """
    return patient_id.hex + reading_id.hex


def parse_resource_id(value: str) -> tuple[uuid.UUID, uuid.UUID] | None:
    if len(value) != 64:
        return None
    try:
        return uuid.UUID(hex=value[:32]), uuid.UUID(hex=value[32:])
    except ValueError:
        return None


def _instant(value: datetime) -> str:
    return value.isoformat()


def _coding(triple: tuple[str, str, str]) -> dict[str, str]:
    system, code, display = triple
    return {"system": system, "code": code, "display": display}


def _quantity(value: float | int, ucum: str, unit: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit or ucum, "system": codes.UCUM, "code": ucum}


def reading_resource(row: Reading) -> dict[str, Any]:
    if row.type == "symptoms":
        return questionnaire_response(row)
    return observation(row)


def resource_type_of(row: Reading) -> str:
    return "QuestionnaireResponse" if row.type == "symptoms" else "Observation"


def observation(row: Reading) -> dict[str, Any]:
    measure = codes.OUTBOUND[row.type]
    category = ("vital-signs", "Vital Signs") if row.type in VITAL else ("laboratory", "Laboratory")
    out: dict[str, Any] = {
        "resourceType": "Observation",
        "id": resource_id(row.patient_id, row.id),
        "meta": {"versionId": "1", "lastUpdated": _instant(row.received_at)},
        "identifier": [{"system": codes.URN_IETF, "value": f"urn:uuid:{row.id}"}],
        "status": "final",
        "category": [
            {
                "coding": [
                    {
                        "system": codes.OBSERVATION_CATEGORY,
                        "code": category[0],
                        "display": category[1],
                    }
                ]
            }
        ],
        "code": {"coding": [_coding(c) for c in measure.codings], "text": measure.codings[0][2]},
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "effectiveDateTime": _instant(row.taken_at),
        "issued": _instant(row.received_at),
    }
    if row.type == "blood_pressure":
        assert row.systolic is not None and row.diastolic is not None
        out["component"] = [
            {
                "code": {"coding": [_coding(c) for c in codes.SYSTOLIC_CODING]},
                "valueQuantity": _quantity(row.systolic, "mm[Hg]", "mmHg"),
            },
            {
                "code": {"coding": [_coding(c) for c in codes.DIASTOLIC_CODING]},
                "valueQuantity": _quantity(row.diastolic, "mm[Hg]", "mmHg"),
            },
        ]
    else:
        assert row.value is not None
        if row.type == "weight":
            out["valueQuantity"] = _quantity(round(row.value, 2), "kg")
            if row.unit_as_sent and row.unit_as_sent != "kg" and row.value_as_sent is not None:
                # The conversion is a listed hazard: show what the device sent beside it.
                out["note"] = [{"text": f"As sent: {row.value_as_sent:g} {row.unit_as_sent}"}]
        elif row.type == "heart_rate":
            out["valueQuantity"] = _quantity(row.value, "/min", "beats/minute")
        elif row.type == "spo2":
            out["valueQuantity"] = _quantity(row.value, "%")
        else:
            out["valueQuantity"] = _quantity(row.value, codes.LAB_UCUM[row.type], row.unit_as_sent)
    return out


def questionnaire_response(row: Reading) -> dict[str, Any]:
    answers = row.answers or {}
    items = []
    for link_id, value in answers.items():
        question = BY_LINK_ID.get(link_id)
        if question is None:
            continue  # a question retired from the form; the stored answer is still in the row
        if question.kind == "boolean":
            answer: dict[str, Any] = {"valueBoolean": bool(value)}
        else:
            display = dict(question.options).get(str(value), str(value))
            answer = {
                "valueCoding": {
                    "system": codes.SYMPTOM_ANSWER_SYSTEM,
                    "code": str(value),
                    "display": display,
                }
            }
        items.append({"linkId": link_id, "text": question.text, "answer": [answer]})
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id(row.patient_id, row.id),
        "meta": {"versionId": "1", "lastUpdated": _instant(row.received_at)},
        "identifier": {"system": codes.URN_IETF, "value": f"urn:uuid:{row.id}"},
        "questionnaire": f"{codes.QUESTIONNAIRE_URL}|{codes.QUESTIONNAIRE_VERSION}",
        "status": "completed",
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "authored": _instant(row.taken_at),
        "item": items,
    }


def patient(row: Patient) -> dict[str, Any]:
    out: dict[str, Any] = {
        "resourceType": "Patient",
        "id": str(row.id),
        "meta": {"versionId": str(row.version)},
        "identifier": [{"system": codes.NHS_NUMBER, "value": row.nhs_number}],
        "active": row.status != "discharged",
        **({"name": [{"use": "usual", "text": row.name}]} if row.name else {}),
        **(
            {"telecom": [{"system": "phone", "value": row.phone, "use": "home"}]}
            if row.phone
            else {}
        ),
        "gender": row.sex,
        "birthDate": row.date_of_birth.isoformat(),
    }
    if row.died_on is not None:
        # The team records the day, not the instant: a FHIR dateTime may be a date alone.
        out["deceasedDateTime"] = row.died_on.isoformat()
    if row.ethnicity:
        out["extension"] = [
            {
                "url": codes.ETHNIC_CATEGORY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": codes.ETHNIC_CATEGORY_SYSTEM, "code": row.ethnicity}]
                },
            }
        ]
    return out


_PRIORITY = {"red": ("PH", "High priority"), "amber": ("PM", "Medium priority")}


def flag(row: Alert) -> dict[str, Any]:
    code, display = _PRIORITY[row.severity]
    period: dict[str, str] = {"start": _instant(row.raised_at)}
    if row.resolved_at is not None:
        period["end"] = _instant(row.resolved_at)
    return {
        "resourceType": "Flag",
        "id": str(row.id),
        "meta": {"versionId": str(row.version)},
        "extension": [
            {
                "url": codes.FLAG_PRIORITY_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [
                        {"system": codes.FLAG_PRIORITY_SYSTEM, "code": code, "display": display}
                    ],
                    "text": row.severity,
                },
            },
            *_outcome_extension(row),
        ],
        "status": "inactive" if row.status == "resolved" else "active",
        "category": [
            {
                "coding": [
                    {
                        "system": codes.FLAG_CATEGORY_SYSTEM,
                        "code": "clinical",
                        "display": "Clinical",
                    }
                ]
            }
        ],
        "code": {
            "coding": [{"system": codes.RULE_SYSTEM, "code": row.rule_id, "display": row.title}],
            "text": row.summary,
        },
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "period": period,
    }


def _outcome_extension(row: Alert) -> list[dict[str, Any]]:
    if row.outcome is None:
        return []
    codings = [{"system": codes.ALERT_OUTCOME_SYSTEM, "code": row.outcome}]
    concept = snomed.coding("alert_outcome", row.outcome)
    if concept is not None:
        codings.insert(0, concept)
    return [
        {
            "url": codes.ALERT_OUTCOME_EXTENSION,
            "valueCodeableConcept": {"coding": codings, "text": row.outcome.replace("_", " ")},
        }
    ]


def advice_issues(findings: Sequence[dict[str, Any]], advice: dict[str, Any]) -> list[Issue]:
    """The pathway's answer to a post as issues (for ``Prefer: return=OperationOutcome``)."""
    issues = [
        Issue(
            "informational",
            advice["text"],
            severity="information",
            details={
                "coding": [
                    {
                        "system": codes.ADVICE_SYSTEM,
                        "code": advice["code"],
                        "display": advice["level"],
                    }
                ],
                "text": advice["text"],
            },
        )
    ]
    for finding in findings:
        issues.append(
            Issue(
                "informational",
                f"{finding['level']}: {finding['summary']}",
                severity="warning" if finding["level"] in ("red", "amber") else "information",
                details={
                    "coding": [
                        {
                            "system": codes.RULE_SYSTEM,
                            "code": finding["rule_id"],
                            "display": finding["title"],
                        }
                    ],
                    "text": finding["summary"],
                },
            )
        )
    return issues


def bundle(
    kind: str,
    entries: list[dict[str, Any]],
    *,
    links: Sequence[tuple[str, str]] = (),
    timestamp: datetime | None = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {"resourceType": "Bundle", "type": kind}
    if timestamp is not None:
        out["timestamp"] = _instant(timestamp)
    if links:
        out["link"] = [{"relation": r, "url": u} for r, u in links]
    out["entry"] = entries
    return out
