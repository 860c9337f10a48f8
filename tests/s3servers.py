"""S3 servers on 127.0.0.1 for the tests that need real HTTP: moto's server (in-process)
and LocalStack's S3 provider (its own Python 3.12+ venv, made by `./dev`)."""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LOCALSTACK_VENV_PYTHON = REPO / ".localstack" / "venv" / "bin" / "python"
# ./dev sets this when it found no Python 3.12+ for LocalStack; the reason is its value.
LOCALSTACK_UNAVAILABLE = "SYNCPURGE_LOCALSTACK_UNAVAILABLE"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def moto_server(*, like_s3: bool = True) -> Iterator[str]:
    """moto's S3 over HTTP, in this process; yields its endpoint URL. `like_s3`: its
    ListObjectVersions pages as S3 does (`syncpurge_local.moto_s3`)."""
    from moto.server import ThreadedMotoServer

    from syncpurge_local.moto_s3 import s3_paging

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        if like_s3:
            with s3_paging():
                yield f"http://127.0.0.1:{port}"
        else:
            yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def localstack_python() -> Path | str:
    """The LocalStack venv's interpreter, or why there is none (a str)."""
    reason = os.environ.get(LOCALSTACK_UNAVAILABLE)
    if reason:
        return reason
    if not LOCALSTACK_VENV_PYTHON.exists():
        return f"{LOCALSTACK_VENV_PYTHON} is missing: `./dev test` (or `./dev localstack`) makes it"
    return LOCALSTACK_VENV_PYTHON


@contextmanager
def localstack_server(
    python: Path,
    log: Path,
    *,
    services: str = "s3",
    env: dict[str, str] | None = None,
    port: int | None = None,
) -> Iterator[str]:
    """LocalStack on the host, no Docker: its S3 provider alone by default, or the
    `services` named (the deploy tier's control plane); yields its endpoint URL."""
    port = port or free_port()
    home = log.parent
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home / "home"),
        "TMPDIR": str(home / "tmp"),
        "FILESYSTEM_ROOT": str(home / "filesystem"),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_SERVER": "hypercorn",
        "SERVICES": services,
        "OVERRIDE_IN_DOCKER": "0",
        # No DNS server (it would bind port 53), no certificate download, no analytics:
        # these machines reach no network beyond the package registries.
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        "LOCALSTACK_VOLUME_DIR": str(home / "localstack-volume"),
        **(env or {}),
    }
    for folder in ("home", "tmp", "filesystem"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        # Its own process group: under hypercorn LocalStack ignores SIGTERM, and the deploy
        # tier's Lambda environments are its children.
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=environment,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(endpoint, process, log, services.split(","))
        yield endpoint
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _wait_healthy(
    endpoint: str, process: subprocess.Popen[bytes], log: Path, services: list[str]
) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LocalStack exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as answer:
                health = json.loads(answer.read())["services"]
                if all(health.get(service) in ("available", "running") for service in services):
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"LocalStack did not become healthy in 90 s:\n{log.read_text()}")
