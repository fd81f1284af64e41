"""Bedrock traffic, how Bedrock publishes it to CloudWatch, and the figures a tool must show.

Three separate parts, so that a test can tell which one is wrong:

- ``Request`` / ``scenario``: what callers did (one record per bedrock-runtime request).
- ``publish``: the Bedrock side, one CloudWatch sample per request and metric, sent with
  ``put_metric_data`` in ``AWS/Bedrock`` under the ``ModelId``-only dimension set.
- ``expected`` / ``per_period``: the truth, computed straight from the requests with code that
  shares nothing with ``publish``, with moto's statistics or with the product.

Every sample is timestamped at the start of the minute its request happened in, as a
60-second CloudWatch datapoint is; a window [start, end) therefore covers the requests of the
minutes that start inside it. Latencies are whole milliseconds (like Bedrock's), so sums and
averages are exact and a test can compare them with ``==``.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final, Literal, TypedDict, TypeVar

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDatumTypeDef

__all__ = [
    "APP_PROFILE",
    "BASE_HAIKU",
    "GLOBAL_SONNET",
    "NON_STREAMING",
    "SCENARIO_CACHE_SPELLING",
    "SCENARIO_MODELS",
    "SPARSE_LATE",
    "US_SONNET",
    "CacheSpelling",
    "Figures",
    "Outcome",
    "Request",
    "expected",
    "per_period",
    "publish",
    "scenario",
    "scenario_window",
]

NAMESPACE: Final = "AWS/Bedrock"
DIMENSION: Final = "ModelId"
_T = TypeVar("_T")

Outcome = Literal["ok", "client_error", "server_error", "throttled"]
CacheSpelling = Literal["TokenCount", "Tokens"]

CACHE_METRIC_NAMES: Final[dict[CacheSpelling, tuple[str, str]]] = {
    "TokenCount": ("CacheReadInputTokenCount", "CacheWriteInputTokenCount"),
    "Tokens": ("CacheReadInputTokens", "CacheWriteInputTokens"),
}

# PutMetricData limits: distinct values per datum, datums per call.
MAX_VALUES_PER_DATUM: Final = 150
MAX_DATUMS_PER_CALL: Final = 1000


@dataclass(frozen=True)
class Request:
    """One bedrock-runtime request as its caller saw it.

    ``latency_ms`` / ``ttft_ms`` are None when Bedrock reports none (failed or throttled
    requests; ``ttft_ms`` also for non-streaming calls). Tokens count only for ``ok``.
    """

    model_id: str
    at: datetime
    outcome: Outcome
    latency_ms: float | None
    ttft_ms: float | None
    input_tokens: int
    output_tokens: int
    cache_read: int = 0
    cache_write: int = 0

    def __post_init__(self) -> None:
        if self.at.utcoffset() != timedelta(0):
            raise ValueError(f"Request.at must be an aware UTC datetime, got {self.at!r}")


def _minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


# --- Bedrock's side: publishing ----------------------------------------------------------


def _request_samples(
    r: Request, cache_names: tuple[str, str] | None
) -> Iterator[tuple[str, float]]:
    """(metric name, value) for each sample Bedrock emits for one request."""
    if r.outcome == "throttled":
        yield "InvocationThrottles", 1.0
        return
    yield "Invocations", 1.0
    yield "InvocationClientErrors", float(r.outcome == "client_error")
    yield "InvocationServerErrors", float(r.outcome == "server_error")
    yield "InvocationThrottles", 0.0
    if r.outcome != "ok":
        return
    if r.latency_ms is not None:
        yield "InvocationLatency", r.latency_ms
    if r.ttft_ms is not None:
        yield "TimeToFirstToken", r.ttft_ms
    yield "InputTokenCount", float(r.input_tokens)
    yield "OutputTokenCount", float(r.output_tokens)
    if cache_names is not None:
        yield cache_names[0], float(r.cache_read)
        yield cache_names[1], float(r.cache_write)


def _samples(
    requests: Iterable[Request], spelling_of: dict[str, CacheSpelling]
) -> Iterator[tuple[str, str, datetime, float]]:
    """(model, metric name, minute, value) for every sample of every request."""
    requests = list(requests)
    caching = {r.model_id for r in requests if r.cache_read or r.cache_write}
    for r in requests:
        cache_names = (
            CACHE_METRIC_NAMES[spelling_of.get(r.model_id, "TokenCount")]
            if r.model_id in caching
            else None
        )
        for name, value in _request_samples(r, cache_names):
            yield r.model_id, name, _minute(r.at), value


def _chunks(items: Sequence[_T], size: int) -> Iterator[Sequence[_T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def publish(
    client: CloudWatchClient,
    requests: Iterable[Request],
    cache_spelling: dict[str, CacheSpelling] | None = None,
) -> int:
    """Publish the requests the way Bedrock does; returns the number of samples stored.

    One sample per request and metric (so SampleCount counts requests), batched as
    Values/Counts per (model, metric, minute) because moto stores one object per sample.
    Cache metrics use ``cache_spelling[model]``, else ``SCENARIO_CACHE_SPELLING``, else
    ``"TokenCount"``; they appear only for models with a nonzero cache value.
    """
    spelling_of: dict[str, CacheSpelling] = {**SCENARIO_CACHE_SPELLING, **(cache_spelling or {})}
    grouped: defaultdict[tuple[str, str, datetime], Counter[float]] = defaultdict(Counter)
    for model_id, name, minute, value in _samples(requests, spelling_of):
        grouped[(model_id, name, minute)][value] += 1

    datums: list[MetricDatumTypeDef] = []
    samples = 0
    for (model_id, name, minute), counts in sorted(grouped.items()):
        for chunk in _chunks(sorted(counts.items()), MAX_VALUES_PER_DATUM):
            datums.append(
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": DIMENSION, "Value": model_id}],
                    "Timestamp": minute,
                    "Values": [value for value, _ in chunk],
                    "Counts": [float(count) for _, count in chunk],
                }
            )
            samples += sum(count for _, count in chunk)
    for batch in _chunks(datums, MAX_DATUMS_PER_CALL):
        client.put_metric_data(Namespace=NAMESPACE, MetricData=list(batch))
    return samples


# --- The truth: what a correct tool shows -------------------------------------------------


class Figures(TypedDict):
    """Per-model figures over a window (the JSON contract's field names)."""

    invocations: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    client_errors: int
    server_errors: int
    throttles: int
    latency_avg_ms: float | None
    latency_p50_ms: float | None
    latency_p90_ms: float | None
    latency_p99_ms: float | None
    ttft_avg_ms: float | None
    ttft_p90_ms: float | None
    error_rate: float | None
    throttle_rate: float | None


def _check_window(start: datetime, end: datetime, period_s: int) -> None:
    """Only windows that the tool's buckets tile exactly are comparable with the truth."""
    span = (end - start).total_seconds()
    if period_s <= 0 or period_s % 60 or span <= 0 or span % period_s:
        raise ValueError(f"period {period_s}s must be a multiple of 60 dividing [{start}, {end})")


def _in_window(r: Request, start: datetime, end: datetime) -> bool:
    # A request belongs to its minute's datapoint (timestamped at the minute start).
    return start <= _minute(r.at) < end


def _rank(values: list[float], percent: int) -> float | None:
    """Nearest rank: the ceil(p/100 * n)-th smallest value (1-indexed)."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent * len(ordered) / 100)) - 1]


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _figures(requests: list[Request]) -> Figures:
    accepted = [r for r in requests if r.outcome != "throttled"]
    ok = [r for r in requests if r.outcome == "ok"]
    latencies = [r.latency_ms for r in ok if r.latency_ms is not None]
    ttfts = [r.ttft_ms for r in ok if r.ttft_ms is not None]
    invocations = len(accepted)
    client = sum(r.outcome == "client_error" for r in requests)
    server = sum(r.outcome == "server_error" for r in requests)
    throttles = sum(r.outcome == "throttled" for r in requests)
    return Figures(
        invocations=invocations,
        input_tokens=sum(r.input_tokens for r in ok),
        output_tokens=sum(r.output_tokens for r in ok),
        cache_read_tokens=sum(r.cache_read for r in ok),
        cache_write_tokens=sum(r.cache_write for r in ok),
        client_errors=client,
        server_errors=server,
        throttles=throttles,
        latency_avg_ms=_mean(latencies),
        latency_p50_ms=_rank(latencies, 50),
        latency_p90_ms=_rank(latencies, 90),
        latency_p99_ms=_rank(latencies, 99),
        ttft_avg_ms=_mean(ttfts),
        ttft_p90_ms=_rank(ttfts, 90),
        error_rate=(client + server) / invocations if invocations else None,
        throttle_rate=throttles / (invocations + throttles) if invocations + throttles else None,
    )


def expected(
    requests: Iterable[Request], start: datetime, end: datetime, period_s: int
) -> dict[str, Figures]:
    """The exact figures for [start, end), for every model that appears in ``requests``.

    A model without requests in the window has zero counters and None statistics. The
    figures do not depend on ``period_s``; it is checked so that a test cannot compare a
    window its Period does not tile.
    """
    _check_window(start, end, period_s)
    requests = list(requests)
    by_model: dict[str, list[Request]] = {r.model_id: [] for r in requests}
    for r in requests:
        if _in_window(r, start, end):
            by_model[r.model_id].append(r)
    return {model_id: _figures(rs) for model_id, rs in sorted(by_model.items())}


# metric (a Figures counter key, "latency"/"ttft", or a CloudWatch name) -> canonical key
_PER_PERIOD_KEYS: Final = {
    "invocations": "invocations",
    "Invocations": "invocations",
    "input_tokens": "input_tokens",
    "InputTokenCount": "input_tokens",
    "output_tokens": "output_tokens",
    "OutputTokenCount": "output_tokens",
    "cache_read_tokens": "cache_read_tokens",
    "CacheReadInputTokenCount": "cache_read_tokens",
    "CacheReadInputTokens": "cache_read_tokens",
    "cache_write_tokens": "cache_write_tokens",
    "CacheWriteInputTokenCount": "cache_write_tokens",
    "CacheWriteInputTokens": "cache_write_tokens",
    "client_errors": "client_errors",
    "InvocationClientErrors": "client_errors",
    "server_errors": "server_errors",
    "InvocationServerErrors": "server_errors",
    "throttles": "throttles",
    "InvocationThrottles": "throttles",
    "latency": "latency",
    "InvocationLatency": "latency",
    "ttft": "ttft",
    "TimeToFirstToken": "ttft",
}


def _bucket_sum(key: str, rs: list[Request], caching: bool) -> float | None:
    """Sum of one metric over one bucket, None when Bedrock sent no sample for it."""
    ok = [r for r in rs if r.outcome == "ok"]
    accepted = [r for r in rs if r.outcome != "throttled"]
    values: list[float]
    if key == "invocations":
        values = [1.0 for _ in accepted]
    elif key == "client_errors":
        values = [float(r.outcome == "client_error") for r in accepted]
    elif key == "server_errors":
        values = [float(r.outcome == "server_error") for r in accepted]
    elif key == "throttles":
        values = [float(r.outcome == "throttled") for r in rs]
    elif key == "input_tokens":
        values = [float(r.input_tokens) for r in ok]
    elif key == "output_tokens":
        values = [float(r.output_tokens) for r in ok]
    elif key == "cache_read_tokens":
        values = [float(r.cache_read) for r in ok] if caching else []
    elif key == "cache_write_tokens":
        values = [float(r.cache_write) for r in ok] if caching else []
    elif key == "latency":
        values = [r.latency_ms for r in ok if r.latency_ms is not None]
    else:  # ttft
        values = [r.ttft_ms for r in ok if r.ttft_ms is not None]
    return sum(values) if values else None


def per_period(
    requests: Iterable[Request],
    start: datetime,
    end: datetime,
    period_s: int,
    model_id: str,
    metric: str,
) -> list[tuple[datetime, float | None]]:
    """Per-bucket Sum of ``metric`` for ``model_id``: every bucket of [start, end) in order.

    A bucket is None when CloudWatch would return no datapoint (no sample at all), which a
    sparkline must not confuse with 0. ``metric`` is a ``Figures`` counter key, ``latency``
    / ``ttft``, or a CloudWatch metric name (either cache spelling).
    """
    _check_window(start, end, period_s)
    key = _PER_PERIOD_KEYS[metric]
    mine = [r for r in requests if r.model_id == model_id]
    caching = any(r.cache_read or r.cache_write for r in mine)
    step = timedelta(seconds=period_s)
    out: list[tuple[datetime, float | None]] = []
    bucket = start
    while bucket < end:
        rs = [r for r in mine if _in_window(r, bucket, bucket + step)]
        out.append((bucket, _bucket_sum(key, rs, caching)))
        bucket += step
    return out


# --- A realistic hour of traffic ----------------------------------------------------------

BASE_HAIKU: Final = "anthropic.claude-3-haiku-20240307-v1:0"
US_SONNET: Final = "us.anthropic.claude-3-5-sonnet-20241022-v2:0"
GLOBAL_SONNET: Final = "global.anthropic.claude-sonnet-4-20250514-v1:0"
NON_STREAMING: Final = "amazon.nova-lite-v1:0"
APP_PROFILE: Final = "k3m9x2p7q1w8"  # application inference profile id (from its ARN)
SPARSE_LATE: Final = "mistral.mistral-large-2407-v1:0"

SCENARIO_CACHE_SPELLING: Final[dict[str, CacheSpelling]] = {
    US_SONNET: "TokenCount",
    GLOBAL_SONNET: "Tokens",
}


@dataclass(frozen=True)
class _Traffic:
    """How one model is used during the scenario hour (minutes count from the window start)."""

    model_id: str
    ok: int
    median_latency_ms: float
    streaming: bool = True
    caching: bool = False
    active: tuple[int, int] = (0, 60)
    client_errors: int = 0
    server_errors: int = 0
    throttles: int = 0
    incident: tuple[int, int] | None = None  # minutes where errors/throttles cluster
    slow: tuple[int, int] | None = None  # minutes with 3x latency


_TRAFFIC: Final = (
    _Traffic(BASE_HAIKU, ok=100, median_latency_ms=700, client_errors=6),
    _Traffic(
        US_SONNET,
        ok=60,
        median_latency_ms=2400,
        caching=True,
        client_errors=2,
        throttles=14,
        incident=(40, 45),
    ),
    _Traffic(
        GLOBAL_SONNET,
        ok=45,
        median_latency_ms=3200,
        caching=True,
        server_errors=5,
        incident=(50, 53),
        slow=(50, 53),
    ),
    _Traffic(NON_STREAMING, ok=40, median_latency_ms=450, streaming=False),
    _Traffic(
        APP_PROFILE, ok=30, median_latency_ms=1500, active=(0, 40), server_errors=1, throttles=2
    ),
    _Traffic(SPARSE_LATE, ok=18, median_latency_ms=1100, streaming=False, active=(45, 60)),
)

SCENARIO_MODELS: Final = tuple(t.model_id for t in _TRAFFIC)


def scenario_window(now: datetime) -> tuple[datetime, datetime]:
    """The scenario's hour: [minute(now) - 60 min, minute(now))."""
    if now.utcoffset() != timedelta(0):
        raise ValueError(f"now must be an aware UTC datetime, got {now!r}")
    end = _minute(now.astimezone(UTC))
    return end - timedelta(minutes=60), end


def _requests_for(t: _Traffic, start: datetime, rng: random.Random) -> list[Request]:
    def at(minutes: tuple[int, int]) -> datetime:
        lo, hi = minutes
        return start + timedelta(seconds=rng.randrange(lo * 60, hi * 60))

    def failed(outcome: Outcome) -> Request:
        return Request(t.model_id, at(t.incident or t.active), outcome, None, None, 0, 0)

    out: list[Request] = []
    for i in range(t.ok):
        when = at(t.active)
        latency = rng.lognormvariate(math.log(t.median_latency_ms), 0.35)
        if t.slow and t.slow[0] * 60 <= (when - start).total_seconds() < t.slow[1] * 60:
            latency *= 3
        latency_ms = float(max(20, round(latency)))
        ttft_ms = float(max(5, round(latency_ms * rng.uniform(0.12, 0.4)))) if t.streaming else None
        cache_read = cache_write = 0
        if t.caching:
            # The first call writes the prompt cache; later ones mostly read it.
            cache_write = rng.randint(1500, 4000) if i == 0 or rng.random() < 0.15 else 0
            cache_read = rng.randint(1000, 8000) if i > 0 and rng.random() < 0.7 else 0
        out.append(
            Request(
                t.model_id,
                when,
                "ok",
                latency_ms,
                ttft_ms,
                input_tokens=rng.randint(150, 4000),
                output_tokens=rng.randint(20, 1200),
                cache_read=cache_read,
                cache_write=cache_write,
            )
        )
    out += [failed("client_error") for _ in range(t.client_errors)]
    out += [failed("server_error") for _ in range(t.server_errors)]
    out += [failed("throttled") for _ in range(t.throttles)]
    return out


def scenario(now: datetime, seed: int) -> list[Request]:
    """A deterministic hour of traffic ending at the minute of ``now`` (323 requests, seed 7).

    - ``BASE_HAIKU`` (base model id): busiest, 100 ok + 6 client errors.
    - ``US_SONNET`` (``us.`` profile): prompt caching, ``...TokenCount`` spelling; 2 client
      errors and 14 throttles in minutes 40-44.
    - ``GLOBAL_SONNET`` (``global.`` profile): prompt caching, ``...Tokens`` spelling;
      5 server errors and 3x latency in minutes 50-52.
    - ``NON_STREAMING`` (base model id): InvokeModel/Converse only, so no TimeToFirstToken.
    - ``APP_PROFILE`` (application inference profile id): active in minutes 0-39 only (idle
      for the last 20 minutes); 1 server error, 2 throttles.
    - ``SPARSE_LATE``: non-streaming, appears only in the last 15 minutes.

    Requests are returned sorted by time. The same (now, seed) gives the same requests.
    """
    start, _ = scenario_window(now)
    rng = random.Random(seed)
    requests = [r for t in _TRAFFIC for r in _requests_for(t, start, rng)]
    return sorted(requests, key=lambda r: (r.at, r.model_id))
