"""End to end: Debian's Chromium, headless, against a real `mhf serve` on the demo network.

One server and one browser for the module. The demo is made smaller than the default (8
patients, 92 days) so the module runs in well under a minute and a half; it still has one
decompensating patient per team. axe-core checks each page at 1280 and 390 px.

`make screenshots` runs this module with MHF_SCREENSHOTS set to a folder: the demo is then the
full-size network (so the pictures show one) and the walk saves its pictures there as it goes.
Otherwise nothing is written, so a test run leaves the working tree as it found it.
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
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
MHF = Path(sys.executable).parent / "mhf"
SCREENSHOTS = Path(os.environ["MHF_SCREENSHOTS"]) if os.environ.get("MHF_SCREENSHOTS") else None
DEMO_SIZE = [] if SCREENSHOTS else ["--patients", "8", "--days", "92"]
PASSWORD = "heart-failure-demo"
VIEWPORT = {"width": 1280, "height": 800}
# A sign-in on a loaded two-core machine (password hashing, a cold server) has taken over 10 s.
PAGE_TIMEOUT_MS = 30_000
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


# Generous: on a loaded two-core machine the server's imports alone have taken over 30 s.
def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
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


def _site_count(db_url: str) -> int:
    engine = create_engine(db_url)
    with engine.connect() as conn:
        count = conn.execute(text("SELECT count(*) FROM sites")).scalar_one()
    engine.dispose()
    return int(count)


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
        [str(MHF), "demo", "--no-progress", *DEMO_SIZE],
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


@contextmanager
def _browsing(browser: Any, width: int, height: int = 800, **options: Any) -> Iterator[Any]:
    """A page in a fresh browser context (its own cookies) at this screen size, closed after."""
    context = browser.new_context(viewport={"width": width, "height": height}, **options)
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    with _browsing(browser, VIEWPORT["width"], VIEWPORT["height"], accept_downloads=True) as page:
        yield page


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


def _fits(page: Any) -> bool:
    """Nothing makes the whole page scroll sideways (wide tables scroll in their own box)."""
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"))


def _shot(page: Any, name: str) -> None:
    if SCREENSHOTS is None:
        return
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
    with _browsing(browser, width, height) as page:
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
            # The charts' heading at the top of the phone's screen, so the picture shows a chart.
            page.locator("#charts-title").evaluate("heading => heading.scrollIntoView()")
            _shot(page, f"patient{suffix}.png")


def test_programme_lead_reads_the_reports_and_downloads_the_csv(page: Any, demo: Demo) -> None:
    _login(page, demo, "lead")
    assert page.url.endswith("/ui/reports")
    assert page.locator("table.report-table").count() >= 5
    # One trend chart per site of the network.
    assert page.locator(".trend-grid svg.chart").count() == _site_count(demo.db_url) >= 3
    _shot(page, "reports.png")
    _axe(page, "reports")
    # On a phone the metric and equity choosers fit the screen and the tables scroll.
    page.set_viewport_size({"width": 390, "height": 844})
    assert _fits(page), "the reports page overflows at 390px"
    _axe(page, "reports at 390px")
    page.set_viewport_size(VIEWPORT)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download CSV of the network")).click()
    download = download_info.value
    assert download.suggested_filename.startswith("network-")
    body = Path(download.path()).read_text()
    assert body.splitlines()[0].startswith("month,scope,site_code")
    # The lead sees no clinical pages.
    response = page.goto(f"{demo.base}/ui/patients/{demo.red_patient_id}")
    assert response is not None and response.status == 403


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)], ids=["desktop", "phone"])
def test_programme_lead_opens_the_spc_and_funnel_views(
    page: Any, demo: Demo, width: int, height: int
) -> None:
    _login(page, demo, "lead")
    page.set_viewport_size({"width": width, "height": height})
    # From the reports page: a measure's variation reading links to its SPC view.
    page.locator('a.spc-badge[href*="metric=weight_adherence"]').click()
    assert page.get_by_role("heading", name=re.compile("statistical process control")).count() == 1
    assert page.locator("svg.chart").count() >= 2  # the network's chart and a site's
    assert _fits(page), f"the SPC view overflows at {width}px"
    _shot(page, f"spc-{width}.png")
    _axe(page, f"SPC view at {width}px")
    page.goto(f"{demo.base}/ui/reports/funnel?metric=weight_adherence")
    assert page.get_by_role("heading", name=re.compile("funnel plot")).count() == 1
    assert page.get_by_text("differences in case mix are not adjusted for").count() == 1
    assert _fits(page), f"the funnel view overflows at {width}px"
    _axe(page, f"funnel view at {width}px")
    page.goto(f"{demo.base}/ui/reports/funnel?metric=admissions_hf")
    assert (
        page.get_by_role("cell", name="Patient-years on the pathway").count()
        + page.locator("th", has_text="Patient-years on the pathway").count()
        >= 1
    )
    _shot(page, f"funnel-rate-{width}.png")
    _axe(page, f"rate funnel view at {width}px")


def test_programme_lead_downloads_the_months_pack_and_reads_it_offline(
    page: Any, demo: Demo, tmp_path: Path
) -> None:
    _login(page, demo, "lead")
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download the month's pack")).click()
    download = download_info.value
    assert re.fullmatch(r"mhf-pack-\d{4}-\d{2}\.zip", download.suggested_filename)
    with zipfile.ZipFile(download.path()) as archive:
        archive.extractall(tmp_path)
    (folder,) = list(tmp_path.iterdir())
    # The index reads offline, from the file: its charts are the pack's own files.
    page.goto((folder / "index.html").as_uri())
    assert page.get_by_role("heading", level=1, name=re.compile("^Monthly pack")).count() == 1
    assert page.locator("table caption").count() >= 10
    first_chart = page.locator("figure img").first
    assert first_chart.evaluate("img => img.complete && img.naturalWidth > 0")
    _axe(page, "month's pack")
    page.set_viewport_size({"width": 390, "height": 844})
    assert _fits(page), "the pack's index overflows at 390px"
    _axe(page, "month's pack at 390px")
    page.set_viewport_size(VIEWPORT)
    # Each site's lessons: the page the lead writes them on.
    page.goto(f"{demo.base}/ui/reports/lessons")
    page.get_by_label(re.compile("^Lessons for")).fill("Same-day calls after a red alert.")
    page.get_by_role("button", name="Save the lessons").click()
    assert page.get_by_text("Same-day calls after a red alert.").count() >= 1
    _axe(page, "lessons")


def test_programme_lead_reads_a_value_framework_dashboard(page: Any, demo: Demo) -> None:
    _login(page, demo, "lead")
    page.goto(f"{demo.base}/ui/value-frameworks")
    page.get_by_role("link", name=re.compile("^Derbyshire and LLR")).click()
    assert page.get_by_role("heading", name=re.compile("^Derbyshire and LLR")).count() == 1
    for domain in ("Better health and wellbeing", "Efficient and sustainable use of resources"):
        assert page.get_by_role("heading", name=domain).count() == 1
    assert page.locator(".trend-grid svg.chart").count() >= 4
    _shot(page, "value-framework.png")
    _axe(page, "value framework dashboard")
    page.set_viewport_size({"width": 390, "height": 844})
    assert _fits(page), "the dashboard overflows at 390px"
    _axe(page, "value framework dashboard at 390px")
    page.set_viewport_size(VIEWPORT)
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("^Download CSV of this dashboard")).click()
    body = Path(download_info.value.path()).read_text()
    assert body.splitlines()[0].startswith("month,framework,version,section")


def test_clinician_of_another_team_gets_404_for_the_patient(page: Any, demo: Demo) -> None:
    _login(page, demo, demo.other_clinician)
    response = page.goto(f"{demo.base}/ui/patients/{demo.red_patient_id}")
    assert response is not None and response.status == 404
    assert "Patient not found" in page.locator("h1").inner_text()
    assert demo.red_patient_id not in page.content()


def test_a_device_token_opens_no_page(browser: Any, demo: Demo) -> None:
    with _browsing(
        browser,
        VIEWPORT["width"],
        VIEWPORT["height"],
        extra_http_headers={"Authorization": f"Bearer {demo.device_token}"},
    ) as page:
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


# --- issue 19: the administrators' pages and the device-token page, on a desktop and a phone ---

WIDTHS = (1280, 390)


@pytest.mark.parametrize("width", WIDTHS)
def test_admin_pages_at_desktop_and_phone_width(browser: Any, demo: Demo, width: int) -> None:
    with _browsing(browser, width, 800) as page:
        _login(page, demo, "admin")
        assert page.url.endswith("/ui/admin")
        assert page.locator("h1").inner_text() == "Administration"
        pages = ["/ui/admin", "/ui/admin/users", "/ui/admin/users/new", "/ui/admin/sites"]
        for path in pages:
            response = page.goto(f"{demo.base}{path}")
            assert response is not None and response.status == 200, path
            assert _fits(page), f"{path} overflows at {width}px"
            _axe(page, f"{path} at {width}px")
            if path == "/ui/admin/users" and width == 1280:
                _shot(page, "admin-users.png")

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

        # Reset that user's password (a mismatch first), then deactivate them.
        row = page.locator("tr", has=page.locator(f"td:text-is('{username}')"))
        row.get_by_role("link", name="Reset password").click()
        page.wait_for_load_state()
        assert _fits(page), f"the password page overflows at {width}px"
        _axe(page, f"reset password at {width}px")
        page.get_by_label("New password", exact=True).fill("another-long-password")
        page.get_by_label("The new password again").fill("not-the-same-password")
        page.get_by_role("button", name="Reset the password").click()
        page.locator("#form-errors").wait_for()
        _axe(page, f"reset password, with errors, at {width}px")
        page.get_by_label("New password", exact=True).fill("another-long-password")
        page.get_by_label("The new password again").fill("another-long-password")
        page.get_by_role("button", name="Reset the password").click()
        page.locator("#flash", has_text="Password reset").wait_for()
        row = page.locator("tr", has=page.locator(f"td:text-is('{username}')"))
        row.get_by_role("button", name="Deactivate").click()
        page.locator("#flash", has_text="User deactivated").wait_for()
        row = page.locator("tr", has=page.locator(f"td:text-is('{username}')"))
        assert "Deactivated" in row.inner_text()
        assert row.get_by_role("button", name="Deactivate").count() == 0

        # A site's settings and its teams.
        page.goto(f"{demo.base}/ui/admin/sites")
        page.locator("table a").first.click()
        page.wait_for_load_state()
        assert "/ui/admin/sites/" in page.url
        assert _fits(page), f"the site page overflows at {width}px"
        _axe(page, f"site settings at {width}px")
        if width == 1280:
            _shot(page, "admin-site.png")
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
        assert _fits(page), f"the team page overflows at {width}px"
        _axe(page, f"team at {width}px")
        page.get_by_label("Escalation contact").fill("ring the ward")
        page.get_by_role("button", name="Save the team").click()
        page.locator("#form-errors").wait_for()
        _axe(page, f"team, with errors, at {width}px")
        page.get_by_label("Escalation contact").fill("01332 000000")
        page.get_by_role("button", name="Save the team").click()
        page.locator("#flash", has_text="Team saved").wait_for()

        # Unknown page addresses are pages too.
        response = page.goto(f"{demo.base}/ui/no-such-page")
        assert response is not None and response.status == 404
        assert page.locator("h1").inner_text() == "Page not found"
        _axe(page, f"not found at {width}px")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_device_token_is_shown_once_at_desktop_and_phone_width(
    browser: Any, demo: Demo, width: int
) -> None:
    with _browsing(browser, width, 800) as page:
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


def _nhs_number(seed: int) -> str:
    """A valid NHS number (modulus 11 check digit) in the 999 test range, one per seed."""
    for tail in range(seed * 100, seed * 100 + 100):
        digits = [int(d) for d in f"999{tail:06d}"]
        check = 11 - sum(d * (10 - i) for i, d in enumerate(digits)) % 11
        if check == 11:
            check = 0
        if check != 10:
            return "".join(map(str, digits)) + str(check)
    raise AssertionError("no valid NHS number in the range")


@pytest.mark.parametrize("width", WIDTHS)
def test_clinician_enrols_records_and_discharges_a_patient(
    browser: Any, demo: Demo, width: int
) -> None:
    with _browsing(browser, width, 844) as page:
        _login(page, demo, demo.clinician)
        page.goto(f"{demo.base}/ui/patients")
        page.get_by_role("link", name="Enrol a patient").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/ui/patients/new")
        assert _fits(page), f"the enrolment form overflows at {width}px"
        _axe(page, f"enrolment at {width}px")

        # Every problem at once, in words, each linked to its field.
        page.get_by_label("NHS number").fill("123")
        page.get_by_role("button", name="Enrol the patient").click()
        page.locator("#enrol-errors").wait_for()
        assert page.locator("#enrol-errors li").count() >= 3
        assert "Input should" not in page.locator("#enrol-errors").inner_text()
        assert _fits(page), f"the enrolment errors overflow at {width}px"
        _axe(page, f"enrolment, with errors, at {width}px")

        nhs_number = _nhs_number(width)
        page.get_by_label("NHS number").fill(nhs_number)
        page.get_by_label("Name", exact=True).fill(f"Test Patient {width}")
        page.get_by_label("Date of birth").fill("1950-03-14")
        page.get_by_label("Sex").select_option("female")
        page.get_by_label("Cohort").select_option(index=1)
        page.get_by_role("button", name="Enrol the patient").click()
        page.locator("#flash", has_text="Patient enrolled").wait_for()
        assert re.search(r"/ui/patients/[0-9a-f-]{36}", page.url)
        patient_url = page.url.split("?")[0]

        # A medicine change and a KCCQ-12 score, each from its own folded form.
        page.locator("summary", has_text="Record a medicine change").click()
        page.get_by_label("Pillar", exact=True).select_option("beta_blocker")
        page.get_by_label("Change", exact=True).select_option("started")
        page.get_by_label("Medicine (optional)").fill("bisoprolol")
        page.get_by_label("Dose (optional, with its unit)").fill("1.25")
        page.get_by_label("Dose unit").select_option("mg")
        page.get_by_role("button", name="Record the change").click()
        page.locator("#flash", has_text="Medicine change recorded").wait_for()
        assert "bisoprolol 1.25 mg" in page.locator("dl.pillars").inner_text()

        page.locator("summary", has_text="Record a KCCQ-12 score").click()
        page.get_by_label("Overall summary score (0 to 100)").fill("140")
        page.get_by_role("button", name="Record the score").click()
        page.locator("#k-errors").wait_for()
        _axe(page, f"KCCQ-12 form, with errors, at {width}px")
        page.get_by_label("Overall summary score (0 to 100)").fill("55")
        page.get_by_label("Timepoint", exact=True).select_option("start")
        page.get_by_role("button", name="Record the score").click()
        page.locator("#flash", has_text="KCCQ-12 score recorded").wait_for()
        assert page.locator("section[aria-labelledby=kccq] table tbody tr").count() == 1
        assert _fits(page), f"the new patient's record overflows at {width}px"
        _axe(page, f"new patient's record at {width}px")

        # Thresholds: every unsafe value refused at once, in words, then saved.
        page.locator("#t-systolic_red_below").fill("20")
        page.locator("#t-pulse_low_red").fill("lots")
        page.get_by_role("button", name="Save thresholds").click()
        page.locator("#threshold-errors").wait_for()
        problems = page.locator("#threshold-errors li")
        assert problems.count() == 2
        assert "Input should" not in page.locator("#threshold-errors").inner_text()
        _axe(page, f"thresholds, with errors, at {width}px")
        page.locator("#t-systolic_red_below").fill("")
        page.locator("#t-pulse_low_red").fill("")
        page.locator("#t-target_weight_kg").fill("72.5")
        page.get_by_role("button", name="Save thresholds").click()
        page.locator("#flash", has_text="Thresholds saved").wait_for()

        # Pause with a reason, then resume.
        page.locator("#mo-reason").fill("On holiday for a week")
        page.get_by_role("button", name="Pause monitoring").click()
        page.locator("#flash", has_text="Monitoring paused").wait_for()
        assert "On holiday for a week" in page.locator("#monitoring ~ p").inner_text()
        # A resumption needs its reason too (as in the API), asked for in words.
        page.get_by_role("button", name="Resume monitoring").click()
        page.locator("#mo-errors").wait_for()
        _axe(page, f"resume, with errors, at {width}px")
        page.locator("#mo-reason").fill("Back home")
        page.get_by_role("button", name="Resume monitoring").click()
        page.locator("#flash", has_text="Monitoring resumed").wait_for()

        # Discharge ends monitoring: the forms to change it go, the reason stays.
        page.locator("#md-reason").select_option("stable_optimised")
        page.get_by_role("button", name="Discharge from monitoring").click()
        page.locator("#flash", has_text="Discharged from monitoring").wait_for()
        assert "Stable and medicines optimised" in page.locator("#monitoring ~ p").inner_text()
        assert page.locator("#md-reason").count() == 0
        _axe(page, f"discharged patient's record at {width}px")

        # The caseload finds the discharged patient by NHS number.
        page.goto(f"{demo.base}/ui/patients?q={nhs_number}&status=discharged")
        rows = page.locator("table.caseload tbody tr")
        assert rows.count() == 1
        rows.first.locator("a.patient-link").click()
        page.wait_for_load_state()
        assert page.url.split("?")[0] == patient_url


SITE_NAMES = {"LLR": "Leicester, Leicestershire and Rutland", "MSE": "Mid and South Essex"}


@pytest.mark.parametrize(("width", "other"), [(1280, "LLR"), (390, "MSE")])
def test_a_site_lead_asks_to_read_another_sites_report_and_a_lead_approves(
    browser: Any, demo: Demo, width: int, other: str
) -> None:
    reason = f"Comparing discharge calls with {other}"
    with _browsing(browser, width, 800) as page:
        _login(page, demo, "sitelead.derby")
        assert page.url.split("?")[0].endswith("/ui/reports")
        assert _fits(page), f"the site lead's reports page overflows at {width}px"
        _axe(page, f"site lead's reports at {width}px")
        page.goto(f"{demo.base}/ui/access-requests?kind=site_report")
        page.get_by_label("Which site").select_option(label=SITE_NAMES[other])
        page.get_by_label("Why you need it").fill(reason)
        page.get_by_role("button", name="Send the request").click()
        page.wait_for_load_state()
        assert page.get_by_role("cell", name=reason).count() == 1
        assert _fits(page), f"the access requests page overflows at {width}px"
        _axe(page, f"access requests, asking, at {width}px")
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()

        _login(page, demo, "lead")
        page.goto(f"{demo.base}/ui/access-requests")
        _axe(page, f"access requests, deciding, at {width}px")
        row = page.locator("tr", has_text=reason)
        approve = row.locator("form[action$='/approve']")
        approve.get_by_label("Note").fill("Yes, for the meeting")
        approve.get_by_role("button", name="Approve").click()
        page.wait_for_load_state()
        assert page.locator("tr", has_text=reason).get_by_text("Approved by").count() == 1
        page.get_by_role("button", name="Sign out").click()
        page.wait_for_load_state()

        _login(page, demo, "sitelead.derby")
        page.goto(f"{demo.base}/ui/reports?site={other}")
        caption = page.locator("caption", has_text=SITE_NAMES[other])
        assert caption.count() >= 1, "the granted site's equity split is not on the page"


@pytest.mark.parametrize("width", WIDTHS)
def test_the_root_leads_each_role_home_and_refusals_are_pages(
    browser: Any, demo: Demo, width: int
) -> None:
    with _browsing(browser, width, 800) as page:
        # Signed out, the service's own address leads to the sign-in page.
        page.goto(f"{demo.base}/")
        assert page.url.split("?")[0].endswith("/ui/login")
        _axe(page, f"sign in at {width}px")
        for username, home in (
            (demo.clinician, "/ui/queue"),
            ("lead", "/ui/reports"),
            ("admin", "/ui/admin"),
        ):
            _login(page, demo, username)
            page.goto(f"{demo.base}/")
            assert page.url.endswith(home), (username, page.url)
            page.get_by_role("button", name="Sign out").click()
            page.wait_for_load_state()

        # A role refused is an HTML page in the frame, with the person's own menu.
        _login(page, demo, "lead")
        response = page.goto(f"{demo.base}/ui/admin/users")
        assert response is not None and response.status == 403
        assert page.locator("h1").inner_text() == "You do not have access to this page"
        assert page.get_by_role("link", name="Go to your start page").count() == 1
        assert _fits(page), f"the refusal page overflows at {width}px"
        _axe(page, f"access refused at {width}px")
        response = page.goto(f"{demo.base}/ui/patients/new")
        assert response is not None and response.status == 403


@pytest.mark.parametrize("width", WIDTHS)
def test_webhook_pages_at_desktop_and_phone_width(browser: Any, demo: Demo, width: int) -> None:
    with _browsing(browser, width, 800) as page:
        _login(page, demo, "admin")
        page.get_by_role("link", name="Webhooks", exact=True).click()
        page.wait_for_load_state()
        assert page.url.endswith("/ui/admin/webhooks")
        assert _fits(page), f"the webhooks overview overflows at {width}px"
        _axe(page, f"webhooks overview at {width}px")
        page.locator("table a").first.click()
        page.wait_for_load_state()
        assert page.url.endswith("/webhooks")
        assert _fits(page), f"a team's webhooks overflow at {width}px"
        _axe(page, f"a team's webhooks at {width}px")

        # Every problem at once, the egress guard's in plain words; then one registered.
        page.get_by_label("Address").fill("http://10.0.0.7/hook")
        page.get_by_label("Signing secret").fill("short")
        page.get_by_role("button", name="Register the webhook").click()
        page.locator("#form-errors", has_text="must use https").wait_for()
        assert page.locator("#form-errors li").count() == 2
        _axe(page, f"register a webhook, with errors, at {width}px")
        # A public address written as one, so registering needs no name lookup.
        url = f"https://93.184.215.14/mhf-e2e-{width}"
        page.get_by_label("Address").fill(url)
        page.get_by_label("Signing secret").fill(f"a-shared-signing-secret-{width}")
        page.get_by_role("button", name="Register the webhook").click()
        page.locator("#flash", has_text="Webhook registered").wait_for()
        row = page.locator("tbody tr", has_text=url)
        assert row.count() == 1 and "Active" in row.inner_text()
        assert _fits(page), f"a team's webhooks overflow at {width}px once one is listed"
        _axe(page, f"a team's webhooks, one registered, at {width}px")

        page.get_by_role("link", name="Recent deliveries").click()
        page.wait_for_load_state()
        assert page.url.endswith("/webhooks/deliveries")
        assert _fits(page), f"the deliveries overflow at {width}px"
        _axe(page, f"webhook deliveries at {width}px")
        page.go_back()
        page.wait_for_load_state()

        page.locator("tbody tr", has_text=url).get_by_role("button", name="Stop").click()
        page.locator("#flash", has_text="Webhook stopped").wait_for()
        assert "Stopped" in page.locator("tbody tr", has_text=url).inner_text()


def _raise_red_alert(demo: Demo) -> None:
    """A red alert for the clinician's patient, through the API as a clinic reading: the first
    test resolves the demo's, and this one needs a row whatever ran before it."""
    with httpx.Client(base_url=demo.base, timeout=10) as http:
        signed = http.post(
            "/api/v1/auth/token", data={"username": demo.clinician, "password": PASSWORD}
        )
        assert signed.status_code == 200, signed.text
        reading = {
            "id": str(uuid.uuid4()),
            "type": "spo2",
            "taken_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "value": 90,
        }
        stored = http.post(
            f"/api/v1/patients/{demo.red_patient_id}/readings",
            json=reading,
            headers={"Authorization": f"Bearer {signed.json()['access_token']}"},
        )
        assert stored.status_code == 201, stored.text


@pytest.mark.parametrize("width", WIDTHS)
def test_the_queue_reads_at_a_glance_at_desktop_and_phone_width(
    browser: Any, demo: Demo, width: int
) -> None:
    _raise_red_alert(demo)
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    try:
        page = context.new_page()
        _login(page, demo, demo.clinician)
        assert page.url.endswith("/ui/queue")
        assert _fits(page), f"the queue overflows at {width}px"
        _axe(page, f"queue at {width}px")
        rows = page.locator("table.queue tbody tr")
        assert rows.count() >= 1
        # The totals are the whole queue's: the page says which of them it shows.
        assert "Showing 1" in page.locator(".queue__range").inner_text()
        # An alert raised out of hours carries a note of two more lines (whether the demo has
        # one depends on the hour it was built), so the rows measured are the plain ones.
        plain = rows.filter(has_not_text="Raised out of hours")
        if width >= 1000 and plain.count():
            heights = sorted(
                plain.nth(i).bounding_box()["height"] for i in range(min(plain.count(), 10))
            )
            # About 120 px before; two or three lines of text now.
            assert heights[(len(heights) - 1) // 2] <= 100, heights

        # Every filter control stays inside the filter panel.
        panel = page.locator("form.filters").bounding_box()
        for control in page.locator("form.filters select, form.filters button").all():
            box = control.bounding_box()
            assert box["x"] + box["width"] <= panel["x"] + panel["width"] + 1, width

        # The outcome's choices are read whole, not cut ("Choose an outcor").
        first = rows.first
        first.locator("summary", has_text="Note or resolve").click()
        outcome = first.get_by_label("Outcome")
        assert outcome.evaluate("e => e.scrollWidth <= e.clientWidth + 1")
        assert _fits(page), f"the open actions overflow at {width}px"
        if width < 1000:
            _shot(page, "queue-phone.png")

        # The overdue filter through the form, kept in the address.
        page.get_by_label("Overdue only").check()
        page.get_by_role("button", name="Apply filters").click()
        page.wait_for_load_state()
        assert "overdue=1" in page.url
        assert page.get_by_label("Overdue only").is_checked()
        _axe(page, f"queue, overdue only, at {width}px")
    finally:
        context.close()
