"""Issue 18 finding 2: behind the real nginx, a forged X-Forwarded-For does not reset the login
limits.

nginx runs with the deployed `deploy/nginx.conf` (only the upstream and the listening address
changed for this machine), in front of one `mhf serve` that trusts X-Forwarded-For from the
proxy's address only, as docker-compose.yml configures it. A client then sends wrong passwords,
each with a different forged X-Forwarded-For. When nginx appended to the client's header, the
API read the forged address as the client's, and every guess looked like a new address.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.login import PAIR_LIMIT
from tests.cluster.test_cluster import NGINX
from tests.hardening.support import (
    ROOT,
    Processes,
    Server,
    create_pg_database,
    drop_pg_database,
    free_port,
    run_mhf,
    seed_network,
)

WRAPPER = """
worker_processes 1;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{deployed}
}}
"""


def deployed_config(api_port: int, port: int) -> str:
    """deploy/nginx.conf with this machine's upstream and listening address, nothing else."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf, upstreams = re.subn(r"server api-\d:8000", f"server 127.0.0.1:{api_port}", conf)
    conf, listens = re.subn(r"listen 80;", f"listen 127.0.0.1:{port};", conf)
    assert upstreams >= 1 and listens == 1, "deploy/nginx.conf changed shape: update this test"
    return conf


@pytest.fixture
def cluster_db() -> Iterator[str]:
    url = create_pg_database(f"mhf_hard_proxy_{os.getpid()}")
    try:
        yield url
    finally:
        drop_pg_database(url)


@pytest.mark.soak
@pytest.mark.postgres
def test_a_forged_forwarded_for_does_not_reset_the_login_limit(
    cluster_db: str, tmp_path: Path
) -> None:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed")
    run_mhf(["migrate"], cluster_db)
    seed_network(cluster_db, 1)
    procs = Processes(tmp_path)
    try:
        # The proxy's address is the only one trusted, as in docker-compose.yml.
        api = procs.server("api", cluster_db, MHF_FORWARDED_ALLOW_IPS="127.0.0.1")
        port = free_port()
        root = tmp_path / "nginx"
        root.mkdir()
        conf = root / "nginx.conf"
        conf.write_text(WRAPPER.format(tmp=root, deployed=deployed_config(api.port, port)))
        globals_ = f"daemon off; pid {root}/nginx.pid; error_log {root}/error.log;"
        check = subprocess.run(
            [NGINX, "-t", "-c", str(conf), "-p", str(root), "-g", globals_],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stderr
        proxy = procs.spawn("nginx", [NGINX, "-c", str(conf), "-p", str(root), "-g", globals_], {})
        Server(proxy, port).wait_ready()
        username = "clin100"  # seed_network's clinician
        answers = []
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            for attempt in range(PAIR_LIMIT + 3):
                answer = http.post(
                    "/api/v1/auth/token",
                    data={"username": username, "password": "wrong"},
                    headers={"X-Forwarded-For": f"203.0.113.{attempt + 1}"},
                )
                answers.append(answer.status_code)
        assert answers == [401] * PAIR_LIMIT + [429] * 3, answers
    finally:
        procs.stop_all()
