"""Named keys listed by range (`syncpurge.erasure.listing`): every entry of each key, none
of another key, whatever the page size, the keys' neighbours and their versions' count."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from syncpurge.data.s3store import S3Store
from syncpurge.erasure.listing import list_key_set
from syncpurge_local.moto_s3 import s3_paging
from tests.conftest import property_examples
from tests.helpers import make_versioned_bucket, moto_s3_client

pytestmark = pytest.mark.integration

PARTS = ["a", "b", "a/", "a b", "%", "+", "é", "e\u0301", " ", "\t", "\ue000", "\U0010ffff", "z"]
KEYS = st.lists(st.sampled_from(PARTS), min_size=1, max_size=3).map("".join)


def all_entries(s3: Any, bucket: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        for entry in page.get("Versions", []) + page.get("DeleteMarkers", []):
            found.setdefault(entry["Key"], []).append(entry["VersionId"])
    return found


class BoundedStore(S3Store):
    """Fails a listing that goes on past 200 pages: a loop, not a listing."""

    pages = 200

    def key_set_page(self, *args: Any, **kwargs: Any) -> Any:
        self.pages -= 1
        assert self.pages >= 0, f"still listing after 200 pages: {args}"
        return super().key_set_page(*args, **kwargs)


@settings(max_examples=property_examples(4))
@given(
    held=st.dictionaries(KEYS, st.integers(1, 4), max_size=12),
    others=st.lists(KEYS, max_size=6),
    page_size=st.integers(1, 4),
)
def test_each_named_key_gets_exactly_its_entries(
    held: dict[str, int], others: list[str], page_size: int
) -> None:
    with mock_aws(), s3_paging():
        s3 = moto_s3_client()
        make_versioned_bucket(s3, "keys")
        for key, versions in held.items():
            for n in range(versions):
                if n == 1:
                    s3.delete_object(Bucket="keys", Key=key)  # a delete marker among them
                else:
                    s3.put_object(Bucket="keys", Key=key, Body=b"x")
        named = sorted({*list(held)[::2], *others})
        store = BoundedStore(s3, page_size=page_size)

        listed = list_key_set(store, "keys", named, lambda: datetime.now(UTC))

        truth = all_entries(s3, "keys")
        assert set(listed) == set(named)
        for key in named:
            assert sorted(e.version_id for e in listed[key].entries) == sorted(truth.get(key, []))
            assert {e.key for e in listed[key].entries} <= {key}


def test_dense_keys_cost_a_page_per_page_of_entries_and_a_lone_key_one_page() -> None:
    with mock_aws(), s3_paging():
        s3 = moto_s3_client()
        make_versioned_bucket(s3, "keys")
        for n in range(40):
            s3.put_object(Bucket="keys", Key=f"dense/{n:03d}", Body=b"x")
        for n in range(30):
            s3.put_object(Bucket="keys", Key=f"sparse/{n:03d}", Body=b"x")
        store = S3Store(s3, page_size=10)
        dense = [f"dense/{n:03d}" for n in range(40)]

        list_key_set(store, "keys", [*dense, "sparse/015"], lambda: datetime.now(UTC))

        # 40 dense entries in pages of 10; one more page to see the last of them has no
        # more versions (a page's last key may go on), then one jump to the lone key.
        assert store.counter.snapshot().list == 4 + 1 + 1


@pytest.mark.parametrize(
    ("named", "between"),
    [
        ("p" * 1021 + "z", ["p" * 1021 + c for c in "abc"]),  # its marker would pass 1,024 bytes
        ("name ", ["name\t1", "name\t2", "name\t3"]),  # a space can't be lowered to 0x1f
        ("x\ue000", ["xa", "xb", "xc"]),  # U+E000 lowered is a surrogate
        ("a.txt", [f"a.txs\U0010ffff{n}" for n in range(3)]),  # keys that begin with the marker
    ],
)
def test_keys_between_a_named_keys_marker_and_it_are_read_past_never_again(
    named: str, between: list[str]
) -> None:
    with mock_aws(), s3_paging():
        s3 = moto_s3_client()
        make_versioned_bucket(s3, "keys")
        for key in [named, *between]:
            s3.put_object(Bucket="keys", Key=key, Body=b"x")
        store = BoundedStore(s3, page_size=2)

        listed = list_key_set(store, "keys", ["0", named], lambda: datetime.now(UTC))

        assert [e.version_id for e in listed[named].entries] == all_entries(s3, "keys")[named]
