"""Least privilege: bedrock-top only ever attempts read-only AWS operations, ships the minimal
IAM policy that allows exactly those, and never shows or writes a credential.

Every botocore client created while a test runs (by ``services.aws``, by the price refresh, or
any other code path) gets a ``provide-client-params`` handler: the first event of every API
call, emitted before validation and before any request is sent, so nothing escapes it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import botocore.session
import pytest
from botocore.model import OperationModel
from botocore.stub import Stubber
from textual.widgets import Static

from bedrock_top.assemble import make_clients, make_quota_keeper, poll_settings, price_table
from bedrock_top.cli import main
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.config import Settings
from bedrock_top.figures.pricing import cost_function
from bedrock_top.figures.surfaces import VIEW_NAMES
from bedrock_top.services.alarm_keeper import AlarmKeeper
from bedrock_top.services.aws import make_cloudwatch_clients
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.screens import DetailScreen
from support.bedrock_truth import BASE_HAIKU, US_SONNET, publish, scenario
from support.faults import FaultProxy
from support.tui import poll_now, settle

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

ROOT: Final = Path(__file__).resolve().parents[1]
READ_METRICS: Final = frozenset({"cloudwatch:ListMetrics", "cloudwatch:GetMetricData"})
READ_QUOTAS: Final = frozenset(
    {
        "servicequotas:ListServiceQuotas",
        "servicequotas:ListAWSDefaultServiceQuotas",
        "bedrock:ListFoundationModels",
        "bedrock:ListInferenceProfiles",
    }
)
# The callers view (model invocation logs), and only while it is open.
READ_LOGS: Final = frozenset(
    {
        "bedrock:GetModelInvocationLoggingConfiguration",
        "logs:StartQuery",
        "logs:GetQueryResults",
        "logs:StopQuery",
        "logs:StartLiveTail",
    }
)
# The alarm markers: the CloudWatch alarms already set on Bedrock metrics (read, never written).
READ_ALARMS: Final = frozenset({"cloudwatch:DescribeAlarms"})
READ_ALL: Final = READ_METRICS | READ_QUOTAS | READ_LOGS | READ_ALARMS
# Needs no IAM permission (and no policy can deny it): which account the quota cache is for.
NO_PERMISSION: Final = frozenset({"sts:GetCallerIdentity"})
READ_PRICES: Final = frozenset({"pricing:GetProducts"})
# IAM action prefixes of the botocore service names that differ from them.
IAM_PREFIX: Final = {"monitoring": "cloudwatch", "service-quotas": "servicequotas"}
ACCESS_KEY: Final = "AKIALEASTPRIVEXAMPLE"
SECRET_KEY: Final = "leastPrivSecret/K7MDENG/bPxRfiCYdoNotLeak"
SESSION_TOKEN: Final = "FwoGZXIvYXdzLeastPrivSessionTokenDoNotLeak"
SECRETS: Final = (SECRET_KEY, SESSION_TOKEN)


class OperationLog:
    """The IAM action of every API call attempted, in order."""

    def __init__(self) -> None:
        self.attempted: list[str] = []

    def __call__(self, model: OperationModel, **_: Any) -> None:
        service = model.service_model.service_name
        self.attempted.append(f"{IAM_PREFIX.get(service, service)}:{model.name}")

    @property
    def actions(self) -> set[str]:
        return set(self.attempted)


@pytest.fixture
def operations(monkeypatch: pytest.MonkeyPatch) -> OperationLog:
    """Hook every client created from now on; price-list clients answer from a Stubber."""
    log = OperationLog()
    create_client = botocore.session.Session.create_client

    def hooked(self: botocore.session.Session, *args: Any, **kwargs: Any) -> Any:
        client = create_client(self, *args, **kwargs)
        client.meta.events.register("provide-client-params", log)
        if client.meta.service_model.service_name == "pricing":  # never the real Price List
            stubber = Stubber(client)
            for _ in range(2):  # one empty page per service code
                stubber.add_response("get_products", {"FormatVersion": "aws_v1", "PriceList": []})
            stubber.activate()
        return client

    monkeypatch.setattr(botocore.session.Session, "create_client", hooked)
    return log


@pytest.fixture
def aws_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    """Distinctive credentials in the environment, where the product's sessions find them."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)


@pytest.fixture
def seeded(cloudwatch_client: CloudWatchClient) -> None:
    requests = [
        r for r in scenario(datetime.now(UTC), seed=3) if r.model_id in {BASE_HAIKU, US_SONNET}
    ]
    publish(cloudwatch_client, requests)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def shipped_policy() -> dict[str, Any]:
    policy: dict[str, Any] = json.loads((ROOT / "iam-policy.json").read_text())
    return policy


def allowed_actions(policy: dict[str, Any]) -> set[str]:
    statements = policy["Statement"]
    allowed: set[str] = set()
    for statement in statements if isinstance(statements, list) else [statements]:
        assert statement["Effect"] == "Allow"
        assert "NotAction" not in statement
        actions = statement["Action"]
        allowed |= {actions} if isinstance(actions, str) else set(actions)
    return allowed


@pytest.mark.usefixtures("aws_secrets", "seeded")
def test_once_attempts_only_the_read_operations(
    cloudwatch_endpoint: str,
    operations: OperationLog,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # no cached quotas: read them
    for output in ("csv", "json", "table"):
        args = ["--once", "--format", output, "--region", "us-east-1"]
        assert main([*args, "--endpoint-url", cloudwatch_endpoint]) == 0
        out, err = capsys.readouterr()
        assert BASE_HAIKU in out
        assert err == ""
        assert_no_secret(out)
    assert operations.actions - NO_PERMISSION == READ_METRICS | READ_QUOTAS
    assert allowed_actions(shipped_policy()) == READ_ALL
    assert operations.actions & NO_PERMISSION <= NO_PERMISSION


@pytest.mark.usefixtures("aws_secrets", "seeded")
async def test_live_session_attempts_only_the_read_operations(
    cloudwatch_endpoint: str,
    operations: OperationLog,
    product_log: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Polls, the detail screen (which asks for more statistics), a zoom (a new poller), an
    expired-credentials failure and its recovery, a CSV export: the product's own clients."""
    proxy = FaultProxy(cloudwatch_endpoint)
    settings = Settings(regions=("us-east-1",), endpoint_url=proxy.url, profile=None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    prices = cost_function(price_table(settings))
    poller = Poller(make_clients(settings), poll_settings(settings), cost_of=prices)
    quotas = make_quota_keeper(settings, ("us-east-1",))
    app = BedrockTopApp(settings, poller, export_dir=tmp_path, quotas=quotas)
    statuses: list[str] = []

    def status() -> str:
        text = str(app.query_one("#status", Static).render())
        statuses.append(text)
        return text

    try:
        async with app.run_test(size=(220, 40)) as pilot:
            await settle(pilot)
            assert app.table.row_count == 2
            await poll_now(pilot)
            await pilot.press("home", "enter")
            await settle(pilot)
            assert isinstance(app.screen, DetailScreen)
            await pilot.press("escape")
            await pilot.press("right_square_bracket")  # zoom out: a new window, all reloaded
            await settle(pilot)
            proxy.expired_token()
            await poll_now(pilot)
            assert "credentials expired" in status()
            proxy.clear()
            await poll_now(pilot)
            await pilot.press("ctrl+s")
            await settle(pilot)  # the export waits for a poll that fetches every figure
            assert "exported" in status()
            exported = [p.read_text() for p in tmp_path.glob("bedrock-top-*.csv")]
    finally:
        proxy.stop()
    assert len(exported) == 1
    assert BASE_HAIKU in exported[0]
    assert operations.actions - NO_PERMISSION == READ_METRICS | READ_QUOTAS
    # Discovery (one ListMetrics per view's namespace) at start and on the zoom, not per poll
    assert operations.attempted.count("cloudwatch:ListMetrics") <= 2 * len(VIEW_NAMES)
    assert product_log  # the failure went to the log, with its details
    assert_no_secret(*statuses, *exported, *product_log)


@pytest.mark.usefixtures("aws_secrets")
def test_alarm_reading_attempts_only_describe_alarms(
    cloudwatch_endpoint: str, cloudwatch_client: CloudWatchClient, operations: OperationLog
) -> None:
    """The alarm markers read alarms with the product's own clients: DescribeAlarms only (no
    write API, ever), and the shipped policy allows it."""
    cloudwatch_client.put_metric_alarm(
        AlarmName="haiku-throttled",
        Namespace="AWS/Bedrock",
        MetricName="InvocationThrottles",
        Dimensions=[{"Name": "ModelId", "Value": BASE_HAIKU}],
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
    )
    operations.attempted.clear()  # the test's own setup above is not the product's
    keeper = AlarmKeeper(make_cloudwatch_clients(None, ("us-east-1",), cloudwatch_endpoint))
    keeper.update()
    assert keeper.error is None
    assert [a.name for a in keeper.alarms("us-east-1")] == ["haiku-throttled"]
    assert operations.attempted == ["cloudwatch:DescribeAlarms"]
    assert operations.actions == READ_ALARMS
    assert allowed_actions(shipped_policy()) >= READ_ALARMS


@pytest.mark.usefixtures("aws_secrets")
def test_price_refresh_attempts_only_get_products(
    operations: OperationLog, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["prices", "--refresh"])  # empty pages: nothing to write, and that is reported
    out, err = capsys.readouterr()
    assert operations.attempted == ["pricing:GetProducts"] * 2
    assert operations.actions == READ_PRICES
    assert_no_secret(out, err)


def test_shipped_iam_policy_allows_exactly_the_read_actions() -> None:
    policy = shipped_policy()
    assert policy["Version"] == "2012-10-17"
    assert allowed_actions(policy) == READ_ALL
    assert "*" not in json.dumps(policy).replace('"Resource": "*"', "")
    # The README shows the same policy.
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("Minimal IAM permissions") :]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None
    assert json.loads(block.group(1)) == policy
