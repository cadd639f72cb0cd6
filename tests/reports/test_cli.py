"""``mhf report``: the month's pack, one zip, as the page downloads it (``service.reports.pack``)."""

from __future__ import annotations

import csv
import io
import json
import zipfile

from click.testing import CliRunner

from service.reports.cli import report_command
from tests.support.stewardship import framework_body

FOLDER = "mhf-pack-2026-10/"


def _run(settings, out, *extra: str):
    return CliRunner().invoke(
        report_command,
        [
            *("--month", "2026-10", "--out", str(out)),
            *("--database-url", settings.database_url, "--trend-months", "2", "--no-progress"),
            *extra,
        ],
    )


def _zip(out) -> zipfile.ZipFile:
    return zipfile.ZipFile(out / "mhf-pack-2026-10.zip")


def test_pack_is_written(world, settings, clock, tmp_path, monkeypatch):
    # The command judges "has the month started" and the figures' as-of time by the wall
    # clock; the test's clock keeps both what they are for the world built at T0.
    monkeypatch.setattr("service.timeutil.utcnow", clock)
    out = tmp_path / "pack"
    result = _run(settings, out)
    assert result.exit_code == 0, result.output
    # One file: the zip, its files under one folder.
    assert [p.name for p in out.iterdir()] == ["mhf-pack-2026-10.zip"]
    names = {n.removeprefix(FOLDER) for n in _zip(out).namelist()}
    assert {
        "index.html",
        "network-2026-10.csv",
        "network-wide-2026-10.csv",
        "sites/site-SITEA-2026-10.csv",
        "equity/equity-SITEB-ethnicity-2026-10.csv",
        "charts/funnel-weight_adherence.svg",
        "charts/spc-caseload.svg",
    } <= names
    text = _zip(out).read(FOLDER + "network-2026-10.csv").decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    onboarded = [r for r in rows if r["metric_id"] == "onboarded" and r["month"] == "2026-10"]
    assert {r["value"] for r in onboarded} == {"*"}  # the pack is for sharing: disclosure applies
    wide = list(
        csv.DictReader(io.StringIO(_zip(out).read(FOLDER + "network-wide-2026-10.csv").decode()))
    )
    row = next(r for r in wide if r["metric_id"] == "onboarded")
    assert (row["SITEA"], row["SITEB"], row["network"]) == ("*", "*", "*")


def test_the_csv_format_and_unzipped_files(world, settings, clock, tmp_path, monkeypatch):
    monkeypatch.setattr("service.timeutil.utcnow", clock)
    out = tmp_path / "pack"
    result = _run(settings, out, "--format", "long", "--unzipped")
    assert result.exit_code == 0, result.output
    names = {n.removeprefix(FOLDER) for n in _zip(out).namelist()}
    assert "network-2026-10.csv" in names and "network-wide-2026-10.csv" not in names
    loose = out / "mhf-pack-2026-10"
    assert (loose / "index.html").is_file() and (loose / "network-2026-10.csv").is_file()


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
    result = _run(settings, out)
    assert result.exit_code == 0, result.output
    board = json.loads(_zip(out).read(FOLDER + "frameworks/site-a-heart-failure-2026-10.json"))
    api = client.get(
        f"/api/v1/value-frameworks/{made.json()['id']}/dashboard?month=2026-10",
        headers=world.auth("lead"),
    ).json()
    # The same dashboard as the API's, but for when it was made.
    assert {k: v for k, v in board.items() if k != "meta"} == {
        k: v for k, v in api.items() if k != "meta"
    }
    csv_text = _zip(out).read(FOLDER + "frameworks/site-a-heart-failure-2026-10.csv").decode()
    assert csv_text.startswith("month,framework,version,section")
    index = _zip(out).read(FOLDER + "index.html").decode()
    assert "Site A: heart failure" in index
