"""IAM against the calls the code really makes, in datasync mode (docs/design.md §12; issue 18).

The deploy tier checks the deployed roles on LocalStack, but there only replication-mode
runs succeed. Here the local runtime runs a DataSync run whose purge is proven by lineage
(Plan reads the task's reports), every AWS call each handler makes is recorded, and each is
checked against the role the CDK app synthesizes for that step, with the template's Refs
resolved to the local deployment's names. Neither moto nor LocalStack enforces IAM: a
missing grant fails this test instead of a user's first run.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest

from syncpurge.workflow import recut
from syncpurge_handlers.erase import RECEIPT_KEY_ENV
from syncpurge_local.datasync_copy import ACCOUNT
from syncpurge_local.event_path import source_events
from syncpurge_local.runtime import REGION, STEPS, LocalRuntime, function_arn
from tests.iam import Need, call_needs, function_roles, template_statements, ungranted
from tests.infra.conftest import Synthesized
from tests.workflow.conftest import REPORTS, deploy
from tests.workflow.test_event_path import event_pair, run_path, synced_twice
from tests.workflow.test_scope_and_lineage import ALL, multipart_story

pytestmark = pytest.mark.workflow


def record_step_calls(
    monkeypatch: pytest.MonkeyPatch, steps: tuple[str, ...] = STEPS, *, main_thread: bool = False
) -> dict[str, list[Need]]:
    """What each step's calls need, recorded while its handler runs (on any thread it
    starts). One state runs at a time, so whichever handler is active made the call; the
    calls the state machine makes between states are not a step's, nor the test's own on
    the main thread while an execution runs on moto's (unless `main_thread`: the handler
    itself runs there)."""
    active: dict[str, int] = dict.fromkeys(steps, 0)
    needs: dict[str, list[Need]] = {step: [] for step in steps}
    make_api_call = botocore.client.BaseClient._make_api_call

    def recorded(client: Any, operation: str, params: dict[str, Any]) -> Any:
        running = [step for step, count in active.items() if count]
        on_main = threading.current_thread() is threading.main_thread()
        # The machine invoking another Map item's Lambda meanwhile is no step's call.
        machine = (client.meta.service_model.service_name, operation) == ("lambda", "Invoke")
        if running and not machine and (main_thread or not on_main):
            (step,) = running
            service = client.meta.service_model.service_name
            needs[step] += call_needs(service, operation, params)
        return make_api_call(client, operation, params)

    def tracked(step: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        def run(event: Any, context: Any) -> Any:
            active[step] += 1
            try:
                return handler(event, context)
            finally:
                active[step] -= 1

        return run

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recorded)
    for step in steps:
        module = importlib.import_module(f"syncpurge_handlers.{step}")
        monkeypatch.setattr(module, "handler", tracked(step, module.handler))
    return needs


def synthesized_roles(
    tmp_path: Path,
    source: str,
    target: str,
    topic_arn: str,
    created_task: str = "",
    *,
    receipt_key: str = "",
    **settings: str,
) -> dict[str, list[dict[str, Any]]]:
    """Each step's statements as the CDK app gives them for this deployment; a task the app
    creates is `created_task` (the local runtime creates tasks as the app does)."""
    context = {
        "sourceBucket": source,
        "targetBucket": target,
        **settings,
        "reportBucket": REPORTS,
        "account": ACCOUNT,
        "region": REGION,
    }
    template = Synthesized(context, tmp_path).json
    refs = {"AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT}
    for logical, resource in template["Resources"].items():
        if resource["Type"] == "AWS::SNS::Topic":
            refs[logical] = topic_arn
        if resource["Type"] == "AWS::DataSync::Task":
            refs[f"{logical}.TaskArn"] = created_task
        if resource["Type"] == "AWS::KMS::Key" and receipt_key:
            refs[f"{logical}.Arn"] = receipt_key
        if resource["Type"] == "AWS::StepFunctions::StateMachine":
            refs[logical] = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:syncpurge"
        if resource["Type"] == "AWS::Lambda::Function":
            step = resource["Properties"]["Handler"].split(".")[1]
            refs[f"{logical}.Arn"] = function_arn(step)
    return {
        step: template_statements(template, role, refs)
        for step, role in function_roles(template).items()
    }


@pytest.mark.parametrize("prefixes", [[], ["big/"]])
def test_each_step_s_synthesized_role_grants_every_call_of_a_datasync_run(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prefixes: list[str]
) -> None:
    # Given a DataSync deployment whose target keeps copies of versions the source erased
    # (with `prefixes`, its deleting roles bound to them: issue 28, defect 8)
    deployed = multipart_story(runtime, monkeypatch)
    needs = record_step_calls(monkeypatch)
    # And Diff items that hand the rest of their range back after their first key
    monkeypatch.setattr(recut, "OVERRUN", 0.001)

    # When a run syncs, re-cuts, proves the copies by the task's reports and purges them
    result = deployed.run({**ALL, "prefixes": prefixes} if prefixes else ALL)
    assert result.status == "SUCCEEDED", result.cause
    summary, _ = deployed.report(result)
    assert summary["byProof"] == {"lineage": 3}  # the pieces read their item's lineage
    assert summary["recut"]["items"] >= 1

    # Then every call of every step is granted by that step's synthesized role
    (topic,) = [
        t["TopicArn"] for t in boto3.client("sns", region_name=REGION).list_topics()["Topics"]
    ]
    roles = synthesized_roles(
        tmp_path / "cdk",
        deployed.pair.source,
        deployed.pair.target,
        topic,
        taskArn=deployed.task_arn,
        **({"prefixes": ",".join(prefixes)} if prefixes else {}),
    )
    # (Erase's: its follow-up of recent erasure receipts, which every run ends with)
    missing = {step: ungranted(roles[step], needs[step]) for step in STEPS}
    assert missing == {step: [] for step in STEPS}
    # And the run went where the grants matter: task reports read, versions deleted
    assert all(needs[step] for step in STEPS)
    assert any("Detailed-Reports" in n.resource for n in needs["plan"])
    assert any("/recuts/" in n.resource for n in needs["diff"])
    assert any("/recuts/" in n.resource and n.action == "s3:GetObject" for n in needs["plan"])
    assert any(n.action == "s3:DeleteObjectVersion" for n in needs["purge"])


@pytest.mark.parametrize(("key", "prefixes"), [("a.txt", []), ("logs/a.txt", ["logs/"])])
def test_the_event_path_s_synthesized_role_grants_every_call_of_a_delivery(
    runtime: LocalRuntime,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    key: str,
    prefixes: list[str],
) -> None:
    # Given a version erased at the source, its event on the queue, and the task a
    # deployment with events=on creates (reports in its report Subdirectory)
    pair, queue = event_pair()
    task = runtime.create_task(pair.source, pair.target, report_bucket=REPORTS)
    first, orphan = synced_twice(pair, key)
    with source_events(pair.source, queue):
        pair.delete_version(key, first)
    needs = record_step_calls(monkeypatch, ("events",), main_thread=True)

    # When the consumer takes the delivery (the local runtime calls it on this thread),
    # with `prefixes` the deployment's (its deletes bound to them: issue 28, defect 8)
    run_path(pair, queue, holdMinutes=0, taskArn=task, prefixes=prefixes)

    # Then its role in a deployment with events=on grants every call it made
    assert orphan not in {v for _, v, _ in pair.entries()}
    roles = synthesized_roles(
        tmp_path / "cdk",
        pair.source,
        pair.target,
        "",
        created_task=task,
        events="on",
        **({"prefixes": ",".join(prefixes)} if prefixes else {}),
    )
    assert ungranted(roles["events"], needs["events"]) == []
    assert any(n.action == "s3:DeleteObjectVersion" for n in needs["events"])
    assert any(n.resource.endswith("/summary.json") for n in needs["events"])


@pytest.mark.parametrize("prefixes", [[], ["big/"]])
def test_the_erase_step_s_synthesized_role_grants_every_call_of_an_erasure(
    runtime: LocalRuntime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, prefixes: list[str]
) -> None:
    # Given a deployment whose Erase signs with the stack's key, and a keys file of two
    # keys the target holds (with `prefixes`, its deleting roles bound to them)
    kms = boto3.client("kms", region_name=REGION)
    key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"]["Arn"]
    monkeypatch.setenv(RECEIPT_KEY_ENV, key)
    deployed = deploy(runtime)
    pair = deployed.pair
    pair.put_live()
    named = [f"{prefixes[0] if prefixes else ''}subject/{n}.txt" for n in (1, 2)]
    for name in named:
        pair.put(name, "x", bucket=pair.target)
        pair.put(name, "y", bucket=pair.target)
    keys_file = "erasure-requests/ticket.txt"
    pair.client.put_object(Bucket=REPORTS, Key=keys_file, Body="\n".join(named).encode())
    needs = record_step_calls(monkeypatch, ("erase",))

    # When the state machine runs the erasure, and a later run finds a key back
    request: dict[str, Any] = {"erase": {"keysFile": f"s3://{REPORTS}/{keys_file}"}}
    result = deployed.run(request)
    assert result.status == "SUCCEEDED", result.cause
    assert pair.all_keys(pair.target) == {"live"}
    pair.put(named[0], "restored", bucket=pair.target)
    later = deployed.run({"skipSync": True, "dryRun": True, "maxPurgeFraction": 1.0})
    assert later.status == "SUCCEEDED", later.cause

    # Then its role grants every call Erase made: the keys file, listings, deletes, the
    # receipt, the signature
    (topic,) = [
        t["TopicArn"] for t in boto3.client("sns", region_name=REGION).list_topics()["Topics"]
    ]
    roles = synthesized_roles(
        tmp_path / "cdk",
        pair.source,
        pair.target,
        topic,
        receipt_key=key,
        taskArn=deployed.task_arn,
        **({"prefixes": ",".join(prefixes)} if prefixes else {}),
    )
    assert ungranted(roles["erase"], needs["erase"]) == []
    actions = {n.action for n in needs["erase"]}
    assert {"s3:DeleteObjectVersion", "kms:Sign", "s3:GetObject", "s3:PutObject"} <= actions
    assert "sns:Publish" in actions  # the follow-up's notice of the key that came back
    assert any(
        n.resource.endswith("/receipt.json") and n.action == "s3:GetObject" for n in needs["erase"]
    )
