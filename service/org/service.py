"""The organisation use cases shared by the API and the CLI: staff users, site settings."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import pathway
from service import changes
from service.alerting import out_of_hours, policy_from_json
from service.deps import Principal
from service.models import Site, Team, User, UserTeam
from service.problems import Conflict, NotFound, Unprocessable
from service.schemas import ResponsePolicyIn, SitePatch, UserIn, UserOut
from service.security import hash_password


def add_user(session: Session, body: UserIn, now: datetime) -> UserOut:
    """A new active staff user in the given teams; 409 for a taken username, 422 for unknown
    teams."""
    username = body.username.lower()
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("That username is taken.")
    team_ids = list(dict.fromkeys(body.team_ids))
    found = set(session.scalars(select(Team.id).where(Team.id.in_(team_ids))).all())
    missing = [str(t) for t in team_ids if t not in found]
    if missing:
        raise Unprocessable(
            "Unknown team ids.",
            extra={
                "errors": [
                    {"field": "team_ids", "message": f"unknown team {m}", "type": "unknown"}
                    for m in missing
                ]
            },
        )
    user = User(
        id=uuid.uuid4(),
        username=username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=body.role,
        is_active=True,
        created_at=now,
    )
    session.add(user)
    session.flush()
    session.add_all(UserTeam(user_id=user.id, team_id=t) for t in team_ids)
    try:
        session.flush()
    except IntegrityError as exc:
        raise Conflict("That username is taken.") from exc
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        team_ids=team_ids,
    )


def _unsafe(field: str, message: str, kind: str) -> Unprocessable:
    return Unprocessable(
        message, extra={"errors": [{"field": field, "message": message, "type": kind}]}
    )


def _checked_overrides(merged: dict[str, Any]) -> None:
    try:
        pathway.default_pathway().with_overrides(merged)
    except (pathway.UnsafeConfiguration, ValueError, TypeError) as exc:
        field = getattr(exc, "field", None)
        name = f"pathway_overrides.{field}" if field else "pathway_overrides"
        raise _unsafe(name, str(exc), "unsafe") from exc


def _checked_policy(merged: dict[str, Any]) -> dict[str, Any]:
    try:
        policy = ResponsePolicyIn.model_validate(merged).model_dump(exclude_none=True, mode="json")
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(part) for part in error["loc"])
        raise _unsafe(f"response_policy.{where}", str(error["msg"]), "value_error") from exc
    try:
        policy_from_json(policy)
    except ValueError as exc:
        raise _unsafe("response_policy", str(exc), "value_error") from exc
    return policy


def patch_site(
    session: Session, principal: Principal, now: datetime, site_id: uuid.UUID, body: SitePatch
) -> Site:
    """Change a site's pathway overrides and response policy by JSON Merge Patch (RFC 7396),
    each validated as a whole after merging; every change is kept in the site's history."""
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("No such site.")
    patch: dict[str, Any] = body.model_dump(exclude_unset=True, mode="json")
    if "pathway_overrides" in patch:
        before = site.pathway_overrides
        overrides = changes.merge_patch(before or {}, patch["pathway_overrides"]) or None
        if overrides:
            _checked_overrides(overrides)
        if overrides != before:
            site.pathway_overrides = overrides
            changes.record(
                session,
                "site",
                site.id,
                "pathway_overrides",
                before,
                overrides,
                principal.user_id,
                now,
            )
    if "response_policy" in patch:
        before = site.response_policy
        policy = changes.merge_patch(before or {}, patch["response_policy"]) or None
        if policy:
            policy = _checked_policy(policy) or None
        out_of_hours.check_setting(session, site.id, policy or {})
        if policy != before:
            site.response_policy = policy
            changes.record(
                session,
                "site",
                site.id,
                "response_policy",
                before,
                policy,
                principal.user_id,
                now,
            )
    session.flush()
    return site
