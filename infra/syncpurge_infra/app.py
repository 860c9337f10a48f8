"""Builds the app from its context: the config, the stack, and the cdk-nag checks."""

from __future__ import annotations

from aws_cdk import App, Aspects, Environment
from cdk_nag import AwsSolutionsChecks

from syncpurge_infra.config import DeploymentConfig
from syncpurge_infra.stack import SyncPurgeStack


def build(app: App) -> SyncPurgeStack:
    """Validate the context (ConfigError names the bad key) and add the stack to `app`."""
    config = DeploymentConfig.from_context(
        app.node.try_get_context, given=app.node.get_all_context().keys()
    )
    stack = SyncPurgeStack(
        app,
        config.stack_name,
        config=config,
        env=Environment(
            account=app.node.try_get_context("account"), region=app.node.try_get_context("region")
        ),
    )
    Aspects.of(app).add(AwsSolutionsChecks(verbose=True))
    return stack
