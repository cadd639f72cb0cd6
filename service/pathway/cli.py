"""`mhf pathway evaluate`: replay readings through a pathway and report its alert workload.

The evaluation itself is pure (pathway.evaluation); this module only reads and writes files
and spreads the synthetic cohort over processes.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from pathway import (
    AnkleSwelling,
    Breathlessness,
    Cohort,
    Fatigue,
    PathwayConfig,
    PatientContext,
    Reading,
    ReadingType,
    SymptomAnswers,
    default_pathway,
)
from pathway.evaluation import cohort as synthetic
from pathway.evaluation import matrix
from pathway.evaluation.cohort import Event
from pathway.evaluation.metrics import Metrics, measure
from pathway.evaluation.replay import Alert
from pathway.evaluation.report import Replayed, compare, merge, replay_both, table
from pathway.evaluation.scenarios import named
from pathway.evaluation.seeds import HELD_OUT_SEEDS
from pathway.evaluation.svg import trade_off
from pathway.evaluation.sweep import SWEEPS, current, points, sweep_alerts
from pathway.units import to_kg
from pathway.window import london_day
from service.pathway.from_db import SiteData, load_from_db

PatientReadings = dict[str, list[Reading]]


def parse_reading(line: dict[str, Any]) -> tuple[str, Reading]:
    """One JSONL line: a reading exactly as the API takes it, plus patient_id."""
    kind = ReadingType(line["type"])
    taken_at = datetime.fromisoformat(line["taken_at"])
    if taken_at.tzinfo is None:
        raise click.BadParameter(f"reading {line.get('id')}: taken_at needs a UTC offset")
    rid = str(line["id"])
    if kind is ReadingType.WEIGHT:
        reading = Reading(
            rid, kind, taken_at, value=to_kg(float(line["value"]), line.get("unit", "kg"))
        )
    elif kind is ReadingType.BLOOD_PRESSURE:
        reading = Reading(
            rid, kind, taken_at, systolic=int(line["systolic"]), diastolic=int(line["diastolic"])
        )
    elif kind is ReadingType.SYMPTOMS:
        a = line["answers"]
        answers = SymptomAnswers(
            breathlessness=Breathlessness(a.get("breathlessness", "usual")),
            orthopnoea=bool(a.get("orthopnoea", False)),
            ankle_swelling=AnkleSwelling(a.get("ankle_swelling", "usual")),
            dizziness=bool(a.get("dizziness", False)),
            chest_pain=bool(a.get("chest_pain", False)),
            fatigue=Fatigue(a.get("fatigue", "usual")),
            fainting=bool(a.get("fainting", False)),
            confusion=bool(a.get("confusion", False)),
        )
        reading = Reading(rid, kind, taken_at, symptoms=answers)
    else:
        reading = Reading(rid, kind, taken_at, value=float(line["value"]))
    return str(line["patient_id"]), reading


def parse_event(line: dict[str, Any]) -> Event:
    return Event(
        str(line["patient_id"]),
        date.fromisoformat(line["date"]),
        bool(line.get("hf_related", True)),
    )


def _jsonl(path: Path) -> Iterable[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for number, text in enumerate(handle, 1):
            if text.strip():
                try:
                    yield json.loads(text)
                except json.JSONDecodeError as exc:
                    raise click.BadParameter(f"{path}:{number}: {exc}") from exc


def _read_files(
    readings_path: Path | None, events_path: Path | None
) -> tuple[PatientReadings, list[Event]]:
    if readings_path is None or events_path is None:
        raise click.UsageError("--readings needs --events")
    by_patient: PatientReadings = defaultdict(list)
    for line in _jsonl(readings_path):
        patient_id, reading = parse_reading(line)
        by_patient[patient_id].append(reading)
    return by_patient, [parse_event(line) for line in _jsonl(events_path)]


def _rules(path: Path | None) -> dict[str, Any]:
    if path is None:
        return {}
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _layered(config: PathwayConfig, rules: dict[str, Any]) -> PathwayConfig:
    return config.with_overrides(rules) if rules else config


def _synthetic_chunk(
    args: tuple[synthetic.CohortParams, range, PathwayConfig],
) -> tuple[Replayed, list[Event], int]:
    params, indexes, config = args
    patients = [synthetic.patient(params, i) for i in indexes]
    replayed = replay_both(config, ((p.context, p.readings) for p in patients))
    return replayed, [e for p in patients for e in p.events], sum(p.days for p in patients)


def _sweep_chunk(
    args: tuple[synthetic.CohortParams, range, PathwayConfig],
) -> tuple[dict[tuple[str, float], list[Alert]], list[Event], int]:
    params, indexes, config = args
    patients = [synthetic.patient(params, i) for i in indexes]
    alerts = sweep_alerts(config, [(p.context, p.readings) for p in patients])
    return alerts, [e for p in patients for e in p.events], sum(p.days for p in patients)


def _chunks(
    params: synthetic.CohortParams, config: PathwayConfig, workers: int
) -> list[tuple[synthetic.CohortParams, range, PathwayConfig]]:
    size = max(1, -(-params.patients // (workers * 4)))
    return [
        (params, range(start, min(start + size, params.patients)), config)
        for start in range(0, params.patients, size)
    ]


def _map(function: Any, jobs: Sequence[Any], workers: int) -> list[Any]:
    if workers <= 1:
        return [function(job) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, jobs))


def _patient_days(patients: Iterable[tuple[PatientContext, Sequence[Reading]]]) -> int:
    """Days from each patient's first reading to their last: the time they were monitored."""
    days = 0
    for _context, own in patients:
        span = [london_day(r.taken_at) for r in own]
        days += max(span) - min(span) + 1
    return days


def _file_patients(readings: PatientReadings) -> list[tuple[PatientContext, list[Reading]]]:
    # Files carry no patient context: the pathway's own limits, post-discharge cohort.
    return [
        (PatientContext(patient_id, Cohort.POST_DISCHARGE), own)
        for patient_id, own in sorted(readings.items())
    ]


def _verdict(rows: list[Metrics]) -> list[str]:
    default, thumb = rows[0], rows[1]
    beats = (
        default.sensitivity > thumb.sensitivity
        and default.false_per_patient_year < thumb.false_per_patient_year
    )
    goal = default.sensitivity >= 0.6 and default.false_per_patient_year <= 2.0
    return [
        f"default beats rule of thumb on sensitivity and false alerts: {'yes' if beats else 'NO'}",
        f"default reaches >= 60 % sensitivity at <= 2 false alerts/patient-year: "
        f"{'yes' if goal else 'NO'}",
    ]


@click.group(name="pathway")
def pathway_group() -> None:
    """The clinical pathway: evaluate rule sets against data."""


@pathway_group.command("evaluate")
@click.option("--synthetic", "patients", type=int, default=2000, show_default=True)
@click.option("--days", type=int, default=365, show_default=True)
@click.option("--seed", type=int, help="Default 1; with --scenario, the first held-out seed.")
@click.option("--scenario", help="A named cohort model, or 'all': the scenario matrix.")
@click.option(
    "--minutes-per-alert",
    type=float,
    default=matrix.MINUTES_PER_ALERT,
    show_default=True,
    help="Nurse time per alert, for the workload columns of --scenario.",
)
@click.option("--readings", "readings_path", type=click.Path(exists=True, path_type=Path))
@click.option("--events", "events_path", type=click.Path(exists=True, path_type=Path))
@click.option("--rules", "rules_path", type=click.Path(exists=True, path_type=Path))
@click.option("--alerts-out", type=click.Path(path_type=Path))
@click.option("--from-db", "database_url", help="Replay stored readings (admissions as events).")
@click.option("--site", "site_code", help="With --from-db: only this site's patients (its code).")
@click.option("--sweep", is_flag=True, help="Sweep each detector's main parameter.")
@click.option("--svg-out", type=click.Path(path_type=Path))
@click.option("--compare-rule-of-thumb", is_flag=True)
@click.option("--workers", type=int, default=os.cpu_count() or 1, show_default=True)
def evaluate_command(
    *,
    patients: int,
    days: int,
    seed: int | None,
    scenario: str | None,
    minutes_per_alert: float,
    readings_path: Path | None,
    events_path: Path | None,
    rules_path: Path | None,
    alerts_out: Path | None,
    database_url: str | None,
    site_code: str | None,
    sweep: bool,
    svg_out: Path | None,
    compare_rule_of_thumb: bool,
    workers: int,
) -> None:
    """Replay readings day by day, raising alerts as the live service does, and report
    sensitivity, false alerts per patient-year, burden and days of warning.

    With --from-db each patient is judged as the service judges them: their site's pathway
    overrides and response policy, their personal thresholds; --rules layers on top of that."""
    if site_code is not None and not database_url:
        raise click.UsageError("--site needs --from-db")
    if sweep and readings_path:
        raise click.UsageError("--sweep runs on the synthetic cohort or on one site (--from-db)")
    if sweep and database_url and site_code is None:
        raise click.UsageError("--sweep with --from-db needs --site: each site has its own pathway")
    rules = _rules(rules_path)
    config = _layered(default_pathway(), rules)
    if scenario is not None:
        _scenario_matrix(config, scenario, patients, days, seed, minutes_per_alert, workers)
        return
    seed = 1 if seed is None else seed
    sites: list[SiteData] = []
    if database_url:
        sites, events = load_from_db(database_url, site_code)
        for data in sites:
            data.config = _layered(data.config, rules)
        if len(sites) == 1:
            config = sites[0].config
        replayed = merge(replay_both(d.config, d.patients, d.policy) for d in sites)
        cohort = [p for d in sites for p in d.patients]
        patient_days = _patient_days(cohort)
        header = {"pathway": ", ".join(f"{d.code} {d.config.version}" for d in sites) or "-"}
        header["data"] = f"{len(cohort)} patients, {patient_days} patient-days"
    elif readings_path:
        by_patient, events = _read_files(readings_path, events_path)
        cohort = _file_patients(by_patient)
        replayed = replay_both(config, cohort)
        patient_days = _patient_days(cohort)
        header = {"pathway": config.version}
        header["data"] = f"{len(cohort)} patients, {patient_days} patient-days"
    else:
        params = synthetic.CohortParams(patients=patients, days=days, seed=seed)
        parts = _map(_synthetic_chunk, _chunks(params, config, workers), workers)
        replayed = merge(p[0] for p in parts)
        events = [e for p in parts for e in p[1]]
        patient_days = sum(p[2] for p in parts)
        header = {"pathway": config.version}
        header["data"] = f"synthetic, {patients} patients x {days} days, seed {seed}"
    if database_url or readings_path:
        monitored = {context.patient_id for context, _ in cohort}
        events = [e for e in events if e.hf_related and e.patient_id in monitored]
    header["events"] = str(len(events))
    rows = compare(config, replayed, events, patient_days)
    click.echo(table(rows, header))
    if compare_rule_of_thumb:
        for verdict in _verdict(rows):
            click.echo(verdict)
    if alerts_out is not None:
        _write_alerts(alerts_out, replayed.default)
    if sweep:
        if database_url and not sites:
            raise click.UsageError(f"site {site_code} has no stored readings to sweep")
        if sites:
            curves = _site_curves(sites[0], events, patient_days)
            marks = [dataclasses.replace(rows[0], name=f"{sites[0].code} now")]
        else:
            params = synthetic.CohortParams(patients=patients, days=days, seed=seed)
            parts2 = _map(_sweep_chunk, _chunks(params, config, workers), workers)
            merged: dict[tuple[str, float], list[Alert]] = defaultdict(list)
            for part in parts2:
                for key, alerts in part[0].items():
                    merged[key].extend(alerts)
            curves = _curves(
                config, merged, [e for p in parts2 for e in p[1]], sum(p[2] for p in parts2)
            )
            marks = [rows[0]]
        svg = trade_off(curves, marks=marks)
        if svg_out is not None:
            svg_out.write_text(svg, encoding="utf-8")
            click.echo(f"trade-off curve written to {svg_out}")


def _scenario_matrix(
    config: PathwayConfig,
    name: str,
    patients: int,
    days: int,
    seed: int | None,
    minutes: float,
    workers: int,
) -> None:
    try:
        scenarios = named(name)
    except KeyError as exc:
        raise click.BadParameter(str(exc.args[0]), param_hint="--scenario") from exc
    seed = HELD_OUT_SEEDS[0] if seed is None else seed
    held_out = "held-out" if seed in HELD_OUT_SEEDS else "NOT a held-out seed"
    click.echo(f"pathway: {config.version}")
    click.echo(
        f"data: synthetic, {patients} patients x {days} days a scenario, seed {seed} ({held_out})"
    )
    jobs = matrix.jobs(config, scenarios, patients, days, seed)
    parts = _map(matrix.run_chunk, jobs, workers)
    results: dict[str, list[matrix.PatientResult]] = {}
    for job, part in zip(jobs, parts, strict=True):
        results.setdefault(job[1].name, []).extend(part)
    rows = [matrix.row(s, results[s]) for s in results]
    click.echo(matrix.table(rows, matrix.summarise(results), minutes))


def _write_alerts(path: Path, alerts: Sequence[Alert]) -> None:
    """The alerts as the live service would have raised them: who, when, which problem, and
    the rule and pathway version that raised each."""
    with path.open("w", encoding="utf-8") as handle:
        for alert in sorted(alerts, key=lambda a: (a.raised_at, a.patient_id, a.problem)):
            record = {
                "patient_id": alert.patient_id,
                "raised_at": alert.raised_at.isoformat(),
                "problem": alert.problem,
                "rule_id": alert.rule_id,
                "severity": str(alert.level),
                "pathway_version": alert.pathway_version,
            }
            handle.write(json.dumps(record) + "\n")


def _site_curves(
    site: SiteData, events: Sequence[Event], patient_days: int
) -> dict[str, list[tuple[str, Metrics]]]:
    alerts = sweep_alerts(site.config, site.patients, site.policy)
    return _curves(site.config, alerts, events, patient_days)


def _curves(
    config: PathwayConfig,
    alerts: Mapping[tuple[str, float], list[Alert]],
    events: Sequence[Event],
    patient_days: int,
) -> dict[str, list[tuple[str, Metrics]]]:
    """Each curve's points, printed as they are measured; the pathway's own value says "now"."""
    curves: dict[str, list[tuple[str, Metrics]]] = {}
    for name, values in points(config).items():
        now = current(config, SWEEPS[name][1])
        curves[name] = []
        for value in values:
            label = f"{value:g}" + (" now" if value == now else "")
            m = measure(label, alerts[(name, value)], events, patient_days)
            curves[name].append((label, m))
            click.echo(
                f"sweep {name} = {label}: sensitivity {m.sensitivity:.1%}, "
                f"false alerts/patient-year {m.false_per_patient_year:.2f}"
            )
    return curves


def main() -> None:  # pragma: no cover - `python -m service.pathway.cli` for local use
    pathway_group()


if __name__ == "__main__":  # pragma: no cover
    main()
