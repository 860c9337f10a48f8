"""S3 servers on 127.0.0.1 for the tests that need real HTTP: moto's server (in-process)
and LocalStack's S3 provider (its own Python 3.12+ venv, made by `./dev`)."""

from __future__ import annotations

import logging
import os
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
def localstack_server(python: Path, log: Path) -> Iterator[str]:
    """LocalStack's S3 provider on the host, no Docker; yields its endpoint URL."""
    port = free_port()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(log.parent)),
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "GATEWAY_SERVER": "hypercorn",
        "SERVICES": "s3",
        "OVERRIDE_IN_DOCKER": "0",
        # No DNS server (it would bind port 53), no certificate download, no analytics:
        # these machines reach no network beyond the package registries.
        "DNS_ADDRESS": "0",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DISABLE_EVENTS": "1",
        "LOCALSTACK_VOLUME_DIR": str(log.parent / "localstack-volume"),
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(python), "-m", "localstack.runtime.main"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(endpoint, process, log)
        yield endpoint
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(endpoint: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LocalStack exited ({process.returncode}):\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{endpoint}/_localstack/health", timeout=2) as answer:
                if b'"s3": "' in answer.read():
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"LocalStack did not become healthy in 90 s:\n{log.read_text()}")
