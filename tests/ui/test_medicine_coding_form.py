"""The patient page's medicine form takes a dm+d code and a dose with its unit beside the free
text, refuses a malformed code or half a dose in words, and shows what was recorded; on SQLite
and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import select

from service.models import MedicationChange
from tests.support.signin import csrf_of, signed_in
from tests.support.world import read


def _page(client, world):
    pid = world.patients["pat_A1"]
    page = client.get(f"/ui/patients/{pid}")
    assert page.status_code == 200, page.text
    return pid, page.text, csrf_of(page.text)


def test_the_form_records_code_and_dose_and_the_page_shows_them(client, world):
    signed_in(client, "clin_a1")
    pid, text, token = _page(client, world)
    assert 'name="dmd_code"' in text and '<option value="microgram">microgram</option>' in text
    medicine = {
        "csrf_token": token,
        "pillar": "beta_blocker",
        "status": "started",
        "drug": "Bisoprolol",
        "dmd_code": "84114007",
        "dose_value": "2.5",
        "dose_unit": "mg",
        "changed_on": "2026-11-18",
    }
    saved = client.post(f"/ui/patients/{pid}/medicines", data=medicine, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    row = read(world, lambda s: s.scalars(select(MedicationChange)).one())
    assert (row.dmd_code, row.dose_value, row.dose_unit) == ("84114007", 2.5, "mg")
    assert "Bisoprolol 2.5 mg, dm+d 84114007" in client.get(f"/ui/patients/{pid}").text


def test_a_bad_code_or_half_a_dose_is_refused_in_words(client, world):
    signed_in(client, "clin_a1")
    pid, _, token = _page(client, world)
    base = {"csrf_token": token, "pillar": "mra", "status": "started", "changed_on": "2026-11-18"}
    refused = client.post(f"/ui/patients/{pid}/medicines", data=base | {"dmd_code": "84114008"})
    assert refused.status_code == 422 and "check digit is wrong" in refused.text
    half = client.post(f"/ui/patients/{pid}/medicines", data=base | {"dose_value": "25"})
    assert half.status_code == 422 and "A dose needs both dose and dose unit." in half.text
    assert 'value="25"' in half.text  # what was typed is kept
    assert read(world, lambda s: s.scalars(select(MedicationChange)).all()) == []
