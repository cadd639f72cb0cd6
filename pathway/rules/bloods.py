"""Blood results (potassium, creatinine, eGFR): red limits for every patient, cautions while
medicines are titrated.

A potassium of 6.2 mmol/L is dangerous whichever cohort the patient is in, so the red limits
judge every result a team enters; the amber cautions (SIGN 147, ESC) guide dose changes and stay
with the medicines-optimisation cohort, as does the rise since the last change (``titration``).
"""

from __future__ import annotations

from pathway.model import Cohort, Finding, Reading
from pathway.rules.base import Context, value


def _judged(
    ctx: Context, r: Reading, analyte: str, summary: str, red: bool, caution: bool
) -> Finding | None:
    """Red for every patient past the red limit; amber past the caution only while titrating."""
    if red and ctx.on(f"red.{analyte}"):
        return ctx.finding(f"red.{analyte}", (r.id,), summary, r)
    titrating = ctx.patient.cohort is Cohort.MEDICATION_OPTIMISATION
    if titrating and caution and ctx.on(f"amber.{analyte}"):
        return ctx.finding(f"amber.{analyte}", (r.id,), summary, r)
    return None


def potassium(ctx: Context, r: Reading) -> Finding | None:
    t, v = ctx.config.titration, value(r)
    summary = f"potassium {v:g} mmol/L"
    return _judged(
        ctx, r, "potassium", summary, v > t.potassium_red_above, v > t.potassium_amber_above
    )


def creatinine(ctx: Context, r: Reading) -> Finding | None:
    t, v = ctx.config.titration, value(r)
    summary = f"creatinine {v:g} umol/L"
    return _judged(
        ctx, r, "creatinine", summary, v > t.creatinine_red_above, v > t.creatinine_amber_above
    )


def egfr(ctx: Context, r: Reading) -> Finding | None:
    t, v = ctx.config.titration, value(r)
    return _judged(ctx, r, "egfr", f"eGFR {v:g}", v < t.egfr_red_below, v < t.egfr_amber_below)
