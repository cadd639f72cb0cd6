"""Device tokens from the patient page (issue 19, section 5): POST-redirect-GET, the token shown
once on a page a reload cannot repeat, "replace" revoking the tokens in use in the same step,
and the API's ``replace`` option; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from service.models import AuditEvent, DeviceToken
from tests.support.signin import csrf_of, signed_in
from tests.support.world import read

TOKEN = re.compile(r"data-new-token>(mhfd_[^<]+)<")


def _tokens(world, pid: uuid.UUID) -> list[DeviceToken]:
    return read(
        world,
        lambda s: list(
            s.scalars(
                select(DeviceToken)
                .where(DeviceToken.patient_id == pid)
                .order_by(DeviceToken.created_at, DeviceToken.id)
            ).all()
        ),
    )


def _live(world, pid: uuid.UUID) -> list[DeviceToken]:
    return [t for t in _tokens(world, pid) if t.revoked_at is None]


def _works(client: TestClient, token: str) -> bool:
    headers = {"Authorization": f"Bearer {token}"}
    return client.get("/api/v1/me/readings", headers=headers).status_code == 200


def _issue(client: TestClient, pid: uuid.UUID, **extra: str):
    csrf = csrf_of(client.get(f"/ui/patients/{pid}").text)
    return client.post(
        f"/ui/patients/{pid}/device-token",
        data={"csrf_token": csrf, **extra},
        follow_redirects=False,
    )


def test_issuing_redirects_and_the_token_is_shown_once(client, world, clock):
    pid = world.patients["pat_A1"]
    signed_in(client, "clin_a1")
    issued = _issue(client, pid)
    assert issued.status_code == 303
    assert issued.headers["location"] == f"/ui/patients/{pid}/device-token"
    # The POST's answer carries no token in its body or its address.
    assert "mhfd_" not in issued.text and "mhfd_" not in issued.headers["location"]
    shown = client.get(issued.headers["location"])
    assert shown.status_code == 200 and shown.headers["cache-control"] == "no-store"
    token = TOKEN.search(shown.text)
    assert token, shown.text
    assert _works(client, token.group(1))
    # A reload shows that it was shown, never the token, and issues nothing.
    again = client.get(issued.headers["location"])
    assert again.status_code == 200
    assert token.group(1) not in again.text and "already been shown" in again.text
    assert token.group(1) not in client.get(f"/ui/patients/{pid}").text
    assert len(_tokens(world, pid)) == 2  # the fixture's and this one: the reload added none
    # Added beside the one in use, which still works (a second device).
    assert _works(client, world.device_tokens["pat_A1"])
    audits = read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.detail).where(
                AuditEvent.patient_id == pid, AuditEvent.route.like("% /ui/%device-token%")
            )
        ).all(),
    )
    assert audits.count("device-token") == 1  # the issue
    assert audits.count("device-token shown") == 1
    assert audits.count("device-token page") == 1  # the reload


def test_replace_revokes_the_tokens_in_use_in_the_same_step(client, world):
    pid = world.patients["pat_A1"]
    old = world.device_tokens["pat_A1"]
    signed_in(client, "clin_a1")
    assert "Replace the token in use" in client.get(f"/ui/patients/{pid}").text
    issued = _issue(client, pid, replace="1")
    token = TOKEN.search(client.get(issued.headers["location"]).text)
    assert token
    assert not _works(client, old) and _works(client, token.group(1))
    live = _live(world, pid)
    assert len(live) == 1 and len(_tokens(world, pid)) == 2
    replaced = read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.action).where(
                AuditEvent.patient_id == pid, AuditEvent.detail == "device-token replaced 1"
            )
        ).all(),
    )
    assert replaced == ["D"]


def test_the_shown_page_is_bound_to_the_session_and_the_patient(app, client, world, clock):
    pid = world.patients["pat_A1"]
    signed_in(client, "clin_a1")
    issued = _issue(client, pid)
    sealed = client.cookies.get("mhf_ui_new_token")
    assert sealed and "mhfd_" not in sealed  # encrypted, not merely signed
    # Another session of the same nurse, holding a copy of the cookie, is not shown it.
    other = signed_in(TestClient(app), "clin_a1")
    other.cookies.set("mhf_ui_new_token", sealed, path=f"/ui/patients/{pid}/device-token")
    assert not TOKEN.search(other.get(issued.headers["location"]).text)
    # Nor after the few minutes it is kept.
    clock.advance(minutes=6)
    signed_in(client, "clin_a1")
    client.cookies.set("mhf_ui_new_token", sealed, path=f"/ui/patients/{pid}/device-token")
    assert not TOKEN.search(client.get(issued.headers["location"]).text)


def test_a_token_revoked_before_it_is_shown_is_not_shown(client, world):
    pid = world.patients["pat_A1"]
    signed_in(client, "clin_a1")
    issued = _issue(client, pid)
    # The fixture's token was issued by no one; this one by the nurse.
    newest = next(t for t in _tokens(world, pid) if t.created_by is not None)
    csrf = csrf_of(client.get(f"/ui/patients/{pid}").text)
    revoked = client.post(
        f"/ui/patients/{pid}/device-tokens/{newest.id}/revoke",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert revoked.status_code == 303 and "msg=token_revoked" in revoked.headers["location"]
    assert not TOKEN.search(client.get(issued.headers["location"]).text)


def test_issue_and_revoke_need_the_form_token_and_the_patients_team(client, world):
    pid = world.patients["pat_A1"]
    signed_in(client, "clin_a1")
    refused = client.post(f"/ui/patients/{pid}/device-token", data={"replace": "1"})
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert len(_live(world, pid)) == 1
    client.cookies.clear()
    signed_in(client, "clin_b1")
    csrf = csrf_of(client.get("/ui/queue").text)
    other = client.post(
        f"/ui/patients/{pid}/device-token", data={"csrf_token": csrf, "replace": "1"}
    )
    assert other.status_code == 404 and "Patient not found" in other.text
    assert client.get(f"/ui/patients/{pid}/device-token").status_code == 404
    first = next(t for t in _tokens(world, pid) if t.created_by is None)
    revoke = client.post(
        f"/ui/patients/{pid}/device-tokens/{first.id}/revoke", data={"csrf_token": csrf}
    )
    assert revoke.status_code == 404
    assert _live(world, pid) and _works(client, world.device_tokens["pat_A1"])


def test_the_api_replaces_tokens_when_asked_and_adds_one_otherwise(client, world):
    pid = world.patients["pat_A1"]
    headers = world.auth("clin_A1")
    added = client.post(f"/api/v1/patients/{pid}/device-token", headers=headers)
    assert added.status_code == 201 and len(_live(world, pid)) == 2
    replaced = client.post(f"/api/v1/patients/{pid}/device-token?replace=true", headers=headers)
    assert replaced.status_code == 201
    assert [t.id for t in _live(world, pid)] == [uuid.UUID(replaced.json()["id"])]
    assert not _works(client, added.json()["token"])
    assert _works(client, replaced.json()["token"])
    other = client.post(
        f"/api/v1/patients/{pid}/device-token?replace=true", headers=world.auth("clin_B1")
    )
    assert other.status_code == 404 and len(_live(world, pid)) == 1
