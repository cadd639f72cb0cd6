"""Whose site reports a caller may read: a programme lead every site's; a site lead their own
site's; anyone else a site they were granted through an access request (``service.
access_requests``). The site report and its equity splits share this check."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.orm import Session

from service.access_requests.grants import granted_targets, holds_grant
from service.deps import Principal
from service.models import Site
from service.problems import Forbidden
from service.reports import build

# Who may call the site report routes at all; the row check below decides which site.
SITE_REPORT_ROLES = ("programme_lead", "site_lead", "clinician", "site_admin")
# The network report and its charts: every site's disclosed figures side by side.
NETWORK_REPORT_ROLES = ("programme_lead", "site_lead")
ASK = "Ask for access to it: POST /api/v1/access-requests (or the Access requests page)."


def may_read_site_report(
    session: Session, principal: Principal, site_id: uuid.UUID, now: datetime
) -> bool:
    if principal.role == "programme_lead":
        return True
    if principal.role == "site_lead" and principal.site_id == site_id:
        return True
    return holds_grant(session, principal, "site_report", site_id, now)


def readable_sites(
    session: Session, principal: Principal, listed: list[Site], now: datetime
) -> list[Site]:
    """Of ``listed``, the sites whose own report the caller may open, by the rule above, with
    the caller's live grants read in one query."""
    if principal.role == "programme_lead":
        return listed
    granted: set[uuid.UUID] = set()
    if principal.user_id is not None:
        granted = set(session.scalars(granted_targets(principal, "site_report", now)))
    own = principal.site_id if principal.role == "site_lead" else None
    return [site for site in listed if site.id == own or site.id in granted]


def readable_site(
    session: Session, principal: Principal, site_id: uuid.UUID, now: datetime
) -> Site:
    """The site if the caller may read its report; 404 for no such site, 403 for another's.

    Sites are not secret (any staff member lists them), so a refusal says so and says how to
    ask, rather than pretending the site does not exist."""
    site = build.find_site(session, site_id)
    if not may_read_site_report(session, principal, site.id, now):
        raise Forbidden(f"You may not read this site's report. {ASK}")
    return site
