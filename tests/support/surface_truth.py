"""The five surfaces beside ``AWS/Bedrock`` (Mantle, Agents, Guardrails, Knowledge Bases,
Batch): what happened, how Bedrock publishes it to CloudWatch, and the figures a tool must show.

Three separate parts, as in ``bedrock_truth``, so that a test can tell which one is wrong:

- the events (``Inference``, ``AgentRequest``, ``GuardrailCall``, ``ReasoningCheck``,
  ``KbRequest``, ``Ingestion``, ``BatchReading``) and ``scenario(view, now)``: a
  deterministic hour of each surface's traffic;
- ``publish``: the Bedrock side. Every event is published under **every** dimension set
  Bedrock documents for it (``docs/cloudwatch-namespaces.md`` sections 2-6), coarser ones
  included, so a tool that sums a metric over all of its series counts the same traffic two,
  three or four times. Per-event metrics whose distribution matters (latencies, Mantle's
  per-inference tokens, iterations, the batch readings) go out as single values, one per
  event; plain counters go out pre-aggregated per series and minute (``StatisticValues``),
  which is what a vended metric is and keeps moto fast;
- ``expected``: the truth for a window [start, end), computed straight from the events with
  code that shares nothing with ``publish``, with moto, or with the product. Figures are
  given as ``--once --format json`` writes them: milliseconds to 0.1, ratios to 1e-6, other
  means exact.

Every datum is timestamped at the start of its event's minute; a window [start, end) covers
the events of the minutes that start inside it. Values are whole numbers (milliseconds,
tokens, records) wherever Bedrock's are, so sums are exact and tests compare with ``==``.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

__all__ = [
    "COMPLETE_LAG_S",
    "DIMENSION_KEYS",
    "NAMESPACES",
    "VIEWS",
    "AgentRequest",
    "BatchReading",
    "GuardrailCall",
    "Inference",
    "Ingestion",
    "KbRequest",
    "ReasoningCheck",
    "Scenario",
    "Truth",
    "View",
    "expected",
    "publish",
    "row_key",
    "scenario",
]

View = Literal["mantle", "agents", "guardrails", "knowledge-bases", "batch"]
VIEWS: Final[tuple[View, ...]] = ("mantle", "agents", "guardrails", "knowledge-bases", "batch")

NAMESPACES: Final[dict[View, str]] = {
    "mantle": "AWS/BedrockMantle",
    "agents": "AWS/Bedrock/Agents",
    "guardrails": "AWS/Bedrock/Guardrails",
    "knowledge-bases": "AWS/Bedrock/KnowledgeBases",
    "batch": "AWS/Bedrock/Batch",
}

# The JSON keys that name a row, finest level's order (a coarser row lacks the others).
DIMENSION_KEYS: Final[dict[View, tuple[str, ...]]] = {
    "mantle": ("project", "model"),
    "agents": ("operation", "agent_alias_arn", "model_id"),
    "guardrails": ("guardrail_arn", "guardrail_version"),
    "knowledge-bases": ("operation", "knowledge_base_id"),
    "batch": ("model_id",),
}

# A period is complete when it ends at or before now - 120 s.
COMPLETE_LAG_S: Final = 120
PERIOD_S: Final = 60

MAX_VALUES_PER_DATUM: Final = 150
MAX_DATUMS_PER_CALL: Final = 1000

Outcome = Literal["ok", "client_error", "server_error", "throttled"]
RowKey = tuple[str | None, ...]
_T = TypeVar("_T")


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


# --- Events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inference:
    """One request to the Mantle endpoint. ``project`` / ``model`` are None when Bedrock could
    not resolve them (then the finer levels do not count it). Tokens count only when ``ok``;
    a failed request is a 4xx (``InferenceClientErrors``) and still an ``Inferences``."""

    at: datetime
    project: str | None
    model: str | None
    ok: bool
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True)
class AgentRequest:
    """One InvokeAgent / InvokeInlineAgent request (``alias_arn`` None for inline agents).

    A throttled request is only an ``InvocationThrottles``; a failed one an
    ``InvocationCount`` and its error. Only ``ok`` requests carry times, model calls and
    tokens. ``output_names``: the metric name(s) Bedrock publishes the output tokens under;
    ``model_client_error_name``: the spelling of the model-call client-error metric (the
    page also prints ``ModelInvocationCLientErrors``). Model-call errors are calls the agent
    retried: its request still succeeded.
    """

    at: datetime
    operation: str
    alias_arn: str | None
    model_id: str
    outcome: Outcome
    total_time_ms: int | None = None
    ttft_ms: int | None = None
    model_latencies_ms: tuple[int, ...] = ()
    model_throttles: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    output_names: tuple[str, ...] = ("OutputTokenCount",)
    model_client_errors: int = 0
    model_server_errors: int = 0
    model_client_error_name: str = "ModelInvocationClientErrors"


@dataclass(frozen=True)
class GuardrailCall:
    """One ApplyGuardrail request. A throttled call is only an ``InvocationThrottles``.
    ``intervened_by``: the policy types that intervened (ok calls only); ``policies``: every
    policy type of the guardrail (each consumes the call's text units)."""

    at: datetime
    arn: str
    version: str
    source: Literal["Input", "Output"]
    outcome: Outcome
    latency_ms: int | None = None
    text_units: int = 0
    intervened_by: tuple[str, ...] = ()
    policies: tuple[str, ...] = ("ContentPolicy",)


@dataclass(frozen=True)
class ReasoningCheck:
    """One automated-reasoning check: publishes ``Invocations`` too, but under
    {PolicyArn, PolicyVersion}: not an ApplyGuardrail request."""

    at: datetime
    policy_arn: str
    policy_version: str
    guardrail_arn: str
    guardrail_version: str
    latency_ms: int
    findings: tuple[str, ...]


@dataclass(frozen=True)
class KbRequest:
    """One knowledge-base request; ``kb_id`` None for operations that target no single
    knowledge base. ``iterations``: agentic retrieval iterations (ok AgenticRetrieveStream)."""

    at: datetime
    operation: str
    kb_id: str | None
    outcome: Outcome
    iterations: int | None = None


@dataclass(frozen=True)
class Ingestion:
    """A finished ingestion job: ``RawDataSize`` (gigabytes) per knowledge base."""

    at: datetime
    kb_id: str
    gigabytes: float


@dataclass(frozen=True)
class BatchReading:
    """One reading of a model's batch queue (levels) and, when a job processed tokens that
    minute, its per-minute rates."""

    at: datetime
    model_id: str
    records_pending: int
    tokens_pending: int | None = None
    input_per_minute: int | None = None
    output_per_minute: int | None = None


Event = (
    Inference | AgentRequest | GuardrailCall | ReasoningCheck | KbRequest | Ingestion | BatchReading
)


@dataclass(frozen=True)
class Scenario:
    view: View
    events: tuple[Event, ...]
    # Metric names this scenario publishes that the view's documentation does not show.
    unknown_metrics: frozenset[str] = field(default_factory=frozenset)

    @property
    def namespace(self) -> str:
        return NAMESPACES[self.view]


# --- Bedrock's side: publishing ---------------------------------------------------------------

Dims = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Datum:
    name: str
    dims: Dims
    minute: datetime
    value: float
    single: bool  # one value per event (distributions) vs pre-aggregated counter


def _emit(
    names_values: Iterable[tuple[str, float]],
    dimension_sets: Iterable[Dims],
    at: datetime,
    single: frozenset[str],
) -> Iterator[_Datum]:
    pairs = list(names_values)
    for dims in dimension_sets:
        for name, value in pairs:
            yield _Datum(name, dims, _minute(at), value, name in single)


def _mantle_data(e: Inference) -> Iterator[_Datum]:
    counters = [("Inferences", 1.0), ("InferenceClientErrors", float(not e.ok))]
    totals = [
        ("TotalInputTokens", float(e.input_tokens)),
        ("TotalOutputTokens", float(e.output_tokens)),
    ]
    levels: list[Dims] = [()]
    if e.project is not None:
        levels.append((("Project", e.project),))
    if e.model is not None:
        levels.append((("Model", e.model),))
    # Total*Tokens per publish interval at Account, Project and Model; never at Project+Model.
    yield from _emit([*counters, *(totals if e.ok else [])], levels, e.at, frozenset())
    if e.project is not None and e.model is not None:
        both = (("Project", e.project), ("Model", e.model))
        per_inference = [
            ("InputTokens", float(e.input_tokens)),
            ("OutputTokens", float(e.output_tokens)),
        ]
        yield from _emit(counters, [both], e.at, frozenset())
        if e.ok:
            yield from _emit(per_inference, [both], e.at, frozenset(n for n, _ in per_inference))


_AGENT_SINGLE: Final = frozenset({"TotalTime", "TTFT", "ModelLatency"})


def _agent_data(e: AgentRequest) -> Iterator[_Datum]:
    op: Dims = (("Operation", e.operation),)
    op_model: Dims = (*op, ("ModelId", e.model_id))
    all_sets = (
        [op]
        if e.alias_arn is None
        else [op, (*op, ("AgentAliasArn", e.alias_arn), ("ModelId", e.model_id))]
    )
    if e.outcome == "throttled":
        yield from _emit([("InvocationThrottles", 1.0)], all_sets, e.at, _AGENT_SINGLE)
        return
    request = [
        ("InvocationCount", 1.0),
        ("InvocationThrottles", 0.0),
        ("InvocationClientErrors", float(e.outcome == "client_error")),
        ("InvocationServerErrors", float(e.outcome == "server_error")),
    ]
    if e.ttft_ms is not None:
        request.append(("TTFT", float(e.ttft_ms)))
    yield from _emit(request, all_sets, e.at, _AGENT_SINGLE)
    if e.outcome != "ok":
        return
    model: list[tuple[str, float]] = []
    if e.total_time_ms is not None:
        model.append(("TotalTime", float(e.total_time_ms)))
    model += [("ModelLatency", float(ms)) for ms in e.model_latencies_ms]
    model += [
        ("ModelInvocationCount", float(len(e.model_latencies_ms))),
        ("ModelInvocationThrottles", float(e.model_throttles)),
        (e.model_client_error_name, float(e.model_client_errors)),
        ("ModelInvocationServerErrors", float(e.model_server_errors)),
        ("InputTokenCount", float(e.input_tokens)),
    ]
    model += [(name, float(e.output_tokens)) for name in e.output_names]
    yield from _emit(model, [*all_sets, op_model], e.at, _AGENT_SINGLE)


_GUARDRAIL_SINGLE: Final = frozenset({"InvocationLatency", "Latency"})


def _guardrail_data(e: GuardrailCall | ReasoningCheck) -> Iterator[_Datum]:
    if isinstance(e, ReasoningCheck):
        policy: Dims = (("PolicyArn", e.policy_arn), ("PolicyVersion", e.policy_version))
        guardrail: Dims = (
            ("GuardrailArn", e.guardrail_arn),
            ("GuardrailVersion", e.guardrail_version),
        )
        yield from _emit(
            [("Invocations", 1.0), ("Latency", float(e.latency_ms))],
            [policy],
            e.at,
            _GUARDRAIL_SINGLE,
        )
        yield from _emit(
            [("TotalFindings", float(len(e.findings)))], [policy, guardrail], e.at, frozenset()
        )
        for kind in sorted(set(e.findings)):
            sets = [(("FindingType", kind), *policy), (("FindingType", kind), *guardrail)]
            yield from _emit(
                [("FindingCounts", float(e.findings.count(kind)))], sets, e.at, frozenset()
            )
        return
    version: Dims = (("GuardrailArn", e.arn), ("GuardrailVersion", e.version))
    three = [(("Operation", "ApplyGuardrail"),), (("GuardrailContentSource", e.source),), version]
    if e.outcome == "throttled":
        yield from _emit([("InvocationThrottles", 1.0)], three, e.at, _GUARDRAIL_SINGLE)
        return
    values = [
        ("Invocations", 1.0),
        ("InvocationThrottles", 0.0),
        ("InvocationClientErrors", float(e.outcome == "client_error")),
        ("InvocationServerErrors", float(e.outcome == "server_error")),
    ]
    if e.latency_ms is not None:
        values.append(("InvocationLatency", float(e.latency_ms)))
    if e.outcome == "ok":
        values += [
            ("InvocationsIntervened", float(bool(e.intervened_by))),
            ("TextUnitCount", float(e.text_units)),
        ]
    yield from _emit(values, three, e.at, _GUARDRAIL_SINGLE)
    if e.outcome != "ok":
        return
    # Per policy type: a call intervened by two policies counts under both, and every
    # policy bills the call's text units.
    for kind in e.policies:
        per_policy = [("TextUnitCount", float(e.text_units))]
        if kind in e.intervened_by:
            per_policy.append(("InvocationsIntervened", 1.0))
        yield from _emit(per_policy, [(*version, ("GuardrailPolicyType", kind))], e.at, frozenset())


def _kb_data(e: KbRequest | Ingestion) -> Iterator[_Datum]:
    if isinstance(e, Ingestion):
        yield _Datum(
            "RawDataSize", (("KnowledgeBaseId", e.kb_id),), _minute(e.at), e.gigabytes, True
        )
        return
    op: Dims = (("Operation", e.operation),)
    sets = [op] if e.kb_id is None else [(*op, ("KnowledgeBaseId", e.kb_id)), op]
    values = [("Invocations", 1.0)]
    # Errors and throttles are emitted only when they occur.
    named = {
        "client_error": "ClientErrors",
        "server_error": "ServerErrors",
        "throttled": "Throttles",
    }
    if e.outcome in named:
        values.append((named[e.outcome], 1.0))
    if e.iterations is not None:
        values.append(("TotalIterationCount", float(e.iterations)))
    yield from _emit(values, sets, e.at, frozenset({"TotalIterationCount"}))


def _batch_data(e: BatchReading) -> Iterator[_Datum]:
    values = [("NumberOfRecordsPendingProcessing", float(e.records_pending))]
    if e.tokens_pending is not None:
        values.append(("NumberOfTokensPendingProcessing", float(e.tokens_pending)))
    if e.input_per_minute is not None:
        values.append(("NumberOfInputTokensProcessedPerMinute", float(e.input_per_minute)))
    if e.output_per_minute is not None:
        values.append(("NumberOfOutputTokensProcessedPerMinute", float(e.output_per_minute)))
    # Levels and rates: every reading is one sample (SampleCount counts readings).
    yield from _emit(values, [(("ModelId", e.model_id),)], e.at, frozenset(n for n, _ in values))


def _data(event: Event) -> Iterator[_Datum]:
    if isinstance(event, Inference):
        yield from _mantle_data(event)
    elif isinstance(event, AgentRequest):
        yield from _agent_data(event)
    elif isinstance(event, GuardrailCall | ReasoningCheck):
        yield from _guardrail_data(event)
    elif isinstance(event, KbRequest | Ingestion):
        yield from _kb_data(event)
    else:
        yield from _batch_data(event)


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def publish(client: CloudWatchClient, scenario: Scenario) -> int:
    """Publish the scenario's events the way Bedrock does; returns the number of datums sent.

    Single values go out as Values/Counts per (metric, dimensions, minute), so SampleCount
    counts events and percentiles describe events; counters as one StatisticValues datum per
    (metric, dimensions, minute).
    """
    singles: defaultdict[tuple[str, Dims, datetime], defaultdict[float, int]] = defaultdict(
        lambda: defaultdict(int)
    )
    aggregated: defaultdict[tuple[str, Dims, datetime], list[float]] = defaultdict(list)
    for event in scenario.events:
        for d in _data(event):
            key = (d.name, d.dims, d.minute)
            if d.single:
                singles[key][d.value] += 1
            else:
                aggregated[key].append(d.value)

    def dimensions(dims: Dims) -> list[DimensionTypeDef]:
        return [{"Name": name, "Value": value} for name, value in dims]

    datums: list[MetricDatumTypeDef] = []
    for (name, dims, minute), counts in sorted(singles.items()):
        for chunk in _chunks(sorted(counts.items()), MAX_VALUES_PER_DATUM):
            datums.append(
                {
                    "MetricName": name,
                    "Dimensions": dimensions(dims),
                    "Timestamp": minute,
                    "Values": [value for value, _ in chunk],
                    "Counts": [float(count) for _, count in chunk],
                }
            )
    for (name, dims, minute), values in sorted(aggregated.items()):
        datums.append(
            {
                "MetricName": name,
                "Dimensions": dimensions(dims),
                "Timestamp": minute,
                "StatisticValues": {
                    "SampleCount": float(len(values)),
                    "Sum": sum(values),
                    "Minimum": min(values),
                    "Maximum": max(values),
                },
            }
        )
    for batch in _chunks(datums, MAX_DATUMS_PER_CALL):
        client.put_metric_data(Namespace=scenario.namespace, MetricData=list(batch))
    return len(datums)


# --- The truth: what a correct tool shows ------------------------------------------------------


@dataclass(frozen=True)
class Truth:
    """The figures of one view over a window.

    ``rows``: keyed by ``row_key`` (the row's DIMENSION_KEYS values, None where a coarser
    row lacks a dimension), each with the dimension keys and the figures as ``--once`` writes
    them. ``totals``: counters summed over rows, gauges summed over the rows that have one.
    ``checks`` (Mantle): one per roll-up and group, over the window's complete periods.
    """

    view: View
    rows: dict[RowKey, dict[str, Any]]
    totals: dict[str, Any]
    checks: list[dict[str, Any]]
    unknown_metrics: frozenset[str]


def row_key(view: View, row: dict[str, Any]) -> RowKey:
    return tuple(row.get(key) for key in DIMENSION_KEYS[view])


def _in(at: datetime, start: datetime, end: datetime) -> bool:
    return start <= _minute(at) < end


def _last_complete_minute(end: datetime) -> datetime:
    """The newest complete minute for a window ending at the next boundary after now.

    now lies in [end - 60 s, end); minute m is complete when m + 60 <= now - 120, i.e. for
    every such now exactly when m <= end - 240 s.
    """
    return end - timedelta(seconds=PERIOD_S + COMPLETE_LAG_S + PERIOD_S)


def _rank(values: Sequence[float], percent: int) -> float | None:
    """Nearest rank: the ceil(p * n / 100)-th smallest value (1-indexed), integer arithmetic."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, -(-percent * len(ordered) // 100)) - 1]


def _ms(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _six(value: float | None) -> float | None:
    """Averages and levels other than latencies, as JSON writes them (to 1e-6)."""
    return None if value is None else round(value, 6)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return round(numerator / denominator, 6)


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _distribution(key: str, values: Sequence[float], unit: str) -> dict[str, Any]:
    """``<key>_avg<unit>`` and ``<key>_p50/p90/p99<unit>``; milliseconds to 0.1 ms."""
    shown = _ms if unit == "_ms" else _six
    out: dict[str, Any] = {f"{key}_avg{unit}": shown(_mean(values))}
    for p in (50, 90, 99):
        out[f"{key}_p{p}{unit}"] = shown(_rank(values, p))
    return out


def _check_window(start: datetime, end: datetime, period_s: int) -> None:
    span = (end - start).total_seconds()
    if period_s != PERIOD_S or span <= 0 or span % period_s:
        raise ValueError(f"period {period_s}s must be 60 s and tile [{start}, {end})")
    if start.utcoffset() != timedelta(0) or end.utcoffset() != timedelta(0):
        raise ValueError("start and end must be aware UTC datetimes")


def _mantle(events: list[Inference], start: datetime, end: datetime) -> Truth:
    rows: dict[RowKey, dict[str, Any]] = {}
    resolved = [e for e in events if e.project is not None and e.model is not None]
    for key in sorted({(e.project or "", e.model or "") for e in resolved}):
        mine = [e for e in resolved if (e.project, e.model) == key and _in(e.at, start, end)]
        ok = [e for e in mine if e.ok]
        inferences = len(mine)
        errors = sum(not e.ok for e in mine)
        row: dict[str, Any] = {
            "project": key[0],
            "model": key[1],
            "inferences": inferences,
            "client_errors": errors,
            "input_tokens": sum(e.input_tokens for e in ok),
            "output_tokens": sum(e.output_tokens for e in ok),
            "error_rate": _ratio(errors, inferences),
        }
        for what in ("input_tokens", "output_tokens"):
            values = [float(getattr(e, what)) for e in ok]
            for p in (50, 90, 99):
                row[f"{what}_p{p}"] = _rank(values, p)
        rows[key] = row

    # Roll-ups over the complete periods: what Bedrock published at the coarser level (every
    # inference whose project / model it resolved) vs the rows' per-inference sums.
    last = _last_complete_minute(end)
    done = [e for e in events if e.ok and start <= _minute(e.at) <= last]
    checks: list[dict[str, Any]] = []
    for dim, attr in (("project", "project"), ("model", "model")):
        groups = sorted({getattr(e, attr) for e in events if getattr(e, attr) is not None})
        for metric, tokens in (
            ("TotalInputTokens", "input_tokens"),
            ("TotalOutputTokens", "output_tokens"),
        ):
            for group in groups:
                published = sum(getattr(e, tokens) for e in done if getattr(e, attr) == group)
                rows_sum = sum(
                    getattr(e, tokens)
                    for e in done
                    if getattr(e, attr) == group and e.project is not None and e.model is not None
                )
                checks.append(
                    {
                        "dims": {dim: group},
                        "metric": metric,
                        "published": published,
                        "rows_sum": rows_sum,
                        "agree": published == rows_sum,
                    }
                )
    return Truth("mantle", rows, _totals(rows, COUNTERS["mantle"], ()), checks, frozenset())


def _agents(events: list[AgentRequest], start: datetime, end: datetime) -> Truth:
    finer = {(e.operation, e.alias_arn, e.model_id) for e in events if e.alias_arn is not None}
    covered_ops = {op for op, _, _ in finer}
    keys: set[RowKey] = set(finer)
    keys |= {(e.operation, None, None) for e in events if e.operation not in covered_ops}
    rows: dict[RowKey, dict[str, Any]] = {}
    for key in sorted(keys, key=lambda k: tuple(v or "" for v in k)):
        op, alias, model = key
        mine = [
            e
            for e in events
            if e.operation == op
            and (alias is None or (e.alias_arn, e.model_id) == (alias, model))
            and _in(e.at, start, end)
        ]
        accepted = [e for e in mine if e.outcome != "throttled"]
        ok = [e for e in mine if e.outcome == "ok"]
        client = sum(e.outcome == "client_error" for e in mine)
        server = sum(e.outcome == "server_error" for e in mine)
        throttles = sum(e.outcome == "throttled" for e in mine)
        row: dict[str, Any] = {"operation": op}
        if alias is not None:
            row |= {"agent_alias_arn": alias, "model_id": model}
        row |= {
            "invocations": len(accepted),
            "model_invocations": sum(len(e.model_latencies_ms) for e in ok),
            "throttles": throttles,
            "model_throttles": sum(e.model_throttles for e in ok),
            "model_client_errors": sum(e.model_client_errors for e in ok),
            "model_server_errors": sum(e.model_server_errors for e in ok),
            "client_errors": client,
            "server_errors": server,
            "input_tokens": sum(e.input_tokens for e in ok),
            "output_tokens": sum(e.output_tokens for e in ok),
            "error_rate": _ratio(client + server, len(accepted)),
            "throttle_rate": _ratio(throttles, len(accepted) + throttles),
        }
        row |= _distribution(
            "total_time", [e.total_time_ms for e in ok if e.total_time_ms is not None], "_ms"
        )
        row |= _distribution("ttft", [e.ttft_ms for e in accepted if e.ttft_ms is not None], "_ms")
        row |= _distribution(
            "model_latency", [ms for e in ok for ms in e.model_latencies_ms], "_ms"
        )
        rows[key] = row
    return Truth("agents", rows, _totals(rows, COUNTERS["agents"], ()), [], frozenset())


def _guardrails(events: list[GuardrailCall], start: datetime, end: datetime) -> Truth:
    rows: dict[RowKey, dict[str, Any]] = {}
    for key in sorted({(e.arn, e.version) for e in events}):
        mine = [e for e in events if (e.arn, e.version) == key and _in(e.at, start, end)]
        accepted = [e for e in mine if e.outcome != "throttled"]
        ok = [e for e in mine if e.outcome == "ok"]
        client = sum(e.outcome == "client_error" for e in mine)
        server = sum(e.outcome == "server_error" for e in mine)
        intervened = sum(bool(e.intervened_by) for e in ok)
        row: dict[str, Any] = {
            "guardrail_arn": key[0],
            "guardrail_version": key[1],
            "invocations": len(accepted),
            "intervened": intervened,
            "text_units": sum(e.text_units for e in ok),
            "throttles": sum(e.outcome == "throttled" for e in mine),
            "client_errors": client,
            "server_errors": server,
            "intervention_rate": _ratio(intervened, len(accepted)),
            "error_rate": _ratio(client + server, len(accepted)),
        }
        row |= _distribution(
            "latency", [e.latency_ms for e in accepted if e.latency_ms is not None], "_ms"
        )
        rows[key] = row
    unknown = frozenset({"Latency", "TotalFindings", "FindingCounts"})
    return Truth("guardrails", rows, _totals(rows, COUNTERS["guardrails"], ()), [], unknown)


def _knowledge_bases(events: list[KbRequest], start: datetime, end: datetime) -> Truth:
    finer = {(e.operation, e.kb_id) for e in events if e.kb_id is not None}
    covered_ops = {op for op, _ in finer}
    keys: set[RowKey] = set(finer) | {
        (e.operation, None) for e in events if e.operation not in covered_ops
    }
    rows: dict[RowKey, dict[str, Any]] = {}
    for key in sorted(keys, key=lambda k: tuple(v or "" for v in k)):
        op, kb = key
        mine = [
            e
            for e in events
            if e.operation == op and (kb is None or e.kb_id == kb) and _in(e.at, start, end)
        ]
        client = sum(e.outcome == "client_error" for e in mine)
        server = sum(e.outcome == "server_error" for e in mine)
        row: dict[str, Any] = {"operation": op}
        if kb is not None:
            row["knowledge_base_id"] = kb
        row |= {
            "invocations": len(mine),
            "client_errors": client,
            "server_errors": server,
            "throttles": sum(e.outcome == "throttled" for e in mine),
            "error_rate": _ratio(client + server, len(mine)),
        }
        row |= _distribution(
            "iterations", [e.iterations for e in mine if e.iterations is not None], ""
        )
        rows[key] = row
    return Truth(
        "knowledge-bases",
        rows,
        _totals(rows, COUNTERS["knowledge-bases"], ()),
        [],
        frozenset({"RawDataSize"}),
    )


def _batch(events: list[BatchReading], start: datetime, end: datetime) -> Truth:
    last = _last_complete_minute(end)
    rows: dict[RowKey, dict[str, Any]] = {}
    raw: dict[RowKey, tuple[float | None, float | None, float | None]] = {}
    for model in sorted({e.model_id for e in events}):
        mine = [e for e in events if e.model_id == model and _in(e.at, start, end)]

        def level(attr: str, mine: list[BatchReading] = mine) -> float | None:
            readings = [e for e in mine if getattr(e, attr) is not None and _minute(e.at) <= last]
            if not readings:
                return None
            newest = max(_minute(e.at) for e in readings)
            return _mean([float(getattr(e, attr)) for e in readings if _minute(e.at) == newest])

        rate_in = _mean([float(e.input_per_minute) for e in mine if e.input_per_minute is not None])
        rate_out = _mean(
            [float(e.output_per_minute) for e in mine if e.output_per_minute is not None]
        )
        tokens_pending = level("tokens_pending")
        raw[(model,)] = (tokens_pending, rate_in, rate_out)
        rows[(model,)] = {
            "model_id": model,
            "records_pending": _six(level("records_pending")),
            "tokens_pending": _six(tokens_pending),
            "input_tokens_per_minute": _six(rate_in),
            "output_tokens_per_minute": _six(rate_out),
            "drain_minutes": _ratio(tokens_pending, rate_in),
        }
    totals = _totals(rows, (), GAUGES)
    # The account's throughput is the models' rates added; its drain time is over the
    # models that publish tokens pending.
    for i, key in ((1, "input_tokens_per_minute"), (2, "output_tokens_per_minute")):
        rates = [rate for r in raw.values() if (rate := r[i]) is not None]
        totals[key] = _six(sum(rates)) if rates else None
    pending = [r for r in raw.values() if r[0] is not None]
    totals["drain_minutes"] = _ratio(
        sum(r[0] or 0.0 for r in pending) if pending else None,
        sum(r[1] or 0.0 for r in pending) if pending else None,
    )
    return Truth("batch", rows, totals, [], frozenset())


COUNTERS: Final[dict[View, tuple[str, ...]]] = {
    "mantle": ("inferences", "client_errors", "input_tokens", "output_tokens"),
    "agents": (
        "invocations",
        "model_invocations",
        "throttles",
        "model_throttles",
        "model_client_errors",
        "model_server_errors",
        "client_errors",
        "server_errors",
        "input_tokens",
        "output_tokens",
    ),
    "guardrails": (
        "invocations",
        "intervened",
        "text_units",
        "throttles",
        "client_errors",
        "server_errors",
    ),
    "knowledge-bases": ("invocations", "client_errors", "server_errors", "throttles"),
    "batch": (),
}
GAUGES: Final = ("records_pending", "tokens_pending")


def _totals(
    rows: dict[RowKey, dict[str, Any]], counters: Iterable[str], gauges: Iterable[str]
) -> dict[str, Any]:
    totals: dict[str, Any] = {key: sum(row[key] for row in rows.values()) for key in counters}
    for key in gauges:
        shown = [row[key] for row in rows.values() if row[key] is not None]
        totals[key] = _six(sum(shown)) if shown else None
    return totals


def expected(scenario: Scenario, start: datetime, end: datetime, period_s: int = PERIOD_S) -> Truth:
    """The figures of ``scenario.view`` over [start, end) (a window ending at the next period
    boundary after the tool's now, which fixes the complete periods)."""
    _check_window(start, end, period_s)
    events = list(scenario.events)
    truth: Truth
    if scenario.view == "mantle":
        truth = _mantle([e for e in events if isinstance(e, Inference)], start, end)
    elif scenario.view == "agents":
        truth = _agents([e for e in events if isinstance(e, AgentRequest)], start, end)
    elif scenario.view == "guardrails":
        truth = _guardrails([e for e in events if isinstance(e, GuardrailCall)], start, end)
    elif scenario.view == "knowledge-bases":
        truth = _knowledge_bases([e for e in events if isinstance(e, KbRequest)], start, end)
    else:
        truth = _batch([e for e in events if isinstance(e, BatchReading)], start, end)
    return Truth(truth.view, truth.rows, truth.totals, truth.checks, scenario.unknown_metrics)


# --- A realistic hour of each surface ---------------------------------------------------------

OPUS: Final = "anthropic.claude-opus-4-7"
GPT_OSS: Final = "openai.gpt-oss-120b"
UNPRICED: Final = "example.unpriced-model"
DEFAULT_PROJECT: Final = "default"
PROJECT_A: Final = "proj_7f3k2m9xq1"
PROJECT_B: Final = "proj_q8w2e4r6t5"

ACCOUNT: Final = "123456789012"
ALIAS_A: Final = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:agent-alias/AGENTA1234/ALIASA1234"
ALIAS_B: Final = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:agent-alias/AGENTB5678/ALIASB5678"
SONNET: Final = "anthropic.claude-3-5-sonnet-20240620-v1:0"
HAIKU: Final = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA_PRO: Final = "amazon.nova-pro-v1:0"

GUARDRAIL_1: Final = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/gr1abc2def3g"
GUARDRAIL_2: Final = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:guardrail/gr9xyz8wvu7t"
REASONING_POLICY: Final = (
    f"arn:aws:bedrock:us-east-1:{ACCOUNT}:automated-reasoning-policy/arp1x2y3z4"
)

KB_1: Final = "knowledge-base/KB1AAAAAAA"
KB_2: Final = "knowledge-base/KB2BBBBBBB"

BATCH_CLAUDE: Final = "anthropic.claude-3-5-sonnet-20240620-v1:0"
BATCH_NOVA: Final = "amazon.nova-lite-v1:0"
BATCH_IDLE: Final = "mistral.mistral-large-2407-v1:0"
BATCH_NEW: Final = "meta.llama3-1-70b-instruct-v1:0"

# Minutes (before now's minute) every scenario's in-window events lie in: whatever minute the
# tool then runs in (within a minute of publishing), they are inside its window.
_SPAN: Final = (0, 58)


def _failures(client: int, server: int, throttled: int) -> list[tuple[Outcome, int]]:
    return [("client_error", client), ("server_error", server), ("throttled", throttled)]


class _Clock:
    def __init__(self, now: datetime, seed: int) -> None:
        if now.utcoffset() != timedelta(0):
            raise ValueError(f"now must be an aware UTC datetime, got {now!r}")
        self.base = _minute(now.astimezone(UTC))
        self.rng = random.Random(seed)

    def at(self, ago: tuple[int, int] = _SPAN) -> datetime:
        """A random instant in the minutes [base - ago[1], base - ago[0]]."""
        lo, hi = ago
        return (
            self.base
            - timedelta(minutes=self.rng.randint(lo, hi))
            + timedelta(seconds=self.rng.randrange(60))
        )

    def minute(self, ago: int, second: int = 0) -> datetime:
        return self.base - timedelta(minutes=ago) + timedelta(seconds=second)


def _mantle_scenario(clock: _Clock, disagree: bool) -> Scenario:
    rng = clock.rng
    out: list[Inference] = []
    traffic = [  # (project, model, ok, client errors, minutes ago)
        (DEFAULT_PROJECT, OPUS, 40, 3, _SPAN),
        (DEFAULT_PROJECT, GPT_OSS, 25, 0, _SPAN),
        (PROJECT_A, OPUS, 15, 2, (5, 40)),
        (PROJECT_B, GPT_OSS, 20, 1, _SPAN),
        (PROJECT_B, UNPRICED, 8, 0, (4, 20)),
    ]
    for project, model, ok, errors, span in traffic:
        for _ in range(ok):
            out.append(
                Inference(
                    clock.at(span),
                    project,
                    model,
                    True,
                    rng.randint(50, 6000),
                    rng.randint(10, 2000),
                )
            )
        out += [Inference(clock.at(span), project, model, False) for _ in range(errors)]
    # Before the window: must not count.
    out += [Inference(clock.at((62, 75)), DEFAULT_PROJECT, OPUS, True, 9999, 999) for _ in range(5)]
    # Neither project nor model resolved: only the Account level (no dimensions) counts them.
    out += [Inference(clock.at(_SPAN), None, None, True, 700, 70) for _ in range(6)]
    if disagree:
        # Project resolved, model not: PROJECT_A's Total*Tokens exceed its rows' sums.
        out += [Inference(clock.at((20, 30)), PROJECT_A, None, True, 1234, 321) for _ in range(4)]
    return Scenario("mantle", tuple(sorted(out, key=lambda e: e.at)))


def _agents_scenario(clock: _Clock) -> Scenario:
    rng = clock.rng
    out: list[AgentRequest] = []
    lower, upper = ("outputTokenCount",), ("OutputTokenCount",)
    right, typo = "ModelInvocationClientErrors", "ModelInvocationCLientErrors"
    traffic = [  # (operation, alias, model, ok, client, server, throttled, streaming, spellings)
        ("InvokeAgent", ALIAS_A, SONNET, 30, 2, 0, 3, True, lower, right),
        ("InvokeAgent", ALIAS_A, HAIKU, 12, 0, 0, 0, False, lower, right),
        ("InvokeAgent", ALIAS_B, NOVA_PRO, 20, 0, 1, 0, False, upper, typo),
        # No alias: published only at {Operation} (and {Operation, ModelId}), and under both
        # spellings of the output-token metric: the first one the view lists wins.
        ("InvokeInlineAgent", None, SONNET, 15, 0, 0, 2, True, (*upper, *lower), right),
    ]
    for op, alias, model, ok, client, server, throttled, streaming, spelling, errors in traffic:
        for _ in range(ok):
            total = rng.randint(800, 9000)
            calls = tuple(rng.randint(200, total // 2) for _ in range(rng.randint(1, 3)))
            out.append(
                AgentRequest(
                    clock.at(),
                    op,
                    alias,
                    model,
                    "ok",
                    total_time_ms=total,
                    ttft_ms=rng.randint(150, 900) if streaming else None,
                    model_latencies_ms=calls,
                    model_throttles=int(rng.random() < 0.2),
                    input_tokens=rng.randint(300, 5000),
                    output_tokens=rng.randint(20, 900),
                    output_names=spelling,
                    model_client_errors=int(rng.random() < 0.15),
                    model_server_errors=int(rng.random() < 0.1),
                    model_client_error_name=errors,
                )
            )
        for outcome, n in _failures(client, server, throttled):
            out += [
                AgentRequest(
                    clock.at((10, 20)),
                    op,
                    alias,
                    model,
                    outcome,
                    output_names=spelling,
                    model_client_error_name=errors,
                )
                for _ in range(n)
            ]
    out += [
        AgentRequest(
            clock.at((63, 70)),
            "InvokeAgent",
            ALIAS_B,
            NOVA_PRO,
            "ok",
            total_time_ms=5000,
            model_latencies_ms=(100,),
            input_tokens=1,
            output_tokens=1,
            output_names=upper,
            model_client_errors=1,
            model_client_error_name=typo,
        )
        for _ in range(3)
    ]
    return Scenario("agents", tuple(sorted(out, key=lambda e: e.at)))


def _guardrails_scenario(clock: _Clock) -> Scenario:
    rng = clock.rng
    out: list[GuardrailCall | ReasoningCheck] = []
    policies_1 = ("ContentPolicy", "TopicPolicy", "SensitiveInformationPolicy")
    policies_2 = ("ContentPolicy", "WordPolicy")
    traffic = [  # (arn, version, policies, ok, client, server, throttled)
        (GUARDRAIL_1, "1", policies_1, 40, 2, 0, 2),
        (GUARDRAIL_1, "DRAFT", policies_1, 10, 0, 0, 0),
        (GUARDRAIL_2, "3", policies_2, 25, 0, 1, 0),
    ]
    for arn, version, policies, ok, client, server, throttled in traffic:
        for _ in range(ok):
            source: Literal["Input", "Output"] = "Input" if rng.random() < 0.6 else "Output"
            hit = tuple(p for p in policies if rng.random() < 0.2)
            out.append(
                GuardrailCall(
                    clock.at(),
                    arn,
                    version,
                    source,
                    "ok",
                    rng.randint(40, 900),
                    rng.randint(1, 12),
                    hit,
                    policies,
                )
            )
        for outcome, n in _failures(client, server, 0):
            out += [
                GuardrailCall(
                    clock.at(),
                    arn,
                    version,
                    "Input",
                    outcome,
                    rng.randint(5, 50),
                    policies=policies,
                )
                for _ in range(n)
            ]
        out += [
            GuardrailCall(clock.at(), arn, version, "Input", "throttled", policies=policies)
            for _ in range(throttled)
        ]
    out += [
        GuardrailCall(clock.at((65, 80)), GUARDRAIL_2, "3", "Output", "ok", 77, 5) for _ in range(4)
    ]
    kinds = ("VALID", "INVALID", "SATISFIABLE")
    out += [
        ReasoningCheck(
            clock.at(),
            REASONING_POLICY,
            "2",
            GUARDRAIL_2,
            "3",
            rng.randint(300, 2000),
            tuple(rng.choice(kinds) for _ in range(rng.randint(1, 4))),
        )
        for _ in range(8)
    ]
    return Scenario(
        "guardrails",
        tuple(sorted(out, key=lambda e: e.at)),
        frozenset({"Latency", "TotalFindings", "FindingCounts"}),
    )


def _kb_scenario(clock: _Clock) -> Scenario:
    rng = clock.rng
    out: list[KbRequest | Ingestion] = []
    traffic = [  # (operation, kb, ok, client, server, throttled)
        ("Retrieve", KB_1, 35, 2, 0, 1),
        ("Retrieve", KB_2, 15, 0, 1, 0),
        ("AgenticRetrieveStream", None, 12, 1, 0, 1),
    ]
    for op, kb, ok, client, server, throttled in traffic:
        for _ in range(ok):
            iterations = rng.randint(1, 6) if op == "AgenticRetrieveStream" else None
            out.append(KbRequest(clock.at(), op, kb, "ok", iterations))
        for outcome, n in _failures(client, server, throttled):
            out += [KbRequest(clock.at(), op, kb, outcome) for _ in range(n)]
    out += [KbRequest(clock.at((61, 70)), "AgenticRetrieveStream", None, "ok", 9) for _ in range(3)]
    out += [Ingestion(clock.minute(50), KB_1, 12.5), Ingestion(clock.minute(10), KB_1, 13.25)]
    return Scenario(
        "knowledge-bases", tuple(sorted(out, key=lambda e: e.at)), frozenset({"RawDataSize"})
    )


def _batch_scenario(clock: _Clock) -> Scenario:
    rng = clock.rng
    out: list[BatchReading] = []
    # A Claude job draining over the last 45 minutes, two readings in some minutes (the
    # level is their average); the current and the two minutes before are not complete.
    records, tokens = 5000, 4_000_000
    for ago in range(45, -1, -1):
        records -= rng.randint(50, 120)
        tokens -= rng.randint(40_000, 90_000)
        rate_in = rng.randint(40_000, 90_000)
        out.append(
            BatchReading(clock.minute(ago, 5), BATCH_CLAUDE, records, tokens, rate_in, rate_in // 7)
        )
        if ago in (2, 3, 4, 17):
            out.append(BatchReading(clock.minute(ago, 35), BATCH_CLAUDE, records - 1, tokens - 1))
    # Nova: no tokens-pending metric (Anthropic only), readings every other minute.
    for ago in range(50, 0, -2):
        out.append(
            BatchReading(
                clock.minute(ago, 20),
                BATCH_NOVA,
                100 + ago * 3,
                None,
                rng.randint(5000, 9000),
                rng.randint(500, 900),
            )
        )
    # A job that finished 25 minutes ago: its last level holds, no rates since.
    for ago in range(40, 24, -1):
        out.append(BatchReading(clock.minute(ago, 10), BATCH_IDLE, ago - 25, None, 3000, 300))
    # Before the window only.
    out.append(BatchReading(clock.minute(70, 10), BATCH_IDLE, 999, None, 99_999, 9_999))
    # A job started a minute ago: nothing complete yet.
    out += [
        BatchReading(clock.minute(1, 30), BATCH_NEW, 800, None, 1200, 100),
        BatchReading(clock.minute(0, 1), BATCH_NEW, 780, None, 1500, 130),
    ]
    return Scenario("batch", tuple(sorted(out, key=lambda e: e.at)))


def scenario(view: View, now: datetime, seed: int = 7, *, disagree: bool = False) -> Scenario:
    """A deterministic hour of ``view``'s traffic ending at now's minute.

    - mantle: five (project, model) rows; inferences before the window; six inferences
      resolved to neither project nor model (Account level only). ``disagree``: four more
      inferences resolved to PROJECT_A only, 20-30 minutes ago, so PROJECT_A's published
      Total*Tokens exceed its rows' sums.
    - agents: alias A on two models (``outputTokenCount``), alias B (``OutputTokenCount``,
      ``ModelInvocationCLientErrors``), InvokeInlineAgent at {Operation} only (both
      output-token spellings); errors, throttles, model-call errors and throttles.
    - guardrails: GUARDRAIL_1 versions 1 and DRAFT, GUARDRAIL_2 version 3, published at
      {Operation}, {GuardrailContentSource}, {GuardrailArn, GuardrailVersion} and per policy
      type; automated-reasoning checks (``Invocations`` at {PolicyArn, PolicyVersion},
      ``Latency``, ``TotalFindings``, ``FindingCounts``).
    - knowledge-bases: Retrieve on two knowledge bases (also at {Operation}),
      AgenticRetrieveStream at {Operation} only with iterations, ``RawDataSize``.
    - batch: a draining Claude queue, Nova without tokens pending, an idle model whose level
      holds, a job too new to have a complete minute.
    """
    clock = _Clock(now, seed)
    if view == "mantle":
        return _mantle_scenario(clock, disagree)
    if view == "agents":
        return _agents_scenario(clock)
    if view == "guardrails":
        return _guardrails_scenario(clock)
    if view == "knowledge-bases":
        return _kb_scenario(clock)
    return _batch_scenario(clock)
