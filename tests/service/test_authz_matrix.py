"""The authorization matrix: every route x role x target, and no route left unclassified.

ROUTES lists who may call each route. The walk sends each route as each role against the
caller's own patient/team/site, another team's in the same site, and another site's; it fails
on any unexpected allow, on a cross-tenant read that is not 404, and on any route of the app
that is missing from the table, so a new route cannot ship unclassified.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy import select

from service.app import create_app
from service.db import build_engine
from service.identity.security import hash_device_token
from service.models import AccessRequest, AuditEvent, DeviceToken, Patient
from service.settings import Settings
from tests.fhir.helpers import bundle, quantity_obs, symptoms
from tests.support.clock import T0, FakeClock
from tests.support.db import BACKENDS, empty_database, migrated_url
from tests.support.factories import PASSWORD, make_device_token, make_user
from tests.support.world import build_world, settings_for

# Every test here shares the module's world, so they run together on one xdist worker.
pytestmark = pytest.mark.xdist_group("authz-matrix")

ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD = (
    "anonymous",
    "patient",
    "clinician",
    "programme_lead",
    "admin",
    "site_admin",
    "site_lead",
)
ROLES = (ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD)
# The site admin manages site A: the clinician's own team (A1) and the other team there (A2);
# the site lead stewards site A too.
CALLER = {
    PATIENT: "pat_A1",
    CLINICIAN: "clin_A1",
    LEAD: "lead",
    ADMIN: "admin",
    SITE_ADMIN: "site_admin_A",
    SITE_LEAD: "site_lead_A",
}
# Targets: the clinician's own team (A1), another team of the same site (A2), another site (B1).
TARGETS = {"own": "A1", "other_team": "A2", "other_site": "B1"}


def _reading(**extra: Any) -> dict[str, Any]:
    body = {
        "id": str(uuid.uuid4()),
        "type": "weight",
        "taken_at": (T0 - timedelta(hours=1)).isoformat(),
        "value": 80,
    }
    body.update(extra)
    return body


@dataclass(frozen=True)
class Route:
    roles: frozenset[str]
    # What the path's ids point at: None (no tenant), "patient", "alert", "team", "site", "token",
    # "webhook". Scoped routes must answer 404 for another team's or site's object.
    scope: str | None = None
    body: Callable[[], Any] | None = None
    form: Callable[[], dict[str, str]] | None = None
    # Roles that may see every tenant's object (e.g. a programme lead's site reports).
    unscoped_roles: frozenset[str] = field(default_factory=frozenset)
    # Roles that may reach every team of their own site, and nothing of another site.
    site_roles: frozenset[str] = field(default_factory=frozenset)
    # What a role of the route gets for another tenant's object: 404, or 403 where the object
    # is no secret and the refusal says how to ask for access (a site's report).
    elsewhere: str = "404"
    # A query string the route needs to reach its row check (a required parameter).
    query: str = ""


def R(*roles: str, **kw: Any) -> Route:
    return Route(frozenset(roles), **kw)


ADMINS = frozenset({ADMIN})
SITE_ADMINS = frozenset({SITE_ADMIN})
SITE_STEWARDS = frozenset({SITE_ADMIN, SITE_LEAD})
# A framework is read by the staff of its sites and changed by programme leads, admins and
# its own site's admin or lead.
FRAMEWORK_READ: dict[str, Any] = {
    "scope": "framework",
    "unscoped_roles": frozenset({LEAD, ADMIN}),
    "site_roles": frozenset({CLINICIAN, SITE_ADMIN, SITE_LEAD}),
}
FRAMEWORK_WRITE: dict[str, Any] = {
    "scope": "framework",
    "unscoped_roles": frozenset({LEAD, ADMIN}),
    "site_roles": SITE_STEWARDS,
}
# A site's report: every site for a programme lead, their own for a site lead; anyone else only
# with a grant (none here). Another site's is 403 with how to ask.
SITE_REPORT: dict[str, Any] = {
    "scope": "site",
    "unscoped_roles": frozenset({LEAD}),
    "site_roles": frozenset({SITE_LEAD}),
    "elsewhere": "403",
}
# Admins and programme leads decide every access request.
DECIDERS: dict[str, Any] = {"unscoped_roles": frozenset({LEAD, ADMIN})}
INTERVENTION = {
    "name": "Specialist nurse visits",
    "yearly_activity": 100,
    "activity_unit": "visits",
    "unit_cost_gbp": 60,
    "sourcing": "entered",
}


NETWORK_FRAMEWORK = {
    "name": "Matrix framework",
    "site_ids": [],
    "aim": "An aim",
    "population": "Everyone",
    "resources": {"team_wte": 1},
}


def _without_scope(rules: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in rules.items() if k != "scope"}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/healthz"): R(ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("GET", "/readyz"): R(ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("POST", "/api/v1/auth/token"): R(
        ANON,
        PATIENT,
        CLINICIAN,
        LEAD,
        ADMIN,
        SITE_ADMIN,
        SITE_LEAD,
        form=lambda: {"username": "clin_a1", "password": PASSWORD},
    ),
    ("POST", "/api/v1/auth/logout"): R(CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("GET", "/api/v1/pathway"): R(PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("POST", "/api/v1/sites"): R(
        ADMIN, body=lambda: {"name": "New site", "code": f"S{uuid.uuid4().hex[:6]}"}
    ),
    ("GET", "/api/v1/sites"): R(CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("PATCH", "/api/v1/sites/{site_id}"): R(
        ADMIN,
        SITE_ADMIN,
        scope="site",
        body=lambda: {"response_policy": {"red_within_minutes": 240}},
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    # A site's settings and their history: not patient data, for any staff.
    ("GET", "/api/v1/sites/{site_id}"): R(CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("POST", "/api/v1/sites/{site_id}/teams"): R(
        ADMIN,
        SITE_ADMIN,
        scope="site",
        body=lambda: {"name": f"Team {uuid.uuid4().hex[:6]}"},
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("PATCH", "/api/v1/teams/{team_id}"): R(
        ADMIN,
        SITE_ADMIN,
        scope="team",
        body=lambda: {"escalation_contact": "01332 000000"},
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("GET", "/api/v1/teams"): R(CLINICIAN, ADMIN, SITE_ADMIN),
    ("POST", "/api/v1/users"): R(
        ADMIN,
        SITE_ADMIN,
        body=lambda: {
            "username": f"u{uuid.uuid4().hex[:8]}",
            "password": "a-long-password-1",
            "role": "clinician",
        },
    ),
    ("GET", "/api/v1/users"): R(ADMIN, SITE_ADMIN),
    ("POST", "/api/v1/users/{user_id}/deactivate"): R(
        ADMIN, SITE_ADMIN, scope="user", unscoped_roles=ADMINS, site_roles=SITE_ADMINS
    ),
    ("POST", "/api/v1/users/{user_id}/password"): R(
        ADMIN,
        SITE_ADMIN,
        scope="user",
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
        body=lambda: {"password": "a-long-password-1"},
    ),
    ("GET", "/api/v1/users/me"): R(CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    # Moving the caller's own patient to the team it is in: allowed, and changes nothing (409).
    ("POST", "/api/v1/patients/transfers"): R(
        ADMIN,
        SITE_ADMIN,
        scope="transfer",
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("POST", "/api/v1/patients"): R(CLINICIAN, scope="team_body", body=None),
    ("GET", "/api/v1/patients"): R(CLINICIAN),
    ("GET", "/api/v1/caseload"): R(CLINICIAN),
    ("GET", "/api/v1/patients/{patient_id}"): R(CLINICIAN, scope="patient"),
    ("PATCH", "/api/v1/patients/{patient_id}"): R(
        CLINICIAN, scope="patient", body=lambda: {"thresholds": {"target_weight_kg": 79}}
    ),
    ("GET", "/api/v1/patients/{patient_id}/threshold-history"): R(CLINICIAN, scope="patient"),
    ("POST", "/api/v1/patients/{patient_id}/device-token"): R(CLINICIAN, scope="patient"),
    ("DELETE", "/api/v1/patients/{patient_id}/device-tokens/{token_id}"): R(
        CLINICIAN, scope="token"
    ),
    ("POST", "/api/v1/me/readings"): R(PATIENT, body=_reading),
    ("GET", "/api/v1/me/readings"): R(PATIENT),
    ("POST", "/api/v1/patients/{patient_id}/readings"): R(
        CLINICIAN, scope="patient", body=_reading
    ),
    ("GET", "/api/v1/patients/{patient_id}/readings"): R(CLINICIAN, scope="patient"),
    ("GET", "/api/v1/alerts"): R(CLINICIAN),
    ("GET", "/api/v1/alerts/{alert_id}"): R(CLINICIAN, scope="alert"),
    ("POST", "/api/v1/alerts/{alert_id}/acknowledge"): R(CLINICIAN, scope="alert"),
    ("POST", "/api/v1/alerts/{alert_id}/assign"): R(
        CLINICIAN, scope="alert", body=lambda: {"user_id": "SELF"}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/notes"): R(
        CLINICIAN, scope="alert", body=lambda: {"text": "Phoned the patient"}
    ),
    ("POST", "/api/v1/alerts/{alert_id}/resolve"): R(
        CLINICIAN, scope="alert", body=lambda: {"outcome": "advice_given"}
    ),
    ("POST", "/api/v1/teams/{team_id}/webhooks"): R(
        ADMIN,
        SITE_ADMIN,
        scope="team",
        body=lambda: {"url": "https://hooks.example/mhf", "secret": "a-webhook-secret-123"},
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("GET", "/api/v1/teams/{team_id}/webhooks"): R(
        CLINICIAN,
        ADMIN,
        SITE_ADMIN,
        scope="team",
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("DELETE", "/api/v1/teams/{team_id}/webhooks/{webhook_id}"): R(
        CLINICIAN,
        ADMIN,
        SITE_ADMIN,
        scope="webhook",
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("GET", "/api/v1/teams/{team_id}/webhook-deliveries"): R(
        CLINICIAN,
        ADMIN,
        SITE_ADMIN,
        scope="team",
        unscoped_roles=ADMINS,
        site_roles=SITE_ADMINS,
    ),
    ("GET", "/api/v1/audit/patients/{patient_id}"): R(
        ADMIN, scope="patient", unscoped_roles=frozenset({ADMIN})
    ),
    ("GET", "/api/v1/audit/users/{user_id}"): R(ADMIN),
    # Outcomes recorded by teams, and reports.
    ("POST", "/api/v1/patients/{patient_id}/events"): R(
        CLINICIAN,
        scope="patient",
        body=lambda: {"kind": "ae_attendance", "attended_on": "2026-11-19"},
    ),
    ("GET", "/api/v1/patients/{patient_id}/events"): R(CLINICIAN, scope="patient"),
    ("PATCH", "/api/v1/patients/{patient_id}/events/{event_id}"): R(
        CLINICIAN, scope="event", body=lambda: {"discharged_on": "2026-11-19"}
    ),
    ("DELETE", "/api/v1/patients/{patient_id}/events/{event_id}"): R(CLINICIAN, scope="event"),
    ("POST", "/api/v1/patients/{patient_id}/medications"): R(
        CLINICIAN,
        scope="patient",
        body=lambda: {"pillar": "sglt2i", "status": "started", "changed_on": "2026-11-18"},
    ),
    ("GET", "/api/v1/patients/{patient_id}/medications"): R(CLINICIAN, scope="patient"),
    ("POST", "/api/v1/patients/{patient_id}/kccq"): R(
        CLINICIAN,
        scope="patient",
        body=lambda: {"score": 55, "timepoint": "start", "assessed_on": "2026-11-18"},
    ),
    ("GET", "/api/v1/patients/{patient_id}/kccq"): R(CLINICIAN, scope="patient"),
    ("POST", "/api/v1/patients/{patient_id}/contacts"): R(
        CLINICIAN,
        scope="patient",
        body=lambda: {
            "kind": "call",
            "occurred_at": (T0 - timedelta(hours=1)).isoformat(),
            "minutes": 15,
        },
    ),
    ("GET", "/api/v1/patients/{patient_id}/contacts"): R(CLINICIAN, scope="patient"),
    ("POST", "/api/v1/patients/{patient_id}/discharge"): R(
        CLINICIAN,
        scope="patient",
        body=lambda: {"date": "2026-11-19", "reason": "stable_optimised"},
    ),
    ("GET", "/api/v1/reports/metrics"): R(CLINICIAN, LEAD, ADMIN, SITE_LEAD),
    ("GET", "/api/v1/reports/network"): R(LEAD, SITE_LEAD),
    ("GET", "/api/v1/reports/before-after"): R(LEAD),
    ("GET", "/api/v1/reports/network/funnel"): R(LEAD, SITE_LEAD),
    ("GET", "/api/v1/reports/network/funnel.svg"): R(LEAD, SITE_LEAD),
    ("GET", "/api/v1/reports/network/trend.svg"): R(LEAD, SITE_LEAD),
    ("GET", "/api/v1/reports/sites/{site_id}"): R(LEAD, SITE_LEAD, **SITE_REPORT),
    ("GET", "/api/v1/reports/network/spc"): R(LEAD),
    ("GET", "/api/v1/reports/sites/{site_id}/equity"): R(
        LEAD, SITE_LEAD, query="?by=sex", **SITE_REPORT
    ),
    ("GET", "/api/v1/reports/uptake"): R(LEAD),
    # A site's eligible population: programme leads and admins any site, a site admin their own.
    ("POST", "/api/v1/sites/{site_id}/eligible-population"): R(
        LEAD,
        ADMIN,
        SITE_ADMIN,
        scope="site",
        body=lambda: {
            "as_of": "2026-10-31",
            "source": "Matrix register",
            "groups": [
                {"dimension": "sex", "group": g, "count": n}
                for g, n in (("female", 5), ("male", 4), ("other", 0), ("unknown", 0))
            ],
        },
        unscoped_roles=frozenset({LEAD, ADMIN}),
        site_roles=SITE_ADMINS,
    ),
    ("GET", "/api/v1/sites/{site_id}/eligible-population"): R(
        LEAD,
        ADMIN,
        SITE_ADMIN,
        scope="site",
        unscoped_roles=frozenset({LEAD, ADMIN}),
        site_roles=SITE_ADMINS,
    ),
    ("GET", "/api/v1/reports/teams/{team_id}"): R(CLINICIAN, scope="team"),
    ("GET", "/api/v1/reports/pack"): R(LEAD),
    # A site's lessons for a month: read by the site's staff and the network's stewards,
    # written by the stewards (a site admin: their own site).
    ("GET", "/api/v1/sites/{site_id}/lessons/{month}"): R(
        CLINICIAN,
        LEAD,
        ADMIN,
        SITE_ADMIN,
        scope="site",
        unscoped_roles=frozenset({LEAD, ADMIN}),
        site_roles=frozenset({CLINICIAN, SITE_ADMIN}),
    ),
    ("PUT", "/api/v1/sites/{site_id}/lessons/{month}"): R(
        LEAD,
        ADMIN,
        SITE_ADMIN,
        scope="site",
        body=lambda: {"text": "Matrix lessons."},
        unscoped_roles=frozenset({LEAD, ADMIN}),
        site_roles=SITE_ADMINS,
    ),
    # Stewardship: a site's unit costs, and value frameworks scoped to a site (the "own" and
    # "other_team" targets are site A's framework, "other_site" site B's).
    ("GET", "/api/v1/sites/{site_id}/unit-costs"): R(
        CLINICIAN,
        LEAD,
        ADMIN,
        SITE_ADMIN,
        SITE_LEAD,
        scope="site",
        unscoped_roles=frozenset({LEAD, ADMIN}),
        site_roles=frozenset({CLINICIAN, SITE_ADMIN, SITE_LEAD}),
    ),
    ("PUT", "/api/v1/sites/{site_id}/unit-costs"): R(
        LEAD,
        ADMIN,
        SITE_ADMIN,
        SITE_LEAD,
        scope="site",
        body=lambda: {"nurse_hour_gbp": 60},
        unscoped_roles=frozenset({LEAD, ADMIN}),
        site_roles=SITE_STEWARDS,
    ),
    ("GET", "/api/v1/value-frameworks"): R(CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    # A network framework: a site admin may create one for their own site only.
    ("POST", "/api/v1/value-frameworks"): R(LEAD, ADMIN, body=lambda: dict(NETWORK_FRAMEWORK)),
    ("GET", "/api/v1/value-frameworks/{framework_id}"): R(
        CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, **FRAMEWORK_READ
    ),
    ("PATCH", "/api/v1/value-frameworks/{framework_id}"): R(
        LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, body=lambda: {"aim": "Matrix aim"}, **FRAMEWORK_WRITE
    ),
    ("GET", "/api/v1/value-frameworks/{framework_id}/versions"): R(
        CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, **FRAMEWORK_READ
    ),
    ("GET", "/api/v1/value-frameworks/{framework_id}/interventions"): R(
        CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, **FRAMEWORK_READ
    ),
    ("POST", "/api/v1/value-frameworks/{framework_id}/interventions"): R(
        LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, body=lambda: dict(INTERVENTION), **FRAMEWORK_WRITE
    ),
    ("PATCH", "/api/v1/value-frameworks/{framework_id}/interventions/{intervention_id}"): R(
        LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, body=lambda: {"note": "matrix"}, **FRAMEWORK_WRITE
    ),
    # Each call deletes an intervention made for it ("fresh_intervention").
    ("DELETE", "/api/v1/value-frameworks/{framework_id}/interventions/{intervention_id}"): R(
        LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, **(FRAMEWORK_WRITE | {"scope": "fresh_intervention"})
    ),
    ("POST", "/api/v1/value-frameworks/{framework_id}/scenarios"): R(
        LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, scope="scenario", **_without_scope(FRAMEWORK_WRITE)
    ),
    ("GET", "/api/v1/value-frameworks/{framework_id}/scenarios"): R(
        CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, **FRAMEWORK_READ
    ),
    ("GET", "/api/v1/value-frameworks/{framework_id}/dashboard"): R(
        CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD, **FRAMEWORK_READ
    ),
    # Access requests: asked by staff whose reach ends at their teams or site, decided by the
    # network's admins and programme leads ("fresh_request": a pending request made for the call).
    ("POST", "/api/v1/access-requests"): R(
        CLINICIAN,
        SITE_ADMIN,
        SITE_LEAD,
        body=lambda: {"kind": "site_report", "target_id": "SITE_B", "reason": "matrix"},
    ),
    ("GET", "/api/v1/access-requests"): R(CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("POST", "/api/v1/access-requests/{request_id}/approve"): R(
        LEAD, ADMIN, scope="fresh_request", body=lambda: {"note": "matrix"}, **DECIDERS
    ),
    ("POST", "/api/v1/access-requests/{request_id}/refuse"): R(
        LEAD, ADMIN, scope="fresh_request", body=lambda: {"note": "matrix"}, **DECIDERS
    ),
    # FHIR: the subject is named in the body or the query rather than the path.
    ("GET", "/fhir/metadata"): R(ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD),
    ("GET", "/fhir/Questionnaire/{questionnaire_id}"): R(
        PATIENT, CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD
    ),
    ("POST", "/fhir/Observation"): R(PATIENT, CLINICIAN, scope="fhir_observation"),
    ("POST", "/fhir/QuestionnaireResponse"): R(PATIENT, CLINICIAN, scope="fhir_answers"),
    ("POST", "/fhir"): R(PATIENT, CLINICIAN, scope="fhir_bundle"),
    ("GET", "/fhir/Observation"): R(PATIENT, CLINICIAN, scope="fhir_search"),
    ("GET", "/fhir/QuestionnaireResponse"): R(PATIENT, CLINICIAN, scope="fhir_search"),
    ("GET", "/fhir/Observation/{resource_id}"): R(PATIENT, CLINICIAN, scope="observation"),
    ("GET", "/fhir/QuestionnaireResponse/{resource_id}"): R(PATIENT, CLINICIAN, scope="answers"),
    ("GET", "/fhir/Patient/{patient_id}"): R(CLINICIAN, scope="patient"),
    ("GET", "/fhir/Patient/{patient_id}/$everything"): R(CLINICIAN, scope="patient"),
    ("GET", "/fhir/Flag"): R(CLINICIAN, scope="fhir_search"),
    ("GET", "/fhir/Flag/{flag_id}"): R(CLINICIAN, scope="alert"),
    ("GET", "/fhir/Encounter"): R(CLINICIAN, scope="fhir_search"),
    ("GET", "/fhir/Encounter/{encounter_id}"): R(CLINICIAN, scope="patient"),
    ("GET", "/fhir/MedicationStatement"): R(CLINICIAN, scope="fhir_search"),
    ("GET", "/fhir/MedicationStatement/{statement_id}"): R(CLINICIAN, scope="patient"),
}
# Serves nothing: every method on an unknown FHIR path is a 404 OperationOutcome, for anyone.
CATCH_ALL = "/fhir/{rest:path}"
# Pages use a session cookie and their own CSRF-checked forms; tests/ui walks their role and
# team checks. They are classified here so no page ships unclassified, and a bearer token of any
# kind opens none of them.
UI_ROUTES: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/"): frozenset({ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_LEAD}),
    ("GET", "/ui"): frozenset({ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_LEAD}),
    ("GET", "/ui/"): frozenset({ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_LEAD}),
    ("GET", "/ui/login"): frozenset({ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_LEAD}),
    ("POST", "/ui/login"): frozenset({ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_LEAD}),
    ("POST", "/ui/logout"): frozenset({CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}),
    ("GET", "/ui/static/{name}"): frozenset({ANON, PATIENT, CLINICIAN, LEAD, ADMIN, SITE_LEAD}),
    ("GET", "/ui/account"): frozenset({CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}),
    ("GET", "/ui/queue"): frozenset({CLINICIAN}),
    ("POST", "/ui/alerts/{alert_id}/acknowledge"): frozenset({CLINICIAN}),
    ("POST", "/ui/alerts/{alert_id}/assign"): frozenset({CLINICIAN}),
    ("POST", "/ui/alerts/{alert_id}/notes"): frozenset({CLINICIAN}),
    ("POST", "/ui/alerts/{alert_id}/resolve"): frozenset({CLINICIAN}),
    ("GET", "/ui/patients/{patient_id}"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/thresholds"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/device-token"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/device-tokens/{token_id}/revoke"): frozenset({CLINICIAN}),
    ("GET", "/ui/patients"): frozenset({CLINICIAN}),
    ("GET", "/ui/patients/new"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/new"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/events"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/events/{event_id}/discharged"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/medicines"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/kccq"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/monitoring"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/discharge"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/contact"): frozenset({CLINICIAN}),
    ("POST", "/ui/patients/{patient_id}/contacts"): frozenset({CLINICIAN}),
    ("GET", "/ui/reports"): frozenset({LEAD, SITE_LEAD}),
    ("GET", "/ui/admin/users"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/users/{user_id}/deactivate"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/reports/uptake"): frozenset({LEAD}),
    ("GET", "/ui/patients/{patient_id}/device-token"): frozenset({CLINICIAN}),
    ("GET", "/ui/admin"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/admin/users/new"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/users"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/admin/users/{user_id}/password"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/users/{user_id}/password"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/admin/sites"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/sites"): frozenset({ADMIN}),
    ("GET", "/ui/admin/sites/{site_id}"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/sites/{site_id}"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/sites/{site_id}/teams"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/admin/teams/{team_id}"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/teams/{team_id}"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/admin/webhooks"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/admin/teams/{team_id}/webhooks"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/teams/{team_id}/webhooks"): frozenset({ADMIN, SITE_ADMIN}),
    ("POST", "/ui/admin/teams/{team_id}/webhooks/{webhook_id}/stop"): frozenset(
        {ADMIN, SITE_ADMIN}
    ),
    ("GET", "/ui/admin/teams/{team_id}/webhooks/deliveries"): frozenset({ADMIN, SITE_ADMIN}),
    ("GET", "/ui/reports/network.csv"): frozenset({LEAD, SITE_LEAD}),
    ("GET", "/ui/reports/equity.csv"): frozenset({LEAD, SITE_LEAD}),
    ("GET", "/ui/value-frameworks"): frozenset({CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}),
    ("GET", "/ui/value-frameworks/{framework_id}"): frozenset(
        {CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}
    ),
    ("GET", "/ui/value-frameworks/{framework_id}/dashboard.csv"): frozenset(
        {CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}
    ),
    ("GET", "/ui/reports/spc"): frozenset({LEAD, SITE_LEAD}),
    ("GET", "/ui/reports/funnel"): frozenset({LEAD, SITE_LEAD}),
    ("GET", "/ui/reports/pack.zip"): frozenset({LEAD}),
    ("GET", "/ui/reports/lessons"): frozenset({CLINICIAN, LEAD, ADMIN, SITE_ADMIN}),
    ("POST", "/ui/reports/lessons"): frozenset({LEAD, ADMIN, SITE_ADMIN}),
    ("GET", "/ui/sites/{site_id}/unit-costs"): frozenset(
        {CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}
    ),
    ("POST", "/ui/sites/{site_id}/unit-costs"): frozenset({LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}),
    ("GET", "/ui/access-requests"): frozenset({CLINICIAN, LEAD, ADMIN, SITE_ADMIN, SITE_LEAD}),
    ("POST", "/ui/access-requests"): frozenset({CLINICIAN, SITE_ADMIN, SITE_LEAD}),
    ("POST", "/ui/access-requests/{request_id}/approve"): frozenset({LEAD, ADMIN}),
    ("POST", "/ui/access-requests/{request_id}/refuse"): frozenset({LEAD, ADMIN}),
    ("GET", "/ui/reports/practice"): frozenset({LEAD, SITE_LEAD}),
}
# Documentation routes carry no data.
IGNORED = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def app_routes(app) -> set[tuple[str, str]]:
    found = set()
    for route in iter_route_contexts(app.routes):
        path = route.path
        if path is None or path in IGNORED or path.startswith("/static"):
            continue
        for method in route.methods or ():
            if method != "HEAD":
                found.add((method, path))
    return found


def test_bearer_tokens_open_no_page(matrix):
    """Pages take a staff session cookie only: API tokens of any role get no page content."""
    client, world, objects = matrix
    for (method, path), _roles in UI_ROUTES.items():
        if method != "GET" or path in ("/ui", "/ui/", "/ui/login", "/ui/static/{name}"):
            continue
        url = path.format(**objects["own"])
        for who in ("pat_A1", "clin_A1", "lead", "admin"):
            response = client.get(url, headers=world.auth(who), follow_redirects=False)
            assert response.status_code in (302, 303, 401, 403), (path, who, response.status_code)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE"])
def test_unknown_fhir_paths_are_404_for_everyone(matrix, method):
    client, world, _ = matrix
    for who in (None, "pat_A1", "clin_A1", "lead"):
        headers = world.auth(who) if who else {}
        response = client.request(method, "/fhir/Practitioner/123", headers=headers)
        assert response.status_code in (401, 404), response.text


def test_every_route_a_patients_app_may_call_declares_its_rate_limit():
    """A device token is counted before the route's own work (service.identity.device_limit):
    past its limit, any route a patient may call answers 429 with Retry-After, and says so."""
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, environment="test"))
    paths = app.openapi()["paths"]
    patients = [key for key, route in ROUTES.items() if PATIENT in route.roles]
    checked = 0
    for method, path in patients:
        if ANON in ROUTES[(method, path)].roles:
            continue  # no token is read, none counted
        responses = paths[path][method.lower()]["responses"]
        assert "429" in responses, f"{method} {path}"
        assert "Retry-After" in responses["429"]["headers"], f"{method} {path}"
        checked += 1
    assert checked >= 10


def test_every_route_is_classified():
    app = create_app(Settings(database_url="sqlite://", secret_key="x" * 40, environment="test"))
    missing = {r for r in app_routes(app) if r[1] != CATCH_ALL} - set(ROUTES) - set(UI_ROUTES)
    assert not missing, f"routes missing from the authorization table: {sorted(missing)}"
    stale = (set(ROUTES) | set(UI_ROUTES)) - app_routes(app)
    assert {m for m, p in app_routes(app) if p == CATCH_ALL} <= {
        "GET",
        "POST",
        "PUT",
        "PATCH",
        "DELETE",
    }
    assert not stale, f"table lists routes the app does not have: {sorted(stale)}"


@pytest.fixture(scope="module", params=BACKENDS)
def matrix(request, database_urls, tmp_path_factory):
    """One world for the whole walk per database: the cases only read it or make moves whose
    repeats are harmless, and the one that discharges a patient runs last."""
    url = migrated_url(request.param, database_urls, tmp_path_factory.getbasetemp())
    settings = settings_for(url)
    clock = FakeClock()
    app = create_app(settings, clock=clock)
    with TestClient(app, raise_server_exceptions=False) as client:
        world = build_world(app, settings, clock)
        with app.state.sessions() as session:
            world.users["site_admin_A"] = make_user(
                session, "site_admin_a", "site_admin", [], site_id=world.sites["A"]
            )
            world.users["site_lead_A"] = make_user(
                session, "site_lead_a", "site_lead", [], site_id=world.sites["A"]
            )
            for team in TARGETS.values():
                world.users[f"spare_{team}"] = make_user(
                    session, f"spare_{team.lower()}", "clinician", [world.teams[team]]
                )
            extra = {
                t: make_device_token(session, world.patients[f"pat_{team}"])
                for t, team in TARGETS.items()
            }
            session.commit()
        yield client, world, _objects(client, world, extra)
    engine = build_engine(url)
    empty_database(engine)
    engine.dispose()


def _objects(client, world, tokens):
    """An alert, readings, a spare device token and a webhook per target team, via the API."""
    answers = {
        "breathlessness": "usual",
        "orthopnoea": False,
        "ankle_swelling": "none",
        "dizziness": False,
        "chest_pain": False,
        "fatigue": "usual",
    }
    made: dict[str, dict[str, str]] = {}
    frameworks = {}
    for site in ("A", "B"):
        body = NETWORK_FRAMEWORK | {"site_ids": [str(world.sites[site])]}
        framework = client.post("/api/v1/value-frameworks", json=body, headers=world.auth("lead"))
        assert framework.status_code == 201, framework.text
        fid = framework.json()["id"]
        intervention = client.post(
            f"/api/v1/value-frameworks/{fid}/interventions",
            json=INTERVENTION,
            headers=world.auth("lead"),
        )
        frameworks[site] = {"framework_id": fid, "intervention_id": intervention.json()["id"]}
    with world.app.state.sessions() as s:
        nhs = {r.id: r.nhs_number for r in s.execute(select(Patient.id, Patient.nhs_number))}
    for target, team in TARGETS.items():
        patient = f"pat_{team}"
        pid = world.patients[patient]
        spo2_id, symptoms_id = uuid.uuid4(), uuid.uuid4()
        spo2 = {
            "id": str(spo2_id),
            "type": "spo2",
            "taken_at": (T0 - timedelta(minutes=5)).isoformat(),
            "value": 90,
        }
        symptoms_reading = {
            "id": str(symptoms_id),
            "type": "symptoms",
            "taken_at": (T0 - timedelta(minutes=4)).isoformat(),
            "answers": answers,
        }
        for reading in (spo2, symptoms_reading):
            assert (
                client.post(
                    "/api/v1/me/readings", json=reading, headers=world.auth(patient)
                ).status_code
                == 201
            )
        alerts = client.get("/api/v1/alerts", headers=world.auth(f"clin_{team}")).json()["items"]
        hook = client.post(
            f"/api/v1/teams/{world.teams[team]}/webhooks",
            json={"url": "https://hooks.example/x", "secret": "a-webhook-secret-123"},
            headers=world.auth("admin"),
        ).json()
        event = client.post(
            f"/api/v1/patients/{pid}/events",
            json={"kind": "admission", "admitted_on": "2026-11-10", "hf_related": True},
            headers=world.auth(f"clin_{team}"),
        )
        assert event.status_code == 201, event.text
        medicine = client.post(
            f"/api/v1/patients/{pid}/medications",
            json={"pillar": "mra", "status": "started", "changed_on": "2026-11-12"},
            headers=world.auth(f"clin_{team}"),
        )
        assert medicine.status_code == 201, medicine.text
        with world.app.state.sessions() as s:
            token_id = (
                s.query(DeviceToken)
                .filter_by(token_hash=hash_device_token(tokens[target]))
                .one()
                .id
            )
        made[target] = {
            "patient_id": str(pid),
            "alert_id": alerts[0]["id"],
            "team_id": str(world.teams[team]),
            "site_id": str(world.sites["A" if team.startswith("A") else "B"]),
            "token_id": str(token_id),
            "webhook_id": hook["id"],
            "flag_id": alerts[0]["id"],
            "resource_id": pid.hex + spo2_id.hex,
            "answers_id": pid.hex + symptoms_id.hex,
            "questionnaire_id": "mhf-symptoms",
            "event_id": event.json()["id"],
            "encounter_id": event.json()["id"],
            "statement_id": medicine.json()["id"],
            "user_id": str(world.users[f"clin_{team}"]),
            "spare_user_id": str(world.users[f"spare_{team}"]),
            "nhs_number": nhs[pid],
            "month": "2026-10",
            **frameworks["A" if team.startswith("A") else "B"],
        }
    return made


# Routes that read or change patient data: a staff call that succeeds must leave an audit row
# naming the caller and the patient.
PATIENT_SCOPES = {
    "patient",
    "event",
    "alert",
    "token",
    "team_body",
    "fhir_observation",
    "fhir_answers",
    "fhir_bundle",
    "fhir_search",
    "observation",
    "answers",
}
PATIENT_LISTS = {
    ("GET", "/api/v1/patients"),
    ("GET", "/api/v1/caseload"),
    ("GET", "/api/v1/alerts"),
}
NOT_PATIENT_DATA = {("GET", "/api/v1/audit/patients/{patient_id}")}


def _audited(method: str, path: str, route: Route) -> bool:
    if (method, path) in NOT_PATIENT_DATA:
        return False
    return route.scope in PATIENT_SCOPES or (method, path) in PATIENT_LISTS


def _audit_rows(world, actor: str):
    with world.app.state.sessions() as s:
        return s.execute(
            select(AuditEvent.seq, AuditEvent.patient_id)
            .where(AuditEvent.actor_id == world.users[actor])
            # In the order written: the rows after a count taken before the request are its own.
            .order_by(AuditEvent.seq)
        ).all()


def _fresh_request(world) -> uuid.UUID:
    """A pending request of a spare clinician for site B's report, to approve or refuse."""
    with world.app.state.sessions() as s:
        made = AccessRequest(
            id=uuid.uuid4(),
            kind="site_report",
            target_id=world.sites["B"],
            reason="matrix",
            requested_by=world.users["spare_A1"],
            requested_at=T0,
            status="pending",
        )
        s.add(made)
        s.commit()
        return made.id


def _cases():
    # Discharging the caller's own patient ends its device token: those cases go last. Deleting
    # the event goes after the cases that change it.
    def last(item: tuple[tuple[str, str], Route]) -> tuple[bool, bool, tuple[str, str]]:
        (method, path), _ = item
        deletes_event = method == "DELETE" and path.endswith("{event_id}")
        return path.endswith("/discharge"), deletes_event, item[0]

    order = sorted(ROUTES.items(), key=last)
    for (method, path), route in order:
        for role in ROLES:
            targets = TARGETS if route.scope else {"own": None}
            for target in targets:
                yield pytest.param(
                    method, path, role, target, id=f"{method} {path} {role} {target}"
                )


def _expected(route: Route, role: str, target: str) -> str:
    if role not in route.roles:
        return "401" if role == ANON else "403"
    if target == "own" or route.scope is None or role in route.unscoped_roles:
        return "allowed"
    if role in route.site_roles and target == "other_team":
        return "allowed"
    return route.elsewhere


@pytest.mark.xdist_group("authz-matrix")
@pytest.mark.parametrize(("method", "path", "role", "target"), list(_cases()))
def test_route_role_target(matrix, method, path, role, target):
    client, world, objects = matrix
    route = ROUTES[(method, path)]
    ids = objects[target]
    if route.scope == "answers":
        ids = {**ids, "resource_id": ids["answers_id"]}
    if route.scope == "user":
        ids = {**ids, "user_id": ids["spare_user_id"]}
    if route.scope == "fresh_intervention":
        fresh = client.post(
            f"/api/v1/value-frameworks/{ids['framework_id']}/interventions",
            json=INTERVENTION,
            headers=world.auth("lead"),
        )
        ids = {**ids, "intervention_id": fresh.json()["id"]}
    if route.scope == "fresh_request":
        ids = {**ids, "request_id": str(_fresh_request(world))}
    url = path.format(**ids) + route.query
    if route.scope == "fhir_search":
        url += f"?subject=Patient/{ids['patient_id']}"
    headers = world.auth(CALLER[role]) if role != ANON else {}
    kwargs: dict[str, Any] = {"headers": headers}
    if route.scope == "team_body":
        kwargs["json"] = {
            "nhs_number": "4010232137",
            "date_of_birth": "1950-01-01",
            "sex": "female",
            "team_id": ids["team_id"],
            "cohort": "post_discharge",
        }
    elif route.scope == "transfer":
        kwargs["json"] = {
            "nhs_number": ids["nhs_number"],
            "to_team_id": ids["team_id"],
            "reason": "matrix",
        }
    elif route.scope in ("fhir_observation", "fhir_answers", "fhir_bundle"):
        pid = uuid.UUID(ids["patient_id"])
        resource = (
            symptoms(pid)
            if route.scope == "fhir_answers"
            else quantity_obs("8867-4", 70, "/min", pid)
        )
        kwargs["json"] = bundle([resource]) if route.scope == "fhir_bundle" else resource
    elif route.scope == "scenario":
        change = {"intervention_id": ids["intervention_id"], "action": "increase", "by": 1}
        kwargs["json"] = {"changes": [change]}
    elif route.body is not None:
        body = route.body()
        if isinstance(body, dict) and body.get("user_id") == "SELF":
            body["user_id"] = str(world.users["clin_A1"])
        if isinstance(body, dict) and body.get("target_id") == "SITE_B":
            body["target_id"] = str(world.sites["B"])
        kwargs["json"] = body
    elif route.form is not None:
        kwargs["data"] = route.form()
    before = len(_audit_rows(world, CALLER[role])) if role in (CLINICIAN, ADMIN, SITE_ADMIN) else 0
    response = client.request(method, url, **kwargs)
    status = response.status_code
    if role == CLINICIAN and status < 300 and _audited(method, path, route):
        rows = _audit_rows(world, CALLER[role])
        assert len(rows) > before, (
            f"{method} {path} read or changed patient data without an audit row"
        )
        if (
            "patient_id" in ids
            and route.scope not in ("team_body",)
            and (method, path) not in PATIENT_LISTS
        ):
            assert uuid.UUID(ids["patient_id"]) in {pid for _, pid in rows[before:]}
    assert status != 500, response.text
    expected = _expected(route, role, target)
    if expected == "allowed":
        assert status not in (401, 403, 404), (
            f"{role} refused on own target: {status} {response.text}"
        )
    else:
        assert str(status) == expected, f"expected {expected}, got {status}: {response.text}"
