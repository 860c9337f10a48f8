"""Data access: S3Store, the run's S3 calls (its reads of a bucket's configuration in
`bucket_facts`). Clients are handed in.

Every request the run makes is counted here, so the report's `requests` figures are the
calls actually sent (botocore's own retries of one call are not counted again).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from syncpurge.data.bucket_facts import BucketFacts, error_code
from syncpurge.data.failures import failing_as_listing, listing_call, listing_failed
from syncpurge.data.routing import BucketRouter
from syncpurge.data.s3shapes import (
    CHECKSUM_FIELDS,
    DeleteError,
    DeleteResult,
    ListingPage,
    ObjectFacts,
    RequestCounter,
    page_entries,
)
from syncpurge.errors import BucketAccessDenied
from syncpurge.models import PageMarker

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

MAX_KEYS_PER_PAGE = 1000
MAX_KEYS_PER_DELETE = 1000


class S3Store(BucketFacts):
    """The S3 calls a run makes, on one client, counted into a shared RequestCounter."""

    def __init__(
        self,
        client: S3Client,
        counter: RequestCounter | None = None,
        page_size: int = MAX_KEYS_PER_PAGE,
        *,
        regional: Callable[[str], S3Client] | None = None,
    ) -> None:
        self.counter = counter or RequestCounter()
        self.page_size = page_size
        # Which client serves each bucket (its Region) and the owner its requests name.
        self.router = BucketRouter(client, regional)

    def shown(self, bucket: str, key: str) -> str:
        return f"s3://{bucket}/{key}"

    def counted_apart(self) -> S3Store:
        """This store (its clients, its buckets' Regions and owners) with a request
        counter of its own: one step's requests, as a Lambda invocation counts them."""
        store = copy.copy(self)  # a test's store of its own kind stays of that kind
        store.counter = RequestCounter()
        return store

    def expect_owners(self, owners: Mapping[str, str | None]) -> None:
        """Every request on one of these buckets carries its account as ExpectedBucketOwner
        (`BucketRouter.expect_owners`)."""
        self.router.expect_owners(owners)

    def place(self, regions: Mapping[str, str | None]) -> None:
        """Call each bucket in its own Region (`BucketRouter.place`)."""
        self.router.place(regions)

    def region(self, bucket: str) -> str:
        return self.router.region(bucket)

    def find_region(self, bucket: str) -> str | None:
        return self.router.find_region(bucket)

    def _client(self, bucket: str) -> S3Client:
        return self.router.client(bucket)

    # ----------------------------------------------------------------- listing

    def list_pages(
        self,
        bucket: str,
        prefix: str,
        *,
        start: PageMarker | None = None,
        after: str | None = None,
        up_to: str | None = None,
        counts_past: Callable[[str], bool] | None = None,
    ) -> Iterator[ListingPage]:
        """Every page of ListObjectVersions under `prefix`, from page marker `start`, or
        else from the first key after `after`; no page is asked for once one has gone
        past `up_to` (the caller drops the keys beyond it): once it holds a key past
        `up_to` that `counts_past` says yes to (None: any key). A caller that must see the
        first key past its range that it keeps (its scope admits) says which.

        `after` is sent as a KeyMarker alone, which S3 reads as "keys after this one"
        (LocalStack agrees; moto is made to, `syncpurge_local.moto_s3`).
        """
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if start is not None:
            params["KeyMarker"] = start[0]
            if start[1]:
                params["VersionIdMarker"] = start[1]
        elif after is not None:
            params["KeyMarker"] = after
        marker = start if start is not None else ((after, "") if after is not None else None)
        paginator = self._client(bucket).get_paginator("list_object_versions")
        pages = paginator.paginate(**params, PaginationConfig={"PageSize": self.page_size})
        for page in failing_as_listing(bucket, params, pages):
            self.counter.add("list")
            entries = page_entries(page)
            yield ListingPage(
                entries=entries,
                common_prefixes=[p["Prefix"] for p in page.get("CommonPrefixes") or ()],
                is_truncated=bool(page.get("IsTruncated")),
                marker=marker,
            )
            if up_to is not None and entries and entries[-1].key > up_to:
                past = (e.key for e in entries if e.key > up_to)
                if counts_past is None or any(counts_past(key) for key in past):
                    return
            if page.get("IsTruncated"):
                marker = (page["NextKeyMarker"], page.get("NextVersionIdMarker", ""))

    def probe_page(self, bucket: str, prefix: str, after: str | None) -> ListingPage:
        """One page of the keys after `after` (None: from the start): Plan's boundary probe."""
        self.counter.add("list")
        return self._one_page(bucket, prefix, after)

    def verify_page(
        self, bucket: str, prefix: str, after: str | None = None, version_marker: str = ""
    ) -> ListingPage:
        """One page of the source after `after` (with `version_marker`: after that version
        of it, as a page's own next markers say), to re-check vanished keys."""
        self.counter.add("verify")
        return self._one_page(bucket, prefix, after, version_marker=version_marker)

    def key_set_page(
        self, bucket: str, prefix: str, after: str | None = None, version_marker: str = ""
    ) -> ListingPage:
        """One page of the keys after `after` (with `version_marker`: after that version of
        it), to list a set of named keys by range (an erasure's listings)."""
        self.counter.add("list")
        return self._one_page(bucket, prefix, after, version_marker=version_marker)

    def _one_page(
        self,
        bucket: str,
        prefix: str,
        after: str | None,
        delimiter: str | None = None,
        version_marker: str = "",
    ) -> ListingPage:
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": self.page_size}
        if after is not None:
            params["KeyMarker"] = after
            if version_marker:
                params["VersionIdMarker"] = version_marker
        if delimiter is not None:
            params["Delimiter"] = delimiter
        page = self._list(bucket, params)
        truncated = bool(page.get("IsTruncated"))
        next_key = page.get("NextKeyMarker")
        return ListingPage(
            entries=page_entries(page),
            common_prefixes=[p["Prefix"] for p in page.get("CommonPrefixes") or ()],
            is_truncated=truncated,
            marker=(after, version_marker) if after is not None else None,
            next_marker=(next_key, page.get("NextVersionIdMarker") or "")
            if truncated and next_key
            else None,
            request_id=(page.get("ResponseMetadata") or {}).get("RequestId"),
        )

    def _list(self, bucket: str, params: dict[str, Any]) -> Any:
        """One ListObjectVersions; ListingFailed, naming it, when it fails after retries."""
        try:
            return self._client(bucket).list_object_versions(**params)
        except (ClientError, BotoCoreError) as err:
            raise listing_failed(listing_call(bucket, params), err) from err

    def holds_only(self, bucket: str, key: str, version_id: str) -> bool:
        """Whether `version_id` is the only entry of `key` left in the bucket."""
        self.counter.add("verify")
        page = self._list(bucket, {"Bucket": bucket, "Prefix": key, "MaxKeys": 2})
        of_key = [e.version_id for e in page_entries(page) if e.key == key]
        return of_key == [version_id]

    def common_prefixes(self, bucket: str, prefix: str) -> tuple[list[str], bool]:
        """One page of the common prefixes one level below `prefix` (delimiter '/'), and
        whether that level is complete and holds nothing else: landmarks of the key space
        for Plan's probes.

        From ListObjectVersions, not ListObjectsV2: a "folder" whose every key is deleted
        (only markers and noncurrent versions left) is exactly what must still be cut.
        """
        self.counter.add("list")
        page = self._one_page(bucket, prefix, None, delimiter="/")
        return page.common_prefixes, not page.is_truncated and not page.entries

    def list_keys(self, bucket: str, prefix: str) -> list[str]:
        """Keys of current objects under `prefix`, in key order (workspace files)."""
        keys: list[str] = []
        paginator = self._client(bucket).get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            keys.extend(o["Key"] for o in page.get("Contents") or ())
        return keys

    def folders_after(self, bucket: str, prefix: str, after: str) -> list[str]:
        """The folders (CommonPrefixes, delimiter '/') under `prefix` that sort after
        `after`, in key order (a deployment's recent run folders)."""
        folders: list[str] = []
        paginator = self._client(bucket).get_paginator("list_objects_v2")
        pages = paginator.paginate(Bucket=bucket, Prefix=prefix, Delimiter="/", StartAfter=after)
        for page in pages:
            folders.extend(p["Prefix"] for p in page.get("CommonPrefixes") or ())
        return folders

    def head_version(self, bucket: str, key: str, version_id: str) -> ObjectFacts | None:
        """HeadObject with ChecksumMode=ENABLED; None when S3 won't describe the version.

        SSE-C objects answer 400 without their key, and a version deleted since the
        listing answers 404: either way nothing can be proven from it.
        """
        self.counter.add("head")
        try:
            head = self._client(bucket).head_object(
                Bucket=bucket, Key=key, VersionId=version_id, ChecksumMode="ENABLED"
            )
        except ClientError as err:
            if error_code(err) in ("400", "403", "404", "405", "NoSuchKey", "NoSuchVersion"):
                return None
            raise
        checksums = {
            name: str(head[f"Checksum{name}"])  # type: ignore[literal-required]
            for name in CHECKSUM_FIELDS
            if head.get(f"Checksum{name}")
        }
        return ObjectFacts(
            etag=head.get("ETag"),
            size=head.get("ContentLength"),
            server_side_encryption=head.get("ServerSideEncryption"),
            customer_key=bool(head.get("SSECustomerAlgorithm")),
            checksums=checksums,
            checksum_type=head.get("ChecksumType"),
            replication_status=head.get("ReplicationStatus"),
        )

    # ----------------------------------------------------------------- deleting

    def delete_versions(
        self, bucket: str, refs: Sequence[tuple[str, str]], *, bypass_governance: bool
    ) -> DeleteResult:
        """One DeleteObjects call for at most 1,000 (key, VersionId) pairs."""
        if len(refs) > MAX_KEYS_PER_DELETE:
            raise ValueError(f"DeleteObjects takes at most 1,000 keys, got {len(refs)}")
        params: dict[str, Any] = {
            "Bucket": bucket,
            "Delete": {
                "Objects": [{"Key": k, "VersionId": v} for k, v in refs],
                "Quiet": False,
            },
        }
        if bypass_governance:
            params["BypassGovernanceRetention"] = True
        self.counter.add("delete")
        response = self._client(bucket).delete_objects(**params)
        result = DeleteResult()
        for item in response.get("Deleted") or ():
            result.deleted.add((item["Key"], item.get("VersionId", "")))
        for err in response.get("Errors") or ():
            result.errors.append(
                DeleteError(
                    key=err.get("Key", ""),
                    version_id=err.get("VersionId", ""),
                    code=err.get("Code", "Unknown"),
                    message=err.get("Message", ""),
                )
            )
        return result

    def delete_version(
        self, bucket: str, key: str, version_id: str, *, bypass_governance: bool
    ) -> None:
        """One DeleteObject: for keys XML 1.0 can't carry in a DeleteObjects body."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "VersionId": version_id}
        if bypass_governance:
            params["BypassGovernanceRetention"] = True
        self.counter.add("delete")
        self._client(bucket).delete_object(**params)

    def remove_version(self, bucket: str, key: str, version_id: str) -> None:
        """DeleteObject of one version of syncpurge's own object (the run lock), a version
        already gone taken as done: S3 answers a VersionId that no longer exists with
        success; some S3-compatible stores answer NoSuchVersion, or (LocalStack)
        InvalidArgument "Invalid version id specified"."""
        try:
            self._client(bucket).delete_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as err:
            code = error_code(err)
            message = str(err.response.get("Error", {}).get("Message", "")).lower()
            gone = code in ("NoSuchVersion", "NoSuchKey", "404") or (
                code == "InvalidArgument" and "version" in message
            )
            if not gone:
                raise

    # ----------------------------------------------------------------- report objects

    def put_bytes(self, bucket: str, key: str, body: bytes, content_type: str) -> None:
        self._client(bucket).put_object(Bucket=bucket, Key=key, Body=body, ContentType=content_type)

    def put_version(self, bucket: str, key: str, body: bytes) -> str:
        """PutObject in a versioned bucket; the VersionId S3 gave the new version."""
        return str(self._client(bucket).put_object(Bucket=bucket, Key=key, Body=body)["VersionId"])

    def versions_of_key(self, bucket: str, key: str, *, markers: bool = True) -> list[str]:
        """VersionIds of exactly `key`'s versions, newest first (S3 lists a key's versions
        in the order they were stored), then, with `markers`, its delete markers'."""
        versions: list[str] = []
        marker_ids: list[str] = []
        paginator = self._client(bucket).get_paginator("list_object_versions")
        for page in paginator.paginate(Bucket=bucket, Prefix=key):
            versions.extend(v["VersionId"] for v in page.get("Versions") or () if v["Key"] == key)
            marker_ids.extend(
                m["VersionId"] for m in page.get("DeleteMarkers") or () if m["Key"] == key
            )
        return versions + marker_ids if markers else versions

    def get_version_bytes(self, bucket: str, key: str, version_id: str) -> bytes | None:
        try:
            answer = self._client(bucket).get_object(Bucket=bucket, Key=key, VersionId=version_id)
        except ClientError as err:
            if error_code(err) in ("NoSuchKey", "NoSuchVersion", "404"):
                return None
            raise
        body: bytes = answer["Body"].read()
        return body

    def get_bytes(self, bucket: str, key: str) -> bytes:
        body: bytes = self._client(bucket).get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def get_bytes_or_none(self, bucket: str, key: str) -> bytes | None:
        """The object, or None; a bucket denying the read (another owner's) is refused."""
        try:
            return self.get_bytes(bucket, key)
        except ClientError as err:
            code = error_code(err)
            if code in ("NoSuchKey", "404"):
                return None
            if code in ("403", "AccessDenied"):
                owner = self.router.owners.get(bucket)
                raise BucketAccessDenied(bucket, "s3:GetObject", owner) from err
            raise
