"""Each site's lessons for a month: who may write and read them, validation naming the field,
the audit of each change, and the page that shows them escaped."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Uuid, bindparam, inspect, select, text
from sqlalchemy.exc import IntegrityError

from service.db import build_engine
from service.migrations_util import downgrade, upgrade
from service.models import AuditEvent
from tests.support.db import PG_URL, scratch_postgres
from tests.support.signin import csrf_of, signed_in
from tests.support.stewardship import site_admin

MONTH = "2026-10"
SITE_ID = uuid.uuid4()


def _url(world, site: str, month: str = MONTH) -> str:
    return f"/api/v1/sites/{world.sites[site]}/lessons/{month}"


def test_writers_and_readers_of_a_sites_lessons(client, world):
    admin_a = site_admin(world, "A")
    empty = client.get(_url(world, "A"), headers=world.auth("clin_A1"))
    assert empty.status_code == 200 and empty.json()["text"] == ""
    assert empty.json()["updated_at"] is None

    put = client.put(
        _url(world, "A"),
        json={"text": "  Same-day calls.\r\nFewer red alerts.  "},
        headers=world.auth("lead"),
    )
    assert put.status_code == 200, put.text
    assert put.json()["text"] == "Same-day calls.\nFewer red alerts."
    assert put.json()["updated_by_name"]
    for who in ("clin_A1", "clin_A2", admin_a, "admin", "lead"):
        read = client.get(_url(world, "A"), headers=world.auth(who))
        assert (
            read.status_code == 200 and read.json()["text"] == "Same-day calls.\nFewer red alerts."
        )
    # Another site's clinicians and site admin are told the site does not exist.
    assert client.get(_url(world, "A"), headers=world.auth("clin_B1")).status_code == 404
    assert (
        client.put(_url(world, "B"), json={"text": "x"}, headers=world.auth(admin_a)).status_code
        == 404
    )
    # Clinicians read; they do not write. Patients do neither.
    assert (
        client.put(_url(world, "A"), json={"text": "x"}, headers=world.auth("clin_A1")).status_code
        == 403
    )
    assert client.get(_url(world, "A"), headers=world.auth("pat_A1")).status_code == 403

    by_site_admin = client.put(
        _url(world, "A"), json={"text": "Ours."}, headers=world.auth(admin_a)
    )
    assert by_site_admin.status_code == 200 and by_site_admin.json()["text"] == "Ours."
    by_admin = client.put(_url(world, "B"), json={"text": "Theirs."}, headers=world.auth("admin"))
    assert by_admin.status_code == 200
    # Each month is its own note; an empty text removes one.
    assert client.get(_url(world, "A", "2026-09"), headers=world.auth("lead")).json()["text"] == ""
    cleared = client.put(_url(world, "A"), json={"text": ""}, headers=world.auth("lead"))
    assert cleared.status_code == 200 and cleared.json()["updated_at"] is None
    assert client.get(_url(world, "A"), headers=world.auth("lead")).json()["text"] == ""


def test_each_change_is_audited_and_a_repeat_is_not(client, world, session):
    body = {"text": "Weekly huddle."}
    for _ in range(2):
        assert (
            client.put(_url(world, "A"), json=body, headers=world.auth("lead")).status_code == 200
        )
    details = session.scalars(
        select(AuditEvent.detail).where(AuditEvent.actor_id == world.users["lead"])
    ).all()
    ours = [d for d in details if d and "lessons" in d]
    assert len(ours) == 1
    assert ours[0].startswith(f"site:{world.sites['A']} lessons month={MONTH} chars=0->14 sha256=")


def _field(response) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    field: str = response.json()["errors"][0]["field"]
    return field


def test_a_bad_note_or_month_is_422_naming_the_field(client, world):
    lead = world.auth("lead")
    assert _field(client.put(_url(world, "A"), json={"text": "x" * 4001}, headers=lead)) == "text"
    assert _field(client.put(_url(world, "A"), json={"text": "a\x07b"}, headers=lead)) == "text"
    assert (
        _field(client.put(_url(world, "A"), json={"text": "ok", "extra": 1}, headers=lead))
        == "extra"
    )
    for month in ("2026-13", "garbage", "2027-01", "1999-12"):
        assert (
            _field(client.put(_url(world, "A", month), json={"text": "ok"}, headers=lead))
            == "month"
        )
        assert _field(client.get(_url(world, "A", month), headers=lead)) == "month"
    # Nothing was stored by the refusals.
    assert client.get(_url(world, "A"), headers=lead).json()["text"] == ""
    exactly = client.put(_url(world, "A"), json={"text": "y" * 4000}, headers=lead)
    assert exactly.status_code == 200 and len(exactly.json()["text"]) == 4000


def test_the_page_shows_the_note_escaped_and_saves_it(client, world):
    signed_in(client, "lead")
    url = f"/ui/reports/lessons?site={world.sites['A']}&month={MONTH}"
    page = client.get(url)
    assert page.status_code == 200 and 'name="text"' in page.text
    saved = client.post(
        "/ui/reports/lessons",
        data={
            "csrf_token": csrf_of(page.text),
            "site": str(world.sites["A"]),
            "month": MONTH,
            "text": "<script>alert(1)</script> worked",
        },
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    shown = client.get(url)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; worked" in shown.text
    assert "<script>alert(1)</script>" not in shown.text
    too_long = client.post(
        "/ui/reports/lessons",
        data={
            "csrf_token": csrf_of(shown.text),
            "site": str(world.sites["A"]),
            "month": MONTH,
            "text": "z" * 4001,
        },
    )
    assert too_long.status_code == 422 and "at most 4000 characters" in too_long.text


def test_a_clinician_reads_the_page_without_the_form(client, world):
    client.put(_url(world, "A"), json={"text": "Shared learning."}, headers=world.auth("lead"))
    signed_in(client, "clin_a1")
    page = client.get(f"/ui/reports/lessons?site={world.sites['A']}&month={MONTH}")
    assert page.status_code == 200
    assert "Shared learning." in page.text and 'name="text"' not in page.text
    # Another site's lessons: the clinician's own site is shown instead, never site B's.
    other = client.get(f"/ui/reports/lessons?site={world.sites['B']}&month={MONTH}")
    assert (
        other.status_code == 200 and "Site B" not in other.text.split("<h1>")[1].split("</h1>")[0]
    )


def _lessons_round_trip(url: str) -> None:
    upgrade(url, "20261207_0021")
    upgrade(url, "20261207_0022")
    engine = build_engine(url)
    try:
        assert "site_lessons" in inspect(engine).get_table_names()
        with engine.begin() as conn:
            # A note over 4000 characters is refused by the table too, not only by the API.
            conn.execute(
                text(
                    "INSERT INTO sites (id, code, name, created_at) "
                    "VALUES (:id, 'S1', 'Site 1', CURRENT_TIMESTAMP)"
                ).bindparams(bindparam("id", type_=Uuid())),
                {"id": SITE_ID},
            )
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO site_lessons (site_id, month, text, updated_at) "
                    "VALUES (:id, '2026-10', :text, CURRENT_TIMESTAMP)"
                ).bindparams(bindparam("id", type_=Uuid())),
                {"id": SITE_ID, "text": "x" * 4001},
            )
        downgrade(url, "20261207_0021")
        assert "site_lessons" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def test_the_lessons_migration_round_trips_on_sqlite(tmp_path):
    _lessons_round_trip(f"sqlite:///{tmp_path / 'lessons.db'}")


@pytest.mark.postgres
def test_the_lessons_migration_round_trips_on_postgresql():
    if not PG_URL:
        pytest.skip("PostgreSQL leg: set MHF_TEST_DATABASE_URL to run it")
    with scratch_postgres("lessons") as url:
        _lessons_round_trip(url)
