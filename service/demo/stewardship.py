"""The demo's two value frameworks, modelled on the programme's stewardship groups: the
Derbyshire and LLR heart-failure stewards, and Mid and South Essex cardiac care. Built through
the stewardship use cases as the programme lead, like anything a lead would enter.

The QALY figures are illustrative: each says so, and names the NICE guidance behind the
intervention rather than a figure NICE published. Replace them with the local economic case.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.deps import Principal
from service.models import Site, User
from service.reports.figures import FigureStore
from service.reports.metrics import REGISTRY
from service.stewardship import frameworks, interventions, unit_costs
from service.stewardship.schemas import (
    ChangeIn,
    FrameworkIn,
    InterventionIn,
    ScenarioIn,
    UnitCostsIn,
)

ROUTE = "mhf demo"
NG106 = "NICE NG106 (2018), Chronic heart failure in adults: diagnosis and management"
ILLUSTRATIVE = "entered, illustrative: a demo assumption, not a NICE figure; see " + NG106
# Remote monitoring is counted in patient-months: the caseload summed over the months.
MONITORED = "patient_months" if "patient_months" in REGISTRY else "caseload"


def _outcomes(admissions_target: float, adherence_target: float) -> list[dict[str, Any]]:
    def outcome(domain: str, metric: str, target: float, direction: str, **extra: Any) -> Any:
        return {
            "domain": domain,
            "metric": metric,
            "target": target,
            "direction": direction,
            **extra,
        }

    return [
        outcome("population_health", "admissions_hf", admissions_target, "lower"),
        outcome("population_health", "kccq_improved", 60, "higher"),
        outcome("quality", "red_alerts_actioned_in_time", 90, "higher"),
        outcome("quality", "weight_adherence", adherence_target, "higher"),
        outcome("quality", "on_beta_blocker", 85, "higher"),
        outcome("resources", "bed_days", admissions_target * 8, "lower"),
        outcome("resources", "cost_per_patient_month_gbp", 90, "lower"),
        outcome("resources", "caseload_per_wte", 35, "higher"),
        outcome("inequalities", "weight_adherence", 10, "lower", equity_split="imd_quintile"),
        outcome("inequalities", "kccq_improved", 15, "lower", equity_split="ethnicity"),
    ]


def _nurse_visits(visits: float, people: float) -> dict[str, Any]:
    return {
        "name": "Specialist heart-failure nurse visits",
        "yearly_activity": visits,
        "activity_unit": "visits",
        "unit_cost_gbp": 62,
        "people_per_year": people,
        "qaly_per_person": 0.04,
        "qaly_source": ILLUSTRATIVE + " (follow-up by the specialist heart-failure team)",
        "sourcing": "entered",
        "note": "One hour of a band 6 community nurse per visit (PSSRU 2023).",
    }


REMOTE_MONITORING = {
    "name": "Remote monitoring (MHF @home)",
    "activity_unit": "patient-months",
    "unit_cost_gbp": 30,
    "sourcing": "measured",
    "measured_metric": MONITORED,
    "note": "Kit and app per patient-month; team time is counted under nurse visits. No QALY "
    "figure is entered: NICE gives none for this model of remote monitoring.",
}


def _iv_diuretics(patients: float) -> dict[str, Any]:
    return {
        "name": "IV diuretics at home",
        "yearly_activity": patients,
        "activity_unit": "patients",
        "unit_cost_gbp": 1_850,
        "qaly_per_person": 0.03,
        "qaly_source": "entered, illustrative: a demo assumption (an admission avoided), "
        "not a NICE figure",
        "sourcing": "entered",
        "note": "A five-day course at home in place of a ward stay.",
    }


def _cardiac_rehab(patients: float) -> dict[str, Any]:
    return {
        "name": "Exercise-based cardiac rehabilitation",
        "yearly_activity": patients,
        "activity_unit": "patients",
        "unit_cost_gbp": 480,
        "qaly_per_person": 0.02,
        "qaly_source": ILLUSTRATIVE + " (NG106 recommends personalised exercise-based cardiac "
        "rehabilitation for people whose heart failure is stable)",
        "sourcing": "entered",
    }


def build(session: Session, now: datetime) -> list[str]:
    """Both frameworks with their costs, registers and one scenario each; their names."""
    lead_id = session.scalar(select(User.id).where(User.role == "programme_lead"))
    lead = Principal(role="programme_lead", user_id=lead_id)
    sites = {s.code: s.id for s in session.scalars(select(Site)).all()}
    store = FigureStore(session, now)
    unit_costs.set_unit_costs(
        session,
        lead,
        ROUTE,
        now,
        sites["DERBY"],
        UnitCostsIn(
            bed_day_gbp=395.0,
            nurse_hour_gbp=58.0,
            source="Illustrative local figures for the demo (a trust's reference costs)",
        ),
    )
    made = []
    for spec, register, changes in (
        (
            {
                "name": "Derbyshire and LLR heart failure value framework",
                "site_ids": [sites["DERBY"], sites["LLR"]],
                "aim": "People with heart failure in Derbyshire and LLR live well at home, with "
                "fewer emergency admissions, and the stewards spend each pound where it does "
                "most good.",
                "objectives": [
                    "Act on every red alert within the team's response time",
                    "Optimise the four pillars of treatment within 6 months of enrolment",
                    "Cut heart-failure bed days by a fifth in two years",
                    "Close the gap in monitoring between the most and least deprived",
                ],
                "population": {
                    "cohorts": ["new_diagnosis", "post_discharge", "medication_optimisation"],
                    "description": "Adults with heart failure with reduced ejection fraction "
                    "known to the community heart-failure teams of Derbyshire and LLR.",
                },
                "resources": {"team_wte": 16.0, "budget_gbp": 1_200_000},
                "outcomes": _outcomes(20, 80),
            },
            [
                REMOTE_MONITORING,
                _nurse_visits(4_800, 900),
                _iv_diuretics(90),
                _cardiac_rehab(240),
            ],
            [
                ("Specialist heart-failure nurse visits", "increase", 600.0),
                ("IV diuretics at home", "increase", 20.0),
                ("Remote monitoring (MHF @home)", "stabilise", None),
            ],
        ),
        (
            {
                "name": "Mid and South Essex cardiac care value framework",
                "site_ids": [sites["MSE"]],
                "aim": "Mid and South Essex cardiac care that keeps people out of hospital, "
                "fairly across its communities, within the system's means.",
                "objectives": [
                    "Every patient discharged after a heart-failure admission is reviewed "
                    "within 14 days",
                    "Three in four patients take their weight on most days",
                    "Hold the cost per patient-month while the caseload grows",
                ],
                "population": "Adults with heart failure on the Mid and South Essex pathway.",
                "resources": {"team_wte": 8.5, "budget_gbp": 600_000},
                "outcomes": _outcomes(10, 75),
            },
            [
                REMOTE_MONITORING,
                _nurse_visits(2_600, 500),
                _iv_diuretics(45),
                _cardiac_rehab(150),
                {
                    "name": "Heart-failure clinic follow-up (outpatient)",
                    "yearly_activity": 1_400,
                    "activity_unit": "attendances",
                    "unit_cost_gbp": 160,
                    "people_per_year": 700,
                    "sourcing": "entered",
                    "note": "No QALY figure entered.",
                },
            ],
            [
                ("Exercise-based cardiac rehabilitation", "increase", 60.0),
                ("Heart-failure clinic follow-up (outpatient)", "reduce", 300.0),
            ],
        ),
    ):
        framework = frameworks.create(session, lead, ROUTE, now, FrameworkIn.model_validate(spec))
        ids = {}
        for body in register:
            added = interventions.create(
                session, lead, ROUTE, now, framework.id, InterventionIn.model_validate(body), store
            )
            ids[added.name] = added.id
        scenario = ScenarioIn(
            name="Shift towards care at home",
            changes=[
                ChangeIn(intervention_id=ids[name], action=action, by=by)
                for name, action, by in changes
            ],
        )
        interventions.compute_scenario(session, lead, ROUTE, now, framework.id, scenario, store)
        made.append(framework.name)
    return made
