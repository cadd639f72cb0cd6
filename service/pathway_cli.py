"""`mhf pathway evaluate`: replay readings through a pathway and report its alert workload.

The evaluation itself is pure (pathway.evaluation); this module only reads and writes files
and spreads the synthetic cohort over processes.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections import defaultdict
from collections.abc import Iterable, Sequence
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
from pathway.evaluation.replay import Alert, only
from pathway.evaluation.report import Replayed, compare, replay_both, rule_of_thumb, table
from pathway.evaluation.scenarios import named
from pathway.evaluation.seeds import HELD_OUT_SEEDS
from pathway.evaluation.svg import trade_off
from pathway.evaluation.sweep import run
from pathway.units import to_kg
from pathway.window import london_day

PatientReadings = dict[str, list[Reading]]

SWEEPS: dict[str, tuple[str, str, tuple[float, ...]]] = {
    "rule of thumb: gain kg in 3 days": (
        "amber.weight_gain_3d",
        "weight.gain_3d_kg",
        (1.0, 1.5, 2.0, 2.5, 3.0),
    ),
    "moving average: k x SD": (
        "trend.moving_average",
        "moving_average.k_sd",
        (1.5, 2.0, 2.5, 3.0, 4.0),
    ),
    "MACD: threshold kg": ("trend.macd", "macd.threshold_kg", (0.5, 0.75, 1.0, 1.25, 1.5)),
}


def load_from_db(database_url: str) -> tuple[PatientReadings, list[Event]]:
    """Readings per patient and recorded admissions from the service database.

    Readings go through the service's own mapping to pathway values, so the replay judges
    exactly what the live service judged; admissions recorded by the teams are the events.
    """
    from sqlalchemy import select

    from service.clinical import HISTORY_COLUMNS, to_pathway_reading
    from service.db import build_engine, build_sessionmaker
    from service.models import Reading as ReadingRow
    from service.reports.models import PatientEvent

    engine = build_engine(database_url)
    by_patient: PatientReadings = {}
    events: list[Event] = []
    try:
        with build_sessionmaker(engine)() as session:
            rows = session.execute(
                select(ReadingRow.patient_id, *HISTORY_COLUMNS).order_by(
                    ReadingRow.patient_id, ReadingRow.taken_at
                )
            )
            for row in rows:
                values = row._asdict()
                patient_id = str(values.pop("patient_id"))
                by_patient.setdefault(patient_id, []).append(to_pathway_reading(values))
            admissions = session.execute(
                select(PatientEvent.patient_id, PatientEvent.occurred_on, PatientEvent.hf_related)
                .where(PatientEvent.kind == "admission")
                .order_by(PatientEvent.occurred_on)
            )
            events = [
                Event(str(patient_id), day, bool(hf_related))
                for patient_id, day, hf_related in admissions
            ]
    finally:
        engine.dispose()
    return by_patient, events


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


def _load_config(rules: Path | None) -> PathwayConfig:
    config = default_pathway()
    if rules is None:
        return config
    with rules.open("rb") as handle:
        return config.with_overrides(tomllib.load(handle))


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
    out: dict[tuple[str, float], list[Alert]] = {}
    for name, (rule_id, setting, values) in SWEEPS.items():
        section, _, field = setting.partition(".")
        for value in values:
            if rule_id == "amber.weight_gain_3d":
                tuned = rule_of_thumb(config, value)
            else:
                tuned = only(config.with_overrides({section: {field: value}}), [rule_id])
            out[(name, value)] = run(tuned, patients)
    return out, [e for p in patients for e in p.events], sum(p.days for p in patients)


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


def _file_patients(
    readings: PatientReadings,
) -> tuple[list[tuple[PatientContext, list[Reading]]], int]:
    patients = []
    days = 0
    for patient_id, own in sorted(readings.items()):
        context = PatientContext(patient_id, Cohort.POST_DISCHARGE)
        patients.append((context, own))
        span = [london_day(r.taken_at) for r in own]
        days += max(span) - min(span) + 1
    return patients, days


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
    sweep: bool,
    svg_out: Path | None,
    compare_rule_of_thumb: bool,
    workers: int,
) -> None:
    """Replay readings day by day, raising alerts as the live service does, and report
    sensitivity, false alerts per patient-year, burden and days of warning."""
    config = _load_config(rules_path)
    header = {"pathway": config.version}
    if scenario is not None:
        _scenario_matrix(config, scenario, patients, days, seed, minutes_per_alert, workers)
        return
    seed = 1 if seed is None else seed
    if database_url or readings_path:
        if database_url:
            by_patient, events = load_from_db(database_url)
        else:
            by_patient, events = _read_files(readings_path, events_path)
        events = [e for e in events if e.hf_related and e.patient_id in by_patient]
        file_patients, patient_days = _file_patients(by_patient)
        replayed = replay_both(config, file_patients)
        header["data"] = f"{len(file_patients)} patients, {patient_days} patient-days"
    else:
        params = synthetic.CohortParams(patients=patients, days=days, seed=seed)
        parts = _map(_synthetic_chunk, _chunks(params, config, workers), workers)
        replayed = Replayed(
            [a for p in parts for a in p[0].every], [a for p in parts for a in p[0].thumb]
        )
        events = [e for p in parts for e in p[1]]
        patient_days = sum(p[2] for p in parts)
        header["data"] = f"synthetic, {patients} patients x {days} days, seed {seed}"
    header["events"] = str(len(events))
    rows = compare(config, replayed, events, patient_days)
    click.echo(table(rows, header))
    if compare_rule_of_thumb:
        for verdict in _verdict(rows):
            click.echo(verdict)
    if alerts_out is not None:
        enabled = {r for r in (a.rule_id for a in replayed.every) if config.enabled(r)}
        with alerts_out.open("w", encoding="utf-8") as handle:
            for alert in sorted(
                replayed.every, key=lambda a: (a.raised_at, a.patient_id, a.rule_id)
            ):
                if alert.rule_id in enabled:
                    record = {
                        "patient_id": alert.patient_id,
                        "raised_at": alert.raised_at.isoformat(),
                        "rule_id": alert.rule_id,
                        "severity": str(alert.level),
                    }
                    handle.write(json.dumps(record) + "\n")
    if sweep:
        if readings_path or database_url:
            raise click.UsageError("--sweep runs on the synthetic cohort")
        params = synthetic.CohortParams(patients=patients, days=days, seed=seed)
        parts2 = _map(_sweep_chunk, _chunks(params, config, workers), workers)
        sweep_events = [e for p in parts2 for e in p[1]]
        sweep_days = sum(p[2] for p in parts2)
        curves: dict[str, list[tuple[str, Metrics]]] = {}
        for name, (_rule, _setting, values) in SWEEPS.items():
            curves[name] = []
            for value in values:
                alerts = [a for p in parts2 for a in p[0][(name, value)]]
                m = measure(f"{value:g}", alerts, sweep_events, sweep_days)
                curves[name].append((f"{value:g}", m))
                click.echo(
                    f"sweep {name} = {value:g}: sensitivity {m.sensitivity:.1%}, "
                    f"false alerts/patient-year {m.false_per_patient_year:.2f}"
                )
        svg = trade_off(curves, marks=[rows[0]])
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


def main() -> None:  # pragma: no cover - `python -m service.pathway_cli` for local use
    pathway_group()


if __name__ == "__main__":  # pragma: no cover
    main()
