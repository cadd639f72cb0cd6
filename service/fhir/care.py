"""What a patient's team records, out as FHIR (plain dicts, validated once with the whole
response like ``outbound``): admissions and A&E attendances as Encounters, the @home episode as
an Encounter with its discharge and reason, medicine changes as MedicationStatements and KCCQ-12
scores as Observations. A recorded death is ``Patient.deceasedDateTime`` (``outbound.patient``).

SNOMED CT codes come from ``service.coding.snomed`` and sit beside the local codes, never
instead of them: a local code with no confirmed concept is still sent.
"""

from __future__ import annotations

from typing import Any

from service.coding import snomed
from service.coding.dose import DOSE_UNITS
from service.fhir import codes
from service.models import KccqScore, MedicationChange, Patient, PatientEvent

# HL7 v3 ActCode encounter classes (UK Core Encounter binds Encounter.class to them).
_CLASS = {
    "admission": ("IMP", "inpatient encounter"),
    "ae_attendance": ("EMER", "emergency"),
    "episode": ("HH", "home health"),
}
_EPISODE_PREFIX = "episode-"
_PILLAR_NAMES = {
    "acei_arb_arni": "ACE inhibitor, ARB or ARNI",
    "beta_blocker": "Beta-blocker",
    "mra": "Mineralocorticoid receptor antagonist",
    "sglt2i": "SGLT2 inhibitor",
}
# MedicationStatement.status for each recorded status; the local status is the statusReason.
_MEDICATION_STATUS = {
    "started": "active",
    "stopped": "stopped",
    "not_tolerated": "stopped",
    "contraindicated": "not-taken",
}


def _concept(domain: str, local_system: str, local_code: str, text: str) -> dict[str, Any]:
    codings = [{"system": local_system, "code": local_code, "display": text}]
    snomed_coding = snomed.coding(domain, local_code)
    if snomed_coding is not None:
        codings.insert(0, snomed_coding)
    return {"coding": codings, "text": text}


def _class(kind: str) -> dict[str, str]:
    code, display = _CLASS[kind]
    return {"system": codes.ACT_CODE, "code": code, "display": display}


def episode_id(patient: Patient) -> str:
    return f"{_EPISODE_PREFIX}{patient.id}"


def encounter(row: PatientEvent) -> dict[str, Any]:
    """An admission or an A&E attendance (a death is not an encounter)."""
    local = "admission.emergency" if row.kind == "admission" and row.emergency else row.kind
    text = {
        "admission": "Hospital admission",
        "admission.emergency": "Emergency hospital admission",
        "ae_attendance": "A&E attendance",
    }[local]
    period: dict[str, str] = {"start": row.occurred_on.isoformat()}
    if row.kind == "ae_attendance":
        period["end"] = row.occurred_on.isoformat()
    elif row.discharged_on is not None:
        period["end"] = row.discharged_on.isoformat()
    out: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": str(row.id),
        # No meta.lastUpdated: an event can be edited (its discharge date added) after
        # recorded_at, and the row keeps no time of the last edit.
        "status": "in-progress" if "end" not in period else "finished",
        "class": _class(row.kind),
        "type": [_concept("event", codes.EVENT_SYSTEM, local, text)],
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "period": period,
    }
    if row.hf_related is not None:
        related = "Heart failure related" if row.hf_related else "Not heart failure related"
        out["reasonCode"] = [
            {
                "coding": [
                    {
                        "system": codes.HF_RELATED_SYSTEM,
                        "code": str(row.hf_related).lower(),
                        "display": related,
                    }
                ],
                "text": related,
            }
        ]
    return out


def episode(patient: Patient) -> dict[str, Any]:
    """The patient's time on the @home service: enrolment to discharge, and why they left."""
    period: dict[str, str] = {"start": patient.enrolled_on.isoformat()}
    out: dict[str, Any] = {
        "resourceType": "Encounter",
        "id": episode_id(patient),
        "meta": {"versionId": str(patient.version)},
        "status": "finished" if patient.discharged_on else "in-progress",
        "class": _class("episode"),
        "type": [
            {
                "coding": [
                    {
                        "system": codes.EVENT_SYSTEM,
                        "code": "home_monitoring",
                        "display": "Managing Heart Failure @home",
                    }
                ],
                "text": "Managing Heart Failure @home",
            }
        ],
        "subject": {"reference": f"Patient/{patient.id}"},
        "period": period,
    }
    if patient.discharged_on is not None:
        period["end"] = patient.discharged_on.isoformat()
    if patient.discharge_reason is not None:
        reason = patient.discharge_reason
        out["hospitalization"] = {
            "dischargeDisposition": _concept(
                "discharge_reason",
                codes.DISCHARGE_REASON_SYSTEM,
                reason,
                codes.DISCHARGE_REASONS[reason],
            )
        }
    return out


def medication_statement(row: MedicationChange) -> dict[str, Any]:
    pillar = _PILLAR_NAMES[row.pillar]
    medication: dict[str, Any] = {"text": row.drug or pillar}
    if row.dmd_code:
        # dm+d is the UK Drug Extension of SNOMED CT: its ids are SNOMED CT concepts (UK Core).
        medication["coding"] = [{"system": codes.SNOMED, "code": row.dmd_code}]
    out: dict[str, Any] = {
        "resourceType": "MedicationStatement",
        "id": str(row.id),
        "meta": {"lastUpdated": row.recorded_at.isoformat()},
        "status": _MEDICATION_STATUS[row.status],
        "statusReason": [
            {
                "coding": [
                    {
                        "system": codes.MEDICATION_STATUS_SYSTEM,
                        "code": row.status,
                        "display": row.status.replace("_", " "),
                    }
                ]
            }
        ],
        "category": {
            "coding": [{"system": codes.PILLAR_SYSTEM, "code": row.pillar, "display": pillar}],
            "text": pillar,
        },
        "medicationCodeableConcept": medication,
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "effectiveDateTime": row.changed_on.isoformat(),
        "dateAsserted": row.recorded_at.isoformat(),
    }
    if row.at_target_or_max_tolerated:
        out["note"] = [{"text": "At target or maximum tolerated dose"}]
    if row.dose_value is not None and row.dose_unit is not None:
        unit = DOSE_UNITS[row.dose_unit]
        out["dosage"] = [
            {
                "text": f"{row.dose_value:g} {unit.display}",
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": row.dose_value,
                            "unit": unit.display,
                            "system": codes.UCUM,
                            "code": unit.ucum,
                        }
                    }
                ],
            }
        ]
    return out


def kccq_observation(row: KccqScore) -> dict[str, Any]:
    system, code, display = codes.KCCQ_OVERALL
    return {
        "resourceType": "Observation",
        "id": str(row.id),
        "meta": {"lastUpdated": row.recorded_at.isoformat()},
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": codes.OBSERVATION_CATEGORY, "code": "survey", "display": "Survey"}
                ]
            }
        ],
        "code": {"coding": [{"system": system, "code": code, "display": display}], "text": display},
        "subject": {"reference": f"Patient/{row.patient_id}"},
        "effectiveDateTime": row.assessed_on.isoformat(),
        "issued": row.recorded_at.isoformat(),
        "valueQuantity": {
            "value": row.score,
            "unit": "score",
            "system": codes.UCUM,
            "code": "{score}",
        },
        "note": [{"text": f"Timepoint: {row.timepoint}"}],
    }
