"""The replay is the live service: a synthetic cohort's readings posted through the API, with
the clock at each day's last reading and every alert resolved at its response time, raise the
alerts the replay and `mhf pathway evaluate --from-db --alerts-out` count: the same patients,
raise times and problems.

Runs on SQLite and PostgreSQL (the ``db_url`` fixture): 24 patients x 75 days, about 1,300
posts and 50 alerts per database. It fails if either side groups or re-raises differently
(checked once by keying the live alerts by rule instead of problem: 66 alerts against 53).
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

import pathway
from pathway.evaluation import cohort as synthetic
from pathway.evaluation.replay import replay_patient
from pathway.window import LONDON, london_day
from service.cli import main
from service.db import unit_of_work
from service.models import Alert, AlertFinding, MedicationChange
from tests.support.factories import make_device_token, make_patient, nhs_number
from tests.support.world import World

COHORT = synthetic.CohortParams(patients=24, days=75, seed=15)
# Site A's own pathway: every amber rule on and no re-measures, so that a small cohort raises
# alerts of every problem, and so that the site's overrides are part of what must agree.
OVERRIDES = {
    "disabled": [],
    "confirm": {"amber.spo2": 1, "amber.systolic": 1, "amber.pulse": 1},
    # Low enough that this small cohort exercises the symptom score and MACD too.
    "symptoms": {"score_threshold": 1.0},
    "macd": {"threshold_kg": 1.1},
}
IDS = uuid.UUID("6f1c2a53-8d0e-4d53-9a43-5b0f6f6a1e15")
# Who raised what when: (cohort patient id, raise instant in UTC, clinical problem).
Raised = tuple[str, datetime, str]


@pytest.fixture(scope="module")
def cohort() -> list[synthetic.SyntheticPatient]:
    return synthetic.cohort(COHORT)


def as_stored(context: pathway.PatientContext) -> pathway.PatientContext:
    """The patient as the service keeps them: a medicine change is a date (London midnight)."""
    changes = tuple(
        dataclasses.replace(
            c, changed_at=datetime.combine(c.changed_at.astimezone(LONDON).date(), time(), LONDON)
        )
        for c in context.medication_changes
    )
    return dataclasses.replace(context, medication_changes=changes)


def enrol(world: World, cohort: Sequence[synthetic.SyntheticPatient]) -> dict[str, uuid.UUID]:
    """Each synthetic patient in team A1, with their personal limits, cohort and medicines."""
    ids: dict[str, uuid.UUID] = {}
    with unit_of_work(world.app.state.sessions) as session:
        for index, p in enumerate(cohort):
            thresholds = {
                k: v for k, v in dataclasses.asdict(p.context.thresholds).items() if v is not None
            }
            pid = make_patient(
                session,
                nhs_number(index + 100),
                world.teams["A1"],
                cohort=p.context.cohort.value,
                thresholds=thresholds,
                enrolled_on=p.enrolled_at.date(),
            )
            world.device_tokens[p.context.patient_id] = make_device_token(session, pid)
            for change in p.context.medication_changes:
                session.add(
                    MedicationChange(
                        patient_id=pid,
                        pillar=change.drug_class.value,
                        status="started",
                        changed_on=change.changed_at.astimezone(LONDON).date(),
                        recorded_at=change.changed_at,
                    )
                )
            ids[p.context.patient_id] = pid
    return ids


def api_reading(reading: pathway.Reading) -> dict[str, Any]:
    """A synthetic reading as an app (or, for a blood result, a clinician) posts it."""
    body: dict[str, Any] = {
        "id": str(uuid.uuid5(IDS, reading.id)),
        "type": reading.type.value,
        "taken_at": reading.taken_at.isoformat(),
    }
    if reading.type is pathway.ReadingType.BLOOD_PRESSURE:
        body.update(systolic=reading.systolic, diastolic=reading.diastolic)
    elif reading.type is pathway.ReadingType.SYMPTOMS:
        assert reading.symptoms is not None
        body["answers"] = {
            k: v.value if hasattr(v, "value") else v
            for k, v in dataclasses.asdict(reading.symptoms).items()
        }
    else:
        body["value"] = reading.value
        if reading.type is pathway.ReadingType.POTASSIUM:
            body["unit"] = "mmol/L"
    return body


def days_of(cohort: Sequence[synthetic.SyntheticPatient]) -> Iterator[Any]:
    """Every patient's days in time order: (arrival, patient id, readings) with the arrival the
    day's last reading, as the replay takes a day's readings to arrive."""
    batches = []
    for p in cohort:
        by_day: dict[int, list[pathway.Reading]] = {}
        for reading in p.readings:
            by_day.setdefault(london_day(reading.taken_at), []).append(reading)
        for readings in by_day.values():
            arrival = max(r.taken_at for r in readings)
            batches.append((arrival.astimezone(UTC), p.context.patient_id, readings))
    return iter(sorted(batches, key=lambda b: (b[0], b[1])))


def resolve_due(client: Any, world: World, until: datetime) -> None:
    """The team responds to every alert due by ``until``, at its due time (never before the
    clock's last move, so the clock only goes forward)."""
    with unit_of_work(world.app.state.sessions) as session:
        due = session.execute(
            select(Alert.id, Alert.due_at, Alert.version)
            .where(Alert.status != "resolved", Alert.due_at <= until)
            .order_by(Alert.due_at, Alert.id)
        ).all()
    assert world.clock is not None
    for alert_id, due_at, version in due:
        world.clock.now = max(world.clock.now, due_at)
        response = client.post(
            f"/api/v1/alerts/{alert_id}/resolve",
            json={"outcome": "advice_given", "version": version},
            headers=world.auth("clin_A1"),
        )
        assert response.status_code == 200, response.text


def post_live(
    client: Any, world: World, cohort: Sequence[synthetic.SyntheticPatient]
) -> dict[str, uuid.UUID]:
    ids = enrol(world, cohort)
    assert world.clock is not None
    for arrival, patient_id, readings in days_of(cohort):
        resolve_due(client, world, arrival)
        assert world.clock.now <= arrival
        world.clock.now = arrival
        body = {"readings": [api_reading(r) for r in readings]}
        if any(r.type is pathway.ReadingType.POTASSIUM for r in readings):
            url, who = f"/api/v1/patients/{ids[patient_id]}/readings", "clin_A1"
        else:
            url, who = "/api/v1/me/readings", patient_id
        response = client.post(url, json=body, headers=world.auth(who))
        assert response.status_code == 201, response.text
    return ids


def live_alerts(world: World, synthetic_id: dict[str, str]) -> tuple[set[Raised], set[Any]]:
    """The alerts raised, and every (rule id, pathway version) their findings keep."""
    with unit_of_work(world.app.state.sessions) as session:
        rows = session.execute(select(Alert.patient_id, Alert.raised_at, Alert.alert_group)).all()
        kept = set(session.execute(select(AlertFinding.rule_id, AlertFinding.pathway_version)))
    raised = {(synthetic_id[str(pid)], at.astimezone(UTC), group) for pid, at, group in rows}
    return raised, {(rule, version) for rule, version in kept}


def replayed(cohort: Sequence[synthetic.SyntheticPatient]) -> set[Raised]:
    config = pathway.default_pathway().with_overrides(OVERRIDES)
    return {
        (p.context.patient_id, a.raised_at.astimezone(UTC), a.problem)
        for p in cohort
        for a in replay_patient(config, as_stored(p.context), p.readings)
    }


def test_the_replay_raises_what_the_live_service_raises(
    client: Any,
    world: World,
    settings: Any,
    cohort: list[synthetic.SyntheticPatient],
    tmp_path: Path,
) -> None:
    assert world.clock is not None
    response = client.patch(
        f"/api/v1/sites/{world.sites['A']}",
        json={"pathway_overrides": OVERRIDES},
        headers=world.auth("admin"),
    )
    assert response.status_code == 200, response.text
    world.clock.now = min(r.taken_at for p in cohort for r in p.readings)
    ids = post_live(client, world, cohort)
    synthetic_id = {str(pid): name for name, pid in ids.items()}
    live, kept = live_alerts(world, synthetic_id)
    expected = replayed(cohort)
    # Enough of every kind to mean something: several problems, most patients.
    assert len(expected) >= 40
    assert len({problem for _, _, problem in expected}) >= 3
    assert live == expected, (sorted(expected - live)[:5], sorted(live - expected)[:5])

    # Every finding keeps the rule that made it and the pathway version in force.
    version = pathway.default_pathway().with_overrides(OVERRIDES).version
    assert {v for _, v in kept} == {version}
    assert {rule for rule, _ in kept} >= {"trend.macd", "amber.symptoms_worse"}

    # The replay of what the service stored, as `mhf pathway evaluate --from-db` runs it.
    out = tmp_path / "alerts.jsonl"
    args = ["--from-db", settings.database_url, "--site", "SITEA", "--alerts-out", str(out)]
    result = CliRunner().invoke(main, ["pathway", "evaluate", *args])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    from_db = {
        (
            synthetic_id[r["patient_id"]],
            datetime.fromisoformat(r["raised_at"]).astimezone(UTC),
            r["problem"],
        )
        for r in records
    }
    assert from_db == live
    assert {r["pathway_version"] for r in records} == {version}
