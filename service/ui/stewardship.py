"""The value frameworks a staff member may read, listed with their scope and version; each
links to its dashboard page (``/ui/value-frameworks/{id}``). The list is the API's use case,
so the page shows exactly what ``GET /api/v1/value-frameworks`` would."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from service.deps import SessionDep
from service.models import Site
from service.stewardship import frameworks
from service.stewardship.spec import DOMAIN_TITLES
from service.ui.pages import AnyStaff, render

router = APIRouter(prefix="/ui", include_in_schema=False)


@router.get("/value-frameworks", response_class=HTMLResponse)
def value_frameworks_page(request: Request, session: SessionDep, user: AnyStaff) -> Response:
    listed = frameworks.listing(session, user.principal)
    names = {row.id: row.name for row in session.execute(select(Site.id, Site.name))}
    rows = [
        {
            "id": f.id,
            "name": f.name,
            "scope": "The network"
            if f.is_network
            else ", ".join(sorted(names.get(s, "a removed site") for s in f.site_ids)),
            "version": f.version,
            "changed": f.version_created_at,
            "domains": {d: sum(o.domain == d for o in f.outcomes) for d in DOMAIN_TITLES},
        }
        for f in listed
    ]
    return render(
        request,
        "value_frameworks.html",
        user,
        {"nav": "value_frameworks", "frameworks": rows, "domain_titles": DOMAIN_TITLES},
    )
