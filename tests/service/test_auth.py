"""Staff login and token checks."""

from __future__ import annotations

import base64
import json

import jwt
import pytest

from service.identity.security import hash_device_token, issue_access_token, token_settings
from service.models import DeviceToken, User
from tests.support.clock import T0
from tests.support.signin import token_login


def test_login_gives_a_bearer_token_that_works(client, world):
    response = token_login(client, "clin_a1")
    assert response.status_code == 200
    body = response.json()
    assert (
        body["token_type"] == "bearer"
        and body["expires_in"] == world.settings.access_token_minutes * 60
    )
    me = client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json()["username"] == "clin_a1"


def test_wrong_password_and_unknown_user_look_the_same(client, world):
    wrong = token_login(client, "clin_a1", "not the password")
    unknown = token_login(client, "nobody-here", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.headers["content-type"] == "application/problem+json"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_repeated_failures_lock_the_pair_for_a_while_only(client, world, clock):
    for _ in range(5):
        assert token_login(client, "clin_a1", "guess").status_code == 401
    locked = token_login(client, "clin_a1")
    assert locked.status_code == 429
    assert locked.json()["status"] == 429
    clock.advance(seconds=world.settings.login_lockout_seconds + 1)
    assert token_login(client, "clin_a1").status_code == 200


def _forge(claims, key, alg="HS256", header=None):
    return jwt.encode(claims, key, algorithm=alg, headers=header)


def _claims(world, **overrides):
    now = int(T0.timestamp())
    claims = {
        "sub": str(world.users["admin"]),
        "role": "admin",
        "iss": world.settings.token_issuer,
        "aud": world.settings.token_audience,
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


@pytest.mark.parametrize(
    "case",
    [
        "alg_none",
        "wrong_key",
        "expired",
        "wrong_audience",
        "wrong_issuer",
        "no_exp",
        "tampered",
        "garbage",
    ],
)
def test_bad_staff_tokens_are_401(client, world, case):
    key = world.settings.secret_key
    if case == "alg_none":
        token = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims(world)) + "."
    elif case == "wrong_key":
        token = _forge(_claims(world), "another-secret-of-sufficient-length-123")
    elif case == "expired":
        token = _forge(_claims(world, exp=int(T0.timestamp()) - 60), key)
    elif case == "wrong_audience":
        token = _forge(_claims(world, aud="someone-else"), key)
    elif case == "wrong_issuer":
        token = _forge(_claims(world, iss="evil"), key)
    elif case == "no_exp":
        token = _forge(_claims(world, exp=None), key)
    elif case == "tampered":
        good = _forge(_claims(world, role="clinician"), key)
        header, _payload, sig = good.split(".")
        token = ".".join([header, _b64(_claims(world)), sig])
    else:
        token = "not-a-token"
    response = client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json()["title"] == "Not authenticated"


def test_algorithm_confusion_hs384_is_refused(client, world):
    token = _forge(_claims(world), world.settings.secret_key, alg="HS384")
    assert (
        client.get("/api/v1/sites", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    )


def test_a_deactivated_user_token_stops_working(client, world, session):
    session.get(User, world.users["admin"]).is_active = False
    session.commit()
    assert client.get("/api/v1/sites", headers=world.auth("admin")).status_code == 401


def test_missing_token_is_401_with_problem_body(client, world):
    response = client.get("/api/v1/patients")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_revoked_device_token_is_401(client, world):
    headers = world.auth("pat_A1")
    assert client.get("/api/v1/me/readings", headers=headers).status_code == 200
    patient = world.patients["pat_A1"]
    tokens = client.post(f"/api/v1/patients/{patient}/device-token", headers=world.auth("clin_A1"))
    assert tokens.status_code == 201

    with world.app.state.sessions() as s:
        row = (
            s.query(DeviceToken)
            .filter_by(token_hash=hash_device_token(world.device_tokens["pat_A1"]))
            .one()
        )
        token_id = row.id
    revoked = client.delete(
        f"/api/v1/patients/{patient}/device-tokens/{token_id}", headers=world.auth("clin_A1")
    )
    assert revoked.status_code == 204
    assert client.get("/api/v1/me/readings", headers=headers).status_code == 401
    # The newly issued one still works.
    new = {"Authorization": f"Bearer {tokens.json()['token']}"}
    assert client.get("/api/v1/me/readings", headers=new).status_code == 200


def test_issued_tokens_carry_required_claims(world):
    token = issue_access_token(token_settings(world.settings), world.users["admin"], "admin", T0)
    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["alg"] == "HS256"
    assert {"exp", "iss", "aud", "sub", "iat"} <= set(claims)
