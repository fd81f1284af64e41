"""CloudWatch alarms on Bedrock metrics: read from moto over HTTP (DescribeAlarms), paginated
(Stubber: moto 5.2 ignores MaxRecords and never returns a NextToken), matched to models,
summarised for the table, and kept by ``AlarmKeeper`` through denials and failures.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.cloudwatch.alarms import PAGE_SIZE, AlarmClient, read_alarms
from bedrock_top.demo.alarms import ERRORS, STEADY, THROTTLED
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.figures.alarms import (
    BEDROCK_NAMESPACES,
    Alarm,
    AlarmMetric,
    account_wide,
    alarms_by_model,
    alarms_for_row,
    describe,
    marker,
    summary,
    worst_state,
)
from bedrock_top.figures.alarms import (
    TIMES as X,
)
from bedrock_top.figures.surfaces import AGENTS, GUARDRAILS
from bedrock_top.services.alarm_keeper import DENIED, AlarmKeeper
from support.bedrock_truth import BASE_HAIKU, US_SONNET

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDataQueryTypeDef

REGION = "us-east-1"
AGENT_ALIAS = "arn:aws:bedrock:us-east-1:123456789012:agent-alias/AGENT1/ALIAS1"


def model_dims(model_id: str) -> list[DimensionTypeDef]:
    return [{"Name": "ModelId", "Value": model_id}]


def stat(
    query_id: str, namespace: str, metric: str, dims: list[DimensionTypeDef]
) -> MetricDataQueryTypeDef:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": metric, "Dimensions": dims},
            "Period": 60,
            "Stat": "Sum",
        },
        "ReturnData": False,
    }


def put_account(client: CloudWatchClient) -> None:
    """Bedrock alarms of every kind, and two on other namespaces that must be left out."""
    common: dict[str, Any] = {"Period": 60, "EvaluationPeriods": 1}
    client.put_metric_alarm(
        AlarmName="haiku-throttled",
        Namespace="AWS/Bedrock",
        MetricName="InvocationThrottles",
        Dimensions=model_dims(BASE_HAIKU),
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=3,
        DatapointsToAlarm=2,
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        TreatMissingData="notBreaching",
    )
    client.put_metric_alarm(
        AlarmName="sonnet-p90",
        Namespace="AWS/Bedrock",
        MetricName="InvocationLatency",
        Dimensions=model_dims(US_SONNET),
        ExtendedStatistic="p90",
        Threshold=4000,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        ActionsEnabled=False,
        **common,
    )
    client.put_metric_alarm(
        AlarmName="haiku-error-rate",
        Metrics=[
            stat("m1", "AWS/Bedrock", "InvocationClientErrors", model_dims(BASE_HAIKU)),
            stat("m2", "AWS/Bedrock", "InvocationServerErrors", model_dims(BASE_HAIKU)),
            stat("m3", "AWS/Bedrock", "Invocations", model_dims(BASE_HAIKU)),
            {"Id": "e1", "Expression": "100*(m1+m2)/m3", "Label": "err %", "ReturnData": True},
        ],
        EvaluationPeriods=1,
        Threshold=5,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    client.put_metric_alarm(
        AlarmName="all-models-throttled",
        Namespace="AWS/Bedrock",
        MetricName="InvocationThrottles",
        Statistic="Sum",
        Threshold=100,
        ComparisonOperator="GreaterThanThreshold",
        **common,
    )
    agent_dims: list[DimensionTypeDef] = [
        {"Name": "Operation", "Value": "InvokeAgent"},
        {"Name": "AgentAliasArn", "Value": AGENT_ALIAS},
    ]
    client.put_metric_alarm(
        AlarmName="agent-errors",
        Namespace=AGENTS.namespace,
        MetricName="InvocationServerErrors",
        Dimensions=agent_dims,
        Statistic="Sum",
        Threshold=0,
        ComparisonOperator="GreaterThanThreshold",
        **common,
    )
    client.put_metric_alarm(
        AlarmName="ec2-cpu",
        Namespace="AWS/EC2",
        MetricName="CPUUtilization",
        Dimensions=[{"Name": "InstanceId", "Value": "i-0123456789abcdef0"}],
        Statistic="Average",
        Threshold=90,
        ComparisonOperator="GreaterThanThreshold",
        **common,
    )
    client.put_metric_alarm(
        AlarmName="ec2-math",
        Metrics=[
            stat("m1", "AWS/EC2", "NetworkIn", []),
            {"Id": "e1", "Expression": "m1/60", "ReturnData": True},
        ],
        EvaluationPeriods=1,
        Threshold=1e6,
        ComparisonOperator="GreaterThanThreshold",
    )
    client.set_alarm_state(
        AlarmName="haiku-throttled", StateValue="ALARM", StateReason="2 of 3 datapoints > 0"
    )
    client.set_alarm_state(
        AlarmName="haiku-error-rate", StateValue="INSUFFICIENT_DATA", StateReason="no data"
    )


@pytest.fixture
def account(cloudwatch_client: CloudWatchClient) -> CloudWatchClient:
    put_account(cloudwatch_client)
    return cloudwatch_client


def by_name(alarms: list[Alarm]) -> dict[str, Alarm]:
    return {a.name: a for a in alarms}


# --- reading (moto over HTTP) --------------------------------------------------------------


def test_bedrock_namespaces_come_from_the_views() -> None:
    assert {"AWS/Bedrock", AGENTS.namespace, GUARDRAILS.namespace} <= BEDROCK_NAMESPACES
    assert "AWS/EC2" not in BEDROCK_NAMESPACES


def test_read_alarms_keeps_the_bedrock_ones(account: CloudWatchClient) -> None:
    before = time.time()
    alarms = read_alarms(account, BEDROCK_NAMESPACES)
    assert [a.name for a in alarms] == [
        "agent-errors",
        "all-models-throttled",
        "haiku-error-rate",
        "haiku-throttled",
        "sonnet-p90",
    ]
    found = by_name(alarms)
    throttled = found["haiku-throttled"]
    assert throttled.state == "ALARM"
    assert throttled.state_reason == "2 of 3 datapoints > 0"
    assert throttled.state_updated is not None
    assert before - 5 <= throttled.state_updated
    assert throttled.arn.endswith(":alarm:haiku-throttled")
    assert (throttled.namespace, throttled.metric_name) == ("AWS/Bedrock", "InvocationThrottles")
    assert (throttled.statistic, throttled.extended_statistic) == ("Sum", None)
    assert (throttled.comparison, throttled.symbol, throttled.threshold) == (
        "GreaterThanThreshold",
        ">",
        0.0,
    )
    assert (throttled.period_s, throttled.evaluation_periods) == (60, 3)
    assert throttled.datapoints_to_alarm == 2
    assert throttled.dimensions == (("ModelId", BASE_HAIKU),)
    assert throttled.actions_enabled
    p90 = found["sonnet-p90"]
    assert (p90.stat, p90.symbol, p90.threshold, p90.actions_enabled) == ("p90", ">=", 4000, False)
    math = found["haiku-error-rate"]
    assert math.metric_name is None
    assert math.namespace is None
    assert [m.id for m in math.metrics] == ["m1", "m2", "m3", "e1"]
    assert math.metrics[-1].expression == "100*(m1+m2)/m3"
    assert math.model_ids == (BASE_HAIKU,)
    assert math.state == "INSUFFICIENT_DATA"
    # Only the namespaces asked for.
    assert [a.name for a in read_alarms(account, ["AWS/EC2"])] == ["ec2-cpu", "ec2-math"]
    assert read_alarms(account, ["AWS/Bedrock/Guardrails"]) == []


def test_matching_alarms_to_models_and_rows(account: CloudWatchClient) -> None:
    alarms = read_alarms(account)
    models = alarms_by_model(alarms)
    assert set(models) == {BASE_HAIKU, US_SONNET}
    # Worst state first: ALARM before INSUFFICIENT_DATA.
    assert [a.name for a in models[BASE_HAIKU]] == ["haiku-throttled", "haiku-error-rate"]
    assert [a.name for a in models[US_SONNET]] == ["sonnet-p90"]
    assert marker(models[BASE_HAIKU]) == ("!", "ALARM")
    assert marker(models[US_SONNET])[1] == "OK"  # moto starts alarms in OK
    assert [a.name for a in account_wide(alarms)] == ["all-models-throttled"]
    row = {"Operation": "InvokeAgent", "AgentAliasArn": AGENT_ALIAS, "ModelId": US_SONNET}
    assert [a.name for a in alarms_for_row(alarms, AGENTS.namespace, row)] == ["agent-errors"]
    assert alarms_for_row(alarms, AGENTS.namespace, {"Operation": "InvokeAgent"}) == ()
    assert alarms_for_row(alarms, GUARDRAILS.namespace, row) == ()
    # The agent alarm names no model: it is not a model's, nor account-wide.
    assert all("agent-errors" not in [a.name for a in v] for v in models.values())


def test_describe_is_one_line_with_condition_and_reason(account: CloudWatchClient) -> None:
    found = by_name(read_alarms(account))
    assert describe(found["haiku-throttled"]) == (
        f"haiku-throttled · ALARM · InvocationThrottles Sum > 0 over 2 of 3{X}60s"
        " — 2 of 3 datapoints > 0"
    )
    assert describe(found["sonnet-p90"]).startswith(
        f"sonnet-p90 · OK · InvocationLatency p90 >= 4000 over 1{X}60s (actions off) — "
    )
    assert describe(found["haiku-error-rate"]) == (
        "haiku-error-rate · INSUFFICIENT_DATA · 100*(m1+m2)/m3 of InvocationClientErrors, "
        f"InvocationServerErrors, Invocations >= 5 over 1{X}60s — no data"
    )
    assert summary(list(found.values())) == "5 alarms: 1 ALARM, 1 INSUFFICIENT_DATA, 3 OK"
    assert "\n" not in "".join(describe(a) for a in found.values())


# --- pagination (Stubber) ------------------------------------------------------------------


def api_alarm(name: str, namespace: str, model_id: str | None, state: str = "OK") -> dict[str, Any]:
    dims = model_dims(model_id) if model_id else []
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{REGION}:123456789012:alarm:{name}",
        "StateValue": state,
        "StateReason": "because",
        "StateUpdatedTimestamp": datetime(2025, 6, 16, 12, 0, tzinfo=UTC),
        "Namespace": namespace,
        "MetricName": "InvocationThrottles",
        "Statistic": "Sum",
        "Dimensions": dims,
        "Period": 60,
        "EvaluationPeriods": 1,
        "Threshold": 0.0,
        "ComparisonOperator": "GreaterThanThreshold",
        "ActionsEnabled": True,
    }


@pytest.fixture
def stubbed() -> Iterator[tuple[CloudWatchClient, Stubber]]:
    client = boto3.client("cloudwatch", region_name=REGION)
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


FIRST = {"AlarmTypes": ["MetricAlarm"], "MaxRecords": PAGE_SIZE}


def test_read_alarms_follows_next_token(stubbed: tuple[CloudWatchClient, Stubber]) -> None:
    client, stubber = stubbed
    page1 = [api_alarm("b-haiku", "AWS/Bedrock", BASE_HAIKU), api_alarm("x-ec2", "AWS/EC2", None)]
    page2 = [api_alarm("a-sonnet", "AWS/Bedrock", US_SONNET, "ALARM")]
    stubber.add_response("describe_alarms", {"MetricAlarms": page1, "NextToken": "t2"}, FIRST)
    stubber.add_response("describe_alarms", {"MetricAlarms": page2}, {**FIRST, "NextToken": "t2"})
    alarms = read_alarms(client)
    assert [a.name for a in alarms] == ["a-sonnet", "b-haiku"]  # both pages, by name
    assert alarms[0].state_updated == datetime(2025, 6, 16, 12, 0, tzinfo=UTC).timestamp()


def test_moto_does_not_paginate_describe_alarms(cloudwatch_client: CloudWatchClient) -> None:
    """Why pagination is covered with Stubber: moto answers everything on one page."""
    for i in range(3):
        cloudwatch_client.put_metric_alarm(
            AlarmName=f"a{i}",
            Namespace="AWS/Bedrock",
            MetricName="Invocations",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
        )
    page = cloudwatch_client.describe_alarms(MaxRecords=1)
    assert len(page["MetricAlarms"]) == 3
    assert "NextToken" not in page
    assert len(read_alarms(cloudwatch_client)) == 3


# --- the keeper ----------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def denied() -> dict[str, Any]:
    return {
        "service_error_code": "AccessDenied",
        "service_message": "User: arn:aws:iam::123456789012:user/x is not authorized to perform:"
        " cloudwatch:DescribeAlarms",
        "http_status_code": 403,
    }


def test_keeper_cadence_denial_and_recovery(stubbed: tuple[CloudWatchClient, Stubber]) -> None:
    client, stubber = stubbed
    clock = Clock()
    keeper = AlarmKeeper({REGION: client}, clock=clock, every_s=300)
    assert keeper.alarms(REGION) == []
    assert keeper.error is None
    good = [api_alarm("haiku", "AWS/Bedrock", BASE_HAIKU, "ALARM")]
    stubber.add_response("describe_alarms", {"MetricAlarms": good}, FIRST)
    keeper.update()
    assert [a.name for a in keeper.alarms(REGION)] == ["haiku"]
    assert keeper.region(REGION).read_at == clock.now
    assert marker(keeper.by_model(REGION)[BASE_HAIKU]) == ("!", "ALARM")
    # Not due: no call (an unexpected call would fail on the empty Stubber queue).
    clock.now += 299
    keeper.update()
    assert keeper.reads == 1
    assert keeper.error is None
    # Due: denied. The last good alarms stay; the error says which permission to add.
    clock.now += 1
    stubber.add_client_error("describe_alarms", **denied())
    keeper.update()
    assert keeper.reads == 2
    assert keeper.error == DENIED
    assert "cloudwatch:DescribeAlarms" in DENIED
    assert "iam-policy.json" in DENIED
    assert [a.name for a in keeper.alarms(REGION)] == ["haiku"]
    assert keeper.region(REGION).read_at == clock.now - 300
    # Asked to refresh: read at once, whatever the cadence; recovered.
    keeper.ask_refresh()
    stubber.add_response("describe_alarms", {"MetricAlarms": []}, FIRST)
    keeper.update()
    assert keeper.reads == 3
    assert keeper.error is None
    assert keeper.alarms(REGION) == []
    keeper.update()
    assert keeper.reads == 3


def test_keeper_reports_other_failures_and_never_raises(
    stubbed: tuple[CloudWatchClient, Stubber],
) -> None:
    client, stubber = stubbed
    clock = Clock()
    broken = Broken()
    keeper = AlarmKeeper({REGION: client, "eu-west-1": broken}, clock=clock)
    stubber.add_client_error(
        "describe_alarms", service_error_code="Throttling", http_status_code=400
    )
    keeper.update()  # both regions fail; nothing raises
    assert set(keeper.errors) == {REGION, "eu-west-1"}
    assert "throttling DescribeAlarms" in keeper.errors[REGION]
    assert keeper.errors["eu-west-1"] == "RuntimeError: boom"
    assert keeper.error == (
        f"alarms {REGION}: CloudWatch is throttling DescribeAlarms (Throttling); backing off"
        " (+1 regions)"
    )


class Broken:
    def describe_alarms(self, **kwargs: Any) -> Mapping[str, Any]:
        raise RuntimeError("boom")


class Listing:
    """A client answering one page of alarms, optionally waiting inside the call."""

    def __init__(self, items: list[dict[str, Any]], gate: threading.Event | None = None) -> None:
        self.items = items
        self.gate = gate
        self.entered = threading.Event()
        self.calls = 0

    def describe_alarms(self, **kwargs: Any) -> Mapping[str, Any]:
        self.calls += 1
        self.entered.set()
        if self.gate is not None:
            assert self.gate.wait(10)
        return {"MetricAlarms": self.items}


def test_keeper_rebuilds_a_client_whose_credentials_expired() -> None:
    expired = ClientError({"Error": {"Code": "ExpiredToken", "Message": "x"}}, "DescribeAlarms")

    class Expired:
        def describe_alarms(self, **kwargs: Any) -> Mapping[str, Any]:
            raise expired

    fresh = Listing([api_alarm("haiku", "AWS/Bedrock", BASE_HAIKU)])
    rebuilt: list[str] = []

    def reconnect(region: str) -> AlarmClient:
        rebuilt.append(region)
        return fresh

    keeper = AlarmKeeper({REGION: Expired()}, clock=Clock(), reconnect=reconnect)
    keeper.update()
    assert rebuilt == [REGION]
    assert keeper.error is not None
    assert "credentials expired" in keeper.error
    keeper.ask_refresh()
    keeper.update()
    assert keeper.error is None
    assert [a.name for a in keeper.alarms(REGION)] == ["haiku"]


def test_the_ui_reads_the_last_snapshot_while_a_read_is_under_way() -> None:
    gate = threading.Event()
    client = Listing([api_alarm("old", "AWS/Bedrock", BASE_HAIKU)])
    clock = Clock()
    keeper = AlarmKeeper({REGION: client}, clock=clock)
    keeper.update()
    client.items = [api_alarm("new", "AWS/Bedrock", US_SONNET)]
    client.gate = gate
    client.entered.clear()
    keeper.ask_refresh()
    worker = threading.Thread(target=keeper.update)
    worker.start()
    try:
        assert client.entered.wait(10)
        keeper.update()  # a second thread does not read while one is reading
        assert client.calls == 2
        assert [a.name for a in keeper.alarms(REGION)] == ["old"]
        assert set(keeper.by_model(REGION)) == {BASE_HAIKU}
    finally:
        gate.set()
        worker.join(10)
    assert [a.name for a in keeper.alarms(REGION)] == ["new"]
    assert set(keeper.by_model(REGION)) == {US_SONNET}


# --- the demo ------------------------------------------------------------------------------


def test_demo_alarms_have_the_real_shape_and_one_of_each_state() -> None:
    demo = DemoCloudWatch(clock=Clock())
    page = demo.describe_alarms(AlarmTypes=["MetricAlarm"], MaxRecords=2)
    rest = demo.describe_alarms(AlarmTypes=["MetricAlarm"], NextToken=page["NextToken"])
    # Stubber validates a response against the real DescribeAlarms output shape.
    client = boto3.client("cloudwatch", region_name=REGION)
    with Stubber(client) as stubber:
        stubber.add_response("describe_alarms", page)
        stubber.add_response("describe_alarms", rest)
        client.describe_alarms()
        client.describe_alarms()
    alarms = read_alarms(demo)
    assert demo.calls["DescribeAlarms"] == 3
    assert sorted(a.state for a in alarms) == ["ALARM", "INSUFFICIENT_DATA", "OK"]
    models = alarms_by_model(alarms)
    assert marker(models[THROTTLED]) == ("!", "ALARM")
    assert marker(models[STEADY]) == ("✓", "OK")
    assert marker(models[ERRORS]) == ("?", "INSUFFICIENT_DATA")
    assert set(models) <= set(demo.models)


# --- pure helpers --------------------------------------------------------------------------

STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


def make(name: str, state: str, **changes: Any) -> Alarm:
    fields: dict[str, Any] = {
        "name": name,
        "arn": "",
        "state": state,
        "state_reason": "",
        "state_updated": None,
        "namespace": "AWS/Bedrock",
        "metric_name": "Invocations",
        "statistic": "Sum",
        "extended_statistic": None,
        "comparison": "GreaterThanThreshold",
        "threshold": 1.0,
        "period_s": 60,
        "evaluation_periods": 1,
        "datapoints_to_alarm": None,
        "dimensions": (("ModelId", BASE_HAIKU),),
        "actions_enabled": True,
    }
    return Alarm(**{**fields, **changes})


@given(st.lists(st.sampled_from(STATES), max_size=8), st.randoms())
def test_the_marker_shows_the_worst_state_in_any_order(states: list[str], rnd: Any) -> None:
    alarms = [make(f"a{i}", s) for i, s in enumerate(states)]
    rnd.shuffle(alarms)
    expected = next((s for s in ("ALARM", "INSUFFICIENT_DATA", "OK") if s in states), None)
    assert worst_state(alarms) == expected
    chars = {"ALARM": "!", "INSUFFICIENT_DATA": "?", "OK": "✓"}
    assert marker(alarms) == (("", "") if expected is None else (chars[expected], expected))
    grouped = alarms_by_model(alarms).get(BASE_HAIKU, ())
    assert len(grouped) == len(alarms)
    assert not grouped or grouped[0].state == expected
    assert summary(alarms).startswith(f"{len(alarms)} alarm") or not alarms


def test_anomaly_band_and_unknown_state_are_described() -> None:
    band = make(
        "band",
        "ALARM",
        comparison="LessThanLowerOrGreaterThanUpperThreshold",
        threshold=None,
        threshold_metric_id="ad1",
        evaluation_periods=5,
        datapoints_to_alarm=5,
    )
    assert describe(band) == f"band · ALARM · Invocations Sum outside the band ad1 over 5{X}60s"
    odd = make("odd", "SOMETHING_NEW")
    assert marker([odd]) == ("?", "SOMETHING_NEW")
    assert worst_state([odd, make("ok", "OK")]) == "SOMETHING_NEW"


def test_an_alarm_on_several_models_is_under_each() -> None:
    two = make(
        "two",
        "OK",
        namespace=None,
        metric_name=None,
        dimensions=(),
        metrics=(
            AlarmMetric("m1", "AWS/Bedrock", "Invocations", "Sum", 60, (("ModelId", "a"),)),
            AlarmMetric("m2", "AWS/Bedrock", "Invocations", "Sum", 60, (("ModelId", "b"),)),
            AlarmMetric("e1", expression="m1+m2", return_data=True),
        ),
    )
    assert set(alarms_by_model([two])) == {"a", "b"}
    assert not two.account_wide
    assert describe(two) == f"two · OK · m1+m2 of Invocations > 1 over 1{X}60s"
