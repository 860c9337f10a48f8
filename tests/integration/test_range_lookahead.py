"""A key range that ends at a folder object looks one admitted source key past its end, to
see whether the folder still has content at the source (review of issue 29's workers): a
page past the end that holds only keys the scope excludes must not end that look."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from syncpurge.core.keyspace import KeyRange
from syncpurge.core.scope import Scope
from syncpurge.data.s3shapes import RequestCounter
from syncpurge.data.s3store import S3Store
from syncpurge.models import PlannedEntry, ReconcileRequest
from syncpurge.phases.diffing import NullProgress, diff_scope, policy_for
from tests.helpers import BucketPair

pytestmark = pytest.mark.integration


def planned(pair: BucketPair, scope: Scope, ranges: list[KeyRange]) -> list[tuple[str, str]]:
    store = S3Store(pair.client, RequestCounter(), page_size=3)
    policy = policy_for(ReconcileRequest.model_validate({}), datetime.now(UTC))
    out: list[PlannedEntry] = []
    for key_range in ranges:
        diff_scope(
            source=store,
            target=store,
            source_bucket=pair.source,
            target_bucket=pair.target,
            prefix="",
            key_range=key_range,
            policy=policy,
            on_plan=out.append,
            progress=NullProgress(),
            scope=scope,
        )
    return [(item.entry.key, item.rule.value) for item in out if item.to_purge]


def test_a_folder_object_at_a_range_end_is_planned_as_one_listing_plans_it(
    pair: BucketPair,
) -> None:
    pair.put_live()
    for key in ["d/tmp/1", "d/tmp/2", "d/tmp/3", "d/x"]:  # a page of 3: the first all excluded
        pair.put(key, "x")
        pair.put(key, "x", bucket=pair.target)
    pair.put("d/", b"", bucket=pair.target)  # a folder object; its content is at the source
    scope = Scope(excludes=("/d/tmp/*",))

    whole = planned(pair, scope, [KeyRange()])
    cut = planned(pair, scope, [KeyRange(None, "d/"), KeyRange("d/", None)])

    assert ("d/", "vanished-key") not in whole
    assert cut == whole
