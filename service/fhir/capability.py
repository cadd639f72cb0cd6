"""The CapabilityStatement: exactly what ``service.fhir.api`` implements, and nothing more."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from service.fhir import codes
from service.fhir.resources import FHIR_VERSION, CapabilityStatement

_SUBJECT = {
    "name": "subject",
    "type": "reference",
    "documentation": "Patient/{id}; optional for a patient's device token (its own patient)",
}
_PATIENT = {"name": "patient", "type": "reference", "documentation": "Same as subject"}
_PATIENT_NHS = {
    "name": "patient.identifier",
    "type": "token",
    "documentation": f"{codes.NHS_NUMBER}|{{NHS number}}",
}
_COUNT_SORT = (
    "Paging: _count (1-1000, default 50) and the next link; total is given. _sort: date "
    "(default) or -date."
)
_DATE = "eq, ge, gt, le, lt; calendar dates in Europe/London"
_CREATE_DOC = (
    "Idempotent: the reading id comes from identifier (uuid5 over type|system|value), else the "
    "Bundle entry's request.ifNoneExist (identifier=system|value), else fullUrl (urn:uuid "
    "used as is), else the content. A re-send answers 200 with the stored reading; the same "
    "identity with other content is 409. The subject must be Patient/{id}, "
    "Patient?identifier=https://fhir.nhs.uk/Id/nhs-number|{n} or an NHS number identifier."
)


def _search(*params: dict[str, str]) -> list[dict[str, str]]:
    return [_SUBJECT, _PATIENT, _PATIENT_NHS, *params]


def capability_statement(
    software_version: str, base_url: str, published: datetime
) -> CapabilityStatement:
    resources: list[dict[str, Any]] = [
        {
            "type": "Observation",
            "documentation": (
                "Body weight (LOINC 29463-7, 3141-9; SNOMED 27113001) in kg, g, [lb_av] or "
                "[stone_av]; blood pressure panel (LOINC 85354-9) with components 8480-6 and "
                "8462-4 in mm[Hg]; heart rate (LOINC 8867-4) in /min; SpO2 (LOINC 59408-5, "
                "2708-6) in %. status final, amended or corrected; effectiveDateTime or "
                "effectiveInstant with a UTC offset. Anything else is refused with 422, never "
                "dropped. Weights are served in kg. Served besides: blood results (potassium LOINC "
                "2823-3, creatinine 14682-9, eGFR a local code) and KCCQ-12 overall summary "
                "scores (LOINC 86924-8, category survey), in that order after the readings; "
                "KCCQ-12 and blood results are entered through /api/v1. " + _CREATE_DOC
            ),
            "interaction": [
                {
                    "code": "create",
                    "documentation": "Patient token: own patient; clinician: own teams' patients",
                },
                {"code": "read"},
                {"code": "search-type", "documentation": _COUNT_SORT},
            ],
            "conditionalCreate": True,
            "searchParam": _search(
                {
                    "name": "code",
                    "type": "token",
                    "documentation": "[system|]code, comma-separated",
                },
                {"name": "date", "type": "date", "documentation": _DATE},
            ),
        },
        {
            "type": "QuestionnaireResponse",
            "documentation": (
                f"Answers to {codes.QUESTIONNAIRE_URL} (version {codes.QUESTIONNAIRE_VERSION}), "
                "status completed, authored with a UTC offset. " + _CREATE_DOC
            ),
            "interaction": [
                {"code": "create"},
                {"code": "read"},
                {"code": "search-type", "documentation": _COUNT_SORT},
            ],
            "conditionalCreate": True,
            "searchParam": _search(
                {"name": "authored", "type": "date", "documentation": "eq, ge, gt, le, lt"},
            ),
        },
        {
            "type": "Questionnaire",
            "documentation": "The symptom questionnaire, id mhf-symptoms (any valid token)",
            "interaction": [{"code": "read"}],
        },
        {
            "type": "Patient",
            "documentation": "Clinicians of the patient's team; reads are audited",
            "interaction": [{"code": "read"}],
            "operation": [
                {
                    "name": "everything",
                    "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything",
                    "documentation": (
                        "The Patient, then Flags, Encounters, MedicationStatements, KCCQ-12 "
                        "Observations, readings (Observation, QuestionnaireResponse). start and "
                        "end bound care dates; _count (default 500) pages the whole record, "
                        "with next links; _sort date or -date."
                    ),
                }
            ],
        },
        {
            "type": "Encounter",
            "documentation": (
                "The @home episode (class HH, id episode-{patient id}; its end is the discharge "
                "from the service and hospitalization.dischargeDisposition the reason), "
                "hospital admissions (IMP) and A&E visits (EMER). type carries SNOMED CT "
                "beside the local code (docs/coding.md). Clinicians of the team; audited."
            ),
            "interaction": [
                {"code": "read"},
                {"code": "search-type", "documentation": _COUNT_SORT},
            ],
            "searchParam": _search({"name": "date", "type": "date", "documentation": _DATE}),
        },
        {
            "type": "MedicationStatement",
            "documentation": (
                "Changes in the four heart-failure pillars: the dm+d code (a SNOMED CT concept) "
                "when recorded, the drug as written, and dosage.doseAndRate.doseQuantity in UCUM. "
                "Clinicians of the team; audited."
            ),
            "interaction": [
                {"code": "read"},
                {"code": "search-type", "documentation": _COUNT_SORT},
            ],
            "searchParam": _search({"name": "effective", "type": "date", "documentation": _DATE}),
        },
        {
            "type": "Flag",
            "documentation": (
                "Pathway alerts. Priority in the flag-priority extension (PH red, PM amber); "
                f"code is the pathway rule ({codes.RULE_SYSTEM}); a resolved alert's outcome in "
                f"the {codes.ALERT_OUTCOME_EXTENSION} extension. Clinicians only."
            ),
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": _search(
                {"name": "status", "type": "token", "documentation": "active or inactive"}
            ),
        },
    ]
    return CapabilityStatement.model_validate(
        {
            "resourceType": "CapabilityStatement",
            "url": f"{codes.CANONICAL_BASE}/CapabilityStatement/mhf-home",
            "name": "MHFHomeFHIRServer",
            "title": "MHF @home FHIR R4 interface",
            "status": "active",
            "date": published.isoformat(),
            "publisher": "MHF @home",
            "description": (
                "Home readings for NHS England's Managing Heart Failure @home pathway. Requests "
                "and responses are validated with fhir.resources R4B models (the closest release "
                "it ships to R4). Errors are OperationOutcome. Batch and transaction Bundles are "
                "both "
                "all-or-nothing: any refused entry rejects the whole Bundle, with one issue per "
                "problem naming the entry. Unknown search parameters are refused with 400."
            ),
            "kind": "instance",
            "software": {"name": "mhf-home", "version": software_version},
            "implementation": {"description": "MHF @home monitoring service", "url": base_url},
            "fhirVersion": FHIR_VERSION,
            "format": ["application/fhir+json", "json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": (
                            "Authorization: Bearer <token>: a staff access token from "
                            "/api/v1/auth/token or a patient's device token. Only /fhir/metadata "
                            "is open."
                        )
                    },
                    "resource": resources,
                    "interaction": [
                        {"code": "batch", "documentation": "All-or-nothing, up to 500 entries"},
                        {
                            "code": "transaction",
                            "documentation": "All-or-nothing, up to 500 entries",
                        },
                    ],
                }
            ],
        }
    )
