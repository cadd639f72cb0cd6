"""The FHIR model classes in one place, so moving from R4B to an R4 build is one edit."""

from __future__ import annotations

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

FHIR_VERSION = "4.0.1"  # what clients are told: the wire format is R4's
FHIR_JSON = "application/fhir+json"

__all__ = [
    "FHIR_JSON",
    "FHIR_VERSION",
    "Bundle",
    "CapabilityStatement",
    "Encounter",
    "Flag",
    "MedicationStatement",
    "Observation",
    "OperationOutcome",
    "Patient",
    "Questionnaire",
    "QuestionnaireResponse",
]
