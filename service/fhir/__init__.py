"""FHIR R4 front door: FHIR resources mapped to and from the service's own readings.

Parsing and validation use ``fhir.resources``' R4B model classes: the package ships R4B (4.3) and
R5, not R4 (4.0.1), and R4B is the closest to R4. For the resources used here (Observation,
QuestionnaireResponse, Bundle, Patient, Flag, OperationOutcome, CapabilityStatement,
Questionnaire) R4B changed nothing an R4 client sends or expects. Ingestion goes through
``service.readings.service.prepare`` and ``.ingest``, the same path as ``/api/v1``.
"""
