"""Fixtures of the integration tests that talk to moto's S3 over HTTP (through the test
proxy, `tests.s3proxy`): one server per module, and credentials from the environment alone."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.s3servers import moto_server


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    """moto's S3 server for the module (a module that needs another endpoint defines its own)."""
    with moto_server() as url:
        yield url


@pytest.fixture
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Test credentials, and no profile, token or endpoint from the machine's environment."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
