"""One Lambda execution environment as a host process: the runtime side of plugin.py.

Standard library only, run with `python -I -S`: it imports the function's handler from
the paths the executor passed (code, layers, the runtime's boto3) and speaks LocalStack's
executor protocol: `status/<id>/ready` once the handler imported (Lambda's init phase),
then for each POST /invoke one `invocations/<request>/response` or `/error` callback.
"""

from __future__ import annotations

import http.server
import importlib
import json
import os
import sys
import threading
import time
import traceback
import urllib.request
from typing import Any

ENDPOINT = os.environ["LOCALSTACK_RUNTIME_ENDPOINT"]
RUNTIME_ID = os.environ["LOCALSTACK_RUNTIME_ID"]
# This process's stdout and stderr go to this file; each invocation's part of it is sent
# to LocalStack as the invocation's logs (what `aws lambda invoke --log-type Tail` shows).
LOG = os.environ.pop("HOST_LAMBDA_LOG")


class LambdaContext:
    """The attributes of Lambda's Python context object that handlers read."""

    def __init__(self, request_id: str, function_arn: str) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = function_arn
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self._deadline = time.monotonic() + float(
            os.environ.get("AWS_LAMBDA_FUNCTION_TIMEOUT", "3")
        )

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def post(path: str, body: bytes) -> None:
    # A JSON content type: urllib's default (form-encoded) would be parsed as a form by the
    # gateway, and the response body would reach the caller empty.
    request = urllib.request.Request(
        f"{ENDPOINT}{path}", data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def error_body(error: BaseException) -> bytes:
    # The shape Lambda's runtime reports: Step Functions matches errorType (the class name).
    return json.dumps(
        {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "stackTrace": traceback.format_tb(error.__traceback__),
        }
    ).encode()


_log_sent = [0]  # how much of LOG earlier invocations sent


def send_logs(request_id: str) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    with open(LOG, "rb") as log:
        log.seek(_log_sent[0])
        text = log.read()
    _log_sent[0] += len(text)
    post(
        f"/invocations/{request_id}/logs",
        json.dumps({"logs": text.decode(errors="replace")}).encode(),
    )


def invoke(handler: Any, payload: dict[str, str]) -> None:
    request_id = payload["invoke-id"]
    os.environ["_X_AMZN_TRACE_ID"] = payload.get("trace-id", "")
    context = LambdaContext(request_id, payload.get("invoked-function-arn", ""))
    try:
        result = handler(json.loads(payload["payload"] or "null"), context)
        outcome, body = "response", json.dumps(result).encode()
    except Exception as error:
        traceback.print_exc()
        outcome, body = "error", error_body(error)
    send_logs(request_id)
    post(f"/invocations/{request_id}/{outcome}", body)


def serve(handler: Any, port: int) -> None:
    class Invocations(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            payload = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(202)
            self.send_header("Content-Length", "0")
            self.end_headers()
            threading.Thread(target=invoke, args=(handler, payload), daemon=True).start()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", port), Invocations)
    post(f"/status/{RUNTIME_ID}/ready", b"{}")
    server.serve_forever()


def record_calls(path: str) -> None:
    """Append each AWS API call the function makes (service, operation, parameters but a
    body) to `path`, then make it unchanged."""
    import botocore.client  # the runtime's botocore, which the function's boto3 uses

    make_api_call = botocore.client.BaseClient._make_api_call
    function = os.environ["AWS_LAMBDA_FUNCTION_NAME"]

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
        call = {
            "function": function,
            "service": client.meta.service_model.service_name,
            "operation": operation,
            "params": {k: v for k, v in params.items() if k != "Body"},
        }
        with open(path, "a") as calls:
            calls.write(json.dumps(call, default=str) + "\n")
        return make_api_call(client, operation, params)

    botocore.client.BaseClient._make_api_call = recorded  # type: ignore[method-assign]


def exit_with_parent() -> None:
    """End this environment when LocalStack does: a killed LocalStack can't stop it."""
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os._exit(0)


def main() -> None:
    # sys.path[0] is this file's folder; the function sees only the stdlib and its paths.
    sys.path[:] = os.environ.pop("HOST_LAMBDA_PATH").split(os.pathsep) + sys.path[1:]
    port = int(os.environ.pop("HOST_LAMBDA_PORT"))
    threading.Thread(target=exit_with_parent, daemon=True).start()
    if calls := os.environ.pop("HOST_LAMBDA_CALLS", None):
        record_calls(calls)
    try:
        module, name = os.environ["_HANDLER"].rsplit(".", 1)
        handler = getattr(importlib.import_module(module), name)
    except Exception as error:
        traceback.print_exc()
        post(f"/status/{RUNTIME_ID}/error", error_body(error))
        sys.exit(1)
    serve(handler, port)


if __name__ == "__main__":
    main()
