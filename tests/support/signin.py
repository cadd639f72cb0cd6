"""Signing in as a test user: for the staff pages (session cookie, CSRF) and for the API
(bearer token from the password grant)."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from tests.support.factories import PASSWORD

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def page_login(
    client: TestClient, username: str, password: str = PASSWORD, **extra: str
) -> httpx.Response:
    """Submit the staff login form, as a browser would after opening the page."""
    page = client.get("/ui/login")
    assert page.status_code == 200
    data = {"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    data.update(extra)
    response: httpx.Response = client.post("/ui/login", data=data, follow_redirects=False)
    return response


def signed_in(client: TestClient, username: str) -> TestClient:
    """The client, holding a page session for ``username``."""
    response = page_login(client, username)
    assert response.status_code == 303, response.text
    return client


def token_login(client: TestClient, username: str, password: str = PASSWORD) -> httpx.Response:
    form = {"username": username, "password": password}
    response: httpx.Response = client.post("/api/v1/auth/token", data=form)
    return response
