"""The units a medicine dose is recorded in: a short list, each a UCUM code (the unit FHIR's
Dosage.doseAndRate.doseQuantity carries). Tablets and capsules are UCUM annotations, which count
units of a dose form; they name what a clinician writes on a heart-failure prescription."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

# The names the API takes (its OpenAPI enum); DOSE_UNITS below is built from them.
DoseUnitName = Literal["mg", "microgram", "g", "mL", "tablet", "capsule"]


@dataclass(frozen=True, slots=True)
class DoseUnit:
    name: str  # what the API takes and the pages show
    ucum: str
    display: str


_UNITS = (
    DoseUnit("mg", "mg", "milligram"),
    DoseUnit("microgram", "ug", "microgram"),
    DoseUnit("g", "g", "gram"),
    DoseUnit("mL", "mL", "millilitre"),
    DoseUnit("tablet", "{tablet}", "tablet"),
    DoseUnit("capsule", "{capsule}", "capsule"),
)
DOSE_UNITS = {u.name: u for u in _UNITS}
assert tuple(DOSE_UNITS) == get_args(DoseUnitName), "the API's unit names and the table differ"
