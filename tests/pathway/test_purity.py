"""pathway/ is the pure core: importing all of it pulls in no I/O framework or service code."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pathway
from pathway.catalogue import RULES
from pathway.rules import BY_TYPE, PRODUCES, TITRATION_BY_TYPE

FORBIDDEN = ("fastapi", "sqlalchemy", "httpx", "pydantic", "service", "alerts", "click")
ROOT = Path(pathway.__file__).parent


def modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages([str(ROOT)], prefix="pathway."))


def test_importing_every_module_loads_nothing_forbidden() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules()!r}: importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(out.stdout)
    bad = [m for m in loaded if m.split(".")[0] in FORBIDDEN]
    assert bad == []


def test_source_imports_only_the_standard_library_and_itself() -> None:
    allowed = set(sys.stdlib_module_names) | {"pathway"}
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            for name in names:
                assert name.split(".")[0] in allowed, f"{path}: imports {name}"


def test_no_clock_environment_or_file_access() -> None:
    for path in ROOT.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for banned in ("datetime.now", ".now(", "os.environ", "getenv", "open(", "logging"):
            assert banned not in text, f"{path} uses {banned}"


def test_every_rule_function_declares_the_rule_ids_it_raises() -> None:
    functions = {f for group in (*BY_TYPE.values(), *TITRATION_BY_TYPE.values()) for f in group}
    assert functions == set(PRODUCES)
    declared = set().union(*PRODUCES.values())
    assert declared == set(RULES) - {"amber.missed_weight"}
