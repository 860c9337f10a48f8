"""receipt.html in headless Chromium: printed to PDF, its visible text read back with
pdftotext (Debian's chromium and poppler-utils, which CI installs: .ci/run)."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from syncpurge.erasure.html import render
from syncpurge.erasure.receipt import (
    KeyInBucket,
    KeyReceipt,
    LeftEntry,
    Listing,
    PurgedEntry,
    Receipt,
    Totals,
    Verdict,
    seal,
)
from tests.erasures import a_receipt as erasure_receipt

pytestmark = pytest.mark.integration

AT = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
UNTIL = datetime(2027, 1, 7, 0, 0, tzinfo=UTC)
# Chromium as the machine's probe starts it: no network of its own, a fresh profile.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
]


def tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: apt-get install chromium poppler-utils (.ci/run)")
    return found


def part(bucket: str, verdict: Verdict, left: list[LeftEntry] = (), purged: int = 0) -> KeyInBucket:  # type: ignore[assignment]
    return KeyInBucket(
        bucket=bucket,
        role="source" if bucket == "src" else "target",
        bucket_key=f"k/{bucket}",
        verdict=verdict,
        held_before=len(left) + purged,
        purged=[
            PurgedEntry(
                version_id=f"gone-{n}",
                kind="version",
                last_modified=AT,
                proof="vanished",
                deleted_at=AT,
            )
            for n in range(purged)
        ],
        left=list(left),
        listed_after=Listing(at=AT, request_id="REQ123"),
    )


def a_receipt() -> Receipt:
    retained = LeftEntry(
        version_id="locked-1",
        kind="version",
        last_modified=AT,
        outcome="retained",
        lock_mode="GOVERNANCE",
        retain_until=UNTIL,
    )
    failed = LeftEntry(
        version_id="stuck-1",
        kind="version",
        last_modified=AT,
        outcome="failed",
        reason="AccessDenied",
    )
    rows = {
        "erased.txt": [part("src", Verdict.GONE), part("copy", Verdict.GONE, purged=2)],
        "held.txt": [part("src", Verdict.GONE), part("copy", Verdict.RETAINED, [retained])],
        "stuck.txt": [part("src", Verdict.GONE), part("copy", Verdict.FAILED, [failed])],
    }
    return erasure_receipt(
        [KeyReceipt(key=k, buckets=b) for k, b in rows.items()],
        totals=Totals(keys=3, purged=2, retained=1, failed=1, not_found=0),
    )


def visible_text(html: Path, tmp_path: Path) -> str:
    pdf = tmp_path / "receipt.pdf"
    subprocess.run(
        [
            tool("chromium"),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'profile'}",
            f"--print-to-pdf={pdf}",
            html.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    done = subprocess.run(
        [tool("pdftotext"), "-layout", str(pdf), "-"], check=True, capture_output=True, timeout=60
    )
    return " ".join(done.stdout.decode("utf-8").split())


def test_the_printed_receipt_shows_each_outcome_at_a_glance(tmp_path: Path) -> None:
    html = tmp_path / "receipt.html"
    html.write_text(render(seal(a_receipt())), encoding="utf-8")

    text = visible_text(html, tmp_path)

    assert "Erasure receipt" in text
    assert "Erase 3 named keys from every copy of src" in text
    assert "erased.txt gone gone" in text
    assert "held.txt gone retained until 2027-01-07" in text
    assert "stuck.txt gone failed: 1 entry left" in text
    assert "proof: vanished" in text
    assert "request REQ123" in text
    assert "GOVERNANCE" in text
    assert "not signed" in text
