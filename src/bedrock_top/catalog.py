"""The AWS/Bedrock metric catalogue and ModelId parsing.

Everything here is a fact about CloudWatch or Bedrock, kept in one place so the planner,
the poller, the demo backend and the renderers agree on names and statistics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

NAMESPACE: Final = "AWS/Bedrock"
MODEL_DIMENSION: Final = "ModelId"

SUM: Final = "Sum"
SAMPLE_COUNT: Final = "SampleCount"


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """One logical metric: the CloudWatch names it may have and the statistics we need.

    ``period_stats`` are fetched per period (the sparkline / latest-minute figures);
    ``window_stats`` are percentiles fetched once with a period equal to the whole window,
    because a percentile over a window cannot be derived from per-minute percentiles.
    """

    key: str
    cloudwatch_names: tuple[str, ...]
    period_stats: tuple[str, ...]
    window_stats: tuple[str, ...] = ()

    @property
    def is_latency(self) -> bool:
        return SAMPLE_COUNT in self.period_stats


INVOCATIONS: Final = MetricSpec("invocations", ("Invocations",), (SUM,))
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
THROTTLES: Final = MetricSpec("throttles", ("InvocationThrottles",), (SUM,))
LATENCY: Final = MetricSpec(
    "latency", ("InvocationLatency",), (SUM, SAMPLE_COUNT, "p90"), ("p50", "p90", "p99")
)
TTFT: Final = MetricSpec(
    "ttft", ("TimeToFirstToken",), (SUM, SAMPLE_COUNT, "p90"), ("p50", "p90", "p99")
)
TPM_QUOTA: Final = MetricSpec("tpm_quota", ("EstimatedTPMQuotaUsage",), (SUM,))
OUTPUT_IMAGES: Final = MetricSpec("output_images", ("OutputImageCount",), (SUM,))
LEGACY_INVOCATIONS: Final = MetricSpec("legacy_invocations", ("LegacyModelInvocations",), (SUM,))

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
SPEC_BY_CLOUDWATCH_NAME: Final = {name: m for m in METRICS for name in m.cloudwatch_names}

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
KNOWN_PROVIDERS: Final = frozenset(
    {
        "ai21",
        "amazon",
        "anthropic",
        "cohere",
        "deepseek",
        "luma",
        "meta",
        "mistral",
        "openai",
        "qwen",
        "stability",
        "twelvelabs",
        "writer",
    }
)
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


def parse_model_id(model_id: str) -> ModelInfo:
    """Derive provider and profile kind from a ModelId dimension value."""
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
