"""The monthly pack: CSVs and charts written by ``report_command``."""

from __future__ import annotations

import csv
import json

from click.testing import CliRunner

from service.reports.cli import report_command
from tests.support.stewardship import framework_body


def test_pack_is_written(world, settings, clock, tmp_path, monkeypatch):
    # The command judges "has the month started" and the figures' as-of time by the wall
    # clock; the test's clock keeps both what they are for the world built at T0.
    monkeypatch.setattr("service.timeutil.utcnow", clock)
    out = tmp_path / "pack"
    result = CliRunner().invoke(
        report_command,
        [
            "--month",
            "2026-10",
            "--out",
            str(out),
            "--database-url",
            settings.database_url,
            "--trend-months",
            "2",
            "--no-progress",
        ],
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.rglob("*") if p.is_file()}
    assert "network-2026-10.csv" in names and "site-SITEA-2026-10.csv" in names
    assert "equity-SITEB-ethnicity-2026-10.csv" in names
    assert "funnel-weight_adherence.svg" in names and "trend-caseload.svg" in names
    with (out / "network-2026-10.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    onboarded = [r for r in rows if r["metric_id"] == "onboarded" and r["month"] == "2026-10"]
    assert {r["value"] for r in onboarded} == {"*"}  # the pack is for sharing: disclosure applies


def test_bad_month_is_refused(tmp_path):
    result = CliRunner().invoke(report_command, ["--month", "2026-13", "--out", str(tmp_path)])
    assert result.exit_code != 0 and "YYYY-MM" in result.output


def test_the_pack_holds_each_frameworks_dashboard(
    client, world, settings, clock, tmp_path, monkeypatch
):
    monkeypatch.setattr("service.timeutil.utcnow", clock)
    body = framework_body(world, "A", name="Site A: heart failure")
    made = client.post("/api/v1/value-frameworks", json=body, headers=world.auth("lead"))
    assert made.status_code == 201, made.text
    out = tmp_path / "pack"
    result = CliRunner().invoke(
        report_command,
        [
            *("--month", "2026-10", "--out", str(out)),
            *("--database-url", settings.database_url, "--trend-months", "1", "--no-progress"),
        ],
    )
    assert result.exit_code == 0, result.output
    board = json.loads((out / "frameworks" / "site-a-heart-failure-2026-10.json").read_text())
    api = client.get(
        f"/api/v1/value-frameworks/{made.json()['id']}/dashboard?month=2026-10",
        headers=world.auth("lead"),
    ).json()
    # The same dashboard as the API's, but for when it was made.
    assert {k: v for k, v in board.items() if k != "meta"} == {
        k: v for k, v in api.items() if k != "meta"
    }
    csv_text = (out / "frameworks" / "site-a-heart-failure-2026-10.csv").read_text()
    assert csv_text.startswith("month,framework,version,section")
