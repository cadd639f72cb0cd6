"""Code systems, codes and UCUM units the FHIR front door accepts and emits (domain.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
URN_IETF = "urn:ietf:rfc:3986"
ETHNIC_CATEGORY_SYSTEM = "https://fhir.hl7.org.uk/CodeSystem/UKCore-EthnicCategoryEngland"
ETHNIC_CATEGORY_EXTENSION = (
    "https://fhir.hl7.org.uk/StructureDefinition/Extension-UKCore-EthnicCategory"
)
FLAG_PRIORITY_EXTENSION = "http://hl7.org/fhir/StructureDefinition/flag-priority"
FLAG_PRIORITY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-priority-code"
FLAG_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/flag-category"

# The service's own canonical URLs: stable names, not the address a deployment is served at.
CANONICAL_BASE = "https://mhf-home.example/fhir"
RULE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/pathway-rule"
ADVICE_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/patient-advice"
SYMPTOM_ANSWER_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/symptom-answer"
LOCAL_OBSERVATION_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/observation"
EVENT_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/event"
HF_RELATED_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/heart-failure-related"
DISCHARGE_REASON_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/discharge-reason"
ALERT_OUTCOME_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/alert-outcome"
ALERT_OUTCOME_EXTENSION = f"{CANONICAL_BASE}/StructureDefinition/alert-outcome"
MEDICATION_STATUS_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/medication-change-status"
PILLAR_SYSTEM = f"{CANONICAL_BASE}/CodeSystem/heart-failure-pillar"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
QUESTIONNAIRE_ID = "mhf-symptoms"
QUESTIONNAIRE_URL = f"{CANONICAL_BASE}/Questionnaire/{QUESTIONNAIRE_ID}"
QUESTIONNAIRE_VERSION = "1"

# The KCCQ-12 overall summary score (the panel is 86923-0); only the score is stored, the
# instrument being licensed.
KCCQ_OVERALL = (LOINC, "86924-8", "Overall summary score [KCCQ-12]")
DISCHARGE_REASONS = {
    "stable_optimised": "Stable and medicines optimised",
    "admitted": "Admitted to hospital",
    "died": "Died",
    "withdrew": "Withdrew or declined",
    "other": "Other reason",
}

# uuid5 namespace for reading ids derived from FHIR identifiers. Published, so a client can
# compute the id its Observation will be stored under; never change it, or re-sends after the
# change would be stored twice.
READING_ID_NAMESPACE = uuid.UUID("6f1d5c8e-3a57-5b0e-9f1c-4d2a7e0b9c31")


@dataclass(frozen=True, slots=True)
class Measure:
    reading_type: str
    codings: tuple[tuple[str, str, str], ...]  # (system, code, display), the first is preferred
    accepted: frozenset[tuple[str, str]]


def _measure(
    reading_type: str, emit: list[tuple[str, str, str]], extra: list[tuple[str, str]]
) -> Measure:
    accepted = frozenset([(s, c) for s, c, _ in emit] + extra)
    return Measure(reading_type, tuple(emit), accepted)


WEIGHT = _measure(
    "weight",
    [(LOINC, "29463-7", "Body weight"), (SNOMED, "27113001", "Body weight")],
    [(LOINC, "3141-9")],
)
BLOOD_PRESSURE = _measure(
    "blood_pressure",
    [
        (LOINC, "85354-9", "Blood pressure panel with all children optional"),
        (SNOMED, "75367002", "Blood pressure"),
    ],
    [],
)
HEART_RATE = _measure(
    "heart_rate", [(LOINC, "8867-4", "Heart rate"), (SNOMED, "364075005", "Heart rate")], []
)
SPO2 = _measure(
    "spo2",
    [
        (LOINC, "59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        (LOINC, "2708-6", "Oxygen saturation in Arterial blood"),
        (SNOMED, "431314004", "Peripheral oxygen saturation"),
    ],
    [],
)
SYSTOLIC = frozenset({(LOINC, "8480-6"), (SNOMED, "271649006")})
DIASTOLIC = frozenset({(LOINC, "8462-4"), (SNOMED, "271650006")})
SYSTOLIC_CODING = ((LOINC, "8480-6", "Systolic blood pressure"),)
DIASTOLIC_CODING = ((LOINC, "8462-4", "Diastolic blood pressure"),)

# Accepted on the way in; labs are entered through /api/v1 only.
INBOUND = (WEIGHT, BLOOD_PRESSURE, HEART_RATE, SPO2)

# Labs entered through /api/v1 are served too. eGFR has no single LOINC code without knowing
# the estimating equation, so it carries only the service's own code rather than a guessed one.
LABS = {
    "potassium": _measure(
        "potassium", [(LOINC, "2823-3", "Potassium [Moles/volume] in Serum or Plasma")], []
    ),
    "creatinine": _measure(
        "creatinine", [(LOINC, "14682-9", "Creatinine [Moles/volume] in Serum or Plasma")], []
    ),
    "egfr": _measure("egfr", [(LOCAL_OBSERVATION_SYSTEM, "egfr", "Estimated GFR")], []),
}
OUTBOUND = {m.reading_type: m for m in (*INBOUND, *LABS.values())}
LAB_UCUM = {"potassium": "mmol/L", "creatinine": "umol/L", "egfr": "mL/min/{1.73_m2}"}

# UCUM code -> (the unit the native schema takes, factor to multiply the value by).
WEIGHT_UNITS: dict[str, tuple[str, float]] = {
    "kg": ("kg", 1.0),
    "g": ("kg", 0.001),
    "[lb_av]": ("lb", 1.0),
    "[stone_av]": ("st", 1.0),
}
PRESSURE_UNITS = {"mm[Hg]"}
# UCUM annotations in braces carry no meaning, so {beats}/min is the same unit as /min.
RATE_UNITS = {"/min", "{beats}/min", "{beat}/min"}
PERCENT_UNITS = {"%"}


def measure_for(codings: list[tuple[str, str]]) -> tuple[Measure | None, list[str]]:
    """The supported measure the codings name; conflicting codings are refused, not guessed."""
    found = {m.reading_type: m for m in INBOUND for c in codings if c in m.accepted}
    if len(found) > 1:
        return None, sorted(found)
    return (next(iter(found.values())) if found else None), []


def search_types(token: str) -> set[str]:
    """Reading types a ``code`` search token (``[system|]code``) selects."""
    system, _, code = token.rpartition("|")
    types: set[str] = set()
    for measure in OUTBOUND.values():
        for s, c in (*((s, c) for s, c, _ in measure.codings), *measure.accepted):
            if c == code and (not system or s == system):
                types.add(measure.reading_type)
    return types
