"""Turn AWS/network exceptions into one plain line a person can act on."""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    ReadTimeoutError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)

_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def describe_error(exc: BaseException, profile: str | None = None) -> str:
    """A one-line, secret-free description of why a CloudWatch call failed."""
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, UnauthorizedSSOTokenError | TokenRetrievalError):
        return f"AWS SSO session expired: run `{login}`"
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials found: set AWS_PROFILE, run `aws configure`, or use --demo"
    if isinstance(exc, NoRegionError):
        return "no AWS region: pass --region or set AWS_REGION"
    if isinstance(exc, ProfileNotFound):
        return f"AWS profile not found: {profile}"
    if isinstance(exc, EndpointConnectionError | ConnectTimeoutError):
        where = exc.kwargs.get("endpoint_url") or "its endpoint"
        return f"network: cannot reach CloudWatch at {where}"
    if isinstance(exc, ReadTimeoutError):
        return "network: CloudWatch did not answer in time"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).splitlines()[0] if error.get("Message") else ""
        op = exc.operation_name
        if code in _EXPIRED:
            return f"AWS credentials expired ({code}): refresh them, e.g. `{login}`"
        if code in _THROTTLED:
            return f"CloudWatch is throttling {op} ({code}); backing off"
        if code in _DENIED:
            return f"access denied: the identity lacks cloudwatch:{op} (see the minimal IAM policy)"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        http = f" (HTTP {status})" if status else ""
        return f"CloudWatch {op} failed: {code}{http} {message}".strip()
    if isinstance(exc, BotoCoreError):
        return f"AWS SDK error: {exc}"
    return f"{type(exc).__name__}: {exc}"
