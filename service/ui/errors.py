"""Pages for what goes wrong under ``/ui``: an unknown address, a refused role or a form the
service cannot read answer with an HTML page (in the pages' frame, with the staff member's own
menu), where ``/api`` and ``/fhir`` keep their RFC 9457 problem bodies.

The app's JSON handlers stay installed; these wrap them and answer for page addresses only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.problems import Problem
from service.ui import session as ui_session
from service.ui.pages import error_page
from service.ui.session import PageUser

Handler = Callable[[Request, Exception], Awaitable[Response]]

_TITLES = {
    400: ("The request could not be read", "Go back, reload the page and try again."),
    403: ("You do not have access to this page", "Your account does not include it."),
    404: (
        "Page not found",
        "There is no page at this address. If you typed it, check it; if you followed a link, "
        "what it pointed to may have moved or may not be in your teams.",
    ),
    405: (
        "Page not found",
        "This address is for sending a form, not for opening as a page. Go back to the page "
        "the form was on.",
    ),
    409: ("That change was not made", "Someone else changed it first. Reload and try again."),
    422: (
        "The form could not be read",
        "Some of what was sent is not in the form's format. Go back, reload the page and try "
        "again.",
    ),
}


def is_page(request: Request) -> bool:
    path = request.url.path
    return path == "/ui" or path.startswith("/ui/")


def _signed_in(request: Request) -> PageUser | None:
    data = ui_session.read(request)
    if data is None:
        return None
    with request.app.state.sessions() as session:
        return ui_session.load_user(session, data)


async def _page(request: Request, status: int, message: str | None = None) -> Response:
    user = await run_in_threadpool(_signed_in, request)
    title, default = _TITLES.get(status, ("Something went wrong", "Go back and try again."))
    # Framework wording ("Not Found") tells a nurse nothing; a use case's detail does.
    return error_page(request, user, status, title, message or default)


def install(app: FastAPI) -> None:
    """Answer page addresses with pages; everything else as the app's own handlers do."""
    handlers: dict[type[Exception], Handler] = {
        kind: app.exception_handlers[kind]  # type: ignore[misc]
        for kind in (StarletteHTTPException, RequestValidationError, Problem)
    }

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if is_page(request) and exc.status_code in _TITLES:
            return await _page(request, exc.status_code)
        return await handlers[StarletteHTTPException](request, exc)

    async def on_validation(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        if not is_page(request):
            return await handlers[RequestValidationError](request, exc)
        # A malformed id in the address is an address that leads nowhere.
        in_path = any(err.get("loc", ("",))[0] == "path" for err in exc.errors())
        return await _page(request, 404 if in_path else 422)

    async def on_problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        # Anything else (a 429's Retry-After, a 503) keeps the app's own answer and headers.
        if not is_page(request) or exc.status not in _TITLES:
            return await handlers[Problem](request, exc)
        return await _page(request, exc.status, exc.detail)

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(Problem, on_problem)
