"""One demo patient's year, planned without the database: who they are, when they were enrolled
and discharged and why, their home readings and blood results, medicines, KCCQ-12 scores and
hospital events, and the days on which the pathway found something in their readings.

Pure and seeded (a patient is the same for the same seed and index, whichever process plans
it), so the planning runs in worker processes while the database is written in one.

The readings are the pathway's calibrated synthetic patient (``pathway.evaluation.cohort``):
noise, weekly cycle, drift, weight ramps before admissions, symptom changes, adherence gaps.
The findings are the pathway's own judgement of each day's readings as the service receives
them (``pathway.evaluation.replay.arrivals``, held to the live service by
``tests/service/test_replay_is_live.py``); the alerts are raised from them by the service's
raising code (``service.demo.work``).
"""

from __future__ import annotations

import dataclasses
import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any

import pathway
from pathway import AnkleSwelling, Breathlessness, Reading, ReadingType, SymptomAnswers
from pathway.advice import advise
from pathway.evaluation.cohort import CohortParams, SyntheticPatient
from pathway.evaluation.cohort import patient as synthetic_patient
from pathway.evaluation.replay import arrivals
from pathway.window import LONDON, london_day
from service.demo.people import ETHNICITY, demo_name, demo_phone
from service.nhs_number import made_up_nhs_number
from service.readings.evaluation import advice_dict, finding_dict

# How the demo's patients leave monitoring: the allowed reasons
# (service.models.patients.DISCHARGE_REASONS) with made-up but plausible shares.
DISCHARGE_WEIGHTS = (
    ("stable_optimised", 46),
    ("admitted", 15),
    ("died", 12),
    ("withdrew", 13),
    ("other", 14),
)
# Each pillar's dose steps, lowest first; the last is the target dose.
TITRATION = {
    "beta_blocker": [
        "Bisoprolol 1.25 mg",
        "Bisoprolol 2.5 mg",
        "Bisoprolol 5 mg",
        "Bisoprolol 10 mg",
    ],
    "acei_arb_arni": [
        "Sacubitril/valsartan 24/26 mg bd",
        "Sacubitril/valsartan 49/51 mg bd",
        "Sacubitril/valsartan 97/103 mg bd",
    ],
    "mra": ["Spironolactone 12.5 mg", "Spironolactone 25 mg", "Spironolactone 50 mg"],
    "sglt2i": ["Dapagliflozin 10 mg"],
}
UNITS = {
    "weight": "kg",
    "blood_pressure": "mmHg",
    "heart_rate": "/min",
    "spo2": "%",
    "potassium": "mmol/L",
    "creatinine": "umol/L",
    "egfr": "mL/min/1.73m2",
}
LABS = frozenset({"potassium", "creatinine", "egfr"})


@dataclass(frozen=True, slots=True)
class Network:
    """What every patient's plan depends on: the seed, the clock and the number of teams."""

    seed: int
    now: datetime
    teams: int
    # Enrolments are spread over this many days before today.
    days: int = 365
    # How many patients each team takes for one of the smallest team's (all 1 when empty).
    team_weights: tuple[int, ...] = ()

    def team_of(self, index: int) -> int:
        """The team of the index-th patient: every team once in the first ``teams`` patients
        (each team's first patient is the one decompensating now), then round the teams with
        each as often as its weight says."""
        if not self.team_weights or index < self.teams:
            return index % self.teams
        cycle = [t for t, weight in enumerate(self.team_weights) for _ in range(weight)]
        return cycle[(index - self.teams) % len(cycle)]

    @property
    def today(self) -> date:
        return self.now.astimezone(LONDON).date()


@dataclass(slots=True)
class Arrival:
    """A day's readings reaching the service, and what the pathway found in them."""

    at: datetime
    findings: tuple[pathway.Finding, ...]


@dataclass(slots=True)
class PatientPlan:
    index: int
    id: uuid.UUID
    team: int
    columns: dict[str, Any]
    # The day monitoring ends and why; None while the patient is still monitored.
    ends_on: date | None
    reason: str | None
    readings: list[dict[str, Any]]
    arrivals: list[Arrival]
    medicines: list[dict[str, Any]]
    kccq: list[dict[str, Any]]
    events: list[dict[str, Any]]
    # Monitoring paused by the team from this day (a holiday, a spell in respite care).
    paused_on: date | None = None


def plan_patient(network: Network, index: int) -> PatientPlan:
    rng = random.Random(f"mhf-demo:{network.seed}:{index}")  # noqa: S311 - demo data
    today = network.today
    # A programme that has grown over its year: enrolments rise steadily towards today.
    enrolled_on = today - timedelta(days=int(network.days * (1 - rng.random() ** 0.5)))
    # Each team's first patient is still monitored, and decompensating now (below): every
    # team's queue has a red alert to show.
    first_of_team = index < network.teams
    if first_of_team:
        enrolled_on = today - timedelta(days=rng.randint(20, max(20, network.days - 1)))
    monitored = rng.randint(42, 130)
    ends_on: date | None = enrolled_on + timedelta(days=monitored)
    reason: str | None = None
    if ends_on is not None and ends_on < today and not first_of_team:
        reason = rng.choices(
            [name for name, _ in DISCHARGE_WEIGHTS], [w for _, w in DISCHARGE_WEIGHTS]
        )[0]
    else:
        ends_on = None
    last_day = ends_on or today
    params = CohortParams(
        patients=1,
        days=(last_day - enrolled_on).days + 1,
        seed=network.seed,
        start=enrolled_on,
        stream="demo",
        event_rate=(0.6, 1.4),
    )
    synthetic = synthetic_patient(params, index)
    cohort = str(synthetic.context.cohort)
    hf_type = (
        "HFrEF"
        if cohort == "medication_optimisation"
        else rng.choices(["HFrEF", "HFmrEF", "HFpEF"], weights=[55, 15, 30])[0]
    )
    sex = rng.choice(["female", "male"])
    age = int(min(97, max(42, rng.gauss(77, 10))))
    patient_id = uuid.UUID(int=rng.getrandbits(128), version=4)
    created_at = datetime.combine(enrolled_on, time(10, 30), LONDON).astimezone(UTC)
    thresholds = {
        f.name: getattr(synthetic.context.thresholds, f.name)
        for f in dataclasses.fields(synthetic.context.thresholds)
        if getattr(synthetic.context.thresholds, f.name) is not None
    }
    columns = {
        "id": patient_id,
        "nhs_number": made_up_nhs_number(index),
        "name": demo_name(rng, sex),
        "phone": demo_phone(index),
        "date_of_birth": date(today.year - age, rng.randint(1, 12), rng.randint(1, 28)),
        "sex": sex,
        "cohort": cohort,
        "ethnicity": rng.choice(ETHNICITY),
        "imd_quintile": rng.choices([1, 2, 3, 4, 5], weights=[28, 24, 20, 16, 12])[0],
        "hf_type": hf_type,
        "enrolled_on": enrolled_on,
        "status": "active",
        "expects_daily_weight": True,
        "thresholds": thresholds,
        "version": 1,
        "created_at": created_at,
    }
    events = _history(network, index, cohort, enrolled_on) + _events(
        rng, synthetic, enrolled_on, ends_on, reason, network
    )
    decompensating = (first_of_team or index % 20 == 0) and ends_on is None
    if decompensating:
        # At home now, whatever the synthetic year held, to send the readings that worry.
        events = [e for e in events if not _in_hospital([e], today)]
    medicines = _medicines(rng, hf_type, cohort, enrolled_on, last_day)
    changes = tuple(
        pathway.MedicationChange(
            datetime.combine(m["changed_on"], time.min, LONDON),
            pathway.DrugClass(m["pillar"]),
            m["drug"] or "",
        )
        for m in medicines
    )
    context = dataclasses.replace(synthetic.context, patient_id=str(patient_id))
    if cohort == "medication_optimisation":
        context = dataclasses.replace(context, medication_changes=changes)
    history = _home_readings(rng, synthetic, events, network.now)
    paused_on = None
    if ends_on is None and not decompensating and index % 25 == 7:
        paused_on = today - timedelta(days=rng.randint(3, 12))
        history = [r for r in history if r.taken_at.astimezone(LONDON).date() < paused_on]
    history += _bloods(rng, cohort, enrolled_on, last_day, network.now)
    if decompensating:
        history = _decompensating(history, synthetic, network.now, rng)
    history.sort(key=lambda r: (r.taken_at, r.id))
    found = [
        Arrival(a.at + timedelta(minutes=2), a.findings)
        for a in arrivals(_pathway(), context, history)
    ]
    return PatientPlan(
        index=index,
        id=patient_id,
        team=network.team_of(index),
        columns=columns,
        ends_on=ends_on,
        paused_on=paused_on,
        reason=reason,
        readings=_rows(patient_id, history, found, network.now),
        arrivals=found,
        medicines=medicines,
        kccq=_kccq(rng, enrolled_on, ends_on, reason, today),
        events=events,
    )


def new_id(rng: random.Random) -> str:
    """A random (version 4) UUID from the patient's generator, as text: the pathway's reading id
    is the stored reading's id as text, as in the live service."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


@cache
def _pathway() -> pathway.PathwayConfig:
    return pathway.default_pathway()


def _in_hospital(events: list[dict[str, Any]], day: date) -> bool:
    return any(
        e["kind"] == "admission"
        and e["occurred_on"] <= day
        and (e["discharged_on"] is None or e["discharged_on"] > day)
        for e in events
    )


def _events(
    rng: random.Random,
    synthetic: SyntheticPatient,
    enrolled_on: date,
    ends_on: date | None,
    reason: str | None,
    network: Network,
) -> list[dict[str, Any]]:
    """Admissions (the synthetic patient's, which its readings ramp towards), an A&E visit for
    some, and the admission or death that ended monitoring."""
    today = network.today
    last = ends_on or today
    events: list[dict[str, Any]] = []

    def admission(day: date, hf: bool) -> None:
        out = day + timedelta(days=rng.randint(3, 12))
        events.append(
            {
                "kind": "admission",
                "occurred_on": day,
                "discharged_on": out if out < today else None,
                "hf_related": hf,
            }
        )

    for event in synthetic.events:
        if event.day < last and (not events or event.day > events[-1]["occurred_on"]):
            admission(event.day, rng.random() < 0.7)
    if rng.random() < 0.2:
        day = enrolled_on + timedelta(days=rng.randint(3, max(3, (last - enrolled_on).days)))
        if day <= today:
            events.append(
                {
                    "kind": "ae_attendance",
                    "occurred_on": day,
                    "discharged_on": None,
                    "hf_related": None,
                }
            )
    if reason == "admitted" and ends_on is not None:
        events = [e for e in events if e["occurred_on"] < ends_on - timedelta(days=14)]
        admission(ends_on, True)
    elif reason == "died" and ends_on is not None:
        events = [e for e in events if e["occurred_on"] < ends_on]
        events.append(
            {"kind": "death", "occurred_on": ends_on, "discharged_on": None, "hf_related": None}
        )
    return events


# Emergency admissions and A&E attendances in the six months before enrolment, per patient, on
# top of the admission a post-discharge patient was referred from: people with heart failure
# are admitted about once a year, and more often in the months before a referral.
HISTORY_MONTHS_DAYS = 182
PRIOR_ADMISSIONS = 0.5
PRIOR_AE_ATTENDANCES = 0.6


def _history(network: Network, index: int, cohort: str, enrolled_on: date) -> list[dict[str, Any]]:
    """What the team records as history at enrolment: the admission a post-discharge patient
    was referred from (discharged 1-10 days before enrolment) and earlier admissions and A&E
    visits in the half-year before. Drawn from a generator of its own, so every other part of
    the patient's plan is as it was without it."""
    rng = random.Random(f"mhf-demo-history:{network.seed}:{index}")  # noqa: S311 - demo data
    stays: list[tuple[date, date, bool]] = []
    if cohort == "post_discharge":
        out = enrolled_on - timedelta(days=rng.randint(1, 10))
        stays.append((out - timedelta(days=rng.randint(3, 12)), out, rng.random() < 0.85))
    for _ in range(_poisson(rng, PRIOR_ADMISSIONS)):
        day = enrolled_on - timedelta(days=rng.randint(20, HISTORY_MONTHS_DAYS))
        out = day + timedelta(days=rng.randint(2, 10))
        if all(out < start - timedelta(days=1) or day > end for start, end, _ in stays):
            stays.append((day, out, rng.random() < 0.6))
    events = [
        {"kind": "admission", "occurred_on": day, "discharged_on": out, "hf_related": hf}
        for day, out, hf in sorted(stays)
    ]
    for _ in range(_poisson(rng, PRIOR_AE_ATTENDANCES)):
        day = enrolled_on - timedelta(days=rng.randint(1, HISTORY_MONTHS_DAYS))
        if all(not start <= day <= end for start, end, _ in stays):
            events.append(
                {
                    "kind": "ae_attendance",
                    "occurred_on": day,
                    "discharged_on": None,
                    "hf_related": None,
                }
            )
    return events


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth's method: the means here are small)."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


def _home_readings(
    rng: random.Random,
    synthetic: SyntheticPatient,
    events: list[dict[str, Any]],
    now: datetime,
) -> list[Reading]:
    """The synthetic patient's home readings with database ids, none taken in hospital or in
    the last half hour; its own potassium results give way to the team's blood tests."""
    stays = [
        (e["occurred_on"], e["discharged_on"] or date.max)
        for e in events
        if e["kind"] == "admission"
    ]
    latest = now - timedelta(minutes=30)
    out = []
    for r in synthetic.readings:
        if r.type is ReadingType.POTASSIUM or r.taken_at > latest:
            continue
        if stays:
            day = r.taken_at.astimezone(LONDON).date()
            if any(start <= day < end for start, end in stays):
                continue
        # Built, not dataclasses.replace()d: this runs for every reading of the demo.
        out.append(
            Reading(new_id(rng), r.type, r.taken_at, r.value, r.systolic, r.diastolic, r.symptoms)
        )
    return out


def _bloods(
    rng: random.Random, cohort: str, enrolled_on: date, last_day: date, now: datetime
) -> list[Reading]:
    """Urea and electrolytes at enrolment, then every 2-4 weeks while medicines are titrated
    and every 2-3 months otherwise: potassium, creatinine and eGFR together."""
    potassium, creatinine = rng.gauss(4.5, 0.35), rng.gauss(115, 25)
    egfr = max(15.0, min(90.0, 175 * (creatinine / 88.4) ** -1.154 * 0.72))
    out: list[Reading] = []
    day = enrolled_on
    while day <= last_day:
        at = datetime.combine(day, time(11, rng.randint(0, 59)), LONDON)
        if at < now - timedelta(hours=1):
            k = round(min(6.4, max(3.1, potassium + rng.gauss(0, 0.3))), 1)
            c = round(max(45.0, creatinine + rng.gauss(0, 8)))
            e = round(max(10.0, egfr + rng.gauss(0, 3)))
            for kind, value in (("potassium", k), ("creatinine", c), ("egfr", e)):
                out.append(Reading(new_id(rng), ReadingType(kind), at, value=float(value)))
        step = rng.randint(14, 28) if cohort == "medication_optimisation" else rng.randint(56, 90)
        day += timedelta(days=step)
    return out


def _decompensating(
    history: list[Reading], synthetic: SyntheticPatient, now: datetime, rng: random.Random
) -> list[Reading]:
    """The last three days become a 2.8 kg gain and, today, worse breathlessness."""
    start = now - timedelta(days=3)
    kept = [r for r in history if r.taken_at < start]
    target = synthetic.context.thresholds.target_weight_kg or 80.0

    for day, gain in ((2, 0.2), (1, 1.3), (0, 2.8)):
        at = now - timedelta(days=day, hours=2)
        kept.append(Reading(new_id(rng), ReadingType.WEIGHT, at, value=round(target + gain, 1)))
    kept.append(
        Reading(
            new_id(rng),
            ReadingType.SYMPTOMS,
            now - timedelta(hours=1, minutes=55),
            symptoms=SymptomAnswers(
                breathlessness=Breathlessness.WORSE,
                orthopnoea=True,
                ankle_swelling=AnkleSwelling.WORSE,
            ),
        )
    )
    return kept


def _medicines(
    rng: random.Random, hf_type: str, cohort: str, enrolled_on: date, last_day: date
) -> list[dict[str, Any]]:
    """A titration history across the four pillars for HFrEF (one dose step at a time, some
    medicines not tolerated or contraindicated); an SGLT2 inhibitor alone for some others."""
    out: list[dict[str, Any]] = []

    def record(pillar: str, status: str, step: int, day: date) -> None:
        steps = TITRATION[pillar]
        started = status == "started"
        out.append(
            {
                "pillar": pillar,
                "status": status,
                "at_target_or_max_tolerated": started and step == len(steps) - 1,
                "drug": steps[step] if started else steps[0].split(" ")[0],
                "changed_on": day,
            }
        )

    if hf_type != "HFrEF":
        if rng.random() < 0.5:
            record("sglt2i", "started", 0, enrolled_on)
        return out
    steps: dict[str, int] = {}
    for pillar, doses in TITRATION.items():
        if rng.random() < 0.6:
            steps[pillar] = rng.randrange(len(doses))
            record(pillar, "started", steps[pillar], enrolled_on)
    settled = {p for p, s in steps.items() if s == len(TITRATION[p]) - 1}
    cadence = 14 if cohort == "medication_optimisation" else 28
    day = enrolled_on + timedelta(days=rng.randint(5, cadence))
    while day <= last_day and len(settled) < len(TITRATION):
        pillar = rng.choice(sorted(set(TITRATION) - settled))
        roll = rng.random()
        if roll < 0.06:
            record(pillar, "not_tolerated", 0, day)
            settled.add(pillar)
        elif roll < 0.09 and pillar not in steps:
            record(pillar, "contraindicated", 0, day)
            settled.add(pillar)
        else:
            steps[pillar] = steps[pillar] + 1 if pillar in steps else 0
            record(pillar, "started", steps[pillar], day)
            if steps[pillar] == len(TITRATION[pillar]) - 1:
                settled.add(pillar)
        day += timedelta(days=rng.randint(cadence - 4, cadence + 10))
    return out


def _kccq(
    rng: random.Random, enrolled_on: date, ends_on: date | None, reason: str | None, today: date
) -> list[dict[str, Any]]:
    """A start score for almost everyone; a discharge score for most who leave monitoring alive
    (better after optimisation); a 12-week score for those still monitored."""
    start = min(100.0, max(5.0, rng.gauss(47, 18)))
    out = []
    if rng.random() < 0.95:
        out.append({"score": round(start, 1), "timepoint": "start", "assessed_on": enrolled_on})
    if ends_on is not None and reason != "died" and rng.random() < 0.85:
        gain = rng.gauss(12, 14) if reason == "stable_optimised" else rng.gauss(2, 12)
        score = round(min(100.0, max(0.0, start + gain)), 1)
        out.append({"score": score, "timepoint": "discharge", "assessed_on": ends_on})
    elif ends_on is None and (today - enrolled_on).days > 84 and rng.random() < 0.7:
        score = round(min(100.0, max(0.0, start + rng.gauss(6, 12))), 1)
        out.append(
            {"score": score, "timepoint": "other", "assessed_on": enrolled_on + timedelta(days=84)}
        )
    return out


def _symptom_answers(answers: SymptomAnswers) -> dict[str, Any]:
    return {
        f.name: value if isinstance(value := getattr(answers, f.name), bool) else str(value)
        for f in dataclasses.fields(answers)
    }


def _rows(
    patient_id: uuid.UUID, history: list[Reading], found: list[Arrival], now: datetime
) -> list[dict[str, Any]]:
    """The readings as the ingest path stores them: each day's arrive together after the last of
    them and keep what the patient was told (the pathway's advice for that day's findings)."""
    config = _pathway()
    green = {"advice": advice_dict(advise(config, [])), "findings": []}
    told = {
        london_day(a.at): {
            "advice": advice_dict(advise(config, a.findings)),
            "findings": [finding_dict(f) for f in a.findings],
        }
        for a in found
    }
    days = [london_day(r.taken_at) for r in history]
    last_of_day = dict(zip(days, (r.taken_at for r in history), strict=True))
    rows = []
    for reading, day in zip(history, days, strict=True):
        kind = str(reading.type)
        lab = kind in LABS
        rows.append(
            {
                "patient_id": patient_id,
                "id": uuid.UUID(reading.id),
                "type": kind,
                # Aware London times: the column type stores them in UTC.
                "taken_at": reading.taken_at,
                "received_at": min(last_of_day[day] + timedelta(minutes=2), now),
                "value": reading.value,
                "systolic": reading.systolic,
                "diastolic": reading.diastolic,
                "answers": None if reading.symptoms is None else _symptom_answers(reading.symptoms),
                "value_as_sent": reading.value,
                "unit_as_sent": UNITS.get(kind),
                "source": "clinician" if lab else "device",
                "entered_by": None,
                "advice": told.get(day, green),
            }
        )
    return rows
