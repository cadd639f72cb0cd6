"""What the FHIR routes read from a request besides its parameters: the body, its media type,
the Prefer header, the base URL clients reach; and the audit record of a staff read or write."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from service.access import audit_patient_access, route_of
from service.deps import Principal
from service.fhir.outcome import FhirError, Issue, parse_json
from service.fhir.problem_codes import coding
from service.settings import Settings

JSON_TYPES = {"application/fhir+json", "application/json", "application/json+fhir"}


async def raw_body(request: Request) -> bytes:
    """The body as bytes: parsed in the (threadpool) handler, with FHIR errors for bad JSON."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


def base(request: Request) -> str:
    """The FHIR base clients reach, from settings: the Host header is the client's to forge, and
    a Location or Bundle link built on it would send the next request wherever it said."""
    settings: Settings = request.app.state.settings
    return settings.public_base_url + "/fhir"


def media_type(request: Request) -> None:
    media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media and media not in JSON_TYPES:
        text = f"{media} is not supported: send application/fhir+json"
        raise FhirError(
            415, [Issue("not-supported", text, details=coding("unsupported_media_type"))]
        )


def body(request: Request, raw: bytes) -> Any:
    media_type(request)
    return parse_json(raw)


def prefer(request: Request, default: str) -> str:
    for part in request.headers.get("prefer", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == "return" and value in ("minimal", "representation", "OperationOutcome"):
            return value
    return default


def audit(
    session: Session,
    request: Request,
    principal: Principal,
    patient_ids: list[uuid.UUID],
    action: str,
    now: datetime,
    detail: str,
) -> None:
    if patient_ids:
        audit_patient_access(
            session,
            route_of(request),
            principal,
            sorted(set(patient_ids), key=str),
            action,
            now,
            detail,
        )
