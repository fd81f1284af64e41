"""The synthetic world of the Bedrock namespaces beside ``AWS/Bedrock``, for ``--demo``.

``DemoSurfaces`` publishes ``AWS/BedrockMantle``, ``AWS/Bedrock/Agents``,
``AWS/Bedrock/Guardrails``, ``AWS/Bedrock/KnowledgeBases`` and ``AWS/Bedrock/Batch`` with the
metric names and dimension sets of ``docs/cloudwatch-namespaces.md`` (sections 2-6), so the
surface views run on the same discovery and polling code as against AWS.

How the data is built:

* Everything is a pure function of (seed, region, minute): each namespace draws one minute of
  events (requests, inferences, model calls) from its own seeded generator, on a daily curve
  with Poisson noise, and turns them into raw datums per series, as CloudWatch stores them.
  Statistics are computed over those datums, so Sum, SampleCount, Average, Minimum, Maximum
  and nearest-rank percentiles agree with each other over any bucket.
* One event feeds every dimension set it belongs to, so coarser series are exact sums of finer
  ones (Mantle's Account = Σ Project = Σ Model = Σ Project+Model); the product warns on
  disagreement, and tests build disagreement themselves.
* Counters of failures among requests (``InferenceClientErrors``, ``InvocationClientErrors``,
  ...) emit one datum per request, 0 or 1, so a quiet minute reads 0 rather than nothing.
  Throttles (not requests in any count) emit one datum per throttled request, only when they
  happen; Knowledge Bases' ``ClientErrors`` and ``Throttles`` too, as the documentation says.
* Batch: a backlog arrives at the start of every 2-hour cycle and drains linearly in about
  100 minutes. The gauges are published every minute while a job is active, with one final 0
  when it completes, and nothing while the model is idle (the documentation expects missing
  data, not 0). The two models' cycles are an hour apart: one is draining in any hour.
* Like CloudWatch's late publishing, a minute's data appears once ``now >= minute start + 120``.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate, chain
from typing import Final, Protocol

from bedrock_top.demo import data as dd

Dims = tuple[tuple[str, str], ...]
Key = tuple[str, frozenset[tuple[str, str]]]  # (metric name, dimensions) within a namespace
Datums = tuple[float, ...]
Minute = Mapping[Key, Datums]
Listing = tuple[tuple[str, Dims], ...]

ACCOUNT_ID: Final = "123456789012"
MANTLE: Final = "AWS/BedrockMantle"
AGENTS: Final = "AWS/Bedrock/Agents"
GUARDRAILS: Final = "AWS/Bedrock/Guardrails"
KNOWLEDGE_BASES: Final = "AWS/Bedrock/KnowledgeBases"
BATCH: Final = "AWS/Bedrock/Batch"

PUBLISH_DELAY: Final = 120  # seconds after a minute starts before its data is visible
MAX_PER_MINUTE: Final = 40  # requests per entity-minute: keeps the datum lists small
MINUTE_CACHE: Final = 4096  # namespace-minutes kept (~4 kB each at the peak: <= ~16 MB)
THROTTLE_EVERY: Final = 47  # minutes between an entity's scheduled throttling incidents
STORM_CHANCE: Final = 0.03  # chance of an unscheduled incident in a minute
STORM_RATE: Final = 0.3  # share of the attempts throttled during an incident


@lru_cache(maxsize=8192)
def _key(name: str, dims: Dims) -> Key:
    return name, frozenset(dims)


def _rng(seed: int, *parts: object) -> random.Random:
    """An independent stream per entity and minute: adding an entity changes no other one."""
    return random.Random(dd.stable_seed(seed, *parts))


def _daily(minute: int, phase: float = 0.0) -> float:
    """The daily curve of ``demo.data``: 0.3 x the peak at night, 1.0 x at the peak."""
    return 0.65 + 0.35 * math.sin(2 * math.pi * (minute / 1440 + phase))


def _arrivals(rng: random.Random, rate: float, minute: int, phase: float = 0.0) -> int:
    """Requests in a minute: Poisson around the daily curve, capped to keep lists small."""
    return min(MAX_PER_MINUTE, dd.poisson(rng, rate * _daily(minute, phase)))


def _amount(rng: random.Random, mean: float, sigma: float) -> int:
    """A log-normal positive integer with the given mean (token counts, milliseconds)."""
    return max(1, round(mean * math.exp(sigma * rng.gauss(0.0, 1.0) - sigma * sigma / 2)))


def _storm(rng: random.Random, minute: int, entity: str) -> bool:
    """A throttling incident this minute: scheduled every THROTTLE_EVERY minutes (staggered
    per entity) and at random, so throttles show in any 3-hour window (RecentlyActive)."""
    offset = dd.stable_seed("storm", entity) % THROTTLE_EVERY
    return (minute + offset) % THROTTLE_EVERY == 0 or rng.random() < STORM_CHANCE


def _throttled(rng: random.Random, attempts: int, storm: bool, rate: float) -> list[bool]:
    """Which attempts are throttled: in a storm the first one (so it always shows) and
    STORM_RATE of the others, else ``rate`` of them."""
    if storm:
        return [True] + [rng.random() < STORM_RATE for _ in range(attempts - 1)]
    return [rng.random() < rate for _ in range(attempts)]


class _Sink:
    """One minute's datums per series; a series given no datum is not published."""

    def __init__(self) -> None:
        self._data: dict[Key, list[float]] = {}

    def add(self, name: str, where: Iterable[Dims], values: Sequence[float]) -> None:
        """The same datums for every dimension set in ``where`` (one event, several series)."""
        if values:
            for dims in where:
                self._data.setdefault(_key(name, dims), []).extend(values)

    def minute(self) -> dict[Key, Datums]:
        return {key: tuple(values) for key, values in self._data.items()}


def _listing(*groups: tuple[Iterable[str], Iterable[Dims]]) -> Listing:
    """Every (metric, dimension set) of the groups, each once, in order."""
    return tuple(
        dict.fromkeys((name, dims) for names, where in groups for dims in where for name in names)
    )


class Surface(Protocol):
    """One namespace: its static listing and one minute of its datums."""

    @property
    def namespace(self) -> str: ...

    def listing(self) -> Listing: ...

    def minute(self, seed: int, minute: int) -> dict[Key, Datums]: ...


# --- AWS/BedrockMantle -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MantleRow:
    """One project x model of the Mantle endpoint; ``rate``: inferences/min at the peak."""

    project: str
    model: str
    rate: float
    input_tokens: int  # mean per inference
    output_tokens: int
    phase: float = 0.0

    @property
    def levels(self) -> tuple[Dims, Dims, Dims, Dims]:
        """Account, Project, Model, Project+Model: every level this row's traffic counts in."""
        project, model = ("Project", self.project), ("Model", self.model)
        return (), (project,), (model,), (project, model)


MANTLE_ROWS: Final = (
    MantleRow("default", "anthropic.claude-sonnet-4-6", 14, 3200, 700),
    MantleRow("default", "openai.gpt-oss-120b", 7, 1500, 900, 0.1),
    MantleRow("proj_support", "anthropic.claude-sonnet-4-6", 10, 2400, 500, -0.05),
    MantleRow("proj_support", "anthropic.claude-haiku-4-5", 22, 1100, 250, -0.05),
    MantleRow("proj_research", "anthropic.claude-opus-4-7", 3, 9000, 1800, 0.2),
    MantleRow("proj_research", "anthropic.claude-sonnet-4-6", 5, 6000, 1200, 0.2),
)
MANTLE_ERROR_RATE: Final = 0.03


@dataclass(frozen=True, slots=True)
class MantleSurface:
    """Per-inference tokens at Project+Model only; counts at four levels; per-interval
    ``Total*Tokens`` at the three coarser levels, each the exact sum of the finer data."""

    rows: tuple[MantleRow, ...] = MANTLE_ROWS
    namespace: str = MANTLE

    def listing(self) -> Listing:
        levels = [level for row in self.rows for level in row.levels]
        coarse = [level for level in levels if len(level) < 2]
        return _listing(
            (("Inferences", "InferenceClientErrors"), levels),
            (("TotalInputTokens", "TotalOutputTokens"), coarse),
            (("InputTokens", "OutputTokens"), [row.levels[3] for row in self.rows]),
        )

    def minute(self, seed: int, minute: int) -> dict[Key, Datums]:
        sink = _Sink()
        totals: dict[Dims, tuple[int, int]] = {}
        for index, row in enumerate(self.rows):
            rng = _rng(seed, MANTLE, index, minute)
            requests = _arrivals(rng, row.rate, minute, row.phase)
            failed = dd.binomial(rng, requests, MANTLE_ERROR_RATE)
            done = requests - failed
            inputs = [_amount(rng, row.input_tokens, 0.6) for _ in range(done)]
            outputs = [_amount(rng, row.output_tokens, 0.8) for _ in range(done)]
            sink.add("Inferences", row.levels, [1] * done)
            sink.add("InferenceClientErrors", row.levels, [0] * done + [1] * failed)
            sink.add("InputTokens", row.levels[3:], inputs)
            sink.add("OutputTokens", row.levels[3:], outputs)
            if done:  # a per-interval total exists only for intervals with inferences
                for level in row.levels[:3]:
                    before_in, before_out = totals.get(level, (0, 0))
                    totals[level] = before_in + sum(inputs), before_out + sum(outputs)
        for level, (total_in, total_out) in totals.items():
            sink.add("TotalInputTokens", (level,), [total_in])
            sink.add("TotalOutputTokens", (level,), [total_out])
        return sink.minute()


# --- AWS/Bedrock/Agents --------------------------------------------------------------------------

AGENT_ID: Final = "AGENT7K2Q9"
AGENT_ALIAS_ID: Final = "ALIASPROD1"
AGENT_MODEL: Final = "anthropic.claude-3-haiku-20240307-v1:0"
# Published at {Operation} and {Operation, AgentAliasArn, ModelId} (doc table, section 3).
AGENT_REQUEST_METRICS: Final = ("InvocationCount", "TTFT", "InvocationThrottles",
                                "InvocationServerErrors", "InvocationClientErrors")  # fmt: skip
# Published at all three sets, {Operation, ModelId} included.
AGENT_MODEL_METRICS: Final = ("TotalTime", "ModelLatency", "ModelInvocationCount",
                              "ModelInvocationThrottles", "ModelInvocationClientErrors",
                              "ModelInvocationServerErrors", "InputTokenCount",
                              "OutputTokenCount")  # fmt: skip


@dataclass(frozen=True, slots=True)
class AgentTraffic:
    """Requests of one agent operation; ``alias``: also published per alias and model."""

    operation: str
    rate: float
    alias: bool
    phase: float = 0.0


AGENT_TRAFFIC: Final = (
    AgentTraffic("InvokeAgent", 8, alias=True),
    AgentTraffic("InvokeInlineAgent", 2.5, alias=False, phase=0.1),  # no alias: Operation only
)


@dataclass(frozen=True, slots=True)
class AgentsSurface:
    """One agent alias on Claude 3 Haiku, plus a little alias-less InvokeInlineAgent."""

    region: str
    traffic: tuple[AgentTraffic, ...] = AGENT_TRAFFIC
    namespace: str = AGENTS

    @property
    def alias_arn(self) -> str:
        return (f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:agent-alias/"
                f"{AGENT_ID}/{AGENT_ALIAS_ID}")  # fmt: skip

    def where(self, traffic: AgentTraffic) -> tuple[tuple[Dims, ...], tuple[Dims, ...]]:
        """(sets of the request metrics, sets of the model metrics) of an operation."""
        operation = (("Operation", traffic.operation),)
        if not traffic.alias:
            return (operation,), (operation,)
        model = ("ModelId", AGENT_MODEL)
        by_alias = (*operation, ("AgentAliasArn", self.alias_arn), model)
        return (operation, by_alias), (operation, (*operation, model), by_alias)

    def listing(self) -> Listing:
        groups = []
        for traffic in self.traffic:
            request_sets, model_sets = self.where(traffic)
            groups += [(AGENT_REQUEST_METRICS, request_sets), (AGENT_MODEL_METRICS, model_sets)]
        return _listing(*groups)

    def minute(self, seed: int, minute: int) -> dict[Key, Datums]:
        sink = _Sink()
        for index, traffic in enumerate(self.traffic):
            rng = _rng(seed, AGENTS, index, minute)
            storm = _storm(rng, minute, traffic.operation)
            attempts = _arrivals(rng, traffic.rate, minute, traffic.phase)
            values = _agent_requests(rng, _throttled(rng, max(attempts, int(storm)), storm, 0.005))
            request_sets, model_sets = self.where(traffic)
            for name, datums in values.items():
                sink.add(name, request_sets if name in AGENT_REQUEST_METRICS else model_sets,
                         datums)  # fmt: skip
        return sink.minute()


def _agent_requests(rng: random.Random, throttled: list[bool]) -> dict[str, list[float]]:
    """Agent requests: a few model calls each (context grows call by call), latencies in ms;
    throttled attempts are not requests; 2 % client and 0.5 % server errors."""
    values: defaultdict[str, list[float]] = defaultdict(list)
    for throttle in throttled:
        if throttle:
            values["InvocationThrottles"].append(1)
            continue
        outcome = rng.random()
        client, server = outcome < 0.02, 0.02 <= outcome < 0.025
        values["InvocationCount"].append(1)
        values["InvocationClientErrors"].append(int(client))
        values["InvocationServerErrors"].append(int(server))
        if client:
            continue
        elapsed = _amount(rng, 250, 0.4)  # orchestration overhead
        calls = 1 + (rng.random() < 0.5) + (rng.random() < 0.2)
        for call in range(calls):
            latency = _amount(rng, 900, 0.5)
            elapsed += latency
            values["ModelLatency"].append(latency)
            values["ModelInvocationCount"].append(1)
            if rng.random() < 0.03:  # retried after a back-off: still one model call
                values["ModelInvocationThrottles"].append(1)
            values["ModelInvocationClientErrors"].append(0)
            values["ModelInvocationServerErrors"].append(int(server and call == calls - 1))
            values["InputTokenCount"].append(_amount(rng, 1800 * (1 + 0.5 * call), 0.5))
            values["OutputTokenCount"].append(_amount(rng, 250, 0.7))
        if server:
            continue
        values["TotalTime"].append(elapsed)
        if rng.random() < 0.6:  # streamed
            values["TTFT"].append(min(elapsed, _amount(rng, 800, 0.4)))
    return values


# --- AWS/Bedrock/Guardrails ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Guardrail:
    """One guardrail version: its policies with the chance each intervenes on a request."""

    guardrail_id: str
    version: str
    policies: tuple[tuple[str, float], ...]
    rate: float
    latency_ms: int
    phase: float = 0.0


GUARDRAIL_LIST: Final = (
    Guardrail("gr7pii2mask", "1", (("SensitiveInformationPolicy", 0.12), ("WordPolicy", 0.03)),
              18, 170),
    Guardrail("gr4topics9x", "DRAFT", (("TopicPolicy", 0.08), ("ContentPolicy", 0.05)),
              5, 240, 0.15),
)  # fmt: skip
GUARDRAIL_METRICS: Final = ("Invocations", "InvocationLatency", "InvocationsIntervened",
                            "TextUnitCount", "InvocationThrottles", "InvocationClientErrors",
                            "InvocationServerErrors")  # fmt: skip
PER_POLICY_METRICS: Final = ("InvocationsIntervened", "TextUnitCount")
GUARDRAIL_OPERATION: Final = (("Operation", "ApplyGuardrail"),)
CONTENT_SOURCES: Final = ("Input", "Output")
REASONING_POLICY_ID: Final = "ar5policy2k"


@dataclass(frozen=True, slots=True)
class GuardrailsSurface:
    """ApplyGuardrail requests on two guardrails, each counted in three separate dimension
    sets (operation, content source, guardrail), plus an automated-reasoning policy whose
    ``TotalFindings`` no view knows (the product must report it)."""

    region: str
    guardrails: tuple[Guardrail, ...] = GUARDRAIL_LIST
    namespace: str = GUARDRAILS

    def guardrail_dims(self, guardrail: Guardrail) -> Dims:
        arn = f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:guardrail/{guardrail.guardrail_id}"
        return ("GuardrailArn", arn), ("GuardrailVersion", guardrail.version)

    def policy_dims(self, guardrail: Guardrail) -> list[Dims]:
        base = self.guardrail_dims(guardrail)
        return [(*base, ("GuardrailPolicyType", policy)) for policy, _ in guardrail.policies]

    @property
    def reasoning_dims(self) -> Dims:
        arn = (f"arn:aws:bedrock:{self.region}:{ACCOUNT_ID}:automated-reasoning-policy/"
               f"{REASONING_POLICY_ID}")  # fmt: skip
        return ("PolicyArn", arn), ("PolicyVersion", "1")

    def listing(self) -> Listing:
        sources = [(("GuardrailContentSource", s),) for s in CONTENT_SOURCES]
        request_sets = [GUARDRAIL_OPERATION, *sources,
                        *(self.guardrail_dims(g) for g in self.guardrails)]  # fmt: skip
        policies = [dims for g in self.guardrails for dims in self.policy_dims(g)]
        return _listing(
            (GUARDRAIL_METRICS, request_sets),
            (PER_POLICY_METRICS, policies),
            (("TotalFindings",), [self.reasoning_dims]),
        )

    def minute(self, seed: int, minute: int) -> dict[Key, Datums]:
        sink = _Sink()
        for index, guardrail in enumerate(self.guardrails):
            self._requests(sink, _rng(seed, GUARDRAILS, index, minute), guardrail, minute)
        rng = _rng(seed, GUARDRAILS, "reasoning", minute)
        findings = [rng.choices((0, 1, 2, 3), (50, 30, 15, 5))[0]
                    for _ in range(_arrivals(rng, 2, minute, 0.3))]  # fmt: skip
        sink.add("TotalFindings", (self.reasoning_dims,), findings)
        return sink.minute()

    def _requests(self, sink: _Sink, rng: random.Random, guardrail: Guardrail, minute: int) -> None:
        storm = _storm(rng, minute, guardrail.guardrail_id)
        attempts = max(_arrivals(rng, guardrail.rate, minute, guardrail.phase), int(storm))
        mine, policies = self.guardrail_dims(guardrail), self.policy_dims(guardrail)
        for throttled in _throttled(rng, attempts, storm, 0.0):
            source = "Input" if rng.random() < 0.55 else "Output"
            where = (GUARDRAIL_OPERATION, (("GuardrailContentSource", source),), mine)
            if throttled:
                sink.add("InvocationThrottles", where, (1,))
                continue
            outcome = rng.random()
            client, server = outcome < 0.01, 0.01 <= outcome < 0.013
            sink.add("Invocations", where, (1,))
            sink.add("InvocationClientErrors", where, (int(client),))
            sink.add("InvocationServerErrors", where, (int(server),))
            if client or server:
                continue
            units = math.ceil(_amount(rng, 1500 if source == "Input" else 2500, 0.8) / 1000)
            sink.add("InvocationLatency", where, (_amount(rng, guardrail.latency_ms, 0.4),))
            hits = [rng.random() < chance for _, chance in guardrail.policies]
            sink.add("InvocationsIntervened", where, (int(any(hits)),))
            sink.add("TextUnitCount", where, (units * len(hits),))
            for dims, hit in zip(policies, hits, strict=True):
                sink.add("InvocationsIntervened", (dims,), (int(hit),))
                sink.add("TextUnitCount", (dims,), (units,))


# --- AWS/Bedrock/KnowledgeBases ------------------------------------------------------------------

KNOWLEDGE_BASE_ID: Final = "knowledge-base/KB8H3N2XQ1"
RETRIEVE: Final = (("Operation", "Retrieve"), ("KnowledgeBaseId", KNOWLEDGE_BASE_ID))
AGENTIC: Final = (("Operation", "AgenticRetrieveStream"),)
KB_ONLY: Final = (("KnowledgeBaseId", KNOWLEDGE_BASE_ID),)
INGESTION_EVERY: Final = 10  # minutes between ingestion jobs (a RawDataSize datum each)


@dataclass(frozen=True, slots=True)
class KnowledgeBasesSurface:
    """Retrieve on one knowledge base, with occasional throttling storms; agentic retrieval
    (Operation only); the raw data size after each ingestion job."""

    namespace: str = KNOWLEDGE_BASES

    def listing(self) -> Listing:
        return _listing(
            (("Invocations", "Throttles", "ClientErrors"), [RETRIEVE]),
            (("Invocations", "TotalIterationCount"), [AGENTIC]),
            (("RawDataSize",), [KB_ONLY]),
        )

    def minute(self, seed: int, minute: int) -> dict[Key, Datums]:
        sink = _Sink()
        rng = _rng(seed, KNOWLEDGE_BASES, "retrieve", minute)
        storm = _storm(rng, minute, KNOWLEDGE_BASE_ID)
        attempts = max(_arrivals(rng, 12, minute), int(storm))
        throttled = sum(_throttled(rng, attempts, storm, 0.0))
        errors = dd.binomial(rng, attempts - throttled, 0.015)
        sink.add("Invocations", (RETRIEVE,), [1] * attempts)  # every request, throttled too
        sink.add("Throttles", (RETRIEVE,), [1] * throttled)  # only when they occur
        sink.add("ClientErrors", (RETRIEVE,), [1] * errors)
        rng = _rng(seed, KNOWLEDGE_BASES, "agentic", minute)
        requests = _arrivals(rng, 2, minute, 0.2)
        iterations = [rng.choices(range(1, 7), (25, 30, 20, 12, 8, 5))[0] for _ in range(requests)]
        sink.add("Invocations", (AGENTIC,), [1] * requests)
        sink.add("TotalIterationCount", (AGENTIC,), iterations)
        if minute % INGESTION_EVERY == 0:
            sink.add("RawDataSize", (KB_ONLY,), (_raw_size_gb(rng, minute),))
        return sink.minute()


def _raw_size_gb(rng: random.Random, minute: int) -> float:
    """Source size after an ingestion: a weekly swell around 42 GB, jittered."""
    weekly = 3.0 * math.sin(2 * math.pi * minute / 10_080)
    return round(42.0 + weekly + 0.05 * (rng.random() - 0.5), 3)


# --- AWS/Bedrock/Batch ---------------------------------------------------------------------------

BATCH_CYCLE: Final = 120  # minutes: a new backlog arrives at the start of every cycle


@dataclass(frozen=True, slots=True)
class BatchModel:
    """Batch jobs of one model: ``records`` queued at each cycle start (give or take 20 %),
    drained from minute ``offset`` of the cycle."""

    model_id: str
    offset: int
    records: int
    tokens_per_record: int
    output_ratio: float
    tokens_pending: bool  # NumberOfTokensPendingProcessing: Anthropic models only


BATCH_MODELS: Final = (
    BatchModel("anthropic.claude-3-haiku-20240307-v1:0", 0, 40_000, 900, 0.3, True),
    BatchModel("amazon.nova-micro-v1:0", 60, 60_000, 400, 0.5, False),
)


@dataclass(frozen=True, slots=True)
class BatchCycle:
    """One drain, per minute of the job: records and tokens pending at the minute's start,
    tokens processed during it. Pending tokens drop by exactly the input tokens processed."""

    records: tuple[int, ...]
    tokens: tuple[int, ...]
    input_tokens: tuple[int, ...]
    output_tokens: tuple[int, ...]


@lru_cache(maxsize=64)
def batch_cycle(seed: int, model: BatchModel, cycle: int) -> BatchCycle:
    """A backlog drained almost linearly over 95-105 minutes (so the other model, an hour
    apart, covers this one's idle tail)."""
    rng = _rng(seed, BATCH, model.model_id, cycle)
    backlog = round(model.records * (0.8 + 0.4 * rng.random()))
    duration = 95 + rng.randrange(11)
    weights = list(accumulate(0.9 + 0.2 * rng.random() for _ in range(duration)))
    done = [round(backlog * w / weights[-1]) for w in weights]  # records done by minute end
    processed = [b - a for a, b in zip([0, *done[:-1]], done, strict=True)]
    inputs = [round(n * model.tokens_per_record * (0.9 + 0.2 * rng.random())) for n in processed]
    outputs = [round(n * model.output_ratio * (0.8 + 0.4 * rng.random())) for n in inputs]
    tokens = sum(inputs)
    return BatchCycle(
        records=tuple(backlog - d for d in [0, *done]),  # ends with the final 0
        tokens=tuple(tokens - t for t in accumulate(inputs, initial=0)),
        input_tokens=tuple(inputs),
        output_tokens=tuple(outputs),
    )


@dataclass(frozen=True, slots=True)
class BatchSurface:
    """Per-model backlog gauges and drain rates; nothing published while a model is idle."""

    models: tuple[BatchModel, ...] = BATCH_MODELS
    namespace: str = BATCH

    def listing(self) -> Listing:
        groups = []
        for model in self.models:
            names = ["NumberOfRecordsPendingProcessing", "NumberOfInputTokensProcessedPerMinute",
                     "NumberOfOutputTokensProcessedPerMinute"]  # fmt: skip
            if model.tokens_pending:
                names.insert(1, "NumberOfTokensPendingProcessing")
            groups.append((names, [(("ModelId", model.model_id),)]))
        return _listing(*groups)

    def minute(self, seed: int, minute: int) -> dict[Key, Datums]:
        sink = _Sink()
        for model in self.models:
            cycle, at = divmod(minute - model.offset, BATCH_CYCLE)
            job = batch_cycle(seed, model, cycle)
            if at >= len(job.records):
                continue  # idle: no job, no datum
            where = ((("ModelId", model.model_id),),)
            sink.add("NumberOfRecordsPendingProcessing", where, (job.records[at],))
            if model.tokens_pending:
                sink.add("NumberOfTokensPendingProcessing", where, (job.tokens[at],))
            if at < len(job.input_tokens):
                sink.add("NumberOfInputTokensProcessedPerMinute", where, (job.input_tokens[at],))
                sink.add("NumberOfOutputTokensProcessedPerMinute", where,
                         (job.output_tokens[at],))  # fmt: skip
        return sink.minute()


# --- the client-facing part ----------------------------------------------------------------------


def namespace_surfaces(region: str) -> tuple[Surface, ...]:
    """The five namespaces of a region (ARNs carry the region)."""
    return (
        MantleSurface(),
        AgentsSurface(region),
        GuardrailsSurface(region),
        KnowledgeBasesSurface(),
        BatchSurface(),
    )


class DemoSurfaces:
    """ListMetrics listings and GetMetricData points of the extra namespaces, for
    ``DemoCloudWatch`` (which validates requests, paginates and applies retention)."""

    def __init__(self, seed: int, region: str) -> None:
        self.region = region
        self._seed = dd.stable_seed("surfaces", seed, region)  # regions differ
        self._surfaces = {s.namespace: s for s in namespace_surfaces(region)}
        self.namespaces: frozenset[str] = frozenset(self._surfaces)
        # Built once (0.1 ms), so concurrent polls only ever read them.
        self._listings = {ns: s.listing() for ns, s in self._surfaces.items()}
        self._known = {
            ns: frozenset(_key(name, dims) for name, dims in listing)
            for ns, listing in self._listings.items()
        }
        self._minute = lru_cache(maxsize=MINUTE_CACHE)(self._make_minute)

    def listing(self, namespace: str) -> Listing:
        """Every (metric name, dimensions) published in the namespace; empty if unknown."""
        return self._listings.get(namespace, ())

    def _make_minute(self, namespace: str, minute: int) -> Minute:
        return self._surfaces[namespace].minute(self._seed, minute)

    def points(
        self,
        namespace: str,
        name: str,
        dims: frozenset[tuple[str, str]],
        statistic: str,
        period: int,
        start: float,
        end: float,
        now: float,
    ) -> list[tuple[int, float]]:
        """(bucket start, value) pairs, ascending, for buckets holding at least one datum,
        over the minutes published by ``now`` (buckets as in ``DemoCloudWatch._points``)."""
        key = (name, dims)
        if key not in self._known.get(namespace, ()):
            return []
        published = math.floor((now - PUBLISH_DELAY) / 60) + 1  # minutes before are visible
        first = int(start // 60) * 60  # CloudWatch rounds StartTime down to the minute
        minutes, last_minute = period // 60, math.ceil(end / 60)
        points = []
        for bucket in range(first, math.ceil(end), period):
            lo = bucket // 60
            hi = min(lo + minutes if bucket + period <= end else last_minute, published)
            parts = [d for m in range(lo, hi) if (d := self._minute(namespace, m).get(key))]
            if parts:
                points.append((bucket, statistic_of(parts, statistic)))
        return points


def statistic_of(parts: Sequence[Datums], statistic: str) -> float:
    """A CloudWatch statistic over the raw datums of a bucket (percentiles: nearest rank)."""
    if statistic == "SampleCount":
        return float(sum(len(part) for part in parts))
    total = math.fsum(chain.from_iterable(parts))
    if statistic == "Sum":
        return total
    if statistic == "Average":
        return total / sum(len(part) for part in parts)
    hundredths = dd.parse_percentile(statistic)  # Minimum and Maximum too
    assert hundredths is not None
    ordered = sorted(chain.from_iterable(parts))
    return float(ordered[dd.nearest_rank(hundredths, len(ordered)) - 1])
