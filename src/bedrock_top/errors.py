"""Turn AWS/network exceptions into one plain line a person can act on."""

from __future__ import annotations

import http.client
import re

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOTokenLoadError,
    TokenRetrievalError,
    UnauthorizedSSOTokenError,
)
from botocore.exceptions import ConnectionError as AWSConnectionError


class ConfigError(ValueError):
    """A bad option value; the message is one line and names the option (exit code 2)."""


_EXPIRED = {"ExpiredToken", "ExpiredTokenException", "RequestExpired"}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
}
_DENIED = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}
# Operations of services other than CloudWatch: (service name, IAM action prefix).
_OTHER_SERVICES = {
    "GetProducts": ("the AWS Price List API", "pricing"),
    "ListServiceQuotas": ("Service Quotas", "servicequotas"),
    "ListAWSDefaultServiceQuotas": ("Service Quotas", "servicequotas"),
    "ListFoundationModels": ("the Bedrock API", "bedrock"),
    "ListInferenceProfiles": ("the Bedrock API", "bedrock"),
    "GetCallerIdentity": ("STS", "sts"),
    "GetModelInvocationLoggingConfiguration": ("the Bedrock API", "bedrock"),
    "StartQuery": ("CloudWatch Logs", "logs"),
    "GetQueryResults": ("CloudWatch Logs", "logs"),
    "StopQuery": ("CloudWatch Logs", "logs"),
    "StartLiveTail": ("CloudWatch Logs", "logs"),
}
# "... is not authorized to perform: cloudwatch:GetMetricData ..." in AccessDenied messages.
_ACTION = re.compile(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)")


def describe_error(exc: BaseException, profile: str | None = None) -> str:
    """A one-line, secret-free description of why a CloudWatch call failed."""
    login = f"aws sso login --profile {profile}" if profile else "aws sso login"
    if isinstance(exc, UnauthorizedSSOTokenError | TokenRetrievalError):
        return f"AWS SSO session expired: run `{login}`"
    if isinstance(exc, SSOTokenLoadError):
        return f"AWS SSO: not logged in (no cached SSO token): run `{login}`"
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
    if isinstance(exc, ConnectionClosedError):
        where = exc.kwargs.get("endpoint_url") or "its endpoint"
        return f"network: the connection to {where} closed before CloudWatch answered"
    if isinstance(exc, AWSConnectionError | HTTPClientError):  # proxy, TLS, reset, ...
        return "network: " + (str(exc).splitlines() or [type(exc).__name__])[0]
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", "")).splitlines()[0] if error.get("Message") else ""
        op = exc.operation_name
        service, prefix = _OTHER_SERVICES.get(op, ("CloudWatch", "cloudwatch"))
        if code in _EXPIRED:
            return f"AWS credentials expired ({code}): refresh them, e.g. `{login}`"
        if code in _THROTTLED:
            return f"{service} is throttling {op} ({code}); backing off"
        if code in _DENIED:
            named = _ACTION.search(str(error.get("Message", "")))
            action = named.group(1) if named else f"{prefix}:{op}"
            return f"access denied: the identity lacks {action} (see the minimal IAM policy)"
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if isinstance(status, int) and status >= 500:
            # A bare 5xx (load balancer, proxy) has only the status number as its code.
            name = http.client.responses.get(status, "") if code == str(status) else code
            return f"{service} server error: {op} got HTTP {status} {name}".strip()
        http_status = f" (HTTP {status})" if status else ""
        return f"{service} {op} failed: {code}{http_status} {message}".strip()
    if isinstance(exc, BotoCoreError):
        return f"AWS SDK error: {exc}"
    return f"{type(exc).__name__}: {exc}"


def is_access_denied(exc: BaseException) -> bool:
    """Whether AWS refused the call for lack of a permission."""
    if not isinstance(exc, ClientError):
        return False
    return str(exc.response.get("Error", {}).get("Code")) in _DENIED


def needs_new_credentials(exc: BaseException) -> bool:
    """Whether a client must be rebuilt to pick up credentials that changed since it was made
    (a client resolves static or missing credentials once; SSO ones it refreshes itself)."""
    if isinstance(exc, NoCredentialsError | UnauthorizedSSOTokenError | TokenRetrievalError):
        return True
    if isinstance(exc, SSOTokenLoadError):
        return True
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code")) in _EXPIRED
    return False
