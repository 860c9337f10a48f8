"""receipt.html: the receipt for a person who won't read JSON. Self-contained (no script,
no file or font it fetches) and printable: what was asked, each key's outcome in each
bucket at a glance, then the evidence. Pure: a string from a sealed receipt."""

from __future__ import annotations

from html import escape

from syncpurge.erasure.receipt import KeyInBucket, SealedReceipt, Verdict

STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em; color: #111; }
h1 { font-size: 1.5em; margin-bottom: .2em; }
table { border-collapse: collapse; margin: .6em 0 1.2em; }
th, td { border: 1px solid #999; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eee; }
.gone { color: #075e14; font-weight: 600; }
.retained { color: #7a4b00; font-weight: 600; }
.failed, .held-by-source { color: #9b0000; font-weight: 600; }
code { font: 12px ui-monospace, monospace; word-break: break-all; }
.evidence { page-break-inside: avoid; }
@media print { body { margin: 0; } a { color: inherit; } }
"""


def verdict_text(part: KeyInBucket) -> str:
    """The outcome of one key in one bucket, in words."""
    if part.verdict is Verdict.GONE:
        return "gone"
    if part.verdict is Verdict.RETAINED:
        dates = sorted(e.retain_until.date().isoformat() for e in part.left if e.retain_until)
        holds = any(e.legal_hold for e in part.left)
        until = f"retained until {dates[-1]}" if dates else "retained"
        return until + (" (legal hold)" if holds else "")
    if part.verdict is Verdict.HELD_BY_SOURCE:
        return "held by the source again"
    left = len(part.left)
    return f"failed: {left} {'entry' if left == 1 else 'entries'} left"


def _cell(part: KeyInBucket) -> str:
    return f'<td class="{part.verdict.value}">{escape(verdict_text(part))}</td>'


def render(sealed: SealedReceipt) -> str:
    receipt = sealed.receipt
    inputs = receipt.inputs
    buckets = [inputs.source, *inputs.targets]
    totals = receipt.totals
    signature = (
        f"signed with KMS key <code>{escape(sealed.signature.key_id)}</code> "
        f"({escape(sealed.signature.algorithm)})"
        if sealed.signature
        else "not signed"
    )
    head = "".join(
        f"<th>{escape(role)}<br><code>s3://{escape(b.bucket)}/{escape(b.root)}</code></th>"
        for role, b in zip(["source"] + ["copy"] * len(inputs.targets), buckets, strict=True)
    )
    rows = "".join(
        f"<tr><td><code>{escape(key.key)}</code></td>{''.join(map(_cell, key.buckets))}</tr>"
        for key in receipt.keys
    )
    asked = (
        f"every key under <code>{escape(inputs.prefix)}</code>"
        if inputs.prefix is not None
        else f"{len(inputs.keys):,} named keys"
        + (f" from <code>{escape(inputs.keys_file)}</code>" if inputs.keys_file else "")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Erasure receipt {escape(receipt.erasure_id)}</title>
<style>{STYLE}</style></head>
<body>
<h1>Erasure receipt</h1>
<p>Erasure <code>{escape(receipt.erasure_id)}</code>, {escape(receipt.started_at.isoformat())}
to {escape(receipt.finished_at.isoformat())}, by <code>{escape(receipt.caller)}</code>
with {escape(receipt.tool)}.</p>
<h2>What was asked</h2>
<p>Erase {asked} from every copy of <code>{escape(inputs.source.bucket)}</code>.</p>
<h2>Outcome</h2>
<p>{totals.keys:,} keys: {totals.purged:,} entries purged, {totals.retained:,} retained by
Object Lock, {totals.failed:,} left that nothing retains; {totals.not_found:,} keys were
held by no bucket.</p>
<table><tr><th>key</th>{head}</tr>{rows}</table>
<h2>Evidence</h2>
{"".join(_evidence(key.key, part) for key in receipt.keys for part in key.buckets)}
<h2>Seal</h2>
<p>SHA-256 digest of the receipt's canonical JSON: <code>{escape(sealed.digest.value)}</code>;
{signature}. Check it with <code>syncpurge receipt verify receipt.json</code>.</p>
</body></html>
"""


def _evidence(key: str, part: KeyInBucket) -> str:
    listed = part.listed_after
    lines = [
        f"<tr><td>purged</td><td><code>{escape(e.version_id)}</code></td><td>{e.kind}</td>"
        f"<td>{escape(e.deleted_at.isoformat())}</td><td>proof: {escape(e.proof or '-')}</td></tr>"
        for e in part.purged
    ] + [
        f"<tr><td>{escape(e.outcome)}</td><td><code>{escape(e.version_id)}</code></td>"
        f"<td>{e.kind}</td><td>{escape(e.retain_until.isoformat() if e.retain_until else '-')}"
        f"</td><td>{escape(' '.join(filter(None, [e.lock_mode, e.reason])))}</td></tr>"
        for e in part.left
    ]
    table = f"<table>{''.join(lines)}</table>" if lines else ""
    return (
        f'<div class="evidence"><p><code>{escape(key)}</code> in '
        f"<code>s3://{escape(part.bucket)}/{escape(part.bucket_key)}</code> ({part.role}): "
        f'<span class="{part.verdict.value}">{escape(verdict_text(part))}</span>; '
        f"held {part.held_before} entries before; listed after at "
        f"{escape(listed.at.isoformat())}, request <code>{escape(listed.request_id or '-')}"
        f"</code>.</p>{table}</div>\n"
    )
