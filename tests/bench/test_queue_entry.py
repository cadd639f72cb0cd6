"""bench/queue.py, the name the alert-queue issue gives its bench, must run as a script although
a ``queue.py`` first on sys.path shadows the standard library's ``queue``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _python(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def test_bench_queue_runs_as_a_script_from_anywhere(tmp_path: Path) -> None:
    done = _python([str(ROOT / "bench" / "queue.py"), "--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "--reuse" in done.stdout


def test_after_it_sets_up_the_standard_librarys_queue_is_the_one_imported(tmp_path: Path) -> None:
    # As Python runs a script: its directory first on sys.path. Nothing on the --help path
    # imports ``queue``, so this imports it after the entry's set-up, as uvicorn and
    # concurrent.futures would.
    bench = ROOT / "bench"
    probe = (
        "import runpy, sys\n"
        f"sys.path.insert(0, {str(bench)!r})\n"
        f"runpy.run_path({str(bench / 'queue.py')!r}, run_name='probe')\n"
        "import queue\n"
        "print(queue.__file__)\n"
    )
    done = _python(["-c", probe], tmp_path)
    assert done.returncode == 0, done.stderr
    assert Path(done.stdout.strip()).parent != bench
