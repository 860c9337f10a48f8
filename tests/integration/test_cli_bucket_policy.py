"""`syncpurge bucket-policy`: the deployed stack's statements for a bucket in another account."""

from __future__ import annotations

import json

import boto3
import pytest

from syncpurge.cli import EXIT_INVALID, EXIT_OK, main
from tests.helpers import exit_code

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("aws")]

ROLE = "arn:aws:iam::123456789012:role/syncpurge-FunctionsDiffRole8C614E7F-AbC"
SOURCE_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "SyncPurgeDiffBucket",
            "Effect": "Allow",
            "Principal": {"AWS": ROLE},
            "Action": "s3:ListBucketVersions",
            "Resource": "arn:aws:s3:::corp-src",
        }
    ],
}


def deploy_stack(outputs: dict[str, str]) -> None:
    template = {
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    boto3.client("cloudformation", region_name="us-east-1").create_stack(
        StackName="syncpurge", TemplateBody=json.dumps(template)
    )


def test_it_prints_the_side_s_statements_from_the_stack_outputs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_stack({"SourceBucketPolicy": json.dumps(SOURCE_POLICY), "TargetBucketPolicy": "{}"})

    code = main(["bucket-policy", "--stack", "syncpurge", "--side", "source"])

    captured = capsys.readouterr()
    assert code == EXIT_OK
    assert json.loads(captured.out) == SOURCE_POLICY
    assert "source bucket's policy" in captured.err


@pytest.mark.parametrize(
    ("flags", "named"),
    [
        (["--stack", "nope", "--side", "source"], "--stack"),
        (["--stack", "syncpurge", "--side", "sideways"], "--side"),
    ],
)
def test_bad_input_is_refused_naming_the_flag(
    capsys: pytest.CaptureFixture[str], flags: list[str], named: str
) -> None:
    deploy_stack({"SourceBucketPolicy": json.dumps(SOURCE_POLICY)})

    code = exit_code(["bucket-policy", *flags])

    assert code == EXIT_INVALID
    assert named in capsys.readouterr().err


def test_a_stack_without_the_output_is_refused_naming_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    deploy_stack({"StateMachineArn": "arn:aws:states:us-east-1:123456789012:stateMachine:x"})

    code = main(["bucket-policy", "--stack", "syncpurge", "--side", "target"])

    assert code == EXIT_INVALID
    assert "TargetBucketPolicy" in capsys.readouterr().err
