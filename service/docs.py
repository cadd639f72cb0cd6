"""The API's own documentation pages, served from the installed packages, never a CDN.

Swagger UI's scripts and styles come from the ``swagger-ui-bundle`` package, so /docs works on a
machine with no way out to the internet (as a hospital network often is) and the page runs only
code the service ships. ReDoc has no such package and is not served. In production the pages and
/openapi.json are off unless ``MHF_API_DOCS`` turns them on (``Settings.docs_enabled``).
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

OPENAPI_URL = "/openapi.json"
DOCS_URL = "/docs"
ASSETS = "/docs/assets"


def install(app: FastAPI) -> None:
    """Swagger UI at /docs, with its assets at /docs/assets (the app serves /openapi.json)."""
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="swagger-ui-assets")

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title=f"{app.title} - API documentation",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=f"{DOCS_URL}/oauth2-redirect",
            # The bundle's default validator is a public web service the page would call to
            # draw its badge: off, so /docs makes no request off this service.
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(f"{DOCS_URL}/oauth2-redirect", include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()
