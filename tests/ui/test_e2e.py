"""End to end: Debian's Chromium, headless, against a real `mhf serve` on the demo network.

One server and one browser for the module. The demo is made smaller than the default (8
patients, 92 days) so the module runs in well under a minute and a half; it still has one
decompensating patient per team. Screenshots of the three pages are written to
docs/screenshots/ at 1280x800, and axe-core checks each page.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
MHF = Path(sys.executable).parent / "mhf"
SCREENSHOTS = ROOT / "docs" / "screenshots"
PASSWORD = "heart-failure-demo"
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_OPTIONS = {
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
    "resultTypes": ["violations"],
}

if not CHROMIUM.exists():
    pytest.skip(
        "end-to-end UI tests need Debian's Chromium at /usr/bin/chromium (apt install chromium)",
        allow_module_level=True,
    )
playwright_api = pytest.importorskip(
    "playwright.sync_api", reason="end-to-end UI tests need the playwright package"
)


@dataclass
class Demo:
    base: str
    db_url: str
    clinician: str
    other_clinician: str
    red_patient_id: str
    red_alert_id: str
    device_token: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"mhf serve exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("mhf serve did not come up in time")


def _pick_people(db_url: str) -> tuple[str, str, str, str]:
    """A clinician whose team has an open red alert, that alert and patient, and a clinician
    of another team."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT u.username, a.patient_id, a.id, a.team_id FROM alerts a "
                "JOIN user_teams ut ON ut.team_id = a.team_id "
                "JOIN users u ON u.id = ut.user_id "
                "WHERE a.severity = 'red' AND a.status = 'open' AND u.role = 'clinician' "
                "ORDER BY a.raised_at, u.username LIMIT 1"
            )
        ).one()
        other = conn.execute(
            text(
                "SELECT u.username FROM users u JOIN user_teams ut ON ut.user_id = u.id "
                "WHERE u.role = 'clinician' AND ut.team_id <> :team ORDER BY u.username LIMIT 1"
            ),
            {"team": row.team_id},
        ).scalar_one()
    engine.dispose()

    def as_uuid(value: Any) -> str:
        text_value = str(value).replace("-", "")
        return (
            f"{text_value[:8]}-{text_value[8:12]}-{text_value[12:16]}-"
            f"{text_value[16:20]}-{text_value[20:]}"
        )

    return row.username, as_uuid(row.patient_id), as_uuid(row.id), other


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    tmp = tmp_path_factory.mktemp("e2e")
    db_url = f"sqlite:///{tmp / 'demo.db'}"
    env = {
        **os.environ,
        "MHF_DATABASE_URL": db_url,
        "MHF_SECRET_KEY": secrets.token_urlsafe(48),
        "MHF_SECRET_KEY_FILE": str(tmp / "secret"),
        "MHF_LOG_LEVEL": "WARNING",
    }
    subprocess.run([str(MHF), "migrate"], env=env, check=True, capture_output=True)
    loaded = subprocess.run(
        [str(MHF), "demo", "--patients", "8", "--days", "92"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    tokens = re.findall(r"(mhfd_[A-Za-z0-9_\-]+)", loaded.stdout)
    assert tokens, loaded.stdout
    clinician, patient_id, alert_id, other = _pick_people(db_url)
    port = _free_port()
    server = subprocess.Popen(
        [str(MHF), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/healthz", server)
        yield Demo(base, db_url, clinician, other, patient_id, alert_id, tokens[0])
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(10_000)
    yield context.new_page()
    context.close()


def _login(page: Any, demo: Demo, username: str) -> None:
    page.goto(f"{demo.base}/ui/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def _axe(page: Any, name: str) -> None:
    # axe imports playwright, which this module may be skipped without (importorskip above).
    from axe_playwright_python.sync_playwright import Axe  # noqa: PLC0415

    results = Axe().run(page, options=AXE_OPTIONS)
    bad = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]
    assert not bad, f"axe found serious or critical violations on the {name} page:\n" + "\n".join(
        bad
    )


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name))


def test_clinician_triages_the_red_alert_at_the_top(page: Any, demo: Demo) -> None:
    _login(page, demo, demo.clinician)
    assert page.url.endswith("/ui/queue")
    rows = page.locator("table.queue tbody tr")
    first = rows.first
    assert first.get_attribute("data-severity") == "red"
    assert first.locator(".badge--red").inner_text().strip() == "Red"
    row = page.locator(f"#alert-{demo.red_alert_id}")
    assert row.count() == 1
    assert re.search(r"\d{3} \d{3} \d{4}", row.locator(".nhs-number").inner_text())
    _shot(page, "queue.png")
    _axe(page, "queue")

    # The patient's record, with the weight chart.
    row.locator("a.patient-link").click()
    page.wait_for_load_state()
    assert f"/ui/patients/{demo.red_patient_id}" in page.url
    chart = page.locator("#chart-card-weight svg.chart--wide")
    assert chart.is_visible()
    assert not page.locator("#chart-card-weight svg.chart--narrow").is_visible()
    assert "Weight" in (chart.locator("title").first.text_content() or "")
    assert page.locator("#chart-card-weight svg polyline").count() >= 1
    page.locator("#charts-title").scroll_into_view_if_needed()
    _shot(page, "patient.png")
    _axe(page, "patient record")

    # Acknowledge, then resolve, without leaving the queue.
    page.goto(f"{demo.base}/ui/queue")
    row = page.locator(f"#alert-{demo.red_alert_id}")
    row.get_by_role("button", name="Acknowledge").click()
    page.locator("#flash", has_text="Alert acknowledged").wait_for()
    assert page.url.endswith("/ui/queue")
    row = page.locator(f"#alert-{demo.red_alert_id}")
    assert "Acknowledged" in row.locator(".tag").inner_text()
    row.locator("summary", has_text="Note or resolve").click()
    row.get_by_label("Outcome").select_option("diuretic_adjusted")
    row.get_by_label("Note (optional)").fill("Furosemide increased for 3 days; review Friday.")
    row.get_by_role("button", name="Resolve").click()
    page.locator("#flash", has_text="Alert resolved").wait_for()
    assert page.locator(f"#alert-{demo.red_alert_id}").count() == 0
    page.reload()
    assert page.locator(f"#alert-{demo.red_alert_id}").count() == 0


@pytest.mark.parametrize(
    ("width", "height", "suffix"), [(1280, 800, ""), (390, 844, "-phone")], ids=["desktop", "phone"]
)
def test_clinician_finds_a_patient_in_the_caseload(
    browser: Any, demo: Demo, width: int, height: int, suffix: str
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        _login(page, demo, demo.clinician)
        page.goto(f"{demo.base}/ui/patients/{demo.red_patient_id}")
        nhs_number = page.locator("#patient-title .nhs-number").inner_text().strip()

        page.get_by_role("link", name="Caseload", exact=True).first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/ui/patients")
        assert page.locator("table.caseload tbody tr").count() >= 1
        _axe(page, f"caseload at {width} px")
        _shot(page, f"caseload{suffix}.png")
        fits = "document.documentElement.scrollWidth <= window.innerWidth + 1"
        assert page.evaluate(fits), "the caseload is wider than the screen"

        page.get_by_label("NHS number or name").fill(nhs_number)
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state()
        rows = page.locator("table.caseload tbody tr")
        assert rows.count() == 1
        assert nhs_number in rows.first.inner_text()
        # Sorting from the form works at any width (the headings are hidden on a phone).
        page.get_by_label("Sort by").select_option("name")
        page.get_by_role("button", name="Search").click()
        page.wait_for_load_state()
        assert "sort=name" in page.url and rows.count() == 1

        rows.first.locator("a.patient-link").click()
        page.wait_for_load_state()
        assert f"/ui/patients/{demo.red_patient_id}" in page.url
        for heading in ("Medicines: the four pillars", "Blood results", "KCCQ-12 scores"):
            assert page.get_by_role("heading", name=heading).count() == 1
        wide = page.locator("#chart-card-weight svg.chart--wide")
        narrow = page.locator("#chart-card-weight svg.chart--narrow")
        assert (wide.is_visible(), narrow.is_visible()) == (width > 600, width <= 600)
        assert page.evaluate(fits), "the patient record is wider than the screen"
        _axe(page, f"patient record at {width} px")
        if suffix:
            page.locator("#charts-title").scroll_into_view_if_needed()
            _shot(page, f"patient{suffix}.png")
    finally:
        context.close()


def test_programme_lead_reads_the_reports_and_downloads_the_csv(page: Any, demo: Demo) -> None:
    _login(page, demo, "lead")
    assert page.url.endswith("/ui/reports")
    assert page.locator("table.report-table").count() >= 5
    assert page.locator(".trend-grid svg.chart").count() == 3
    _shot(page, "reports.png")
    _axe(page, "reports")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download CSV of the network")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("network-")
    body = Path(download.path()).read_text()
    assert body.splitlines()[0].startswith("month,scope,site_code")
    # The lead sees no clinical pages.
    response = page.goto(f"{demo.base}/ui/patients/{demo.red_patient_id}")
    assert response is not None and response.status == 403


def test_clinician_of_another_team_gets_404_for_the_patient(page: Any, demo: Demo) -> None:
    _login(page, demo, demo.other_clinician)
    response = page.goto(f"{demo.base}/ui/patients/{demo.red_patient_id}")
    assert response is not None and response.status == 404
    assert "Patient not found" in page.locator("h1").inner_text()
    assert demo.red_patient_id not in page.content()


def test_a_device_token_opens_no_page(browser: Any, demo: Demo) -> None:
    context = browser.new_context(
        viewport=VIEWPORT, extra_http_headers={"Authorization": f"Bearer {demo.device_token}"}
    )
    try:
        page = context.new_page()
        # The token is real: the patient API accepts it.
        api = page.request.get(f"{demo.base}/api/v1/me/readings")
        assert api.status == 200
        for path in (
            "/ui/queue",
            f"/ui/patients/{demo.red_patient_id}",
            "/ui/reports",
            "/ui/reports/network.csv",
            "/ui/account",
        ):
            response = page.goto(f"{demo.base}{path}")
            assert response is not None and response.status == 401, path
            assert "Sign in to use these pages" in page.locator("h1").inner_text()
    finally:
        context.close()


# --- issue 19: the administrators' pages and the device-token page, on a desktop and a phone ---

WIDTHS = (1280, 390)


def _fits(page: Any) -> bool:
    """Nothing makes the whole page scroll sideways (wide tables scroll in their own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_pages_at_desktop_and_phone_width(browser: Any, demo: Demo, width: int) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        _login(page, demo, "admin")
        assert page.url.endswith("/ui/admin")
        assert page.locator("h1").inner_text() == "Administration"
        pages = ["/ui/admin", "/ui/admin/users", "/ui/admin/users/new", "/ui/admin/sites"]
        for path in pages:
            response = page.goto(f"{demo.base}{path}")
            assert response is not None and response.status == 200, path
            assert _fits(page), f"{path} overflows at {width}px"
            _axe(page, f"{path} at {width}px")

        # Every problem with a new user at once, then a user made.
        page.goto(f"{demo.base}/ui/admin/users/new")
        page.get_by_label("Username").fill("x")
        page.get_by_role("button", name="Add the user").click()
        page.locator("#form-errors").wait_for()
        assert page.locator("#form-errors li").count() >= 2
        _axe(page, f"add a user, with errors, at {width}px")
        username = f"e2e.nurse.{width}"
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("a-long-password-for-e2e")
        page.locator("input[name=team_ids]").first.check()
        page.get_by_role("button", name="Add the user").click()
        page.locator("#flash", has_text="User created").wait_for()
        assert page.locator(f"td:text-is('{username}')").count() == 1

        # A site's settings and its teams.
        page.goto(f"{demo.base}/ui/admin/sites")
        page.locator("table a").first.click()
        page.wait_for_load_state()
        assert "/ui/admin/sites/" in page.url
        assert _fits(page), f"the site page overflows at {width}px"
        _axe(page, f"site settings at {width}px")
        page.get_by_label("Opens at").fill("8am")
        page.get_by_role("button", name="Save the site's settings").click()
        page.locator("#form-errors", has_text="HH:MM").wait_for()
        _axe(page, f"site settings, with errors, at {width}px")
        page.get_by_label("Opens at").fill("08:00")
        page.get_by_role("button", name="Save the site's settings").click()
        page.locator("#flash", has_text="Site settings saved").wait_for()
        page.locator("#teams ~ .table-scroll a, #teams ~ div a").first.click()
        page.wait_for_load_state()
        assert "/ui/admin/teams/" in page.url
        _axe(page, f"team at {width}px")

        # Unknown page addresses are pages too.
        response = page.goto(f"{demo.base}/ui/no-such-page")
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "Page not found"
        _axe(page, f"not found at {width}px")
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_a_device_token_is_shown_once_at_desktop_and_phone_width(
    browser: Any, demo: Demo, width: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 800})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        _login(page, demo, demo.clinician)
        page.goto(f"{demo.base}/ui/patients/{demo.red_patient_id}")
        section = page.locator("form.token-issue")
        button = section.get_by_role(
            "button", name=re.compile("^(Replace the token in use|Issue a device token)$")
        )
        button.click()
        page.wait_for_load_state()
        assert page.url.endswith(f"/ui/patients/{demo.red_patient_id}/device-token")
        token = page.locator("[data-new-token]").inner_text()
        assert token.startswith("mhfd_")
        assert _fits(page), f"the token page overflows at {width}px"
        _axe(page, f"new device token at {width}px")
        # A reload shows that it was shown, never the token, and issues nothing.
        page.reload()
        assert page.locator("[data-new-token]").count() == 0
        assert "already been shown" in page.locator("#token-shown").inner_text()
        _axe(page, f"device token already shown at {width}px")
        api = page.request.get(
            f"{demo.base}/api/v1/me/readings", headers={"Authorization": f"Bearer {token}"}
        )
        assert api.status == 200
    finally:
        context.close()
