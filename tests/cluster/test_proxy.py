"""Issue 18 finding 2: behind the real nginx, a forged X-Forwarded-For does not reset the login
limits.

nginx runs with the deployed `deploy/nginx.conf` (only the upstream and the listening address
changed for this machine), in front of one `mhf serve` that trusts X-Forwarded-For from the
proxy's address only, as docker-compose.yml configures it. A client then sends wrong passwords,
each with a different forged X-Forwarded-For. When nginx appended to the client's header, the
API read the forged address as the client's, and every guess looked like a new address.
"""

from __future__ import annotations

import datetime
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from service.identity.login import PAIR_LIMIT
from tests.support.db import create_postgres_database, drop_postgres_database
from tests.support.live import NGINX, ROOT, Processes, Server, free_port, run_mhf
from tests.support.load import seed_network

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


def self_signed(root: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, standing in for the mounted deploy/tls/ files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    chain, private = root / "fullchain.pem", root / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, private


def deployed_config(api_port: int, port: int, redirect_port: int, tls: Path) -> str:
    """deploy/nginx.conf with this machine's upstream, listening addresses and certificate
    files, nothing else."""
    conf = (ROOT / "deploy" / "nginx.conf").read_text()
    conf, upstreams = re.subn(r"server api-\d:8000", f"server 127.0.0.1:{api_port}", conf)
    conf, plain = re.subn(r"listen 80;", f"listen 127.0.0.1:{redirect_port};", conf)
    conf, secure = re.subn(r"listen 443 ssl;", f"listen 127.0.0.1:{port} ssl;", conf)
    conf, files = re.subn(r"/etc/nginx/tls/", f"{tls}/", conf)
    shape = upstreams >= 1 and plain == 1 and secure == 1 and files == 2
    assert shape, "deploy/nginx.conf changed shape: update this test"
    return conf


@pytest.fixture
def cluster_db() -> Iterator[str]:
    url = create_postgres_database(f"mhf_hard_proxy_{os.getpid()}")
    try:
        yield url
    finally:
        drop_postgres_database(url)


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
        self_signed(root)
        deployed = deployed_config(api.port, port, free_port(), root)
        conf = root / "nginx.conf"
        conf.write_text(WRAPPER.format(tmp=root, deployed=deployed))
        globals_ = f"daemon off; pid {root}/nginx.pid; error_log {root}/error.log;"
        check = subprocess.run(
            [NGINX, "-t", "-c", str(conf), "-p", str(root), "-g", globals_],
            capture_output=True,
            text=True,
            check=False,
        )
        assert check.returncode == 0, check.stderr
        proxy = procs.spawn("nginx", [NGINX, "-c", str(conf), "-p", str(root), "-g", globals_], {})
        Server(proxy, port, scheme="https").wait_ready()
        username = "clin100"  # seed_network's clinician
        answers = []
        # The test's own certificate: nothing to verify it against.
        with httpx.Client(base_url=f"https://127.0.0.1:{port}", timeout=30, verify=False) as http:
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
