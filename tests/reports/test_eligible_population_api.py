"""Loading a site's eligible population through the API: JSON and CSV, every validation error
naming its field or line with nothing stored, who may load and list, and the uptake route."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from service.models import AuditEvent, EligiblePopulationCount, EligiblePopulationLoad
from service.reports.groups import GROUP_ORDER
from tests.support.stewardship import site_admin
from tests.support.world import World, read

SEX = {"female": 410, "male": 455, "other": 0, "unknown": 5}
IMD = {"1": 240, "2": 200, "3": 180, "4": 150, "5": 90, "Not known": 10}


def _url(world: World, site: str = "A") -> str:
    return f"/api/v1/sites/{world.sites[site]}/eligible-population"


def _groups(**dimensions: dict[str, int]) -> list[dict[str, Any]]:
    return [
        {"dimension": d, "group": g, "count": n}
        for d, counts in dimensions.items()
        for g, n in counts.items()
    ]


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "as_of": "2026-10-31",
        "source": "PHM platform heart-failure register",
        "groups": _groups(sex=SEX, imd_quintile=IMD),
    }
    body.update(changes)
    return body


def _csv(rows: list[tuple[str, str, str]]) -> str:
    return "dimension,group,count\n" + "".join(f"{d},{g},{n}\n" for d, g, n in rows)


def _stored(world: World) -> tuple[int, int]:
    def count(session: Any) -> tuple[int, int]:
        loads = session.scalar(select(func.count()).select_from(EligiblePopulationLoad))
        counts = session.scalar(select(func.count()).select_from(EligiblePopulationCount))
        return loads, counts

    return read(world, count)


def test_a_json_load_is_stored_listed_and_audited(client: TestClient, world: World) -> None:
    posted = client.post(_url(world), json=_body(), headers=world.auth("lead"))
    assert posted.status_code == 201, posted.text
    load = posted.json()
    assert (load["as_of"], load["source"]) == ("2026-10-31", "PHM platform heart-failure register")
    assert load["site_id"] == str(world.sites["A"]) and load["loaded_by"] == str(
        world.users["lead"]
    )
    # In the reports' order: IMD before sex, groups as GROUP_ORDER has them.
    assert [(g["dimension"], g["group"], g["count"]) for g in load["groups"]] == [
        *(("imd_quintile", g, IMD[g]) for g in GROUP_ORDER["imd_quintile"]),
        *(("sex", g, SEX[g]) for g in GROUP_ORDER["sex"]),
    ]
    # A second load keeps the first: the newest by date is listed first.
    newer = client.post(
        _url(world),
        json=_body(as_of="2026-11-15", groups=_groups(sex=SEX)),
        headers=world.auth("lead"),
    )
    assert newer.status_code == 201, newer.text
    listed = client.get(_url(world), headers=world.auth("lead")).json()
    assert [x["as_of"] for x in listed] == ["2026-11-15", "2026-10-31"]
    assert listed[1] == load
    assert client.get(_url(world, "B"), headers=world.auth("lead")).json() == []
    details = read(
        world,
        lambda s: s.scalars(
            select(AuditEvent.detail).where(AuditEvent.detail.like("%eligible_population%"))
        ).all(),
    )
    assert len(details) == 2 and all("people=870" in (d or "") for d in details)


def test_a_csv_load_takes_as_of_and_source_from_the_query(client: TestClient, world: World) -> None:
    body = _csv([("sex", g, str(n)) for g, n in SEX.items()])
    posted = client.post(
        _url(world),
        params={"as_of": "2026-10-31", "source": "PHM register"},
        content=body.encode(),
        headers={**world.auth("lead"), "Content-Type": "text/csv"},
    )
    assert posted.status_code == 201, posted.text
    assert posted.json()["source"] == "PHM register"
    assert {g["group"]: g["count"] for g in posted.json()["groups"]} == SEX


def _with(dimension: str, group: str, count: Any) -> list[dict[str, Any]]:
    groups = _groups(sex=SEX)
    for g in groups:
        if g["group"] == group:
            g["count"] = count
    return groups


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        (
            {"groups": [{"dimension": "postcode", "group": "DE1", "count": 3}]},
            ["groups[0].dimension"],
        ),
        (
            {"groups": [*_groups(sex=SEX), {"dimension": "sex", "group": "F", "count": 3}]},
            ["groups[4].group"],
        ),
        ({"groups": _with("sex", "male", -1)}, ["groups[1].count"]),
        ({"groups": _with("sex", "male", 2.5)}, ["groups[1].count"]),
        ({"groups": _with("sex", "male", "455")}, ["groups[1].count"]),
        ({"groups": _with("sex", "male", True)}, ["groups[1].count"]),
        ({"groups": _with("sex", "male", 10**30)}, ["groups[1].count"]),
        ({"source": "PHM\x00"}, ["source"]),
        (
            {"groups": [*_groups(sex=SEX), {"dimension": "sex", "group": "male", "count": 1}]},
            ["groups[4].group"],
        ),
        # Incomplete: a group of a dimension left out (its people would read as nobody).
        ({"groups": _groups(sex={"female": 410, "male": 455})}, ["groups.sex"]),
        # Dimensions that count different people.
        ({"groups": _groups(sex=SEX, imd_quintile={**IMD, "1": 241})}, ["groups.sex"]),
        ({"groups": []}, ["groups"]),
        (
            {"groups": [{"dimension": "sex", "group": "male", "count": 1, "note": "x"}]},
            ["groups[0].note"],
        ),
        ({"as_of": "2026-11-21"}, ["as_of"]),
        ({"as_of": "31/10/2026"}, ["as_of"]),
        ({"as_of": None, "source": " "}, ["as_of", "source"]),
        ({"source": "x" * 501}, ["source"]),
        ({"extra": 1}, ["extra"]),
    ],
)
def test_json_errors_name_their_field_and_store_nothing(
    client: TestClient, world: World, changes: dict[str, Any], fields: list[str]
) -> None:
    response = client.post(_url(world), json=_body(**changes), headers=world.auth("lead"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert _stored(world) == (0, 0)


@pytest.mark.parametrize(
    ("body", "params", "fields"),
    [
        ("group,dimension,count\nsex,female,1\n", {}, ["line 1"]),
        ("", {}, ["line 1"]),
        (
            _csv([("sex", "female", "410"), ("sex", "male", "many")]),
            {},
            ["line 3.count", "groups.sex"],
        ),
        (
            _csv(
                [
                    ("sex", "female", "4.5"),
                    ("sex", "male", "-2"),
                    ("sex", "other", "0"),
                    ("sex", "unknown", "5"),
                ]
            ),
            {},
            ["line 2.count", "line 3.count"],
        ),
        (
            _csv(
                [
                    ("sex", "female", "410"),
                    ("sex", "Male", "455"),
                    ("sex", "other", "0"),
                    ("sex", "unknown", "5"),
                ]
            ),
            {},
            ["line 3.group", "groups.sex"],
        ),
        (_csv([("age", "85+", "3")]), {}, ["line 2.dimension"]),
        ("dimension,group,count\nsex,female\n", {}, ["line 2"]),
        ("dimension,group,count\nsex," + "x" * 200_000 + ",1\n", {}, ["body"]),
        (_csv([("sex", g, str(n)) for g, n in SEX.items()]), {"as_of": None}, ["as_of"]),
        (_csv([("sex", g, str(n)) for g, n in SEX.items()]), {"source": None}, ["source"]),
    ],
)
def test_csv_errors_name_their_line_and_store_nothing(
    client: TestClient, world: World, body: str, params: dict[str, Any], fields: list[str]
) -> None:
    query = {"as_of": "2026-10-31", "source": "PHM register", **params}
    response = client.post(
        _url(world),
        params={k: v for k, v in query.items() if v is not None},
        content=body.encode(),
        headers={**world.auth("lead"), "Content-Type": "text/csv; charset=utf-8"},
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == fields
    assert _stored(world) == (0, 0)


def test_other_bodies_are_refused(client: TestClient, world: World) -> None:
    headers = world.auth("lead")
    wrong_type = client.post(
        _url(world), content=b"x", headers={**headers, "Content-Type": "text/plain"}
    )
    assert wrong_type.status_code == 415
    not_json = client.post(
        _url(world), content=b"{", headers={**headers, "Content-Type": "application/json"}
    )
    assert not_json.status_code == 422 and not_json.json()["errors"][0]["field"] == "body"
    both = client.post(_url(world), params={"source": "x"}, json=_body(), headers=headers)
    assert both.status_code == 422 and both.json()["errors"][0]["field"] == "as_of"
    assert _stored(world) == (0, 0)


def test_who_may_load_and_list(client: TestClient, world: World) -> None:
    admin_a = site_admin(world, "A")
    for who, site, expected in [
        ("lead", "B", 201),
        ("admin", "B", 201),
        (admin_a, "A", 201),
        (admin_a, "B", 404),  # another site's is not found
        ("clin_A1", "A", 403),
        ("pat_A1", "A", 403),
    ]:
        posted = client.post(_url(world, site), json=_body(), headers=world.auth(who))
        assert posted.status_code == expected, (who, site, posted.text)
        listed = client.get(_url(world, site), headers=world.auth(who))
        assert listed.status_code == (200 if expected == 201 else expected), (who, site)
    missing = "/api/v1/sites/00000000-0000-0000-0000-000000000000/eligible-population"
    assert client.get(missing, headers=world.auth("lead")).status_code == 404
    assert _stored(world)[0] == 3


def test_the_uptake_route_is_the_programme_leads(client: TestClient, world: World) -> None:
    client.post(_url(world), json=_body(), headers=world.auth("lead"))
    got = client.get("/api/v1/reports/uptake?month=2026-10&by=sex", headers=world.auth("lead"))
    assert got.status_code == 200, got.text
    site_a = next(s for s in got.json()["sites"] if s["code"] == "SITEA")
    # The world's two patients at A are women on the pathway since 21 October: a small count.
    assert site_a["eligible"] == 870 and site_a["enrolled"]["numerator"] == "*"
    assert site_a["uptake"] == "*"
    for who in ("admin", "clin_A1", site_admin(world, "A")):
        refused = client.get("/api/v1/reports/uptake?by=sex", headers=world.auth(who))
        assert refused.status_code == 403
    bad = client.get("/api/v1/reports/uptake?by=postcode", headers=world.auth("lead"))
    assert bad.status_code == 422
