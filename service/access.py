"""Row-level scoping: which patients a caller may see, and the audit of staff reads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import Request
from sqlalchemy.orm import Session

from service import audit
from service.deps import Principal
from service.models import Patient
from service.problems import NotFound


def patient_for(session: Session, principal: Principal, patient_id: uuid.UUID) -> Patient:
    """The patient if the caller may see them; 404 otherwise, so ids cannot be probed."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound("No such patient.")
    if not can_see(principal, patient):
        audit_refusal(session, principal, patient.id)
        raise NotFound("No such patient.")
    return patient


def audit_refusal(session: Session, principal: Principal, patient_id: uuid.UUID) -> None:
    """Keep a record of a caller reaching for a patient outside their reach (issue 18): the
    404 hides that the patient exists, the trail shows who tried."""

    def entry(route: str) -> audit.AuditEntry:
        return audit.AuditEntry(
            actor_id=principal.user_id,
            actor_role=principal.role,
            patient_id=patient_id,
            action="R",
            route=route,
            outcome="4",
            detail="refused: outside the caller's reach",
        )

    audit.record_refusal(session, entry)


def can_see(principal: Principal, patient: Patient) -> bool:
    if principal.role == "patient":
        return principal.patient_id == patient.id
    if principal.role == "clinician":
        return patient.team_id in principal.team_ids
    return False


def audit_patient_access(
    session: Session,
    route: str,
    principal: Principal,
    patient_ids: list[uuid.UUID] | uuid.UUID,
    action: str,
    now: datetime,
    detail: str | None = None,
) -> None:
    """Record a staff read or change of patient data (patients' own reads are not audited).

    A list of patients (a page of a list) is one record naming them all, so the cost of the
    audit does not grow with the page; a list of one is recorded like a single patient.
    ``route`` is ``route_of(request)``: a plain value, so use cases audit without a request.
    """
    if not principal.is_staff:
        return
    ids = list(dict.fromkeys(patient_ids if isinstance(patient_ids, list) else [patient_ids]))
    if not ids:
        return
    entry = audit.AuditEntry(
        actor_id=principal.user_id,
        actor_role=principal.role,
        patient_id=ids[0] if len(ids) == 1 else None,
        action=action,
        route=route,
        detail=detail,
        patient_ids=tuple(ids) if len(ids) > 1 else (),
    )
    audit.record(session, [entry], now)


def manages_site(principal: Principal, site_id: uuid.UUID) -> bool:
    """A network admin manages every site; a site admin only their own."""
    if principal.role == "admin":
        return True
    return principal.role == "site_admin" and principal.site_id == site_id


def audit_change(
    session: Session,
    route: str,
    principal: Principal,
    action: str,
    now: datetime,
    detail: str,
    *,
    outcome: str = "0",
    patient_id: uuid.UUID | None = None,
) -> None:
    """Record an administrative change (users, sites, teams, webhooks, transfers) or a refused
    attempt (``outcome`` "4"), in the same hash-chained trail as reads of patient data.

    ``detail`` names what changed (``user:<id> deactivated``); a change about one patient (a
    transfer, a refused enrolment) also names the patient, so "who touched P" finds it.
    """
    entry = audit.AuditEntry(
        actor_id=principal.user_id,
        actor_role=principal.role,
        patient_id=patient_id,
        action=action,
        route=route,
        outcome=outcome,
        detail=detail[:2000],
    )
    audit.record(session, [entry], now)


def audit_params(
    route: str, principal: Principal, action: str, now: datetime, detail: str | None
) -> dict[str, Any] | None:
    """The parameters of ``audit.append_patients`` for a statement that audits its own read of
    patients' data as ``audit_patient_access`` would; None if the caller's reads are not audited
    (a patient's own)."""
    if not principal.is_staff:
        return None
    entry = audit.AuditEntry(
        actor_id=principal.user_id,
        actor_role=principal.role,
        patient_id=None,
        action=action,
        route=route,
        detail=detail,
    )
    return audit.append_patients_params(now, entry)


def route_of(request: Request) -> str:
    """The route an audit record names: its template, so ids do not multiply the values."""
    matched = request.scope.get("route")
    return f"{request.method} {getattr(matched, 'path', request.url.path)}"
