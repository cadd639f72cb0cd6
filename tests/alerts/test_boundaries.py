"""alerts/ stays a pure core: standard library and the pathway only, httpx in the sender, no clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ALERTS = Path(__file__).resolve().parents[2] / "alerts"
MODULES = sorted(ALERTS.glob("*.py"))
# The pathway is the purer core below alerts (its response calendar is shared with the replay).
FORBIDDEN_PACKAGES = {"service", "fastapi", "sqlalchemy", "apscheduler", "pydantic"}
CLOCK_CALLS = {"now", "utcnow", "today", "time", "monotonic", "perf_counter"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_there_are_modules_to_check() -> None:
    assert {m.name for m in MODULES} >= {"lifecycle.py", "raising.py", "sla.py", "webhooks.py"}


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_imports(module: Path) -> None:
    imported = _imports(ast.parse(module.read_text()))
    assert not imported & FORBIDDEN_PACKAGES
    if module.name != "notify.py":
        assert "httpx" not in imported, "httpx belongs to the sender adapter only"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.name)
def test_no_clock_reads(module: Path) -> None:
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            target = node.func.value
            receiver = target.id if isinstance(target, ast.Name) else ""
            if node.func.attr in CLOCK_CALLS and receiver in {"datetime", "date", "time"}:
                pytest.fail(f"{module.name}:{node.lineno} reads the clock; take `now` instead")
