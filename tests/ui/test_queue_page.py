"""The triage queue page: totals of the whole filter, the next page's label, the assignee and
overdue filters, compact evidence, "became red at", and the team select only for several teams.
On SQLite and PostgreSQL through TestClient."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta

from service.alerting.schemas import AlertOut
from service.models import Alert, UserTeam
from service.ui.queue import evidence_text
from tests.support.readings import amber_spo2, spo2
from tests.support.signin import signed_in


def seed(world, clock, count, *, overdue_every=0, mine_every=0, batch="a") -> list[uuid.UUID]:
    now, ids = clock(), []
    with world.app.state.sessions() as s:
        for i in range(count):
            red = i % 5 == 0
            alert = Alert(
                id=uuid.uuid4(),
                patient_id=world.patients["pat_A1"],
                team_id=world.teams["A1"],
                rule_id=f"test.rule_{i}",
                alert_group=f"{batch}{i}",
                severity="red" if red else "amber",
                severity_rank=2 if red else 1,
                status="open",
                pathway_version="test",
                title=f"Test alert {i}",
                summary="s",
                raised_at=now - timedelta(minutes=count - i),
                due_at=now + timedelta(hours=-1 if overdue_every and i % overdue_every == 0 else 4),
                assignee_id=world.users["clin_A1"] if mine_every and i % mine_every == 0 else None,
                version=1,
            )
            s.add(alert)
            ids.append(alert.id)
        s.commit()
    return ids


def counts(html: str) -> dict[str, int]:
    found = re.findall(r'summary__count">(\d+)</span> (red|amber|overdue)', html)
    return {name: int(n) for n, name in found}


def next_link(html: str) -> str | None:
    match = re.search(r'href="(/ui/queue\?[^"]*cursor=[^"]*)"', html)
    return match.group(1).replace("&amp;", "&") if match else None


def rows(html: str) -> int:
    return html.count('class="queue__row ')


def test_totals_and_the_next_label_count_the_whole_queue(client, world, clock):
    seed(world, clock, 57, overdue_every=4)
    signed_in(client, "clin_a1")
    first = client.get("/ui/queue").text
    assert rows(first) == 50
    # 12 red (every fifth of 57), 45 amber, 15 overdue: all 57, not the page's 50.
    assert counts(first) == {"red": 12, "amber": 45, "overdue": 15}
    assert "Showing 1&ndash;50 of 57 alerts" in first
    assert "Show the next 7 of 7" in first
    link = next_link(first)
    assert link and "seen=50" in link
    second = client.get(link).text
    assert rows(second) == 7
    assert counts(second) == {"red": 12, "amber": 45, "overdue": 15}
    assert "Showing 51&ndash;57 of 57 alerts" in second
    assert next_link(second) is None


def test_assignee_and_overdue_filters(client, world, clock):
    seed(world, clock, 12, overdue_every=3, mine_every=2)
    signed_in(client, "clin_a1")
    page = client.get("/ui/queue").text
    assert 'id="filter-assignee"' in page and 'id="filter-overdue"' in page
    mine = client.get("/ui/queue?assignee=me").text
    assert rows(mine) == 6 and "Showing 1&ndash;6 of 6 alerts for these filters" in mine
    assert '<option value="me" selected>' in mine
    nobody = client.get("/ui/queue?assignee=none").text
    assert rows(nobody) == 6
    late = client.get("/ui/queue?overdue=1").text
    assert rows(late) == 4 and counts(late)["overdue"] == 4
    assert 'name="overdue" value="1" checked' in late
    both = client.get("/ui/queue?overdue=1&assignee=me").text
    assert rows(both) == 2  # 0 and 6: overdue (every third) and mine (every second)
    # A filter carries into the next page's link.
    seed(world, clock, 60, mine_every=1, batch="b")
    link = next_link(client.get("/ui/queue?assignee=me").text)
    assert link and "assignee=me" in link
    # Unknown values are ignored, not trusted.
    assert rows(client.get("/ui/queue?assignee=everyone&overdue=yes").text) == 50
    empty = client.get("/ui/queue?assignee=none&overdue=1&severity=red").text
    assert "No alert matches these filters" in empty


def test_the_team_select_is_only_for_several_teams(client, world):
    signed_in(client, "clin_a1")
    assert 'id="filter-team"' not in client.get("/ui/queue").text
    with world.app.state.sessions() as s:
        s.add(UserTeam(user_id=world.users["clin_A1"], team_id=world.teams["A2"]))
        s.commit()
    page = client.get("/ui/queue").text
    assert 'id="filter-team"' in page and "All my teams" in page


def test_a_rise_to_red_says_when_and_is_not_overdue_from_the_amber(client, world, clock):
    amber_spo2(client, world, clock)
    clock.now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    spo2(client, world, 90)
    signed_in(client, "clin_a1")
    html = client.get("/ui/queue").text
    assert "Became red at 24 Nov 2026, 09:00" in html
    assert "Overdue by" not in html
    assert "Due 24 Nov 2026, 13:00" in html


def _alert(rule_id: str, findings: list[tuple[str, str, str, int]]) -> AlertOut:
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    return AlertOut.model_validate(
        {
            "id": uuid.uuid4(),
            "patient_id": uuid.uuid4(),
            "team_id": uuid.uuid4(),
            "patient": {"id": uuid.uuid4(), "nhs_number": "9434765919", "age": 70, "cohort": "x"},
            "rule_id": rule_id,
            "severity": "red",
            "status": "open",
            "title": "Weight gain with symptoms",
            "summary": "the alert's own summary",
            "pathway_version": "v",
            "raised_at": at,
            "due_at": at,
            "overdue": False,
            "acknowledged_at": None,
            "first_action_at": None,
            "escalated_at": None,
            "resolved_at": None,
            "severity_raised_at": None,
            "assignee_id": None,
            "outcome": None,
            "version": 1,
            "out_of_hours_handling": None,
            "findings": [
                {
                    "rule_id": rule,
                    "level": level,
                    "pathway_version": "v",
                    "title": "t",
                    "summary": summary,
                    "evidence": [],
                    "observed_at": at + timedelta(days=day),
                }
                for rule, level, summary, day in findings
            ],
        }
    )


def test_evidence_is_the_latest_finding_of_each_rule_the_symptoms_among_them():
    alert = _alert(
        "red.weight_gain_symptoms",
        [
            ("amber.weight_gain_2d", "amber", "+2.6 kg in 2 days", 0),
            ("amber.symptoms_worse", "amber", "breathlessness worse", 1),
            ("amber.weight_gain_3d", "amber", "+2.1 kg in 3 days", 2),
            ("amber.weight_gain_2d", "amber", "+2.2 kg in 2 days", 3),
            ("red.weight_gain_symptoms", "red", "+2.2 kg with breathlessness", 3),
            ("amber.symptoms_worse", "amber", "breathlessness and ankles worse", 4),
        ],
    )
    assert evidence_text(alert) == (
        "+2.2 kg with breathlessness; breathlessness and ankles worse; "
        "+2.2 kg in 2 days; +2.1 kg in 3 days"
    )
    assert evidence_text(_alert("red.spo2", [])) == "the alert's own summary"
