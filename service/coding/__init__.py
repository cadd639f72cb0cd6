"""Clinical coding shared by the API, the pages and FHIR: the SNOMED CT concepts beside the
service's local codes (``snomed``), dm+d identifiers (``dmd``) and medicine dose units (``dose``).
Pure: no I/O, so schemas and the FHIR mapping can both import it."""
