"""The organisation use cases shared by the API, the pages and the CLI: sites, teams, users.

Who may change what: a network admin (``admin``) manages every site; a site admin manages one
site's teams and users (``Principal.site_id``), and is answered 404 for anything outside it, as a
clinician is for another team's patient. Every change is recorded in the audit trail, naming
what changed (``access.audit_change``).
"""

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
from service.access import audit_change, manages_site
from service.alerting import out_of_hours, policy_from_json
from service.contacts import Contact, contact_to_show
from service.deps import Principal
from service.identity.security import hash_password
from service.models import Site, Team, User, UserTeam
from service.org.schemas import (
    PasswordIn,
    ResponsePolicyIn,
    SiteIn,
    SitePatch,
    TeamIn,
    TeamPatch,
    UserIn,
    UserOut,
)
from service.problems import Conflict, Forbidden, NotFound, Unprocessable

# The caller the CLI's changes are recorded under: someone with shell access to the service.
CLI = Principal(role="admin")
# What a site admin may make: people who work in their site, never network-wide roles.
SITE_ADMIN_MAY_CREATE = ("clinician", "site_admin", "site_lead")
# The roles tied to one site by ``User.site_id``.
SITE_ROLES = ("site_admin", "site_lead")


def _unprocessable(field: str, message: str) -> Unprocessable:
    return Unprocessable(
        message, extra={"errors": [{"field": field, "message": message, "type": "value_error"}]}
    )


# --- sites -----------------------------------------------------------------------------------


def create_site(
    session: Session, principal: Principal, route: str, now: datetime, body: SiteIn
) -> Site:
    if session.scalar(select(Site.id).where(Site.code == body.code)) is not None:
        raise Conflict(f"A site with code {body.code} exists.")
    site = Site(id=uuid.uuid4(), code=body.code, name=body.name, created_at=now)
    session.add(site)
    session.flush()
    audit_change(session, route, principal, "C", now, f"site:{site.id} created code={site.code}")
    return site


def site_for(session: Session, principal: Principal, site_id: uuid.UUID) -> Site:
    """A site the caller manages; 404 otherwise, so other sites cannot be probed."""
    site = session.get(Site, site_id)
    if site is None or not manages_site(principal, site.id):
        raise NotFound("No such site.")
    return site


# --- teams -----------------------------------------------------------------------------------


def create_team(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    site_id: uuid.UUID,
    body: TeamIn,
) -> Team:
    site_for(session, principal, site_id)
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
    audit_change(
        session,
        route,
        principal,
        "C",
        now,
        f"team:{team.id} created site={site_id} escalation_contact={team.escalation_contact}",
    )
    return team


def team_for(session: Session, principal: Principal, team_id: uuid.UUID) -> Team:
    """A team the caller manages (its site's admin, or a network admin); 404 otherwise."""
    team = session.get(Team, team_id)
    if team is None or not manages_site(principal, team.site_id):
        raise NotFound("No such team.")
    return team


def patch_team(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    team_id: uuid.UUID,
    body: TeamPatch,
) -> Team:
    team = team_for(session, principal, team_id)
    # JSON Merge Patch (RFC 7396): a member left out is kept, null clears it; a team cannot be
    # without a name, so null there is refused, naming the field.
    changes = body.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] is None:
        raise _unprocessable("name", "a team must have a name")
    if "name" in changes and changes["name"] != team.name:
        clash = select(Team.id).where(Team.site_id == team.site_id, Team.name == changes["name"])
        if session.scalar(clash) is not None:
            raise Conflict("A team with that name exists in this site.")
    for key, value in changes.items():
        setattr(team, key, value)
    session.flush()
    detail = ", ".join(f"{k}={v}" for k, v in sorted(changes.items()))
    audit_change(session, route, principal, "U", now, f"team:{team.id} {detail}")
    return team


def visible_teams(session: Session, principal: Principal, site_id: uuid.UUID | None) -> list[Team]:
    """Admin: every team; site admin: their site's; clinician: their own."""
    query = select(Team).order_by(Team.name)
    if site_id:
        query = query.where(Team.site_id == site_id)
    if principal.role == "clinician":
        query = query.where(Team.id.in_(principal.team_ids))
    elif principal.role == "site_admin":
        query = query.where(Team.site_id == principal.site_id)
    return list(session.scalars(query).all())


def escalation_contacts(
    session: Session, team_ids: set[uuid.UUID]
) -> dict[uuid.UUID, Contact | None]:
    """Each team's escalation contact, as a nurse working an escalated alert is shown it."""
    if not team_ids:
        return {}
    rows = session.execute(
        select(Team.id, Team.escalation_contact).where(Team.id.in_(team_ids))
    ).all()
    return {row.id: contact_to_show(row.escalation_contact) for row in rows}


# --- users -----------------------------------------------------------------------------------


def _check_scope(
    session: Session, principal: Principal, body: UserIn, team_ids: list[uuid.UUID]
) -> None:
    teams = session.execute(select(Team.id, Team.site_id).where(Team.id.in_(team_ids))).all()
    found = {t.id: t.site_id for t in teams}
    missing = [str(t) for t in team_ids if t not in found]
    if principal.role == "site_admin":
        # A team outside the site is as unknown to a site admin as one that does not exist.
        missing += [str(t) for t, site in found.items() if site != principal.site_id]
        if body.role not in SITE_ADMIN_MAY_CREATE:
            raise Forbidden(
                "A site admin may create clinicians, site admins and site leads of their site."
            )
        if body.role in SITE_ROLES and body.site_id != principal.site_id:
            raise _unprocessable(
                "site_id", "a site admin may only make admins and leads of their own site"
            )
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
    if body.role in SITE_ROLES:
        if body.site_id is None or session.get(Site, body.site_id) is None:
            raise _unprocessable(
                "site_id",
                "a site admin needs the site they manage"
                if body.role == "site_admin"
                else "a site lead needs the site they steward",
            )
        if body.role == "site_lead" and team_ids:
            # A steward reads aggregates; a team would open its patients.
            raise _unprocessable("team_ids", "a site lead belongs to no team")
    elif body.site_id is not None:
        raise _unprocessable("site_id", "only a site admin or site lead is tied to a site")


def add_user(
    session: Session,
    body: UserIn,
    now: datetime,
    *,
    principal: Principal = CLI,
    route: str = "CLI mhf create-user",
) -> UserOut:
    """A new active staff user in the given teams; 409 for a taken username, 422 for unknown
    teams (or teams outside a site admin's site), 403 for a role the caller may not make."""
    username = body.username.lower()
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict("That username is taken.")
    team_ids = list(dict.fromkeys(body.team_ids))
    _check_scope(session, principal, body, team_ids)
    user = User(
        id=uuid.uuid4(),
        username=username,
        display_name=body.display_name,
        password_hash=hash_password(body.password),
        role=body.role,
        site_id=body.site_id,
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
    teams = ",".join(str(t) for t in team_ids)
    audit_change(
        session,
        route,
        principal,
        "C",
        now,
        f"user:{user.id} created username={user.username} role={user.role} "
        f"site={user.site_id} teams={teams}",
    )
    return user_out(user, team_ids)


def user_out(user: User, team_ids: list[uuid.UUID]) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        role=user.role,
        display_name=user.display_name,
        team_ids=sorted(team_ids),
        site_id=user.site_id,
        is_active=user.is_active,
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
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    site_id: uuid.UUID,
    body: SitePatch,
) -> Site:
    """Change a site's pathway overrides and response policy by JSON Merge Patch (RFC 7396),
    each validated as a whole after merging; every change is kept in the site's history and
    audited with what it became (they set alert thresholds and due times)."""
    site = site_for(session, principal, site_id)
    patch: dict[str, Any] = body.model_dump(exclude_unset=True, mode="json")
    changed: dict[str, Any] = {}
    if "name" in patch:
        if patch["name"] is None:
            raise _unprocessable("name", "a site must have a name")
        if patch["name"] != site.name:
            site.name = changed["name"] = patch["name"]
    if "pathway_overrides" in patch:
        before = site.pathway_overrides
        overrides = changes.merge_patch(before or {}, patch["pathway_overrides"]) or None
        if overrides:
            _checked_overrides(overrides)
        if overrides != before:
            site.pathway_overrides = changed["pathway_overrides"] = overrides
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
            site.response_policy = changed["response_policy"] = policy
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
    if changed:
        detail = ", ".join(f"{k}={v}" for k, v in sorted(changed.items()))
        audit_change(session, route, principal, "U", now, f"site:{site.id} {detail}")
    return site


def manageable_sites(session: Session, principal: Principal) -> list[Site]:
    """The sites the caller manages: every site for a network admin, their own for a site
    admin, none for anyone else."""
    query = select(Site).order_by(Site.name)
    if principal.role == "site_admin":
        query = query.where(Site.id == principal.site_id)
    elif principal.role != "admin":
        return []
    return list(session.scalars(query).all())


def _teams_of(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = session.execute(
        select(UserTeam.user_id, UserTeam.team_id).where(UserTeam.user_id.in_(user_ids))
    ).all()
    out: dict[uuid.UUID, list[uuid.UUID]] = {u: [] for u in user_ids}
    for row in rows:
        out[row.user_id].append(row.team_id)
    return out


def _in_site(session: Session, user: User, team_ids: list[uuid.UUID], site_id: uuid.UUID) -> bool:
    """The user works only in ``site_id``: a clinician whose teams are all there, or its site
    admin. Someone who also works elsewhere is the network admin's to manage."""
    if user.role in SITE_ROLES:
        return user.site_id == site_id
    if user.role != "clinician" or not team_ids:
        return False
    sites = set(session.scalars(select(Team.site_id).where(Team.id.in_(team_ids))).all())
    return sites == {site_id}


def manageable_users(session: Session, principal: Principal) -> list[UserOut]:
    """The users the caller manages: all for a network admin, their site's for a site admin."""
    users = list(session.scalars(select(User).order_by(User.username)).all())
    teams = _teams_of(session, [u.id for u in users])
    if principal.role == "site_admin":
        assert principal.site_id is not None
        users = [u for u in users if _in_site(session, u, teams[u.id], principal.site_id)]
    return [user_out(u, teams[u.id]) for u in users]


def _managed_user(
    session: Session, principal: Principal, user_id: uuid.UUID
) -> tuple[User, list[uuid.UUID]]:
    """A user the caller manages, with their teams; 404 for anyone else, as for no one."""
    user = session.get(User, user_id)
    team_ids = _teams_of(session, [user_id])[user_id] if user is not None else []
    if user is None or (
        principal.role == "site_admin"
        and (principal.site_id is None or not _in_site(session, user, team_ids, principal.site_id))
    ):
        raise NotFound("No such user.")
    return user, team_ids


def deactivate_user(
    session: Session, principal: Principal, route: str, now: datetime, user_id: uuid.UUID
) -> UserOut:
    """Switch a user off: their bearer tokens and page sessions stop working with this
    request's commit (both are checked against the user on every request). Idempotent."""
    user, team_ids = _managed_user(session, principal, user_id)
    if user.id == principal.user_id:
        # An admin locking themselves out leaves no one to undo it.
        raise Conflict("You cannot deactivate your own account.")
    if user.is_active:
        user.is_active = False
        # Reactivating the account later must not bring its old tokens back to life.
        user.sessions_valid_after = now
        session.flush()
        audit_change(session, route, principal, "U", now, f"user:{user.id} deactivated")
    return user_out(user, team_ids)


def reset_password(
    session: Session,
    principal: Principal,
    route: str,
    now: datetime,
    user_id: uuid.UUID,
    body: PasswordIn,
) -> UserOut:
    """Set a new password for someone who forgot theirs (or whose password may be known to
    someone else): every session and token they hold stops working, as on deactivation."""
    user, team_ids = _managed_user(session, principal, user_id)
    if user.id == principal.user_id:
        # Signing yourself out everywhere by mistake, with a password typed by no one else.
        raise Conflict("You cannot reset your own password here.")
    if not user.is_active:
        raise Conflict("The user is deactivated: their password cannot be reset.")
    user.password_hash = hash_password(body.password)
    user.sessions_valid_after = now
    session.flush()
    audit_change(session, route, principal, "U", now, f"user:{user.id} password reset")
    return user_out(user, team_ids)


def end_sessions(session: Session, user_id: uuid.UUID, now: datetime) -> None:
    """Sign a user out everywhere: every token and page session issued until now dies."""
    user = session.get(User, user_id)
    if user is not None:
        user.sessions_valid_after = now
