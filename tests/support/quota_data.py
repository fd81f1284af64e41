"""A realistic Bedrock quota catalogue for us-east-1: foundation models, inference profiles and
Service Quotas as the APIs return them, for the quota tests and the demo.

Model ids and names are those of ListFoundationModels. Quota codes are real where known
(from Service Quotas in us-east-1), otherwise plausible; names mix the older "InvokeModel"
and the newer "model inference" spellings, as a real account sees them. A few entries exist
only to be told apart: quotas for models missing here, Mantle quotas, non-rate quotas.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from bedrock_top.figures.quotas import FoundationModel, InferenceProfile, QuotaCatalog, ServiceQuota

__all__ = [
    "ACCOUNT",
    "APPLIED_QUOTAS",
    "APP_PROFILE_MULTI",
    "APP_PROFILE_SINGLE",
    "CATALOG",
    "DEFAULT_QUOTAS",
    "EMBED_ENGLISH",
    "FOUNDATION_MODELS",
    "HAIKU_3",
    "HAIKU_3_5",
    "HAIKU_4_5",
    "INFERENCE_PROFILES",
    "LLAMA_3_1_70B",
    "MISTRAL_LARGE",
    "NOVA_LITE",
    "NOVA_MICRO",
    "NOVA_PRO",
    "OPUS_4_1",
    "REGION",
    "SONNET_3_5",
    "SONNET_3_5_V2",
    "SONNET_3_7",
    "SONNET_4",
    "SONNET_4_5",
    "catalog",
    "merged_quotas",
]

REGION: Final = "us-east-1"
ACCOUNT: Final = "123456789012"

HAIKU_3: Final = "anthropic.claude-3-haiku-20240307-v1:0"
HAIKU_3_5: Final = "anthropic.claude-3-5-haiku-20241022-v1:0"
SONNET_3_5: Final = "anthropic.claude-3-5-sonnet-20240620-v1:0"
SONNET_3_5_V2: Final = "anthropic.claude-3-5-sonnet-20241022-v2:0"
SONNET_3_7: Final = "anthropic.claude-3-7-sonnet-20250219-v1:0"
SONNET_4: Final = "anthropic.claude-sonnet-4-20250514-v1:0"
SONNET_4_5: Final = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU_4_5: Final = "anthropic.claude-haiku-4-5-20251001-v1:0"
OPUS_4_1: Final = "anthropic.claude-opus-4-1-20250805-v1:0"
NOVA_LITE: Final = "amazon.nova-lite-v1:0"
NOVA_PRO: Final = "amazon.nova-pro-v1:0"
NOVA_MICRO: Final = "amazon.nova-micro-v1:0"
LLAMA_3_1_70B: Final = "meta.llama3-1-70b-instruct-v1:0"
MISTRAL_LARGE: Final = "mistral.mistral-large-2402-v1:0"
EMBED_ENGLISH: Final = "cohere.embed-english-v3"

FOUNDATION_MODELS: Final[tuple[FoundationModel, ...]] = (
    FoundationModel(HAIKU_3, "Claude 3 Haiku", "Anthropic"),
    FoundationModel(HAIKU_3_5, "Claude 3.5 Haiku", "Anthropic"),
    FoundationModel(SONNET_3_5, "Claude 3.5 Sonnet", "Anthropic"),
    FoundationModel(SONNET_3_5_V2, "Claude 3.5 Sonnet v2", "Anthropic"),
    FoundationModel(SONNET_3_7, "Claude 3.7 Sonnet", "Anthropic"),
    FoundationModel(SONNET_4, "Claude Sonnet 4", "Anthropic"),
    FoundationModel(SONNET_4_5, "Claude Sonnet 4.5", "Anthropic"),
    FoundationModel(HAIKU_4_5, "Claude Haiku 4.5", "Anthropic"),
    FoundationModel(OPUS_4_1, "Claude Opus 4.1", "Anthropic"),
    FoundationModel(NOVA_LITE, "Nova Lite", "Amazon"),
    FoundationModel(NOVA_PRO, "Nova Pro", "Amazon"),
    FoundationModel(NOVA_MICRO, "Nova Micro", "Amazon"),
    FoundationModel(LLAMA_3_1_70B, "Llama 3.1 70B Instruct", "Meta"),
    FoundationModel(MISTRAL_LARGE, "Mistral Large (24.02)", "Mistral AI"),
    FoundationModel(EMBED_ENGLISH, "Embed English", "Cohere"),
)

_US_REGIONS: Final = ("us-east-1", "us-east-2", "us-west-2")
_EU_REGIONS: Final = ("eu-central-1", "eu-west-1", "eu-west-3")


def _fm_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def _system(prefix: str, model_id: str, regions: tuple[str, ...]) -> InferenceProfile:
    """A system-defined cross-Region profile; a global one lists its model without a region,
    as ListInferenceProfiles does."""
    profile_id = f"{prefix}.{model_id}"
    arns = tuple(_fm_arn(r, model_id) for r in regions)
    if prefix == "global":
        arns = (*arns, _fm_arn("", model_id))
    return InferenceProfile(
        profile_id=profile_id,
        profile_arn=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:inference-profile/{profile_id}",
        kind="SYSTEM_DEFINED",
        model_arns=arns,
    )


def _application(profile_id: str, model_arns: tuple[str, ...]) -> InferenceProfile:
    return InferenceProfile(
        profile_id=profile_id,
        profile_arn=f"arn:aws:bedrock:{REGION}:{ACCOUNT}:application-inference-profile/{profile_id}",
        kind="APPLICATION",
        model_arns=model_arns,
    )


# An application profile on one model in one region: on-demand quotas of Claude 3 Haiku.
APP_PROFILE_SINGLE: Final = _application("h4ik0u3ab1c2", (_fm_arn("us-east-1", HAIKU_3),))
# One copied from us.anthropic.claude-sonnet-4-...: cross-Region quotas of Claude Sonnet 4.
APP_PROFILE_MULTI: Final = _application(
    "s0nn3t4xyz9q", tuple(_fm_arn(r, SONNET_4) for r in _US_REGIONS)
)

INFERENCE_PROFILES: Final[tuple[InferenceProfile, ...]] = (
    _system("us", HAIKU_3, _US_REGIONS),
    _system("us", HAIKU_3_5, _US_REGIONS),
    _system("us", SONNET_3_5_V2, _US_REGIONS),
    _system("us", SONNET_3_7, _US_REGIONS),
    _system("us", SONNET_4, _US_REGIONS),
    _system("us", SONNET_4_5, _US_REGIONS),
    _system("us", HAIKU_4_5, _US_REGIONS),
    _system("us", NOVA_LITE, _US_REGIONS),
    _system("us", LLAMA_3_1_70B, _US_REGIONS),
    _system("eu", HAIKU_3, _EU_REGIONS),
    _system("global", SONNET_4_5, _US_REGIONS),
    _system("global", HAIKU_4_5, _US_REGIONS),
    APP_PROFILE_SINGLE,
    APP_PROFILE_MULTI,
)


def _q(code: str, name: str, value: float, *, adjustable: bool = True) -> ServiceQuota:
    return ServiceQuota(code=code, name=name, value=value, adjustable=adjustable)


_OD = "On-demand InvokeModel"
_CR = "Cross-Region InvokeModel"
_OD_NEW = "On-demand model inference"
_CR_NEW = "Cross-region model inference"
_GLOBAL = "Global cross-Region model inference"

DEFAULT_QUOTAS: Final[tuple[ServiceQuota, ...]] = (
    # Claude 3 Haiku: on-demand and cross-Region, TPM and RPM.
    _q("L-8CE99163", f"{_OD} tokens per minute for Anthropic Claude 3 Haiku", 2_000_000),
    _q("L-2DC80978", f"{_OD} requests per minute for Anthropic Claude 3 Haiku", 1_000),
    _q("L-DCADBC78", f"{_CR} tokens per minute for Anthropic Claude 3 Haiku", 4_000_000),
    _q("L-616A3F5B", f"{_CR} requests per minute for Anthropic Claude 3 Haiku", 2_000),
    # Claude 3.5 Haiku, in the newer spelling.
    _q("L-7AB4ABDD", f"{_OD_NEW} tokens per minute for Anthropic Claude 3.5 Haiku", 2_000_000),
    _q("L-C7438F8F", f"{_OD_NEW} requests per minute for Anthropic Claude 3.5 Haiku", 1_000),
    _q("L-4BF37C17", f"{_CR_NEW} tokens per minute for Anthropic Claude 3.5 Haiku", 4_000_000),
    # Claude 3.5 Sonnet: the v1 model has no suffix, the v2 one says V2.
    _q("L-A50569E5", f"{_OD} tokens per minute for Anthropic Claude 3.5 Sonnet", 400_000),
    _q("L-254CACF4", f"{_OD} requests per minute for Anthropic Claude 3.5 Sonnet", 50),
    _q("L-AD41C330", f"{_OD} tokens per minute for Anthropic Claude 3.5 Sonnet V2", 400_000),
    _q("L-79E773B3", f"{_OD} requests per minute for Anthropic Claude 3.5 Sonnet V2", 50),
    _q("L-FF8B4E28", f"{_CR_NEW} tokens per minute for Anthropic Claude 3.5 Sonnet V2", 800_000),
    _q("L-1D3E59A3", f"{_CR_NEW} requests per minute for Anthropic Claude 3.5 Sonnet V2", 100),
    # Claude 3.7 Sonnet and Sonnet 4: cross-Region (and global) only.
    _q("L-6E888CC2", f"{_CR} tokens per minute for Anthropic Claude 3.7 Sonnet V1", 1_000_000),
    _q("L-3D8CC480", f"{_CR} requests per minute for Anthropic Claude 3.7 Sonnet V1", 250),
    _q("L-59759B4A", f"{_CR} tokens per minute for Anthropic Claude Sonnet 4 V1", 200_000),
    _q("L-559DCC33", f"{_CR} requests per minute for Anthropic Claude Sonnet 4 V1", 200),
    _q("L-97E41E39", f"{_GLOBAL} tokens per minute for Anthropic Claude Sonnet 4 V1", 500_000),
    # Claude Sonnet 4.5: cross-Region, global, and a daily quota shared by both.
    _q("L-F4DDD3EB", f"{_CR_NEW} tokens per minute for Anthropic Claude Sonnet 4.5 V1", 200_000),
    _q("L-4A6BFAB1", f"{_CR_NEW} requests per minute for Anthropic Claude Sonnet 4.5 V1", 200),
    _q("L-27C57EE8", f"{_GLOBAL} tokens per minute for Anthropic Claude Sonnet 4.5 V1", 500_000),
    _q("L-DB84CE56", f"{_GLOBAL} requests per minute for Anthropic Claude Sonnet 4.5 V1", 500),
    _q(
        "L-381AD9EE",
        "Model invocation max tokens per day for Anthropic Claude Sonnet 4.5 V1"
        " (doubled for cross-region calls)",
        144_000_000,
    ),
    # Claude Haiku 4.5: a shared daily quota, and a global one that global calls use instead.
    _q("L-58BE175A", f"{_CR_NEW} tokens per minute for Anthropic Claude Haiku 4.5", 2_000_000),
    _q("L-9A11C666", f"{_GLOBAL} tokens per minute for Anthropic Claude Haiku 4.5", 5_000_000),
    _q("L-E5084BBA", f"{_GLOBAL} requests per minute for Anthropic Claude Haiku 4.5", 1_000),
    _q(
        "L-0C5A7E21",
        "Model invocation max tokens per day for Anthropic Claude Haiku 4.5"
        " (doubled for cross-region calls)",
        2_880_000_000,
    ),
    _q("L-D2F1C9B4", f"{_GLOBAL} tokens per day for Anthropic Claude Haiku 4.5", 7_200_000_000),
    # Amazon, Meta, Mistral, Cohere.
    _q("L-70423BF8", f"{_OD} tokens per minute for Amazon Nova Lite", 2_000_000),
    _q("L-E386A278", f"{_OD} requests per minute for Amazon Nova Lite", 1_000),
    _q("L-7C42E72A", f"{_CR} tokens per minute for Amazon Nova Lite", 4_000_000),
    _q("L-CE33604C", f"{_OD} tokens per minute for Amazon Nova Pro", 1_000_000),
    _q("L-CFA4FA0D", f"{_OD_NEW} tokens per minute for Amazon Nova Micro", 2_000_000),
    _q("L-48E55E59", f"{_OD} tokens per minute for Meta Llama 3.1 70B Instruct", 300_000),
    _q("L-92E68994", f"{_CR} tokens per minute for Meta Llama 3.1 70B Instruct", 600_000),
    _q("L-01447289", f"{_OD} tokens per minute for Mistral AI Mistral Large (24.02)", 300_000),
    _q("L-FF8E7864", f"{_OD} requests per minute for Cohere Embed English V3", 2_000),
    # The account-wide daily quota.
    _q("L-E4A4B3F2", "Cross-Model Max Tokens Per Day", 2_000_000_000, adjustable=False),
    # Per-model quotas for models this catalogue does not have.
    _q("L-C0E2D5F1", f"{_OD} tokens per minute for Anthropic Claude 2", 500_000),
    _q("L-29C2B0A3", f"{_CR} tokens per minute for Anthropic Claude Opus 4 V1", 200_000),
    _q("L-5D1B8E0A", f"{_OD} tokens per minute for Amazon Titan Text G1 - Express", 300_000),
    # Bedrock Mantle: a different endpoint, with separate input and output quotas.
    _q("L-A3D1E0B7", "Bedrock Mantle input tokens per minute for OpenAI GPT OSS 120B", 1_000_000),
    _q("L-A3D1E0B8", "Bedrock Mantle output tokens per minute for OpenAI GPT OSS 120B", 200_000),
    # Not per-model rate limits at all.
    _q("L-2A3C5B11", "Batch inference job size (in GB)", 1, adjustable=False),
    _q("L-FB6A2E48", "Number of custom models", 100),
    _q(
        "L-C5D7F1E2",
        "(Model customization) Sum of training and validation records for a Claude 3 Haiku"
        " Fine-tuning job",
        10_000,
    ),
    _q("L-7E3B6A90", "Concurrent model import jobs", 1, adjustable=False),
    _q("L-44D8F2A6", "Provisioned Throughput model units for Anthropic Claude 3 Haiku", 0),
)


def _applied(code: str, value: float) -> ServiceQuota:
    (default,) = (q for q in DEFAULT_QUOTAS if q.code == code)
    return replace(default, value=value, applied=True)


# The account's own values (ListServiceQuotas) where it asked for an increase.
APPLIED_QUOTAS: Final[tuple[ServiceQuota, ...]] = (
    _applied("L-8CE99163", 4_000_000),  # Claude 3 Haiku on-demand TPM
    _applied("L-F4DDD3EB", 1_000_000),  # Claude Sonnet 4.5 cross-Region TPM
    _applied("L-4A6BFAB1", 500),  # Claude Sonnet 4.5 cross-Region RPM
    _applied("L-E4A4B3F2", 5_000_000_000),  # Cross-Model Max Tokens Per Day
)


def merged_quotas(
    defaults: tuple[ServiceQuota, ...] = DEFAULT_QUOTAS,
    applied: tuple[ServiceQuota, ...] = APPLIED_QUOTAS,
) -> tuple[ServiceQuota, ...]:
    """Defaults with the applied values put in their place, as the fetcher stores them."""
    own = {q.code: q for q in applied}
    return tuple(own.get(q.code, q) for q in defaults)


def catalog(
    quotas: tuple[ServiceQuota, ...] | None = None,
    models: tuple[FoundationModel, ...] = FOUNDATION_MODELS,
    profiles: tuple[InferenceProfile, ...] = INFERENCE_PROFILES,
) -> QuotaCatalog:
    """The fixture's catalogue (applied values merged in), or one with other parts."""
    return QuotaCatalog(
        region=REGION,
        account=ACCOUNT,
        fetched_at=1_767_225_600.0,  # 2026-01-01T00:00:00Z
        quotas=merged_quotas() if quotas is None else quotas,
        models=models,
        profiles=profiles,
    )


CATALOG: Final = catalog()
