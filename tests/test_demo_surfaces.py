"""The demo's other Bedrock namespaces, through the boto3-shaped API only: the documented
dimension sets, self-consistent roll-ups, statistics over raw datums, late data, batch drains."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bedrock_top.demo.cloudwatch import DEFAULT_PROFILES, DemoCloudWatch
from bedrock_top.figures import surfaces as views

NOW = 1_790_000_000.0  # 2026-09-21 13:33:20 UTC, the fixed clock of test_demo.py
MINUTE = 60
# The newest minute published at NOW is the one that started at NOW - 120 s or earlier.
SETTLED = (math.floor((NOW - 120) / MINUTE) + 1) * MINUTE
HOUR_AGO = SETTLED - 3600

MANTLE = "AWS/BedrockMantle"
AGENTS = "AWS/Bedrock/Agents"
GUARDRAILS = "AWS/Bedrock/Guardrails"
KB = "AWS/Bedrock/KnowledgeBases"
BATCH = "AWS/Bedrock/Batch"
NAMESPACES = (MANTLE, AGENTS, GUARDRAILS, KB, BATCH)

PROJECTS = ("default", "proj_support", "proj_research")
ROWS = (
    ("default", "anthropic.claude-sonnet-4-6"),
    ("default", "openai.gpt-oss-120b"),
    ("proj_support", "anthropic.claude-sonnet-4-6"),
    ("proj_support", "anthropic.claude-haiku-4-5"),
    ("proj_research", "anthropic.claude-opus-4-7"),
    ("proj_research", "anthropic.claude-sonnet-4-6"),
)
MODELS = tuple(dict.fromkeys(model for _, model in ROWS))
CLAUDE_BATCH = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA_BATCH = "amazon.nova-micro-v1:0"

Dims = Mapping[str, str]
Series = dict[int, float]  # epoch seconds -> value
DimNames = frozenset[str]

_OP, _OP_MODEL, _OP_ALIAS = (
    frozenset({"Operation"}),
    frozenset({"Operation", "ModelId"}),
    frozenset({"Operation", "AgentAliasArn", "ModelId"}),
)
_GR, _SOURCE, _GR_ID = (
    frozenset({"Operation"}),
    frozenset({"GuardrailContentSource"}),
    frozenset({"GuardrailArn", "GuardrailVersion"}),
)
_GR_POLICY = _GR_ID | {"GuardrailPolicyType"}
_MANTLE_LEVELS = [frozenset(), frozenset({"Project"}), frozenset({"Model"})]
# Sections 2-6 of docs/cloudwatch-namespaces.md: metric -> the dimension-name sets it has.
DOCUMENTED: dict[str, dict[str, set[DimNames]]] = {
    MANTLE: {
        "Inferences": {*_MANTLE_LEVELS, frozenset({"Project", "Model"})},
        "InferenceClientErrors": {*_MANTLE_LEVELS, frozenset({"Project", "Model"})},
        "TotalInputTokens": set(_MANTLE_LEVELS),
        "TotalOutputTokens": set(_MANTLE_LEVELS),
        "InputTokens": {frozenset({"Project", "Model"})},
        "OutputTokens": {frozenset({"Project", "Model"})},
    },
    AGENTS: {
        **{
            name: {_OP, _OP_ALIAS}
            for name in (
                "InvocationCount",
                "TTFT",
                "InvocationThrottles",
                "InvocationServerErrors",
                "InvocationClientErrors",
            )
        },
        **{
            name: {_OP, _OP_MODEL, _OP_ALIAS}
            for name in (
                "TotalTime",
                "ModelLatency",
                "ModelInvocationCount",
                "ModelInvocationThrottles",
                "ModelInvocationClientErrors",
                "ModelInvocationServerErrors",
                "InputTokenCount",
                "OutputTokenCount",
            )
        },
    },
    GUARDRAILS: {
        **{
            name: {_GR, _SOURCE, _GR_ID}
            for name in (
                "Invocations",
                "InvocationLatency",
                "InvocationThrottles",
                "InvocationClientErrors",
                "InvocationServerErrors",
            )
        },
        "InvocationsIntervened": {_GR, _SOURCE, _GR_ID, _GR_POLICY},
        "TextUnitCount": {_GR, _SOURCE, _GR_ID, _GR_POLICY},
        "TotalFindings": {frozenset({"PolicyArn", "PolicyVersion"})},
    },
    KB: {
        "Invocations": {frozenset({"Operation", "KnowledgeBaseId"}), frozenset({"Operation"})},
        "Throttles": {frozenset({"Operation", "KnowledgeBaseId"})},
        "ClientErrors": {frozenset({"Operation", "KnowledgeBaseId"})},
        "TotalIterationCount": {frozenset({"Operation"})},
        "RawDataSize": {frozenset({"KnowledgeBaseId"})},
    },
    BATCH: {
        name: {frozenset({"ModelId"})}
        for name in (
            "NumberOfRecordsPendingProcessing",
            "NumberOfTokensPendingProcessing",
            "NumberOfInputTokensProcessedPerMinute",
            "NumberOfOutputTokensProcessedPerMinute",
        )
    },
}


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def listing(cw: DemoCloudWatch, namespace: str, **kwargs: Any) -> list[dict[str, Any]]:
    metrics: list[dict[str, Any]] = []
    token: dict[str, str] = {}
    while True:
        page = cw.list_metrics(Namespace=namespace, **kwargs, **token)
        metrics += page["Metrics"]
        if "NextToken" not in page:
            return metrics
        token = {"NextToken": page["NextToken"]}


def query(
    namespace: str, name: str, dims: Dims, stat: str, period: int = 60, qid: str = "q"
) -> dict[str, Any]:
    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    metric = {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions}
    return {"Id": qid, "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}}


def fetch_all(
    cw: DemoCloudWatch, queries: Sequence[dict[str, Any]], start: float, end: float
) -> list[Series]:
    """Each query's points, in query order (following NextToken)."""
    results: dict[str, Series] = {q["Id"]: {} for q in queries}
    token: dict[str, str] = {}
    while True:
        response = cw.get_metric_data(
            MetricDataQueries=list(queries),
            StartTime=at(start),
            EndTime=at(end),
            ScanBy="TimestampAscending",
            **token,
        )
        for result in response["MetricDataResults"]:
            stamps = (int(t.timestamp()) for t in result["Timestamps"])
            results[result["Id"]].update(zip(stamps, result["Values"], strict=True))
        if "NextToken" not in response:
            return [results[q["Id"]] for q in queries]
        token = {"NextToken": response["NextToken"]}


def fetch(
    cw: DemoCloudWatch,
    namespace: str,
    name: str,
    dims: Dims,
    stat: str = "Sum",
    period: int = 60,
    start: float = HOUR_AGO,
    end: float = SETTLED,
) -> Series:
    (series,) = fetch_all(cw, [query(namespace, name, dims, stat, period)], start, end)
    return series


def added(series: Sequence[Series]) -> Series:
    total: defaultdict[int, float] = defaultdict(float)
    for one in series:
        for stamp, value in one.items():
            total[stamp] += value
    return dict(total)


def minute_values(
    cw: DemoCloudWatch, namespace: str, name: str, dims: Dims, minute: int
) -> list[float]:
    """Every datum of one minute, ascending, recovered through the public API: the k-th of
    n is the nearest-rank percentile p(100 k / n), asked in hundredths of a percent."""
    counts = fetch(cw, namespace, name, dims, "SampleCount", start=minute, end=minute + 60)
    n = int(counts.get(minute, 0))
    stats = [_percentile_name(10_000 * k // n) for k in range(1, n + 1)]
    queries = [query(namespace, name, dims, s, qid=f"k{i}") for i, s in enumerate(stats)]
    return [v for series in fetch_all(cw, queries, minute, minute + 60) for v in series.values()]


def _percentile_name(hundredths: int) -> str:
    whole, frac = divmod(hundredths, 100)
    return f"p{whole}.{frac:02d}" if frac else f"p{whole}"


def nearest_rank(values: Sequence[float], percent: float) -> float:
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def fixed(now: float) -> Callable[[], float]:
    return lambda: now


@pytest.fixture
def cw() -> DemoCloudWatch:
    return DemoCloudWatch(seed=0, clock=lambda: NOW)


# --- listings ------------------------------------------------------------------------------------


@pytest.mark.parametrize("namespace", NAMESPACES)
def test_listing_has_exactly_the_documented_dimension_sets(
    cw: DemoCloudWatch, namespace: str
) -> None:
    metrics = listing(cw, namespace)
    assert all(m["Namespace"] == namespace for m in metrics)
    found: defaultdict[str, set[DimNames]] = defaultdict(set)
    for m in metrics:
        found[m["MetricName"]].add(frozenset(d["Name"] for d in m["Dimensions"]))
    assert dict(found) == DOCUMENTED[namespace]
    keys = [(m["MetricName"], str(m["Dimensions"])) for m in metrics]
    assert len(keys) == len(set(keys))


def test_listing_values(cw: DemoCloudWatch) -> None:
    def values(namespace: str, dimension: str) -> set[str]:
        return {
            d["Value"]
            for m in listing(cw, namespace)
            for d in m["Dimensions"]
            if d["Name"] == dimension
        }

    assert values(MANTLE, "Project") == set(PROJECTS)
    assert values(MANTLE, "Model") == set(MODELS)
    rows = {
        (d["Project"], d["Model"])
        for m in listing(cw, MANTLE, MetricName="InputTokens")
        for d in [{x["Name"]: x["Value"] for x in m["Dimensions"]}]
    }
    assert rows == set(ROWS)
    arn = "arn:aws:bedrock:us-east-1:123456789012"
    assert values(AGENTS, "AgentAliasArn") == {f"{arn}:agent-alias/AGENT7K2Q9/ALIASPROD1"}
    assert values(AGENTS, "Operation") == {"InvokeAgent", "InvokeInlineAgent"}
    inline = listing(cw, AGENTS, Dimensions=[{"Name": "Operation", "Value": "InvokeInlineAgent"}])
    assert inline
    assert all(len(m["Dimensions"]) == 1 for m in inline)  # no alias, no model
    assert values(GUARDRAILS, "GuardrailArn") == {
        f"{arn}:guardrail/gr7pii2mask",
        f"{arn}:guardrail/gr4topics9x",
    }
    assert values(GUARDRAILS, "GuardrailVersion") == {"1", "DRAFT"}
    assert values(GUARDRAILS, "GuardrailContentSource") == {"Input", "Output"}
    assert values(KB, "KnowledgeBaseId") == {"knowledge-base/KB8H3N2XQ1"}
    assert values(BATCH, "ModelId") == {CLAUDE_BATCH, NOVA_BATCH}
    tokens = listing(cw, BATCH, MetricName="NumberOfTokensPendingProcessing")
    assert [m["Dimensions"] for m in tokens] == [[{"Name": "ModelId", "Value": CLAUDE_BATCH}]]
    frankfurt = DemoCloudWatch(seed=0, clock=lambda: NOW, region="eu-central-1")
    assert {
        d["Value"]
        for m in listing(frankfurt, AGENTS)
        for d in m["Dimensions"]
        if d["Name"] == "AgentAliasArn"
    } == {"arn:aws:bedrock:eu-central-1:123456789012:agent-alias/AGENT7K2Q9/ALIASPROD1"}


def test_listing_filters_and_pages(cw: DemoCloudWatch) -> None:
    page = cw.list_metrics(Namespace=MANTLE, IncludeLinkedAccounts=True)
    assert "NextToken" not in page
    assert page["OwningAccounts"] == ["123456789012"] * len(page["Metrics"])
    errors = listing(cw, MANTLE, MetricName="InferenceClientErrors")
    assert len(errors) == 1 + len(PROJECTS) + len(MODELS) + len(ROWS)
    research = listing(cw, MANTLE, Dimensions=[{"Name": "Project", "Value": "proj_research"}])
    assert {m["MetricName"] for m in research} == set(DOCUMENTED[MANTLE])
    assert listing(cw, MANTLE, Dimensions=[{"Name": "Operation"}]) == []
    assert listing(cw, "AWS/Bedrock/Nothing") == []
    with pytest.raises(ClientError):
        cw.list_metrics(Namespace=AGENTS, RecentlyActive="PT1H")
    with pytest.raises(ClientError):
        cw.list_metrics(Namespace=AGENTS, NextToken="garbage")


def test_bedrock_listing_is_unchanged(cw: DemoCloudWatch) -> None:
    expected = []
    for profile in DEFAULT_PROFILES:
        base = [{"Name": "ModelId", "Value": profile.model_id}]
        expected += [(name, base) for name in profile.metric_names()]
        for dim, value, names in profile.extra_dimensions:
            expected += [(name, [*base, {"Name": dim, "Value": value}]) for name in names]
    metrics = listing(cw, "AWS/Bedrock")
    assert [(m["MetricName"], m["Dimensions"]) for m in metrics] == expected
    assert {m["Namespace"] for m in metrics} == {"AWS/Bedrock"}
    assert cw.list_metrics()["Metrics"] == metrics  # no Namespace: AWS/Bedrock, as before


def test_every_view_finds_its_heartbeat_at_every_level(cw: DemoCloudWatch) -> None:
    for view in views.SURFACES:
        listed = listing(cw, view.namespace)
        heartbeat = view.measure(view.heartbeat).names
        for level in view.levels:
            assert any(
                m["MetricName"] in heartbeat
                and frozenset(d["Name"] for d in m["Dimensions"]) == frozenset(level)
                for m in listed
            ), (view.name, level)
    unknown = {m["MetricName"] for m in listing(cw, GUARDRAILS)} - views.GUARDRAILS.known_names()
    assert unknown == {"TotalFindings"}  # the product must report it


def test_every_listed_series_has_data_in_three_hours(cw: DemoCloudWatch) -> None:
    metrics = [m for ns in NAMESPACES for m in listing(cw, ns)]
    queries = [
        {"Id": f"q{i}", "MetricStat": {"Metric": m, "Period": 3600, "Stat": "SampleCount"}}
        for i, m in enumerate(metrics)
    ]
    results = fetch_all(cw, queries, SETTLED - 3 * 3600, SETTLED)
    empty = [m["MetricName"] for m, series in zip(metrics, results, strict=True) if not series]
    assert empty == []  # honest with RecentlyActive=PT3H


# --- Mantle roll-ups -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Inferences", "InferenceClientErrors"])
def test_mantle_levels_agree(cw: DemoCloudWatch, name: str) -> None:
    account = fetch(cw, MANTLE, name, {})
    by_project = [fetch(cw, MANTLE, name, {"Project": p}) for p in PROJECTS]
    by_model = [fetch(cw, MANTLE, name, {"Model": m}) for m in MODELS]
    by_row = [fetch(cw, MANTLE, name, {"Project": p, "Model": m}) for p, m in ROWS]
    assert len(account) == 60
    assert account == added(by_project) == added(by_model) == added(by_row)
    hourly = fetch(cw, MANTLE, name, {}, period=3600)
    assert hourly == {HOUR_AGO: sum(account.values())}


@pytest.mark.parametrize(
    ("total", "per_inference"),
    [("TotalInputTokens", "InputTokens"), ("TotalOutputTokens", "OutputTokens")],
)
def test_mantle_total_tokens_are_sums_of_per_inference_tokens(
    cw: DemoCloudWatch, total: str, per_inference: str
) -> None:
    rows = {
        row: fetch(cw, MANTLE, per_inference, dict(zip(("Project", "Model"), row, strict=True)))
        for row in ROWS
    }
    for project in PROJECTS:
        mine = [series for (p, _), series in rows.items() if p == project]
        assert fetch(cw, MANTLE, total, {"Project": project}) == added(mine)
    for model in MODELS:
        mine = [series for (_, m), series in rows.items() if m == model]
        assert fetch(cw, MANTLE, total, {"Model": model}) == added(mine)
    assert fetch(cw, MANTLE, total, {}) == added(list(rows.values()))
    # One datum per interval: per-interval totals, unlike the per-inference series.
    counts = fetch(cw, MANTLE, total, {}, "SampleCount")
    assert set(counts.values()) == {1.0}


def test_input_tokens_sample_count_is_inferences(cw: DemoCloudWatch) -> None:
    for project, model in ROWS:
        dims = {"Project": project, "Model": model}
        inferences = fetch(cw, MANTLE, "Inferences", dims)
        assert fetch(cw, MANTLE, "InputTokens", dims, "SampleCount") == inferences
        assert fetch(cw, MANTLE, "OutputTokens", dims, "SampleCount") == inferences
        assert max(inferences.values()) <= 40


# --- statistics over raw datums ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("namespace", "name", "dims"),
    [
        (MANTLE, "InputTokens", {"Project": "proj_support", "Model": "anthropic.claude-haiku-4-5"}),
        (MANTLE, "OutputTokens", {"Project": "default", "Model": "anthropic.claude-sonnet-4-6"}),
        (AGENTS, "TotalTime", {"Operation": "InvokeAgent"}),
        (GUARDRAILS, "InvocationLatency", {"GuardrailContentSource": "Input"}),
        (KB, "TotalIterationCount", {"Operation": "AgenticRetrieveStream"}),
    ],
)
def test_percentiles_are_nearest_rank_over_the_bucket(
    cw: DemoCloudWatch, namespace: str, name: str, dims: Dims
) -> None:
    start = SETTLED - 10 * MINUTE
    values = [
        v
        for minute in range(start, SETTLED, MINUTE)
        for v in minute_values(cw, namespace, name, dims, minute)
    ]
    assert len(values) > 5
    stats = ["p50", "p90", "p99", "p99.9", "Minimum", "Maximum", "Sum", "SampleCount", "Average"]
    queries = [query(namespace, name, dims, s, 600, f"s{i}") for i, s in enumerate(stats)]
    got = [series[start] for series in fetch_all(cw, queries, start, SETTLED)]
    expected = [nearest_rank(values, p) for p in (50, 90, 99, 99.9)]
    expected += [min(values), max(values), sum(values), len(values), sum(values) / len(values)]
    assert got == pytest.approx(expected)


def test_agent_latencies_are_per_request_milliseconds(cw: DemoCloudWatch) -> None:
    where = {"Operation": "InvokeAgent"}
    p50 = fetch(cw, AGENTS, "TotalTime", where, "p50", 3600)[HOUR_AGO]
    model_p50 = fetch(cw, AGENTS, "ModelLatency", where, "p50", 3600)[HOUR_AGO]
    ttft = fetch(cw, AGENTS, "TTFT", where, "p50", 3600)[HOUR_AGO]
    assert 300 < model_p50 < p50 < 10_000
    assert 100 < ttft < p50
    requests = fetch(cw, AGENTS, "InvocationCount", where, period=3600)[HOUR_AGO]
    calls = fetch(cw, AGENTS, "ModelInvocationCount", where, period=3600)[HOUR_AGO]
    assert requests < calls < 3 * requests  # several model calls per request


# --- late data, determinism, validation -----------------------------------------------------------


def test_a_minute_appears_once_it_ended_plus_a_minute() -> None:
    minute = SETTLED - 10 * MINUTE
    for now, visible in ((minute + 119.9, False), (minute + 120, True)):
        cw = DemoCloudWatch(seed=0, clock=fixed(now))
        for namespace, name, dims in (
            (MANTLE, "Inferences", {}),
            (GUARDRAILS, "Invocations", {"Operation": "ApplyGuardrail"}),
            (MANTLE, "TotalInputTokens", {"Project": "proj_support"}),
        ):
            series = fetch(cw, namespace, name, dims, start=minute - 600, end=minute + 600)
            assert (minute in series) == visible
            assert max(series) == (minute if visible else minute - MINUTE)


def test_polls_repeat_and_regions_differ(cw: DemoCloudWatch) -> None:
    def sample(cw: DemoCloudWatch) -> list[Series]:
        queries = [
            query(
                MANTLE, "InputTokens", {"Project": "default", "Model": MODELS[0]}, "p90", 300, "a"
            ),
            query(AGENTS, "TotalTime", {"Operation": "InvokeAgent"}, "Average", 60, "b"),
            query(KB, "Invocations", {"Operation": "AgenticRetrieveStream"}, "Sum", 60, "c"),
        ]
        return fetch_all(cw, queries, HOUR_AGO, SETTLED)

    first = sample(cw)
    assert sample(cw) == first
    later = DemoCloudWatch(seed=0, clock=lambda: NOW + 3600)
    assert sample(later) == first  # published data never changes
    assert sample(DemoCloudWatch(seed=1, clock=lambda: NOW)) != first
    assert sample(DemoCloudWatch(seed=0, clock=lambda: NOW, region="eu-west-1")) != first


def test_requests_are_validated_and_old_minutes_dropped(cw: DemoCloudWatch) -> None:
    bad_period = query(MANTLE, "Inferences", {}, "Sum", 90)
    bad_stat = query(BATCH, "NumberOfRecordsPendingProcessing", {"ModelId": NOVA_BATCH}, "Median")
    for bad in (bad_period, bad_stat, {**query(MANTLE, "Inferences", {}, "Sum"), "Id": "Q"}):
        with pytest.raises(ClientError) as caught:
            cw.get_metric_data(MetricDataQueries=[bad], StartTime=at(HOUR_AGO), EndTime=at(NOW))
        assert caught.value.response["Error"]["Code"] == "ValidationError"
    old = SETTLED - 20 * 86_400
    assert fetch(cw, MANTLE, "Inferences", {}, start=old, end=old + 3600) == {}
    assert len(fetch(cw, MANTLE, "Inferences", {}, period=300, start=old, end=old + 3600)) == 12
    assert fetch(cw, MANTLE, "InputTokens", {}) == {}  # not published at the Account level
    assert fetch(cw, MANTLE, "Inferences", {}, start=NOW, end=NOW + 3600) == {}


# --- Knowledge Bases ----------------------------------------------------------------------------


def test_knowledge_base_failures_are_emitted_only_when_they_occur(cw: DemoCloudWatch) -> None:
    retrieve = {"Operation": "Retrieve", "KnowledgeBaseId": "knowledge-base/KB8H3N2XQ1"}
    start = SETTLED - 6 * 3600
    invocations = fetch(cw, KB, "Invocations", retrieve, start=start)
    for name in ("Throttles", "ClientErrors"):
        failures = fetch(cw, KB, name, retrieve, start=start)
        assert failures
        assert min(failures.values()) >= 1  # never a 0 datum
        assert len(failures) < len(invocations) / 3  # occasional
        assert all(failures[t] <= invocations[t] for t in failures)
    size = fetch(
        cw,
        KB,
        "RawDataSize",
        {"KnowledgeBaseId": retrieve["KnowledgeBaseId"]},
        "Maximum",
        start=start,
    )
    assert len(size) == 36  # one ingestion every 10 minutes
    assert all(t % 600 == 0 and 30 < v < 60 for t, v in size.items())


# --- Batch ---------------------------------------------------------------------------------------


def batch(cw: DemoCloudWatch, name: str, model: str, start: float, end: float) -> Series:
    return fetch(cw, BATCH, name, {"ModelId": model}, "Average", start=start, end=end)


def test_batch_backlog_drains_and_restarts(cw: DemoCloudWatch) -> None:
    start, end = SETTLED - 6 * 3600, SETTLED
    for model in (CLAUDE_BATCH, NOVA_BATCH):
        pending = batch(cw, "NumberOfRecordsPendingProcessing", model, start, end)
        rates = batch(cw, "NumberOfInputTokensProcessedPerMinute", model, start, end)
        runs = [r for r in _runs(sorted(pending)) if start < r[0] and r[-1] < end - MINUTE]
        assert len(runs) >= 2  # whole drains only: the window may cut one at either end
        for run in runs:
            levels = [pending[t] for t in run]
            assert 30_000 <= levels[0] <= 75_000  # the backlog jumps up at the cycle start
            assert 90 <= len(run) - 1 <= 110  # drained in about 100 minutes ...
            assert levels[-1] == 0  # ... to one final 0, then nothing while idle
            assert all(a > b for a, b in pairwise(levels))
            assert set(rates) & set(run) == set(run[:-1])  # processing while draining


def test_batch_tokens_pending_drop_by_the_input_tokens_processed(cw: DemoCloudWatch) -> None:
    start, end = SETTLED - 3 * 3600, SETTLED
    tokens = batch(cw, "NumberOfTokensPendingProcessing", CLAUDE_BATCH, start, end)
    inputs = batch(cw, "NumberOfInputTokensProcessedPerMinute", CLAUDE_BATCH, start, end)
    outputs = batch(cw, "NumberOfOutputTokensProcessedPerMinute", CLAUDE_BATCH, start, end)
    steps = [t for t in tokens if t + MINUTE in tokens]
    assert len(steps) > 100
    assert all(tokens[t] - tokens[t + MINUTE] == inputs[t] for t in steps)
    assert all(0 < outputs[t] < inputs[t] for t in inputs)
    nova = batch(cw, "NumberOfTokensPendingProcessing", NOVA_BATCH, start, end)
    assert nova == {}  # Anthropic models only


def test_batch_one_model_drains_in_every_hour(cw: DemoCloudWatch) -> None:
    start = SETTLED - 24 * 3600
    busy: set[int] = set()
    for model in (CLAUDE_BATCH, NOVA_BATCH):
        busy |= set(batch(cw, "NumberOfInputTokensProcessedPerMinute", model, start, SETTLED))
    assert busy == set(range(start, SETTLED, MINUTE))
    gauge = fetch(
        cw, BATCH, "NumberOfRecordsPendingProcessing", {"ModelId": CLAUDE_BATCH}, "SampleCount", 300
    )
    assert set(gauge.values()) <= {1.0, 2.0, 3.0, 4.0, 5.0}  # one datum per minute


def _runs(stamps: list[int]) -> list[list[int]]:
    """Consecutive minutes, grouped."""
    runs: list[list[int]] = []
    for stamp in stamps:
        if runs and runs[-1][-1] + MINUTE == stamp:
            runs[-1].append(stamp)
        else:
            runs.append([stamp])
    return runs
