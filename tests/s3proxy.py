"""An HTTP proxy between syncpurge and an S3 server: injects faults, records deletes, and
answers `EncodingType=url` listings as S3 does where moto ignores the parameter.

Faults (chosen per request by a seeded `FaultPlan`), each as S3 or the network gives it:
- `slowdown`: 503 SlowDown, request not forwarded (S3 API reference, Error responses).
- `internal`: 500 InternalError, request not forwarded.
- `reset-before`: the connection is reset before the request reaches the server.
- `reset-after`: the server carries the request out; the connection is reset before the
  answer (the client can't tell whether a delete happened).
- `key-errors`: a DeleteObjects answer in which some entries are `Errors` (InternalError /
  SlowDown) and were not deleted (S3 API reference, DeleteObjects: per-key Error elements).

Latency (an optional `Latency`): a fixed wait before each request is handled, longer for a
LIST page than for any other request, as a far-away S3 Region answers; benchmarks use it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.client
import random
import re
import socket
import struct
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit

from tests.s3requests import Latency, request_kind
from tests.s3servers import free_port

FAULT_KINDS = ("slowdown", "internal", "reset-before", "reset-after", "key-errors")
_OBJECT = re.compile(
    rb"<Object>\s*<Key>(.*?)</Key>\s*(?:<VersionId>(.*?)</VersionId>)?\s*</Object>", re.S
)
_ENCODED_FIELDS = (b"Key", b"KeyMarker", b"NextKeyMarker", b"Prefix", b"Delimiter")
_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


# The errors the proxy answers with, as S3 words them (S3 API reference, Error responses).
S3_ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "internal": (500, "InternalError", "We encountered an internal error. Please try again."),
    "wrong-owner": (403, "AccessDenied", "Access Denied"),
    "wrong-region": (
        301,
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the "
        "specified endpoint. Please send all future requests to this endpoint.",
    ),
}


def error_body(kind: str) -> bytes:
    """The XML body of one of S3_ERRORS."""
    _, code, message = S3_ERRORS[kind]
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
        f"<Message>{message}</Message><RequestId>proxy</RequestId></Error>"
    ).encode()


@dataclass
class FaultPlan:
    """Which requests fail, and how: the same seed gives the same faults in the same order."""

    seed: int = 0
    rate: float = 0.0
    kinds: tuple[str, ...] = FAULT_KINDS
    key_error_rate: float = 0.3
    deletes_only: bool = False  # fault only DeleteObjects: runs that stop part-way through
    injected: Counter[str] = field(default_factory=Counter)
    _random: random.Random = field(init=False, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(f"faults-{self.seed}")

    def pick(self, is_delete_objects: bool) -> str | None:
        with self._lock:
            if self.deletes_only and not is_delete_objects:
                return None
            if self._random.random() >= self.rate:
                return None
            kinds = [k for k in self.kinds if k != "key-errors" or is_delete_objects]
            if not kinds:
                return None
            kind = self._random.choice(kinds)
            self.injected[kind] += 1
            return kind

    def fails_key(self) -> bool:
        with self._lock:
            return self._random.random() < self.key_error_rate


@dataclass
class ProxyLog:
    """What reached the proxy, and what of it the server carried out."""

    arrivals: int = 0  # every request the client sent, faulted or not
    # (bucket, key, VersionId) of every delete the server carried out (DeleteObjects or
    # DeleteObject with a versionId), including those whose answer a fault then lost.
    deletes_sent: list[tuple[str, str, str]] = field(default_factory=list)
    writes: list[tuple[str, str]] = field(default_factory=list)  # (method, bucket)
    # Bucket owners as S3 knows them: a request whose x-amz-expected-bucket-owner names
    # another account is answered 403 AccessDenied, not forwarded (S3 user guide,
    # "Verifying bucket ownership with bucket owner condition"). Buckets not named here
    # are owned by whoever the request expects (no check).
    owners: dict[str, str] = field(default_factory=dict)
    # (method, bucket, the x-amz-expected-bucket-owner it carried or None) of every request
    expected_owner: list[tuple[str, str, str | None]] = field(default_factory=list)
    # Bucket Regions as S3 knows them: a request on one of these buckets signed for another
    # Region is answered 301 PermanentRedirect with x-amz-bucket-region, not forwarded
    # (S3 API reference, HeadBucket and "Error responses": PermanentRedirect). Buckets not
    # named here answer in any Region.
    regions: dict[str, str] = field(default_factory=dict)
    # (method, bucket, the Region its SigV4 credential scope names) of every request
    signed: list[tuple[str, str, str | None]] = field(default_factory=list)
    # (method, bucket, signed Region) of every request answered 301 for its Region
    redirected: list[tuple[str, str, str | None]] = field(default_factory=list)
    # Listing fields answered raw although the request asked for `EncodingType=url`, as
    # LocalStack 2026.3 answers KeyMarker and NextKeyMarker: a key XML 1.0 can't carry in
    # one of them makes the answer unparsable, which botocore takes for a 500 and retries.
    unencoded: tuple[bytes, ...] = ()
    # Called as (stage, arrival number, is a delete) when a request arrives ("arrived")
    # and after the server carried it out ("carried-out"): where a test kills its client.
    tripwire: Callable[[str, int, bool], None] | None = None
    # Requests that reached the proxy by `request_kind` ("list" / "other"), faulted or not.
    kinds: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def arrived(self, kind: str = "other") -> int:
        with self._lock:
            self.arrivals += 1
            self.kinds[kind] += 1
            return self.arrivals

    def trip(self, stage: str, arrival: int, is_delete: bool) -> None:
        if self.tripwire is not None:
            self.tripwire(stage, arrival, is_delete)

    def carried_out(self, method: str, bucket: str, deleted: list[tuple[str, str]]) -> None:
        with self._lock:
            self.deletes_sent.extend((bucket, key, version) for key, version in deleted)
            if method in ("PUT", "POST", "DELETE"):
                self.writes.append((method, bucket))

    def writes_to(self, bucket: str) -> int:
        return sum(1 for _, written in self.writes if written == bucket)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _ProxyServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        self._relay()

    do_PUT = do_POST = do_DELETE = do_HEAD = do_GET

    def _relay(self) -> None:
        kind = request_kind(self.command, self.path)
        arrival = self.server.log.arrived(kind)
        if self.server.latency is not None:
            latency = self.server.latency
            time.sleep(latency.list_seconds if kind == "list" else latency.other_seconds)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = parse_qs(urlsplit(self.path).query, keep_blank_values=True)
        is_delete_objects = self.command == "POST" and "delete" in query
        is_delete = is_delete_objects or (self.command == "DELETE" and "versionId" in query)
        self.server.log.trip("arrived", arrival, is_delete)
        bucket = urlsplit(self.path).path.lstrip("/").split("/", 1)[0]
        expected = self.headers.get("x-amz-expected-bucket-owner")
        if bucket:
            self.server.log.expected_owner.append((self.command, bucket, expected))
        owner = self.server.log.owners.get(bucket)
        if expected is not None and owner is not None and expected != owner:
            self._error("wrong-owner")
            return
        signed = signed_region(self.headers.get("Authorization"))
        home = self.server.log.regions.get(bucket)
        if bucket:
            self.server.log.signed.append((self.command, bucket, signed))
        if home is not None and signed is not None and signed != home:
            self.server.log.redirected.append((self.command, bucket, signed))
            self._error("wrong-region", {"x-amz-bucket-region": home})
            return
        fault = self.server.plan.pick(is_delete_objects)
        if fault in ("slowdown", "internal"):
            self._error(fault)
            return
        if fault == "reset-before":
            self._reset()
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP}
        failed: list[bytes] = []
        if fault == "key-errors":
            body, failed = self._drop_some_objects(body, headers)
        status, reason, answer_headers, answer = self._forward(body, headers, failed)
        if status < 300:
            bucket = urlsplit(self.path).path.lstrip("/").split("/", 1)[0]
            self.server.log.carried_out(self.command, bucket, _deleted(self, query, body))
            self.server.log.trip("carried-out", arrival, is_delete)
        if fault == "reset-after":
            self._reset()
            return
        if failed:
            answer = _with_errors(answer, failed)
        if "encoding-type" in query and b"<EncodingType>" not in answer:
            answer = _url_encode_listing(answer, self.server.log.unencoded)
        self.send_response(status, reason)
        for name, value in answer_headers:
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        upstream_length = dict((k.lower(), v) for k, v in answer_headers).get("content-length")
        # A HEAD answer has no body but states the object's length.
        answer_length = (upstream_length or "0") if self.command == "HEAD" else str(len(answer))
        self.send_header("Content-Length", answer_length)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    def _forward(
        self, body: bytes, headers: dict[str, str], failed: list[bytes]
    ) -> tuple[int, str, list[tuple[str, str]], bytes]:
        if failed and not _OBJECT.search(body):
            # Every entry of the request failed: nothing to send.
            return 200, "OK", [("Content-Type", "application/xml")], _empty_delete_result()
        upstream = http.client.HTTPConnection(self.server.upstream_host, timeout=60)
        try:
            upstream.request(self.command, self.path, body=body or None, headers=headers)
            response = upstream.getresponse()
            return response.status, response.reason, response.getheaders(), response.read()
        finally:
            upstream.close()

    def _drop_some_objects(self, body: bytes, headers: dict[str, str]) -> tuple[bytes, list[bytes]]:
        failed: list[bytes] = []

        def keep_or_drop(match: re.Match[bytes]) -> bytes:
            if self.server.plan.fails_key():
                failed.append(match.group(0))
                return b""
            return match.group(0)

        new_body = _OBJECT.sub(keep_or_drop, body)
        for name in list(headers):
            lowered = name.lower()
            if lowered == "content-md5":
                headers[name] = base64.b64encode(hashlib.md5(new_body).digest()).decode()
            elif lowered == "x-amz-checksum-crc32":
                headers[name] = base64.b64encode(struct.pack(">I", zlib.crc32(new_body))).decode()
            elif lowered.startswith("x-amz-checksum-"):
                del headers[name]
        return new_body, failed

    def _error(self, kind: str, headers: dict[str, str] | None = None) -> None:
        status = S3_ERRORS[kind][0]
        body = error_body(kind)
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body) if self.command != "HEAD" else 0))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _reset(self) -> None:
        # SO_LINGER 0: close() sends a TCP RST, as a dropped connection does.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def finish(self) -> None:
        with suppress(OSError):
            super().finish()


_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/s3/aws4_request")


def signed_region(authorization: str | None) -> str | None:
    """The Region a SigV4 Authorization header's credential scope names."""
    match = _CREDENTIAL_SCOPE.search(authorization or "")
    return match.group(1) if match else None


def _deleted(handler: _Handler, query: dict[str, list[str]], body: bytes) -> list[tuple[str, str]]:
    if handler.command == "POST" and "delete" in query:
        return [
            (html.unescape(k.decode()), html.unescape((v or b"").decode()))
            for k, v in _OBJECT.findall(body)
        ]
    if handler.command == "DELETE" and "versionId" in query:
        key = urlsplit(handler.path).path.split("/", 2)[-1]
        return [(unquote(key), query["versionId"][0])]
    return []


def _with_errors(answer: bytes, failed: list[bytes]) -> bytes:
    errors = b""
    for obj in failed:
        match = _OBJECT.search(obj)
        assert match is not None
        key, version = match.group(1), match.group(2) or b""
        errors += (
            b"<Error><Key>" + key + b"</Key><VersionId>" + version + b"</VersionId>"
            b"<Code>InternalError</Code><Message>We encountered an internal error. "
            b"Please try again.</Message></Error>"
        )
    return answer.replace(b"</DeleteResult>", errors + b"</DeleteResult>")


def _empty_delete_result() -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>'
    )


def _url_encode_listing(answer: bytes, unencoded: tuple[bytes, ...] = ()) -> bytes:
    """What S3 answers to `EncodingType=url` (S3 API reference, ListObjectVersions:
    "Encoding type used by Amazon S3 to encode object key names in the XML response"):
    the key fields percent-encoded and an `EncodingType` element. moto ignores the
    parameter, so a key XML 1.0 can't carry would make its answer unparsable."""

    def encode(match: re.Match[bytes]) -> bytes:
        name, raw = match.group(1), match.group(2)
        text = html.unescape(raw.decode("utf-8", "surrogatepass"))
        return b"<" + name + b">" + quote(text, safe="/").encode() + b"</" + name + b">"

    names = b"|".join(name for name in _ENCODED_FIELDS if name not in unencoded)
    encoded = re.sub(rb"<(" + names + rb")>(.*?)</\1>", encode, answer, flags=re.S)
    return re.sub(
        rb"(<ListVersionsResult[^>]*>)", rb"\1<EncodingType>url</EncodingType>", encoded, count=1
    )


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self,
        port: int,
        upstream: str,
        plan: FaultPlan,
        log: ProxyLog,
        latency: Latency | None = None,
    ) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.upstream_host = urlsplit(upstream).netloc
        self.plan = plan
        self.log = log
        self.latency = latency

    def handle_error(self, request: object, client_address: object) -> None:
        # A client killed or reset mid-answer: what the tests cause on purpose.
        return


@contextmanager
def s3_proxy(
    upstream: str,
    plan: FaultPlan | None = None,
    log: ProxyLog | None = None,
    *,
    latency: Latency | None = None,
) -> Iterator[tuple[str, ProxyLog]]:
    """A proxy to `upstream`; yields its endpoint URL and the log of what reached it.
    `latency`: wait that long before handling each request (none by default)."""
    log = log or ProxyLog()
    server = _ProxyServer(free_port(), upstream, plan or FaultPlan(), log, latency)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
