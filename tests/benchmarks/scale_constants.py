"""The scale model's constants, each with its source (tests/benchmarks/scale_model.py)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Constant:
    value: float
    unit: str
    source: str


S3_PERF = "https://docs.aws.amazon.com/AmazonS3/latest/userguide/optimizing-performance.html"
CONSTANTS: dict[str, Constant] = {
    "pageLatency": Constant(
        0.3,
        "s per 1,000-entry ListObjectVersions page",
        "assumed: S3 publishes no LIST latency; its performance whitepaper gives median "
        "latencies of tens of ms for small (<512 KB) requests (https://docs.aws.amazon.com/"
        "whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-"
        "for-latency-sensitive-applications.html); a page is ~300 KB of XML that S3 "
        "assembles from its index, so 300 ms is taken, and --page-latency varies it",
    ),
    "deleteLatency": Constant(
        0.5,
        "s per 1,000-key DeleteObjects",
        "assumed, as pageLatency: one request, 1,000 deletes S3 performs one by one "
        "(https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html)",
    ),
    "listRate": Constant(
        5_500,
        "GET-class requests/s per partitioned prefix",
        f"{S3_PERF}: 5,500 GET/HEAD requests per second per partitioned prefix",
    ),
    "deleteRate": Constant(
        3_500,
        "deletes/s per partitioned prefix",
        f"{S3_PERF}: 3,500 PUT/COPY/POST/DELETE per second per partitioned prefix; each key "
        "of a DeleteObjects counted as one delete (conservative)",
    ),
    "partitions": Constant(
        1,
        "partitioned prefixes at the start of a run",
        "conservative: S3 partitions a prefix under sustained load, which takes 30-60 "
        "minutes (AWS Knowledge Center, s3-object-key-naming-pattern), longer than a run",
    ),
    "lambdaTimeout": Constant(
        900,
        "s",
        "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: "
        "function timeout 900 seconds",
    ),
    "sliceBudget": Constant(
        840,
        "s of work per Diff slice",
        "syncpurge_handlers/runtime.py: a slice stops 60 s before the 900 s timeout",
    ),
    "lambdaStart": Constant(
        1.5,
        "s per slice (invoke, cold start, imports)",
        "assumed: Python cold starts of ~1 s with boto3 and Powertools loaded (measured "
        "init durations in CloudWatch REPORT lines vary 0.5-1.5 s); taken at the high end",
    ),
    "lambdaScaling": Constant(
        1_000,
        "new execution environments per 10 s per function",
        "https://docs.aws.amazon.com/lambda/latest/dg/scaling-behavior.html: each "
        "function can scale by 1,000 execution environments every 10 seconds",
    ),
    "accountConcurrency": Constant(
        1_000,
        "concurrent executions",
        "https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html: "
        "default concurrency quota 1,000",
    ),
    "mapConcurrency": Constant(
        10_000,
        "child executions",
        "https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html: "
        "up to 10,000 parallel child workflow executions",
    ),
    "stateTransition": Constant(
        0.000025,
        "$ per state transition",
        "https://aws.amazon.com/step-functions/pricing/: Standard, $0.025 per 1,000",
    ),
    "listPrice": Constant(
        0.000005,
        "$ per LIST (and PUT, POST)",
        "https://aws.amazon.com/s3/pricing/: S3 Standard, $0.005 per 1,000 PUT, COPY, "
        "POST, LIST requests (DeleteObjects is a POST: charged so, conservatively)",
    ),
    "getPrice": Constant(
        0.0000004,
        "$ per GET/HEAD",
        "https://aws.amazon.com/s3/pricing/: $0.0004 per 1,000 GET, SELECT and other",
    ),
    "lambdaGbSecond": Constant(
        0.0000133334,
        "$ per GB-s (arm64)",
        "https://aws.amazon.com/lambda/pricing/: Arm price per GB-second",
    ),
    "lambdaRequest": Constant(
        0.0000002,
        "$ per invocation",
        "https://aws.amazon.com/lambda/pricing/: $0.20 per 1M requests",
    ),
}


def c(name: str) -> float:
    return CONSTANTS[name].value
