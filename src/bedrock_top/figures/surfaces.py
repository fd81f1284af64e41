"""Every Bedrock surface bedrock-top shows beside the models table, as data: which namespace,
which dimension sets make a row, which metrics (with their CloudWatch names and statistics),
the ratios worked out from them, the default sort and the roll-ups a view checks itself
against. One engine (``cloudwatch.surface_poll``) polls them all; nothing here does I/O.

Names, units and dimension sets are those of the Bedrock documentation (sources and traps in
``docs/cloudwatch-namespaces.md``); discovery (ListMetrics) confirms them at run time, and a
metric a namespace publishes that no view knows is reported, never guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from bedrock_top.figures.catalog import AVERAGE, SAMPLE_COUNT, SUM

# How a metric's per-period values add up over a window:
# "counter": one Sum per period; the window figure is the sum (exact).
# "mean": Sum and SampleCount per period; the window figure is ΣSum / ΣSampleCount (exact,
#   never an average of averages): latencies, and rates published as one datum per minute.
# "gauge": a level (a backlog); Average per period (one metric), the figure is the newest
#   complete period's average, never a sum over time.
Kind = Literal["counter", "mean", "gauge"]
# What a figure is measured in (the column style follows it).
Unit = Literal["count", "ms", "tokens_per_minute"]

PERIOD_STATS: Final[dict[Kind, tuple[str, ...]]] = {
    "counter": (SUM,),
    "mean": (SUM, SAMPLE_COUNT),
    "gauge": (AVERAGE,),
}
PERCENTILES: Final = ("p50", "p90", "p99")


@dataclass(frozen=True, slots=True)
class Measure:
    """One metric of a view: the names CloudWatch may publish it under (the first one listed
    wins when a row publishes two), how it adds up, and the whole-window percentiles the
    detail view and ``--once`` ask for (one datum per event: percentiles describe events)."""

    key: str
    names: tuple[str, ...]
    kind: Kind
    label: str
    description: str
    unit: Unit = "count"
    percentiles: tuple[str, ...] = ()

    @property
    def period_stats(self) -> tuple[str, ...]:
        return PERIOD_STATS[self.kind]


@dataclass(frozen=True, slots=True)
class Ratio:
    """A figure worked out from window figures: sum(numerator) / sum(denominator); None when
    the denominator is 0. ``percent``: a share (0.05 = 5 %); else a plain quotient."""

    key: str
    label: str
    numerator: tuple[str, ...]
    denominator: tuple[str, ...]
    description: str
    percent: bool = True


@dataclass(frozen=True, slots=True)
class Rollup:
    """A coarser series that must equal the sum of the rows' ``measure`` grouped by ``dims``
    (Mantle publishes ``TotalInputTokens`` per project and per model, but per-inference
    ``InputTokens`` only per project and model): a disagreement becomes a warning."""

    dims: tuple[str, ...]
    metric: str
    measure: str


@dataclass(frozen=True, slots=True)
class Figure:
    """A figure worked out outside the rings and handed to the row (a caller's cost and
    share of the total, from invocation logs): its key, header and kind of cell."""

    key: str
    label: str
    kind: Literal["usd", "pct", "count"]
    description: str


@dataclass(frozen=True, slots=True)
class QuotaSpec:
    """A per-model tokens-per-minute quota of a view: Service Quotas names it
    ``<prefix><model>``; the busiest complete minute of the last 60, summed over every row of
    that model (a quota is per model, whatever the project), is its peak."""

    key: str  # "input_tpm": row figures input_tpm_limit and input_tpm_peak_pct
    label: str
    prefix: str
    measure: str  # the counter the quota counts
    dimension: str  # the dimension naming the model


@dataclass(frozen=True, slots=True)
class ViewSpec:
    """One view: a namespace and the dimension sets that make its rows.

    ``levels`` are row dimension sets, finest first. A series whose dimension names are
    exactly one level makes (part of) a row; a row of a coarser level is shown only where no
    finer row covers it (same values for the coarser level's dimensions), so the same traffic
    is never shown twice. ``heartbeat``: the one measure polled per row while the view is not
    on screen, enough for the view bar to say where traffic is.
    """

    name: str
    title: str
    namespace: str
    levels: tuple[tuple[str, ...], ...]
    measures: tuple[Measure, ...]
    heartbeat: str
    sort: str  # a measure's key, or a figure's
    spark: str
    ratios: tuple[Ratio, ...] = ()
    rollups: tuple[Rollup, ...] = ()
    # Money from the model dimension's price: (dimension, input measure, output measure)
    priced: tuple[str, str, str] | None = None
    backlog: bool = False  # a queue: gauges first, the figures are levels and drain rates
    quotas: tuple[QuotaSpec, ...] = ()
    figures: tuple[Figure, ...] = ()  # computed elsewhere, shown and exported like the rest

    @property
    def measure_keys(self) -> tuple[str, ...]:
        return tuple(m.key for m in self.measures)

    def measure(self, key: str) -> Measure:
        for found in self.measures:
            if found.key == key:
                return found
        raise KeyError(key)

    @property
    def dimensions(self) -> tuple[str, ...]:
        """Every dimension of any level, finest level's order first, each once."""
        return tuple(dict.fromkeys(d for level in self.levels for d in level))

    def known_names(self) -> frozenset[str]:
        names = {n for m in self.measures for n in m.names}
        return frozenset(names | {r.metric for r in self.rollups})


def snake(name: str) -> str:
    """A dimension name as a JSON/CSV key: 'Project' -> 'project', 'ModelId' -> 'model_id',
    'AgentAliasArn' -> 'agent_alias_arn'."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def _counter(key: str, names: str | tuple[str, ...], label: str, what: str) -> Measure:
    return Measure(key, (names,) if isinstance(names, str) else names, "counter", label, what)


def _request_errors(throttles: str, client: str, server: str) -> tuple[Measure, ...]:
    """A namespace's throttled, 4xx and 5xx requests (throttles are in neither error)."""
    return (
        _counter("throttles", throttles, "Thr", "throttled requests (429)"),
        _counter("client_errors", client, "Cli err", "4xx requests (not throttles)"),
        _counter("server_errors", server, "Srv err", "5xx requests"),
    )


ERROR_RATE: Final = Ratio(
    "error_rate",
    "Err %",
    ("client_errors", "server_errors"),
    ("invocations",),
    "(client + server errors) / requests",
)


def _latency(key: str, name: str, label: str, what: str) -> Measure:
    return Measure(key, (name,), "mean", label, what, "ms", PERCENTILES)


MANTLE: Final = ViewSpec(
    name="mantle",
    title="Mantle (OpenAI-compatible endpoint)",
    namespace="AWS/BedrockMantle",
    levels=(("Project", "Model"),),
    measures=(
        _counter("inferences", "Inferences", "Inf", "completed inference requests"),
        # Per inference, only at Project+Model: their Sum is the row's tokens and their
        # percentiles describe single inferences (TotalInputTokens exists only at coarser
        # levels and is checked against these sums: see ``rollups``).
        Measure(
            "input_tokens",
            ("InputTokens",),
            "counter",
            "In tok",
            "billable input tokens",
            percentiles=PERCENTILES,
        ),
        Measure(
            "output_tokens",
            ("OutputTokens",),
            "counter",
            "Out tok",
            "billable output tokens",
            percentiles=PERCENTILES,
        ),
        _counter("client_errors", "InferenceClientErrors", "Cli err", "requests failed with 4xx"),
    ),
    heartbeat="inferences",
    sort="inferences",
    spark="inferences",
    ratios=(
        Ratio(
            "error_rate", "Err %", ("client_errors",), ("inferences",), "client errors / inferences"
        ),
    ),
    rollups=(
        Rollup(("Project",), "TotalInputTokens", "input_tokens"),
        Rollup(("Project",), "TotalOutputTokens", "output_tokens"),
        Rollup(("Model",), "TotalInputTokens", "input_tokens"),
        Rollup(("Model",), "TotalOutputTokens", "output_tokens"),
    ),
    priced=("Model", "input_tokens", "output_tokens"),
    # Separate from the runtime quotas, even for the same model; no RPM quota. Input TPM
    # excludes cache reads, which TotalInputTokens may include: the percentage may read high.
    quotas=(
        QuotaSpec(
            "input_tpm",
            "In TPM %",
            "Bedrock Mantle input tokens per minute for ",
            "input_tokens",
            "Model",
        ),
        QuotaSpec(
            "output_tpm",
            "Out TPM %",
            "Bedrock Mantle output tokens per minute for ",
            "output_tokens",
            "Model",
        ),
    ),
)

AGENTS: Final = ViewSpec(
    name="agents",
    title="Agents",
    namespace="AWS/Bedrock/Agents",
    # Per agent alias and model where published, else per operation (InvokeInlineAgent has
    # no alias).
    levels=(("Operation", "AgentAliasArn", "ModelId"), ("Operation",)),
    measures=(
        _counter("invocations", "InvocationCount", "Inv", "agent requests"),
        _latency("total_time", "TotalTime", "Time", "server processing time of a request"),
        _latency("ttft", "TTFT", "TTFT", "time to first token (streaming)"),
        _latency(
            "model_latency", "ModelLatency", "Model lat", "latency of the agent's model calls"
        ),
        _counter(
            "model_invocations",
            "ModelInvocationCount",
            "Model inv",
            "model calls made by the agent",
        ),
        *_request_errors("InvocationThrottles", "InvocationClientErrors", "InvocationServerErrors"),
        _counter(
            "model_throttles",
            "ModelInvocationThrottles",
            "Model thr",
            "model calls throttled by Bedrock",
        ),
        # (the page also misspells the first one ModelInvocationCLientErrors)
        _counter(
            "model_client_errors",
            ("ModelInvocationClientErrors", "ModelInvocationCLientErrors"),
            "Model cli err",
            "model calls with 4xx",
        ),
        _counter(
            "model_server_errors",
            "ModelInvocationServerErrors",
            "Model srv err",
            "model calls with 5xx",
        ),
        # The page spells it both ways: whichever the namespace publishes.
        _counter("input_tokens", "InputTokenCount", "In tok", "tokens sent to the model"),
        _counter(
            "output_tokens",
            ("OutputTokenCount", "outputTokenCount"),
            "Out tok",
            "tokens returned by the model",
        ),
    ),
    heartbeat="invocations",
    sort="invocations",
    spark="invocations",
    ratios=(
        ERROR_RATE,
        Ratio(
            "throttle_rate",
            "Thr %",
            ("throttles",),
            ("invocations", "throttles"),
            "throttles / (requests + throttles)",
        ),
    ),
)

GUARDRAILS: Final = ViewSpec(
    name="guardrails",
    title="Guardrails",
    namespace="AWS/Bedrock/Guardrails",
    levels=(("GuardrailArn", "GuardrailVersion"),),
    measures=(
        _counter("invocations", "Invocations", "Inv", "ApplyGuardrail requests"),
        _latency("latency", "InvocationLatency", "Lat", "guardrail latency"),
        _counter(
            "intervened",
            "InvocationsIntervened",
            "Interv",
            "requests a guardrail blocked or masked",
        ),
        _counter("text_units", "TextUnitCount", "Text units", "text units consumed (billed)"),
        *_request_errors("InvocationThrottles", "InvocationClientErrors", "InvocationServerErrors"),
    ),
    heartbeat="invocations",
    sort="invocations",
    spark="invocations",
    ratios=(
        Ratio(
            "intervention_rate",
            "Interv %",
            ("intervened",),
            ("invocations",),
            "requests intervened / requests",
        ),
        ERROR_RATE,
    ),
)

KNOWLEDGE_BASES: Final = ViewSpec(
    name="knowledge-bases",
    title="Knowledge bases",
    namespace="AWS/Bedrock/KnowledgeBases",
    levels=(("Operation", "KnowledgeBaseId"), ("Operation",)),
    measures=(
        _counter("invocations", "Invocations", "Inv", "requests, including failed ones"),
        *_request_errors("Throttles", "ClientErrors", "ServerErrors"),
        Measure(
            "iterations",
            ("TotalIterationCount",),
            "mean",
            "Iter",
            "agentic retrieval iterations per request",
            percentiles=PERCENTILES,
        ),
    ),
    heartbeat="invocations",
    sort="invocations",
    spark="invocations",
    ratios=(ERROR_RATE,),
)

BATCH: Final = ViewSpec(
    name="batch",
    title="Batch inference backlog",
    namespace="AWS/Bedrock/Batch",
    levels=(("ModelId",),),
    measures=(
        Measure(
            "records_pending",
            ("NumberOfRecordsPendingProcessing",),
            "gauge",
            "Rec pending",
            "records still queued (all jobs on the model)",
        ),
        Measure(
            "tokens_pending",
            ("NumberOfTokensPendingProcessing",),
            "gauge",
            "Tok pending",
            "tokens still queued (Anthropic models only)",
        ),
        Measure(
            "input_tokens_per_minute",
            ("NumberOfInputTokensProcessedPerMinute",),
            "mean",
            "In tok/min",
            "input tokens processed per minute",
            "tokens_per_minute",
        ),
        Measure(
            "output_tokens_per_minute",
            ("NumberOfOutputTokensProcessedPerMinute",),
            "mean",
            "Out tok/min",
            "output tokens processed per minute",
            "tokens_per_minute",
        ),
    ),
    heartbeat="records_pending",
    sort="records_pending",
    spark="records_pending",
    ratios=(
        Ratio(
            "drain_minutes",
            "Drain min",
            ("tokens_pending",),
            ("input_tokens_per_minute",),
            "tokens pending / input tokens processed per minute, over the window",
            percent=False,
        ),
    ),
    backlog=True,
)

SURFACES: Final[tuple[ViewSpec, ...]] = (MANTLE, AGENTS, GUARDRAILS, KNOWLEDGE_BASES, BATCH)
SURFACES_BY_NAME: Final = {s.name: s for s in SURFACES}
MODELS_VIEW: Final = "models"
CALLERS_VIEW: Final = "callers"  # from model invocation logs (``figures.callers_spec``)
VIEW_NAMES: Final = (MODELS_VIEW, *SURFACES_BY_NAME, CALLERS_VIEW)


def window_key(measure: Measure) -> str:
    """The key of a measure's window figure in rows, JSON, CSV and the column registry:
    counters and gauges by their own key, latencies as ``<key>_avg_ms``, other means as
    ``<key>_avg`` (a per-minute rate is already an average: its own key)."""
    if measure.kind != "mean" or measure.unit == "tokens_per_minute":
        return measure.key
    return f"{measure.key}_avg_ms" if measure.unit == "ms" else f"{measure.key}_avg"


def percentile_keys(measure: Measure) -> tuple[tuple[str, str], ...]:
    """(statistic, key) of each whole-window percentile: ``latency_p90_ms``."""
    unit = "_ms" if measure.unit == "ms" else ""
    return tuple((p, f"{measure.key}_{p}{unit}") for p in measure.percentiles)


# Header words of the dimensions (the JSON key is the snake_case name).
DIMENSION_LABELS: Final = {
    "Project": "Project",
    "Model": "Model",
    "Operation": "Operation",
    "AgentAliasArn": "Agent alias",
    "ModelId": "Model",
    "GuardrailArn": "Guardrail",
    "GuardrailVersion": "Version",
    "KnowledgeBaseId": "Knowledge base",
}


def views_help() -> str:
    """One line per view for ``--help``: its name, namespace and what a row is."""
    lines = [f"  {MODELS_VIEW:<17}AWS/Bedrock: one row per model id (the default)"]
    for spec in SURFACES_BY_NAME.values():
        rows = " + ".join(DIMENSION_LABELS.get(d, d).lower() for d in spec.levels[0])
        lines.append(f"  {spec.name:<17}{spec.namespace}: one row per {rows}")
    lines.append(
        f"  {CALLERS_VIEW:<17}model invocation logs: one row per caller (--group-by: "
        "caller, caller+model, metadata.KEY)"
    )
    return "\n".join(lines)
