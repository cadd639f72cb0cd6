"""The month's pack: one zip whose index.html links every file, the wide and long CSVs agree,
disclosure holds, each framework's dashboard and each site's lessons (escaped) are in it; and
who may download it, from the API and the page."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from service.deps import Principal
from service.reports import lessons
from service.reports.metrics import REGISTRY
from service.reports.pack import build_pack
from tests.reports.builders import Data
from tests.support.signin import signed_in
from tests.support.stewardship import framework_body

MONTH = "2026-10"
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
LEAD = Principal(role="programme_lead")
HOSTILE = "Calls on day 2 worked.\n<script>alert('pack')</script> & <b>bold</b>"


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: set[str] = set()
        self.imgs_without_alt = 0
        self.tables = 0
        self.captions = 0
        self.headings: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        for name in ("href", "src"):
            target = found.get(name)
            if target and not target.startswith("#"):
                self.links.add(target)
        if tag == "img" and not found.get("alt"):
            self.imgs_without_alt += 1
        if len(tag) == 2 and tag[0] == "h" and tag[1].isdigit():
            self.headings.append(int(tag[1]))
        self.tables += tag == "table"
        self.captions += tag == "caption"


def three_sites(data: Data) -> None:
    """S1: 12 patients enrolled in September (a count shown as 10), S2: 2 (shown as *),
    S3: 30; so the network's caseload is 44, shown as 45."""
    data.site("S1", teams=("T1a", "T1b"))
    data.site("S2", teams=("T2a",))
    data.site("S3", teams=("T3a",))
    for i in range(12):
        data.patient("T1a" if i < 5 else "T1b", "2026-09-01", imd_quintile=1 + i % 5)
    for _ in range(2):
        data.patient("T2a", "2026-09-01")
    for i in range(30):
        data.patient("T3a", "2026-09-01", sex="male" if i % 3 else "female")


def _open(body: bytes) -> tuple[dict[str, bytes], str]:
    archive = zipfile.ZipFile(io.BytesIO(body))
    files = {name: archive.read(name) for name in archive.namelist()}
    folder = f"mhf-pack-{MONTH}/"
    assert all(name.startswith(folder) for name in files)
    return {name.removeprefix(folder): data for name, data in files.items()}, folder


def _rows(text: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text.decode())))


def test_the_pack_links_every_file_and_its_csvs_agree(session):
    data = Data(session)
    three_sites(data)
    lessons.write(session, LEAD, "test", NOW, data.sites["S1"], MONTH, HOSTILE)
    pack = build_pack(session, LEAD, MONTH, NOW, trend_months=2)
    assert pack.filename == f"mhf-pack-{MONTH}.zip"
    files, _ = _open(pack.zip_bytes())

    # index.html links every file, and every link is a file of the pack.
    index = files.pop("index.html").decode()
    parsed = Links()
    parsed.feed(index)
    assert parsed.links == set(files)
    assert parsed.imgs_without_alt == 0 and parsed.tables == parsed.captions > 0
    # One h1, and no heading skips a level.
    assert parsed.headings[0] == 1 and parsed.headings.count(1) == 1
    assert all(b - a <= 1 for a, b in zip(parsed.headings, parsed.headings[1:], strict=False))
    assert {
        f"network-wide-{MONTH}.csv",
        f"network-{MONTH}.csv",
        f"sites/site-S2-{MONTH}.csv",
        f"equity/equity-S3-imd_quintile-{MONTH}.csv",
        "charts/spc-caseload.svg",
        "charts/funnel-weight_adherence.svg",
    } <= set(files)

    # The wide CSV: one row per metric, one column per site and the network.
    wide = _rows(files[f"network-wide-{MONTH}.csv"])
    assert [r["metric_id"] for r in wide] == list(REGISTRY)
    assert list(wide[0]) == ["metric_id", "metric", "unit", "S1", "S2", "S3", "network"]
    caseload = next(r for r in wide if r["metric_id"] == "caseload")
    assert (caseload["S1"], caseload["S2"], caseload["S3"], caseload["network"]) == (
        "10",
        "*",
        "30",
        "45",
    )
    # ... with the same values as the long CSV's month.
    long_rows = [r for r in _rows(files[f"network-{MONTH}.csv"]) if r["month"] == MONTH]
    from_long = {(r["metric_id"], r["site_code"] or "network"): r["value"] for r in long_rows}
    from_wide = {
        (r["metric_id"], place): r[place] for r in wide for place in ("S1", "S2", "S3", "network")
    }
    assert from_wide == from_long

    # The lesson is text, escaped; the page shows the counts as published.
    assert "<script>" not in index and "<b>bold</b>" not in index
    assert (
        "&lt;script&gt;alert(&#39;pack&#39;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in index
    )
    assert "No lessons written for this month." in index  # S2 and S3
    # Each site's practice beside its lessons: no site overrides, and the rate funnels too.
    assert index.count("The network's default thresholds, no site overrides.") == 3
    assert "charts/funnel-admissions_hf.svg" in files
    assert "Common cause" in index or "Too few months" in index
    # The charts are the reports pages' own: standalone SVG with a title and a description
    # for screen readers, the funnels' sites drawn as numbers read in the key table.
    spc_chart = files["charts/spc-caseload.svg"].decode()
    assert spc_chart.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<title" in spc_chart and "<desc" in spc_chart and "Network: " in spc_chart
    assert "Site numbers on the funnel plots" in index
    funnel = files["charts/funnel-weight_adherence.svg"].decode()
    assert '<tspan font-weight="bold">3</tspan> S3' in funnel  # the key, in the file itself
    assert "<td>S1: " in index


def test_the_csv_format_can_be_chosen(session):
    data = Data(session)
    three_sites(data)
    wide_only = build_pack(session, LEAD, MONTH, NOW, trend_months=1, formats=("wide",))
    names = {f.path for f in wide_only.files}
    assert f"network-wide-{MONTH}.csv" in names and f"network-{MONTH}.csv" not in names
    index = next(f for f in wide_only.files if f.path == "index.html").data.decode()
    assert f'href="network-{MONTH}.csv"' not in index


def _framework(client: Any, world: Any) -> dict[str, Any]:
    body = framework_body(world, "A", name="Site A: <heart> failure")
    made = client.post("/api/v1/value-frameworks", json=body, headers=world.auth("lead"))
    assert made.status_code == 201, made.text
    result: dict[str, Any] = made.json()
    return result


def test_the_api_gives_a_lead_the_pack_with_each_frameworks_dashboard(client, world):
    made = _framework(client, world)
    response = client.get(f"/api/v1/reports/pack?month={MONTH}", headers=world.auth("lead"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert f'filename="mhf-pack-{MONTH}.zip"' in response.headers["content-disposition"]
    files, _ = _open(response.content)
    board = files[f"frameworks/site-a-heart-failure-{MONTH}.json"].decode()
    assert made["id"] in board
    assert files[f"frameworks/site-a-heart-failure-{MONTH}.csv"].startswith(b"month,framework")
    index = files["index.html"].decode()
    assert "Site A: &lt;heart&gt; failure" in index and "<heart>" not in index
    # The same disclosed cells as the reports the API releases, byte for byte.
    lead = world.auth("lead")
    site_a = world.sites["A"]
    api_site = client.get(
        f"/api/v1/reports/sites/{site_a}?month={MONTH}&trend=1&format=csv", headers=lead
    )
    assert files[f"sites/site-SITEA-{MONTH}.csv"].decode() == api_site.text
    api_equity = client.get(
        f"/api/v1/reports/sites/{site_a}/equity?month={MONTH}&by=sex&format=csv", headers=lead
    )
    assert files[f"equity/equity-SITEA-sex-{MONTH}.csv"].decode() == api_equity.text
    api_network = client.get(f"/api/v1/reports/network?month={MONTH}&format=csv", headers=lead)
    assert files[f"network-{MONTH}.csv"].decode() == api_network.text
    for who, status in (("clin_A1", 403), ("admin", 403)):
        refused = client.get(f"/api/v1/reports/pack?month={MONTH}", headers=world.auth(who))
        assert refused.status_code == status
    bad = client.get("/api/v1/reports/pack?month=2026-13", headers=world.auth("lead"))
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.month"
    future = client.get("/api/v1/reports/pack?month=2027-01", headers=world.auth("lead"))
    assert future.status_code == 422 and future.json()["errors"][0]["field"] == "month"


def test_the_page_downloads_the_pack_with_the_login_session(client, world):
    assert client.get(
        f"/ui/reports/pack.zip?month={MONTH}", headers=world.auth("lead")
    ).status_code in (
        302,
        303,
        401,
    )
    signed_in(client, "lead")
    page = client.get(f"/ui/reports?month={MONTH}")
    assert f'href="/ui/reports/pack.zip?month={MONTH}"' in page.text
    response = client.get(f"/ui/reports/pack.zip?month={MONTH}")
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    files, _ = _open(response.content)
    assert "index.html" in files
    assert client.get("/ui/reports/pack.zip?month=garbage").status_code == 422


def test_a_clinician_cannot_download_the_pack_from_the_page(client, world):
    signed_in(client, "clin_a1")
    assert client.get(f"/ui/reports/pack.zip?month={MONTH}").status_code == 403
