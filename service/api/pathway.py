"""The pathway in force: version, rules and default thresholds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

import pathway
from service.deps import Principal, require

router = APIRouter(prefix="/api/v1", tags=["pathway"])


@router.get(
    "/pathway", summary="Pathway version, rules and default thresholds (any signed-in caller)"
)
def get_pathway(
    _: Annotated[
        Principal,
        Depends(require("patient", "clinician", "programme_lead", "admin", "site_admin")),
    ],
) -> dict[str, Any]:
    return pathway.describe(pathway.default_pathway())
