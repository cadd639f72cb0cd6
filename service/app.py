"""The composition root: settings, engine, sessions, routers and error handling in one place."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime

from fastapi import FastAPI

from service import contract, docs, health, ui
from service.access_requests import api as access_requests_api
from service.alerting import api as alerts_api
from service.audit import api as audit_api
from service.db import build_engine, build_sessionmaker
from service.fhir import api as fhir
from service.identity import api as identity_api
from service.logs import configure_logging
from service.middleware import (
    AccessLogMiddleware,
    BodyLimitMiddleware,
    ResponseHeadersMiddleware,
    SlowRefusalMiddleware,
    TrustedHostsMiddleware,
)
from service.org import api as org
from service.pathway import api as pathway_api
from service.patients import api as patients
from service.patients import caseload_api as caseload
from service.patients import contacts_api as patient_contacts
from service.patients import events_api as patient_events
from service.patients import outcomes_api as patient_outcomes
from service.problems import install_problem_handlers
from service.readings import api as readings_api
from service.readings import contract as readings_contract
from service.reports import api as reports
from service.reports import before_after_api, pack_api, uptake_api
from service.settings import Settings, get_settings
from service.stewardship import api as stewardship
from service.stewardship import dashboard_api as framework_dashboards
from service.timeutil import utcnow

API_VERSION = "1.0.0"
# FastAPI tries the routers in this order, route by route, on every request: the readings
# router goes first because devices post readings far more often than anything else is called,
# and matching it last cost more CPU than its handler's validation. Order cannot change which
# route answers a request: no two routes match the same method and path
# (tests/service/test_smoke.py::test_no_two_routers_answer_the_same_request). FHIR comes next,
# for apps and systems that post Bundles: matched late, a Bundle walked some 200 routes to
# reach its own, half a millisecond a request.
ROUTERS = (
    readings_api.router,
    fhir.router,
    health.router,
    identity_api.router,
    org.router,
    patients.router,
    caseload.router,
    alerts_api.router,
    pathway_api.router,
    patient_events.router,
    patient_outcomes.router,
    patient_contacts.router,
    reports.router,
    before_after_api.router,
    pack_api.router,
    uptake_api.router,
    stewardship.router,
    framework_dashboards.router,
    access_requests_api.router,
    audit_api.router,
    *ui.routers,
)


def create_app(
    settings: Settings | None = None,
    *,
    clock: Callable[[], datetime] = utcnow,
    configure_logs: bool = False,
) -> FastAPI:
    settings = settings or get_settings()
    if configure_logs:
        configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        app.state.engine.dispose()

    app = FastAPI(
        title="MHF @home monitoring service",
        version=API_VERSION,
        description=(
            "Home readings, pathway rules, the alert queue and site reports for NHS England's "
            "Managing Heart Failure @home pathway. Errors are RFC 9457 problem details."
        ),
        lifespan=lifespan,
        # Served by service.docs from the installed package (no CDN), or not at all.
        openapi_url=docs.OPENAPI_URL if settings.docs_enabled else None,
        docs_url=None,
        redoc_url=None,
    )
    engine = build_engine(settings.database_url)
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessions = build_sessionmaker(engine)
    app.state.clock = clock
    install_problem_handlers(app)
    contract.install(app, readings_contract.COMPONENTS)
    if settings.docs_enabled:
        docs.install(app)
    ui.install(app)
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(ResponseHeadersMiddleware)
    if settings.trusted_hosts is not None:
        app.add_middleware(TrustedHostsMiddleware, allowed_hosts=settings.trusted_hosts)
    app.add_middleware(
        SlowRefusalMiddleware,
        paths=frozenset({"/api/v1/auth/token", "/ui/login"}),
        delay=settings.login_refusal_delay_seconds,
    )
    app.add_middleware(AccessLogMiddleware)
    return app


GC_GEN0_THRESHOLD = 50_000


def app_factory() -> FastAPI:
    """Entry point for uvicorn's ``--factory``."""
    app = create_app(configure_logs=True)
    # Everything loaded so far (modules, the FHIR and pydantic model classes, the routes) lives
    # as long as the process: moved out of the collector's generations, a full collection no
    # longer walks it. A FHIR Bundle of 500 readings allocates enough to trigger one every few
    # requests, and on this heap one took longer than storing the Bundle (bench/ingest.py).
    gc.freeze()
    # A request's own objects (a Bundle of 500 parses to some 30,000 dicts and lists) are freed
    # by reference counting when it ends; at CPython 3.11's default threshold of 700 new
    # objects the collector still ran a dozen times inside each such request, to find nothing:
    # 3 ms of a Bundle's 50 (bench/ingest.py's FHIR path; 0.5 ms of a native batch). At 50,000
    # it runs between requests, and garbage held in reference cycles (which only it frees)
    # waits a little longer. GC_GEN0_THRESHOLD is that figure.
    gc.set_threshold(GC_GEN0_THRESHOLD, *gc.get_threshold()[1:])
    return app
