"""The demo backend behaves like CloudWatch: shapes, rules, statistics, late data, incidents."""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.model import Shape
from botocore.validate import validate_parameters
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_top.demo.cloudwatch import DEMO_MODELS, DemoCloudWatch
from bedrock_top.figures.catalog import parse_model_id
from support.demo_models import demo_samples, synthetic_profiles

NOW = 1_790_000_000.0  # 2026-09-21 13:33:20 UTC, a fixed fake clock
MINUTE = 60
# The newest minute whose data is complete at NOW (late data: see test_partial_newest_minute).
SETTLED = (math.floor(NOW / MINUTE) - 3) * MINUTE

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
EMBED = "amazon.titan-embed-text-v2:0"
COHERE = "cohere.command-r-plus-v1:0"
MISTRAL = "mistral.mistral-large-2407-v1:0"  # idle in minutes 15-29 of each hour
CANVAS = "amazon.nova-canvas-v1:0"
SONNET4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # throttle storms
SONNET45 = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"  # error bursts
NOVA_PRO = "us.amazon.nova-pro-v1:0"  # latency spikes
APP_PROFILE = "x7k2p9q4m1z8"
OPUS = "us.anthropic.claude-opus-4-1-20250805-v1:0"

_SERVICE = botocore.session.get_session().get_service_model("cloudwatch")


def output_shape(operation: str) -> Shape:
    shape = _SERVICE.operation_model(operation).output_shape
    assert shape is not None
    return shape


Series = dict[int, float]  # epoch seconds -> value


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def query(
    model: str,
    metric: str,
    stat: str,
    period: int = 60,
    qid: str = "q",
    dims: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": metric,
                "Dimensions": dims if dims is not None else [{"Name": "ModelId", "Value": model}],
            },
            "Period": period,
            "Stat": stat,
        },
    }


def fetch(
    cw: DemoCloudWatch,
    model: str,
    metric: str,
    stat: str,
    start: float,
    end: float,
    period: int = 60,
) -> Series:
    response = cw.get_metric_data(
        MetricDataQueries=[query(model, metric, stat, period)],
        StartTime=at(start),
        EndTime=at(end),
    )
    (result,) = response["MetricDataResults"]
    return {
        int(t.timestamp()): v for t, v in zip(result["Timestamps"], result["Values"], strict=True)
    }


def all_metrics(cw: DemoCloudWatch, **kwargs: Any) -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = cw.list_metrics(Namespace="AWS/Bedrock", **kwargs, **token)
        metrics += page["Metrics"]
        if "NextToken" not in page:
            return metrics
        token = {"NextToken": page["NextToken"]}


def published(cw: DemoCloudWatch, model: str) -> set[str]:
    """Metric names listed for the model with the ModelId-only dimension set."""
    return {
        m["MetricName"]
        for m in all_metrics(cw)
        if m["Dimensions"] == [{"Name": "ModelId", "Value": model}]
    }


def assert_validation_error(call: Callable[[], object], operation: str = "GetMetricData") -> None:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    assert caught.value.operation_name == operation


@pytest.fixture
def cw() -> DemoCloudWatch:
    return DemoCloudWatch(seed=0, clock=lambda: NOW)


# --- shapes --------------------------------------------------------------------------------------


def test_responses_validate_against_botocore_output_shapes(cw: DemoCloudWatch) -> None:
    listing = cw.list_metrics(Namespace="AWS/Bedrock", IncludeLinkedAccounts=True)
    validate_parameters(listing, output_shape("ListMetrics"))
    assert len(listing["OwningAccounts"]) == len(listing["Metrics"])
    queries = [
        query(HAIKU, "Invocations", "Sum", qid="a"),
        query(HAIKU, "InvocationLatency", "p99.9", 300, qid="b"),
        query(COHERE, "InputTokenCount", "Maximum", qid="c"),
        query(CANVAS, "TimeToFirstToken", "Average", qid="d"),  # not published: empty
    ]
    data = cw.get_metric_data(
        MetricDataQueries=queries, StartTime=at(SETTLED - 3600), EndTime=at(SETTLED)
    )
    validate_parameters(data, output_shape("GetMetricData"))
    assert [r["Id"] for r in data["MetricDataResults"]] == ["a", "b", "c", "d"]
    assert data["MetricDataResults"][0]["Label"] == "Invocations"
    assert data["MetricDataResults"][3]["Timestamps"] == []
    assert all(r["StatusCode"] == "Complete" for r in data["MetricDataResults"])
    stamp = data["MetricDataResults"][0]["Timestamps"][0]
    assert stamp.tzinfo is not None
    assert stamp.utcoffset() == timedelta(0)


def test_botocore_parameter_validation_applies(cw: DemoCloudWatch) -> None:
    from botocore.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        cw.get_metric_data(MetricDataQueries=[], StartTime=at(NOW - 60))  # no EndTime
    with pytest.raises(ParamValidationError):
        cw.list_metrics(Namespace="AWS/Bedrock", Bogus=1)


# --- ListMetrics ---------------------------------------------------------------------------------


def test_default_models_cover_providers_and_id_kinds(cw: DemoCloudWatch) -> None:
    assert cw.models == DEMO_MODELS
    listed = {
        d["Value"] for m in all_metrics(cw) for d in m["Dimensions"] if d["Name"] == "ModelId"
    }
    assert listed == set(DEMO_MODELS)
    infos = [parse_model_id(model) for model in DEMO_MODELS]
    assert {i.kind for i in infos} == {"base", "inference-profile", "application-profile"}
    providers = {i.provider for i in infos} - {None}
    assert providers >= {"anthropic", "amazon", "meta", "mistral", "cohere", "deepseek"}
    assert {i.profile for i in infos} >= {"us", "global", "application"}


def test_metrics_published_per_model(cw: DemoCloudWatch) -> None:
    streaming = {HAIKU, SONNET4, SONNET45, LLAMA, NOVA_PRO, APP_PROFILE, "us.deepseek.r1-v1:0",
                 OPUS, "amazon.nova-micro-v1:0", "us.meta.llama4-maverick-17b-instruct-v1:0",
                 "us.mistral.pixtral-large-2502-v1:0"}  # fmt: skip
    for model in DEMO_MODELS:
        names = published(cw, model)
        assert {"Invocations", "InvocationLatency", "InvocationThrottles"} <= names
        assert ("TimeToFirstToken" in names) == (model in streaming)
    assert "OutputTokenCount" not in published(cw, EMBED)
    assert "OutputImageCount" in published(cw, CANVAS)
    assert "InputTokenCount" not in published(cw, CANVAS)
    cache_names = {"CacheReadInputTokenCount", "CacheWriteInputTokenCount",
                   "CacheReadInputTokens", "CacheWriteInputTokens"}  # fmt: skip
    assert published(cw, SONNET4) & cache_names == {
        "CacheReadInputTokenCount",
        "CacheWriteInputTokenCount",
    }
    assert published(cw, SONNET45) & cache_names == {
        "CacheReadInputTokens",
        "CacheWriteInputTokens",
    }
    assert published(cw, OPUS) & cache_names == {
        "CacheReadInputTokenCount",
        "CacheWriteInputTokenCount",
    }
    for model in set(DEMO_MODELS) - {SONNET4, SONNET45, OPUS}:
        assert not published(cw, model) & cache_names


def test_list_metrics_filters(cw: DemoCloudWatch) -> None:
    ttft = all_metrics(cw, MetricName="TimeToFirstToken")
    assert ttft
    assert all(m["MetricName"] == "TimeToFirstToken" for m in ttft)
    haiku = all_metrics(cw, Dimensions=[{"Name": "ModelId", "Value": HAIKU}])
    assert {m["MetricName"] for m in haiku} == published(cw, HAIKU)
    tiers = all_metrics(cw, Dimensions=[{"Name": "ServiceTier"}])
    assert tiers
    assert all(len(m["Dimensions"]) == 2 for m in tiers)
    assert cw.list_metrics(Namespace="AWS/Bedrock/Nothing") == {"Metrics": []}
    assert cw.list_metrics(Namespace="AWS/Bedrock", RecentlyActive="PT3H")["Metrics"]
    with pytest.raises(ClientError):
        cw.list_metrics(Namespace="AWS/Bedrock", RecentlyActive="PT1H")


def test_list_metrics_pages_of_500() -> None:
    cw = DemoCloudWatch(seed=3, clock=lambda: NOW, profiles=synthetic_profiles(3, 150))
    assert len(cw.models) == len(set(cw.models)) == 150
    pages = []
    token: dict[str, str] = {}
    while True:
        page = cw.list_metrics(Namespace="AWS/Bedrock", **token)
        pages.append(page["Metrics"])
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert len(pages) >= 3
    assert all(len(p) == 500 for p in pages[:-1])
    assert 0 < len(pages[-1]) <= 500
    keys = [(m["MetricName"], str(m["Dimensions"])) for p in pages for m in p]
    assert len(keys) == len(set(keys))
    assert cw.calls["ListMetrics"] == len(pages)
    with pytest.raises(ClientError) as caught:
        cw.list_metrics(Namespace="AWS/Bedrock", NextToken="garbage")
    assert caught.value.response["Error"]["Code"] == "InvalidNextToken"


def test_synthetic_models_parse_with_known_providers() -> None:
    cw = DemoCloudWatch(profiles=synthetic_profiles(0, 1000))
    assert len(set(cw.models)) == 1000
    assert cw.models[: len(DEMO_MODELS)] == DEMO_MODELS
    assert all(parse_model_id(m).provider for m in cw.models[len(DEMO_MODELS) :])
    assert DemoCloudWatch(profiles=synthetic_profiles(0, 3)).models == DEMO_MODELS[:3]


# --- GetMetricData rules --------------------------------------------------------------------------


def test_validation_errors(cw: DemoCloudWatch) -> None:
    start, end = at(SETTLED - 3600), at(SETTLED)

    def call(queries: list[dict[str, Any]], **kwargs: Any) -> Callable[[], object]:
        args = {"MetricDataQueries": queries, "StartTime": start, "EndTime": end} | kwargs
        return lambda: cw.get_metric_data(**args)

    many = [query(HAIKU, "Invocations", "Sum", 3600, qid=f"q{i}") for i in range(501)]
    assert_validation_error(call(many))
    call(many[:500])()  # 500 is fine
    for bad_id in ("Q1", "1q", "q-1", "q.1"):
        assert_validation_error(call([query(HAIKU, "Invocations", "Sum", qid=bad_id)]))
    twice = [query(HAIKU, "Invocations", "Sum"), query(HAIKU, "InvocationThrottles", "Sum")]
    assert_validation_error(call(twice))
    for period in (30, 90, 61):
        assert_validation_error(call([query(HAIKU, "Invocations", "Sum", period)]))
    assert_validation_error(call([query(HAIKU, "Invocations", "Sum")], StartTime=end))
    assert_validation_error(call([query(HAIKU, "Invocations", "Sum")], ScanBy="Sideways"))
    assert_validation_error(call([query(HAIKU, "Invocations", "tm99")]))
    # 100,800 datapoints per call: 70 days at 60 s is exactly the limit, one more query is not.
    long_start = at(SETTLED - 100_800 * 60)
    one = [query(HAIKU, "Invocations", "Sum", qid="a")]
    call(one, StartTime=long_start)()
    two = [*one, query(HAIKU, "InvocationThrottles", "Sum", 3600, qid="b")]
    assert_validation_error(call(two, StartTime=long_start))


def test_scan_by_orders_timestamps(cw: DemoCloudWatch) -> None:
    args = {
        "MetricDataQueries": [query(HAIKU, "Invocations", "Sum")],
        "StartTime": at(SETTLED - 1800),
        "EndTime": at(SETTLED),
    }
    default = cw.get_metric_data(**args)["MetricDataResults"][0]
    ascending = cw.get_metric_data(**args, ScanBy="TimestampAscending")["MetricDataResults"][0]
    assert default["Timestamps"] == sorted(default["Timestamps"], reverse=True)
    assert ascending["Timestamps"] == sorted(ascending["Timestamps"])
    assert ascending["Timestamps"] == default["Timestamps"][::-1]
    assert ascending["Values"] == default["Values"][::-1]


def test_buckets_start_at_start_time(cw: DemoCloudWatch) -> None:
    start = SETTLED - 6 * 3600 + 7 * MINUTE  # not aligned to the hour
    hourly = fetch(cw, HAIKU, "Invocations", "Sum", start, start + 4 * 3600, 3600)
    assert sorted(hourly) == [start + k * 3600 for k in range(4)]
    minutes = fetch(cw, HAIKU, "Invocations", "Sum", start, start + 4 * 3600)
    for bucket, value in hourly.items():
        assert value == sum(v for t, v in minutes.items() if bucket <= t < bucket + 3600)


def test_get_metric_data_pagination(cw: DemoCloudWatch) -> None:
    queries = [
        query(model, "Invocations", "Sum", qid=f"q{i}")
        for i, model in enumerate(DEMO_MODELS[:11])  # the always-busy ones
    ]
    args = {"MetricDataQueries": queries, "StartTime": at(SETTLED - 900), "EndTime": at(SETTLED)}
    whole = cw.get_metric_data(**args)["MetricDataResults"]
    expected = {r["Id"]: r["Values"] for r in whole}
    merged: dict[str, list[tuple[datetime, float]]] = {}
    token: dict[str, str] = {}
    pages = 0
    while True:
        page = cw.get_metric_data(**args, MaxDatapoints=40, **token)
        pages += 1
        assert sum(len(r["Values"]) for r in page["MetricDataResults"]) <= 40
        for r in page["MetricDataResults"]:
            merged.setdefault(r["Id"], []).extend(zip(r["Timestamps"], r["Values"], strict=True))
            cut = len(merged[r["Id"]]) < len(expected[r["Id"]])
            assert r["StatusCode"] == ("PartialData" if cut else "Complete")
        if "NextToken" not in page:
            break
        token = {"NextToken": page["NextToken"]}
    assert pages > 2
    for r in whole:
        assert merged[r["Id"]] == list(zip(r["Timestamps"], r["Values"], strict=True))


def test_dimension_match_is_exact(cw: DemoCloudWatch) -> None:
    start, end = SETTLED - 600, SETTLED
    model_only = fetch(cw, SONNET4, "Invocations", "Sum", start, end)
    assert model_only
    tier = [{"Name": "ModelId", "Value": SONNET4}, {"Name": "ServiceTier", "Value": "default"}]
    other = [{"Name": "ModelId", "Value": SONNET4}, {"Name": "ServiceTier", "Value": "flex"}]
    for dims, expect_data in ((tier, True), (tier[::-1], True), (other, False), ([], False)):
        response = cw.get_metric_data(
            MetricDataQueries=[query(SONNET4, "Invocations", "Sum", dims=dims)],
            StartTime=at(start),
            EndTime=at(end),
        )
        assert bool(response["MetricDataResults"][0]["Values"]) == expect_data


def test_retention_rules(cw: DemoCloudWatch) -> None:
    start = math.floor((NOW - 20 * 86_400) / 3600) * 3600
    assert not fetch(cw, HAIKU, "Invocations", "Sum", start, start + 3600, 60)
    assert fetch(cw, HAIKU, "Invocations", "Sum", start, start + 3600, 300)


def test_calls_and_metrics_requested_are_counted(cw: DemoCloudWatch) -> None:
    queries = [query(HAIKU, "Invocations", "Sum", qid=f"q{i}") for i in range(7)]
    for _ in range(3):
        cw.get_metric_data(MetricDataQueries=queries, StartTime=at(NOW - 600), EndTime=at(NOW))
    cw.list_metrics(Namespace="AWS/Bedrock")
    assert cw.calls == {"GetMetricData": 3, "ListMetrics": 1}
    assert cw.metrics_requested == 21


# --- determinism ---------------------------------------------------------------------------------


def test_same_seed_and_clock_give_identical_results() -> None:
    def run(seed: int, region: str = "us-east-1") -> dict[str, Any]:
        cw = DemoCloudWatch(seed=seed, clock=lambda: NOW, region=region)
        queries = [
            query(model, metric, stat, qid=f"q{i}_{j}")
            for i, model in enumerate(DEMO_MODELS)
            for j, (metric, stat) in enumerate(
                [("Invocations", "Sum"), ("InvocationLatency", "p90"), ("InputTokenCount", "Sum")]
            )
        ]
        return cw.get_metric_data(
            MetricDataQueries=queries, StartTime=at(NOW - 7200), EndTime=at(NOW)
        )

    first = run(7)
    assert repr(first) == repr(run(7))
    assert first["MetricDataResults"] != run(8)["MetricDataResults"]
    assert first["MetricDataResults"] != run(7, "eu-west-1")["MetricDataResults"]


# --- statistics ----------------------------------------------------------------------------------

METRICS = ["Invocations", "InputTokenCount", "InvocationLatency", "TimeToFirstToken",
           "InvocationThrottles", "CacheReadInputTokenCount"]  # fmt: skip


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    hours_back=st.integers(1, 24 * 10), offset=st.integers(0, 59), metric=st.sampled_from(METRICS)
)
def test_window_sum_is_sum_of_minutes(
    cw: DemoCloudWatch, hours_back: int, offset: int, metric: str
) -> None:
    start = math.floor(SETTLED / 3600) * 3600 - hours_back * 3600 + offset * MINUTE
    end = start + 3600
    for stat in ("Sum", "SampleCount"):
        whole = fetch(cw, SONNET4, metric, stat, start, end, 3600)
        minutes = fetch(cw, SONNET4, metric, stat, start, end)
        assert whole == ({start: sum(minutes.values())} if minutes else {})
    average = fetch(cw, SONNET4, metric, "Average", start, end, 3600)
    total = fetch(cw, SONNET4, metric, "Sum", start, end, 3600)
    count = fetch(cw, SONNET4, metric, "SampleCount", start, end, 3600)
    assert average == {t: total[t] / count[t] for t in count}


@pytest.mark.parametrize(
    ("model", "metric"),
    [(NOVA_PRO, "InvocationLatency"), (HAIKU, "TimeToFirstToken"), (LLAMA, "InputTokenCount")],
)
@pytest.mark.parametrize("stat", ["p50", "p90", "p99", "p99.9"])
def test_percentile_is_nearest_rank_over_samples(
    cw: DemoCloudWatch, model: str, metric: str, stat: str
) -> None:
    start, end = SETTLED - 15 * MINUTE, SETTLED
    (value,) = fetch(cw, model, metric, stat, start, end, 900).values()
    samples = demo_samples(cw, model, metric, at(start), at(end))
    rank = max(1, math.ceil(Fraction(stat[1:]) * len(samples) / 100))  # nearest rank
    assert value == samples[rank - 1]
    per_minute = fetch(cw, model, metric, stat, start, end).values()
    assert min(per_minute) <= value <= max(per_minute)
    lows = fetch(cw, model, metric, "Minimum", start, end).values()
    highs = fetch(cw, model, metric, "Maximum", start, end).values()
    assert min(lows) == samples[0] <= value <= samples[-1] == max(highs)
    (total,) = fetch(cw, model, metric, "Sum", start, end, 900).values()
    assert total == sum(samples)


def test_no_datapoint_without_samples(cw: DemoCloudWatch) -> None:
    start, end = SETTLED - 3 * 3600, SETTLED
    invocations = fetch(cw, COHERE, "Invocations", "Sum", start, end)  # ~1-3 requests/minute
    assert 0 < len(invocations) < 180
    assert all(v > 0 for v in invocations.values())
    for minute in range(start, end, MINUTE):
        if minute not in invocations:
            assert demo_samples(cw, COHERE, "Invocations", at(minute), at(minute + MINUTE)) == []


def test_idle_model_has_gaps(cw: DemoCloudWatch) -> None:
    start = math.floor(SETTLED / 3600) * 3600 - 5 * 3600
    series = fetch(cw, MISTRAL, "Invocations", "Sum", start, start + 5 * 3600)
    idle = [t for t in series if 15 <= (t // MINUTE) % 60 < 30]
    assert idle == []
    assert len(series) > 5 * 30


# --- incidents -----------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1])
def test_incidents_show_in_every_ten_minutes(seed: int) -> None:
    cw = DemoCloudWatch(seed=seed, clock=lambda: NOW)
    start, end = SETTLED - 86_400, SETTLED

    def get(model: str, metric: str, stat: str = "Sum") -> Series:
        return fetch(cw, model, metric, stat, start, end)

    throttles, storm_calls = get(SONNET4, "InvocationThrottles"), get(SONNET4, "Invocations")
    client, server = get(LLAMA, "InvocationClientErrors"), get(LLAMA, "InvocationServerErrors")
    llama_calls = get(LLAMA, "Invocations")
    p90 = get(NOVA_PRO, "InvocationLatency", "p90")
    usual_p90 = statistics.median(p90.values())
    for first in range(start, end - 10 * MINUTE, MINUTE):
        span = range(first, first + 10 * MINUTE, MINUTE)
        assert any(throttles.get(t, 0) >= max(5, storm_calls.get(t, 0) / 2) for t in span)
        error_rates = [(client.get(t, 0) + server.get(t, 0)) / llama_calls[t] for t in span]
        assert max(error_rates) >= 0.15
        assert sum(client.get(t, 0) for t in span) >= 2
        assert sum(server.get(t, 0) for t in span) >= 1
        assert any(p90.get(t, 0) >= 3 * usual_p90 for t in span)


def test_quiet_models_stay_quiet(cw: DemoCloudWatch) -> None:
    start, end = SETTLED - 6 * 3600, SETTLED
    calls = sum(fetch(cw, HAIKU, "Invocations", "Sum", start, end, 3600).values())
    errors = sum(fetch(cw, HAIKU, "InvocationServerErrors", "Sum", start, end, 3600).values())
    assert calls > 1000
    assert errors / calls < 0.01


# --- late data -----------------------------------------------------------------------------------


def test_partial_newest_minute_only_grows() -> None:
    now = [NOW]
    cw = DemoCloudWatch(seed=0, clock=lambda: now[0])
    minute = math.floor(NOW / MINUTE) * MINUTE
    sums: list[float | None] = []
    counts: list[float | None] = []
    for second in range(0, 200, 5):
        now[0] = minute + second
        sums.append(fetch(cw, HAIKU, "Invocations", "Sum", minute, minute + 60).get(minute))
        latency = fetch(cw, HAIKU, "InvocationLatency", "SampleCount", minute, minute + 60)
        counts.append(latency.get(minute))
    assert sums[:13] == [None] * 13  # nothing until the minute is over (second 60)
    growing = [s for s in sums if s is not None]
    assert growing == sorted(growing)
    assert len(set(growing)) > 3
    assert [c for c in counts if c is not None] == sorted(c for c in counts if c is not None)
    final = growing[-1]
    now[0] = minute + 10_000
    assert fetch(cw, HAIKU, "Invocations", "Sum", minute, minute + 60) == {minute: final}
    # 45 s after the minute ended: it is partial, the one before is complete.
    now[0] = minute + 105
    newest = fetch(cw, HAIKU, "Invocations", "Sum", minute - 60, minute + 60)
    now[0] = minute + 10_000
    settled = fetch(cw, HAIKU, "Invocations", "Sum", minute - 60, minute + 60)
    assert newest[minute] < settled[minute]
    assert newest[minute - 60] == settled[minute - 60]


def test_future_has_no_data(cw: DemoCloudWatch) -> None:
    assert fetch(cw, HAIKU, "Invocations", "Sum", NOW, NOW + 3600) == {}
