"""The patient page's whole picture and its forms (clinicians of the patient's team), on SQLite
and PostgreSQL: medicines, bloods, KCCQ, events, pause and discharge through the API's use
cases, thresholds refused all at once in words, symptom changes only, and the charts' lines and
alert markers."""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from service.alerting.schemas import AlertDetailOut
from service.alerting.schemas import AlertFindingOut as FindingOut
from service.models import (
    AuditEvent,
    KccqScore,
    MedicationChange,
    PatientEvent,
    Reading,
    SettingChange,
)
from service.ui.patient_charts import alert_marks
from tests.support.clock import T0
from tests.support.signin import csrf_of, signed_in
from tests.support.world import patient_row, read


def post_readings(client, world, readings, who: str = "pat_A1") -> None:
    response = client.post(
        "/api/v1/me/readings", json={"readings": readings}, headers=world.auth(who)
    )
    assert response.status_code in (200, 201), response.text


def reading(kind: str, hours_ago: float, **values: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "taken_at": (T0 - timedelta(hours=hours_ago)).isoformat(),
        **values,
    }


def record_page(client, world):
    pid = world.patients["pat_A1"]
    page = client.get(f"/ui/patients/{pid}")
    assert page.status_code == 200, page.text
    return pid, page.text, csrf_of(page.text)


def test_record_shows_medicines_bloods_kccq_and_events_newest_first(client, world):
    pid = world.patients["pat_A1"]
    headers = world.auth("clin_A1")
    for day, status, drug in (
        ("2026-10-01", "started", "bisoprolol 1.25 mg"),
        ("2026-11-01", "started", "bisoprolol 2.5 mg"),
    ):
        body = {"pillar": "beta_blocker", "status": status, "changed_on": day, "drug": drug}
        response = client.post(f"/api/v1/patients/{pid}/medications", json=body, headers=headers)
        assert response.status_code == 201, response.text
    for day, score in (("2026-10-22", 40), ("2026-11-19", 55)):
        kccq: dict[str, object] = {"score": score, "timepoint": "other", "assessed_on": day}
        assert client.post(f"/api/v1/patients/{pid}/kccq", json=kccq, headers=headers).is_success
    event = {"kind": "ae_attendance", "attended_on": "2026-11-10"}
    assert client.post(f"/api/v1/patients/{pid}/events", json=event, headers=headers).is_success
    labs = [
        reading("potassium", 48, value=4.2, unit="mmol/L"),
        reading("potassium", 2, value=6.4, unit="mmol/L"),
    ]
    response = client.post(
        f"/api/v1/patients/{pid}/readings", json={"readings": labs}, headers=headers
    )
    assert response.status_code in (200, 201), response.text
    signed_in(client, "clin_a1")
    _, html, _ = record_page(client, world)
    assert "Beta-blocker" in html
    assert "Started or dose changed (bisoprolol 2.5 mg) since 01 Nov 2026" in html
    assert html.index("bisoprolol 2.5 mg") < html.index("bisoprolol 1.25 mg")
    assert "SGLT2 inhibitor" in html and "Nothing recorded" in html
    assert "+15 points since 22 Oct 2026 (better)" in html
    assert 'id="chart-kccq-title"' in html and "+15 points overall" in html
    table = html[html.index('aria-label="KCCQ-12 scores table"') :]
    assert table.index("19 Nov 2026") < table.index("22 Oct 2026")
    assert "A&amp;E visit" in html and "10 Nov 2026" in html
    assert "6.4 mmol/L" in html and html.index("6.4 mmol/L") < html.index("4.2 mmol/L")
    bloods = html[html.index('id="bloods"') : html.index('id="kccq"')]
    assert re.search(r"finding--red\">Red: [^<]*potassium", bloods, re.I), bloods
    # Each read of the record's parts is audited as the API audits it.
    details = {
        a.detail
        for a in read(world, lambda s: s.scalars(select(AuditEvent)).all())
        if a.route == "GET /ui/patients/{patient_id}" and a.patient_id == pid
    }
    assert {"ui-patient-record", "medications", "kccq"} <= details


def test_forms_record_through_the_api_use_cases(client, world):
    signed_in(client, "clin_a1")
    pid, _, token = record_page(client, world)
    medicine = {
        "csrf_token": token,
        "pillar": "sglt2i",
        "status": "started",
        "drug": "dapagliflozin 10 mg",
        "changed_on": "2026-11-18",
        "at_target": "yes",
    }
    saved = client.post(f"/ui/patients/{pid}/medicines", data=medicine, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"].endswith("msg=medicine#medicines")
    row = read(world, lambda s: s.scalars(select(MedicationChange)).one())
    assert (row.pillar, row.at_target_or_max_tolerated, row.drug) == (
        "sglt2i",
        True,
        "dapagliflozin 10 mg",
    )
    kccq = {"csrf_token": token, "score": "62.5", "timepoint": "start", "assessed_on": "2026-11-19"}
    assert client.post(f"/ui/patients/{pid}/kccq", data=kccq).status_code == 200
    assert read(world, lambda s: s.scalars(select(KccqScore.score)).one()) == 62.5

    admission = {
        "csrf_token": token,
        "kind": "admission",
        "occurred_on": "2026-11-15",
        "hf_related": "yes",
    }
    saved = client.post(f"/ui/patients/{pid}/events", data=admission, follow_redirects=False)
    assert saved.status_code == 303
    assert patient_row(world, pid).in_hospital_since == date(2026, 11, 15)
    event = read(world, lambda s: s.scalars(select(PatientEvent)).one())
    page = client.get(f"/ui/patients/{pid}").text
    assert "Still in hospital (5 days so far)" in page
    home = {"csrf_token": token, "discharged_on": "2026-11-18"}
    saved = client.post(
        f"/ui/patients/{pid}/events/{event.id}/discharged", data=home, follow_redirects=False
    )
    assert saved.status_code == 303
    assert patient_row(world, pid).in_hospital_since is None
    assert "Post-discharge review due" in client.get(f"/ui/patients/{pid}").text

    pause = {"csrf_token": token, "status": "paused", "reason": "On holiday", "version": "1"}
    version = patient_row(world, pid).version
    pause["version"] = str(version)
    saved = client.post(f"/ui/patients/{pid}/monitoring", data=pause, follow_redirects=False)
    assert saved.status_code == 303 and "msg=paused" in saved.headers["location"]
    assert patient_row(world, pid).status == "paused"
    page = client.get(f"/ui/patients/{pid}").text
    assert "Reason: On holiday" in page
    reasons = read(world, lambda s: s.scalars(select(SettingChange.after)).all())
    assert {"status": "paused", "reason": "On holiday"} in reasons

    discharge = {"csrf_token": token, "date": "2026-11-20", "reason": "stable_optimised"}
    saved = client.post(f"/ui/patients/{pid}/discharge", data=discharge, follow_redirects=False)
    assert saved.status_code == 303
    patient = patient_row(world, pid)
    assert (patient.status, patient.discharge_reason) == ("discharged", "stable_optimised")
    assert "Stable and medicines optimised" in client.get(f"/ui/patients/{pid}").text


def test_form_problems_are_in_words_at_the_form_and_nothing_is_saved(client, world):
    signed_in(client, "clin_a1")
    pid, _, token = record_page(client, world)
    bad = {"csrf_token": token, "score": "140", "timepoint": "", "assessed_on": "2099-01-01"}
    refused = client.post(f"/ui/patients/{pid}/kccq", data=bad)
    assert refused.status_code == 422
    assert "KCCQ-12 summary score must be 100 or less." in refused.text
    assert "Choose timepoint from the list." in refused.text
    assert 'id="k-score"' in refused.text and 'value="140"' in refused.text  # kept
    assert "Input should" not in refused.text
    future = {"csrf_token": token, "score": "50", "timepoint": "other", "assessed_on": "2099-01-01"}
    refused = client.post(f"/ui/patients/{pid}/kccq", data=future)
    assert (
        refused.status_code == 422 and "Date of the questionnaire is in the future." in refused.text
    )
    no_kind = client.post(f"/ui/patients/{pid}/events", data={"csrf_token": token})
    assert no_kind.status_code == 422 and "What happened must be chosen." in no_kind.text
    admission = {"csrf_token": token, "kind": "admission", "occurred_on": "2026-11-10"}
    refused = client.post(f"/ui/patients/{pid}/events", data=admission)
    assert (
        refused.status_code == 422
        and "Choose yes or no for heart failure admission" in refused.text
    )
    no_reason = {"csrf_token": token, "status": "paused", "reason": " ", "version": "1"}
    refused = client.post(f"/ui/patients/{pid}/monitoring", data=no_reason)
    assert refused.status_code == 422 and "Reason is needed" in refused.text
    no_target = {
        "csrf_token": token,
        "pillar": "mra",
        "status": "stopped",
        "at_target": "yes",
        "changed_on": "2026-11-01",
    }
    refused = client.post(f"/ui/patients/{pid}/medicines", data=no_target)
    assert refused.status_code == 422
    assert "At target dose applies only to a medicine that is started." in refused.text
    assert read(world, lambda s: s.scalars(select(KccqScore)).all()) == []
    assert patient_row(world, pid).status == "active"


def test_forms_need_the_session_token_and_the_patients_team(client, world):
    signed_in(client, "clin_a1")
    pid, _, token = record_page(client, world)
    paths = ["events", "medicines", "kccq", "monitoring", "discharge", "contact"]
    for path in paths:
        assert (
            client.post(f"/ui/patients/{pid}/{path}", data={"csrf_token": "x"}).status_code == 403
        )
    other = world.patients["pat_B1"]
    for path in paths:
        response = client.post(f"/ui/patients/{other}/{path}", data={"csrf_token": token})
        assert response.status_code == 404, path
    assert client.get(f"/ui/patients/{other}").status_code == 404
    assert read(world, lambda s: s.scalars(select(PatientEvent)).all()) == []
    assert patient_row(world, other).status == "active"
    client.cookies.clear()
    signed_in(client, "lead")
    assert client.get(f"/ui/patients/{pid}").status_code == 403
    lead_token = csrf_of(client.get("/ui/account").text)
    assert (
        client.post(f"/ui/patients/{pid}/kccq", data={"csrf_token": lead_token}).status_code == 403
    )


def test_thresholds_are_refused_all_at_once_in_words(client, world):
    signed_in(client, "clin_a1")
    pid, _, token = record_page(client, world)
    data = {
        "csrf_token": token,
        "version": "1",
        "spo2_red_at_or_below": "80",  # below the API's range
        "pulse_low_red": "45",
        "pulse_low_amber": "42",  # below the red limit: unsafe
        "systolic_red_below": "100",
        "systolic_amber_below": "95",  # below the red limit: unsafe
    }
    refused = client.post(f"/ui/patients/{pid}/thresholds", data=data)
    assert refused.status_code == 422
    html = refused.text
    assert "3 thresholds need changing. Nothing was saved." in html
    assert "Red: SpO2 at or below: enter a number from 85 to 100%." in html
    assert "Amber: pulse at or below: must be at or above the red limit" in html
    assert "Amber: systolic below: must be at or above the red limit" in html
    assert "Input should" not in html
    assert html.count('aria-invalid="true"') >= 3
    assert patient_row(world, pid).thresholds == {"target_weight_kg": 80.0}


def test_symptoms_show_only_the_answers_that_changed(client, world):
    usual = {
        "breathlessness": "usual",
        "orthopnoea": False,
        "ankle_swelling": "usual",
        "dizziness": False,
        "chest_pain": False,
        "fatigue": "usual",
    }
    days = [usual] * 5 + [{**usual, "breathlessness": "worse"}] * 2 + [usual]
    post_readings(
        client,
        world,
        [
            reading("symptoms", 24 * (len(days) - i) + 3, answers=answers)
            for i, answers in enumerate(days)
        ],
    )
    signed_in(client, "clin_a1")
    _, html, _ = record_page(client, world)
    timeline = html[html.index('id="symptoms-title"') : html.index('id="alerts-title"')]
    assert timeline.count('<li class="timeline__item') == 3  # first answers, worse, usual again
    assert "First answers: all as usual." in timeline
    assert "Same answers on 4 more days" in timeline
    assert timeline.index("Usual breathlessness.") < timeline.index("Breathlessness worse")


def test_charts_draw_each_line_on_its_series_and_mark_the_alert_readings(client, world):
    post_readings(
        client,
        world,
        [reading("blood_pressure", 30 * 24 - h, systolic=120, diastolic=70) for h in range(3)]
        + [reading("blood_pressure", 3, systolic=85, diastolic=55)]
        + [reading("heart_rate", 5, value=72)],
    )
    signed_in(client, "clin_a1")
    _, html, _ = record_page(client, world)
    systolic = html[html.index('id="chart-blood_pressure-title"') :]
    systolic = systolic[: systolic.index("</svg>")]
    diastolic = html[html.index('id="chart-diastolic-title"') :]
    diastolic = diastolic[: diastolic.index("</svg>")]
    assert "Red below 90" in systolic and "Amber below 101" in systolic
    assert "Red below" not in diastolic  # the systolic limit is not drawn across diastolic
    assert "Red alert raised" in systolic and "20 Nov 2026, 06:00" in systolic
    pulse = html[html.index('id="chart-pulse-title"') :]
    pulse = pulse[: pulse.index("</svg>")]
    for line in ("Red at 131+", "Amber at 111+", "Amber at 50 or less", "Red at 40 or less"):
        assert line in pulse
    spo2 = html[html.index('id="chart-spo2-title"') :]
    assert "Red at 92% or less" in spo2 and "Amber at 94% or less" in spo2
    assert 'viewBox="0 0 360' in html  # the phone layout


def test_alert_marks_sit_on_the_readings_that_raised_and_raised_again():
    def weight(days_ago: int) -> Reading:
        return Reading(id=uuid.uuid4(), type="weight", taken_at=T0 - timedelta(days=days_ago))

    first, again = weight(80), weight(2)
    symptoms = Reading(id=uuid.uuid4(), type="symptoms", taken_at=T0 - timedelta(days=1))

    def finding(level: str, reading: Reading, summary: str) -> FindingOut:
        # Only the fields alert_marks reads: model_construct skips validation of the rest.
        fields: dict[str, Any] = {"level": level, "summary": summary}
        fields |= {"evidence": [str(reading.id)], "observed_at": reading.taken_at}
        return FindingOut.model_construct(**fields)

    shown: dict[str, Any] = dict(
        title="Weight gain",
        raised_at=T0 - timedelta(days=80),
        findings=[
            finding("red", again, "+2.2 kg in 2 days"),
            finding("amber", first, "+2.0 kg in 3 days"),
            finding("red", symptoms, "breathlessness worse"),
        ],
    )
    alert = AlertDetailOut.model_construct(**shown)
    marks = alert_marks([alert], [first, again, symptoms], T0 - timedelta(days=90))
    assert [(m.chart, m.at, m.severity) for m in marks] == [
        ("weight", first.taken_at, "amber"),
        ("weight", again.taken_at, "red"),
        ("weight", symptoms.taken_at, "red"),  # symptoms are not charted: at the weight chart
    ]
    assert "Amber alert raised" in marks[0].label
    assert "Red alert raised again" in marks[1].label and "+2.2 kg in 2 days" in marks[1].label
    # Readings before the chart's window are not marked.
    assert alert_marks([alert], [first, again], T0 - timedelta(days=30))[0].at != first.taken_at


def test_name_and_telephone_are_shown_changed_and_cleared(client, world):
    signed_in(client, "clin_a1")
    pid, _, token = record_page(client, world)
    data = {"csrf_token": token, "name": "Ada Lovelace", "phone": "07700 900123", "version": "1"}
    saved = client.post(f"/ui/patients/{pid}/contact", data=data, follow_redirects=False)
    assert saved.status_code == 303 and "msg=contact" in saved.headers["location"]
    patient = patient_row(world, pid)
    assert (patient.name, patient.phone) == ("Ada Lovelace", "07700 900123")
    html = client.get(f"/ui/patients/{pid}").text
    assert "Ada Lovelace" in html and 'href="tel:+447700900123"' in html
    refused = client.post(
        f"/ui/patients/{pid}/contact", data={**data, "phone": "12", "version": "2"}
    )
    assert refused.status_code == 422 and "Telephone is not a UK telephone number" in refused.text
    stale = client.post(f"/ui/patients/{pid}/contact", data=data)  # version 1 again
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    cleared = {"csrf_token": token, "name": "", "phone": "", "version": "2"}
    assert client.post(f"/ui/patients/{pid}/contact", data=cleared).status_code == 200
    patient = patient_row(world, pid)
    assert (patient.name, patient.phone) == (None, None)
    updates = [
        a.detail
        for a in read(world, lambda s: s.scalars(select(AuditEvent)).all())
        if a.route == "POST /ui/patients/{patient_id}/contact" and a.action == "U"
    ]
    assert updates == ["name,phone", "name,phone"]  # field names only, never the values
