"""The access-request routes: ask, list, approve, refuse."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status

from service.access import route_of
from service.access_requests import service
from service.access_requests.schemas import AccessRequestIn, AccessRequestOut, ApproveIn, RefuseIn
from service.deps import NowDep, Principal, SessionDep, require

router = APIRouter(prefix="/api/v1/access-requests", tags=["access requests"])
Requester = Annotated[Principal, Depends(require(*service.REQUESTERS))]
Decider = Annotated[Principal, Depends(require(*service.DECIDERS))]
Anyone = Annotated[Principal, Depends(require(*service.REQUESTERS, *service.DECIDERS))]
HOW = (
    "An approval grants its requester read access to that one site report (with its equity "
    "splits) or value framework, until the end of expires_on (Europe/London) if given. "
    "Every request, decision and grant is audited."
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=AccessRequestOut,
    summary="Ask to read one site's report or one value framework (clinician, site admin, "
    "site lead)",
    description="422 for no such site or framework; 409 for one the caller can already read "
    "or has a pending request for. " + HOW,
)
def ask_access(
    body: AccessRequestIn,
    request: Request,
    session: SessionDep,
    principal: Requester,
    now: NowDep,
) -> AccessRequestOut:
    return service.ask(session, principal, route_of(request), now, body)


@router.get(
    "",
    response_model=list[AccessRequestOut],
    summary="Access requests, pending first (any staff: your own; admins and programme leads: "
    "every one)",
)
def list_access_requests(session: SessionDep, principal: Anyone) -> list[AccessRequestOut]:
    return service.listing(session, principal)


@router.post(
    "/{request_id}/approve",
    response_model=AccessRequestOut,
    summary="Approve a pending access request, with a note and an optional expiry "
    "(admin, programme lead)",
    description="409 if already decided; 403 for your own request. " + HOW,
)
def approve_access(
    request_id: uuid.UUID,
    body: ApproveIn,
    request: Request,
    session: SessionDep,
    principal: Decider,
    now: NowDep,
) -> AccessRequestOut:
    return service.approve(session, principal, route_of(request), now, request_id, body)


@router.post(
    "/{request_id}/refuse",
    response_model=AccessRequestOut,
    summary="Refuse a pending access request, with a note (admin, programme lead)",
    description="409 if already decided; 403 for your own request.",
)
def refuse_access(
    request_id: uuid.UUID,
    body: RefuseIn,
    request: Request,
    session: SessionDep,
    principal: Decider,
    now: NowDep,
) -> AccessRequestOut:
    return service.refuse(session, principal, route_of(request), now, request_id, body)
