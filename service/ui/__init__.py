"""Server-rendered staff pages under ``/ui``: one module per page area.

``pages`` holds what they share (templates, headers, the gate); ``account``, ``queue``,
``patients`` (with ``caseload`` and ``record_forms``), ``reports`` and the ``admin`` modules the
routes. The pages call the same use cases as the API (``service.<room>.service``), never its
routers (``tests/service/test_project.py``).
"""

from fastapi import FastAPI

from service.ui import (
    account,
    admin,
    admin_sites,
    admin_webhooks,
    device_tokens,
    errors,
    framework_board,
    patients,
    queue,
    record_forms,
    report_pack,
    reports,
    site_stewards,
    stewardship,
    uptake,
)
from service.ui.pages import PageRefused, page_refused

# Each included by the app, not through one /ui router: FastAPI names a nested router's route
# by its own path ("/queue"), and the audit records name the route ("GET /ui/queue").
routers = (
    account.root,
    account.router,
    queue.router,
    patients.router,
    record_forms.router,
    device_tokens.router,
    site_stewards.router,
    reports.router,
    report_pack.router,
    admin.router,
    admin_sites.router,
    admin_webhooks.router,
    stewardship.router,
    framework_board.router,
    uptake.router,
)


def install(app: FastAPI) -> None:
    """What the pages need of the app besides their routes: answering a refused gate, and
    pages instead of problem bodies for what goes wrong under /ui (after the app's handlers)."""
    app.add_exception_handler(PageRefused, page_refused)
    errors.install(app)


__all__ = ["install", "routers"]
