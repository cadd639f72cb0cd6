"""`mhf pathway evaluate` on synthetic data and on readings brought from elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pathway import ReadingType
from service.pathway.cli import parse_reading, pathway_group


def run(*args: str) -> str:
    result = CliRunner().invoke(pathway_group, ["evaluate", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_synthetic_table_and_verdict() -> None:
    out = run(
        "--synthetic",
        "30",
        "--days",
        "120",
        "--seed",
        "2",
        "--workers",
        "1",
        "--compare-rule-of-thumb",
    )
    assert "data: synthetic, 30 patients x 120 days, seed 2" in out
    assert "default pathway" in out
    assert "rule of thumb (2 kg in 3 days)" in out
    assert "default beats rule of thumb" in out


def test_synthetic_in_two_processes_matches_one() -> None:
    one = run("--synthetic", "16", "--days", "90", "--workers", "1")
    two = run("--synthetic", "16", "--days", "90", "--workers", "2")
    assert one == two


def test_sweep_writes_svg(tmp_path: Path) -> None:
    svg = tmp_path / "curve.svg"
    out = run(
        "--synthetic", "12", "--days", "90", "--workers", "1", "--sweep", "--svg-out", str(svg)
    )
    assert "sweep moving average: k x SD = 2.5" in out
    lines = {
        line.split(":")[1].split("=")[1].strip(): line
        for line in out.splitlines()
        if line.startswith("sweep rule of thumb")
    }
    assert lines["1"].split(":", 2)[2] != lines["3"].split(":", 2)[2]
    assert svg.read_text().startswith("<svg")


def write_jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n", encoding="utf-8")
    return path


def test_readings_and_events_files(tmp_path: Path) -> None:
    readings = []
    for day in range(1, 29):
        stamp = f"2026-02-{day:02d}T07:30:00+00:00"
        pounds = 176.4 if day < 26 else 176.4 + 2.5 * (day - 25)  # about 1.1 kg a day
        readings.append(
            {
                "patient_id": "A",
                "id": f"w{day}",
                "type": "weight",
                "taken_at": stamp,
                "value": pounds,
                "unit": "lb",
            }
        )
        readings.append(
            {"patient_id": "A", "id": f"o{day}", "type": "spo2", "taken_at": stamp, "value": 97}
        )
        readings.append(
            {
                "patient_id": "A",
                "id": f"b{day}",
                "type": "blood_pressure",
                "taken_at": stamp,
                "systolic": 120,
                "diastolic": 70,
            }
        )
    readings.append(
        {
            "patient_id": "A",
            "id": "s28",
            "type": "symptoms",
            "taken_at": "2026-02-28T08:00:00+00:00",
            "answers": {"breathlessness": "worse", "orthopnoea": True},
        }
    )
    readings.append(
        {
            "patient_id": "B",
            "id": "bw",
            "type": "weight",
            "taken_at": "2026-02-01T08:00:00+00:00",
            "value": 12.5,
            "unit": "st",
        }
    )
    events = [
        {"patient_id": "A", "type": "admission", "date": "2026-03-02", "hf_related": True},
        {"patient_id": "B", "type": "admission", "date": "2026-02-10", "hf_related": False},
    ]
    r = write_jsonl(tmp_path / "r.jsonl", readings)
    e = write_jsonl(tmp_path / "e.jsonl", events)
    rules = tmp_path / "rules.toml"
    rules.write_text(
        'disabled = ["trend.macd", "amber.weight_gain_2d", "amber.weight_gain_3d",'
        ' "amber.weight_above_target"]\n[thresholds]\nspo2_red_at_or_below = 90\n'
        "[moving_average]\nmin_gain_kg = 2.0\n"
    )
    alerts = tmp_path / "a.jsonl"
    out = run(
        "--readings", str(r), "--events", str(e), "--rules", str(rules), "--alerts-out", str(alerts)
    )
    assert "data: 2 patients, 29 patient-days" in out
    assert "events: 1" in out
    lines = [json.loads(x) for x in alerts.read_text().splitlines()]
    # The gain and the symptoms on the 28th are one congestion alert, as the live service
    # raises it: red, spoken for by the red rule, with the pathway version that raised it.
    assert lines == [
        {
            "patient_id": "A",
            "raised_at": "2026-02-28T08:00:00+00:00",
            "problem": "congestion",
            "rule_id": "red.weight_gain_symptoms",
            "severity": "red",
            "pathway_version": lines[0]["pathway_version"],
        }
    ]
    assert lines[0]["pathway_version"].startswith("mhf-2026.3+")
    assert "trend.moving_average" in out and "amber.symptoms_worse" in out


def test_parse_reading_units_and_types() -> None:
    pid, reading = parse_reading(
        {
            "patient_id": "p",
            "id": "1",
            "type": "weight",
            "taken_at": "2026-01-01T08:00:00+00:00",
            "value": 14,
            "unit": "st",
        }
    )
    assert pid == "p"
    assert reading.value == pytest.approx(88.904105, abs=1e-6)
    _, hr = parse_reading(
        {
            "patient_id": "p",
            "id": "2",
            "type": "heart_rate",
            "taken_at": "2026-01-01T08:00:00+01:00",
            "value": 70,
        }
    )
    assert hr.type is ReadingType.HEART_RATE


def test_bad_inputs_are_reported(tmp_path: Path) -> None:
    runner = CliRunner()
    naive = write_jsonl(
        tmp_path / "n.jsonl",
        [
            {
                "patient_id": "p",
                "id": "1",
                "type": "spo2",
                "taken_at": "2026-01-01T08:00:00",
                "value": 97,
            }
        ],
    )
    result = runner.invoke(
        pathway_group, ["evaluate", "--readings", str(naive), "--events", str(naive)]
    )
    assert result.exit_code != 0
    assert "UTC offset" in result.output
    broken = tmp_path / "b.jsonl"
    broken.write_text("{not json\n")
    result = runner.invoke(
        pathway_group, ["evaluate", "--readings", str(broken), "--events", str(broken)]
    )
    assert result.exit_code != 0
    result = runner.invoke(pathway_group, ["evaluate", "--readings", str(broken)])
    assert "--readings needs --events" in result.output
    result = runner.invoke(
        pathway_group, ["evaluate", "--readings", str(naive), "--events", str(naive), "--sweep"]
    )
    assert result.exit_code != 0


def test_scenario_matrix_rows_worst_median_and_workload() -> None:
    out = run(
        "--scenario",
        "all",
        "--synthetic",
        "6",
        "--days",
        "60",
        "--workers",
        "2",
        "--minutes-per-alert",
        "20",
    )
    assert "seed 101 (held-out)" in out
    for name in ("literature-central", "frail-low-signal", "high-risk-post-discharge"):
        assert any(line.startswith(name) for line in out.splitlines())
    assert "nurse time at 20 minutes per alert" in out
    assert "worst sensitivity:" in out and "median scenario:" in out
    one = run("--scenario", "small-gains", "--synthetic", "4", "--days", "60", "--seed", "3")
    assert "seed 3 (NOT a held-out seed)" in one
    result = CliRunner().invoke(pathway_group, ["evaluate", "--scenario", "easy"])
    assert result.exit_code != 0
    assert "unknown scenario" in result.output
