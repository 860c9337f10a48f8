"""The admin's first hour (issue 30): `s3://bucket` and `s3://bucket/prefix/` wherever a
bucket or a prefix is asked for, as the AWS CLI takes them. A bucket flag's path prefix
scopes the run; two different ones, a --prefix in a third bucket, or a URI that names no
bucket are refused in one line (exit 2) before anything is called or deleted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK
from tests.helpers import BucketPair, exit_code

pytestmark = pytest.mark.integration


def seeded(pair: BucketPair) -> BucketPair:
    """Leftovers in the target under logs/ and under data/; both keep a live key."""
    for key in ("logs/live", "data/live"):
        pair.put(key, "x")
        pair.put(key, "x", bucket=pair.target)
    pair.put("logs/gone", "x", bucket=pair.target)
    pair.put("data/gone", "x", bucket=pair.target)
    return pair


def run(
    capsys: pytest.CaptureFixture[str], report: Path, *flags: str
) -> tuple[int, dict[str, object], str]:
    """`syncpurge reconcile --dry-run --json` with `flags`: exit code, summary, stderr."""
    code = exit_code(
        [
            "reconcile",
            *flags,
            "--region",
            "us-east-1",
            "--report",
            str(report),
            "--dry-run",
            "--json",
            "--max-purge-fraction",
            "1",
        ]
    )
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else {}), out.err


def refused_in_one_line(err: str, *named: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    for name in named:
        assert name in lines[0], err


@pytest.mark.parametrize(
    ("source", "target"),
    [("s3://{source}", "s3://{target}"), ("s3://{source}/", "{target}")],
)
def test_bucket_flags_take_a_bare_s3_path(
    pair: BucketPair,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    source: str,
    target: str,
) -> None:
    seeded(pair)
    names = {"source": pair.source, "target": pair.target}

    code, summary, err = run(
        capsys,
        tmp_path,
        "--source-bucket",
        source.format(**names),
        "--target-bucket",
        target.format(**names),
    )

    assert code == EXIT_OK, err
    assert (summary["sourceBucket"], summary["targetBucket"]) == (pair.source, pair.target)
    assert summary["prefixes"] == [""]  # the whole bucket
    assert summary["totals"]["planned"] == 2  # type: ignore[index]


@pytest.mark.parametrize("side", ["source", "target", "both"])
def test_a_bucket_paths_prefix_scopes_the_run(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], side: str
) -> None:
    seeded(pair)
    source = f"s3://{pair.source}/logs/" if side in ("source", "both") else pair.source
    target = f"s3://{pair.target}/logs/" if side in ("target", "both") else pair.target

    code, summary, err = run(capsys, tmp_path, "--source-bucket", source, "--target-bucket", target)

    assert code == EXIT_OK, err
    assert summary["targetBucket"] == pair.target
    assert summary["prefixes"] == ["logs/"]
    assert summary["totals"]["planned"] == 1  # type: ignore[index]


def test_prefix_takes_an_s3_path_in_the_source_or_the_target(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(pair)
    buckets = ["--source-bucket", pair.source, "--target-bucket", pair.target]

    code, summary, err = run(
        capsys, tmp_path, *buckets, "--prefix", f"s3://{pair.target}/data/", "--prefix", "logs/"
    )

    assert code == EXIT_OK, err
    assert sorted(summary["prefixes"]) == ["data/", "logs/"]  # type: ignore[arg-type]
    assert summary["totals"]["planned"] == 2  # type: ignore[index]


def test_a_prefix_under_the_bucket_paths_prefix_narrows_it(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    seeded(pair)
    pair.put("logs/old/live", "x")
    pair.put("logs/old/live", "x", bucket=pair.target)
    pair.put("logs/old/gone", "x", bucket=pair.target)

    code, summary, err = run(
        capsys,
        tmp_path,
        "--source-bucket",
        f"s3://{pair.source}/logs/",
        "--target-bucket",
        pair.target,
        "--prefix",
        "logs/old/",
    )

    assert code == EXIT_OK, err
    assert summary["prefixes"] == ["logs/old/"]
    assert summary["totals"]["planned"] == 1  # type: ignore[index]


REFUSED = {
    "different prefixes": (
        ["--source-bucket", "s3://{source}/logs/", "--target-bucket", "s3://{target}/data/"],
        ["'logs/'", "'data/'", "differ"],
    ),
    "a prefix outside the path's": (
        [
            "--source-bucket",
            "s3://{source}/logs/",
            "--target-bucket",
            "{target}",
            "--prefix",
            "data/",
        ],
        ["--prefix", "'data/'", "outside"],
    ),
    "--prefix in a third bucket": (
        [
            "--source-bucket",
            "{source}",
            "--target-bucket",
            "{target}",
            "--prefix",
            "s3://some-other-bucket/logs/",
        ],
        ["--prefix", "some-other-bucket", "neither the source"],
    ),
    "--prefix a bucket alone": (
        [
            "--source-bucket",
            "{source}",
            "--target-bucket",
            "{target}",
            "--prefix",
            "s3://{target}/",
        ],
        ["--prefix", "no prefix"],
    ),
    "s3:// alone": (
        ["--source-bucket", "s3://", "--target-bucket", "{target}"],
        ["--source-bucket", "'s3://'", "names no bucket"],
    ),
    "an http URL": (
        ["--source-bucket", "{source}", "--target-bucket", "http://x"],
        ["--target-bucket", "'http://x'", "not an s3:// path"],
    ),
    "s3: without slashes": (
        ["--source-bucket", "s3:{source}", "--target-bucket", "{target}"],
        ["--source-bucket", "not an s3:// path"],
    ),
    "a bucket name S3 can't have": (
        ["--source-bucket", "s3://Bad_Bucket/logs/", "--target-bucket", "{target}"],
        ["--source-bucket", "'Bad_Bucket'", "not an S3 bucket name"],
    ),
    "--prefix s3:// alone": (
        ["--source-bucket", "{source}", "--target-bucket", "{target}", "--prefix", "s3://"],
        ["--prefix", "names no bucket"],
    ),
    "the same bucket twice by path": (
        ["--source-bucket", "s3://{target}/logs/", "--target-bucket", "s3://{target}/logs/"],
        ["--target-bucket", "also --source-bucket"],
    ),
    "--report as an http URL": (
        [
            "--source-bucket",
            "{source}",
            "--target-bucket",
            "{target}",
            "--report",
            "http://reports",
        ],
        ["--report", "not an s3:// path"],
    ),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_bad_s3_paths_are_refused_in_one_line_and_nothing_is_deleted(
    pair: BucketPair, tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    seeded(pair)
    before = pair.entries(pair.target)
    flags, named = REFUSED[case]
    argv = [f.format(source=pair.source, target=pair.target) for f in flags]
    report = tmp_path / "reports"

    code = exit_code(["reconcile", *argv, "--region", "us-east-1", "--force"])

    refused_in_one_line(capsys.readouterr().err, *named)
    assert code == EXIT_INVALID
    assert pair.entries(pair.target) == before
    assert not report.exists()


@pytest.mark.parametrize(
    ("value", "named"),
    [("s3://", "names no bucket"), ("ftp://reports/x", "not an s3:// path")],
)
def test_reports_from_refuses_a_bad_uri_in_one_line(
    aws: None, capsys: pytest.CaptureFixture[str], value: str, named: str
) -> None:
    code = exit_code(["reports", "list", "--from", value, "--region", "us-east-1"])

    refused_in_one_line(capsys.readouterr().err, "--from", named)
    assert code == EXIT_INVALID
