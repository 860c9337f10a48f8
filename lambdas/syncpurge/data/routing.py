"""Data access: which client serves a bucket, and what every request on it carries.

Each bucket is called in its own Region, with a client made for that Region, so no request
leans on S3's redirect (a 301, or botocore's re-send after it). Each bucket with an expected
owner gets `ExpectedBucketOwner` on every request (S3 user guide, "Verifying bucket
ownership with bucket owner condition"): a bucket deleted and re-created under the same
name by another account answers 403 AccessDenied, so nothing is read or deleted in it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# GetBucketLocation's LocationConstraint for the two Regions it doesn't name as themselves
# (S3 API reference, GetBucketLocation: null is us-east-1; "EU" is the legacy eu-west-1).
_LEGACY_LOCATIONS = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}


class BucketRouter:
    """The client for each bucket: the default one, or one made for the bucket's Region."""

    def __init__(self, client: S3Client, regional: Callable[[str], S3Client] | None = None):
        self.default = client
        self._regional = regional
        self._by_region: dict[str, S3Client] = {client.meta.region_name: client}
        self._by_bucket: dict[str, S3Client] = {}
        self.owners: dict[str, str] = {}
        self._hooked: set[int] = set()
        _never_redirect(client)

    def client(self, bucket: str) -> S3Client:
        return self._by_bucket.get(bucket, self.default)

    def region(self, bucket: str) -> str:
        """The Region the requests on `bucket` are signed for."""
        return str(self.client(bucket).meta.region_name)

    def expect_owners(self, owners: Mapping[str, str | None]) -> None:
        """Every request on one of these buckets carries its account as ExpectedBucketOwner;
        the header is added as each request is built, paginators' pages included."""
        self.owners.update({bucket: owner for bucket, owner in owners.items() if owner})
        if self.owners:
            for client in self._by_region.values():
                self._hook(client)

    def place(self, regions: Mapping[str, str | None]) -> None:
        """Serve each bucket from a client in its Region (None or "": the default client)."""
        for bucket, region in regions.items():
            if not region or region == self.region(bucket):
                continue
            client = self._by_region.get(region)
            if client is None:
                if self._regional is None:
                    raise ValueError(f"bucket {bucket!r} is in {region}: no client for it")
                client = self._regional(region)
                _never_redirect(client)
                self._by_region[region] = client
                if self.owners:
                    self._hook(client)
            self._by_bucket[bucket] = client

    def find_region(self, bucket: str) -> str | None:
        """The bucket's Region, asked once: HeadBucket's x-amz-bucket-region, which S3 sends
        on 200, 301 and 403 alike (S3 API reference, HeadBucket), else GetBucketLocation;
        None when neither tells (the bucket's own preflight then says why)."""
        client = self.client(bucket)
        try:
            answer = client.head_bucket(Bucket=bucket)
            region = answer.get("BucketRegion") or _region_header(answer)
        except ClientError as err:
            region = _region_header(err.response)
        if region:
            return str(region)
        try:
            location = client.get_bucket_location(Bucket=bucket).get("LocationConstraint")
        except ClientError:
            return None
        return _LEGACY_LOCATIONS.get(location, location)

    def _hook(self, client: S3Client) -> None:
        if id(client) in self._hooked:
            return
        self._hooked.add(id(client))
        expected = self.owners

        def add_owner(params: dict[str, Any], model: Any, **_: Any) -> None:
            owner = expected.get(params.get("Bucket", ""))
            if owner and "ExpectedBucketOwner" in model.input_shape.members:
                params.setdefault("ExpectedBucketOwner", owner)

        client.meta.events.register("before-parameter-build.s3", add_owner)


def _never_redirect(client: S3Client) -> None:
    """botocore re-sends a request S3 answers with a redirect (301, or a 400 naming another
    Region) to the Region the answer names, unless the request is marked as redirected
    already (`S3RegionRedirectorv2.redirect_from_error`). Every request is marked, so a
    wrong Region surfaces as an error instead of a second request, and HeadBucket's 301
    answer to `find_region` is read, not followed."""

    def mark(context: dict[str, Any], **_: Any) -> None:
        context["s3_redirected"] = True

    client.meta.events.register(
        "before-parameter-build.s3", mark, unique_id="syncpurge-never-redirect"
    )


def _region_header(response: Mapping[str, Any]) -> str | None:
    headers = response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    region = headers.get("x-amz-bucket-region")
    return str(region) if region else None
