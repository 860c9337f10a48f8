"""The stack as users get it: deployed to LocalStack by docs/deploy.md's commands, each Lambda
importing only its deployed asset and its layers, the state machine run on LocalStack's
Step Functions (issue 18). Replication mode: LocalStack has no DataSync."""

from __future__ import annotations

import io
import json
import re
import shlex
import time
import zipfile
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.deploy.cloud import ACCOUNT, EXAMPLE_BUCKETS, REGION, Cloud
from tests.deploy.conftest import DEPLOY_PAGE, DeployedStack, readme_command, stack_outputs
from tests.helpers import BucketPair
from tests.s3servers import REPO

from syncpurge_infra.config import DEFAULTS, LAYER_PYTHON, POWERTOOLS_LAYER_ACCOUNT

pytestmark = [pytest.mark.deploy, pytest.mark.xdist_group("deploy")]

SHARED_KEY = "shared/doc.txt"


def target_versions(pair: BucketPair, prefix: str) -> set[tuple[str, str, bool]]:
    return pair.entries(pair.target, prefix=prefix)


@pytest.fixture(scope="module")
def shared_history(stack: DeployedStack) -> dict[str, str]:
    """A key whose source lost a noncurrent version by a permanent delete, as S3
    Replication leaves the copy: replication keeps VersionIds, so the copy's leftover is
    proven by the key's shared VersionId. LocalStack mints its own ids on each side, except
    one: an object written while versioning is suspended is version `null` on both."""
    pair = stack.pair
    pair.share_null_version(SHARED_KEY)
    erased = pair.put(SHARED_KEY, "two")
    leftover = pair.put(SHARED_KEY, "two", bucket=pair.target)
    pair.delete_version(SHARED_KEY, erased)  # the permanent delete the copy never hears of
    for bucket in (pair.source, pair.target):
        pair.put(SHARED_KEY, "three", bucket=bucket)
    return {"leftover": leftover}


def test_a_console_start_with_empty_input_runs_the_seed_case_2_in_the_deployment_s_mode(
    stack: DeployedStack,
) -> None:
    # Given the seed's Case 2 as replication leaves it: a.txt written and soft-deleted on
    # both sides, then its version and marker permanently deleted at the source
    pair = stack.pair
    for bucket in (pair.source, pair.target):
        pair.put("a.txt", "hello", bucket=bucket)
        pair.put("a.txt.bak", "backup", bucket=bucket)
        pair.soft_delete("a.txt", bucket=bucket)
    pair.purge_source_key("a.txt")
    before = pair.entries()

    # When the console starts it with {}
    run = stack.start({})

    # Then it runs in the deployment's mode with the mode's 15 minutes of grace: a.txt's
    # leftovers, written seconds ago, are reported and kept for the next run
    assert run.status == "SUCCEEDED", run.cause
    assert run.output is not None
    summary, lines = stack.report(run.output["summary"]["runId"])
    assert summary["mode"] == "replication"
    assert summary["status"] == "SUCCEEDED"
    assert {
        (line["key"], line["isDeleteMarker"], line["outcome"], line["reason"])
        for line in lines
        if line["key"] == "a.txt"
    } == {
        ("a.txt", False, "skipped", "grace"),
        ("a.txt", True, "skipped", "grace"),
    }
    assert pair.entries() == before
    # And the notification reached the queue subscribed to the exported topic
    messages = stack.notifications()
    assert any(summary["runId"] in m["Message"] for m in messages), messages


def test_a_plan_over_the_guard_fails_the_execution_with_guard_tripped(
    stack: DeployedStack, shared_history: dict[str, str]
) -> None:
    before = target_versions(stack.pair, "shared/")

    run = stack.start({"prefixes": ["shared/"], "graceMinutes": 0})

    # 1 of the prefix's 3 target entries is over the default 5 %
    assert (run.status, run.error) == ("FAILED", "GuardTripped")
    assert "exceeds maxPurgeFraction 0.05 of 3 target entries" in (run.cause or "")
    assert target_versions(stack.pair, "shared/") == before


def test_a_dry_run_then_apply_plan_purges_exactly_the_planned_leftover(
    stack: DeployedStack, shared_history: dict[str, str]
) -> None:
    before = target_versions(stack.pair, "shared/")
    request = {"prefixes": ["shared/"], "graceMinutes": 0, "maxPurgeFraction": 1}

    dry = stack.start({**request, "dryRun": True})

    assert dry.status == "SUCCEEDED", dry.cause
    assert dry.output is not None
    assert dry.output["summary"]["status"] == "DRY_RUN"
    assert target_versions(stack.pair, "shared/") == before

    # Each entry is re-checked by the applying run, with its own grace (replication's 15
    # minutes unless it says otherwise)
    run_id = dry.output["summary"]["runId"]
    applied = stack.start({"applyPlan": run_id, "graceMinutes": 0, "maxPurgeFraction": 1})

    assert applied.status == "SUCCEEDED", applied.cause
    assert applied.output is not None
    summary, lines = stack.report(applied.output["summary"]["runId"])
    assert summary["appliedPlan"] == run_id
    purged = {(line["key"], line["versionId"]) for line in lines if line["outcome"] == "purged"}
    assert purged == {(SHARED_KEY, shared_history["leftover"])}
    assert {line["proof"] for line in lines if line["outcome"] == "purged"} == {"shared-version-id"}
    assert target_versions(stack.pair, "shared/") == {
        entry for entry in before if entry[1] != shared_history["leftover"]
    }


def test_the_schedule_s_own_input_started_by_hand_runs_the_scheduled_request(
    stack: DeployedStack,
) -> None:
    scheduler = stack.cloud.client("scheduler")
    schedules = [
        s for s in scheduler.list_schedules()["Schedules"] if s["Name"].startswith("syncpurge-")
    ]
    assert len(schedules) == 1
    schedule = scheduler.get_schedule(Name=schedules[0]["Name"], GroupName="default")
    assert schedule["ScheduleExpression"] == DEFAULTS["schedule"]
    assert schedule["Target"]["Arn"] == stack.state_machine_arn
    scheduled = json.loads(schedule["Target"]["Input"])
    assert scheduled == {"maxPurge": 100000, "maxPurgeFraction": 0.05, "mode": "replication"}

    run = stack.start(scheduled)

    assert run.status == "SUCCEEDED", run.cause
    assert run.output is not None
    guard = run.output["summary"]["guard"]
    assert (guard["maxPurge"], guard["maxPurgeFraction"]) == (100000, 0.05)


def test_the_readme_s_cli_commands_start_it_and_list_its_reports(stack: DeployedStack) -> None:
    started = stack.cloud.run(readme_command("syncpurge start"))

    assert "DRY_RUN" in started
    listed = stack.cloud.run(readme_command("syncpurge reports list"))
    assert "GUARD_TRIPPED" in listed
    assert listed.count("DRY_RUN") >= 2  # the dry run above, and this one


def test_start_erase_purges_the_named_keys_and_its_receipt_verifies_with_the_stack_s_key(
    stack: DeployedStack,
) -> None:
    # Given two keys gone from the source whose versions the copy still holds
    pair = stack.pair
    named = ["erasure/subject-1.txt", "erasure/subject 2+%.txt"]
    for key in named:
        pair.put(key, "v1", bucket=pair.target)
        pair.put(key, "v2", bucket=pair.target)
    pair.put("erasure/kept.txt", "x", bucket=pair.target)

    # When `syncpurge start --erase` runs the erasure on the deployment
    flags = " ".join(f"--erase {shlex.quote(key)}" for key in named)
    machine = stack.state_machine_arn
    erasure = json.loads(
        stack.cloud.run(
            f"./dev run syncpurge start --state-machine-arn {machine} {flags} --json",
            stdout_only=True,
        )
    )

    # Then every entry of the keys is gone, the others stay, and the receipt in the report
    # bucket is signed by the stack's receipt key
    assert erasure["totals"] == {"keys": 2, "purged": 4, "retained": 0, "failed": 0, "notFound": 0}
    assert {k for k, _, _ in pair.entries(pair.target, prefix="erasure/")} == {"erasure/kept.txt"}
    assert erasure["signed"] is True
    key = stack.outputs["ReceiptKeyArn"]
    verified = stack.cloud.run(
        f"./dev run syncpurge receipt verify {shlex.quote(erasure['receipt'])} --key {key}"
    )
    assert f"signature valid: KMS key {key}" in verified


def test_the_readme_s_bucket_policy_commands_print_statements_naming_the_deployed_roles(
    stack: DeployedStack,
) -> None:
    # "Across accounts and Regions": each command as written, against the deployed stack
    text = (REPO / DEPLOY_PAGE).read_text()
    commands = re.findall(r"^\./dev run syncpurge bucket-policy .*$", text, re.MULTILINE)
    assert len(commands) == 2
    iam = stack.cloud.client("iam")
    roles = {r["Arn"] for r in iam.list_roles()["Roles"]}
    for command, bucket in zip(commands, EXAMPLE_BUCKETS, strict=True):
        policy = json.loads(stack.cloud.run(command, stdout_only=True))

        statements = policy["Statement"]
        assert {s["Principal"]["AWS"] for s in statements} <= roles
        assert all(s["Resource"].startswith(f"arn:aws:s3:::{bucket}") for s in statements)


def test_a_function_lacking_a_module_of_its_asset_fails_to_start(
    stack: DeployedStack,
) -> None:
    # The executor puts only the function's code, its layers and the runtime's boto3 on
    # its path: a module missing from the asset is not found anywhere else.
    lambdas = REPO / "lambdas"
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as code:
        for path in sorted(lambdas.rglob("*.py")):
            if path.relative_to(lambdas).as_posix() != "syncpurge/models.py":
                code.write(path, path.relative_to(lambdas).as_posix())
    lambda_ = stack.cloud.client("lambda")
    layer = (
        f"arn:aws:lambda:{REGION}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{LAYER_PYTHON}-arm64:{DEFAULTS['powertoolsLayerVersion']}"
    )
    role = stack.cloud.client("iam").create_role(
        RoleName="asset-probe", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    lambda_.create_function(
        FunctionName="asset-probe",
        Runtime="python3.13",
        Handler="syncpurge_handlers.report.handler",
        Role=role,
        Code={"ZipFile": archive.getvalue()},
        Layers=[layer],
    )
    lambda_.get_waiter("function_active_v2").wait(FunctionName="asset-probe")

    answer = lambda_.invoke(FunctionName="asset-probe", Payload=b"{}")

    assert answer.get("FunctionError")
    assert "No module named 'syncpurge.models'" in answer["Payload"].read().decode()


def test_each_function_s_role_grants_every_call_its_deployed_code_made(
    stack: DeployedStack,
) -> None:
    # LocalStack doesn't enforce IAM: every call the functions made in the runs above was
    # recorded, and each is checked against its function's role as CloudFormation made it
    missing, called = stack.ungranted_calls()

    assert missing == {}
    assert called == set(stack.functions())  # all six steps ran and called AWS


def test_the_state_machine_s_role_grants_its_integrations(stack: DeployedStack) -> None:
    missing, item_readers = stack.ungranted_integrations()

    assert missing == []
    assert item_readers  # the Distributed Maps read their items in the runs above


def test_a_task_arn_deployment_refuses_in_prepare_and_its_report_says_why(
    cloud: Cloud, stack: DeployedStack
) -> None:
    context = (
        "-c sourceBucket=my-source -c targetBucket=my-target -c stackName=syncpurge-task "
        "-c stateMachineName=syncpurge-task "
        f"-c taskArn=arn:aws:datasync:{REGION}:{ACCOUNT}:task/task-0f01451b140b2af49"
    )
    cloud.run(f"./dev run cdk deploy {context} --require-approval never")
    try:
        task_stack = DeployedStack(
            cloud, "syncpurge-task", stack_outputs(cloud, "syncpurge-task"), stack.pair, ""
        )

        run = task_stack.start({})

        assert (run.status, run.error) == ("FAILED", "PreflightRefused")
        assert "DataSync task" in (run.cause or "")
        assert "can't be read" in (run.cause or "")
        reports = cloud.client("s3").list_objects_v2(
            Bucket=task_stack.outputs["ReportLocation"].split("/")[2]
        )
        run_ids = [o["Key"].split("/")[-2] for o in reports.get("Contents", [])]
        assert len(run_ids) == 1
        summary, lines = task_stack.report(run_ids[0])
        assert summary["status"] == "FAILED"
        assert "can't be read" in summary["error"]
        assert lines == []
        # Its Prepare called DataSync (DescribeTask), and its machine starts the task: granted
        assert task_stack.ungranted_calls()[0] == {}
        assert task_stack.ungranted_integrations()[0] == []
    finally:
        cloud.run(f"./dev run cdk destroy {context} --force")


def test_the_event_path_deployed_takes_a_permanent_delete_through_rule_queue_and_consumer(
    cloud: Cloud, stack: DeployedStack
) -> None:
    # Given a stack with events=on (hold 0) and the source sending its events to EventBridge
    context = (
        "-c sourceBucket=my-source -c targetBucket=my-target -c mode=replication "
        "-c stackName=syncpurge-events -c stateMachineName=syncpurge-events -c schedule=off "
        "-c events=on -c eventHoldMinutes=0"
    )
    cloud.run(f"./dev run cdk deploy {context} --require-approval never")
    try:
        events = DeployedStack(
            cloud, "syncpurge-events", stack_outputs(cloud, "syncpurge-events"), stack.pair, ""
        )
        pair = stack.pair
        pair.client.put_bucket_notification_configuration(
            Bucket=pair.source, NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        status = json.loads(
            cloud.run(
                "./dev run syncpurge events status --stack syncpurge-events --json",
                stdout_only=True,
            )
        )
        assert status["eventBridgeNotifications"] == "on"
        # A leftover the source's permanent delete orphaned, its key sharing version null
        pair.share_null_version("ev/doc.txt")
        erased = pair.put("ev/doc.txt", "two")
        leftover = pair.put("ev/doc.txt", "two", bucket=pair.target)
        for bucket in (pair.source, pair.target):
            pair.put("ev/doc.txt", "three", bucket=bucket)
        before = target_versions(pair, "ev/")

        # When the source erases the version: S3 -> EventBridge -> the queue -> the consumer
        pair.delete_version("ev/doc.txt", erased)
        summary = wait_for_event_hour(events, received=1)

        # Then the deployed consumer decided the key: its two target entries the source
        # lacks (the leftover and the current copy) are seconds old, inside replication's
        # 15 minutes of grace, so they are left to the batch run, not purged
        assert summary["events"]["distinctKeys"] == 1
        assert summary["events"]["leftToBatch"] == 2
        assert leftover in {v for _, v, _ in before}
        assert target_versions(pair, "ev/") == before
        # And every call the consumer made is granted by its deployed role
        assert events.ungranted_calls()[0] == {}
    finally:
        cloud.run(f"./dev run cdk destroy {context} --force")


def wait_for_event_hour(events: DeployedStack, *, received: int) -> dict[str, Any]:
    """The event hour's summary.json once it counts `received` events (60 s at most)."""
    s3 = events.cloud.client("s3")
    bucket = events.outputs["ReportLocation"].split("/")[2]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
            if "/events-" in item["Key"] and item["Key"].endswith("/summary.json"):
                doc: dict[str, Any] = json.loads(
                    s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
                )
                if doc["events"]["received"] >= received:
                    return doc
        time.sleep(1)
    raise AssertionError(f"no event hour in s3://{bucket} counted {received} events in 60 s")


def test_cdk_diff_finds_nothing_to_change_and_destroy_leaves_no_stack(
    cloud: Cloud, stack: DeployedStack
) -> None:
    diff = cloud.run(readme_command("cdk diff"))
    assert "There were no differences" in diff

    cloud.run(readme_command("cdk destroy"))

    cloudformation = cloud.client("cloudformation")
    with pytest.raises(ClientError, match="does not exist"):
        cloudformation.describe_stacks(StackName="syncpurge")
    # The stand-in task stack was destroyed by its own test: only the CDK's toolkit remains
    live = [
        s["StackName"]
        for s in cloudformation.list_stacks()["StackSummaries"]
        if s["StackStatus"] != "DELETE_COMPLETE"
    ]
    assert live == ["CDKToolkit"]
