"""The executor plugin LocalStack loads by its entry point (`localstack.lambda.runtime_executor`).

LocalStack's Lambda service talks to each execution environment over a small HTTP protocol:
it POSTs `/invoke` to the environment, and the environment calls back on the gateway's
`ExecutorEndpoint` (`status/<id>/ready`, `invocations/<request>/response|error|logs`). Its
Docker executor puts LocalStack's Go init in a container to speak it; `bootstrap.py` speaks
the same protocol from a plain host process, so the deployed functions run here unchanged.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from localstack import config
from localstack.services.lambda_.invocation.executor_endpoint import ExecutorEndpoint
from localstack.services.lambda_.invocation.lambda_models import FunctionVersion, InvocationResult
from localstack.services.lambda_.invocation.plugins import RuntimeExecutorPlugin
from localstack.services.lambda_.invocation.runtime_executor import (
    LambdaRuntimeException,
    RuntimeExecutor,
)
from localstack.utils.net import get_free_tcp_port

BOOTSTRAP = Path(__file__).with_name("bootstrap.py")
# What Lambda's Python runtime provides beside the standard library (boto3 and its
# dependencies, /var/runtime on Lambda): a folder ./dev fills from a pinned requirement.
RUNTIME_PACKAGES = "SYNCPURGE_HOST_LAMBDA_RUNTIME"
# Where set, each environment appends every AWS API call its function makes to a file in
# this folder (the deploy tier checks each against the function's role; IAM isn't enforced).
CALLS_FOLDER = "SYNCPURGE_HOST_LAMBDA_CALLS"


class HostExecutorPlugin(RuntimeExecutorPlugin):
    name = "syncpurge-host"

    def load(self, *args: object, **kwargs: object) -> type[RuntimeExecutor]:
        return HostRuntimeExecutor


class HostRuntimeExecutor(RuntimeExecutor):
    """One execution environment: one host Python process, isolated from every venv."""

    def __init__(self, id: str, function_version: FunctionVersion) -> None:
        super().__init__(id=id, function_version=function_version)
        self.executor_endpoint = ExecutorEndpoint(self.id, container_address="127.0.0.1")
        self.process: subprocess.Popen[bytes] | None = None
        self.log = Path(config.dirs.tmp) / f"lambda-{self.id}.log"

    def start(self, env_vars: dict[str, str]) -> None:
        version = self.function_version
        if not version.config.runtime or not version.config.runtime.startswith("python"):
            raise LambdaRuntimeException(
                f"the host executor runs Python zip functions only, not {version.config.runtime}"
            )
        self.executor_endpoint.start()
        port = get_free_tcp_port()
        self.executor_endpoint.container_port = port
        code = version.config.code.get_unzipped_code_location()
        # Lambda's Python runtime puts /var/task first, then each layer's python/ folders
        # (/opt/python, /opt/python/lib/pythonX.Y/site-packages), then /var/runtime.
        paths = [str(code)]
        for layer in version.config.layers:
            root = layer.code.get_unzipped_code_location() / "python"
            minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
            paths += [str(root / "lib" / minor / "site-packages"), str(root)]
        paths.append(os.environ[RUNTIME_PACKAGES])
        env = {key: str(value) for key, value in env_vars.items()}
        env.update(
            LAMBDA_TASK_ROOT=str(code),
            HOST_LAMBDA_PORT=str(port),
            HOST_LAMBDA_PATH=os.pathsep.join(paths),
            HOST_LAMBDA_LOG=str(self.log),
            PATH=os.environ.get("PATH", "/usr/bin:/bin"),
            HOME=os.environ.get("HOME", "/tmp"),
            TMPDIR=os.environ.get("TMPDIR", "/tmp"),
        )
        if os.environ.get(CALLS_FOLDER):
            env["HOST_LAMBDA_CALLS"] = str(Path(os.environ[CALLS_FOLDER]) / f"{self.id}.jsonl")
        with self.log.open("ab") as out:
            # In LocalStack's process group, so that stopping LocalStack's group stops it;
            # -I -S: no venv's site-packages, no user site, no PYTHON* variables: the
            # function sees the standard library, its code, its layers and the runtime's boto3.
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(BOOTSTRAP)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=str(code),
            )
        self.executor_endpoint.wait_for_startup()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(Exception):
            self.executor_endpoint.shutdown()

    def get_address(self) -> str:
        return "127.0.0.1"

    def get_endpoint_from_executor(self) -> str:
        return "127.0.0.1"

    def get_runtime_endpoint(self) -> str:
        port = config.GATEWAY_LISTEN[0].port
        return f"http://127.0.0.1:{port}{self.executor_endpoint.get_endpoint_prefix()}"

    def invoke(self, payload: dict[str, str]) -> InvocationResult:
        return self.executor_endpoint.invoke(payload)

    def get_logs(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    @classmethod
    def prepare_version(cls, function_version: FunctionVersion) -> None:
        if function_version.config.code:
            function_version.config.code.prepare_for_execution()
        for layer in function_version.config.layers:
            layer.code.prepare_for_execution()

    @classmethod
    def cleanup_version(cls, function_version: FunctionVersion) -> None:
        pass

    @classmethod
    def validate_environment(cls) -> bool:
        return RUNTIME_PACKAGES in os.environ
