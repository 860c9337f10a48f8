"""CDK entry point (cdk.json): `npx aws-cdk@2 deploy -c sourceBucket=... -c targetBucket=...`."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent)]

from aws_cdk import App  # noqa: E402

from syncpurge_infra.app import build  # noqa: E402
from syncpurge_infra.config import ConfigError  # noqa: E402

if __name__ == "__main__":
    application = App()
    try:
        build(application)
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        raise SystemExit(2) from None
    application.synth()
