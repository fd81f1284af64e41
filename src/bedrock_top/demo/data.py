"""The synthetic world behind ``--demo``: model profiles, request streams, histogram math.

Pure and deterministic: everything is a function of (seed, model, hour).

How the data is built, so that any window is exact and cheap:

* Each minute of a model has a *regime* (normal, throttled, error burst, slow) and an
  expected number of *attempts* (a daily curve with bursts). Each regime's attempts in an
  hour are one Poisson draw, split over its minutes only when minutes are asked for. They
  are numbered consecutively through the hour: a minute is a range of request indices.
* What happens to request ``i`` of a regime (throttled? error? its latency, TTFT, tokens)
  comes from fixed periodic tables, whose prefix sums give a *prefix record* ``P(x)``: the
  totals over requests ``[0, x)``. Any range of requests is ``P(x1) - P(x0)``, so a minute,
  an hour or a week costs the same, and sums over minutes telescope to the hour exactly.
* Latency and TTFT are histograms over fixed log-spaced bucket values packed into one int
  (32 bits per bucket): merging histograms is integer addition, so percentiles over any
  window are exact over the very samples that Sum and SampleCount count.
* A partially visible minute is a prefix of its requests, so it only ever grows.
"""

from __future__ import annotations

import hashlib
import math
import random
import re
import struct
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import accumulate
from operator import sub
from statistics import NormalDist
from typing import Final

Record = tuple[int, ...]
Range = tuple[int, int, int]  # (regime, first request, end request)


def stable_seed(*parts: object) -> int:
    """A 64-bit seed from the parts: stable across processes (unlike the salted ``hash()``)."""
    text = "\x1f".join(str(part) for part in parts).encode()
    return int.from_bytes(hashlib.blake2b(text, digest_size=8).digest(), "little")


# --- histograms --------------------------------------------------------------------------------

BUCKET_COUNT: Final = 40
# Integer milliseconds, 50 ms .. 60 s, so sums of samples are exact in any order.
BUCKET_MS: Final[tuple[int, ...]] = tuple(
    round(50 * (60_000 / 50) ** (i / (BUCKET_COUNT - 1))) for i in range(BUCKET_COUNT)
)
_BUCKET_RATIO: Final = (60_000 / 50) ** (1 / (BUCKET_COUNT - 1))
_FIELD_BITS: Final = 32  # > 4e9 samples per bucket: years of the busiest demo model
_PACK: Final = struct.Struct(f"<{BUCKET_COUNT}I")


def bucket_index(ms: float) -> float:
    """The bucket position of a latency, quantised to 1/4 bucket (few distinct templates)."""
    return round(4 * math.log(ms / BUCKET_MS[0]) / math.log(_BUCKET_RATIO)) / 4


def hist_counts(packed: int) -> tuple[int, ...]:
    """Per-bucket sample counts of a packed histogram."""
    return _PACK.unpack(packed.to_bytes(_PACK.size, "little"))


def hist_values(packed: int) -> list[int]:
    """Every sample of the histogram, ascending."""
    return [BUCKET_MS[b] for b, c in enumerate(hist_counts(packed)) for _ in range(c)]


@lru_cache(maxsize=4096)
def _cumulative(packed: int) -> tuple[int, ...]:
    return tuple(accumulate(hist_counts(packed)))


def hist_percentile(packed: int, hundredths: int) -> int:
    """Nearest-rank percentile (``hundredths`` = 9000 for p90) of a non-empty histogram."""
    cumulative = _cumulative(packed)  # cached: p50, p90 and p99 of a bucket share it
    return BUCKET_MS[bisect_left(cumulative, nearest_rank(hundredths, cumulative[-1]))]


# --- periodic request tables ---------------------------------------------------------------

PERIOD: Final = 4096  # requests before any table repeats
_CHUNK: Final = 64  # latency shapes drift from chunk to chunk of 64 requests
_ORDER: Final = tuple(random.Random(20240307).sample(range(_CHUNK), _CHUNK))
_Z: Final = tuple(NormalDist().inv_cdf((i + 0.5) / _CHUNK) for i in _ORDER)
_DRIFT_RNG: Final = random.Random(1729)
# Per-chunk shift of the latency centre (in buckets): minute-to-minute variation.
_DRIFT: Final = tuple(
    max(-1.0, min(1.0, round(_DRIFT_RNG.gauss(0, 0.45) * 4) / 4)) for _ in range(PERIOD // _CHUNK)
)
_GOLDEN: Final = (math.sqrt(5) - 1) / 2


def periodic(prefix: tuple[int, ...], x: int) -> int:
    """Prefix sum up to index x of a table repeating every PERIOD entries."""
    whole, rest = divmod(x, PERIOD)
    return whole * prefix[PERIOD] + prefix[rest]


@lru_cache(maxsize=64)
def _uniforms(salt: str) -> tuple[float, ...]:
    """A golden-ratio (Weyl) sequence: evenly spread, so an event of rate r hits any n
    consecutive requests n x r times, give or take one or two. Incidents then always show."""
    start = stable_seed("uniforms", salt) / 2**64
    return tuple((start + i * _GOLDEN) % 1.0 for i in range(PERIOD))


@lru_cache(maxsize=256)
def rate_prefix(rate: float, salt: str) -> tuple[int, ...]:
    """Prefix counts of requests hit by an event of probability ``rate``. Tables of the
    same salt share their uniforms, so thresholds rc < rc + rs give disjoint events."""
    return tuple(accumulate((u < rate for u in _uniforms(salt)), initial=0))


_NORMALS: Final = tuple(NormalDist().inv_cdf((i + 0.5) / PERIOD) for i in range(PERIOD))


@lru_cache(maxsize=16)
def amount_prefix(salt: str, sigma: float) -> tuple[int, ...]:
    """Prefix sums of per-request amounts in thousandths of the mean: log-normal, with a
    mean drifting from chunk to chunk of 64 requests."""
    rng = random.Random(stable_seed("amounts", salt))
    shift = -(sigma**2) / 2  # keeps the mean at 1
    amounts = [
        round(1000 * math.exp(sigma * z + shift + drift))
        for z, drift in zip(
            rng.sample(_NORMALS, PERIOD),
            (0.25 * d for d in rng.sample(_NORMALS, PERIOD // _CHUNK) for _ in range(_CHUNK)),
            strict=True,
        )
    ]
    return tuple(accumulate(amounts, initial=0))


@lru_cache(maxsize=4096)
def _template(center: float, spread: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Prefix histograms and prefix sums of one chunk: 64 normal quantiles, shuffled."""
    hists, sums = [0], [0]
    for z in _Z:
        bucket = min(max(round(center + spread * z), 0), BUCKET_COUNT - 1)
        hists.append(hists[-1] + (1 << (bucket * _FIELD_BITS)))
        sums.append(sums[-1] + BUCKET_MS[bucket])
    return tuple(hists), tuple(sums)


@lru_cache(maxsize=1024)
def _checkpoints(center: float, spread: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Histogram and sum of all chunks before chunk k, for k = 0 .. PERIOD / 64."""
    hists, sums = [0], [0]
    for drift in _DRIFT:
        chunk_hists, chunk_sums = _template(center + drift, spread)
        hists.append(hists[-1] + chunk_hists[_CHUNK])
        sums.append(sums[-1] + chunk_sums[_CHUNK])
    return tuple(hists), tuple(sums)


def hist_prefix(center: float, spread: float, x: int) -> tuple[int, int]:
    """(packed histogram, sum in ms) of the first x samples of a latency stream."""
    hists, sums = _checkpoints(center, spread)
    whole, rest = divmod(x, PERIOD)
    chunk, index = divmod(rest, _CHUNK)
    chunk_hists, chunk_sums = _template(center + _DRIFT[chunk], spread)
    return (
        whole * hists[-1] + hists[chunk] + chunk_hists[index],
        whole * sums[-1] + sums[chunk] + chunk_sums[index],
    )


# --- statistics ---------------------------------------------------------------------------------

BASIC_STATS: Final = frozenset({"Sum", "SampleCount", "Average", "Minimum", "Maximum"})
_PERCENTILE = re.compile(r"^p(\d{1,2}(?:\.\d{1,2})?|100(?:\.0{1,2})?)$")


@lru_cache(maxsize=256)
def parse_percentile(stat: str) -> int | None:
    """``"p90"`` -> 9000, ``"p99.9"`` -> 9990 (hundredths, for exact rank arithmetic);
    Minimum and Maximum are p0 and p100."""
    if stat in ("Minimum", "Maximum"):
        return 0 if stat == "Minimum" else 10_000
    match = _PERCENTILE.match(stat)
    if not match:
        return None
    whole, _, frac = match.group(1).partition(".")
    return int(whole) * 100 + int((frac + "00")[:2])


def nearest_rank(hundredths: int, count: int) -> int:
    """1-based rank of a percentile by the nearest-rank method: ceil(p/100 x n), at least 1."""
    return max(1, -(-hundredths * count // 10_000))


def percentile_of(values: Iterable[int], hundredths: int) -> int:
    """Nearest-rank percentile of plain values."""
    ordered = sorted(values)
    return ordered[nearest_rank(hundredths, len(ordered)) - 1]


# --- records -----------------------------------------------------------------------------------

# Field indices of a record. Invocations include failed requests and exclude throttled
# ones; OK counts the succeeded requests (those with tokens and latency); ATTEMPTS counts
# invocations + throttles, because InvocationThrottles is published once per attempt.
(F_INVOCATIONS, F_OK, F_ATTEMPTS, F_THROTTLES, F_INPUT, F_OUTPUT, F_CACHE_READ, F_CACHE_WRITE,
 F_CLIENT_ERRORS, F_SERVER_ERRORS, F_TPM, F_IMAGES, F_LAT_N, F_LAT_SUM, F_LAT_HIST,
 F_TTFT_N, F_TTFT_SUM, F_TTFT_HIST) = range(18)  # fmt: skip
EMPTY: Final[Record] = (0,) * 18


@dataclass(frozen=True, slots=True)
class MetricFields:
    """Where a CloudWatch metric lives in a record: its sum, its sample count, its histogram."""

    total: int
    count: int
    hist: int | None = None


METRIC_FIELDS: Final = {
    "Invocations": MetricFields(F_INVOCATIONS, F_INVOCATIONS),
    "InputTokenCount": MetricFields(F_INPUT, F_OK),
    "OutputTokenCount": MetricFields(F_OUTPUT, F_OK),
    "CacheReadInputTokenCount": MetricFields(F_CACHE_READ, F_OK),
    "CacheWriteInputTokenCount": MetricFields(F_CACHE_WRITE, F_OK),
    "CacheReadInputTokens": MetricFields(F_CACHE_READ, F_OK),
    "CacheWriteInputTokens": MetricFields(F_CACHE_WRITE, F_OK),
    "InvocationClientErrors": MetricFields(F_CLIENT_ERRORS, F_INVOCATIONS),
    "InvocationServerErrors": MetricFields(F_SERVER_ERRORS, F_INVOCATIONS),
    "InvocationThrottles": MetricFields(F_THROTTLES, F_ATTEMPTS),
    "EstimatedTPMQuotaUsage": MetricFields(F_TPM, F_OK),
    "OutputImageCount": MetricFields(F_IMAGES, F_OK),
    "InvocationLatency": MetricFields(F_LAT_SUM, F_LAT_N, F_LAT_HIST),
    "TimeToFirstToken": MetricFields(F_TTFT_SUM, F_TTFT_N, F_TTFT_HIST),
}


def sum_records(records: list[Record]) -> Record:
    """Column-wise sum: counters add, packed histograms merge."""
    if not records:
        return EMPTY
    if len(records) == 1:
        return records[0]
    return tuple(map(sum, zip(*records, strict=True)))


def diff_records(end: Record, start: Record) -> Record:
    """The requests between two prefix records."""
    return tuple(map(sub, end, start))


# --- models and regimes ------------------------------------------------------------------------

THROTTLE_STORM: Final = "throttle-storm"  # demand x3 for 2 minutes in every 7
ERROR_BURST: Final = "error-burst"  # ~25% client + ~15% server errors, 1 minute in 5
LATENCY_SPIKE: Final = "latency-spike"  # latency ~5x, TTFT ~3x, 1 minute in 4
IDLE: Final = "idle"  # no traffic in minutes 15-29 of every hour
IDLE_MINUTES: Final = range(15, 30)
# A scheduled job: traffic only in minutes 0-9 of one hour in four (the hour ``batch_at``), so
# the model is listed by CloudWatch but idle in most one-hour windows, as in real accounts.
BATCH: Final = "batch"
BATCH_EVERY_HOURS: Final = 4
BATCH_MINUTES: Final = range(10)
LATENCY_SPREAD: Final = 2.5  # sigma in buckets (about 0.45 in ln units)
TTFT_SPREAD: Final = 2.0
QUOTA_HEADROOM: Final = 1.6  # demand above this multiple of the peak rate gets throttled
BURST_CHANCE: Final = 0.5  # per hour


@dataclass(frozen=True, slots=True)
class Regime:
    """What happens to the requests of a minute: event rates and latency shifts (buckets)."""

    throttle_rate: float
    client_error_rate: float
    server_error_rate: float
    latency_shift: float = 0.0
    ttft_shift: float = 0.0


NORMAL: Final = 0
THROTTLED: Final = 1
ERRORS: Final = 2
SLOW: Final = 3
REGIMES: Final = (
    Regime(0.002, 0.004, 0.001),
    Regime(0.6, 0.004, 0.001),
    Regime(0.002, 0.25, 0.15),
    Regime(0.002, 0.004, 0.001, 9.0, 6.0),  # 9 buckets = x5.1
)


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """How one synthetic model behaves; ``rate`` is requests per minute at the daily peak."""

    model_id: str
    rate: float
    latency_ms: float
    ttft_ms: float | None = None  # None: not streamed, so no TimeToFirstToken metric
    input_tokens: int = 0  # mean per request; 0: no token metrics (image model)
    output_tokens: int = 0  # mean per request; 0: no OutputTokenCount (embeddings)
    cache_names: tuple[str, str] | None = None  # (read, write) metric names when caching
    cache_read: int = 0
    cache_write: int = 0
    images: bool = False
    burndown: int = 1  # EstimatedTPMQuotaUsage counts output tokens this many times
    estimated_tpm: bool = True  # publishes EstimatedTPMQuotaUsage (not every model does)
    phase: float = 0.0  # shift of the daily curve, in days
    incident: str | None = None
    batch_at: int = 0  # for BATCH: which hour in BATCH_EVERY_HOURS the job runs
    extra_dimensions: tuple[tuple[str, str, tuple[str, ...]], ...] = ()  # (name, value, metrics)

    def metric_names(self) -> tuple[str, ...]:
        """The AWS/Bedrock metrics this model publishes with the ModelId-only dimension."""
        names = ["Invocations", "InvocationLatency", "InvocationClientErrors",
                 "InvocationServerErrors", "InvocationThrottles"]  # fmt: skip
        if self.input_tokens:
            names.append("InputTokenCount")
            if self.estimated_tpm:
                names.append("EstimatedTPMQuotaUsage")
        if self.output_tokens:
            names.append("OutputTokenCount")
        if self.cache_names:
            names += self.cache_names
        if self.ttft_ms is not None:
            names.append("TimeToFirstToken")
        if self.images:
            names.append("OutputImageCount")
        return tuple(names)


def prefix_record(profile: ModelProfile, regime: int, x: int) -> Record:
    """Totals over requests [0, x) of a regime's stream (see the module docstring)."""
    p, r = profile, REGIMES[regime]
    throttles = periodic(rate_prefix(r.throttle_rate, "throttle"), x)
    accepted = x - throttles
    client = periodic(rate_prefix(r.client_error_rate, "error"), accepted)
    failed = periodic(rate_prefix(r.client_error_rate + r.server_error_rate, "error"), accepted)
    ok = accepted - failed
    lat_hist, lat_sum = hist_prefix(
        bucket_index(p.latency_ms) + r.latency_shift, LATENCY_SPREAD, ok
    )
    ttft_n = ttft_hist = ttft_sum = 0
    if p.ttft_ms is not None:
        ttft_n = ok
        ttft_hist, ttft_sum = hist_prefix(bucket_index(p.ttft_ms) + r.ttft_shift, TTFT_SPREAD, ok)
    inp = p.input_tokens * periodic(amount_prefix("input", 0.6), ok) // 1000
    out = p.output_tokens * periodic(amount_prefix("output", 0.8), ok) // 1000
    cache_read = p.cache_read * periodic(amount_prefix("cache-read", 1.0), ok) // 1000
    cache_write = p.cache_write * periodic(amount_prefix("cache-write", 1.2), ok) // 1000
    images = 2 * periodic(amount_prefix("images", 0.3), ok) // 1000 if p.images else 0
    return (
        accepted, ok, x, throttles, inp, out, cache_read, cache_write, client, failed - client,
        inp + cache_write + out * p.burndown, images, ok, lat_sum, lat_hist,
        ttft_n, ttft_sum, ttft_hist,
    )  # fmt: skip


def poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw: exact (Knuth) for small means, normal approximation above."""
    if lam >= 12:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A binomial draw: by inversion (one uniform) for small means, normal above."""
    if p > 0.5:
        return n - binomial(rng, n, 1 - p)
    mean = n * p
    if mean >= 10:
        return min(n, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - p))))))
    ratio, k = p / (1 - p), 0
    term = cdf = (1 - p) ** n
    u = rng.random()
    while u > cdf and k < n:
        term *= (n - k) / (k + 1) * ratio
        cdf += term
        k += 1
    return k


@dataclass(frozen=True, slots=True)
class HourShape:
    """One model-hour at hour resolution: expected attempts and regime of each minute, and
    per regime the hour's attempts and where they start in the regime's request stream."""

    demand: tuple[float, ...]
    regimes: tuple[int, ...]
    offsets: tuple[int, ...]
    totals: tuple[int, ...]

    def ranges(self) -> list[Range]:
        """The request ranges of the whole hour."""
        pairs = zip(self.offsets, self.totals, strict=True)
        return [(regime, start, start + n) for regime, (start, n) in enumerate(pairs) if n]


@dataclass(frozen=True, slots=True)
class HourPlan:
    """One model-hour at minute resolution: attempts and regime of each minute, and where
    each minute's requests start in its regime's stream (``starts[regime][minute]``)."""

    attempts: tuple[int, ...]
    regimes: tuple[int, ...]
    starts: tuple[tuple[int, ...], ...]


def shape_hour(profile: ModelProfile, seed: int, hour: int) -> HourShape:
    """Demand, regimes and attempts of an hour (hour = epoch seconds // 3600).

    Poisson counts add up, so each regime's attempts for the hour are drawn at once: a
    week at hourly resolution never looks at single minutes (see ``plan_hour``).
    """
    p = profile
    rng = random.Random(stable_seed(seed, p.model_id, hour))
    offsets = tuple(int(rng.random() * PERIOD) for _ in REGIMES)  # each hour starts elsewhere
    # The daily curve: 0.3 x the peak rate at night, 1.0 x at the peak.
    start, step = 2 * math.pi * (hour / 24 + p.phase), 2 * math.pi / 1440
    demand = [p.rate * (0.65 + 0.35 * math.sin(start + i * step)) for i in range(60)]
    if rng.random() < BURST_CHANCE:
        first, burst = int(rng.random() * 60), 1.4 + rng.random()
        for i in range(first, min(60, first + 1 + int(rng.random() * 4))):
            demand[i] *= burst
    regimes = [NORMAL] * 60
    if p.incident == IDLE:
        for i in IDLE_MINUTES:
            demand[i] = 0.0
    elif p.incident == BATCH:
        running = hour % BATCH_EVERY_HOURS == p.batch_at
        demand = [d * 3 if running and i in BATCH_MINUTES else 0.0 for i, d in enumerate(demand)]
    elif p.incident == THROTTLE_STORM:
        for i in range(60):
            if (hour * 60 + i) % 7 < 2:
                demand[i], regimes[i] = demand[i] * 3, THROTTLED
    elif p.incident in (ERROR_BURST, LATENCY_SPIKE):
        every, at, regime = (5, 3, ERRORS) if p.incident == ERROR_BURST else (4, 2, SLOW)
        for i in range(60):
            if (hour * 60 + i) % every == at:
                regimes[i] = regime
    quota = p.rate * QUOTA_HEADROOM
    if max(demand) > quota:  # bursts at the daily peak get throttled
        for i in range(60):
            if regimes[i] == NORMAL and demand[i] > quota:
                regimes[i] = THROTTLED
    expected = [sum(demand), 0.0, 0.0, 0.0]
    if any(regimes):
        expected = [0.0] * len(REGIMES)
        for value, regime in zip(demand, regimes, strict=True):
            expected[regime] += value
    totals = tuple(poisson(rng, value) for value in expected)
    return HourShape(tuple(demand), tuple(regimes), offsets, totals)


def plan_hour(profile: ModelProfile, seed: int, hour: int, shape: HourShape) -> HourPlan:
    """Split each regime's attempts over its minutes in proportion to their demand (a
    multinomial draw: per-minute counts are then Poisson, like the hour's)."""
    rng = random.Random(stable_seed(seed, profile.model_id, hour, "minutes"))
    attempts = [0] * 60
    for regime, total in enumerate(shape.totals):
        if not total:
            continue
        minutes = [i for i in range(60) if shape.regimes[i] == regime and shape.demand[i] > 0]
        left, weight = total, sum(shape.demand[i] for i in minutes)
        for i in minutes[:-1]:
            attempts[i] = binomial(rng, left, min(1.0, shape.demand[i] / weight))
            left -= attempts[i]
            weight -= shape.demand[i]
        if minutes:
            attempts[minutes[-1]] = left
    starts = tuple(
        tuple(
            accumulate(
                (a if g == regime else 0 for a, g in zip(attempts, shape.regimes, strict=True)),
                initial=offset,
            )
        )
        if total
        else (offset,) * 61
        for regime, (offset, total) in enumerate(zip(shape.offsets, shape.totals, strict=True))
    )
    return HourPlan(tuple(attempts), shape.regimes, starts)


def spans(lo: int, hi: int, now: float) -> Iterator[tuple[int, int, int, float]]:
    """Split what is visible at ``now`` of minutes [lo, hi) into (hour, first, end, fraction):
    runs of complete minutes within an hour, then partial minutes one by one. Like
    CloudWatch's late data, minute m shows nothing until it ends, then a share rising
    linearly to all of it 90 s later: the newest minute is partial."""
    complete = math.floor((now - 150) / 60) + 1  # minutes before this are fully visible
    minute, stop = lo, min(hi, complete)
    while minute < stop:
        hour, first = divmod(minute, 60)
        end = min(60, stop - hour * 60)
        yield hour, first, end, 1.0
        minute = hour * 60 + end
    for minute in range(max(lo, complete), hi):
        fraction = min((now - minute * 60 - 60) / 90, 1.0)
        if fraction <= 0:
            return
        yield minute // 60, minute % 60, minute % 60 + 1, fraction


def request_ranges(plan: HourPlan, first: int, end: int, fraction: float) -> list[Range]:
    """(regime, x0, x1) request ranges of minutes [first, end) of an hour; with a fraction
    below 1 (one minute), only the first part of its requests."""
    if fraction < 1:
        regime, start = plan.regimes[first], plan.starts[plan.regimes[first]][first]
        return [(regime, start, start + int(plan.attempts[first] * fraction))]
    return [
        (regime, starts[first], starts[end])
        for regime, starts in enumerate(plan.starts)
        if starts[end] > starts[first]
    ]
