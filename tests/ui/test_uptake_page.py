"""The uptake page: a programme lead signed in reads who is being missed, the site and group
tables and the funnel, from the same published figures as the API."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from service.db import unit_of_work
from tests.support.factories import make_patient
from tests.support.signin import signed_in
from tests.support.world import World

IMD = ["1", "2", "3", "4", "5", "Not known"]


def _enrol(world: World, team: str, count: int, imd: int, start: int) -> None:
    with unit_of_work(world.app.state.sessions) as s:
        for i in range(count):
            make_patient(s, str(9100000000 + start + i), world.teams[team], imd_quintile=imd)


def _load(client: TestClient, world: World, site: str, counts: list[int], source: str) -> None:
    body: dict[str, Any] = {
        "as_of": "2026-10-01",
        "source": source,
        "groups": [
            {"dimension": "imd_quintile", "group": g, "count": n}
            for g, n in zip(IMD, counts, strict=True)
        ],
    }
    posted = client.post(
        f"/api/v1/sites/{world.sites[site]}/eligible-population",
        json=body,
        headers=world.auth("lead"),
    )
    assert posted.status_code == 201, posted.text


def test_the_lead_reads_who_is_being_missed(client: TestClient, world: World) -> None:
    # Site A: the world's two patients (IMD 2) and 10 in IMD 1, 28 more in IMD 2: 10 and 30.
    _enrol(world, "A1", 10, 1, 0)
    _enrol(world, "A2", 28, 2, 100)
    # Site B: the world's one patient (IMD 2) and 39 more: 40 in IMD 2.
    _enrol(world, "B1", 39, 2, 200)
    _load(client, world, "A", [100, 60, 0, 0, 0, 0], "PHM <register>")
    _load(client, world, "B", [0, 200, 0, 0, 0, 0], "PHM register")
    signed_in(client, "lead")

    page = client.get("/ui/reports/uptake?month=2026-10&by=imd_quintile")

    assert page.status_code == 200, page.text
    html = page.text
    assert "Who is being missed: uptake, October 2026" in html
    # 10 of 100 in IMD 1 and 30 of 60 in IMD 2 at A; 40 of 160 overall; B 40 of 200.
    assert (
        "Site A: by IMD quintile, uptake is lowest in IMD quintile 1 (10 % of 100 eligible), "
        "against 25 % of all its eligible people."
    ) in html
    assert '<td class="num">25%</td>' in html and '<td class="num">20%</td>' in html
    assert "Eligible population of SITEA: PHM &lt;register&gt;." in html  # escaped
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart chart--wide"' in html
    assert "Funnel plot of uptake across sites" in html
    assert "No site is below the 99.8 % limit." in html


def test_a_month_not_started_is_a_message_and_others_are_refused(
    client: TestClient, world: World
) -> None:
    signed_in(client, "lead")
    assert client.get("/ui/reports/uptake?month=2027-05").status_code == 422
    assert client.get("/ui/reports/uptake?by=postcode").status_code == 422
    empty = client.get("/ui/reports/uptake")
    assert empty.status_code == 200
    assert "No site's uptake is published for this month" in empty.text
    client.cookies.clear()
    signed_in(client, "clin_a1")
    assert client.get("/ui/reports/uptake").status_code == 403
