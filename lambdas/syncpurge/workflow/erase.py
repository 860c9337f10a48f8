"""Erase: the state machine's door to an erasure (docs/erasure.md). The deployment's pair
and the task's locations map the named keys; the deployment's scope (its prefixes, the
task's Includes/Excludes, syncpurge's own folders) bounds them; the receipt is written to
the run's report folder, signed with the stack's KMS key."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from syncpurge import __version__
from syncpurge.core.policy import ERASURE_REQUESTS_PREFIX
from syncpurge.erasure.erase import erase
from syncpurge.erasure.keys import Copy, keys_file_lines, named_keys
from syncpurge.erasure.publish import RECEIPT_FILE, Signer, publish
from syncpurge.erasure.receipt import SealedReceipt, read_sealed
from syncpurge.erasure.run import ErasureGuardTripped, ErasureRequest, ErasureRun
from syncpurge.errors import InvalidInput
from syncpurge.models import EraseSpec, RunStatus
from syncpurge.phases.apply import in_run_scope
from syncpurge.phases.report import STARTED_FILE, StoreDestination
from syncpurge.workflow.context import RunContext, RunEvent, Stores, place_buckets
from syncpurge.workflow.notify import notify_erasure


def erase_step(
    event: RunEvent,
    stores: Stores,
    *,
    signer: Signer | None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, Any]:
    """The erasure a request's `erase` names, on the deployment's pair; its outcome."""
    run = event.run
    spec = run.request.erase
    if spec is None:
        raise InvalidInput("erase: the request names no erasure")
    place_buckets(stores, run)
    report = run.report
    done = earlier_attempt(stores, run)
    if done is not None:
        return done
    request = erasure_of(run, spec, stores)
    if signer is not None:
        signer(bytes(32))  # a key that can't sign fails the run before anything is deleted

    def folder(sub: str) -> StoreDestination:
        return StoreDestination(stores.files, report.bucket, report.prefix + sub)

    erasure = ErasureRun(
        source=stores.source,
        targets=stores.target,
        folder=folder,
        report_bucket=report.bucket,
        report_prefix=report.prefix,
        erasure_id=run.run_id,
        clock=clock,
        admits=admitted(run),
    )
    try:
        result = erase(request, erasure)
    except ErasureGuardTripped as tripped:
        tripped_outcome = {"status": RunStatus.GUARD_TRIPPED.value, "error": str(tripped)}
        notify_erasure(stores, run.config, tripped_outcome)
        return tripped_outcome
    sealed = publish(
        request,
        result,
        folder=folder(""),
        erasure_id=run.run_id,
        finished_at=clock(),
        tool=f"syncpurge {__version__}",
        caller=run.config.execution_arn,
        lock_of=stores.target.version_lock,
        signer=signer,
    )
    where = stores.files.shown(report.bucket, report.key(RECEIPT_FILE))
    finished = {**outcome(sealed, where), "requests": stores.requests().model_dump()}
    notify_erasure(stores, run.config, finished)
    return finished


def outcome(sealed: SealedReceipt, where: str) -> dict[str, Any]:
    """The Erase step's result: the status the receipt gives, where it is, its totals."""
    totals = sealed.receipt.totals
    failed = totals.failed > 0
    return {
        "status": (RunStatus.FAILED if failed else RunStatus.SUCCEEDED).value,
        "error": f"{totals.failed} entries of the erased keys are left; see the receipt"
        if failed
        else None,
        "receipt": where,
        "totals": totals.model_dump(mode="json", by_alias=True),
        "digest": sealed.digest.value,
        "signed": sealed.signature is not None,
    }


def earlier_attempt(stores: Stores, run: RunContext) -> dict[str, Any] | None:
    """A retried Erase (Step Functions retries a Lambda that may have run) never writes a
    second receipt over the first: a finished attempt's outcome is returned as it was; one
    that stopped mid-way refuses, naming its journal."""
    report = run.report
    body = stores.files.get_bytes_or_none(report.bucket, report.key(RECEIPT_FILE))
    shown = stores.files.shown(report.bucket, report.key(RECEIPT_FILE))
    if body is not None:
        return outcome(read_sealed(body, shown), shown)
    if stores.files.get_bytes_or_none(report.bucket, report.key(STARTED_FILE)) is not None:
        raise InvalidInput(
            f"erase: an earlier attempt of this erasure stopped mid-way; its journal under "
            f"{stores.files.shown(report.bucket, report.prefix)} says what went. Start a new "
            "execution to finish it: this attempt deleted nothing"
        )
    return None


def erasure_of(run: RunContext, spec: EraseSpec, stores: Stores) -> ErasureRequest:
    """The request's erasure on the deployment's pair, its keys checked against the scope."""
    scope = run.scope_model
    source = Copy(run.config.source_bucket, scope.source_root)
    target = Copy(run.config.target_bucket, scope.target_root)
    keys: tuple[str, ...] = ()
    if spec.keys is not None:
        keys = named_keys(spec.keys, "erase.keys[{line}]")
    elif spec.keys_file is not None:
        keys = _keys_in_file(run, spec.keys_file, stores)
    else:
        assert spec.prefix is not None
        scope.check_prefix(spec.prefix, "erase.prefix")
    return ErasureRequest(
        source=source,
        targets=(target,),
        keys=keys,
        prefix=spec.prefix,
        keys_file=spec.keys_file,
        max_purge=run.request.max_purge,
        force=run.request.force,
        bypass_governance=run.request.bypass_governance,
        allow_unrelated_source=run.request.allow_unrelated_source,
    )


def _keys_in_file(run: RunContext, uri: str, stores: Stores) -> tuple[str, ...]:
    """A keys file under erasure-requests/ in the deployment's report bucket (the one
    folder its Erase function may read)."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    home = f"s3://{run.config.report_bucket}/{ERASURE_REQUESTS_PREFIX}"
    if bucket != run.config.report_bucket or not key.startswith(ERASURE_REQUESTS_PREFIX):
        raise InvalidInput(
            f"erase.keysFile: {uri} is not under {home}, the one folder a deployment reads "
            "keys files from: put the file there"
        )
    body = stores.files.get_bytes_or_none(bucket, key)
    if body is None:
        raise InvalidInput(f"erase.keysFile: {uri} does not exist")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"erase.keysFile: {uri} is not UTF-8 text") from None
    keys = named_keys(keys_file_lines(text, uri), f"{uri} key {{line}}")
    if not keys:
        raise InvalidInput(f"erase.keysFile: {uri} names no key")
    return keys


def admitted(run: RunContext) -> Callable[[str], bool]:
    """Whether a named key lies in the deployment's scope: under its prefixes, passing the
    task's filters, outside syncpurge's and DataSync's own folders."""
    scope = run.scope_model
    in_scope = in_run_scope(scope, run.request.prefixes or run.config.prefixes)
    return lambda key: in_scope(scope.target_key(key))
