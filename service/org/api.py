"""Sites, teams and users: admin only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select

from service import changes
from service.deps import NowDep, Principal, SessionDep, require
from service.models import Site, Team, User
from service.org import service
from service.problems import Conflict, NotFound
from service.schemas import (
    SettingChangeOut,
    SiteDetailOut,
    SiteIn,
    SiteOut,
    SitePatch,
    TeamIn,
    TeamOut,
    UserIn,
    UserOut,
)

router = APIRouter(prefix="/api/v1", tags=["organisation"])
Admin = Annotated[Principal, Depends(require("admin"))]
AnyStaff = Annotated[Principal, Depends(require("admin", "clinician", "programme_lead"))]


@router.post(
    "/sites",
    status_code=status.HTTP_201_CREATED,
    response_model=SiteOut,
    summary="Create a site (admin)",
)
def create_site(body: SiteIn, session: SessionDep, _: Admin, now: NowDep) -> Site:
    if session.scalar(select(Site.id).where(Site.code == body.code)) is not None:
        raise Conflict(f"A site with code {body.code} exists.")
    site = Site(id=uuid.uuid4(), code=body.code, name=body.name, created_at=now)
    session.add(site)
    session.flush()
    return site


@router.patch(
    "/sites/{site_id}",
    response_model=SiteOut,
    summary="Change a site's pathway overrides and response times by JSON Merge Patch, "
    "validated for safety (admin)",
    description="RFC 7396: a member left out is kept, null removes it, an object is merged "
    "member by member; the merged settings are validated as a whole and a refusal names the "
    "field. Every change is kept in the site's history (GET /api/v1/sites/{site_id}).",
)
def patch_site(
    site_id: uuid.UUID, body: SitePatch, session: SessionDep, principal: Admin, now: NowDep
) -> Site:
    return service.patch_site(session, principal, now, site_id, body)


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
    summary="Create a team in a site (admin)",
)
def create_team(
    site_id: uuid.UUID, body: TeamIn, session: SessionDep, _: Admin, now: NowDep
) -> Team:
    if session.get(Site, site_id) is None:
        raise NotFound("No such site.")
    exists = select(Team.id).where(Team.site_id == site_id, Team.name == body.name)
    if session.scalar(exists) is not None:
        raise Conflict("A team with that name exists in this site.")
    team = Team(
        id=uuid.uuid4(),
        site_id=site_id,
        name=body.name,
        escalation_contact=body.escalation_contact,
        created_at=now,
    )
    session.add(team)
    session.flush()
    return team


@router.get(
    "/teams", response_model=list[TeamOut], summary="List teams (admin: all; clinician: own)"
)
def list_teams(
    session: SessionDep,
    principal: Annotated[Principal, Depends(require("admin", "clinician"))],
    site_id: Annotated[uuid.UUID | None, Query()] = None,
) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if site_id:
        query = query.where(Team.site_id == site_id)
    if principal.role == "clinician":
        query = query.where(Team.id.in_(principal.team_ids))
    return list(session.scalars(query).all())


@router.post(
    "/users",
    status_code=status.HTTP_201_CREATED,
    response_model=UserOut,
    summary="Create a user (admin)",
)
def create_user(body: UserIn, session: SessionDep, _: Admin, now: NowDep) -> UserOut:
    return service.add_user(session, body, now)


@router.get("/users/me", response_model=UserOut, summary="The calling staff user (any staff)")
def me(session: SessionDep, principal: AnyStaff) -> UserOut:
    user = session.get(User, principal.user_id)
    assert user is not None
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        team_ids=sorted(principal.team_ids),
    )
