"""The pathway run over a patient's history: rows in, pathway values through, findings and
alerts out."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import Select, Text, and_, bindparam, cast, or_, select
from sqlalchemy.orm import Session

import pathway
from pathway.advice import NHS_111, TEAM_CALLS, advise, when_the_team_calls
from pathway.response import due_at
from service.alerting import policy_from_json, raise_from_findings, stored_response_policy
from service.db import DriverStatement, fetch_all
from service.db.types import UTCDateTime
from service.models import MedicationChange as MedicationChangeRow
from service.models import Patient, Reading, Site, Team
from service.timeutil import LONDON

LEVEL_ORDER = {"green": 0, "amber": 1, "red": 2}


@dataclass(frozen=True, slots=True)
class Evaluation:
    findings: tuple[pathway.Finding, ...]
    advice: pathway.Advice

    @property
    def stored_form(self) -> dict[str, Any]:
        """What a reading keeps of its evaluation, so that a re-send answers the same."""
        return {
            "advice": advice_dict(self.advice),
            "findings": [finding_dict(f) for f in self.findings],
        }


def advice_dict(advice: pathway.Advice) -> dict[str, Any]:
    return {"level": str(advice.level), "code": advice.code, "text": advice.text}


def finding_dict(finding: pathway.Finding) -> dict[str, Any]:
    return {
        "rule_id": finding.rule_id,
        "level": str(finding.level),
        "pathway_version": finding.pathway_version,
        "title": finding.title,
        "summary": finding.summary,
        "evidence": list(finding.evidence),
    }


def config_for(site_overrides: dict[str, Any] | None) -> pathway.PathwayConfig:
    """The pathway in force for a site: the versioned default with the site's overrides."""
    if not site_overrides:  # most sites: no key to build
        return _config("{}")
    return _config(json.dumps(site_overrides, sort_keys=True))


@lru_cache(maxsize=128)
def _config(overrides_json: str) -> pathway.PathwayConfig:
    # Built and validated once per distinct set of overrides, not on every reading.
    overrides = json.loads(overrides_json)
    base = pathway.default_pathway()
    return base.with_overrides(overrides) if overrides else base


@dataclass(frozen=True, slots=True)
class PatientColumns:
    """The columns of a patient that ingest reads (the pathway's context, the status it checks,
    the ids alerts are raised with), as a device's lock statement returns them: a transient ORM
    ``Patient`` for them cost several times as much to build (instrumented attributes, events)."""

    id: uuid.UUID
    team_id: uuid.UUID
    status: str
    cohort: str
    thresholds: dict[str, Any] | None
    expects_daily_weight: bool
    # Readings taken from this day on are marked as taken in hospital.
    in_hospital_since: date | None


# What ingest and the pathway read of a patient: either a loaded row or just its columns.
IngestPatient = Patient | PatientColumns


def site_overrides(session: Session, team_id: uuid.UUID) -> dict[str, Any] | None:
    return session.scalar(
        select(Site.pathway_overrides).join(Team, Team.site_id == Site.id).where(Team.id == team_id)
    )


def patient_context(
    patient: IngestPatient, medication_changes: Sequence[pathway.MedicationChange] = ()
) -> pathway.PatientContext:
    return pathway.PatientContext(
        patient_id=str(patient.id),
        cohort=pathway.Cohort(patient.cohort),
        thresholds=pathway.PersonalThresholds(**(patient.thresholds or {})),
        expects_daily_weight=patient.expects_daily_weight,
        medication_changes=tuple(medication_changes),
    )


def medication_changes(session: Session, patient: IngestPatient) -> list[pathway.MedicationChange]:
    """Recorded dose changes, for the titration rules (medicines-optimisation cohort only)."""
    if patient.cohort != "medication_optimisation":
        return []
    statement, driver = _medication_changes()
    rows = fetch_all(session, driver, statement, {"patient_id": patient.id})
    return [
        pathway.MedicationChange(
            changed_at=datetime.combine(changed_on, time.min, tzinfo=LONDON),
            drug_class=pathway.DrugClass(pillar),
            description=drug or "",
        )
        for changed_on, pillar, drug in rows
    ]


@cache
def _medication_changes() -> tuple[Select[date, str, str | None], DriverStatement]:
    """The statement, built once and run on the DBAPI cursor on PostgreSQL, as ingest's
    others: a titration patient's every reading reads these."""
    statement = (
        select(MedicationChangeRow.changed_on, MedicationChangeRow.pillar, MedicationChangeRow.drug)
        .where(MedicationChangeRow.patient_id == bindparam("patient_id"))
        .order_by(MedicationChangeRow.changed_on)
    )
    return statement, DriverStatement.of(statement)


def _field(row: Reading | dict[str, Any], name: str) -> Any:
    return row[name] if isinstance(row, dict) else getattr(row, name)


def to_pathway_reading(row: Reading | dict[str, Any]) -> pathway.Reading:
    def get(name: str) -> Any:
        return _field(row, name)

    answers = get("answers")
    return pathway.Reading(
        id=str(get("id")),
        type=pathway.ReadingType(get("type")),
        taken_at=get("taken_at"),
        value=get("value"),
        systolic=get("systolic"),
        diastolic=get("diastolic"),
        symptoms=None if answers is None else _symptoms(answers),
    )


HISTORY_COLUMNS = (
    Reading.id,
    Reading.type,
    Reading.taken_at,
    Reading.value,
    Reading.systolic,
    Reading.diastolic,
    Reading.answers,
)


_READINGS = Reading.__table__
_TYPES = {kind.value: kind for kind in pathway.ReadingType}


def _history(reading_id: Any) -> Select[Any]:
    return select(
        reading_id,
        _READINGS.c.type,
        _READINGS.c.taken_at,
        _READINGS.c.value,
        _READINGS.c.systolic,
        _READINGS.c.diastolic,
        _READINGS.c.answers,
    ).where(
        _READINGS.c.patient_id == bindparam("patient_id"),
        _READINGS.c.taken_at >= bindparam("start"),
        or_(
            *(
                and_(
                    _READINGS.c.type == kind,
                    _READINGS.c.taken_at >= bindparam(f"from_{kind}", type_=UTCDateTime()),
                )
                for kind in sorted(_TYPES)
            )
        ),
    )


# One statement for every ingest, built once: a start time per reading type, NULL for a type
# the rules do not read (taken_at >= NULL is never true). Building the expression per call
# cost more than running it. Core columns: plain tuples, no ORM row processing.
_HISTORY = _history(_READINGS.c.id)
# PostgreSQL's ids as text: the pathway wants strings, and psycopg's text is cheaper than a
# UUID object turned into a string (a history is tens of rows per reading).
_HISTORY_DRIVER = DriverStatement.of(_history(cast(_READINGS.c.id, Text)))


def load_history(
    session: Session,
    patient_id: uuid.UUID,
    new_rows: Sequence[dict[str, Any]],
    *,
    exclude: Sequence[uuid.UUID],
    config: pathway.PathwayConfig,
    now: datetime,
) -> list[pathway.Reading]:
    """The stored readings the pathway reads to judge ``new_rows``, and no others.

    Only the reading types the rules read for these new readings, each from the earliest new
    reading less that type's look-back (``pathway.history_lookback``), and nothing before the
    history window: a new weight reads six weeks of weights and a week of symptoms, not two
    months of everything. Built straight into the pathway's readings from column tuples.
    """
    if not new_rows:
        return []
    lookback = pathway.history_lookback(config, {_TYPES[row["type"]] for row in new_rows})
    if not lookback:
        return []
    earliest = min(row["taken_at"] for row in new_rows)
    floor = now - config.history_window
    starts = {f"from_{kind.value}": max(earliest - back, floor) for kind, back in lookback.items()}
    params = {f"from_{kind}": None for kind in _TYPES} | starts
    params.update(patient_id=patient_id, start=min(starts.values()))
    rows = fetch_all(session, _HISTORY_DRIVER, _HISTORY, params)
    excluded = {str(rid) for rid in exclude}
    reading, types, symptoms = pathway.Reading, _TYPES, _symptoms
    # Ids as strings, as the pathway wants them: PostgreSQL's statement gives them as text
    # already, SQLite's as UUIDs.
    return [
        reading(
            id=str(rid),
            type=types[kind],
            # In UTC whatever the connection's time zone, as the column type gives it.
            taken_at=taken_at.astimezone(UTC),
            value=value,
            systolic=systolic,
            diastolic=diastolic,
            symptoms=None if answers is None else symptoms(answers),
        )
        for rid, kind, taken_at, value, systolic, diastolic, answers in rows
        if str(rid) not in excluded
    ]


def _from_row(row: dict[str, Any]) -> pathway.Reading:
    answers = row["answers"]
    return pathway.Reading(
        id=str(row["id"]),
        type=_TYPES[row["type"]],
        taken_at=row["taken_at"],
        value=row["value"],
        systolic=row["systolic"],
        diastolic=row["diastolic"],
        symptoms=None if answers is None else _symptoms(answers),
    )


def _symptoms(answers: dict[str, Any]) -> pathway.SymptomAnswers:
    return pathway.SymptomAnswers(
        breathlessness=pathway.Breathlessness(answers["breathlessness"]),
        orthopnoea=bool(answers["orthopnoea"]),
        ankle_swelling=pathway.AnkleSwelling(answers["ankle_swelling"]),
        dizziness=bool(answers["dizziness"]),
        chest_pain=bool(answers["chest_pain"]),
        fatigue=pathway.Fatigue(answers["fatigue"]),
        fainting=bool(answers.get("fainting", False)),
        confusion=bool(answers.get("confusion", False)),
    )


def evaluate(
    config: pathway.PathwayConfig,
    patient: IngestPatient,
    history: Sequence[pathway.Reading],
    new_rows: Sequence[dict[str, Any]],
    now: datetime,
    changes: Sequence[pathway.MedicationChange] = (),
) -> Evaluation:
    result = pathway.evaluate(
        config,
        patient_context(patient, changes),
        history,
        [_from_row(r) for r in new_rows],
        now,
    )
    return Evaluation(findings=tuple(result.findings), advice=result.advice)


def with_team_hours(
    session: Session, patient: IngestPatient, evaluation: Evaluation, now: datetime
) -> Evaluation:
    """Advice that promises a call names when it will come, from the site's response policy
    (the one its alerts are due by) and its out-of-hours number. Read only for red and amber
    answers, so the common green post pays nothing for it."""
    if evaluation.advice.code not in TEAM_CALLS:
        return evaluation

    raw = stored_response_policy(session, patient.team_id)
    policy = policy_from_json(raw)
    due = due_at(now, str(evaluation.advice.level), policy)
    out_of_hours = str(raw.get("out_of_hours_contact") or NHS_111)
    advice = when_the_team_calls(evaluation.advice, due, now, policy.zone, out_of_hours)
    return replace(evaluation, advice=advice)


def raise_alerts(
    session: Session, patient: IngestPatient, evaluation: Evaluation, now: datetime
) -> None:
    if not evaluation.findings:  # nothing to raise or attach, as raise_from_findings finds
        return

    if isinstance(patient, PatientColumns):
        # Alerting reads the patient's id and team, from a (transient) Patient as before.
        patient = Patient(id=patient.id, team_id=patient.team_id)
    raise_from_findings(session, patient, evaluation.findings, now)


def combine_for_response(
    evaluation: Evaluation | None, stored_forms: Sequence[dict[str, Any] | None]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One answer for a batch: every finding once, and the most urgent advice."""
    forms = [f for f in stored_forms if f]
    if evaluation is not None:
        forms.append(evaluation.stored_form)
    findings: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
    advice: dict[str, Any] | None = None
    for form in forms:
        for finding in form.get("findings", []):
            findings.setdefault((finding["rule_id"], tuple(finding["evidence"])), finding)
        candidate = form.get("advice")
        if candidate and (
            advice is None or LEVEL_ORDER[candidate["level"]] > LEVEL_ORDER[advice["level"]]
        ):
            advice = candidate
    return list(findings.values()), advice or advice_dict(advise(_config("{}"), []))
