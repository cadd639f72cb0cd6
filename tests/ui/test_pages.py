"""The staff pages through TestClient, on SQLite and PostgreSQL: sessions, CSRF, who may open
what, each queue action, thresholds with their audit, device tokens, reports and charts."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from service import charts
from service.models import AuditEvent, Reading, User
from service.ui import patient_charts
from service.ui.session import COOKIE_NAME
from tests.support.clock import T0
from tests.support.factories import NHS_NUMBERS, PASSWORD
from tests.support.readings import raise_red_alert
from tests.support.signin import csrf_of, page_login, signed_in
from tests.support.world import alert_row, patient_row, read


def queue_form(client: TestClient) -> tuple[str, str]:
    page = client.get("/ui/queue")
    assert page.status_code == 200
    return csrf_of(page.text), page.text


def ui_audits(world, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).where(AuditEvent.route.like("% /ui/%"))
    if action:
        query = query.where(AuditEvent.action == action)
    return read(world, lambda s: list(s.scalars(query).all()))


# --- sign in, sessions, CSRF -------------------------------------------------------------------


def test_login_sets_a_safe_session_cookie_and_logout_ends_it(client, world):
    response = page_login(client, "clin_a1")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/queue"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/ui" in cookie
    assert "Secure" not in cookie  # plain http in tests
    assert client.get("/ui/queue").status_code == 200

    token = csrf_of(client.get("/ui/queue").text)
    out = client.post("/ui/logout", data={"csrf_token": token}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"].startswith("/ui/login")
    after = client.get("/ui/queue", follow_redirects=False)
    assert after.status_code == 303 and after.headers["location"].startswith("/ui/login")


def test_sign_out_revokes_a_copied_cookie(client, world, clock):
    page_login(client, "clin_a1")
    stolen = client.cookies.get(COOKIE_NAME)
    clock.advance(seconds=5)
    token = csrf_of(client.get("/ui/queue").text)
    client.post("/ui/logout", data={"csrf_token": token}, follow_redirects=False)
    client.cookies.set(COOKIE_NAME, stolen, path="/ui")
    replay = client.get("/ui/queue", follow_redirects=False)
    assert replay.status_code == 303 and replay.headers["location"].startswith("/ui/login")
    # Signing in again afterwards works.
    clock.advance(seconds=1)
    client.cookies.clear()
    page_login(client, "clin_a1")
    assert client.get("/ui/queue").status_code == 200


def test_cookie_is_secure_when_served_over_https(app, world):
    with TestClient(app, base_url="https://testserver") as secure_client:
        response = page_login(secure_client, "clin_a1")
        assert response.status_code == 303
        assert "Secure" in response.headers["set-cookie"]


def test_pages_carry_security_headers_and_a_lang_attribute(client, world):
    page = signed_in(client, "clin_a1").get("/ui/queue")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert '<html lang="en-GB">' in page.text
    assert 'class="skip-link" href="#main"' in page.text


def test_wrong_password_is_refused_and_repeated_failures_lock(client, world, clock):
    wrong = page_login(client, "clin_a1", "not the password")
    assert wrong.status_code == 401
    assert "username or password is not right" in wrong.text
    assert COOKIE_NAME not in client.cookies or "queue" not in wrong.text
    for _ in range(4):
        assert page_login(client, "clin_a1", "guess").status_code == 401
    locked = page_login(client, "clin_a1")
    assert locked.status_code == 429
    clock.advance(seconds=world.settings.login_lockout_seconds + 1)
    assert page_login(client, "clin_a1").status_code == 303


def test_login_without_the_form_token_is_refused(client, world):
    client.get("/ui/login")
    response = client.post(
        "/ui/login",
        data={"username": "clin_a1", "password": PASSWORD, "csrf_token": "forged"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_login_never_redirects_off_site(client, world):
    response = page_login(client, "clin_a1", next="//evil.example/ui/queue")
    assert response.status_code == 303 and response.headers["location"] == "/ui/queue"
    client.cookies.clear()
    response = page_login(client, "clin_a1", next="/ui/queue?severity=red")
    assert response.headers["location"] == "/ui/queue?severity=red"


def test_every_post_needs_the_session_token(client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    for path, data in (
        (f"/ui/alerts/{alert_id}/acknowledge", {}),
        (f"/ui/alerts/{alert_id}/assign", {}),
        (f"/ui/alerts/{alert_id}/notes", {"text": "hello"}),
        (f"/ui/alerts/{alert_id}/resolve", {"outcome": "advice_given"}),
        (f"/ui/patients/{world.patients['pat_A1']}/thresholds", {"target_weight_kg": "70"}),
        (f"/ui/patients/{world.patients['pat_A1']}/device-token", {}),
    ):
        for token in (None, "0" * 64):
            body = dict(data, **({"csrf_token": token} if token else {}))
            response = client.post(path, data=body, follow_redirects=False)
            assert response.status_code == 403, (path, response.status_code)
            assert "This form has expired" in response.text
    alert = alert_row(world, alert_id)
    assert alert.status == "open" and alert.assignee_id is None
    assert patient_row(world, world.patients["pat_A1"]).version == 1


def test_a_token_from_another_session_is_refused(app, client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    stolen_from_other_session = csrf_of(client.get("/ui/queue").text)
    with TestClient(app) as other:
        signed_in(other, "clin_a1")
        response = other.post(
            f"/ui/alerts/{alert_id}/acknowledge",
            data={"csrf_token": stolen_from_other_session},
            follow_redirects=False,
        )
        assert response.status_code == 403
    assert alert_row(world, alert_id).status == "open"


def test_the_session_expires_after_a_shift(client, world, clock):
    signed_in(client, "clin_a1")
    clock.advance(hours=7, minutes=59)
    assert client.get("/ui/queue").status_code == 200
    clock.advance(minutes=2)
    response = client.get("/ui/queue", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=%2Fui%2Fqueue"


def test_a_deactivated_user_is_signed_out_at_once(client, world):
    signed_in(client, "clin_a1")
    with world.app.state.sessions() as s:
        user = s.get(User, world.users["clin_A1"])
        assert user is not None
        user.is_active = False
        s.commit()
    assert client.get("/ui/queue", follow_redirects=False).status_code == 303


def test_a_tampered_cookie_is_ignored(client, world):
    signed_in(client, "clin_a1")
    value = client.cookies[COOKIE_NAME]
    body, mac = value.split(".")
    forged = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    client.cookies.clear()
    client.cookies.set(COOKIE_NAME, forged, path="/ui")
    assert client.get("/ui/queue", follow_redirects=False).status_code == 303


# --- who may open what --------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    for path in ("/ui/queue", f"/ui/patients/{world.patients['pat_A1']}", "/ui/reports", "/ui/"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/ui/login?next=")


def test_a_device_token_opens_no_page(client, world):
    headers = world.auth("pat_A1")
    pid = world.patients["pat_A1"]
    for path in (
        "/ui/",
        "/ui/queue",
        f"/ui/patients/{pid}",
        "/ui/reports",
        "/ui/reports/network.csv",
        "/ui/account",
    ):
        response = client.get(path, headers=headers, follow_redirects=False)
        assert response.status_code == 401, path
        assert "Sign in to use these pages" in response.text
        assert "943 476 5919" not in response.text
    posted = client.post(
        f"/ui/patients/{pid}/device-token", headers=headers, follow_redirects=False
    )
    assert posted.status_code == 401


def test_another_teams_patient_is_404_not_403(client, world):
    signed_in(client, "clin_a2")
    before = len(ui_audits(world))
    response = client.get(f"/ui/patients/{world.patients['pat_A1']}")
    assert response.status_code == 404
    assert "Patient not found" in response.text
    assert "943 476 5919" not in response.text
    assert client.get(f"/ui/patients/{uuid.uuid4()}").status_code == 404
    assert client.get("/ui/patients/not-a-uuid").status_code == 404
    # Nothing was read; the refused probe of a real patient is kept (issue 18 finding 8).
    [refused] = ui_audits(world)[before:]
    assert (refused.outcome, refused.patient_id) == ("4", world.patients["pat_A1"])


def test_another_teams_alert_cannot_be_moved(client, world):
    alert_id = raise_red_alert(client, world, "pat_A1")
    signed_in(client, "clin_a2")
    token, _ = queue_form(client)
    response = client.post(
        f"/ui/alerts/{alert_id}/acknowledge", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and "msg=not_found" in response.headers["location"]
    assert alert_row(world, alert_id).status == "open"


@pytest.mark.parametrize("who", ["lead", "admin"])
def test_non_clinicians_cannot_open_clinical_pages(client, world, who):
    signed_in(client, who)
    for path in ("/ui/queue", f"/ui/patients/{world.patients['pat_A1']}"):
        response = client.get(path)
        assert response.status_code == 403, path
        assert "943 476 5919" not in response.text


@pytest.mark.parametrize("who", ["clin_a1", "admin"])
def test_only_programme_leads_open_reports(client, world, who):
    signed_in(client, who)
    assert client.get("/ui/reports").status_code == 403
    assert client.get("/ui/reports/network.csv").status_code == 403
    assert client.get("/ui/reports/equity.csv").status_code == 403


def test_admin_may_sign_in_and_sees_no_clinical_data(client, world):
    response = page_login(client, "admin")
    assert response.headers["location"] == "/ui/admin"
    page = client.get("/ui/admin")
    assert page.status_code == 200 and "no clinical data" not in page.text.lower()
    assert "not shown to administrators" in page.text


# --- the queue and its actions -----------------------------------------------------------------


def test_queue_shows_red_alert_with_patient_rule_evidence_and_wait(client, world, clock):
    alert_id = raise_red_alert(client, world)
    clock.advance(minutes=45)
    signed_in(client, "clin_a1")
    page = client.get("/ui/queue")
    assert page.status_code == 200
    html = page.text
    assert f'id="alert-{alert_id}"' in html
    assert "943 476 5919" in html  # 3-3-4
    assert "76 years" in html and "Post-discharge" in html
    assert 'class="badge badge--red"' in html and ">Red</span>" in html
    assert "SpO2" in html or "oxygen" in html.lower()
    assert "45 min" in html  # raised when the reading arrived, seen 45 minutes later
    # Other teams' alerts never show.
    raise_red_alert(client, world, "pat_A2")
    assert "943 476 5870" not in client.get("/ui/queue").text
    # Reading the queue is audited like the API's list.
    assert any(a.detail == "alert-queue" for a in ui_audits(world, "R"))


def test_queue_filters_by_team_and_severity(client, world):
    raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    assert "943 476 5919" in client.get("/ui/queue?severity=red").text
    assert "943 476 5919" not in client.get("/ui/queue?severity=amber").text
    assert "943 476 5919" in client.get(f"/ui/queue?team={world.teams['A1']}").text
    # Another team's id is ignored, not trusted: the caller's own teams are shown.
    assert client.get(f"/ui/queue?team={world.teams['B1']}").status_code == 200


def test_each_queue_action_from_the_page(client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    token, _ = queue_form(client)

    def post(action: str, **data: str):
        body = {"csrf_token": token, "return_to": "/ui/queue?severity=red", **data}
        return client.post(f"/ui/alerts/{alert_id}/{action}", data=body, follow_redirects=False)

    version = str(alert_row(world, alert_id).version)
    ack = post("acknowledge", version=version)
    assert ack.status_code == 303
    assert ack.headers["location"] == f"/ui/queue?severity=red&msg=acknowledged#alert-{alert_id}"
    assert alert_row(world, alert_id).status == "acknowledged"
    assert "Alert acknowledged." in client.get(ack.headers["location"]).text

    assert "msg=assigned" in post("assign").headers["location"]
    assert alert_row(world, alert_id).assignee_id == world.users["clin_A1"]

    assert (
        "msg=noted" in post("notes", text="Phoned: breathless on stairs only").headers["location"]
    )
    assert "msg=invalid_note" in post("notes", text="   ").headers["location"]
    page = client.get("/ui/queue")
    assert "Phoned: breathless on stairs only" in page.text and "Assigned to you" in page.text

    assert "msg=invalid_outcome" in post("resolve", outcome="made_up").headers["location"]
    stale = post("resolve", outcome="advice_given", version=version)
    assert "msg=conflict" in stale.headers["location"]
    done = post("resolve", outcome="diuretic_adjusted", note="Furosemide up for 3 days")
    assert "msg=resolved" in done.headers["location"]
    alert = alert_row(world, alert_id)
    assert alert.status == "resolved" and alert.outcome == "diuretic_adjusted"
    assert f'id="alert-{alert_id}"' not in client.get("/ui/queue").text
    assert "msg=conflict" in post("acknowledge").headers["location"]
    # Every change was audited through the API's own functions.
    details = {a.detail for a in ui_audits(world, "U")}
    assert {"acknowledge", "assign", "note", "resolve"} <= details


def test_return_to_cannot_leave_the_pages(client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    token, _ = queue_form(client)
    response = client.post(
        f"/ui/alerts/{alert_id}/acknowledge",
        data={"csrf_token": token, "return_to": "https://evil.example/"},
        follow_redirects=False,
    )
    assert response.headers["location"].startswith("/ui/queue?msg=acknowledged")


# --- the patient record --------------------------------------------------------------------------


def test_patient_record_has_charts_timeline_alerts_and_audit(client, world):
    alert_id = raise_red_alert(client, world)
    weights = [
        {
            "id": str(uuid.uuid4()),
            "type": "weight",
            "taken_at": (T0 - timedelta(days=d, hours=2)).isoformat(),
            "value": 80 + d / 10,
        }
        for d in range(5, 0, -1)
    ]
    client.post("/api/v1/me/readings", json={"readings": weights}, headers=world.auth("pat_A1"))
    signed_in(client, "clin_a1")
    page = client.get(f"/ui/patients/{world.patients['pat_A1']}")
    assert page.status_code == 200
    html = page.text
    assert "943 476 5919" in html
    assert 'id="chart-weight-title"' in html and 'aria-labelledby="chart-weight-title' in html
    assert "Target 80 kg" in html  # the patient's target weight line
    assert "Amber at 82 kg" in html  # and the amber line the pathway judges weight by
    assert html.count("<svg") >= 4 and 'id="chart-spo2-desc"' in html
    assert f'id="alert-{alert_id}"' in html and "Red alert raised" in html
    assert 'class="chart chart--narrow"' in html  # a layout for a phone, not a shrunk one
    assert any(
        a.detail == "ui-patient-record" and a.patient_id == world.patients["pat_A1"]
        for a in ui_audits(world, "R")
    )


def test_threshold_edit_is_checked_saved_and_audited(client, world):
    pid = world.patients["pat_A1"]
    signed_in(client, "clin_a1")
    page = client.get(f"/ui/patients/{pid}")
    token = csrf_of(page.text)
    good = {
        "csrf_token": token,
        "version": "1",
        "target_weight_kg": "78.5",
        "spo2_red_at_or_below": "90",
    }
    response = client.post(f"/ui/patients/{pid}/thresholds", data=good, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == f"/ui/patients/{pid}?msg=thresholds_saved#thresholds"
    patient = patient_row(world, pid)
    assert patient.thresholds == {"target_weight_kg": 78.5, "spo2_red_at_or_below": 90}
    assert patient.version == 2
    updates = [a for a in ui_audits(world, "U") if a.patient_id == pid]
    assert updates and updates[-1].detail == "thresholds"

    # The same safety check as the API: an amber band below the red one is refused.
    unsafe = {**good, "version": "2", "spo2_amber_at_or_below": "88"}
    refused = client.post(f"/ui/patients/{pid}/thresholds", data=unsafe)
    assert refused.status_code == 422
    assert 'aria-invalid="true"' in refused.text
    api = client.patch(
        f"/api/v1/patients/{pid}",
        json={"thresholds": {"spo2_red_at_or_below": 90, "spo2_amber_at_or_below": 88}},
        headers=world.auth("clin_A1"),
    )
    assert api.status_code == 422  # the page and the API agree
    not_a_number = client.post(
        f"/ui/patients/{pid}/thresholds", data={**good, "version": "2", "pulse_low_red": "forty"}
    )
    assert not_a_number.status_code == 422
    assert "Red: pulse at or below: enter a number" in not_a_number.text
    out_of_range = client.post(
        f"/ui/patients/{pid}/thresholds", data={**good, "version": "2", "pulse_low_red": "5"}
    )
    assert out_of_range.status_code == 422
    stale = client.post(f"/ui/patients/{pid}/thresholds", data=good)  # version 1 again
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    assert patient_row(world, pid).version == 2


# --- reports ---------------------------------------------------------------------------------------


def test_reports_page_and_csv_match_the_api(client, world):
    signed_in(client, "lead")
    page = client.get("/ui/reports?month=2026-10")
    assert page.status_code == 200
    html = page.text
    assert "Network report: October 2026" in html
    assert "SITEA" in html and "SITEB" in html and "Median of sites" in html
    assert html.count('class="chart"') >= 2  # a trend chart per site
    assert "Equity" in html and "IMD quintile" in html
    csv = client.get("/ui/reports/network.csv?month=2026-10")
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert 'filename="network-2026-10.csv"' in csv.headers["content-disposition"]
    api = client.get("/api/v1/reports/network?month=2026-10&format=csv", headers=world.auth("lead"))
    assert csv.text == api.text
    equity = client.get("/ui/reports/equity.csv?month=2026-10&site=SITEA&by=sex")
    api_equity = client.get(
        f"/api/v1/reports/sites/{world.sites['A']}/equity?month=2026-10&by=sex&format=csv",
        headers=world.auth("lead"),
    )
    assert equity.status_code == 200 and equity.text == api_equity.text


def test_reports_suppress_small_numbers_as_the_api_does(client, world):
    signed_in(client, "lead")
    html = client.get("/ui/reports?month=2026-11").text
    api = client.get("/api/v1/reports/network?month=2026-11", headers=world.auth("lead")).json()
    caseload = next(m for m in api["metrics"] if m["id"] == "caseload")
    # One patient per team: every site's caseload is a small number, shown as *.
    assert {s["value"] for s in caseload["sites"]} == {"*"}
    row = re.search(r"Caseload <span[^>]*>patients</span></th>(.*?)</tr>", html, re.S)
    network_hidden = caseload["network"]["value"] == "*"
    assert row and row.group(1).count(">*<") == 2 + network_hidden


def test_a_bad_month_falls_back_to_last_month(client, world):
    signed_in(client, "lead")
    assert "October 2026" in client.get("/ui/reports?month=2099-01").text
    assert client.get("/ui/reports?month=nonsense").status_code == 200


# --- static files and charts -----------------------------------------------------------------------


def test_static_files_are_served_and_nothing_else(client):
    css = client.get("/ui/static/ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/ui/static/ui.js").status_code == 200
    assert client.get("/ui/static/../routes.py").status_code == 404
    assert client.get("/ui/static/routes.py").status_code == 404


def test_svg_chart_is_labelled_escaped_and_not_colour_only():
    chart = charts.Chart(
        chart_id="c1",
        title="Weight <kg>",
        desc="Two weights & a target",
        y_label="kg",
        x_min=0,
        x_max=10,
        x_ticks=[(0, "01 Nov"), (10, "11 Nov")],
        series=[
            charts.Series("Weight", [charts.Point(1, 80, "<script>"), charts.Point(2, 81)]),
            charts.Series("Other", [charts.Point(1, 79)], charts.PURPLE, "triangle", dashed=True),
        ],
        guides=[charts.Guide(80, "Target 80 kg")],
        events=[charts.Event(2, "Red alert raised", "red"), charts.Event(3, "Amber", "amber")],
    )
    svg = str(charts.render(chart))
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg and 'aria-labelledby="c1-title c1-desc"' in svg
    assert '<title id="c1-title">Weight &lt;kg&gt;</title>' in svg
    assert '<desc id="c1-desc">Two weights &amp; a target</desc>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "<circle" in svg and "<polyline" in svg  # a line through the first series
    assert 'stroke-dasharray="6 4"' in svg  # the second series differs in line style too
    assert "Target 80 kg" in svg and "Red alert" in svg and "Amber alert" in svg
    assert ">01 Nov<" in svg and ">kg<" in svg  # axis labels


def test_chart_breaks_lines_at_gaps_and_ticks_are_round():
    series = charts.Series(
        "w", [charts.Point(0, 1), charts.Point(1, 2), charts.Point(9, 3)], max_gap=3
    )
    chart = charts.Chart("c2", "t", "d", "y", 0, 10, [], [series])
    assert str(charts.render(chart)).count("<polyline") == 1
    assert charts.nice_ticks(66.2, 72.4) == [66, 68, 70, 72]
    assert charts.nice_ticks(0, 100) == [0, 20, 40, 60, 80, 100]


def test_patient_chart_builder_uses_target_line_and_alert_markers():
    readings = [
        Reading(
            patient_id=uuid.uuid4(),
            id=uuid.uuid4(),
            type="weight",
            taken_at=T0 - timedelta(days=d),
            received_at=T0,
            value=80 + d / 10,
            source="device",
        )
        for d in range(10)
    ]
    marks = [patient_charts.Mark(T0 - timedelta(days=1), "weight", "amber", "Amber alert raised")]
    limits = {"target_weight_kg": 79, "weight_above_target_kg": 2.0}
    built = patient_charts.patient_charts(readings, marks, limits, T0)
    weight = str(built["weight"].svg)
    assert "Target 79 kg" in weight and "Amber at 81 kg" in weight and "stroke-dasharray" in weight
    assert "Amber alert raised" in weight and "Amber alert" in weight
    assert "10 readings" in weight
    assert len(built["weight"].rows) == 10
    assert built["weight"].rows[0][1] == "80.0"  # newest first
    assert NHS_NUMBERS  # fixtures imported for the other tests
