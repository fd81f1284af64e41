"""boto3 sessions and CloudWatch clients, configured so that nothing hangs.

Credentials, profiles, SSO and regions come from boto3's normal chain, as in the AWS CLI.
"""

from __future__ import annotations

import os
from typing import Any

import boto3
from botocore.config import Config

from bedrock_top.cloudwatch import wire
from bedrock_top.errors import ConfigError

# Bounded retries and timeouts, so that nothing hangs: three attempts in all (botocore's
# ``max_attempts`` would count retries only, i.e. four attempts), each waiting at most 5 s to
# connect and 15 s for an answer, with at most 1 + 2 s of backoff between them (throttling;
# 0.05 + 0.1 s otherwise). An unreachable endpoint gives up after ~15 s, one that accepts and
# never answers after ~45 s: both well within a minute.
#
# Every other client (Service Quotas, Bedrock, STS, Price List) keeps botocore's parameter
# validation: a handful of calls an hour, where it costs nothing.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "total_max_attempts": 3},
    connect_timeout=5,
    read_timeout=15,
    user_agent_extra="bedrock-top",
)
# CloudWatch alone goes without it: botocore walks every query of a 500-query GetMetricData
# request in Python, about half of botocore's CPU per poll at scale. bedrock-top builds every
# request itself from fixed types, the planner enforces CloudWatch's own rules (which botocore
# does not check: ``plan``), and the tests still run every request bedrock-top builds through
# botocore's validator (the demo backend validates each call; tests/test_aws_config.py).
CLOUDWATCH_CONFIG = CLIENT_CONFIG.merge(Config(parameter_validation=False))


def make_session(profile: str | None) -> boto3.session.Session:
    """A boto3 session; an unknown profile is a usage error that lists the known ones."""
    available = boto3.session.Session().available_profiles
    if profile is not None and profile not in available:
        known = ", ".join(sorted(available)) or "none configured"
        raise ConfigError(f"--profile: unknown profile {profile!r} (available: {known})")
    return boto3.session.Session(profile_name=profile)


def fast_responses(client: Any) -> Any:
    """The client, with its GetMetricData and ListMetrics answers decoded in C (``wire``):
    botocore's pure-Python parsing of them costs more CPU than all of bedrock-top's own
    processing of a poll. Timestamps come back as epoch seconds instead of datetimes."""
    wire.install(client)
    return client


def make_cloudwatch_client(profile: str | None, region: str, endpoint_url: str | None) -> Any:
    """A client on a fresh session, so credentials are resolved again (after `aws configure`,
    or a credentials file refreshed by a helper)."""
    session = boto3.session.Session(profile_name=profile)
    return fast_responses(
        session.client(
            "cloudwatch", region_name=region, endpoint_url=endpoint_url, config=CLOUDWATCH_CONFIG
        )
    )


def make_cloudwatch_clients(
    profile: str | None, regions: tuple[str, ...], endpoint_url: str | None
) -> dict[str, Any]:
    session = make_session(profile)
    regions = regions or (default_region(session),)
    return {
        region: fast_responses(
            session.client(
                "cloudwatch",
                region_name=region,
                endpoint_url=endpoint_url,
                config=CLOUDWATCH_CONFIG,
            )
        )
        for region in regions
    }


def default_region(session: boto3.session.Session) -> str:
    """The profile's (or AWS_REGION's) region; none is a usage error."""
    if not session.region_name:
        raise ConfigError("--region: no region given and none configured (set AWS_REGION)")
    return str(session.region_name)


def make_quota_clients(profile: str | None, region: str) -> tuple[Any, Any, Any]:
    """Service Quotas, Bedrock (control plane) and STS clients on a fresh session, for
    ``quota_fetch``. Their endpoints come the standard botocore way only
    (``AWS_ENDPOINT_URL_SERVICE_QUOTAS``, ``AWS_ENDPOINT_URL_BEDROCK``, ``AWS_ENDPOINT_URL_STS``
    or the profile's ``endpoint_url`` / services section): --endpoint-url is CloudWatch's."""
    session = boto3.session.Session(profile_name=profile)
    quotas, bedrock, sts = (
        session.client(service, region_name=region, config=CLIENT_CONFIG)
        for service in ("service-quotas", "bedrock", "sts")
    )
    return quotas, bedrock, sts


def make_log_clients(profile: str | None, region: str) -> tuple[Any, Any, Any]:
    """Bedrock (control plane), CloudWatch Logs and STS clients for the callers view; their
    endpoints the standard botocore way (``AWS_ENDPOINT_URL_LOGS`` ...), like the quotas'."""
    session = boto3.session.Session(profile_name=profile)
    # A custom endpoint (a test double, a VPC endpoint) cannot take Live Tail's host prefix.
    logs_endpoint = os.environ.get("AWS_ENDPOINT_URL_LOGS") or os.environ.get("AWS_ENDPOINT_URL")
    bedrock = session.client("bedrock", region_name=region, config=CLIENT_CONFIG)
    logs = session.client("logs", region_name=region, config=logs_client_config(logs_endpoint))
    sts = session.client("sts", region_name=region, config=CLIENT_CONFIG)
    return bedrock, logs, sts


def logs_client_config(endpoint_url: str | None) -> Config:
    """The client config for CloudWatch Logs. StartLiveTail's endpoint carries a host prefix
    (``stream-``): botocore prepends it to any ``endpoint_url`` too, which then names no
    host (``stream-127.0.0.1``), so a custom endpoint goes without it."""
    if endpoint_url is None:
        return CLIENT_CONFIG
    return CLIENT_CONFIG.merge(Config(inject_host_prefix=False))
