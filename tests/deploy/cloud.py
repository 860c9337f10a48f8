"""LocalStack as the deploy tier's control plane: CloudFormation, Lambda (run by the host
executor in `tests/deploy/host_lambda`), Step Functions, S3, SNS, SQS, Scheduler, on this
machine with no Docker and no AWS account (docs/design.md §12)."""

from __future__ import annotations

import argparse
import io
import os
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from tests.helpers import make_versioned_bucket
from tests.s3servers import REPO, localstack_python, localstack_server

from syncpurge_infra.config import DEFAULTS, LAYER_PYTHON, POWERTOOLS_LAYER_ACCOUNT

LAMBDA_DIR = REPO / ".localstack" / "lambda"
# Filled by ./dev from tests/deploy/*-requirements.txt: what Lambda's runtime gives a
# function (boto3) and the Powertools layer's contents, both for LocalStack's Python.
RUNTIME_PACKAGES = LAMBDA_DIR / "runtime"
POWERTOOLS_LAYER = LAMBDA_DIR / "powertools-layer"
SERVICES = (
    "cloudformation,iam,sts,s3,sns,sqs,kms,lambda,stepfunctions,scheduler,events,cloudwatch,"
    "logs,ssm"
)
ACCOUNT = "000000000000"  # LocalStack's account for its test credentials
REGION = "us-east-1"


def unavailable() -> str | None:
    """Why the deploy tier can't run here, or None."""
    python = localstack_python()
    if isinstance(python, str):
        return python
    for folder in (RUNTIME_PACKAGES, POWERTOOLS_LAYER):
        if not folder.is_dir():
            return f"{folder} is missing: `./dev test` (or `./dev localstack`) makes it"
    return None


@dataclass(frozen=True)
class Cloud:
    """A running control plane and the environment that points the CLI, the CDK and boto3
    at it: the endpoint variables and LocalStack's test credentials, nothing else."""

    endpoint: str
    env: dict[str, str]
    log: Path
    # Where the host executor records each AWS call of each function, if asked to.
    calls: Path | None = None

    def client(self, service: str, **kwargs: Any) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=kwargs.pop("account", "test"),
            aws_secret_access_key="test",
            **kwargs,
        )

    def run(self, command: str, *, stdout_only: bool = False) -> str:
        """A shell command as a user types it in the repo, with the endpoint variables
        added; its output (both streams unless `stdout_only`), or AssertionError naming
        how it failed."""
        result = subprocess.run(
            command,
            shell=True,
            cwd=REPO,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(
                f"`{command}` exited {result.returncode}:\n{result.stdout[-4000:]}\n"
                f"{result.stderr[-4000:]}"
            )
        return result.stdout if stdout_only else result.stdout + result.stderr


@contextmanager
def localstack_cloud(
    workdir: Path, *, port: int | None = None, record_calls: bool = False
) -> Iterator[Cloud]:
    """LocalStack with the host Lambda executor and the Powertools layer stand-in published
    at the version the stack names: ready for `cdk bootstrap` and `cdk deploy`."""
    python = localstack_python()
    if isinstance(python, str):
        raise RuntimeError(python)
    log = workdir / "localstack.log"
    executor = {
        "LAMBDA_RUNTIME_EXECUTOR": "syncpurge-host",
        "SYNCPURGE_HOST_LAMBDA_RUNTIME": str(RUNTIME_PACKAGES),
    }
    calls = workdir / "calls" if record_calls else None
    if calls:
        calls.mkdir()
        executor["SYNCPURGE_HOST_LAMBDA_CALLS"] = str(calls)
    with localstack_server(python, log, services=SERVICES, env=executor, port=port) as endpoint:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("AWS_") and key not in ("CDK_DEFAULT_ACCOUNT",)
        }
        env.update(
            AWS_ENDPOINT_URL=endpoint,
            AWS_ENDPOINT_URL_S3=endpoint,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_DEFAULT_REGION=REGION,
        )
        cloud = Cloud(endpoint, env, log, calls)
        publish_powertools_layer(cloud, DEFAULTS["powertoolsLayerVersion"])
        yield cloud


def powertools_layer_zip() -> bytes:
    """The layer stand-in: the pinned Powertools wheel and its extras under python/."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(POWERTOOLS_LAYER.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(POWERTOOLS_LAYER).as_posix())
    return out.getvalue()


def publish_powertools_layer(cloud: Cloud, version: int) -> str:
    """Publish the stand-in as the public layer's account, up to `version`.

    LocalStack community can't fetch a shared layer from AWS; it takes a 12-digit access
    key id as the caller's account, so the publisher here is Powertools' own account. The
    versions before `version` are empty placeholders (the stack names only `version`)."""
    lambda_ = cloud.client("lambda", account=POWERTOOLS_LAYER_ACCOUNT)
    name = f"AWSLambdaPowertoolsPythonV3-{LAYER_PYTHON}-arm64"
    placeholder = io.BytesIO()
    with zipfile.ZipFile(placeholder, "w") as archive:
        archive.writestr("python/PLACEHOLDER", "an earlier layer version, never used")
    arn = ""
    for number in range(1, version + 1):
        content = powertools_layer_zip() if number == version else placeholder.getvalue()
        arn = lambda_.publish_layer_version(
            LayerName=name, Content={"ZipFile": content}, CompatibleRuntimes=["python3.13"]
        )["LayerVersionArn"]
    assert arn.endswith(f":{version}"), arn
    return str(arn)


# The example pair of docs/deploy.md ("Deploying against LocalStack").
EXAMPLE_BUCKETS = ("my-source", "my-target")


def main() -> None:
    """`./dev cloud`: LocalStack for trying the stack on a laptop, until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="./dev cloud", description=main.__doc__)
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--dir", type=Path, default=REPO / ".localstack" / "cloud")
    args = parser.parse_args()
    reason = unavailable()
    if reason:
        parser.exit(2, f"./dev cloud: {reason}\n")
    args.dir.mkdir(parents=True, exist_ok=True)
    # LocalStack runs in a process group of its own: stop it on SIGTERM as on Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with localstack_cloud(args.dir, port=args.port) as cloud:
        s3 = cloud.client("s3")
        for bucket in EXAMPLE_BUCKETS:
            make_versioned_bucket(s3, bucket)
        credentials = (
            f"AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION={REGION}"
        )
        buckets = " and ".join(EXAMPLE_BUCKETS)
        print(f"LocalStack is up on {cloud.endpoint} (log: {cloud.log}), with the versioned")
        print(f"buckets {buckets}. In another terminal:")
        print(f"  export AWS_ENDPOINT_URL={cloud.endpoint} AWS_ENDPOINT_URL_S3={cloud.endpoint}")
        print(f"  export {credentials}")
        print("then the commands of docs/deploy.md, 'Deploying against LocalStack'. Ctrl-C stops.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
