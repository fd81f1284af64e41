"""The AWS/Bedrock metric catalogue and ModelId parsing.

Everything here is a fact about CloudWatch or Bedrock, kept in one place so the planner,
the poller, the demo backend and the renderers agree on names and statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

NAMESPACE: Final = "AWS/Bedrock"
MODEL_DIMENSION: Final = "ModelId"

SUM: Final = "Sum"
SAMPLE_COUNT: Final = "SampleCount"
AVERAGE: Final = "Average"


# How much to ask for a model: CloudWatch bills every metric requested, so a model pays only
# for what is shown. "heartbeat": idle in the window, only enough to notice it waking up;
# "live": the table's figures; "full": everything (the detail screen and --once).
Tier = Literal["heartbeat", "live", "full"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One logical metric: the CloudWatch names it may have and the statistics we need.

    ``live_stats`` are fetched per period whenever the model is active (the table, sparklines,
    spikes); ``detail_stats`` per period only for the "full" tier; ``window_stats`` are
    percentiles fetched with a period equal to the whole window ("full" tier), because a
    percentile over a window cannot be derived from per-minute percentiles. ``heartbeat``
    metrics are polled even for idle models.
    """

    key: str
    cloudwatch_names: tuple[str, ...]
    live_stats: tuple[str, ...] = ()
    detail_stats: tuple[str, ...] = ()
    window_stats: tuple[str, ...] = ()
    heartbeat: bool = False

    @property
    def period_stats(self) -> tuple[str, ...]:
        return self.live_stats + self.detail_stats

    def stats(self, tier: Tier) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(per-period stats, whole-window stats) to request for a model in ``tier``."""
        if tier == "full":
            return self.period_stats, self.window_stats
        if tier == "live" or self.heartbeat:
            return self.live_stats, ()
        return (), ()


INVOCATIONS: Final = MetricSpec("invocations", ("Invocations",), (SUM,), heartbeat=True)
INPUT_TOKENS: Final = MetricSpec("input_tokens", ("InputTokenCount",), (SUM,))
OUTPUT_TOKENS: Final = MetricSpec("output_tokens", ("OutputTokenCount",), (SUM,))
# Two spellings exist depending on the publishing path; the first listed wins when a
# model publishes both, so the same tokens are never counted twice.
CACHE_READ: Final = MetricSpec(
    "cache_read_tokens", ("CacheReadInputTokenCount", "CacheReadInputTokens"), (SUM,)
)
CACHE_WRITE: Final = MetricSpec(
    "cache_write_tokens", ("CacheWriteInputTokenCount", "CacheWriteInputTokens"), (SUM,)
)
CLIENT_ERRORS: Final = MetricSpec("client_errors", ("InvocationClientErrors",), (SUM,))
SERVER_ERRORS: Final = MetricSpec("server_errors", ("InvocationServerErrors",), (SUM,))
# Throttled requests are not Invocations: both make the heartbeat of an idle model.
THROTTLES: Final = MetricSpec("throttles", ("InvocationThrottles",), (SUM,), heartbeat=True)
# The table shows the latest minute's average and p90; the exact window average
# (Sum / SampleCount) and window percentiles are detail figures.
LATENCY: Final = MetricSpec(
    "latency",
    ("InvocationLatency",),
    live_stats=(AVERAGE, "p90"),
    detail_stats=(SUM, SAMPLE_COUNT),
    window_stats=("p50", "p90", "p99"),
)
# The table shows TTFT p90 only; the average and window percentiles are detail figures.
TTFT: Final = MetricSpec(
    "ttft",
    ("TimeToFirstToken",),
    live_stats=("p90",),
    detail_stats=(SUM, SAMPLE_COUNT),
    window_stats=("p50", "p90", "p99"),
)
TPM_QUOTA: Final = MetricSpec("tpm_quota", ("EstimatedTPMQuotaUsage",), detail_stats=(SUM,))
OUTPUT_IMAGES: Final = MetricSpec("output_images", ("OutputImageCount",), detail_stats=(SUM,))
LEGACY_INVOCATIONS: Final = MetricSpec(
    "legacy_invocations", ("LegacyModelInvocations",), detail_stats=(SUM,)
)

METRICS: Final[tuple[MetricSpec, ...]] = (
    INVOCATIONS,
    INPUT_TOKENS,
    OUTPUT_TOKENS,
    CACHE_READ,
    CACHE_WRITE,
    CLIENT_ERRORS,
    SERVER_ERRORS,
    THROTTLES,
    LATENCY,
    TTFT,
    TPM_QUOTA,
    OUTPUT_IMAGES,
    LEGACY_INVOCATIONS,
)
METRICS_BY_KEY: Final = {m.key: m for m in METRICS}
# The (metric, statistic) series every model is polled for, even idle: they tell an idle
# model from a busy one.
HEARTBEAT_SERIES: Final = tuple((m.key, SUM) for m in METRICS if m.heartbeat)

# Counters whose window figure is a plain sum (the integer fields of the JSON contract).
COUNTER_KEYS: Final = (
    "invocations",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "client_errors",
    "server_errors",
    "throttles",
)


def choose_metric_names(listed: set[str]) -> dict[str, str]:
    """Map metric key -> the CloudWatch name to query, from the names a model publishes.

    A metric the model does not publish is absent, so it is never requested.
    """
    chosen: dict[str, str] = {}
    for spec in METRICS:
        for name in spec.cloudwatch_names:
            if name in listed:
                chosen[spec.key] = name
                break
    return chosen


# --- ModelId parsing ---------------------------------------------------------------------

GEO_PREFIXES: Final = ("us-gov", "us", "eu", "apac", "jp", "au", "ca", "global")
_APP_PROFILE_ID = re.compile(r"^[a-z0-9]{12}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:bedrock:[^:]*:[^:]*:(?P<kind>[a-z-]+)/(?P<rest>.+)$")


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a ModelId tells us: the provider, the inference-profile kind, and the base id."""

    model_id: str
    provider: str | None
    profile: str | None  # "us", "eu", "apac", "global", ..., "application", or None
    base_id: str  # the model id without profile prefix (for price lookup)
    kind: str  # "base", "inference-profile", "application-profile", "provisioned", ...


@lru_cache(maxsize=16_384)
def parse_model_id(model_id: str) -> ModelInfo:
    """Derive provider and profile kind from a ModelId dimension value (cached: every
    snapshot row asks again)."""
    text = model_id
    arn = _ARN.match(model_id)
    if arn:
        arn_kind, rest = arn.group("kind"), arn.group("rest")
        if arn_kind == "application-inference-profile":
            return ModelInfo(model_id, None, "application", rest, "application-profile")
        if arn_kind in {"provisioned-model", "custom-model", "imported-model"}:
            return ModelInfo(model_id, None, None, rest, arn_kind.removesuffix("-model"))
        text = rest.rsplit("/", 1)[-1]

    if "." not in text and _APP_PROFILE_ID.match(text):
        return ModelInfo(model_id, None, "application", text, "application-profile")

    head, _, tail = text.partition(".")
    profile: str | None = None
    base = text
    if tail and head in GEO_PREFIXES:
        profile = head
        base = tail
    provider_part = base.split(".", 1)[0] if "." in base else None
    provider = provider_part if provider_part else None
    kind = "inference-profile" if profile else "base"
    return ModelInfo(model_id, provider, profile, base, kind)


def naive_metrics_per_model() -> int:
    """What a naive poller requests per model and poll: every catalogue metric name with every
    statistic we know for it (the baseline the cost-aware poller is measured against)."""
    return sum(
        len(spec.cloudwatch_names) * (len(spec.period_stats) + len(spec.window_stats))
        for spec in METRICS
    )
