"""Made-up rows of the five views beside the models table, at scale, for benchmarks (hundreds
of Mantle project x model pairs, guardrails, agent aliases, knowledge bases, batch models).

``ViewsCloudWatch`` wraps a ``DemoCloudWatch`` (which keeps answering for ``AWS/Bedrock``,
with ``synthetic_profiles`` at scale) and answers ``list_metrics`` / ``get_metric_data`` for
``AWS/BedrockMantle``, ``AWS/Bedrock/Agents``, ``AWS/Bedrock/Guardrails``,
``AWS/Bedrock/KnowledgeBases`` and ``AWS/Bedrock/Batch`` itself, with the metric names and
dimension sets of ``figures.surfaces`` (and, as Bedrock does, the coarser sets beside the
rows': Mantle's account / project / model levels with their ``Total*Tokens``, Agents'
``{Operation}`` and ``{Operation, ModelId}``, Guardrails' ``{Operation}`` and
``{GuardrailContentSource}``), 500 per ListMetrics page.

The values are simple and deterministic, not a simulation: every series of a row has a
datapoint every minute (the response sizes are those of a busy account), whole numbers, and a
coarser series is the exact sum of the rows it covers (Mantle's roll-up checks agree). A
minute is visible from ``minute start + 120 s`` on, like the demo's. The ``demo.surfaces``
world publishes a fixed handful of rows; this one scales to any number.
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from bedrock_top.demo.cloudwatch import DemoCloudWatch, matching_metrics, metrics_page
from bedrock_top.figures.catalog import NAMESPACE
from bedrock_top.figures.surfaces import AGENTS, BATCH, GUARDRAILS, KNOWLEDGE_BASES, MANTLE

ACCOUNT_ID: Final = "123456789012"
MAX_QUERIES: Final = 500
PUBLISH_DELAY: Final = 120

Dims = tuple[tuple[str, str], ...]
# How a metric's datums look: "count": one datum of 1 per event; "flag": one datum of 0 or 1
# per event (errors, throttles); "amount": one datum per event around a mean (tokens,
# milliseconds, iterations); "level": one datum per minute (the batch gauges and rates);
# "total": one datum per minute, the sum of the rows' ``amount`` it rolls up (Mantle's
# ``Total*Tokens``).
Shape = Literal["count", "flag", "amount", "level", "total"]

_SHAPES: Final[dict[str, tuple[Shape, int]]] = {
    # name: (shape, mean of an amount / scale of a level)
    "Inferences": ("count", 1),
    "Invocations": ("count", 1),
    "InvocationCount": ("count", 1),
    "ModelInvocationCount": ("count", 1),
    "InferenceClientErrors": ("flag", 1),
    "InvocationClientErrors": ("flag", 1),
    "InvocationServerErrors": ("flag", 1),
    "InvocationThrottles": ("flag", 1),
    "InvocationsIntervened": ("flag", 1),
    "ModelInvocationThrottles": ("flag", 1),
    "ModelInvocationClientErrors": ("flag", 1),
    "ModelInvocationServerErrors": ("flag", 1),
    "ClientErrors": ("flag", 1),
    "ServerErrors": ("flag", 1),
    "Throttles": ("flag", 1),
    "InputTokens": ("amount", 1500),
    "OutputTokens": ("amount", 400),
    "InputTokenCount": ("amount", 1800),
    "OutputTokenCount": ("amount", 250),
    "TextUnitCount": ("amount", 3),
    "InvocationLatency": ("amount", 220),
    "TotalTime": ("amount", 2200),
    "TTFT": ("amount", 700),
    "ModelLatency": ("amount", 900),
    "TotalIterationCount": ("amount", 2),
    "NumberOfRecordsPendingProcessing": ("level", 40_000),
    "NumberOfTokensPendingProcessing": ("level", 36_000_000),
    "NumberOfInputTokensProcessedPerMinute": ("level", 400_000),
    "NumberOfOutputTokensProcessedPerMinute": ("level", 120_000),
    "TotalInputTokens": ("total", 1500),  # the scale of the amount it adds up
    "TotalOutputTokens": ("total", 400),
}

MANTLE_METRICS: Final = ("Inferences", "InferenceClientErrors", "InputTokens", "OutputTokens")
MANTLE_COARSE: Final = ("Inferences", "InferenceClientErrors", "TotalInputTokens",
                        "TotalOutputTokens")  # fmt: skip
MANTLE_MODELS: Final = (
    "anthropic.claude-sonnet-4-6", "anthropic.claude-haiku-4-5", "anthropic.claude-opus-4-7",
    "openai.gpt-oss-120b", "openai.gpt-oss-20b", "meta.llama4-maverick-17b", "qwen.qwen3-32b",
    "mistral.mistral-large-3", "deepseek.v3-1", "amazon.nova-pro", "amazon.nova-lite",
    "google.gemma-3-27b", "moonshot.kimi-k2", "minimax.minimax-m2", "zai.glm-4-6",
)  # fmt: skip
AGENT_REQUEST: Final = ("InvocationCount", "TTFT", "InvocationThrottles",
                        "InvocationServerErrors", "InvocationClientErrors")  # fmt: skip
AGENT_MODEL: Final = ("TotalTime", "ModelLatency", "ModelInvocationCount",
                      "ModelInvocationThrottles", "ModelInvocationClientErrors",
                      "ModelInvocationServerErrors", "InputTokenCount",
                      "OutputTokenCount")  # fmt: skip
AGENT_MODELS: Final = ("anthropic.claude-3-haiku-20240307-v1:0",
                       "us.anthropic.claude-sonnet-4-20250514-v1:0")  # fmt: skip
GUARDRAIL_METRICS: Final = ("Invocations", "InvocationLatency", "InvocationsIntervened",
                            "TextUnitCount", "InvocationThrottles", "InvocationClientErrors",
                            "InvocationServerErrors")  # fmt: skip
GUARDRAIL_POLICY: Final = ("InvocationsIntervened", "TextUnitCount")
KB_METRICS: Final = ("Invocations", "ClientErrors", "ServerErrors", "Throttles")
BATCH_METRICS: Final = ("NumberOfRecordsPendingProcessing", "NumberOfTokensPendingProcessing",
                        "NumberOfInputTokensProcessedPerMinute",
                        "NumberOfOutputTokensProcessedPerMinute")  # fmt: skip


@dataclass(frozen=True, slots=True)
class ViewMix:
    """How many rows each view has (models: ``synthetic_profiles``)."""

    models: int
    mantle: int
    guardrails: int
    agents: int
    knowledge_bases: int
    batch: int

    @property
    def rows(self) -> int:
        return sum(asdict(self).values())

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class _Series:
    shape: Shape
    scale: int
    members: tuple[int, ...]  # the seeds of the rows this series adds up (a row: its own)


def _seed(*parts: object) -> int:
    return zlib.crc32(repr(parts).encode())


def _events(seed: int, minute: int) -> int:
    """Events of a row in a minute: 1-9, never none (a busy account)."""
    return 1 + (seed + 7 * minute) % 9


def _mean(seed: int, scale: int) -> int:
    return max(1, scale * (50 + seed % 100) // 100)


def _sum_count(shape: Shape, scale: int, seed: int, minute: int) -> tuple[int, int]:
    """(Sum, SampleCount) of one row's metric in one minute."""
    if shape == "level":  # a backlog draining over a 2-hour cycle, one datum a minute
        return scale * (120 - (minute + seed) % 120) // 120, 1
    n = _events(seed, minute)
    if shape == "count":
        return n, n
    if shape == "flag":
        return int((seed + minute) % 23 == 0), n
    if shape == "total":  # one datum per minute for all the rows it covers
        return n * _mean(seed, scale), 0
    return n * _mean(seed, scale), n


class _Namespace:
    """One namespace's listing and series."""

    def __init__(self, namespace: str) -> None:
        self.namespace = namespace
        self.listing: list[tuple[str, Dims]] = []
        self.series: dict[tuple[str, frozenset[tuple[str, str]]], _Series] = {}

    def add(self, names: Sequence[str], dims: Dims, members: Sequence[int]) -> None:
        for name in names:
            key = (name, frozenset(dims))
            shape, scale = _SHAPES[name]
            found = self.series.get(key)
            if found is None:
                self.listing.append((name, dims))
                self.series[key] = _Series(shape, scale, tuple(members))
            else:  # one more row this coarser series covers
                self.series[key] = _Series(shape, scale, (*found.members, *members))


def _mantle(count: int) -> _Namespace:
    ns = _Namespace(MANTLE.namespace)
    models = MANTLE_MODELS[: max(1, min(count, len(MANTLE_MODELS)))]
    for i in range(count):
        project, model = (
            ("Project", f"proj_{i // len(models):03d}"),
            ("Model", models[i % len(models)]),
        )
        seed = _seed("mantle", i)
        ns.add(MANTLE_METRICS, (project, model), [seed])
        for coarse in ((), (project,), (model,)):
            ns.add(MANTLE_COARSE, coarse, [seed])
    return ns


def _agents(count: int, region: str) -> _Namespace:
    ns = _Namespace(AGENTS.namespace)
    operation = ("Operation", "InvokeAgent")
    for i in range(count):
        agent, alias = f"AGENT{i // len(AGENT_MODELS):05d}", f"ALIAS{i % 3:05d}"
        arn = f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:agent-alias/{agent}/{alias}"
        model = ("ModelId", AGENT_MODELS[i % len(AGENT_MODELS)])
        seed = _seed("agents", i)
        ns.add((*AGENT_REQUEST, *AGENT_MODEL), (operation, ("AgentAliasArn", arn), model), [seed])
        ns.add((*AGENT_REQUEST, *AGENT_MODEL), (operation,), [seed])
        ns.add(AGENT_MODEL, (operation, model), [seed])
    return ns


def _guardrails(count: int, region: str) -> _Namespace:
    ns = _Namespace(GUARDRAILS.namespace)
    for i in range(count):
        arn = f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:guardrail/gr{i // 2:05d}"
        row = (("GuardrailArn", arn), ("GuardrailVersion", ("1", "DRAFT")[i % 2]))
        seed = _seed("guardrails", i)
        ns.add(GUARDRAIL_METRICS, row, [seed])
        ns.add(GUARDRAIL_POLICY, (*row, ("GuardrailPolicyType", "ContentPolicy")), [seed])
        ns.add(GUARDRAIL_METRICS, (("Operation", "ApplyGuardrail"),), [seed])
        source = ("GuardrailContentSource", ("Input", "Output")[seed % 2])
        ns.add(GUARDRAIL_METRICS, (source,), [seed])
    return ns


def _knowledge_bases(count: int) -> _Namespace:
    ns = _Namespace(KNOWLEDGE_BASES.namespace)
    for i in range(count):
        row = (("Operation", "Retrieve"), ("KnowledgeBaseId", f"knowledge-base/KB{i:08d}"))
        ns.add(KB_METRICS, row, [_seed("knowledge-bases", i)])
    return ns


def _batch(count: int) -> _Namespace:
    ns = _Namespace(BATCH.namespace)
    for i in range(count):
        # Anthropic models also publish the pending tokens.
        anthropic = i % 2 == 0
        model = (
            f"anthropic.claude-batch-{i:04d}-v1:0" if anthropic else f"amazon.nova-batch-{i:04d}"
        )
        names = BATCH_METRICS if anthropic else tuple(n for n in BATCH_METRICS if "Tokens" not in n)
        ns.add(names, (("ModelId", model),), [_seed("batch", i)])
    return ns


def _epoch(value: datetime | float) -> float:
    return value.timestamp() if isinstance(value, datetime) else float(value)


class ViewsCloudWatch:
    """``DemoCloudWatch`` for ``AWS/Bedrock``, plus ``mix``'s rows of the five views."""

    def __init__(self, inner: DemoCloudWatch, mix: ViewMix, clock: Callable[[], float]) -> None:
        self.inner = inner
        self.clock = clock
        region = inner.region
        found = (
            _mantle(mix.mantle),
            _agents(mix.agents, region),
            _guardrails(mix.guardrails, region),
            _knowledge_bases(mix.knowledge_bases),
            _batch(mix.batch),
        )
        self.namespaces: dict[str, _Namespace] = {ns.namespace: ns for ns in found}
        self._stamps: dict[int, datetime] = {}

    # --- ListMetrics -------------------------------------------------------------------------

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        namespace = kwargs.get("Namespace", NAMESPACE)
        ns = self.namespaces.get(namespace)
        if ns is None:
            return self.inner.list_metrics(**kwargs)
        matches = matching_metrics(ns.listing, kwargs)
        token = kwargs.get("NextToken")
        offset = int(token.removeprefix("views-list-")) if token else 0
        return metrics_page(namespace, matches, offset, kwargs, "views-list-")

    # --- GetMetricData -----------------------------------------------------------------------

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        """The views' queries answered here, the others by the demo (one request of their
        own, same range), the results in query order as CloudWatch gives them."""
        queries: list[Mapping[str, Any]] = kwargs["MetricDataQueries"]
        if len(queries) > MAX_QUERIES:
            raise ValueError(f"{len(queries)} queries in one call (CloudWatch allows 500)")
        if "NextToken" in kwargs:
            raise ValueError("ViewsCloudWatch answers in one page")
        results: dict[str, Mapping[str, Any]] = {}
        others = [
            q for q in queries if q["MetricStat"]["Metric"]["Namespace"] not in self.namespaces
        ]
        if others:
            answer = self.inner.get_metric_data(**{**kwargs, "MetricDataQueries": others})
            if "NextToken" in answer:
                raise ValueError("the demo's part of a call did not fit one page")
            results = {r["Id"]: r for r in answer["MetricDataResults"]}
        start, end = _epoch(kwargs["StartTime"]), _epoch(kwargs["EndTime"])
        ascending = kwargs.get("ScanBy", "TimestampDescending") == "TimestampAscending"
        now = self.clock()
        for query in queries:
            if query["Id"] not in results:
                results[query["Id"]] = self._result(query, start, end, now, ascending)
        return {
            "MetricDataResults": [results[q["Id"]] for q in queries if q.get("ReturnData", True)],
            "Messages": [],
        }

    def _result(
        self, query: Mapping[str, Any], start: float, end: float, now: float, ascending: bool
    ) -> dict[str, Any]:
        stat = query["MetricStat"]
        metric = stat["Metric"]
        dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", ()))
        series = self.namespaces[metric["Namespace"]].series.get((metric["MetricName"], dims))
        points = [] if series is None else self._points(series, stat, start, end, now)
        if not ascending:
            points.reverse()
        stamps = self._stamps
        return {
            "Id": query["Id"],
            "Label": query.get("Label", metric["MetricName"]),
            "Timestamps": [
                stamps.get(t) or stamps.setdefault(t, datetime.fromtimestamp(t, UTC))
                for t, _ in points
            ],
            "Values": [v for _, v in points],
            "StatusCode": "Complete",
        }

    def _points(
        self, series: _Series, stat: Mapping[str, Any], start: float, end: float, now: float
    ) -> list[tuple[int, float]]:
        """(bucket start, value), ascending, for each bucket with a visible minute."""
        period, statistic = stat["Period"], stat["Stat"]
        published = math.floor((now - PUBLISH_DELAY) / 60) + 1  # minutes before are visible
        first = int(start // 60) * 60
        minutes, last_minute = period // 60, math.ceil(end / 60)
        points = []
        for bucket in range(first, math.ceil(end), period):
            lo = bucket // 60
            hi = min(lo + minutes if bucket + period <= end else last_minute, published)
            if hi > lo:
                points.append((bucket, _statistic(series, statistic, lo, hi)))
        return points


def _statistic(series: _Series, statistic: str, lo: int, hi: int) -> float:
    """A statistic of a series over minutes [lo, hi): sums and counts exact; averages and
    percentiles from them (a percentile is the mean scaled: plausible, not exact)."""
    total = count = 0
    shape, scale = series.shape, series.scale
    for minute in range(lo, hi):
        for seed in series.members:
            s, n = _sum_count(shape, scale, seed, minute)
            total, count = total + s, count + n
    if shape == "total":
        count = hi - lo
    if statistic == "Sum":
        return float(total)
    if statistic == "SampleCount":
        return float(count)
    mean = total / count if count else 0.0
    if statistic == "Average":
        return mean
    if statistic == "Minimum":
        return mean * 0.2
    if statistic == "Maximum":
        return mean * 3
    hundredths = float(statistic.removeprefix("p"))
    return round(mean * (0.6 + hundredths / 100), 3)
