"""The admin's first hour (issue 30): a wrong endpoint, no credentials, a bucket that isn't
there, a DataSync task with an S3 endpoint, a hand-edited plan. Each exits 2 with one line
on stderr that names the endpoint, the credentials, the bucket or the file; no traceback,
nothing deleted, and no waiting out ten retries on an endpoint that never answered.

The CLI runs in a subprocess, as an admin runs it, with an environment of its own: no AWS
variables but those a case sets, empty AWS config and credentials files, and no instance
metadata service to wait on.
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from botocore.stub import Stubber

from syncpurge.cli import build_parser
from syncpurge.cli.aws_errors import aws_problem
from syncpurge.data import clients
from syncpurge.data.clients import UNREACHED_ATTEMPTS, _UnreachedEndpoint, make_s3_client
from tests.helpers import make_versioned_bucket
from tests.s3servers import moto_server

pytestmark = pytest.mark.integration

SYNCPURGE = Path(sys.executable).parent / "syncpurge"
# Only a guard against hanging: a dead endpoint is given up on in about a second.
GUARD_SECONDS = 15
SOURCE, TARGET = "first-hour-src", "first-hour-dst"
STACK = "syncpurge"
PROGRESS_LINE = re.compile(r"^\[[a-z-]+\] ")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def s3(moto_url: str) -> Any:
    """The moto server's S3, with a source and a target: the target holds a vanished key
    a run would purge, so any delete would show."""
    client = boto3.client(
        "s3",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    make_versioned_bucket(client, SOURCE)
    make_versioned_bucket(client, TARGET)
    for bucket in (SOURCE, TARGET):
        client.put_object(Bucket=bucket, Key="live", Body=b"live")
    client.put_object(Bucket=TARGET, Key="gone", Body=b"erased at the source")
    return client


def versions(s3: Any) -> set[tuple[str, str, str]]:
    found = set()
    for bucket in (SOURCE, TARGET):
        page = s3.list_object_versions(Bucket=bucket)
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.add((bucket, entry["Key"], entry["VersionId"]))
    return found


@pytest.fixture
def empty_aws(tmp_path: Path) -> dict[str, str]:
    """An environment with no credentials anywhere botocore looks."""
    home = tmp_path / "home"
    home.mkdir()
    config, credentials = home / "aws-config", home / "aws-credentials"
    config.write_text("")
    credentials.write_text("")
    return {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


@pytest.fixture
def keys(empty_aws: dict[str, str]) -> dict[str, str]:
    """The same, with test credentials in the environment."""
    return empty_aws | {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


@pytest.fixture
def dead_endpoint() -> str:
    """A port nothing listens on: bound, read, closed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def syncpurge(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SYNCPURGE), *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=GUARD_SECONDS,
        check=False,
    )


def one_line(done: subprocess.CompletedProcess[str], *named: str) -> str:
    """The run exited 2 with one line on stderr (progress lines aside) naming `named`."""
    shown = f"exit {done.returncode}\nstderr:\n{done.stderr[-3000:]}"
    assert "Traceback" not in done.stderr, shown
    assert done.returncode == 2, shown
    lines = [
        line for line in done.stderr.splitlines() if line.strip() and not PROGRESS_LINE.match(line)
    ]
    assert len(lines) == 1, shown
    for name in named:
        assert name in lines[0], shown
    return lines[0]


# ------------------------------------------------ every subcommand that calls AWS

REGION = ["--region", "us-east-1"]
COMMANDS: dict[str, list[str]] = {
    "reconcile": ["reconcile", "--source-bucket", SOURCE, "--target-bucket", TARGET],
    "start": [
        "start",
        "--state-machine-arn",
        "arn:aws:states:us-east-1:123456789012:stateMachine:syncpurge",
    ],
    "reports list": ["reports", "list", "--from", "s3://first-hour-reports/runs/"],
    "reports list --stack": ["reports", "list", "--stack", STACK],
    "reports show": ["reports", "show", "RUN", "--from", "s3://first-hour-reports/runs/"],
    "reports show --stack": ["reports", "show", "RUN", "--stack", STACK],
    "bucket-policy": ["bucket-policy", "--stack", STACK, "--side", "source"],
    "events status": ["events", "status", "--stack", STACK],
    "events resume": ["events", "resume", "--stack", STACK],
    "erase": ["erase", "--source", f"s3://{SOURCE}/", "--target", f"s3://{TARGET}/", "--key", "k"],
    "erase --check": ["erase", "--check", "s3://first-hour-reports/e/receipt.json"],
    "receipt verify": ["receipt", "verify", "s3://first-hour-reports/e/receipt.json"],
}
NO_AWS = {"demo"}  # the embedded moto: no AWS, no endpoint


def leaf_commands(parser: argparse.ArgumentParser, path: str = "") -> Iterator[str]:
    subcommands = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subcommands:
        yield path
        return
    for name, sub in subcommands[0].choices.items():
        yield from leaf_commands(sub, f"{path} {name}".strip())


def test_the_table_walks_every_subcommand_that_calls_aws() -> None:
    covered = {name.split(" --")[0] for name in COMMANDS}
    assert covered == set(leaf_commands(build_parser())) - NO_AWS


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_a_dead_endpoint_is_one_line_naming_it_within_seconds(
    name: str, dead_endpoint: str, keys: dict[str, str], tmp_path: Path
) -> None:
    argv = [*COMMANDS[name], *REGION, "--endpoint-url", dead_endpoint]
    if name in ("reconcile", "erase"):
        argv += ["--report", str(tmp_path / "reports")]

    done = syncpurge(argv, keys)

    one_line(done, "--endpoint-url", dead_endpoint, "Connection refused")


@pytest.mark.parametrize("name", sorted([*COMMANDS, "reconcile --task-arn"]))
def test_no_credentials_is_one_line_naming_where_they_were_looked_for(
    name: str, dead_endpoint: str, empty_aws: dict[str, str], tmp_path: Path
) -> None:
    if name == "reconcile --task-arn":  # STS first: not through an endpoint (refused)
        task = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"
        argv = ["reconcile", "--task-arn", task, *REGION]
    else:
        argv = [*COMMANDS[name], *REGION, "--endpoint-url", dead_endpoint]
    if name.startswith("reconcile") or name == "erase":
        argv += ["--report", str(tmp_path / "reports")]

    done = syncpurge(argv, empty_aws)

    one_line(
        done, "no AWS credentials", "AWS_ACCESS_KEY_ID", empty_aws["AWS_SHARED_CREDENTIALS_FILE"]
    )


def test_an_endpoint_that_is_not_aws_is_one_line_naming_it(
    keys: dict[str, str], tmp_path: Path
) -> None:
    """A web server, not S3, at --endpoint-url: every request answers 404 with no body."""

    class NotFound(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self) -> None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_PUT = do_POST = do_HEAD

        def log_message(self, *_: object) -> None:
            pass

    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotFound) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        endpoint = f"http://127.0.0.1:{server.server_address[1]}"
        argv = [*COMMANDS["reconcile"], *REGION, "--endpoint-url", endpoint]
        done = syncpurge([*argv, "--report", str(tmp_path / "reports")], keys)
        server.shutdown()

    one_line(done, "--endpoint-url", endpoint, "did not answer as AWS does")


# ------------------------------------------------ a bucket that isn't there


def test_reports_from_a_bucket_that_does_not_exist_names_it(
    moto_url: str, s3: Any, keys: dict[str, str]
) -> None:
    before = versions(s3)

    done = syncpurge(
        ["reports", "list", "--from", "s3://nosuch", "--endpoint-url", moto_url, *REGION], keys
    )

    one_line(done, "'nosuch'", "does not exist", "NoSuchBucket")
    assert versions(s3) == before


# ------------------------------------------------ a DataSync task with an S3 endpoint


def test_a_task_with_an_endpoint_is_refused_saying_why(
    moto_url: str, s3: Any, keys: dict[str, str], tmp_path: Path
) -> None:
    task = "arn:aws:datasync:us-east-1:123456789012:task/task-0123456789abcdef0"
    before = versions(s3)

    done = syncpurge(["reconcile", "--task-arn", task, "--endpoint-url", moto_url, *REGION], keys)

    one_line(done, "--task-arn", "--endpoint-url", "DataSync", "--source-bucket")
    assert versions(s3) == before

    # And erase's --task-arn, by the same check, naming erase's own flags
    copy = ["--key", "k", "--report", str(tmp_path)]
    done = syncpurge(["erase", "--task-arn", task, "--endpoint-url", moto_url, *copy], keys)

    one_line(done, "--task-arn", "--endpoint-url", "DataSync", "--source and --target")
    assert versions(s3) == before


# ------------------------------------------------ a hand-edited plan


@pytest.fixture
def dry_run(moto_url: str, s3: Any, keys: dict[str, str], tmp_path: Path) -> Path:
    """A dry run's workspace, its plan (purge 'gone') kept in it."""
    report = tmp_path / "reports"
    done = syncpurge(reconcile_argv(moto_url, report, "--dry-run", "--json"), keys)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["totals"]["planned"] == 1
    return report / "syncpurge-work" / summary["runId"]


def reconcile_argv(moto_url: str, report: Path, *extra: str) -> list[str]:
    argv = [*COMMANDS["reconcile"], "--endpoint-url", moto_url, *REGION, "--report", str(report)]
    return [*argv, "--max-purge-fraction", "1", *extra]


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        (lambda text: text.replace("{", "{,", 1), "not JSON"),
        (lambda text: text.replace('"datasync"', '"nosuch-mode"', 1), "not a syncpurge plan"),
        (lambda text: "[]", "not a syncpurge plan"),
    ],
    ids=["broken-json", "unknown-mode", "not-an-object"],
)
def test_a_broken_plan_file_is_one_line_naming_it(
    edit: Callable[[str], str],
    why: str,
    *,
    dry_run: Path,
    moto_url: str,
    s3: Any,
    keys: dict[str, str],
) -> None:
    plan = dry_run / "run.json"
    plan.write_text(edit(plan.read_text()))
    before = versions(s3)

    report = dry_run.parent.parent
    done = syncpurge(reconcile_argv(moto_url, report, "--apply-plan", dry_run.name), keys)

    one_line(done, str(plan), why)
    assert versions(s3) == before


def test_a_broken_plan_chunk_is_one_line_naming_it_and_its_line(
    dry_run: Path, moto_url: str, s3: Any, keys: dict[str, str]
) -> None:
    (chunk,) = (dry_run / "plan").iterdir()
    chunk.write_text(chunk.read_text() + '{"k": "half a line\n')
    before = versions(s3)

    report = dry_run.parent.parent
    done = syncpurge(reconcile_argv(moto_url, report, "--apply-plan", dry_run.name), keys)

    one_line(done, str(chunk), "line 2", "not JSON", "nothing was deleted")
    assert versions(s3) == before


def test_a_broken_plan_chunk_in_s3_is_named_by_its_s3_uri(
    moto_url: str, s3: Any, keys: dict[str, str]
) -> None:
    reports = "s3://first-hour-reports/runs/"
    s3.create_bucket(Bucket="first-hour-reports")
    argv = [*COMMANDS["reconcile"], "--endpoint-url", moto_url, *REGION, "--report", reports]
    argv += ["--max-purge-fraction", "1"]
    dry = syncpurge([*argv, "--dry-run", "--json"], keys)
    assert dry.returncode == 0, dry.stderr
    run_id = json.loads(dry.stdout)["runId"]
    listed = s3.list_objects_v2(
        Bucket="first-hour-reports", Prefix=f"runs/syncpurge-work/{run_id}/plan/"
    )
    (chunk,) = [item["Key"] for item in listed["Contents"]]
    s3.put_object(Bucket="first-hour-reports", Key=chunk, Body=b'{"k": 1}\n')
    before = versions(s3)

    done = syncpurge([*argv, "--apply-plan", run_id], keys)

    one_line(done, f"s3://first-hour-reports/{chunk} line 1", "no field", "nothing was deleted")
    assert versions(s3) == before


# ------------------------------------------------ the mapping, in process


def test_an_s3_error_names_its_bucket_and_the_credentials(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEY1234")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setattr(clients, "_sessions", {})  # not this worker's earlier credentials
    args = argparse.Namespace(endpoint_url=None, profile=None)
    client = make_s3_client(region="us-east-1")
    for code, status, expected in (
        ("AccessDenied", 403, "GetObject on s3://b1 was denied to access key ...1234 from env"),
        ("InvalidAccessKeyId", 403, "the credentials (access key ...1234 from env) were refused"),
        ("SignatureDoesNotMatch", 403, "(GetObject on s3://b1)"),
        ("NoSuchBucket", 404, "bucket 'b1' does not exist (GetObject: NoSuchBucket)"),
    ):
        with Stubber(client) as stub:
            stub.add_client_error("get_object", code, "said", http_status_code=status)
            with pytest.raises(ClientError) as raised:
                client.get_object(Bucket="b1", Key="k")
        problem = aws_problem(raised.value, args)
        assert problem is not None
        assert problem[0] == 2
        assert expected in problem[1], problem[1]


def test_connection_errors_stop_early_only_while_the_endpoint_never_answered() -> None:
    refused = EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    never = _UnreachedEndpoint()
    assert never(None, UNREACHED_ATTEMPTS - 1, refused) is None  # the standard policy retries
    with pytest.raises(EndpointConnectionError):
        never(None, UNREACHED_ATTEMPTS, refused)
    answered = _UnreachedEndpoint()
    assert answered(({"status": 200}, {}), 1, None) is None
    assert answered(None, UNREACHED_ATTEMPTS + 3, refused) is None  # standard retries go on
