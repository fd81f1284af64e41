"""Which Service Quota limits which ModelId (quota_match), and the output-token burndown."""

from __future__ import annotations

import random
import re
import time
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.figures.burndown import BURNDOWN_TABLE, burndown, burndown_of
from bedrock_top.figures.quota_match import (
    account_tpd,
    match_quotas,
    parse_quota_name,
    report,
    resolve_model,
    unknown_overrides,
)
from bedrock_top.figures.quotas import (
    QUOTA_KINDS,
    FoundationModel,
    InferenceProfile,
    ModelQuotas,
    QuotaCatalog,
    ServiceQuota,
)
from support.quota_data import (
    ACCOUNT,
    APP_PROFILE_MULTI,
    APP_PROFILE_SINGLE,
    APPLIED_QUOTAS,
    CATALOG,
    DEFAULT_QUOTAS,
    EMBED_ENGLISH,
    FOUNDATION_MODELS,
    HAIKU_3,
    HAIKU_3_5,
    HAIKU_4_5,
    INFERENCE_PROFILES,
    LLAMA_3_1_70B,
    MISTRAL_LARGE,
    NOVA_LITE,
    NOVA_PRO,
    SONNET_3_5,
    SONNET_3_5_V2,
    SONNET_3_7,
    SONNET_4,
    SONNET_4_5,
    catalog,
    merged_quotas,
)


def codes(limits: ModelQuotas) -> tuple[str | None, str | None, str | None]:
    """(TPM, RPM, TPD) quota codes of one model."""
    tpm, rpm, tpd = (q.code if q else None for q in (limits.tpm, limits.rpm, limits.tpd))
    return tpm, rpm, tpd


def one(cat: QuotaCatalog, model_id: str, overrides: dict[str, str] | None = None) -> ModelQuotas:
    return match_quotas(cat, [model_id], overrides or {})[model_id]


def quotas_named(*names: str) -> tuple[ServiceQuota, ...]:
    return tuple(ServiceQuota(f"L-{i:08X}", name, 1000.0 + i) for i, name in enumerate(names))


# --- parse_quota_name ---------------------------------------------------------------------

HAIKU = "Anthropic Claude 3 Haiku"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (f"On-demand InvokeModel tokens per minute for {HAIKU}", ("tpm", "on-demand", HAIKU)),
        (f"On-demand model inference tokens per minute for {HAIKU}", ("tpm", "on-demand", HAIKU)),
        (f"On-demand InvokeModel requests per minute for {HAIKU}", ("rpm", "on-demand", HAIKU)),
        (f"Cross-Region InvokeModel tokens per minute for {HAIKU}", ("tpm", "cross-region", HAIKU)),
        (
            "Cross-region model inference tokens per minute for Anthropic Claude 3.5 Sonnet V2",
            ("tpm", "cross-region", "Anthropic Claude 3.5 Sonnet V2"),
        ),
        (
            "Cross-region model inference requests per minute for Amazon Nova Lite",
            ("rpm", "cross-region", "Amazon Nova Lite"),
        ),
        (
            "Global cross-Region model inference tokens per minute for Anthropic Claude Haiku 4.5",
            ("tpm", "global", "Anthropic Claude Haiku 4.5"),
        ),
        (
            "Global cross-Region model inference tokens per day for Anthropic Claude Haiku 4.5",
            ("tpd", "global", "Anthropic Claude Haiku 4.5"),
        ),
        (
            "Model invocation max tokens per day for Anthropic Claude Sonnet 4.5 V1"
            " (doubled for cross-region calls)",
            ("tpd", "on-demand", "Anthropic Claude Sonnet 4.5 V1"),
        ),
        (
            "Model invocation max tokens per day for Amazon Nova Pro",
            ("tpd", "on-demand", "Amazon Nova Pro"),
        ),
        ("Cross-Model Max Tokens Per Day", ("tpd", "account", None)),
        ("cross-model max tokens per day", ("tpd", "account", None)),
        # Case, spacing and spelling tolerance.
        (f"ON-DEMAND INVOKEMODEL TOKENS PER MINUTE FOR {HAIKU}", ("tpm", "on-demand", HAIKU)),
        (f"on-demand invokemodel requests per minute for {HAIKU}", ("rpm", "on-demand", HAIKU)),
        (
            f"  Cross region  InvokeModel tokens per minute for {HAIKU} ",
            ("tpm", "cross-region", HAIKU),
        ),
        (
            f"Global Cross-Region InvokeModel tokens per minute for {HAIKU}",
            ("tpm", "global", HAIKU),
        ),
        (f"On demand Invoke Model tokens per minute for {HAIKU}", ("tpm", "on-demand", HAIKU)),
        # A one-word parenthesis belongs to the model name; a remark does not.
        (
            "On-demand InvokeModel tokens per minute for Mistral AI Mistral Large (24.02)",
            ("tpm", "on-demand", "Mistral AI Mistral Large (24.02)"),
        ),
        (
            f"Cross-Region InvokeModel tokens per minute for {HAIKU} (shared by all profiles)",
            ("tpm", "cross-region", HAIKU),
        ),
    ],
)
def test_parse_quota_name(name: str, expected: tuple[str, str, str | None]) -> None:
    assert parse_quota_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "Batch inference job size (in GB)",
        "Number of custom models",
        "Concurrent model import jobs",
        "(Model customization) Sum of training and validation records for a Claude 3 Haiku"
        " Fine-tuning job",
        "Provisioned Throughput model units for Anthropic Claude 3 Haiku",
        "Bedrock Mantle input tokens per minute for OpenAI GPT OSS 120B",
        "Bedrock Mantle output tokens per minute for OpenAI GPT OSS 120B",
        f"On-demand InvokeModel requests per day for {HAIKU}",  # no such limit is read
        "On-demand InvokeModel tokens per minute for",  # no model
        f"On-demand InvokeModel tokens per minute {HAIKU}",  # no "for"
        f"Batch On-demand InvokeModel tokens per minute for {HAIKU}",
        "",
    ],
)
def test_names_that_are_not_per_model_runtime_rate_quotas(name: str) -> None:
    assert parse_quota_name(name) is None


def test_every_fixture_quota_parses_as_its_comment_says() -> None:
    parsed = {q.code: parse_quota_name(q.name) for q in DEFAULT_QUOTAS}
    not_rate = {c for c, p in parsed.items() if p is None}
    assert not_rate == {
        "L-A3D1E0B7",
        "L-A3D1E0B8",
        "L-2A3C5B11",
        "L-FB6A2E48",
        "L-C5D7F1E2",
        "L-7E3B6A90",
        "L-44D8F2A6",
    }
    assert parsed["L-E4A4B3F2"] == ("tpd", "account", None)


# --- match_quotas: names to models ----------------------------------------------------------


def test_base_model_uses_its_on_demand_quotas_with_the_applied_value() -> None:
    limits = one(CATALOG, HAIKU_3)
    assert codes(limits) == ("L-8CE99163", "L-2DC80978", None)
    assert limits.tpm is not None
    assert limits.tpm.applied
    assert limits.tpm.value == 4_000_000


def test_claude_3_haiku_and_claude_3_5_haiku_are_different_models() -> None:
    assert codes(one(CATALOG, HAIKU_3))[0] == "L-8CE99163"
    assert codes(one(CATALOG, HAIKU_3_5)) == ("L-7AB4ABDD", "L-C7438F8F", None)


def test_a_name_that_is_a_prefix_of_a_model_name_matches_nothing() -> None:
    cat = catalog(
        quotas_named(
            "On-demand InvokeModel tokens per minute for Anthropic Claude 3",
            "On-demand InvokeModel requests per minute for Anthropic Claude 3 Haiku Extended",
            "On-demand InvokeModel tokens per minute for Anthropic Claude",
            "On-demand InvokeModel tokens per minute for Claude 3 Hai",
        )
    )
    assert not one(cat, HAIKU_3)
    assert not one(cat, HAIKU_3_5)
    assert all(r.reason.startswith("no foundation model named") for r in report(cat, []))


def test_sonnet_without_suffix_is_v1_and_sonnet_v2_is_v2() -> None:
    assert codes(one(CATALOG, SONNET_3_5)) == ("L-A50569E5", "L-254CACF4", None)
    assert codes(one(CATALOG, SONNET_3_5_V2)) == ("L-AD41C330", "L-79E773B3", None)


def test_version_comes_from_the_model_id_when_the_model_name_has_none() -> None:
    models = tuple(
        replace(m, model_name="Claude 3.5 Sonnet") if m.model_id == SONNET_3_5_V2 else m
        for m in FOUNDATION_MODELS
    )
    cat = catalog(models=models)
    assert codes(one(cat, SONNET_3_5))[0] == "L-A50569E5"
    assert codes(one(cat, SONNET_3_5_V2))[0] == "L-AD41C330"


def test_a_plain_name_matches_the_only_model_of_that_name_whatever_its_version() -> None:
    models = (FoundationModel(SONNET_3_5_V2, "Claude 3.5 Sonnet", "Anthropic"),)
    cat = catalog(
        quotas_named("On-demand InvokeModel tokens per minute for Anthropic Claude 3.5 Sonnet"),
        models=models,
    )
    assert codes(one(cat, SONNET_3_5_V2))[0] == "L-00000000"


def test_a_version_suffix_the_models_do_not_have_matches_nothing() -> None:
    cat = catalog(
        quotas_named("On-demand InvokeModel tokens per minute for Anthropic Claude 3 Haiku V2")
    )
    assert not one(cat, HAIKU_3)
    (line,) = report(cat, [])
    assert line.reason == "no foundation model named 'Anthropic Claude 3 Haiku V2'"


def test_a_suffix_matches_a_model_id_without_any_version() -> None:
    sonnet_4_6 = "anthropic.claude-sonnet-4-6"
    cat = catalog(
        quotas_named(
            "Cross-Region InvokeModel tokens per minute for Anthropic Claude Sonnet 4.6 V1"
        ),
        models=(FoundationModel(sonnet_4_6, "Claude Sonnet 4.6", "Anthropic"),),
    )
    assert codes(one(cat, f"us.{sonnet_4_6}"))[0] == "L-00000000"
    assert not one(cat, sonnet_4_6)


def test_names_match_case_insensitively_and_without_the_provider() -> None:
    cat = catalog(
        quotas_named(
            "On-demand InvokeModel tokens per minute for ANTHROPIC claude 3 HAIKU",
            "On-demand InvokeModel requests per minute for Claude 3 Haiku",
        )
    )
    assert codes(one(cat, HAIKU_3)) == ("L-00000000", "L-00000001", None)


@pytest.mark.parametrize(
    ("model_id", "tpm"),
    [
        (NOVA_LITE, "L-70423BF8"),
        (NOVA_PRO, "L-CE33604C"),
        ("amazon.nova-micro-v1:0", "L-CFA4FA0D"),
        (LLAMA_3_1_70B, "L-48E55E59"),
        (MISTRAL_LARGE, "L-01447289"),
        (EMBED_ENGLISH, None),  # an RPM quota only, "Cohere Embed English V3" (id -v3)
    ],
)
def test_other_providers(model_id: str, tpm: str | None) -> None:
    assert codes(one(CATALOG, model_id))[0] == tpm


def test_embed_english_v3_gets_its_rpm_quota_from_the_id_version() -> None:
    assert codes(one(CATALOG, EMBED_ENGLISH)) == (None, "L-FF8E7864", None)


# --- match_quotas: ModelIds to scopes ---------------------------------------------------------


@pytest.mark.parametrize("prefix", ["us", "eu", "apac", "jp", "au", "ca", "us-gov"])
def test_geographic_profiles_use_the_cross_region_quotas(prefix: str) -> None:
    assert codes(one(CATALOG, f"{prefix}.{HAIKU_3}")) == ("L-DCADBC78", "L-616A3F5B", None)


def test_global_profiles_use_the_global_quotas() -> None:
    assert codes(one(CATALOG, f"global.{SONNET_4_5}")) == ("L-27C57EE8", "L-DB84CE56", "L-381AD9EE")
    assert codes(one(CATALOG, f"global.{SONNET_4}")) == ("L-97E41E39", None, None)


def test_a_profile_arn_is_read_like_its_id() -> None:
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{HAIKU_3}"
    assert codes(one(CATALOG, arn)) == ("L-DCADBC78", "L-616A3F5B", None)


def test_the_shared_daily_quota_applies_to_every_scope() -> None:
    for model_id in (SONNET_4_5, f"us.{SONNET_4_5}", f"eu.{SONNET_4_5}", f"global.{SONNET_4_5}"):
        assert codes(one(CATALOG, model_id))[2] == "L-381AD9EE", model_id
    # Cross-Region only: the on-demand call has no rate quota but still the daily one.
    assert codes(one(CATALOG, SONNET_4_5)) == (None, None, "L-381AD9EE")


def test_a_scoped_daily_quota_beats_the_shared_one_in_its_scope_only() -> None:
    assert codes(one(CATALOG, f"global.{HAIKU_4_5}"))[2] == "L-D2F1C9B4"
    assert codes(one(CATALOG, f"us.{HAIKU_4_5}"))[2] == "L-0C5A7E21"
    assert codes(one(CATALOG, HAIKU_4_5))[2] == "L-0C5A7E21"


def test_on_demand_and_cross_region_quotas_never_mix() -> None:
    assert codes(one(CATALOG, SONNET_3_7)) == (None, None, None)
    assert codes(one(CATALOG, f"us.{SONNET_3_7}")) == ("L-6E888CC2", "L-3D8CC480", None)
    assert codes(one(CATALOG, f"global.{SONNET_3_7}")) == (None, None, None)


@pytest.mark.parametrize(
    "model_id", [APP_PROFILE_SINGLE.profile_arn, APP_PROFILE_SINGLE.profile_id]
)
def test_application_profile_on_one_region_uses_on_demand_quotas(model_id: str) -> None:
    assert codes(one(CATALOG, model_id)) == ("L-8CE99163", "L-2DC80978", None)
    assert resolve_model(CATALOG, model_id) == (HAIKU_3, "on-demand")


@pytest.mark.parametrize("model_id", [APP_PROFILE_MULTI.profile_arn, APP_PROFILE_MULTI.profile_id])
def test_application_profile_copied_from_a_cross_region_profile(model_id: str) -> None:
    assert codes(one(CATALOG, model_id)) == ("L-59759B4A", "L-559DCC33", None)
    assert resolve_model(CATALOG, model_id) == (SONNET_4, "cross-region")


def _app(profile_id: str, *arns: str) -> InferenceProfile:
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/{profile_id}"
    return InferenceProfile(profile_id, arn, "APPLICATION", arns)


@pytest.mark.parametrize(
    ("arns", "expected"),
    [
        # Copied from a global profile: its models include one ARN without a region.
        (
            (
                f"arn:aws:bedrock:us-east-1::foundation-model/{SONNET_4_5}",
                f"arn:aws:bedrock:::foundation-model/{SONNET_4_5}",
            ),
            (SONNET_4_5, "global"),
        ),
        # Pointing at the system profile itself.
        (
            (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/us.{HAIKU_3}",),
            (HAIKU_3, "cross-region"),
        ),
        (
            (f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/global.{SONNET_4_5}",),
            (SONNET_4_5, "global"),
        ),
        # Two models, no model, or something else: unknown.
        (
            (
                f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU_3}",
                f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU_3_5}",
            ),
            None,
        ),
        ((), None),
        (("not-an-arn",), None),
    ],
)
def test_application_profile_targets(
    arns: tuple[str, ...], expected: tuple[str, str] | None
) -> None:
    cat = catalog(profiles=(*INFERENCE_PROFILES, _app("zz11yy22xx33", *arns)))
    assert resolve_model(cat, "zz11yy22xx33") == expected


def test_unknown_application_profile_and_provisioned_models_have_no_quotas() -> None:
    ids = [
        "qqqqqqqqqqqq",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:application-inference-profile/qqqqqqqqqqqq",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/abcdef123456",
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/my-model",
        "some.model-nobody-knows-v1:0",
    ]
    matched = match_quotas(CATALOG, ids)
    assert list(matched) == ids  # every id given is a key, in order
    assert not any(matched.values())
    assert resolve_model(CATALOG, ids[2]) is None


def test_a_system_profile_id_is_not_an_application_profile() -> None:
    # Listed in the catalogue, but as SYSTEM_DEFINED: a 12-character id must be APPLICATION.
    system = replace(APP_PROFILE_SINGLE, kind="SYSTEM_DEFINED")
    cat = catalog(profiles=(system,))
    assert resolve_model(cat, system.profile_id) is None


def test_match_quotas_keeps_every_id_once() -> None:
    matched = match_quotas(CATALOG, [HAIKU_3, HAIKU_3, NOVA_LITE])
    assert list(matched) == [HAIKU_3, NOVA_LITE]


# --- overrides ----------------------------------------------------------------------------------


def test_an_override_fills_the_slot_of_its_kind_and_keeps_the_others() -> None:
    limits = one(CATALOG, HAIKU_3, {HAIKU_3: "L-C7438F8F"})  # Claude 3.5 Haiku's RPM
    assert codes(limits) == ("L-8CE99163", "L-C7438F8F", None)


def test_an_override_can_give_a_model_a_daily_quota() -> None:
    limits = one(CATALOG, f"us.{SONNET_4}", {f"us.{SONNET_4}": "L-381AD9EE"})
    assert codes(limits) == ("L-59759B4A", "L-559DCC33", "L-381AD9EE")


def test_an_override_whose_name_does_not_parse_is_a_tpm_quota() -> None:
    mantle = "L-A3D1E0B7"
    limits = one(CATALOG, "openai.gpt-oss-120b-1:0", {"openai.gpt-oss-120b-1:0": mantle})
    assert codes(limits) == (mantle, None, None)
    (line,) = [
        r
        for r in report(CATALOG, [], {"openai.gpt-oss-120b-1:0": mantle})
        if r.quota.code == mantle
    ]
    assert line.kind == "tpm"
    assert line.model_ids == ("openai.gpt-oss-120b-1:0",)
    assert line.reason == ""


def test_an_override_applies_to_the_model_id_it_names_only() -> None:
    matched = match_quotas(CATALOG, [HAIKU_3, f"us.{HAIKU_3}"], {f"us.{HAIKU_3}": "L-AD41C330"})
    assert codes(matched[HAIKU_3])[0] == "L-8CE99163"
    assert codes(matched[f"us.{HAIKU_3}"])[0] == "L-AD41C330"


def test_an_override_naming_an_unknown_code_is_ignored_and_reported() -> None:
    overrides = {HAIKU_3: "L-DEADBEEF", NOVA_LITE: "L-CE33604C"}
    matched = match_quotas(CATALOG, [HAIKU_3, NOVA_LITE], overrides)
    assert codes(matched[HAIKU_3]) == ("L-8CE99163", "L-2DC80978", None)
    assert codes(matched[NOVA_LITE])[0] == "L-CE33604C"
    assert unknown_overrides(CATALOG, overrides) == {HAIKU_3: "L-DEADBEEF"}
    last = report(CATALOG, [], overrides)[-1]
    assert last.quota.code == "L-DEADBEEF"
    assert last.kind is None
    assert last.model_ids == ()
    assert HAIKU_3 in last.reason
    assert "L-DEADBEEF" in last.reason


def test_a_quota_replaced_by_overrides_everywhere_says_so() -> None:
    lines = {r.quota.code: r for r in report(CATALOG, [], {NOVA_PRO: "L-70423BF8"})}
    assert lines["L-CE33604C"].model_ids == ()
    assert (
        lines["L-CE33604C"].reason == "replaced by a config override on every model id it matched"
    )
    assert NOVA_PRO in lines["L-70423BF8"].model_ids


# --- applied values, duplicates, account quota -----------------------------------------------


def test_applied_values_win_over_defaults_of_the_same_code() -> None:
    cat = catalog((*DEFAULT_QUOTAS, *APPLIED_QUOTAS))
    for applied in APPLIED_QUOTAS:
        (line,) = [r for r in report(cat, []) if r.quota.code == applied.code]
        assert line.quota == applied
    assert len(report(cat, [])) == len(DEFAULT_QUOTAS)


def test_two_quotas_for_one_slot_pick_one_whatever_the_order() -> None:
    names = (
        f"On-demand InvokeModel tokens per minute for {HAIKU}",
        f"On-demand model inference tokens per minute for {HAIKU}",
    )
    quotas = quotas_named(*names)
    for order in (quotas, quotas[::-1]):
        cat = catalog(order)
        assert codes(one(cat, HAIKU_3))[0] == "L-00000000"
        lines = {r.quota.code: r for r in report(cat, [])}
        assert lines["L-00000001"].reason == "same model, scope and kind as L-00000000"
    # The account's own value beats a default.
    applied = (quotas[0], replace(quotas[1], applied=True))
    assert codes(one(catalog(applied), HAIKU_3))[0] == "L-00000001"


def test_account_tpd() -> None:
    quota = account_tpd(CATALOG)
    assert quota is not None
    assert quota.code == "L-E4A4B3F2"
    assert quota.value == 5_000_000_000
    assert account_tpd(catalog(tuple(q for q in DEFAULT_QUOTAS if q.code != "L-E4A4B3F2"))) is None
    # The account quota is not a per-model one.
    assert all(
        q is None or q.code != "L-E4A4B3F2"
        for limits in match_quotas(CATALOG, [HAIKU_3, f"us.{SONNET_4_5}"]).values()
        for q in (limits.tpm, limits.rpm, limits.tpd)
    )


def test_an_empty_catalogue_matches_nothing() -> None:
    empty = QuotaCatalog(region="us-east-1", account=None, fetched_at=0.0)
    assert not one(empty, HAIKU_3)
    assert account_tpd(empty) is None
    assert report(empty, [HAIKU_3]) == []


# --- report -------------------------------------------------------------------------------------


def test_report_has_one_line_per_quota_sorted_by_kind_name_code() -> None:
    lines = report(CATALOG, [])
    assert sorted(r.quota.code for r in lines) == sorted(q.code for q in DEFAULT_QUOTAS)
    order = [*QUOTA_KINDS, None]
    keys = [(order.index(r.kind), (r.model_name or "").casefold(), r.quota.code) for r in lines]
    assert keys == sorted(keys)
    assert lines[0].kind == "tpm"
    assert lines[-1].kind is None


def test_report_lists_models_without_traffic() -> None:
    lines = {r.quota.code: r for r in report(CATALOG, [])}
    assert lines["L-DCADBC78"].model_ids == (f"eu.{HAIKU_3}", f"us.{HAIKU_3}")
    assert lines["L-8CE99163"].model_ids == (HAIKU_3, APP_PROFILE_SINGLE.profile_id)
    assert lines["L-59759B4A"].model_ids == (APP_PROFILE_MULTI.profile_id, f"us.{SONNET_4}")
    assert lines["L-381AD9EE"].model_ids == (
        SONNET_4_5,
        f"global.{SONNET_4_5}",
        f"us.{SONNET_4_5}",
    )
    assert all(r.reason == "" for r in lines.values() if r.model_ids)


def test_report_adds_the_model_ids_given() -> None:
    given_ids = [f"apac.{HAIKU_3}", APP_PROFILE_SINGLE.profile_arn]
    lines = {r.quota.code: r for r in report(CATALOG, given_ids)}
    assert f"apac.{HAIKU_3}" in lines["L-DCADBC78"].model_ids
    assert APP_PROFILE_SINGLE.profile_arn in lines["L-8CE99163"].model_ids


@pytest.mark.parametrize(
    ("code", "kind", "scope", "model", "reason"),
    [
        ("L-A3D1E0B7", None, None, None, "Mantle endpoint quota (not AWS/Bedrock)"),
        ("L-2A3C5B11", None, None, None, "not a per-model runtime rate quota"),
        ("L-44D8F2A6", None, None, None, "not a per-model runtime rate quota"),
        ("L-E4A4B3F2", "tpd", "account", None, "account-wide daily quota"),
        (
            "L-C0E2D5F1",
            "tpm",
            "on-demand",
            "Anthropic Claude 2",
            "no foundation model named 'Anthropic Claude 2'",
        ),
        (
            "L-29C2B0A3",
            "tpm",
            "cross-region",
            "Anthropic Claude Opus 4 V1",
            "no foundation model named 'Anthropic Claude Opus 4 V1'",
        ),
        (
            "L-97E41E39",
            "tpm",
            "global",
            "Anthropic Claude Sonnet 4 V1",
            f"no global inference profile of {SONNET_4} in use or in the catalogue",
        ),
    ],
)
def test_report_reasons(
    code: str, kind: str | None, scope: str | None, model: str | None, reason: str
) -> None:
    (line,) = [r for r in report(CATALOG, []) if r.quota.code == code]
    assert (line.kind, line.scope, line.model_name, line.model_ids, line.reason) == (
        kind,
        scope,
        model,
        (),
        reason,
    )


def test_a_global_quota_matches_once_its_profile_is_in_use() -> None:
    (line,) = [r for r in report(CATALOG, [f"global.{SONNET_4}"]) if r.quota.code == "L-97E41E39"]
    assert line.model_ids == (f"global.{SONNET_4}",)
    assert line.reason == ""


def test_a_cross_region_quota_without_profile_says_so() -> None:
    profiles = tuple(p for p in INFERENCE_PROFILES if p.profile_id != f"us.{NOVA_LITE}")
    lines = {r.quota.code: r for r in report(catalog(profiles=profiles), [])}
    assert lines["L-7C42E72A"].reason == (
        f"no cross-Region inference profile of {NOVA_LITE} in use or in the catalogue"
    )


# --- scale ------------------------------------------------------------------------------------


def test_thousands_of_models_and_quotas_match_quickly() -> None:
    n = 3000
    models = tuple(FoundationModel(f"acme.model-{i}-v1:0", f"Model {i}", "Acme") for i in range(n))
    quotas = tuple(
        ServiceQuota(
            f"L-{i:08X}", f"Cross-Region InvokeModel tokens per minute for Acme Model {i}", i
        )
        for i in range(n)
    )
    cat = QuotaCatalog("us-east-1", ACCOUNT, 0.0, quotas=quotas, models=models)
    ids = [f"us.acme.model-{i}-v1:0" for i in range(n)]
    started = time.perf_counter()
    matched = match_quotas(cat, ids)
    lines = report(cat, ids)
    elapsed = time.perf_counter() - started
    assert all(codes(matched[f"us.acme.model-{i}-v1:0"])[0] == f"L-{i:08X}" for i in range(n))
    assert all(len(r.model_ids) == 1 for r in lines)
    assert elapsed < 3.0  # linear: well under a second; a pairwise scan takes far longer


# --- properties -------------------------------------------------------------------------------

_KNOWN_NAMES = {
    re.sub(r"\s+v\d+$", "", name.casefold())
    for m in FOUNDATION_MODELS
    for name in (f"{m.provider_name} {m.model_name}", m.model_name)
}
_ALL_IDS = [
    *(m.model_id for m in FOUNDATION_MODELS),
    *(p.profile_id for p in INFERENCE_PROFILES),
    APP_PROFILE_SINGLE.profile_arn,
    *(f"{geo}.{m.model_id}" for geo in ("apac", "jp", "global") for m in FOUNDATION_MODELS),
]
_PREFIXES = [
    "On-demand InvokeModel tokens per minute for ",
    "Cross-Region InvokeModel requests per minute for ",
    "Global cross-Region model inference tokens per minute for ",
    "Model invocation max tokens per day for ",
    "Global cross-Region model inference tokens per day for ",
    "",
    "Bedrock Mantle input tokens per minute for ",
]
_model_names = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz ABC0123456789.-()"),
    min_size=1,
    max_size=30,
)


def _unrelated(prefix: str, model: str) -> bool:
    """Whether a quota named ``prefix + model`` could not be about a fixture model."""
    text = re.sub(r"\s+", " ", model).strip()
    while (shorter := re.sub(r"\s*\([^()]*\s[^()]*\)\s*$", "", text)) != text:
        text = shorter
    return re.sub(r"\s+v\d+$", "", text.casefold()) not in _KNOWN_NAMES


@given(
    extra=st.lists(
        st.tuples(st.sampled_from(_PREFIXES), _model_names).filter(lambda t: _unrelated(*t)),
        max_size=20,
    ),
    codes_at=st.integers(min_value=0, max_value=2**28),
)
def test_unrelated_quotas_never_change_existing_matches(
    extra: list[tuple[str, str]], codes_at: int
) -> None:
    base = match_quotas(CATALOG, _ALL_IDS)
    # Random codes: one lower than a fixture quota's would win a tie for the same slot.
    added = tuple(
        ServiceQuota(f"L-{codes_at + i:08X}"[:10], prefix + model, 1.0)
        for i, (prefix, model) in enumerate(extra)
    )
    fixture_codes = {q.code for q in CATALOG.quotas}
    added = tuple(q for q in added if q.code not in fixture_codes)
    cat = catalog((*CATALOG.quotas, *added))
    assert match_quotas(cat, _ALL_IDS) == base
    assert len(report(cat, [])) == len({q.code for q in cat.quotas})


@given(st.permutations(merged_quotas()))
def test_matching_does_not_depend_on_the_order_aws_lists_quotas(
    quotas: list[ServiceQuota],
) -> None:
    shuffled = catalog(tuple(quotas))
    assert match_quotas(shuffled, _ALL_IDS) == match_quotas(CATALOG, _ALL_IDS)
    assert report(shuffled, _ALL_IDS) == report(CATALOG, _ALL_IDS)


@given(st.sampled_from(DEFAULT_QUOTAS), st.randoms(use_true_random=False))
def test_parsing_ignores_case(quota: ServiceQuota, rnd: random.Random) -> None:
    shuffled = "".join(c.upper() if rnd.random() < 0.5 else c.lower() for c in quota.name)
    plain, mixed = parse_quota_name(quota.name), parse_quota_name(shuffled)
    if plain is None:
        assert mixed is None
        return
    assert mixed is not None
    assert mixed[:2] == plain[:2]
    assert (mixed[2] or "").casefold() == (plain[2] or "").casefold()


# --- burndown -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model_id", "factor"),
    [
        (HAIKU_3, 1),
        (HAIKU_3_5, 1),
        (SONNET_3_5, 1),
        (SONNET_3_5_V2, 1),
        ("anthropic.claude-3-opus-20240229-v1:0", 1),
        (SONNET_3_7, 5),
        (SONNET_4, 5),
        ("anthropic.claude-opus-4-20250514-v1:0", 5),
        ("anthropic.claude-opus-4-1-20250805-v1:0", 5),
        (SONNET_4_5, 5),
        (HAIKU_4_5, 5),
        ("anthropic.claude-opus-4-5-20251101-v1:0", 5),
        ("anthropic.claude-sonnet-4-6", 5),
        ("anthropic.claude-opus-4-6-v1", 5),
        ("anthropic.claude-opus-4-7", 5),
        ("anthropic.claude-opus-4-8", 15),
        ("anthropic.claude-sonnet-5", 10),
        ("anthropic.claude-opus-5-5", 10),
        ("anthropic.claude-fable-5-1", 10),
        ("anthropic.claude-opus-4-9", 1),  # not in the doc: the default, not a guess
        (NOVA_LITE, 1),
        (LLAMA_3_1_70B, 1),
        ("openai.gpt-oss-120b-1:0", 1),
        ("", 1),
        ("not a model id", 1),
    ],
)
def test_burndown_table(model_id: str, factor: int) -> None:
    assert burndown(model_id) == factor


@pytest.mark.parametrize("prefix", ["us", "eu", "apac", "jp", "au", "ca", "us-gov", "global"])
def test_burndown_of_profile_ids_is_that_of_the_base_model(prefix: str) -> None:
    assert burndown(f"{prefix}.{SONNET_4_5}") == 5
    assert burndown(f"{prefix}.{HAIKU_3}") == 1
    arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{prefix}.{SONNET_3_7}"
    assert burndown(arn) == 5


def test_burndown_overrides_win_longest_prefix_first() -> None:
    overrides = {"anthropic.claude-3": 5, "anthropic.claude-3-haiku": 2, "us.": 7}
    assert burndown(HAIKU_3, overrides) == 2
    assert burndown(HAIKU_3_5, overrides) == 5
    assert burndown(SONNET_4, overrides) == 5  # no override: the table
    assert burndown(f"us.{NOVA_LITE}", overrides) == 7
    assert burndown(f"eu.{HAIKU_3}", overrides) == 2  # the base id matches too
    assert burndown(SONNET_4_5, {"anthropic.claude-sonnet-4-5": 1}) == 1
    assert burndown(SONNET_4_5, {}) == 5
    assert burndown(SONNET_4_5, None) == 5


def test_burndown_of_resolves_application_profiles() -> None:
    assert burndown(APP_PROFILE_MULTI.profile_id) == 1  # the id alone says nothing
    assert burndown_of(CATALOG, APP_PROFILE_MULTI.profile_id) == 5  # Claude Sonnet 4
    assert burndown_of(CATALOG, APP_PROFILE_MULTI.profile_arn) == 5
    assert burndown_of(CATALOG, APP_PROFILE_SINGLE.profile_arn) == 1  # Claude 3 Haiku
    assert burndown_of(None, APP_PROFILE_MULTI.profile_id) == 1
    assert burndown_of(CATALOG, f"us.{SONNET_4_5}") == 5
    own = {APP_PROFILE_MULTI.profile_id: 3}
    assert burndown_of(CATALOG, APP_PROFILE_MULTI.profile_arn, own) == 3
    assert burndown_of(CATALOG, APP_PROFILE_MULTI.profile_id, {SONNET_4: 2}) == 2


def test_burndown_table_is_documented() -> None:
    assert all(rule.factor >= 1 and rule.note for rule in BURNDOWN_TABLE)
    for rule in BURNDOWN_TABLE:
        re.compile(rule.pattern)


def test_a_daily_quota_doubled_for_cross_region_calls_doubles_for_profiles() -> None:
    """ "... tokens per day for X (doubled for cross-region calls)": a profile's calls get
    twice the stated value; calls on the base model id get it as stated."""
    base = one(CATALOG, SONNET_4_5).tpd
    assert base is not None
    assert "doubled for cross-region calls" in base.name
    for profile in ("us", "eu", "global"):
        daily = one(CATALOG, f"{profile}.{SONNET_4_5}").tpd
        assert daily is not None
        assert (daily.code, daily.value) == (base.code, 2 * base.value)
