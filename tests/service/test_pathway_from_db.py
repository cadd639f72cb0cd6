"""`mhf pathway evaluate --from-db` replays what the service stored, with recorded admissions."""

from __future__ import annotations

import json
import uuid
import xml.etree.ElementTree as ET
from datetime import timedelta

from click.testing import CliRunner

import pathway
from service.cli import main
from tests.support.clock import T0


def test_replay_of_stored_readings_and_admissions(client, world, settings):
    readings = [
        {
            "id": str(uuid.uuid4()),
            "type": "weight",
            "taken_at": (T0 - timedelta(days=20 - day)).isoformat(),
            "value": 80 + (0.6 * max(0, day - 14)),
        }
        for day in range(20)
    ]
    response = client.post(
        "/api/v1/me/readings", json={"readings": readings}, headers=world.auth("pat_A1")
    )
    assert response.status_code == 201
    admission = {"kind": "admission", "admitted_on": "2026-11-20", "hf_related": True}
    patient = world.patients["pat_A1"]
    assert (
        client.post(
            f"/api/v1/patients/{patient}/events", json=admission, headers=world.auth("clin_A1")
        ).status_code
        == 201
    )
    result = CliRunner().invoke(main, ["pathway", "evaluate", "--from-db", settings.database_url])
    assert result.exit_code == 0, result.output
    assert "default pathway" in result.output
    assert "1 patients" in result.output and "events" in result.output


def _spo2_days(client, world, who: str) -> None:
    """SpO2 96 % each morning, Tuesday 10 to Sunday 15 November: amber only for a patient
    whose personal amber limit is 96 % (the pathway's own is 94 %)."""
    readings = [
        {
            "id": str(uuid.uuid4()),
            "type": "spo2",
            "taken_at": (T0 - timedelta(days=10 - day)).isoformat(),
            "value": 96,
        }
        for day in range(6)
    ]
    response = client.post(
        "/api/v1/me/readings", json={"readings": readings}, headers=world.auth(who)
    )
    assert response.status_code == 201, response.text


def _evaluate(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["pathway", "evaluate", "--workers", "1", *args])
    return result.exit_code, result.output


def test_from_db_judges_with_personal_thresholds_and_the_site_pathway(
    client, world, settings, tmp_path
):
    # Site A: amber SpO2 without a re-measure, and amber alerts due three working days later.
    site = {
        "pathway_overrides": {"confirm": {"amber.spo2": 1}},
        "response_policy": {"amber_working_days": 3},
    }
    response = client.patch(
        f"/api/v1/sites/{world.sites['A']}", json=site, headers=world.auth("admin")
    )
    assert response.status_code == 200, response.text
    limits = {"thresholds": {"target_weight_kg": 80.0, "spo2_amber_at_or_below": 96}}
    for name in ("A1", "A2"):
        response = client.patch(
            f"/api/v1/patients/{world.patients['pat_' + name]}",
            json=limits,
            headers=world.auth(f"clin_{name}"),
        )
        assert response.status_code == 200, response.text
    for name in ("pat_A1", "pat_A2", "pat_B1"):
        _spo2_days(client, world, name)

    out = tmp_path / "a.jsonl"
    code, output = _evaluate("--from-db", settings.database_url, "--alerts-out", str(out))
    assert code == 0, output
    assert "3 patients" in output
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    # Both site A patients: amber at Tuesday's first reading (no re-measure), open until Friday
    # 18:00 (three working days, not one: the site's policy), so the next is Saturday's.
    # Site B's patient, on the pathway's own limits, has none.
    assert {(a["patient_id"], a["raised_at"][:10], a["problem"]) for a in alerts} == {
        (str(world.patients[name]), day, "spo2")
        for name in ("pat_A1", "pat_A2")
        for day in ("2026-11-10", "2026-11-14")
    }
    site_a = pathway.default_pathway().with_overrides({"confirm": {"amber.spo2": 1}})
    assert {a["pathway_version"] for a in alerts} == {site_a.version}
    assert f"SITEA {site_a.version}" in output and "SITEB mhf-2026.3" in output

    code, output = _evaluate(
        "--from-db", settings.database_url, "--site", "SITEB", "--alerts-out", str(out)
    )
    assert code == 0, output
    assert "1 patients" in output and out.read_text() == ""


def test_a_site_trade_off_curve_marks_its_current_setting(client, world, settings, tmp_path):
    site = {"pathway_overrides": {"macd": {"threshold_kg": 1.3}}}
    response = client.patch(
        f"/api/v1/sites/{world.sites['A']}", json=site, headers=world.auth("admin")
    )
    assert response.status_code == 200, response.text
    _spo2_days(client, world, "pat_A1")
    svg = tmp_path / "site.svg"
    code, output = _evaluate(
        "--from-db", settings.database_url, "--site", "SITEA", "--sweep", "--svg-out", str(svg)
    )
    assert code == 0, output
    # The site's own MACD threshold is on its curve, marked, beside the standard values.
    assert "sweep MACD: threshold kg = 1.3 now:" in output
    assert "sweep MACD: threshold kg = 1.25:" in output
    assert "sweep rule of thumb: gain kg in 3 days = 2 now:" in output
    drawing = ET.fromstring(svg.read_text())
    texts = [t.text for t in drawing.iter("{http://www.w3.org/2000/svg}text")]
    assert "SITEA now" in texts and "1.3 now" in texts


def test_from_db_refuses_what_it_cannot_do(world, settings):
    url = settings.database_url
    for args, message in [
        (["--from-db", url, "--site", "NOPE"], "no site with code 'NOPE'"),
        (["--site", "SITEA"], "--site needs --from-db"),
        (["--from-db", url, "--sweep"], "--sweep with --from-db needs --site"),
        (["--from-db", url, "--site", "SITEB", "--sweep"], "site SITEB has no stored readings"),
    ]:
        code, output = _evaluate(*args)
        assert code == 2, output
        assert message in output
