"""The alert lifecycle through the API: raising, de-duplication, moves, queue and concurrency."""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, select

from service.alerting import repository
from service.alerting.rows import PageRow
from service.alerting.schemas import AlertPage
from service.audit import verify_chain
from service.db import driver_rows
from service.models import Alert, AlertEventRow, AuditEvent, OutboxEvent
from tests.support.factories import make_device_token, make_patient, make_user, nhs_number
from tests.support.queue import only_alert, queue
from tests.support.readings import amber_spo2, spo2


def test_red_reading_raises_an_alert_with_rule_version_and_evidence(client, world):
    body = spo2(client, world, 91)
    assert body["advice"]["level"] == "red"
    assert [f["rule_id"] for f in body["findings"]] == ["red.spo2"]
    alert = only_alert(client, world)
    assert alert["severity"] == "red" and alert["status"] == "open"
    assert alert["rule_id"] == "red.spo2" and alert["pathway_version"]
    assert alert["findings"][0]["evidence"] == [body["stored"][0]["id"]]
    assert alert["patient"]["nhs_number"] == "9434765919"
    assert alert["overdue"] is False
    # Thursday 09:00 London: red is due within 4 working hours.
    assert alert["due_at"].startswith("2026-11-20T13:00:00")


def test_repeated_finding_attaches_evidence_not_a_second_alert(client, world, clock):
    amber_spo2(client, world, clock)
    clock.advance(hours=1)
    spo2(client, world, 93)
    alert = only_alert(client, world)
    assert alert["severity"] == "amber"
    assert len(alert["findings"]) == 2
    assert len({e for f in alert["findings"] for e in f["evidence"]}) == 3
    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=world.auth("clin_A1")).json()
    assert [e["kind"] for e in detail["events"]] == ["raised", "evidence_added"]


def test_worse_finding_raises_severity_once_and_notifies(client, world, clock, session):
    amber_spo2(client, world, clock)
    clock.advance(hours=1)
    spo2(client, world, 90)
    alert = only_alert(client, world)
    assert alert["severity"] == "red" and alert["rule_id"] == "red.spo2"
    detail = client.get(f"/api/v1/alerts/{alert['id']}", headers=world.auth("clin_A1")).json()
    rise = [e for e in detail["events"] if e["kind"] == "severity_raised"]
    assert len(rise) == 1 and rise[0]["previous_severity"] == "amber"
    kinds = session.scalars(select(OutboxEvent.event_type)).all()
    session.commit()
    assert kinds == ["alert.severity_raised"]


def test_resolved_alert_does_not_reopen_new_episode_raises_new(client, world, clock):
    spo2(client, world, 91)
    alert = only_alert(client, world)
    resolved = client.post(
        f"/api/v1/alerts/{alert['id']}/resolve",
        json={"outcome": "advice_given"},
        headers=world.auth("clin_A1"),
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    clock.advance(hours=2)
    spo2(client, world, 91)
    items = queue(client, world)["items"]
    assert len(items) == 1 and items[0]["id"] != alert["id"]
    everything = queue(client, world, status=["open", "acknowledged", "resolved"])["items"]
    assert len(everything) == 2


LEGAL = [
    ("open", "acknowledge", {}, "acknowledged"),
    ("open", "assign", {"user_id": "me"}, "open"),
    ("open", "notes", {"text": "Rang patient"}, "open"),
    ("open", "resolve", {"outcome": "no_action_needed"}, "resolved"),
    ("acknowledged", "assign", {"user_id": "me"}, "acknowledged"),
    ("acknowledged", "notes", {"text": "Called GP"}, "acknowledged"),
    (
        "acknowledged",
        "resolve",
        {"outcome": "diuretic_adjusted", "note": "furosemide up"},
        "resolved",
    ),
]
ILLEGAL = [
    ("acknowledged", "acknowledge", {}),
    ("resolved", "acknowledge", {}),
    ("resolved", "assign", {"user_id": "me"}),
    ("resolved", "notes", {"text": "late note"}),
    ("resolved", "resolve", {"outcome": "admitted"}),
]


def _bring_to(client, world, state):
    spo2(client, world, 91)
    alert = only_alert(client, world)
    headers = world.auth("clin_A1")
    if state in ("acknowledged",):
        assert (
            client.post(f"/api/v1/alerts/{alert['id']}/acknowledge", headers=headers).status_code
            == 200
        )
    if state == "resolved":
        client.post(
            f"/api/v1/alerts/{alert['id']}/resolve", json={"outcome": "referred"}, headers=headers
        )
    return alert["id"]


def _body(world, body):
    return {k: (str(world.users["clin_A1"]) if v == "me" else v) for k, v in body.items()}


@pytest.mark.parametrize(("start", "move", "body", "end"), LEGAL)
def test_legal_moves(client, world, start, move, body, end):
    alert_id = _bring_to(client, world, start)
    response = client.post(
        f"/api/v1/alerts/{alert_id}/{move}", json=_body(world, body), headers=world.auth("clin_A1")
    )
    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["status"] == end
    last = detail["events"][-1]
    assert last["actor_id"] == str(world.users["clin_A1"])
    assert detail["first_action_at"] is not None


@pytest.mark.parametrize(("start", "move", "body"), ILLEGAL)
def test_illegal_moves_are_409(client, world, start, move, body):
    alert_id = _bring_to(client, world, start)
    response = client.post(
        f"/api/v1/alerts/{alert_id}/{move}", json=_body(world, body), headers=world.auth("clin_A1")
    )
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_bad_move_input_is_422(client, world):
    alert_id = _bring_to(client, world, "open")
    headers = world.auth("clin_A1")
    assert (
        client.post(
            f"/api/v1/alerts/{alert_id}/resolve", json={"outcome": "magic"}, headers=headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/alerts/{alert_id}/notes", json={"text": ""}, headers=headers
        ).status_code
        == 422
    )
    other_team_user = str(world.users["clin_B1"])
    response = client.post(
        f"/api/v1/alerts/{alert_id}/assign", json={"user_id": other_team_user}, headers=headers
    )
    assert response.status_code == 422


def test_stale_version_is_409(client, world):
    alert_id = _bring_to(client, world, "open")
    headers = world.auth("clin_A1")
    first = client.post(
        f"/api/v1/alerts/{alert_id}/notes", json={"text": "one", "version": 1}, headers=headers
    )
    assert first.status_code == 200 and first.json()["version"] == 2
    stale = client.post(
        f"/api/v1/alerts/{alert_id}/notes", json={"text": "two", "version": 1}, headers=headers
    )
    assert stale.status_code == 409


def test_concurrent_acknowledges_one_wins(client, world, session):
    alert_id = _bring_to(client, world, "open")

    def ack(_):
        return client.post(
            f"/api/v1/alerts/{alert_id}/acknowledge", headers=world.auth("clin_A1")
        ).status_code

    with ThreadPoolExecutor(max_workers=4) as pool:
        statuses = sorted(pool.map(ack, range(4)))
    assert statuses == [200, 409, 409, 409]
    acks = session.scalar(
        select(func.count()).select_from(AlertEventRow).where(AlertEventRow.kind == "acknowledged")
    )
    session.commit()
    assert acks == 1


def test_other_teams_alerts_are_404_and_invisible(client, world):
    alert_id = _bring_to(client, world, "open")
    assert queue(client, world, who="clin_A2")["items"] == []
    assert (
        client.get(f"/api/v1/alerts/{alert_id}", headers=world.auth("clin_B1")).status_code == 404
    )
    response = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=world.auth("clin_A2"))
    assert response.status_code == 404
    for who in ("lead", "admin", "pat_A1"):
        assert client.get("/api/v1/alerts", headers=world.auth(who)).status_code == 403


def test_queue_orders_red_first_then_oldest_and_paginates(client, world, clock, session):
    tokens = []
    for i in range(4):
        pid = make_patient(session, nhs_number(i), world.teams["A1"])
        tokens.append(make_device_token(session, pid))
    session.commit()
    world.device_tokens.update({f"extra{i}": t for i, t in enumerate(tokens)})
    plan = [
        ("pat_A1", "amber"),
        ("extra0", 91),
        ("extra1", "amber"),
        ("extra2", 90),
        ("extra3", "amber"),
    ]
    for who, value in plan:
        clock.advance(minutes=10)
        if value == "amber":
            amber_spo2(client, world, clock, who=who)
        else:
            assert isinstance(value, int)
            spo2(client, world, value, who=who)
    ids_in_order = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = queue(client, world, **params)
        ids_in_order += [(a["severity"], a["raised_at"]) for a in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert [s for s, _ in ids_in_order] == ["red", "red", "amber", "amber", "amber"]
    reds = [t for s, t in ids_in_order if s == "red"]
    ambers = [t for s, t in ids_in_order if s == "amber"]
    assert reds == sorted(reds) and ambers == sorted(ambers)
    only_red = queue(client, world, severity="red")["items"]
    assert len(only_red) == 2


def test_overdue_flag_follows_the_clock(client, world, clock):
    spo2(client, world, 91)
    clock.advance(hours=4, minutes=1)
    assert only_alert(client, world)["overdue"] is True


def test_queue_reads_are_audited(client, world, session):
    spo2(client, world, 91)
    queue(client, world)
    rows = session.scalars(select(AuditEvent).where(AuditEvent.detail == "alert-queue")).all()
    session.commit()
    assert [r.patient_id for r in rows] == [world.patients["pat_A1"]]


def test_alerts_count(client, world, session):
    spo2(client, world, 91)
    spo2(client, world, 91)
    n = session.scalar(select(func.count()).select_from(Alert))
    session.commit()
    assert n == 1


def second_patient_in_a1(world) -> str:
    with world.app.state.sessions() as s:
        pid = make_patient(s, nhs_number(41), world.teams["A1"])
        world.device_tokens["pat_A1b"] = make_device_token(s, pid)
        s.commit()
    world.patients["pat_A1b"] = pid
    return "pat_A1b"


def test_a_queue_page_is_one_audit_record_naming_every_patient_shown(client, world, session):
    other = second_patient_in_a1(world)
    spo2(client, world, 91)
    spo2(client, world, 91, who=other)
    assert len(queue(client, world)["items"]) == 2
    records = session.scalars(select(AuditEvent).where(AuditEvent.detail == "alert-queue")).all()
    assert len(records) == 1 and records[0].patient_id is None
    named = records[0].patient_ids
    session.commit()
    assert set(named) == {world.patients["pat_A1"], world.patients[other]}
    for who in ("pat_A1", other):
        seen = client.get(
            f"/api/v1/audit/patients/{world.patients[who]}", headers=world.auth("admin")
        ).json()
        assert [(r["actor_username"], r["detail"]) for r in seen] == [("clin_a1", "alert-queue")]
        assert set(seen[0]["patient_ids"]) == {
            str(world.patients["pat_A1"]),
            str(world.patients[other]),
        }
    # Another team's patient is not named by A1's queue read.
    assert (
        client.get(
            f"/api/v1/audit/patients/{world.patients['pat_A2']}", headers=world.auth("admin")
        ).json()
        == []
    )


def test_queue_pages_follow_the_order_across_cursors_with_findings(client, world, clock):
    other = second_patient_in_a1(world)
    amber_spo2(client, world, clock)
    spo2(client, world, 91, who=other)
    clock.advance(hours=1)
    spo2(client, world, 93)  # more evidence on pat_A1's amber alert
    first = queue(client, world, limit=1)
    assert [i["severity"] for i in first["items"]] == ["red"] and first["next_cursor"]
    second = queue(client, world, limit=1, cursor=first["next_cursor"])
    assert [i["severity"] for i in second["items"]] == ["amber"]
    assert second["next_cursor"] is None
    assert len(second["items"][0]["findings"]) == 2
    assert [i["patient"]["id"] for i in first["items"] + second["items"]] == [
        str(world.patients[other]),
        str(world.patients["pat_A1"]),
    ]
    both = queue(client, world, status=["open", "acknowledged"])["items"]
    assert [i["id"] for i in both] == [i["id"] for i in first["items"] + second["items"]]


def test_a_cursor_naming_no_uuid_is_400_not_500(client, world):
    raw = json.dumps(
        {"i": "not-a-uuid", "r": 2, "t": "2026-11-20T09:00:00+00:00", "v": 1},
        sort_keys=True,
        separators=(",", ":"),
    )
    cursor = base64.urlsafe_b64encode(raw.encode()).rstrip(b"=").decode()
    response = client.get(
        "/api/v1/alerts", params={"cursor": cursor}, headers=world.auth("clin_A1")
    )
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_a_clinician_of_two_teams_gets_one_queue_in_order_across_pages(client, world, clock):
    with world.app.state.sessions() as s:
        world.users["clin_A12"] = make_user(
            s, "clin_a12", "clinician", [world.teams["A1"], world.teams["A2"]]
        )
        s.commit()
    amber_spo2(client, world, clock, who="pat_A2")  # amber, oldest
    clock.advance(minutes=10)
    spo2(client, world, 91, who="pat_A1")  # red
    clock.advance(minutes=10)
    spo2(
        client, world, 91, who="pat_A2"
    )  # red: raises pat_A2's alert, a newer red on A1 stays first
    spo2(client, world, 91, who="pat_B1")  # another site's team: never shown
    seen, cursor = [], None
    while True:
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = queue(client, world, who="clin_A12", **params)
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    everything = queue(client, world, who="clin_A12")["items"]
    assert [i["id"] for i in seen] == [i["id"] for i in everything]
    assert {i["team_id"] for i in everything} == {str(world.teams["A1"]), str(world.teams["A2"])}
    order = [(i["severity"] == "red", i["raised_at"]) for i in everything]
    assert order == sorted(order, key=lambda k: (not k[0], k[1]))
    only_a2 = queue(client, world, who="clin_A12", team_id=str(world.teams["A2"]))["items"]
    assert {i["team_id"] for i in only_a2} == {str(world.teams["A2"])}
    assert queue(client, world, who="clin_A12", team_id=str(world.teams["B1"]))["items"] == []


def test_queue_audit_names_the_page_not_the_row_read_past_it_and_the_chain_verifies(
    client, world, app
):
    """One page of one, of two, past the end (nothing shown, nothing recorded), with the page
    read one row past its end to learn that there is more: the record names only the patients
    shown, in the single-patient form for one, and each record links and hashes as the verifier
    recomputes it (on PostgreSQL the page's own statement writes it)."""
    other = second_patient_in_a1(world)
    spo2(client, world, 91)
    spo2(client, world, 91, who=other)
    first = queue(client, world, limit=1)
    assert len(first["items"]) == 1 and first["next_cursor"]
    both = queue(client, world)["items"]
    assert queue(client, world, status=["resolved"])["items"] == []
    with app.state.sessions() as s:
        records = s.scalars(
            select(AuditEvent).where(AuditEvent.detail == "alert-queue").order_by(AuditEvent.seq)
        ).all()
        named = {r.seq: set(r.patient_ids or ()) for r in records}
        check = verify_chain(s)
    assert check.ok and check.rows == len(records) == 2
    assert records[0].patient_id == uuid.UUID(first["items"][0]["patient_id"])
    assert named[records[0].seq] == set()
    assert records[1].patient_id is None
    assert named[records[1].seq] == {uuid.UUID(i["patient_id"]) for i in both}
    assert records[0].route == records[1].route == "GET /api/v1/alerts"
    assert records[0].actor_id == world.users["clin_A1"]


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_on_postgresql_a_queue_page_and_its_audit_are_one_statement(
    client, world, app, monkeypatch
):
    """The page, its findings and its audit record in one round trip; the page size is in the
    SQL text so that the prepared statement keeps its generic plan."""
    spo2(client, world, 91)
    statements: list[str] = []

    def capture(_conn, _cursor, statement, *_):
        statements.append(statement)

    run_on_driver = driver_rows

    def driver_capture(session, statement, params):
        statements.append(statement.sql)
        return run_on_driver(session, statement, params)

    # The page runs on the driver (service.db.driver_rows), past SQLAlchemy's events.
    monkeypatch.setattr(repository, "driver_rows", driver_capture)
    event.listen(app.state.engine, "before_cursor_execute", capture)
    try:
        queue(client, world, limit=7)
    finally:
        event.remove(app.state.engine, "before_cursor_execute", capture)
    reads = [s for s in statements if "alert_findings" in s]
    assert len(reads) == 1 and "audit_append_patients(" in reads[0]
    assert not [s for s in statements if "audit_append(" in s]
    assert "LIMIT 8" in reads[0] and "LIMIT 7" in reads[0]


def test_the_queue_body_is_what_the_page_model_would_serialise(client, world, clock):
    """The route serialises the page's plain values without building the models: the bytes are
    the ones ``AlertPage`` gives for the same page (field order, formats, findings' evidence,
    nulls and set times, the cursor), so the response model the API documents is what it sends."""
    other = second_patient_in_a1(world)
    amber_spo2(client, world, clock)
    clock.advance(hours=1)
    spo2(client, world, 93)  # a second finding with its evidence on pat_A1's alert
    spo2(client, world, 91, who=other)
    red = queue(client, world)["items"][0]
    headers = world.auth("clin_A1")
    assert client.post(f"/api/v1/alerts/{red['id']}/acknowledge", headers=headers).is_success
    for params in ({"limit": 1}, {}):
        response = client.get("/api/v1/alerts", params=params, headers=headers)
        assert response.status_code == 200
        page = AlertPage.model_validate_json(response.content)
        assert response.content == page.model_dump_json().encode()
        assert page.items[0].acknowledged_at is not None
        assert [len(i.findings) for i in page.items] == [1, 2][: len(page.items)]
        assert all(f.evidence for i in page.items for f in i.findings)
        assert (page.next_cursor is not None) == ("limit" in params)


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_paging_by_cursor_gives_the_queue_order_through_ties_and_severities(
    client, world, clock, limit
):
    """Alerts sharing a raised_at (ordered then by id), pages ending inside a severity and at
    its last alert: walked by cursor, the pages give the whole queue once, in queue order."""
    at = clock()
    made = []
    with world.app.state.sessions() as s:
        # Fixed ids, not uuid4: which way a tie's ids fall decides the walk, so random ids tried
        # a different case each run. These put the tied reds in descending id order and the
        # tied ambers out of order, and differ in their first digit (text and byte order agree).
        for i, (severity, minutes, digit) in enumerate(
            [
                ("red", 0, "c"),
                ("red", 0, "3"),
                ("red", 5, "e"),
                ("amber", 0, "a"),
                ("amber", 0, "1"),
                ("amber", 0, "5"),
                ("amber", 9, "9"),
            ]
        ):
            alert = Alert(
                id=uuid.UUID(digit * 32),
                patient_id=world.patients["pat_A1"],
                team_id=world.teams["A1"],
                rule_id=f"test.rule_{i}",
                alert_group=f"group_{i}",
                severity=severity,
                severity_rank=2 if severity == "red" else 1,
                status="open",
                pathway_version="test",
                title="t",
                summary="s",
                raised_at=at - timedelta(minutes=60 - minutes),
                due_at=at + timedelta(hours=4),
                version=1,
            )
            s.add(alert)
            made.append(alert)
        s.commit()
    expected = [
        str(a.id) for a in sorted(made, key=lambda a: (-a.severity_rank, a.raised_at, a.id))
    ]
    seen, cursor = [], None
    for _ in range(len(made) + 1):  # a cursor that does not move on ends here, not never
        params = {"limit": limit} | ({"cursor": cursor} if cursor else {})
        page = queue(client, world, **params)
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == expected


@pytest.mark.parametrize("teams", [1, 3])
@pytest.mark.parametrize("statuses", [None, ("open",)])
@pytest.mark.parametrize("filters", list(itertools.product([False, True], repeat=3)))
@pytest.mark.parametrize(("assignee", "overdue"), [(None, False), ("me", True), ("none", False)])
def test_every_queue_statement_answers_the_columns_page_rows_name(
    teams, statuses, filters, assignee, overdue
):
    """The driver's rows are plain tuples read as ``PageRow``s: every shape of the statement,
    audited or not, must give its columns in ``PageRow``'s order."""
    severity, patient, cursor = filters
    shape = repository.Shape(teams, statuses, severity, patient, cursor, assignee, overdue)
    for statement in (repository._page_select(shape), repository._audited_page_select(shape)):
        assert tuple(c.key for c in statement.selected_columns) == PageRow._fields
