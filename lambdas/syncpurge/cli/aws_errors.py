"""One line, not a traceback, for what botocore raises when the endpoint, the credentials,
the Region or a bucket is wrong: `main` prints it and exits 2. A command meets these
before it deletes anything (a run's engine catches its own errors and reports them).

Each line names what to fix: the endpoint it could not reach, the credentials it used or
looked for, the Region, the bucket. Other AWS errors are one line too, exit 1; anything
that is not botocore's is not caught here (a bug keeps its traceback).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from urllib.parse import urlparse
from xml.etree.ElementTree import ParseError

from botocore.credentials import RefreshableCredentials
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    InvalidConfigError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    SSOError,
    TokenRetrievalError,
)
from botocore.parsers import ResponseParserError

from syncpurge.cli.terminal import EXIT_FAILED, EXIT_INVALID
from syncpurge.data.clients import CONNECT_TIMEOUT_SECONDS, credential_files, shared_session

# Error codes that mean: these credentials are not accepted at all (unknown key, wrong
# secret, expired session), across S3, STS and the JSON services.
CREDENTIALS_REFUSED = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "IncompleteSignature",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
    "InvalidToken",
    "TokenRefreshRequired",
    "AuthFailure",
}
# ... and: accepted, but not allowed this call.
ACCESS_DENIED = {"AccessDenied", "AccessDeniedException", "AllAccessDisabled", "403"}

Explain = Callable[[Exception, argparse.Namespace], str]


def aws_problem(err: Exception, args: argparse.Namespace) -> tuple[int, str] | None:
    """(exit code, one-line message) for an error botocore raised; None for any other."""
    if isinstance(err, ClientError):
        return _client_error(err, args)
    for kinds, explain in INVALID:
        if isinstance(err, kinds):
            return EXIT_INVALID, explain(err, args)
    if isinstance(err, BotoCoreError):
        return EXIT_FAILED, _one_line(err)
    return None


def _unreachable(err: Exception, args: argparse.Namespace) -> str:
    assert isinstance(err, EndpointConnectionError)
    url = urlparse(str(err.kwargs.get("endpoint_url", "")))
    where = f"{url.scheme}://{url.netloc}" if url.netloc else "the AWS endpoint"
    if isinstance(err, ConnectTimeoutError):
        why = f"no answer within {CONNECT_TIMEOUT_SECONDS} s"
    else:
        why = _os_reason(err.kwargs.get("error")) or _one_line(err)
    if getattr(args, "endpoint_url", None):
        return f"--endpoint-url: can't connect to {where} ({why})"
    return f"can't connect to {where} ({why}): check --region and the network"


def _os_reason(error: object) -> str | None:
    """The operating system's words for a failed connection (`Connection refused`, `Name
    or service not known`), from the socket error urllib3 wrapped."""
    for _ in range(8):
        if not isinstance(error, BaseException):
            return None
        if isinstance(error, OSError) and error.strerror:
            return str(error.strerror)
        error = error.__cause__ or error.__context__
    return None


def _no_credentials(err: Exception, args: argparse.Namespace) -> str:
    credentials_file, config_file, env_profile = credential_files()
    files = f"{credentials_file} or {config_file}"
    profile = getattr(args, "profile", None)
    if profile:
        return f"--profile {profile}: the profile has no AWS credentials in {files}"
    if env_profile:
        return f"profile {env_profile} (AWS_PROFILE) has no AWS credentials in {files}"
    return (
        "no AWS credentials found: none in the environment (AWS_ACCESS_KEY_ID), in "
        f"{files}, or from an instance or container role; set AWS_ACCESS_KEY_ID and "
        "AWS_SECRET_ACCESS_KEY, or pass --profile"
    )


def _unloadable(err: Exception, args: argparse.Namespace) -> str:
    return f"the AWS credentials could not be loaded: {_one_line(err)}"


def _no_region(err: Exception, args: argparse.Namespace) -> str:
    return "no AWS Region: pass --region, or set AWS_REGION (or the profile's region)"


def _not_aws(err: Exception, args: argparse.Namespace) -> str:
    said = f"{type(err).__name__}: {_one_line(err)}"
    endpoint = getattr(args, "endpoint_url", None)
    if endpoint:
        return f"--endpoint-url: {endpoint} did not answer as AWS does ({said})"
    return f"the AWS endpoint did not answer as AWS does ({said})"


# botocore's errors that mean the command can't reach or sign for AWS: exit 2, each named.
INVALID: tuple[tuple[type[Exception] | tuple[type[Exception], ...], Explain], ...] = (
    (EndpointConnectionError, _unreachable),
    (NoCredentialsError, _no_credentials),
    (
        (
            PartialCredentialsError,
            CredentialRetrievalError,
            InvalidConfigError,
            SSOError,
            TokenRetrievalError,
        ),
        _unloadable,
    ),
    (NoRegionError, _no_region),
    ((ResponseParserError, ParseError), _not_aws),
)


def _client_error(err: ClientError, args: argparse.Namespace) -> tuple[int, str]:
    error = err.response.get("Error", {})
    code, message = str(error.get("Code", "")), _one_line(error.get("Message") or "")
    bucket, operation = error.get("BucketName"), err.operation_name
    endpoint = getattr(args, "endpoint_url", None)
    at = f" at {endpoint}" if endpoint else ""
    call = f"{operation} on s3://{bucket}" if bucket else operation
    said = f"{code}: {message}" if message else code
    if code == "NoSuchBucket" or (code in ("404", "NotFound") and operation == "HeadBucket"):
        return EXIT_INVALID, f"bucket {bucket!r} does not exist{at} ({operation}: {code})"
    who = _credentials(getattr(args, "profile", None))
    if code in CREDENTIALS_REFUSED:
        return EXIT_INVALID, f"the credentials ({who}) were refused{at}: {said} ({call})"
    if code in ACCESS_DENIED:
        return EXIT_INVALID, f"{call} was denied{at} to {who}: {said}"
    return EXIT_FAILED, f"{call} failed{at}: {said}"


def _credentials(profile: str | None) -> str:
    """Which credentials the calls were signed with, as far as can be told without another
    call: the access key's last 4 characters (as `aws configure list` shows them) and
    where they came from."""
    named = f", profile {profile}" if profile else ""
    try:
        credentials = shared_session(profile).get_credentials()
    except BotoCoreError:  # only describing them: the error shown is the call's
        credentials = None
    if credentials is None:
        return f"the configured credentials{named}"
    source = str(getattr(credentials, "method", "") or "an unknown source")
    if isinstance(credentials, RefreshableCredentials):  # reading the key may refresh it
        return f"credentials from {source}{named}"
    return f"access key ...{str(credentials.access_key or '')[-4:]} from {source}{named}"


def _one_line(value: object) -> str:
    return " ".join(str(value).split())
