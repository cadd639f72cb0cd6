"""Sites, teams and users: admin only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, status
from sqlalchemy import select

from service.deps import NowDep, Principal, SessionDep, require
from service.models import Site, Team, User
from service.org import service
from service.problems import Conflict, NotFound, Unprocessable
from service.schemas import SiteIn, SiteOut, SitePatch, TeamIn, TeamOut, UserIn, UserOut

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
    summary="Set a site's pathway overrides and response times, validated for safety (admin)",
)
def patch_site(site_id: uuid.UUID, body: SitePatch, session: SessionDep, _: Admin) -> Site:
    import pathway
    from service.alerting import out_of_hours, policy_from_json

    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    if body.pathway_overrides is not None:
        try:
            pathway.default_pathway().with_overrides(body.pathway_overrides)
        except (pathway.UnsafeConfiguration, ValueError, TypeError) as exc:
            field = getattr(exc, "field", "pathway_overrides")
            raise Unprocessable(
                str(exc),
                extra={
                    "errors": [
                        {
                            "field": f"pathway_overrides.{field}",
                            "message": str(exc),
                            "type": "unsafe",
                        }
                    ]
                },
            ) from exc
        site.pathway_overrides = body.pathway_overrides
    if body.response_policy is not None:
        policy = body.response_policy.model_dump(exclude_none=True, mode="json")
        try:
            policy_from_json(policy)
        except ValueError as exc:
            raise Unprocessable(
                str(exc),
                extra={
                    "errors": [
                        {"field": "response_policy", "message": str(exc), "type": "value_error"}
                    ]
                },
            ) from exc
        out_of_hours.check_setting(session, site.id, policy)
        site.response_policy = policy
    session.flush()
    return site


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
