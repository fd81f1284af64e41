"""Mantle's own quotas: which quota limits which Mantle model, and the busiest minute of the
model (every project summed) against it; plus Mantle ids priced like their dated runtime ids."""

from __future__ import annotations

from pathlib import Path

from bedrock_top.figures.pricing import PriceTable
from bedrock_top.figures.quotas import FoundationModel, QuotaCatalog, ServiceQuota
from bedrock_top.figures.series import ModelSeries
from bedrock_top.figures.surface_quotas import quota_figures, surface_limits, undated
from bedrock_top.figures.surface_rows import Window
from bedrock_top.figures.surfaces import MANTLE

SONNET = "anthropic.claude-sonnet-4-6"
OPUS = "anthropic.claude-opus-4-7"
IN = "Bedrock Mantle input tokens per minute for "
OUT = "Bedrock Mantle output tokens per minute for "


def catalog(*quotas: ServiceQuota) -> QuotaCatalog:
    models = (
        FoundationModel(SONNET, "Claude Sonnet 4.6", "Anthropic"),
        FoundationModel(
            "anthropic.claude-sonnet-4-5-20250929-v1:0", "Claude Sonnet 4.5", "Anthropic"
        ),
    )
    return QuotaCatalog("us-east-1", "1", 0.0, quotas, models)


def test_undated_drops_date_and_version() -> None:
    assert undated("anthropic.claude-sonnet-4-5-20250929-v1:0") == "anthropic.claude-sonnet-4-5"
    assert undated("anthropic.claude-opus-4-6-v1") == "anthropic.claude-opus-4-6"
    assert undated("openai.gpt-oss-120b-1:0") == "openai.gpt-oss-120b"
    assert undated(SONNET) == SONNET


def test_quota_named_by_model_name_or_by_mantle_id() -> None:
    found = surface_limits(
        MANTLE,
        catalog(
            ServiceQuota("A", IN + "Anthropic Claude Sonnet 4.6", 100.0),
            ServiceQuota("B", OUT + OPUS, 50.0),
            ServiceQuota("C", IN + "Anthropic Claude Sonnet 4.5", 7.0),  # no such Mantle row
            ServiceQuota("D", "On-demand model inference tokens per minute for X", 1.0),
        ),
        [SONNET, OPUS],
    )
    assert {k: q.code for k, q in found.items()} == {
        ("input_tpm", SONNET): "A",
        ("output_tpm", OPUS): "B",
    }


def test_applied_value_wins_over_the_default() -> None:
    found = surface_limits(
        MANTLE,
        catalog(
            ServiceQuota("A", IN + SONNET, 100.0),
            ServiceQuota("A", IN + SONNET, 300.0, applied=True),
        ),
        [SONNET],
    )
    assert found[("input_tpm", SONNET)].value == 300.0


def _row(minutes: list[float], start: int) -> ModelSeries:
    stored = ModelSeries(metric_names={"input_tokens": "InputTokens"})
    ring = stored.ring(("input_tokens", "Sum"), 60, 60)
    stamps = [start + 60 * i for i in range(len(minutes))]
    ring.replace(start, start + 3600, stamps, minutes)
    return stored


def test_peak_is_the_busiest_minute_of_the_model_across_projects() -> None:
    start = 1_790_000_000 - 1_790_000_000 % 60 - 3600
    a = [10.0] * 60
    b = [5.0] * 60
    a[30], b[30] = 50.0, 40.0  # minute 30: 90 for the model, though no row reaches 60
    b[31] = 60.0  # minute 31: 70
    rows = [
        (None, (("Project", "default"), ("Model", SONNET)), _row(a, start)),
        (None, (("Project", "proj_x"), ("Model", SONNET)), _row(b, start)),
        (None, (("Project", "default"), ("Model", OPUS)), _row([1.0] * 60, start)),
        ("999", (("Project", "default"), ("Model", SONNET)), _row([170.0] * 60, start)),
    ]
    limits = surface_limits(MANTLE, catalog(ServiceQuota("A", IN + SONNET, 180.0)), [SONNET])
    window = Window(start, start + 3600, 60, 59)
    # Every minute complete; the linked account's traffic counts only toward its own quota.
    figures = quota_figures(MANTLE, rows, limits, window, start + 3600)
    for account, dims, _ in rows[:2]:
        assert figures[(account, dims)]["input_tpm_peak_pct"] == 50.0  # 90 / 180
        assert figures[(account, dims)]["input_tpm_limit"] == 180.0
    assert figures[(None, rows[2][1])]["input_tpm_peak_pct"] is None  # no quota published
    assert figures[("999", rows[3][1])]["input_tpm_peak_pct"] is None  # not our quota
    # At a period other than a minute the quota (per minute) is not worked out.
    five = Window(start, start + 3600, 300, 11)
    assert quota_figures(MANTLE, rows, limits, five, start + 3600)[(None, rows[0][1])] == {
        "input_tpm_limit": 180.0,
        "input_tpm_peak_pct": None,
        "output_tpm_limit": None,
        "output_tpm_peak_pct": None,
    }


def test_mantle_ids_are_priced_like_their_dated_runtime_id() -> None:
    prices = PriceTable.load(cache_path=Path("/nonexistent/prices.json"))
    dated = prices.lookup("anthropic.claude-haiku-4-5-20251001-v1:0")
    assert dated is not None
    assert prices.lookup("anthropic.claude-haiku-4-5") == dated
    assert prices.lookup("anthropic.claude-sonnet-4") == prices.lookup(
        "anthropic.claude-sonnet-4-20250514-v1:0"
    )
    assert prices.lookup("anthropic.claude-nonexistent-9") is None
