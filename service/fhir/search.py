"""FHIR search parameters: strict parsing (an unknown parameter is a 400, never ignored, so a
filter the client believes applied cannot silently widen the result) and the reading queries."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.access import can_see, patient_for
from service.deps import Principal
from service.fhir import codes
from service.fhir.outcome import FhirError, Issue
from service.models import Alert, Patient
from service.problems import NotFound
from service.timeutil import LONDON

DEFAULT_COUNT = 50
MAX_COUNT = 1000
# Parameters every search takes and that do not filter.
COMMON = {"_count", "_cursor", "_format", "_sort"}
_PARTIAL = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")


def bad(message: str, parameter: str | None = None, code: str = "invalid") -> FhirError:
    return FhirError(400, [Issue(code, message, (parameter,) if parameter else ())])


@dataclass
class Params:
    items: list[tuple[str, str]]
    used: list[tuple[str, str]] = field(default_factory=list)

    def all(self, name: str) -> list[str]:
        values = [v for k, v in self.items if k == name]
        self.used.extend((name, v) for v in values)
        return values

    def one(self, *names: str) -> str | None:
        values = [(n, v) for n in names for v in self.all(n)]
        if len(values) > 1:
            raise bad(f"give {' or '.join(names)} once", names[0])
        return values[0][1] if values else None

    def check_known(self, allowed: set[str]) -> None:
        unknown = sorted({k for k, _ in self.items} - allowed - COMMON)
        if unknown:
            raise bad(
                f"search parameter(s) not supported: {', '.join(unknown)}; supported: "
                f"{', '.join(sorted(allowed | COMMON))}",
                unknown[0],
                "not-supported",
            )

    def query_string(self, **replace: str | None) -> str:
        kept = [(k, v) for k, v in self.used if k not in replace and k != "_cursor"]
        kept += [(k, v) for k, v in replace.items() if v is not None]
        return urlencode(kept)


def count(params: Params, default: int = DEFAULT_COUNT) -> int:
    raw = params.one("_count")
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad("_count must be a whole number", "_count") from None
    if not 1 <= value <= MAX_COUNT:
        raise bad(f"_count must be between 1 and {MAX_COUNT}", "_count")
    return value


def descending(params: Params) -> bool:
    raw = params.one("_sort")
    if raw in (None, "date"):
        return False
    if raw == "-date":
        return True
    raise bad("_sort supports date and -date", "_sort", "not-supported")


def _period(text: str) -> tuple[datetime, datetime]:
    """The instant range a FHIR date value covers; calendar values are days in Europe/London."""
    match = _PARTIAL.match(text)
    if match:
        year, month, day = int(match.group(1)), match.group(2), match.group(3)
        try:
            if day:
                start = datetime(year, int(month or 1), int(day), tzinfo=LONDON)
                end = start.replace(tzinfo=None) + timedelta(days=1)
            elif month:
                start = datetime(year, int(month), 1, tzinfo=LONDON)
                end = (start.replace(tzinfo=None, day=28) + timedelta(days=4)).replace(day=1)
            else:
                start = datetime(year, 1, 1, tzinfo=LONDON)
                end = start.replace(tzinfo=None, year=year + 1)
        except ValueError:
            raise bad(f"{text!r} is not a date") from None
        return start.astimezone(UTC), end.replace(tzinfo=LONDON).astimezone(UTC)
    try:
        instant = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise bad(f"{text!r} is not a FHIR date or dateTime") from None
    if instant.tzinfo is None:
        raise bad(f"{text!r} has a time but no UTC offset")
    step = timedelta(seconds=1) if instant.microsecond == 0 else timedelta(microseconds=1)
    return instant.astimezone(UTC), instant.astimezone(UTC) + step


def date_bounds(values: list[str], name: str = "date") -> tuple[datetime | None, datetime | None]:
    """Intersect ``date`` parameters into one [start, end) range (eq, ge, gt, le, lt)."""
    start: datetime | None = None
    end: datetime | None = None
    for value in values:
        prefix, text = (value[:2], value[2:]) if value[:2].isalpha() else ("eq", value)
        low, high = _period(text)
        if prefix in ("eq", "ge", "gt"):
            lower = high if prefix == "gt" else low
            start = lower if start is None else max(start, lower)
        if prefix in ("eq", "le", "lt"):
            upper = low if prefix == "lt" else high
            end = upper if end is None else min(end, upper)
        if prefix not in ("eq", "ge", "gt", "le", "lt"):
            raise bad(
                f"{name} prefix {prefix!r} is not supported (eq, ge, gt, le, lt)",
                name,
                "not-supported",
            )
    return start, end


def reading_types(params: Params, allowed: set[str]) -> set[str]:
    tokens = [t for value in params.all("code") for t in value.split(",") if t]
    if not tokens:
        return set(allowed)
    types: set[str] = set()
    for token in tokens:
        types |= codes.search_types(token)
    # A code we do not store is a valid search that matches nothing, as on any FHIR server.
    return types & allowed


def selects_kccq(params: Params) -> bool:
    """Whether an Observation search's ``code`` (if any) names the KCCQ-12 overall score."""
    system, code, _ = codes.KCCQ_OVERALL
    # Read without marking the parameter used again: reading_types already did.
    tokens = [t for name, value in params.items if name == "code" for t in value.split(",") if t]
    return not tokens or any(t in (code, f"{system}|{code}") for t in tokens)


def alerts(session: Session, patient_id: uuid.UUID, status: str | None) -> list[Alert]:
    query = select(Alert).where(Alert.patient_id == patient_id)
    if status == "active":
        query = query.where(Alert.status != "resolved")
    elif status == "inactive":
        query = query.where(Alert.status == "resolved")
    elif status is not None:
        raise bad("Flag status supports active and inactive", "status", "not-supported")
    return list(session.scalars(query.order_by(Alert.raised_at, Alert.id)).all())


def patient_of(session: Session, principal: Principal, params: Params) -> Patient:
    """The one patient a search names, by reference or NHS number, if the caller may see them;
    a patient's own token may leave it out."""
    ref = params.one("subject", "patient")
    nhs = params.one("patient.identifier")
    if ref is None and nhs is None:
        if principal.role == "patient" and principal.patient_id is not None:
            return patient_for(session, principal, principal.patient_id)
        raise bad("subject (or patient) is required", "subject", "required")
    if ref is not None:
        try:
            patient_id = uuid.UUID(ref.rsplit("Patient/", 1)[-1])
        except ValueError:
            raise NotFound("No such patient.") from None
        found = patient_for(session, principal, patient_id)
        if nhs is not None and f"{codes.NHS_NUMBER}|{found.nhs_number}" != nhs:
            raise NotFound("No such patient.")
        return found
    assert nhs is not None
    system, _, value = nhs.rpartition("|")
    if system != codes.NHS_NUMBER:
        raise bad(f"patient.identifier must be {codes.NHS_NUMBER}|{{number}}", "patient.identifier")
    row = session.scalars(
        select(Patient).where(Patient.nhs_number == value).order_by(Patient.status == "discharged")
    ).first()
    if row is None or not can_see(principal, row):
        raise NotFound("No such patient.")
    return row
