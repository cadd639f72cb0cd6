"""Readings ingestion: idempotency, plausibility, unit conversion, batch atomicity, scoping."""

from __future__ import annotations

import time as _time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, insert, select, text

import pathway
from service.db import build_engine
from service.models import Patient, Reading
from service.readings import evaluation
from service.readings.schemas import IngestOut
from tests.support.clock import T0


def rid() -> str:
    return str(uuid.uuid4())


def at(hours: float = 0) -> str:
    return (T0 - timedelta(hours=hours)).isoformat()


def weight(value=80.0, unit="kg", hours=1.0, id_=None):
    return {
        "id": id_ or rid(),
        "type": "weight",
        "taken_at": at(hours),
        "value": value,
        "unit": unit,
    }


def count(world, patient="pat_A1"):
    with world.app.state.sessions() as s:
        return s.scalar(
            select(func.count())
            .select_from(Reading)
            .where(Reading.patient_id == world.patients[patient])
        )


def post_me(client, world, body, who="pat_A1"):
    return client.post("/api/v1/me/readings", json=body, headers=world.auth(who))


def test_single_reading_is_stored_with_advice(client, world):
    response = post_me(client, world, weight(80.4))
    assert response.status_code == 201, response.text
    body = response.json()
    assert [r["value"] for r in body["stored"]] == [80.4]
    assert body["already_stored"] == []
    assert body["advice"]["level"] == "green"
    assert body["advice"]["text"]


def test_same_batch_three_times_is_stored_once_and_answered_the_same(client, world):
    batch = {"readings": [weight(80 + i / 10, hours=24 * i) for i in range(5)]}
    first = post_me(client, world, batch)
    second = post_me(client, world, batch)
    third = post_me(client, world, batch)
    assert first.status_code == 201 and second.status_code == third.status_code == 200
    assert count(world) == 5
    assert second.json()["stored"] == []
    assert second.json()["already_stored"] == first.json()["stored"]
    assert third.json() == second.json()
    assert second.json()["advice"] == first.json()["advice"]
    assert second.json()["findings"] == first.json()["findings"]


def test_overlapping_batch_stores_only_the_new_readings(client, world):
    a, b, c = weight(80, hours=3), weight(80.2, hours=2), weight(80.1, hours=1)
    post_me(client, world, {"readings": [a, b]})
    response = post_me(client, world, {"readings": [b, c]})
    assert response.status_code == 201
    assert [r["id"] for r in response.json()["stored"]] == [c["id"]]
    assert [r["id"] for r in response.json()["already_stored"]] == [b["id"]]
    assert count(world) == 3


def test_reusing_an_id_for_different_content_is_409_and_stores_nothing(client, world):
    first = weight(80)
    post_me(client, world, first)
    changed = dict(first, value=81)
    response = post_me(client, world, {"readings": [changed, weight(79, hours=5)]})
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert count(world) == 1


def test_concurrent_duplicate_posts_store_one(client, world):
    reading = weight(80)

    def send(_):
        return post_me(client, world, reading).status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(send, range(12)))
    assert statuses.count(201) == 1 and statuses.count(200) == 11
    assert count(world) == 1


@pytest.mark.parametrize(
    ("value", "unit", "kg"),
    # 176.37 lb = 79.9996 kg; 12.6 st = 80.0137 kg; 100 lb = 45.359237 kg
    [(80, "kg", 80.0), (176.37, "lb", 80.0), (12.6, "st", 80.01), (100, "lb", 45.36)],
)
def test_weights_are_converted_to_kg(client, world, value, unit, kg):
    response = post_me(client, world, weight(value, unit))
    assert response.status_code == 201, response.text
    stored = response.json()["stored"][0]
    assert stored["value"] == kg and stored["unit"] == "kg"
    assert stored["value_as_sent"] == value and stored["unit_as_sent"] == unit


def test_limits_apply_after_conversion(client, world):
    # 3 st is 19.05 kg: below the plausible minimum although "3" looks harmless.
    assert post_me(client, world, weight(3, "st")).status_code == 422
    assert post_me(client, world, weight(44.1, "lb")).status_code == 201  # 20.0 kg


PLAUSIBILITY = [
    ({"type": "weight", "value": 19.99, "unit": "kg"}, "value"),
    ({"type": "weight", "value": 350.01, "unit": "kg"}, "value"),
    ({"type": "weight", "value": 772, "unit": "lb"}, "value"),  # 350.2 kg
    ({"type": "blood_pressure", "systolic": 49, "diastolic": 30}, "systolic"),
    ({"type": "blood_pressure", "systolic": 301, "diastolic": 90}, "systolic"),
    ({"type": "blood_pressure", "systolic": 120, "diastolic": 19}, "diastolic"),
    ({"type": "blood_pressure", "systolic": 250, "diastolic": 201}, "diastolic"),
    ({"type": "blood_pressure", "systolic": 100, "diastolic": 100}, "diastolic"),
    ({"type": "heart_rate", "value": 19}, "value"),
    ({"type": "heart_rate", "value": 251}, "value"),
    ({"type": "spo2", "value": 49}, "value"),
    ({"type": "spo2", "value": 100.5}, "value"),
    ({"type": "weight", "value": 80, "unit": "stone"}, "unit"),
    ({"type": "weight", "value": "NaN", "unit": "kg"}, "value"),
]


@pytest.mark.parametrize(("reading", "field"), PLAUSIBILITY)
def test_implausible_values_are_422_naming_the_field(client, world, reading, field):
    body = {"id": rid(), "taken_at": at(1), **reading}
    response = client.post(
        "/api/v1/me/readings",
        content=__import__("json").dumps(body).replace('"NaN"', "NaN"),
        headers={**world.auth("pat_A1"), "content-type": "application/json"},
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert problem["status"] == 422
    assert any(e["field"].split(".")[-1] == field for e in problem["errors"]), problem
    assert count(world) == 0


@pytest.mark.parametrize(
    ("reading", "ok"),
    [
        ({"type": "weight", "value": 20, "unit": "kg"}, True),
        ({"type": "weight", "value": 350, "unit": "kg"}, True),
        ({"type": "blood_pressure", "systolic": 50, "diastolic": 20}, True),
        ({"type": "blood_pressure", "systolic": 300, "diastolic": 200}, True),
        ({"type": "heart_rate", "value": 20}, True),
        ({"type": "heart_rate", "value": 250}, True),
        ({"type": "spo2", "value": 50}, True),
        ({"type": "spo2", "value": 100}, True),
    ],
)
def test_limits_are_inclusive(client, world, reading, ok):
    response = post_me(client, world, {"id": rid(), "taken_at": at(1), **reading})
    assert (response.status_code == 201) == ok, response.text


def test_future_readings_beyond_five_minutes_are_rejected(client, world):
    ok = weight()
    ok["taken_at"] = (T0 + timedelta(minutes=5)).isoformat()
    late = weight()
    late["taken_at"] = (T0 + timedelta(minutes=5, seconds=1)).isoformat()
    assert post_me(client, world, ok).status_code == 201
    response = post_me(client, world, late)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "taken_at"


def test_naive_timestamps_are_rejected(client, world):
    reading = weight()
    reading["taken_at"] = "2026-11-20T07:00:00"
    assert post_me(client, world, reading).status_code == 422


def test_one_bad_reading_rejects_the_whole_batch(client, world):
    batch = {"readings": [weight(80, hours=i + 1) for i in range(10)]}
    batch["readings"][7]["value"] = 900
    response = post_me(client, world, batch)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "readings.7.value"
    assert count(world) == 0


def test_batches_over_500_are_rejected(client, world):
    batch = {"readings": [weight(80, hours=i / 10 + 0.1) for i in range(501)]}
    assert post_me(client, world, batch).status_code == 422
    batch["readings"] = batch["readings"][:500]
    response = post_me(client, world, batch)
    assert response.status_code == 201
    assert len(response.json()["stored"]) == 500


def test_unknown_fields_are_rejected(client, world):
    reading = weight()
    reading["patient_id"] = str(world.patients["pat_A2"])
    assert post_me(client, world, reading).status_code == 422


def test_symptoms_blood_pressure_and_labs(client, world):
    answers = {
        "breathlessness": "usual",
        "orthopnoea": False,
        "ankle_swelling": "none",
        "dizziness": False,
        "chest_pain": False,
        "fatigue": "usual",
    }
    batch = {
        "readings": [
            {"id": rid(), "type": "symptoms", "taken_at": at(1), "answers": answers},
            {
                "id": rid(),
                "type": "blood_pressure",
                "taken_at": at(1),
                "systolic": 122,
                "diastolic": 74,
            },
            {"id": rid(), "type": "heart_rate", "taken_at": at(1), "value": 72},
            {"id": rid(), "type": "spo2", "taken_at": at(1), "value": 97},
        ]
    }
    response = post_me(client, world, batch)
    assert response.status_code == 201, response.text
    lab = {"id": rid(), "type": "potassium", "taken_at": at(1), "value": 4.4, "unit": "mmol/L"}
    assert post_me(client, world, lab).status_code == 422  # patients do not enter labs
    patient = world.patients["pat_A1"]
    by_clinician = client.post(
        f"/api/v1/patients/{patient}/readings", json=lab, headers=world.auth("clin_A1")
    )
    assert by_clinician.status_code == 201, by_clinician.text
    assert by_clinician.json()["stored"][0]["source"] == "clinician"


def test_patient_reads_own_readings_only(client, world):
    post_me(client, world, weight(80))
    post_me(client, world, weight(90), who="pat_A2")
    mine = client.get("/api/v1/me/readings", headers=world.auth("pat_A1")).json()
    assert [r["value"] for r in mine["items"]] == [80]
    other = world.patients["pat_A2"]
    for method in ("get", "post"):
        response = getattr(client, method)(
            f"/api/v1/patients/{other}/readings", headers=world.auth("pat_A1")
        )
        assert response.status_code == 403


def test_clinician_sees_own_team_readings_and_404_for_others(client, world):
    post_me(client, world, weight(80))
    own = client.get(
        f"/api/v1/patients/{world.patients['pat_A1']}/readings", headers=world.auth("clin_A1")
    )
    assert own.status_code == 200 and len(own.json()["items"]) == 1
    for other in ("pat_A2", "pat_B1"):
        response = client.get(
            f"/api/v1/patients/{world.patients[other]}/readings", headers=world.auth("clin_A1")
        )
        assert response.status_code == 404
        response = client.post(
            f"/api/v1/patients/{world.patients[other]}/readings",
            json=weight(),
            headers=world.auth("clin_A1"),
        )
        assert response.status_code == 404


def test_reading_list_filters_and_paginates(client, world):
    batch = {"readings": [weight(80 + i / 10, hours=24 * i + 1) for i in range(7)]}
    batch["readings"].append({"id": rid(), "type": "heart_rate", "taken_at": at(2), "value": 70})
    post_me(client, world, batch)
    url = "/api/v1/me/readings?type=weight&limit=3"
    seen = []
    cursor = None
    while True:
        response = client.get(
            url + (f"&cursor={cursor}" if cursor else ""), headers=world.auth("pat_A1")
        )
        assert response.status_code == 200
        page = response.json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == 7 and all(r["type"] == "weight" for r in seen)
    assert [r["taken_at"] for r in seen] == sorted(r["taken_at"] for r in seen)
    start = (T0 - timedelta(days=2)).isoformat().replace("+00:00", "Z")
    recent = client.get(
        "/api/v1/me/readings", params={"from": start}, headers=world.auth("pat_A1")
    ).json()
    assert len(recent["items"]) == 3
    bad = client.get("/api/v1/me/readings?cursor=garbage!!", headers=world.auth("pat_A1"))
    assert bad.status_code == 400


def test_discharged_patients_token_stops_working(client, world, session):
    session.get(Patient, world.patients["pat_A1"]).status = "discharged"
    session.commit()
    assert post_me(client, world, weight()).status_code == 401


def test_the_answer_is_what_was_stored(client, world):
    # The answer is built from the rows as written, not read back: it must say what a read
    # gives, including times sent with an offset (stored and shown in UTC) and the order.
    plus_one = timezone(timedelta(hours=1))
    answers = {
        "breathlessness": "worse",
        "orthopnoea": True,
        "ankle_swelling": "usual",
        "dizziness": False,
        "chest_pain": False,
        "fatigue": "usual",
    }
    batch = {
        "readings": [
            {
                **weight(176.5, "lb", hours=2),
                "taken_at": (T0 - timedelta(hours=2)).astimezone(plus_one).isoformat(),
            },
            {"id": rid(), "type": "symptoms", "taken_at": at(3), "answers": answers},
            {
                "id": rid(),
                "type": "blood_pressure",
                "taken_at": at(3),
                "systolic": 121,
                "diastolic": 70,
            },
            {"id": rid(), "type": "heart_rate", "taken_at": at(1), "value": 64, "unit": "bpm"},
            {"id": rid(), "type": "spo2", "taken_at": at(4), "value": 96.5},
        ]
    }
    response = post_me(client, world, batch)
    assert response.status_code == 201, response.text
    listed = client.get("/api/v1/me/readings", headers=world.auth("pat_A1"))
    assert listed.status_code == 200
    assert response.json()["stored"] == listed.json()["items"]
    again = post_me(client, world, batch)
    assert again.json()["already_stored"] == response.json()["stored"]


def test_findings_are_those_of_the_whole_history(client, world, clock):
    # Ingest loads only what the rules read (pathway.history_lookback); what it finds must be
    # what the pathway finds given every stored reading.

    days = 58
    history = []
    for day in range(days, 0, -1):
        hours = 24 * day
        history.append(weight(78 + (days - day) * 0.05 + (3.0 if day <= 2 else 0), hours=hours))
        if day % 3 == 0:
            history.append(
                {
                    "id": rid(),
                    "type": "heart_rate",
                    "taken_at": at(hours + 1),
                    "value": 58 + day % 7,
                }
            )
            history.append(
                {
                    "id": rid(),
                    "type": "blood_pressure",
                    "taken_at": at(hours + 1),
                    "systolic": 100 + day % 9,
                    "diastolic": 60,
                }
            )
        if day % 4 == 0:
            history.append({"id": rid(), "type": "spo2", "taken_at": at(hours + 2), "value": 95})
        if day % 5 == 0 or day <= 2:
            history.append(
                {
                    "id": rid(),
                    "type": "symptoms",
                    "taken_at": at(hours + 2),
                    "answers": {
                        "breathlessness": "worse" if day <= 2 else "usual",
                        "orthopnoea": day <= 2,
                        "ankle_swelling": "usual",
                        "dizziness": day == 10,
                        "chest_pain": False,
                        "fatigue": "usual",
                    },
                }
            )
    for start in range(0, len(history), 400):
        assert post_me(client, world, {"readings": history[start : start + 400]}).status_code == 201
    new = [
        weight(82.4, hours=0.5),
        {"id": rid(), "type": "heart_rate", "taken_at": at(0.4), "value": 49},
    ]
    with world.app.state.sessions() as s:
        patient = s.get(Patient, world.patients["pat_A1"])
        stored = s.scalars(select(Reading).where(Reading.patient_id == patient.id)).all()
        config = evaluation.config_for(evaluation.site_overrides(s, patient.team_id))
        expected = pathway.evaluate(
            config,
            evaluation.patient_context(patient),
            [evaluation.to_pathway_reading(r) for r in stored],
            [
                evaluation.to_pathway_reading(
                    {
                        **r,
                        "id": r["id"],
                        "taken_at": datetime.fromisoformat(r["taken_at"]),
                        "systolic": None,
                        "diastolic": None,
                        "answers": None,
                    }
                )
                for r in new
            ],
            clock(),
        )
    response = post_me(client, world, {"readings": new})
    assert response.status_code == 201, response.text
    assert expected.findings, "the history should make the new readings worth a finding"
    findings = response.json()["findings"]
    assert sorted((f["rule_id"], f["evidence"]) for f in findings) == sorted(
        (f.rule_id, list(f.evidence)) for f in expected.findings
    )
    assert response.json()["advice"]["code"] == expected.advice.code


def test_own_readings_answers_in_the_general_handlers_order(client, world):
    # POST /me/readings has a handler of its own: it must answer as FastAPI's general one
    # (invalid JSON 422, then 401, then 403, then the body's 422) and store nothing.
    url = "/api/v1/me/readings"
    bad = {"id": rid(), "type": "weight", "taken_at": at(1)}  # no value
    staff = world.auth("clin_A1")
    junk = {"Content-Type": "application/json"}
    assert client.post(url, content=b"{not json", headers=junk).status_code == 422
    assert client.post(url, json=bad).status_code == 401
    wrong = {"Authorization": "Bearer mhfd_not-a-token"}
    assert client.post(url, json=bad, headers=wrong).status_code == 401
    assert client.post(url, json=bad, headers={"Authorization": "Basic eDp5"}).status_code == 401
    assert client.post(url, json=bad, headers=staff).status_code == 403
    assert client.post(url, json=weight(), headers=staff).status_code == 403
    response = post_me(client, world, bad)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    empty = client.post(url, headers=world.auth("pat_A1"))
    assert empty.status_code == 422
    assert count(world) == 0


def test_the_ingest_answer_is_what_the_ingest_model_would_serialise(client, world, clock):
    """Ingest serialises its answer's plain values without building IngestOut: the bytes are
    the ones the model gives for them (field order, float and time formats, units, nulls,
    findings and advice, re-sent readings), for every reading type, single or in a batch."""
    answers = {
        "breathlessness": "worse",
        "orthopnoea": True,
        "ankle_swelling": "usual",
        "dizziness": False,
        "chest_pain": True,
        "fatigue": "usual",
    }
    now = clock()
    batch = {
        "readings": [
            weight(176.5, "lb", hours=3),
            {"id": rid(), "type": "heart_rate", "taken_at": at(2), "value": 64, "unit": "bpm"},
            {
                "id": rid(),
                "type": "blood_pressure",
                "taken_at": at(2),
                "systolic": 121,
                "diastolic": 70,
            },
            {"id": rid(), "type": "symptoms", "taken_at": at(1), "answers": answers},
        ]
    }
    spo2 = {"id": rid(), "type": "spo2", "taken_at": (now - timedelta(minutes=5)).isoformat()}
    lab = {"id": rid(), "type": "creatinine", "taken_at": at(1), "value": 98, "unit": "umol/L"}
    patient = world.patients["pat_A1"]
    posts = [
        post_me(client, world, weight(80)),  # an integral value: sent as 80, shown as 80.0
        post_me(client, world, batch),
        post_me(client, world, batch),  # every reading stored before, with its findings
        post_me(client, world, {**spo2, "value": 93}),
        post_me(client, world, {**spo2, "id": rid(), "value": 88}),  # a finding of its own
        client.post(
            f"/api/v1/patients/{patient}/readings", json=lab, headers=world.auth("clin_A1")
        ),
    ]
    assert [p.status_code for p in posts] == [201, 201, 200, 201, 201, 201]
    assert posts[1].json()["findings"] and posts[2].json()["already_stored"]
    assert posts[4].json()["findings"]
    for response in posts:
        assert (
            response.content
            == IngestOut.model_validate_json(response.content).model_dump_json().encode()
        )


@pytest.mark.parametrize("db_url", ["postgres"], indirect=True)
def test_a_post_waiting_for_the_patients_lock_is_judged_with_what_the_holder_committed(
    client, world, db_url
):
    """Ingest's history is read after the patient's lock is granted (a statement of its own:
    one statement's snapshot would predate the wait), so a post that waited for another
    ingest's lock sees the reading that ingest committed, as a post after it would. (A plpgsql
    function locking then reading in one round trip measured no faster.) Here a borderline SpO2
    (93 %) committed by the lock's holder is what makes the waiting post's 94 % a confirmed
    amber finding; judged without it, 94 % alone is only a request to re-measure."""
    patient = world.patients["pat_A1"]
    remeasure = {"id": rid(), "type": "spo2", "taken_at": at(5 / 60), "value": 94}
    engine = build_engine(db_url)  # the app's own pool is the post's
    with ThreadPoolExecutor(1) as pool, engine.connect() as holder:
        with holder.begin():
            holder.execute(select(Patient.id).where(Patient.id == patient).with_for_update())
            holder.execute(
                insert(Reading).values(
                    patient_id=patient,
                    id=uuid.uuid4(),
                    type="spo2",
                    taken_at=T0 - timedelta(minutes=35),
                    received_at=T0 - timedelta(minutes=35),
                    value=93,
                    source="device",
                )
            )
            waiting = pool.submit(post_me, client, world, remeasure)
            with engine.connect() as watcher:
                # Bounded by time, not by a count of polls: on a busy machine the post can take
                # more than the ten seconds 200 polls used to allow to reach the lock.
                deadline = _time.monotonic() + 60
                while True:
                    blocked = watcher.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                            " AND datname = current_database()"
                        )
                    ).scalar()
                    if blocked or _time.monotonic() > deadline:
                        break
                    _time.sleep(0.05)
            assert blocked, "the post never waited for the patient's lock"
        response = waiting.result(timeout=30)
    engine.dispose()
    assert response.status_code == 201, response.text
    assert [f["rule_id"] for f in response.json()["findings"]] == ["amber.spo2"], response.text
