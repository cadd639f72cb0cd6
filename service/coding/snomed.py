"""SNOMED CT concepts beside the service's local codes: the one table the FHIR output, the docs
(docs/coding.md, checked against this table by tests/fhir/test_coding.py) and anything else that
codes a symptom, an event, an alert outcome or a discharge reason reads.

A local code with no concept here keeps only its local coding. An id is listed only when it was
found, with its term, in independent published artefacts and passes the SCTID check digit; the
``checked`` column says where. Where no concept could be confirmed the row says so, rather than
carrying a plausible-looking guess into a clinical record.
"""

from __future__ import annotations

from dataclasses import dataclass

SNOMED = "http://snomed.info/sct"

# Where an id was confirmed (see docs/coding.md for what each means).
PUBLIC_FHIR = "public FHIR IGs, examples and code"
ECQM = "US eCQM and Synthea encounter codes"
NOT_CONFIRMED = "not confirmed: local code only"


@dataclass(frozen=True, slots=True)
class Concept:
    domain: str  # symptom, event, alert_outcome, discharge_reason
    local_code: str
    concept_id: str | None
    term: str | None
    checked: str


def _c(domain: str, local: str, concept_id: str, term: str, checked: str) -> Concept:
    return Concept(domain, local, concept_id, term, checked)


def _none(domain: str, local: str) -> Concept:
    return Concept(domain, local, None, None, NOT_CONFIRMED)


CONCEPTS: tuple[Concept, ...] = (
    # Symptoms: the questions of the symptom Questionnaire, by linkId (findings).
    _c("symptom", "breathlessness", "267036007", "Dyspnoea", PUBLIC_FHIR),
    _c("symptom", "orthopnoea", "62744007", "Orthopnoea", PUBLIC_FHIR),
    _c("symptom", "ankle_swelling", "271809000", "Peripheral oedema", PUBLIC_FHIR),
    _c("symptom", "dizziness", "404640003", "Dizziness", PUBLIC_FHIR),
    _c("symptom", "chest_pain", "29857009", "Chest pain", PUBLIC_FHIR),
    _c("symptom", "fatigue", "84229001", "Fatigue", PUBLIC_FHIR),
    _c("symptom", "fainting", "271594007", "Syncope", PUBLIC_FHIR),
    _c("symptom", "confusion", "286933003", "Confusional state", PUBLIC_FHIR),
    # Events a team records (patient_events.kind); an emergency admission is the more exact one.
    _c("event", "admission", "32485007", "Hospital admission", ECQM),
    _c("event", "admission.emergency", "183452005", "Emergency hospital admission", ECQM),
    _c("event", "ae_attendance", "4525004", "Emergency department patient visit", ECQM),
    _c("event", "death", "419620001", "Death", PUBLIC_FHIR),
    # How a clinician closed an alert (alerts.lifecycle.Outcome).
    _none("alert_outcome", "advice_given"),
    _none("alert_outcome", "diuretic_adjusted"),
    _none("alert_outcome", "medication_titrated"),
    _none("alert_outcome", "seen_in_person"),
    _c("alert_outcome", "referred", "3457005", "Patient referral", PUBLIC_FHIR),
    _c("alert_outcome", "admitted", "32485007", "Hospital admission", ECQM),
    _none("alert_outcome", "no_action_needed"),
    _none("alert_outcome", "patient_unreachable"),
    _c("alert_outcome", "patient_died", "419620001", "Death", PUBLIC_FHIR),
    _none("alert_outcome", "no_longer_due"),
    # Why a patient left the @home service (patients.discharge_reason).
    _none("discharge_reason", "stable_optimised"),
    _c("discharge_reason", "admitted", "32485007", "Hospital admission", ECQM),
    _c("discharge_reason", "died", "419620001", "Death", PUBLIC_FHIR),
    _none("discharge_reason", "withdrew"),
    _none("discharge_reason", "other"),
)
_BY_KEY = {(c.domain, c.local_code): c for c in CONCEPTS}


def concept(domain: str, local_code: str) -> Concept | None:
    """The confirmed concept for a local code, or None when it has only its local code."""
    found = _BY_KEY.get((domain, local_code))
    return found if found is not None and found.concept_id is not None else None


def coding(domain: str, local_code: str) -> dict[str, str] | None:
    """The SNOMED CT Coding for a local code, to sit beside the local one."""
    found = concept(domain, local_code)
    if found is None:
        return None
    assert found.concept_id is not None and found.term is not None
    return {"system": SNOMED, "code": found.concept_id, "display": found.term}


def markdown_table() -> str:
    """The table as docs/coding.md prints it."""
    lines = [
        "| domain | local code | SNOMED CT concept id | term | confirmed in |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in CONCEPTS:
        lines.append(
            f"| {c.domain} | `{c.local_code}` | {c.concept_id or '-'} | {c.term or '-'} "
            f"| {c.checked} |"
        )
    return "\n".join(lines) + "\n"
