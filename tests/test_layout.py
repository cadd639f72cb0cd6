"""Shared test helpers live in tests/support/ as a library: a test module never imports another
test module or a conftest (pytest loads those itself, and their helpers were private), and the
library depends on nothing else in tests/ so that any test may use it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.imports import imported_modules

TESTS = Path(__file__).resolve().parent
SUPPORT = TESTS / "support"
# The one module outside tests/support the library may use: it loads the hypothesis profile.
SUPPORT_MAY_USE = {"tests.hypothesis_profiles"}


def _imported_tests_modules(path: Path) -> set[str]:
    return {m for m in imported_modules(path) if m == "tests" or m.startswith("tests.")}


def _is_test_module_or_conftest(module: str) -> bool:
    last = module.rsplit(".", 1)[-1]
    return last.startswith("test_") or last == "conftest"


PY_FILES = sorted(TESTS.rglob("*.py"))


def test_the_files_are_found() -> None:
    assert TESTS / "conftest.py" in PY_FILES and SUPPORT / "db.py" in PY_FILES


@pytest.mark.parametrize("path", PY_FILES, ids=lambda p: str(p.relative_to(TESTS)))
def test_no_test_module_or_conftest_is_imported(path: Path) -> None:
    wrong = sorted(m for m in _imported_tests_modules(path) if _is_test_module_or_conftest(m))
    assert not wrong, f"move what {path.name} needs from {wrong} into tests/support/"


@pytest.mark.parametrize(
    "path", sorted(SUPPORT.glob("*.py")), ids=lambda p: str(p.relative_to(TESTS))
)
def test_the_support_library_stands_on_its_own(path: Path) -> None:
    outside = {
        m
        for m in _imported_tests_modules(path)
        if m != "tests.support" and not m.startswith("tests.support.") and m != "tests"
    }
    outside = {m for m in outside if not any(m.startswith(ok) for ok in SUPPORT_MAY_USE)}
    assert not outside, f"tests/support/{path.name} imports {sorted(outside)}"
