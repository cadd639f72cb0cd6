"""Staff time on the pages: the resolve form's minutes, and the patient record's contacts
(recorded by POST-redirect-GET with the session's form token, refused in words)."""

from __future__ import annotations

from sqlalchemy import select

from service.models import PatientContact
from tests.support.readings import raise_red_alert
from tests.support.signin import csrf_of, signed_in
from tests.support.world import alert_row, read


def _queue_token(client) -> str:
    return csrf_of(client.get("/ui/queue").text)


def test_the_resolve_form_records_the_minutes_and_the_record_shows_them(client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    page = client.get("/ui/queue").text
    assert f'id="resolve-minutes-{alert_id}"' in page and "Minutes spent" in page
    form = {"csrf_token": csrf_of(page), "outcome": "advice_given", "minutes": " 25 "}
    done = client.post(f"/ui/alerts/{alert_id}/resolve", data=form, follow_redirects=False)
    assert done.status_code == 303 and "msg=resolved" in done.headers["location"]
    assert alert_row(world, alert_id).minutes_spent == 25
    record = client.get(f"/ui/patients/{world.patients['pat_A1']}").text
    assert "(25 min spent)" in record


def test_the_resolve_form_may_leave_the_minutes_empty(client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    form = {"csrf_token": _queue_token(client), "outcome": "advice_given", "minutes": ""}
    done = client.post(f"/ui/alerts/{alert_id}/resolve", data=form, follow_redirects=False)
    assert "msg=resolved" in done.headers["location"]
    alert = alert_row(world, alert_id)
    assert (alert.status, alert.minutes_spent) == ("resolved", None)


def test_bad_minutes_leave_the_alert_open_and_say_why(client, world):
    alert_id = raise_red_alert(client, world)
    signed_in(client, "clin_a1")
    token = _queue_token(client)
    for minutes in ("2000", "-5", "half an hour", "12.5"):
        form = {"csrf_token": token, "outcome": "advice_given", "minutes": minutes}
        done = client.post(f"/ui/alerts/{alert_id}/resolve", data=form, follow_redirects=False)
        assert "msg=invalid_minutes" in done.headers["location"], minutes
    assert alert_row(world, alert_id).status == "open"
    shown = client.get(done.headers["location"]).text
    assert "Minutes spent: enter a whole number from 0 to 1440" in shown


def test_the_record_takes_a_contact_and_lists_it(client, world):
    signed_in(client, "clin_a1")
    pid = world.patients["pat_A1"]
    page = client.get(f"/ui/patients/{pid}").text
    assert "Record a contact" in page and "No contacts recorded." in page
    # 08:40 in London on 20 November (GMT): 08:40 UTC.
    form = {
        "csrf_token": csrf_of(page),
        "kind": "call",
        "occurred_at": "2026-11-20T08:40",
        "minutes": "15",
        "note": "Breathless on stairs; advised to weigh daily.",
    }
    saved = client.post(f"/ui/patients/{pid}/contacts", data=form, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"].endswith("msg=contact_recorded#contacts")
    row = read(world, lambda s: s.scalars(select(PatientContact)).one())
    assert (row.kind, row.minutes, row.occurred_at.isoformat()) == (
        "call",
        15,
        "2026-11-20T08:40:00+00:00",
    )
    shown = client.get(saved.headers["location"]).text
    assert "Contact recorded" in shown
    contacts = shown[shown.index('id="contacts"') : shown.index('id="monitoring"')]
    assert "20 Nov 2026, 08:40" in contacts and "Telephone call" in contacts
    assert "Breathless on stairs" in contacts


def test_a_contact_in_summer_time_is_read_as_london_time(client, world):
    signed_in(client, "clin_a1")
    pid = world.patients["pat_A1"]
    form = {
        "csrf_token": csrf_of(client.get(f"/ui/patients/{pid}").text),
        "kind": "visit",
        "occurred_at": "2026-07-01T10:00",
        "minutes": "50",
    }
    assert client.post(f"/ui/patients/{pid}/contacts", data=form).status_code == 200
    row = read(world, lambda s: s.scalars(select(PatientContact)).one())
    assert row.occurred_at.isoformat() == "2026-07-01T09:00:00+00:00"


def test_contact_form_problems_are_in_words_and_nothing_is_saved(client, world):
    signed_in(client, "clin_a1")
    pid = world.patients["pat_A1"]
    token = csrf_of(client.get(f"/ui/patients/{pid}").text)
    bad = {"csrf_token": token, "kind": "", "occurred_at": "2099-01-01T10:00", "minutes": "lots"}
    refused = client.post(f"/ui/patients/{pid}/contacts", data=bad)
    assert refused.status_code == 422
    assert "Choose kind of contact from the list." in refused.text
    assert "Minutes spent must be a whole number." in refused.text
    assert 'value="lots"' in refused.text  # kept as typed
    assert "Input should" not in refused.text
    future = {
        "csrf_token": token,
        "kind": "call",
        "occurred_at": "2099-01-01T10:00",
        "minutes": "5",
    }
    refused = client.post(f"/ui/patients/{pid}/contacts", data=future)
    assert (
        refused.status_code == 422
        and "Date and time of the contact is in the future." in refused.text
    )
    no_time = {"csrf_token": token, "kind": "call", "occurred_at": "", "minutes": "5"}
    refused = client.post(f"/ui/patients/{pid}/contacts", data=no_time)
    assert (
        refused.status_code == 422
        and "Date and time of the contact must be a date and time" in refused.text
    )
    no_minutes = {"csrf_token": token, "kind": "call", "occurred_at": "2026-11-20T08:00"}
    refused = client.post(f"/ui/patients/{pid}/contacts", data=no_minutes)
    assert refused.status_code == 422 and "Enter minutes spent." in refused.text
    assert read(world, lambda s: s.scalars(select(PatientContact)).all()) == []


def test_the_contact_form_needs_the_session_token_and_the_team(client, world):
    signed_in(client, "clin_a1")
    pid = world.patients["pat_A1"]
    form = {"kind": "call", "occurred_at": "2026-11-20T08:00", "minutes": "5"}
    forged = client.post(
        f"/ui/patients/{pid}/contacts", data=form | {"csrf_token": "0" * 64}, follow_redirects=False
    )
    assert forged.status_code == 403
    other = world.patients["pat_B1"]
    token = csrf_of(client.get(f"/ui/patients/{pid}").text)
    refused = client.post(f"/ui/patients/{other}/contacts", data=form | {"csrf_token": token})
    assert refused.status_code == 404
    assert read(world, lambda s: s.scalars(select(PatientContact)).all()) == []
