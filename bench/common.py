"""Helpers shared by the benchmarks: databases, a real uvicorn server, a light HTTP client,
latency summaries."""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]


def bench_database(name: str) -> str:
    """Each bench's own PostgreSQL database: the benches that start from an empty database drop
    theirs, and must never drop another's (the reports bench's 10 million readings take
    minutes to load)."""
    return f"postgresql+psycopg://postgres@127.0.0.1:5432/mhf_bench_{name}"


DEFAULT_PG = bench_database("ingest")
# Loaded once and kept: never dropped by fresh_database.
REPORTS_PG = bench_database("reports")


def fresh_database(url: str) -> str:
    """Drop and create the benchmark database (PostgreSQL) or file (SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
        return url
    if parsed.database == make_url(REPORTS_PG).database:
        raise ValueError(f"{parsed.database} is the reports bench's kept data: choose another")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()
    return url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    host: str
    port: int
    pid: int

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server process and its worker processes."""
        return _cpu_seconds(self.pid)


def _cpu_seconds(pid: int) -> float:
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return 0.0
    # utime, stime (of the process) and cutime, cstime (of its reaped children)
    own = sum(int(f) for f in fields[11:15]) / tick
    return own + sum(_cpu_seconds(int(child)) for child in children)


@contextmanager
def server(app: str, env: dict[str, str], *, factory: bool = True) -> Iterator[str]:
    """Run ``app`` under uvicorn (one worker) on a free localhost port; yield its base URL."""
    with serve(app, env, factory=factory) as running:
        yield running.url


# Production settings refuse to start without an https public address and check the Host
# header: the benches measure the production app, reached on localhost.
PRODUCTION_ON_LOCALHOST = {
    "MHF_PUBLIC_BASE_URL": "https://127.0.0.1",
    "MHF_ALLOWED_HOSTS": '["127.0.0.1"]',
}


@contextmanager
def serve(
    app: str, env: dict[str, str], *, factory: bool = True, workers: int = 1
) -> Iterator[Server]:
    """Run ``app`` under uvicorn on a free localhost port; yield where it is and its pid.

    Access logs off and the log level at warning for every app alike, so that a comparison
    between two apps is not a comparison of their logging.
    """
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        app,
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
        "--workers",
        str(workers),
    ]
    if factory:
        cmd.append("--factory")
    proc = subprocess.Popen(
        cmd,
        env={**os.environ, **PRODUCTION_ON_LOCALHOST, **env, "PYTHONPATH": str(ROOT)},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server died")
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise RuntimeError("server did not start")
        yield Server(url=base, host="127.0.0.1", port=port, pid=proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def summary(latencies: Sequence[float]) -> tuple[float, float]:
    """p50 and p99 in milliseconds."""
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return statistics.median(ordered) * 1000, p99 * 1000


class HttpConnection:
    """A minimal HTTP/1.1 keep-alive client for load generation.

    httpx costs the load generator more CPU per request than the bare endpoint costs the
    server; on a small shared machine that makes a benchmark measure its own client. This one
    writes a pre-built request and reads the status line, headers and a Content-Length body.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> HttpConnection:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._writer is not None:
            self._writer.close()

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        head = [
            f"POST {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in headers.items()),
        ]
        self._writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = None
        while (line := await self._reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                raise ConnectionError("chunked responses are not supported by this client")
        return status, await self._reader.readexactly(length or 0)
