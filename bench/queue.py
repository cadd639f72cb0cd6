"""The alert-queue bench under the name the issue gives it: runs bench/alert_queue.py.

    .venv/bin/python bench/queue.py [--database-url URL] [--reuse] [--requests 300]

Run as a script, a file named ``queue.py`` is first on ``sys.path`` as the standard library's
``queue`` module, which ``concurrent.futures``, httpx and uvicorn import: so before anything is
imported this directory comes off the path and the project root goes on, and the bench runs as
``bench.alert_queue``.
"""

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(HERE.parent))

from bench.alert_queue import main  # noqa: E402

if __name__ == "__main__":
    main()
