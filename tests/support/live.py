"""Real `mhf` processes on 127.0.0.1 for the hardening, cluster and fuzz tests, each with a
throwaway database.

Every process started here is registered with a ``Processes`` object whose ``stop_all`` the
fixtures call in a finalizer, so a failing test never leaves a server, scheduler or proxy behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from tests.support.db import create_postgres_database, drop_postgres_database

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MHF = str(BIN / "mhf")
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# The secret key of the processes started here (and of tokens minted for them).
LIVE_SECRET = "hardening-secret-" + "h" * 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_port(url: str, port: int) -> str:
    """The same database reached through another port (the fault proxy)."""
    return make_url(url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)


@contextlib.contextmanager
def database(backend: str, tmp_path: Path, name: str) -> Iterator[str]:
    """A migrated, empty database for one test: a SQLite file or an ``mhf_hard_*`` database."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / (name + '.db')}"
    else:
        url = create_postgres_database(name)
    try:
        run_mhf(["migrate"], url)
        yield url
    finally:
        if backend != "sqlite":
            drop_postgres_database(url)


def mhf_env(url: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "MHF_DATABASE_URL": url,
        "MHF_SECRET_KEY": LIVE_SECRET,
        "MHF_ENVIRONMENT": "test",
        "MHF_ACCESS_TOKEN_MINUTES": str(24 * 60),
        "MHF_LOG_LEVEL": "WARNING",
        # The live suites post flat out from a few devices (crash, outage and cluster soaks, the
        # fuzz): the per-device limit is tested in process (tests/service/test_readings_errors.py).
        "MHF_DEVICE_RATE_LIMIT": str(10**9),
        "PYTHONPATH": str(ROOT),
    }
    env.update(extra)
    return env


def run_mhf(args: list[str], url: str, timeout: float = 120) -> str:
    done = subprocess.run(
        [MHF, *args],
        env=mhf_env(url),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"mhf {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


@dataclass
class Proc:
    name: str
    cmd: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> Proc:
        log = self.log_path.open("ab")
        # Own process group: a kill reaches the process and anything it forked.
        self.popen = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown handlers, no flush, like a power cut of the process."""
        if self.alive():
            assert self.popen is not None
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(timeout=10)

    def stop(self, timeout: float = 10) -> None:
        if not self.alive():
            return
        assert self.popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_tail(self, chars: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""


class Processes:
    """Every process a test starts; ``stop_all`` runs in the fixture's finalizer."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.procs: list[Proc] = []

    def spawn(self, name: str, cmd: list[str], env: dict[str, str]) -> Proc:
        proc = Proc(name, cmd, env, self.tmp_path / f"{name}.log")
        self.procs.append(proc)
        return proc.start()

    def server(self, name: str, url: str, port: int | None = None, **env: str) -> Server:
        port = port or free_port()
        proc = self.spawn(name, [MHF, "serve", "--port", str(port)], mhf_env(url, **env))
        server = Server(proc, port)
        server.wait_ready()
        return server

    def scheduler(self, name: str, url: str, *args: str) -> Proc:
        return self.spawn(name, [MHF, "scheduler", *args], mhf_env(url, MHF_LOG_LEVEL="INFO"))

    def stop_all(self) -> None:
        for proc in reversed(self.procs):
            try:
                proc.stop()
            except Exception:
                proc.kill()


@dataclass
class Server:
    proc: Proc
    port: int
    # "https" for nginx with a test's self-signed certificate, which is not verified.
    scheme: str = "http"

    @property
    def base(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> float:
        """Wait for /healthz; returns the seconds it took."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if not self.proc.alive():
                raise AssertionError(f"{self.proc.name} died:\n{self.proc.log_tail()}")
            try:
                answer = httpx.get(self.base + "/healthz", timeout=1, verify=False)
                if answer.status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.proc.name} did not start:\n{self.proc.log_tail()}")

    def restart(self) -> float:
        self.proc.start()
        return self.wait_ready()


@contextlib.contextmanager
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        procs.stop_all()
