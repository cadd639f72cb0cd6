"""Blood results (potassium, creatinine, eGFR): red limits for every patient, cautions while
medicines are titrated.

A potassium of 6.2 mmol/L is dangerous whichever cohort the patient is in, so the red limits
judge every result a team enters; the amber cautions (SIGN 147, ESC) guide dose changes and stay
with the medicines-optimisation cohort, as does the rise since the last change (``titration``).
"""

from __future__ import annotations

from pathway.model import Cohort, Finding, Reading
from pathway.rules.base import Context, value


def _titrating(ctx: Context) -> bool:
    return ctx.patient.cohort is Cohort.MEDICATION_OPTIMISATION


def potassium(ctx: Context, r: Reading) -> Finding | None:
    t = ctx.config.titration
    v = value(r)
    summary = f"potassium {v:g} mmol/L"
    if v > t.potassium_red_above and ctx.on("red.potassium"):
        return ctx.finding("red.potassium", (r.id,), summary, r)
    if _titrating(ctx) and v > t.potassium_amber_above and ctx.on("amber.potassium"):
        return ctx.finding("amber.potassium", (r.id,), summary, r)
    return None


def creatinine(ctx: Context, r: Reading) -> Finding | None:
    t = ctx.config.titration
    v = value(r)
    summary = f"creatinine {v:g} umol/L"
    if v > t.creatinine_red_above and ctx.on("red.creatinine"):
        return ctx.finding("red.creatinine", (r.id,), summary, r)
    if _titrating(ctx) and v > t.creatinine_amber_above and ctx.on("amber.creatinine"):
        return ctx.finding("amber.creatinine", (r.id,), summary, r)
    return None


def egfr(ctx: Context, r: Reading) -> Finding | None:
    t = ctx.config.titration
    v = value(r)
    summary = f"eGFR {v:g}"
    if v < t.egfr_red_below and ctx.on("red.egfr"):
        return ctx.finding("red.egfr", (r.id,), summary, r)
    if _titrating(ctx) and v < t.egfr_amber_below and ctx.on("amber.egfr"):
        return ctx.finding("amber.egfr", (r.id,), summary, r)
    return None
