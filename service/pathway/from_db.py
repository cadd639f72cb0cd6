"""What `mhf pathway evaluate --from-db` replays: each site's patients as the live service judges
them (the site's pathway overrides, its response policy, each patient's personal thresholds,
cohort and medicine changes), with the admissions teams recorded as the events."""

from __future__ import annotations

from dataclasses import dataclass, field

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

import pathway
from pathway.evaluation.cohort import Event
from pathway.response import ResponsePolicy
from service.alerting import policy_from_json
from service.db import build_engine, build_sessionmaker
from service.models import Patient, PatientEvent, Site, Team
from service.models import Reading as ReadingRow
from service.readings import evaluation

PatientReadings = list[tuple[pathway.PatientContext, list[pathway.Reading]]]


@dataclass
class SiteData:
    code: str
    config: pathway.PathwayConfig
    policy: ResponsePolicy
    patients: PatientReadings = field(default_factory=list)


def load_from_db(
    database_url: str, site_code: str | None = None
) -> tuple[list[SiteData], list[Event]]:
    """Sites (one, with ``site_code``) with their patients' stored readings, and admissions.

    Readings go through the service's own mapping to pathway values and each site's pathway is
    built as ingest builds it, so the replay judges exactly what the live service judged.
    """
    engine = build_engine(database_url)
    try:
        with build_sessionmaker(engine)() as session:
            return _load(session, site_code)
    finally:
        engine.dispose()


def _load(session: Session, site_code: str | None) -> tuple[list[SiteData], list[Event]]:
    query = (
        select(Patient, Site)
        .join(Team, Team.id == Patient.team_id)
        .join(Site, Site.id == Team.site_id)
        .order_by(Site.code, Patient.id)
    )
    if site_code is not None:
        if session.scalar(select(Site.id).where(Site.code == site_code)) is None:
            raise click.BadParameter(f"no site with code {site_code!r}", param_hint="--site")
        query = query.where(Site.code == site_code)
    readings = _readings(session, site_code)
    sites: dict[str, SiteData] = {}
    for patient, site in session.execute(query):
        own = readings.get(str(patient.id))
        if not own:
            continue
        if site.code not in sites:
            sites[site.code] = SiteData(
                site.code,
                evaluation.config_for(site.pathway_overrides),
                policy_from_json(site.response_policy or {}),
            )
        changes = evaluation.medication_changes(session, patient)
        sites[site.code].patients.append((evaluation.patient_context(patient, changes), own))
    wanted = {str(context.patient_id) for data in sites.values() for context, _ in data.patients}
    admissions = session.execute(
        select(PatientEvent.patient_id, PatientEvent.occurred_on, PatientEvent.hf_related)
        .where(PatientEvent.kind == "admission")
        .order_by(PatientEvent.occurred_on)
    )
    events = [
        Event(str(patient_id), day, bool(hf_related))
        for patient_id, day, hf_related in admissions
        if str(patient_id) in wanted
    ]
    return list(sites.values()), events


def _readings(session: Session, site_code: str | None) -> dict[str, list[pathway.Reading]]:
    query = select(ReadingRow.patient_id, *evaluation.HISTORY_COLUMNS).order_by(
        ReadingRow.patient_id, ReadingRow.taken_at
    )
    if site_code is not None:
        of_site = (
            select(Patient.id)
            .join(Team, Team.id == Patient.team_id)
            .join(Site, Site.id == Team.site_id)
            .where(Site.code == site_code)
        )
        query = query.where(ReadingRow.patient_id.in_(of_site))
    by_patient: dict[str, list[pathway.Reading]] = {}
    for row in session.execute(query):
        values = row._asdict()
        patient_id = str(values.pop("patient_id"))
        by_patient.setdefault(patient_id, []).append(evaluation.to_pathway_reading(values))
    return by_patient
