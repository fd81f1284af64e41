"""The CloudWatch test double is right: moto over HTTP returns exactly the truth model's figures.

Every integration test trusts ``publish`` + moto to agree with ``expected`` / ``per_period``;
these tests check that agreement through boto3, the way the product reads CloudWatch.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from support import AWS_TEST_ENV
from support.bedrock_truth import (
    APP_PROFILE,
    BASE_HAIKU,
    GLOBAL_SONNET,
    NON_STREAMING,
    SCENARIO_MODELS,
    SPARSE_LATE,
    US_SONNET,
    Request,
    expected,
    per_period,
    publish,
    scenario,
    scenario_window,
)
from support.moto_server import install_percentile_support, nearest_rank_moto

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

pytestmark = pytest.mark.moto

NOW = datetime(2025, 6, 2, 14, 37, 42, tzinfo=UTC)
SEED = 7
CACHE_NAMES = {
    US_SONNET: ("CacheReadInputTokenCount", "CacheWriteInputTokenCount"),
    GLOBAL_SONNET: ("CacheReadInputTokens", "CacheWriteInputTokens"),
}
SUMS = {
    "invocations": "Invocations",
    "input_tokens": "InputTokenCount",
    "output_tokens": "OutputTokenCount",
    "client_errors": "InvocationClientErrors",
    "server_errors": "InvocationServerErrors",
    "throttles": "InvocationThrottles",
}


@pytest.fixture(scope="module")
def requests() -> list[Request]:
    return scenario(NOW, SEED)


@pytest.fixture
def published(cloudwatch_client: CloudWatchClient, requests: list[Request]) -> CloudWatchClient:
    publish(cloudwatch_client, requests)
    return cloudwatch_client


def query(model_id: str, metric: str, stat: str, period_s: int, qid: str) -> MetricDataQueryTypeDef:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": metric,
                "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            },
            "Period": period_s,
            "Stat": stat,
        },
    }


def fetch(
    client: CloudWatchClient,
    queries: Sequence[MetricDataQueryTypeDef],
    start: datetime,
    end: datetime,
) -> dict[str, dict[datetime, float]]:
    """Query id -> {timestamp: value}, following NextToken like the product must."""
    out: dict[str, dict[datetime, float]] = {q["Id"]: {} for q in queries}
    token: str | None = None
    while True:
        page = (
            client.get_metric_data(
                MetricDataQueries=list(queries), StartTime=start, EndTime=end, NextToken=token
            )
            if token
            else client.get_metric_data(
                MetricDataQueries=list(queries), StartTime=start, EndTime=end
            )
        )
        for result in page["MetricDataResults"]:
            out[result["Id"]].update(zip(result["Timestamps"], result["Values"], strict=True))
        token = page.get("NextToken")
        if not token:
            return out


def window_value(
    client: CloudWatchClient,
    model_id: str,
    metric: str,
    stat: str,
    *,
    start: datetime,
    end: datetime,
) -> float | None:
    """One statistic over the whole window (Period = window length, a single bucket)."""
    period = int((end - start).total_seconds())
    values = fetch(client, [query(model_id, metric, stat, period, "q")], start, end)["q"]
    assert len(values) <= 1
    return next(iter(values.values()), None)


def test_environment_is_isolated_from_aws() -> None:
    for name, value in AWS_TEST_ENV.items():
        assert os.environ[name] == value
    assert "AWS_PROFILE" not in os.environ
    assert not os.path.exists(os.environ["AWS_SHARED_CREDENTIALS_FILE"])


def test_endpoint_is_loopback_and_starts_empty(
    cloudwatch_endpoint: str, cloudwatch_client: CloudWatchClient
) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", cloudwatch_endpoint)
    assert cloudwatch_client.list_metrics(Namespace="AWS/Bedrock")["Metrics"] == []


def test_scenario_covers_the_cases_integration_tests_need(requests: list[Request]) -> None:
    assert scenario(NOW, SEED) == requests
    assert scenario(NOW, SEED + 1) != requests
    start, end = scenario_window(NOW)
    assert end == datetime(2025, 6, 2, 14, 37, tzinfo=UTC)
    assert all(start <= r.at < end for r in requests)
    assert 250 <= len(requests) <= 400
    assert {r.model_id for r in requests} == set(SCENARIO_MODELS)
    assert re.fullmatch(r"[a-z0-9]{12}", APP_PROFILE)
    assert {m.split(".")[0] for m in SCENARIO_MODELS} >= {"us", "global", "anthropic"}

    last_20 = expected(requests, end - timedelta(minutes=20), end, 60)
    assert last_20[APP_PROFILE]["invocations"] == 0
    assert last_20[APP_PROFILE]["latency_p90_ms"] is None
    first_45 = expected(requests, start, start + timedelta(minutes=45), 60)
    assert first_45[SPARSE_LATE]["invocations"] == first_45[SPARSE_LATE]["throttles"] == 0
    assert first_45[SPARSE_LATE]["error_rate"] is None

    hour = expected(requests, start, end, 3600)
    assert hour[BASE_HAIKU]["client_errors"] > 0
    assert hour[GLOBAL_SONNET]["server_errors"] > 0
    assert hour[US_SONNET]["throttles"] > 0
    assert hour[NON_STREAMING]["ttft_avg_ms"] is None
    for model_id in CACHE_NAMES:
        assert hour[model_id]["cache_read_tokens"] > 0
        assert hour[model_id]["cache_write_tokens"] > 0


def test_window_sums_counts_and_averages_match_expected(
    published: CloudWatchClient, requests: list[Request]
) -> None:
    start, end = scenario_window(NOW)
    # The last 20 minutes (APP_PROFILE is idle there), read as 4 buckets of 5 minutes.
    start = end - timedelta(minutes=20)
    period = 300
    truth = expected(requests, start, end, period)

    queries: list[MetricDataQueryTypeDef] = []
    wanted: dict[str, tuple[str, str]] = {}
    for i, model_id in enumerate(SCENARIO_MODELS):
        names = dict(SUMS)
        if model_id in CACHE_NAMES:
            names["cache_read_tokens"], names["cache_write_tokens"] = CACHE_NAMES[model_id]
        for j, (key, metric) in enumerate(names.items()):
            wanted[f"s{i}_{j}"] = (model_id, key)
            queries.append(query(model_id, metric, "Sum", period, f"s{i}_{j}"))
        for name, short in (("InvocationLatency", "latency"), ("TimeToFirstToken", "ttft")):
            for stat in ("Sum", "SampleCount"):
                wanted[f"{short}{stat.lower()}{i}"] = (model_id, f"{short}_{stat}")
                queries.append(query(model_id, name, stat, period, f"{short}{stat.lower()}{i}"))
    got = fetch(published, queries, start, end)

    totals: dict[str, dict[str, float]] = {m: {} for m in SCENARIO_MODELS}
    for qid, (model_id, key) in wanted.items():
        assert all(start <= t < end for t in got[qid])
        totals[model_id][key] = sum(got[qid].values())
    for model_id, model_truth in truth.items():
        figures: Mapping[str, object] = model_truth
        seen = totals[model_id]
        for key in (*SUMS, "cache_read_tokens", "cache_write_tokens"):
            assert seen.get(key, 0) == figures[key], (model_id, key)
        for short in ("latency", "ttft"):
            count = seen[f"{short}_SampleCount"]
            average = seen[f"{short}_Sum"] / count if count else None
            assert average == figures[f"{short}_avg_ms"], (model_id, short)
    assert truth[APP_PROFILE]["invocations"] == 0
    assert not any(got[qid] for qid, (model_id, _) in wanted.items() if model_id == APP_PROFILE)


def test_window_average_and_percentiles_match_nearest_rank(
    published: CloudWatchClient, requests: list[Request]
) -> None:
    start, end = scenario_window(NOW)
    truth = expected(requests, start, end, 3600)
    for model_id in (BASE_HAIKU, GLOBAL_SONNET, NON_STREAMING):
        figures: Mapping[str, object] = truth[model_id]
        for metric, stat, key in (
            ("InvocationLatency", "Average", "latency_avg_ms"),
            ("InvocationLatency", "p50", "latency_p50_ms"),
            ("InvocationLatency", "p90", "latency_p90_ms"),
            ("InvocationLatency", "p99", "latency_p99_ms"),
            ("TimeToFirstToken", "Average", "ttft_avg_ms"),
            ("TimeToFirstToken", "p90", "ttft_p90_ms"),
        ):
            got = window_value(published, model_id, metric, stat, start=start, end=end)
            assert got == figures[key], (model_id, stat, key)


def test_decimal_percentile_and_rank_edges() -> None:
    install_percentile_support()  # idempotent: the session server already installed it
    ten = [float(v) for v in range(10, 0, -1)]
    assert nearest_rank_moto(ten, "p90") == 9.0
    assert nearest_rank_moto(ten, "p91") == 10.0
    assert nearest_rank_moto(ten, "p99.9") == 10.0
    assert nearest_rank_moto(ten, "p10") == 1.0
    assert nearest_rank_moto(ten, "p0") == 1.0
    assert nearest_rank_moto(ten, "p100") == 10.0
    assert nearest_rank_moto([], "p50") is None
    with pytest.raises(ValueError, match="percentile"):
        nearest_rank_moto(ten, "Average")


def test_decimal_percentile_over_http(cloudwatch_client: CloudWatchClient) -> None:
    start = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)
    requests = [
        Request(BASE_HAIKU, start + timedelta(seconds=s), "ok", float(s + 1), None, 1, 1)
        for s in range(40)
    ]
    publish(cloudwatch_client, requests)
    end = start + timedelta(minutes=1)
    p = window_value(
        cloudwatch_client, BASE_HAIKU, "InvocationLatency", "p97.5", start=start, end=end
    )
    assert p == 39.0  # ceil(0.975 * 40) = 39th of 1..40


def test_per_period_sums_match_minute_datapoints(
    published: CloudWatchClient, requests: list[Request]
) -> None:
    start, end = scenario_window(NOW)
    metrics = ("Invocations", "InvocationThrottles", "OutputTokenCount", "CacheReadInputTokenCount")
    queries = [query(US_SONNET, m, "Sum", 60, f"m{i}") for i, m in enumerate(metrics)]
    got = fetch(published, queries, start, end)
    for i, metric in enumerate(metrics):
        truth = per_period(requests, start, end, 60, US_SONNET, metric)
        assert len(truth) == 60
        assert got[f"m{i}"] == {t: v for t, v in truth if v is not None}, metric
    # Every accepted request also publishes InvocationThrottles=0 (throttled ones only that).
    assert set(got["m0"]) <= set(got["m1"])


def test_list_metrics_shows_model_id_series_and_both_cache_spellings(
    published: CloudWatchClient,
) -> None:
    listed: set[tuple[str, str]] = set()
    for page in published.get_paginator("list_metrics").paginate(Namespace="AWS/Bedrock"):
        for metric in page["Metrics"]:
            dimensions = metric.get("Dimensions", [])
            assert [d["Name"] for d in dimensions] == ["ModelId"]
            listed.add((dimensions[0]["Value"], metric.get("MetricName", "")))
    assert {model_id for model_id, _ in listed} == set(SCENARIO_MODELS)
    for model_id in SCENARIO_MODELS:
        names = {name for m, name in listed if m == model_id}
        assert set(SUMS.values()) | {"InvocationLatency"} <= names
        assert ("TimeToFirstToken" in names) == (model_id not in {NON_STREAMING, SPARSE_LATE})
        cache = {n for n in names if n.startswith("Cache")}
        assert cache == set(CACHE_NAMES.get(model_id, ())), model_id
