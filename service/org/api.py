"""Sites, teams and users: network admins everywhere, site admins in their own site."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from sqlalchemy import select

from service import changes
from service.access import route_of
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Site, Team, User
from service.org import service
from service.org.schemas import (
    PasswordIn,
    SiteDetailOut,
    SiteIn,
    SiteOut,
    SitePatch,
    TeamIn,
    TeamOut,
    TeamPatch,
    UserIn,
    UserOut,
)
from service.problems import NotFound
from service.schemas import SettingChangeOut

router = APIRouter(prefix="/api/v1", tags=["organisation"])
Admin = Annotated[Principal, Depends(require("admin"))]
SiteAdmin = Annotated[Principal, Depends(require("admin", "site_admin"))]
AnyStaff = Annotated[
    Principal,
    Depends(require("admin", "site_admin", "clinician", "programme_lead", "site_lead")),
]


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
    summary="Change a site's pathway overrides and response times by JSON Merge Patch, "
    "validated for safety (admin, site admin of the site)",
    description="RFC 7396: a member left out is kept, null removes it, an object is merged "
    "member by member; the merged settings are validated as a whole and a refusal names the "
    "field. Every change is kept in the site's history (GET /api/v1/sites/{site_id}).",
)
def patch_site(
    site_id: uuid.UUID,
    body: SitePatch,
    request: Request,
    session: SessionDep,
    principal: SiteAdmin,
    now: NowDep,
) -> Site:
    return service.patch_site(session, principal, route_of(request), now, site_id, body)


@router.get(
    "/sites/{site_id}",
    response_model=SiteDetailOut,
    summary="A site with its settings and their history (staff)",
)
def get_site(site_id: uuid.UUID, session: SessionDep, _: AnyStaff) -> SiteDetailOut:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    return SiteDetailOut(
        id=site.id,
        code=site.code,
        name=site.name,
        pathway_overrides=site.pathway_overrides,
        response_policy=site.response_policy,
        history=[
            SettingChangeOut.model_validate(c) for c in changes.history(session, "site", site.id)
        ],
    )


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


@router.post(
    "/users/{user_id}/password",
    response_model=UserOut,
    summary="Set a new password for a user: their tokens and sessions stop working at once "
    "(admin; site admin: users of the site)",
    responses={409: {"description": "Your own account, or a deactivated one"}},
)
def reset_password(
    user_id: uuid.UUID,
    body: PasswordIn,
    request: Request,
    session: SessionDep,
    principal: SiteAdmin,
    now: NowDep,
) -> UserOut:
    return service.reset_password(session, principal, route_of(request), now, user_id, body)


@router.get("/users/me", response_model=UserOut, summary="The calling staff user (any staff)")
def me(session: SessionDep, principal: AnyStaff) -> UserOut:
    user = session.get(User, principal.user_id)
    assert user is not None
    return service.user_out(user, list(principal.team_ids))
