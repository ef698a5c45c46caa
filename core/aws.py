"""One way to reach AWS: sessions from a profile and region, clients with a stated retry policy, one line per error.

Every client Launch Ledger makes comes from ``client()`` and carries ``retry_config()``: botocore's
``standard`` retry mode (throttling and transient errors only, exponential backoff with jitter) with at
most ``MAX_ATTEMPTS`` attempts per call. awswrangler takes the same config (``wrangler_config()``).
boto3 is imported only when AWS is called, so a run over local files starts without it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

RETRY_MODE = "standard"
# What botocore's standard mode retries (botocore.retries.standard), for the messages once it gives up:
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
    }
)
MAX_ATTEMPTS = 9  # in all: the first try and up to eight retries
CONNECT_TIMEOUT_S = 10
READ_TIMEOUT_S = 60


def retry_config() -> Config:
    """The botocore config of every client: standard retries, ``MAX_ATTEMPTS`` attempts, bounded timeouts."""
    from botocore.config import Config

    return Config(
        retries={"mode": RETRY_MODE, "total_max_attempts": MAX_ATTEMPTS},
        connect_timeout=CONNECT_TIMEOUT_S,
        read_timeout=READ_TIMEOUT_S,
    )


def make_session(profile: str | None = None, region: str | None = None) -> boto3.Session:
    """A boto3 session for a named profile and region (None: the default credential chain and region)."""
    import boto3

    return boto3.Session(profile_name=profile, region_name=region)


def client(
    service: str,
    *,
    session: boto3.Session | None = None,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
):
    """A boto3 client for ``service`` with the retry config; from ``session`` if given, else from profile and region."""
    if session is None:
        session = make_session(profile, region)
    return session.client(service, region_name=region, endpoint_url=endpoint_url, config=retry_config())


def configure_wrangler() -> None:
    """Give awswrangler's clients the same retry config (it builds its own from the session)."""
    import awswrangler as wr

    wr.config.botocore_config = retry_config()


def error_line(exc: BaseException, limit: int = 300) -> str:
    """An AWS or awswrangler error on one line: ``Operation Code: message`` for a ClientError."""
    from botocore.exceptions import ClientError

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), error.get("Message", "")
        if not message or "<Message>" in message:  # a body botocore could not parse (XML): take its Code and Message
            found = dict(re.findall(r"<(Code|Message)>([^<]*)</\1>", str(exc)))
            code, message = found.get("Code", code), found.get("Message", "")
        text = f"{exc.operation_name} {code}: {message}" if message else str(exc)
    else:
        text = str(exc) or type(exc).__name__
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def user_message(exc: BaseException, profile: str | None = None, table: str | None = None) -> str | None:
    """What to tell a person about an AWS failure, on one line; None when ``exc`` is not an AWS error."""
    from botocore import exceptions as bx

    if isinstance(exc, bx.NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE (or pass --profile) or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
    if isinstance(exc, bx.ProfileNotFound):
        return f"AWS profile {profile!r} is not in ~/.aws/config: check the name or run 'aws configure --profile NAME'"
    if isinstance(exc, bx.NoRegionError):
        return "no AWS region set: pass --region or set AWS_DEFAULT_REGION"
    if isinstance(exc, bx.EndpointConnectionError):
        return f"cannot reach the AWS endpoint ({exc.kwargs.get('endpoint_url')}): check the network, region or --endpoint-url"
    if isinstance(exc, bx.ReadTimeoutError):
        return (
            f"no answer from {exc.kwargs.get('endpoint_url')} within {READ_TIMEOUT_S} s, {MAX_ATTEMPTS} times in a row: "
            "check the network and run again"
        )
    if isinstance(exc, bx.ClientError):
        return _client_error_message(exc, table)
    if isinstance(exc, bx.BotoCoreError):
        return f"AWS error: {exc}"
    return None


def _client_error_message(exc, table: str | None) -> str:
    code = exc.response.get("Error", {}).get("Code", "")
    text = exc.response.get("Error", {}).get("Message", "")
    op = getattr(exc, "operation_name", "the request")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if code in THROTTLING_CODES:
        return (
            f"AWS kept throttling {op} ({code}) through {MAX_ATTEMPTS} attempts with backoff: wait a few minutes and run "
            "again (a table scan resumes where it stopped; fewer --segments ask less of the table)"
        )
    if status >= 500:
        return f"AWS failed {op} with a server error ({status} {code}) {MAX_ATTEMPTS} times in a row: run again later ({text})"
    if code == "ResourceNotFoundException":
        return f"DynamoDB table {table or 'from the config'} not found: check --table and --region ({text})"
    if code in ("AccessDeniedException", "AccessDenied", "UnauthorizedOperation"):
        return f"access denied for {op}: the IAM policy in README.md lists what Launch Ledger needs ({text})"
    if code in ("UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "ExpiredToken"):
        return f"AWS rejected the credentials for {op} ({code}): refresh them (e.g. aws sso login) and run again"
    if code == "DataUnavailableException":
        return "Cost Explorer has no data for this account yet: enable Cost Explorer and wait 24 hours"
    return f"{op} failed: {code}: {text}"
