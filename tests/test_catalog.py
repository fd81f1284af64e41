"""ModelId parsing (provider, profile kind, base id) and the choice of metric names to query."""

from __future__ import annotations

import pytest

from bedrock_top.figures.catalog import (
    CACHE_READ,
    CACHE_WRITE,
    METRICS,
    MetricSpec,
    choose_metric_names,
    parse_model_id,
)

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


@pytest.mark.parametrize(
    ("model_id", "provider"),
    [
        (HAIKU, "anthropic"),
        ("amazon.nova-pro-v1:0", "amazon"),
        ("meta.llama3-1-70b-instruct-v1:0", "meta"),
        ("mistral.mistral-large-2407-v1:0", "mistral"),
        ("cohere.command-r-plus-v1:0", "cohere"),
        ("ai21.jamba-1-5-large-v1:0", "ai21"),
        ("deepseek.r1-v1:0", "deepseek"),
        ("amazon.titan-embed-text-v2:0", "amazon"),
    ],
)
def test_base_model_ids(model_id: str, provider: str) -> None:
    info = parse_model_id(model_id)
    assert info.model_id == model_id
    assert info.provider == provider
    assert info.profile is None
    assert info.base_id == model_id
    assert info.kind == "base"


@pytest.mark.parametrize("prefix", ["us", "eu", "apac", "global", "us-gov", "jp", "au", "ca"])
def test_cross_region_inference_profiles(prefix: str) -> None:
    model_id = f"{prefix}.{HAIKU}"
    info = parse_model_id(model_id)
    assert info.model_id == model_id
    assert info.provider == "anthropic"
    assert info.profile == prefix
    assert info.base_id == HAIKU
    assert info.kind == "inference-profile"


def test_application_profile_short_id() -> None:
    info = parse_model_id("a1b2c3d4e5f6")
    assert info.kind == "application-profile"
    assert info.profile == "application"
    assert info.provider is None
    assert info.base_id == "a1b2c3d4e5f6"


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
        "arn:aws-us-gov:bedrock:us-gov-west-1:123456789012:application-inference-profile/a1b2c3d4e5f6",
    ],
)
def test_application_profile_arn(arn: str) -> None:
    info = parse_model_id(arn)
    assert info.model_id == arn
    assert info.kind == "application-profile"
    assert info.profile == "application"
    assert info.provider is None
    assert info.base_id == "a1b2c3d4e5f6"


def test_foundation_model_arn() -> None:
    arn = f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU}"
    info = parse_model_id(arn)
    assert info.model_id == arn
    assert (info.provider, info.profile, info.base_id, info.kind) == (
        "anthropic",
        None,
        HAIKU,
        "base",
    )


def test_system_inference_profile_arn() -> None:
    arn = f"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.{HAIKU}"
    info = parse_model_id(arn)
    assert (info.provider, info.profile, info.base_id, info.kind) == (
        "anthropic",
        "eu",
        HAIKU,
        "inference-profile",
    )


@pytest.mark.parametrize(
    ("arn", "kind", "base"),
    [
        (
            "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abc123xyz789",
            "provisioned",
            "abc123xyz789",
        ),
        (
            "arn:aws:bedrock:us-east-1:123456789012:custom-model/amazon.titan-text-express-v1:0:8k/x1y2z3",
            "custom",
            "amazon.titan-text-express-v1:0:8k/x1y2z3",
        ),
        (
            "arn:aws:bedrock:us-west-2:123456789012:imported-model/q1w2e3r4t5y6",
            "imported",
            "q1w2e3r4t5y6",
        ),
    ],
)
def test_provisioned_custom_and_imported_arns(arn: str, kind: str, base: str) -> None:
    info = parse_model_id(arn)
    assert info.model_id == arn
    assert info.kind == kind
    assert info.base_id == base
    assert info.profile is None


def test_unknown_provider_is_still_shown() -> None:
    # A provider that is new to Bedrock: its name is the id's first segment.
    info = parse_model_id("acme.rocket-large-v1:0")
    assert (info.provider, info.profile, info.kind) == ("acme", None, "base")
    on_profile = parse_model_id("us.acme.rocket-large-v1:0")
    assert (on_profile.provider, on_profile.profile) == ("acme", "us")


@pytest.mark.parametrize("model_id", ["my-model", "", "MODEL_WITHOUT_DOTS"])
def test_ids_without_a_provider(model_id: str) -> None:
    info = parse_model_id(model_id)
    assert info.provider is None
    assert info.model_id == model_id


# --- choose_metric_names ------------------------------------------------------------------


def test_only_published_metrics_are_chosen() -> None:
    assert choose_metric_names(set()) == {}
    assert choose_metric_names({"SomethingElse", "Invocations"}) == {"invocations": "Invocations"}


def test_every_catalogue_metric_is_found_by_its_first_name() -> None:
    everything = {name for spec in METRICS for name in spec.cloudwatch_names}
    chosen = choose_metric_names(everything)
    assert chosen == {spec.key: spec.cloudwatch_names[0] for spec in METRICS}


@pytest.mark.parametrize("spec", [CACHE_READ, CACHE_WRITE])
def test_cache_spellings(spec: MetricSpec) -> None:
    first, second = spec.cloudwatch_names
    assert choose_metric_names({first}) == {spec.key: first}
    assert choose_metric_names({second}) == {spec.key: second}
    # Both published: only one is queried, so the same tokens are never counted twice.
    assert choose_metric_names({second, first}) == {spec.key: first}


def test_cache_spellings_are_the_documented_ones() -> None:
    assert set(CACHE_READ.cloudwatch_names) == {"CacheReadInputTokenCount", "CacheReadInputTokens"}
    assert set(CACHE_WRITE.cloudwatch_names) == {
        "CacheWriteInputTokenCount",
        "CacheWriteInputTokens",
    }
