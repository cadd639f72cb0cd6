"""Sites, teams and users: network admins everywhere, site admins in their own site."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select

from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Site, Team, User
from service.org import service
from service.problems import Unprocessable
from service.schemas import (
    SiteIn,
    SiteOut,
    SitePatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    UserIn,
    UserOut,
)

router = APIRouter(prefix="/api/v1", tags=["organisation"])
Admin = Annotated[Principal, Depends(require("admin"))]
SiteAdmin = Annotated[Principal, Depends(require("admin", "site_admin"))]
AnyStaff = Annotated[
    Principal, Depends(require("admin", "site_admin", "clinician", "programme_lead"))
]


def _unsafe(field: str, exc: Exception, kind: str) -> Unprocessable:
    return Unprocessable(
        str(exc), extra={"errors": [{"field": field, "message": str(exc), "type": kind}]}
    )


@router.post(
    "/sites",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteOut,
    summary="Create a site (admin)",
)
def create_site(
    body: SiteIn, request: Request, session: SessionDep, principal: Admin, now: NowDep
) -> Site:
    return service.create_site(session, principal, route_of(request), now, body)


@router.patch(
    "/sites/{site_id}",
    response_model=SiteOut,
    summary="Set a site's pathway overrides and response times, validated for safety "
    "(admin, site admin of the site)",
)
def patch_site(
    site_id: uuid.UUID,
    body: SitePatch,
    request: Request,
    session: SessionDep,
    principal: SiteAdmin,
    now: NowDep,
) -> Site:
    import pathway
    from service.alerting import policy_from_json

    site = service.site_for(session, principal, site_id)
    changes: dict[str, Any] = {}
    if body.pathway_overrides is not None:
        try:
            pathway.default_pathway().with_overrides(body.pathway_overrides)
        except (pathway.UnsafeConfiguration, ValueError, TypeError) as exc:
            field = getattr(exc, "field", "pathway_overrides")
            raise _unsafe(f"pathway_overrides.{field}", exc, "unsafe") from exc
        changes["pathway_overrides"] = body.pathway_overrides
    if body.response_policy is not None:
        policy = body.response_policy.model_dump(exclude_none=True, mode="json")
        try:
            policy_from_json(policy)
        except ValueError as exc:
            raise _unsafe("response_policy", exc, "value_error") from exc
        changes["response_policy"] = policy
    return service.set_site_settings(session, principal, route_of(request), now, site, changes)


@router.get("/sites", response_model=list[SiteOut], summary="List sites (staff)")
def list_sites(session: SessionDep, _: AnyStaff) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.name)).all())


@router.post(
    "/sites/{site_id}/teams",
    status_code=status.HTTP_201_CREATED,
    response_model=TeamOut,
    summary="Create a team in a site (admin, site admin of the site)",
)
def create_team(
    site_id: uuid.UUID,
    body: TeamIn,
    request: Request,
    session: SessionDep,
    principal: SiteAdmin,
    now: NowDep,
) -> Team:
    return service.create_team(session, principal, route_of(request), now, site_id, body)


@router.patch(
    "/teams/{team_id}",
    response_model=TeamOut,
    summary="Rename a team or set its escalation contact (admin, site admin of the site)",
)
def patch_team(
    team_id: uuid.UUID,
    body: TeamPatch,
    request: Request,
    session: SessionDep,
    principal: SiteAdmin,
    now: NowDep,
) -> Team:
    return service.patch_team(session, principal, route_of(request), now, team_id, body)


@router.get(
    "/teams",
    response_model=list[TeamOut],
    summary="List teams (admin: all; site admin: the site's; clinician: own)",
)
def list_teams(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin", "site_admin", "clinician"))],
    site_id: Annotated[uuid.UUID | None, Query()] = None,
) -> list[Team]:
    return service.visible_teams(session, principal, site_id)


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Create a user (admin; site admin: clinicians and site admins of the site)",
)
def create_user(
    body: UserIn, request: Request, session: SessionDep, principal: SiteAdmin, now: NowDep
) -> UserOut:
    return service.add_user(session, body, now, principal=principal, route=route_of(request))


@router.get(
    "/users",
    response_model=list[UserOut],
    summary="The users the caller manages (admin: all; site admin: the site's)",
)
def list_users(session: SessionDep, principal: SiteAdmin) -> list[UserOut]:
    return service.manageable_users(session, principal)


@router.post(
    "/users/{user_id}/deactivate",
    response_model=UserOut,
    summary="Deactivate a user: their tokens and sessions stop working at once "
    "(admin; site admin: users of the site)",
)
def deactivate_user(
    user_id: uuid.UUID, request: Request, session: SessionDep, principal: SiteAdmin, now: NowDep
) -> UserOut:
    return service.deactivate_user(session, principal, route_of(request), now, user_id)


@router.get("/users/me", response_model=UserOut, summary="The calling staff user (any staff)")
def me(session: SessionDep, principal: AnyStaff) -> UserOut:
    user = session.get(User, principal.user_id)
    assert user is not None
    return service.user_out(user, list(principal.team_ids))
