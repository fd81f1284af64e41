"""Test-wide isolation from AWS and the CloudWatch test double (moto over HTTP on 127.0.0.1).

Environment isolation runs at import time, before any test or fixture, so every boto3 client
and every subprocess a test starts sees dummy credentials only.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from hypothesis import settings

from support import isolate_aws_environment
from support.faults import FaultProxy
from support.moto_server import RunningMotoServer, start_moto_server
from support.quota_fake import QuotaFake, realistic_fake

# Property tests judge results, not speed: on a loaded 2-core CI machine a chart of 600
# periods can take longer than hypothesis's default 200 ms deadline.
settings.register_profile("bedrock-top", deadline=None)
settings.load_profile("bedrock-top")

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

isolate_aws_environment()
# platformdirs paths (price cache, exports, logs, config) point into a throwaway folder, so
# no test reads or writes the developer's own files.
_HOME = tempfile.mkdtemp(prefix="bedrock-top-tests-")
atexit.register(shutil.rmtree, _HOME, ignore_errors=True)
for _name in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME"):
    os.environ[_name] = os.path.join(_HOME, _name.lower())
# Screens show local times: pin the zone so snapshots match on every machine.
os.environ["TZ"] = "UTC"
time.tzset()


@pytest.fixture(scope="session", autouse=True)
def quota_endpoints() -> Iterator[QuotaFake]:
    """Service Quotas, the Bedrock control plane and STS for every test: a local fake with a
    realistic account (moto has none of the quota APIs), so no test can reach AWS for them.
    Tests about quotas start fakes of their own."""
    fake = realistic_fake().start()
    os.environ.update(fake.env())
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(scope="session")
def moto_server() -> Iterator[RunningMotoServer]:
    """One moto server for the session (starting one takes ~0.1 s; state is reset per test)."""
    server = start_moto_server()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def cloudwatch_endpoint(moto_server: RunningMotoServer) -> str:
    """The endpoint URL of an empty CloudWatch: moto's state is reset before each test."""
    moto_server.reset()
    return moto_server.endpoint_url


@pytest.fixture
def cloudwatch_client(cloudwatch_endpoint: str) -> CloudWatchClient:
    """A boto3 CloudWatch client for us-east-1 that can only reach the moto server."""
    return boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        endpoint_url=cloudwatch_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
    )


@pytest.fixture
def proxy(cloudwatch_endpoint: str) -> Iterator[FaultProxy]:
    """The fault proxy in front of an empty moto CloudWatch."""
    fault_proxy = FaultProxy(cloudwatch_endpoint)
    try:
        yield fault_proxy
    finally:
        fault_proxy.stop()


@pytest.fixture
def logger_propagates(monkeypatch: pytest.MonkeyPatch) -> None:
    """caplog listens at the root; a TUI test run earlier in this process may have pointed
    bedrock-top's logger at its file alone (``logs.setup_file_logging``)."""
    logger = logging.getLogger("bedrock_top")
    monkeypatch.setattr(logger, "propagate", True)
    monkeypatch.setattr(logger, "level", logging.NOTSET)


@pytest.fixture
def product_log() -> Iterator[list[str]]:
    """Everything bedrock-top logs (what its log file would hold), tracebacks included."""
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(logging.Formatter().format(record))

    handler = Keep(logging.DEBUG)
    logger = logging.getLogger("bedrock_top")
    logger.addHandler(handler)
    try:
        yield lines
    finally:
        logger.removeHandler(handler)
