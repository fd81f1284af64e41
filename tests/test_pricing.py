"""Price lookup (prefixes, versions, aliases, precedence) and the pure cost figures."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bedrock_top.errors import ConfigError
from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.pricing import (
    DEFAULT_API_USD_PER_1000,
    PRICE_FIELDS,
    SOURCE_BUNDLED,
    SOURCE_CACHED,
    SOURCE_CONFIG,
    Price,
    PriceTable,
    api_cost_usd,
    api_usd_per_hour,
    cache_savings,
    load_bundled,
    model_key,
    usd_per_hour,
    window_cost,
)
from bedrock_top.figures.row_figures import WindowFigures

HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
SONNET4 = "anthropic.claude-sonnet-4-20250514-v1:0"
APP_PROFILE = "x7k2p9q4m1z8"
APP_ARN = f"arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/{APP_PROFILE}"


@pytest.fixture
def no_cache(tmp_path: Path) -> Path:
    return tmp_path / "absent" / "prices.json"


@pytest.fixture
def table(no_cache: Path) -> PriceTable:
    return PriceTable.load(cache_path=no_cache)


def write_cache(path: Path, models: dict[str, Any], **top: Any) -> Path:
    doc = {"source": "AWS Price List API", "as_of": "2026-11-01T10:00:00+00:00", **top}
    path.write_text(json.dumps({**doc, "models": models}), encoding="utf-8")
    return path


# --- lookup ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model_id",
    [
        HAIKU3,
        f"us.{HAIKU3}",
        f"eu.{HAIKU3}",
        f"apac.{HAIKU3}",
        f"{HAIKU3}:200k",  # context-window variant
        "anthropic.claude-3-haiku-20240307-v1",  # without ':0'
        f"arn:aws:bedrock:us-east-1::foundation-model/{HAIKU3}",
        f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.{HAIKU3}",
    ],
)
def test_lookup_across_prefixes_and_suffixes(table: PriceTable, model_id: str) -> None:
    price = table.lookup(model_id)
    assert price == Price(0.25, 1.25, None, None, SOURCE_BUNDLED, HAIKU3)


@pytest.mark.parametrize(
    ("model_id", "expected"),
    [
        ("mistral.mistral-7b-instruct-v0:2", "mistral.mistral-7b-instruct-v0:2"),
        ("anthropic.claude-v2:1", "anthropic.claude-v2"),
        ("anthropic.claude-opus-4-6", "anthropic.claude-opus-4-6-v1"),  # only -vN differs
        ("us.anthropic.claude-opus-4-6-v1:0", "anthropic.claude-opus-4-6-v1"),
        ("amazon.titan-embed-text-v1", "amazon.titan-embed-text-v1"),
        ("amazon.titan-embed-text-v2:0", "amazon.titan-embed-text-v2:0"),
    ],
)
def test_lookup_matches_the_right_entry(table: PriceTable, model_id: str, expected: str) -> None:
    price = table.lookup(model_id)
    assert price is not None
    assert price.model == expected


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic.claude-9-haiku-20300101-v1:0",
        "amazon.titan-embed-text-v3:0",  # v1 and v2 both fit loosely: ambiguous, no guess
        "unknownvendor.model-v1:0",
        APP_PROFILE,  # an application profile without an alias
        APP_ARN,
        "arn:aws:bedrock:us-east-1:123456789012:provisioned-model/abcdef123456",
        "",
    ],
)
def test_unknown_models_have_no_price(table: PriceTable, model_id: str) -> None:
    assert table.lookup(model_id) is None


def test_regional_profiles_cost_more_than_global_where_aws_says_so(table: PriceTable) -> None:
    global_ = table.lookup(f"global.{SONNET45}")
    assert global_ == Price(3.0, 15.0, 0.3, 3.75, SOURCE_BUNDLED, SONNET45)
    for prefix in ("us.", "eu.", "apac.", "jp.", ""):
        regional = table.lookup(f"{prefix}{SONNET45}")
        assert regional == Price(3.3, 16.5, 0.33, 4.125, SOURCE_BUNDLED, SONNET45), prefix
    # Sonnet 4 has no regional premium: the same price under every prefix.
    prices = {table.lookup(f"{p}{SONNET4}") for p in ("global.", "us.", "eu.", "")}
    assert len(prices) == 1


def test_application_profiles_map_through_config_aliases(no_cache: Path) -> None:
    table = PriceTable.load(
        aliases={APP_PROFILE: HAIKU3, "prod00000001": f"us.{SONNET45}"}, cache_path=no_cache
    )
    assert table.lookup(APP_PROFILE) == table.lookup(HAIKU3)
    assert table.lookup(APP_ARN) == table.lookup(HAIKU3)  # the ARN's profile id is used
    regional = table.lookup("prod00000001")  # the alias target's profile sets the premium
    assert regional is not None
    assert regional.input == 3.3


def test_model_key_strips_profile_and_suffixes() -> None:
    assert model_key(f"us.{HAIKU3}:200k") == "anthropic.claude-3-haiku-20240307-v1"
    assert model_key(f"global.{SONNET45}") == "anthropic.claude-sonnet-4-5-20250929-v1"


# --- precedence -----------------------------------------------------------------------------


def test_override_beats_cache_beats_bundled(tmp_path: Path) -> None:
    cache = write_cache(
        tmp_path / "prices.json",
        {
            HAIKU3: {"input": 0.3, "output": 1.5, "cache_read": None, "cache_write": None},
            SONNET4: {"input": 2.0, "output": 10.0, "cache_read": 0.2, "cache_write": 2.5},
        },
    )
    overrides = {SONNET4: {"input": 1.0, "output": 5.0}}
    table = PriceTable.load(overrides=overrides, cache_path=cache)
    assert table.lookup(SONNET4) == Price(1.0, 5.0, None, None, SOURCE_CONFIG, SONNET4)
    assert table.lookup(f"us.{HAIKU3}") == Price(0.3, 1.5, None, None, SOURCE_CACHED, HAIKU3)
    opus = table.lookup("anthropic.claude-3-opus-20240229-v1:0")
    assert opus is not None
    assert opus.source == SOURCE_BUNDLED
    assert table.as_of == {
        SOURCE_BUNDLED: load_bundled().as_of,
        SOURCE_CACHED: "2026-11-01T10:00:00+00:00",
    }
    assert table.warnings == ()


def test_override_for_one_profile_leaves_the_others_alone(no_cache: Path) -> None:
    overrides = {f"eu.{SONNET45}": {"input": 9.0, "output": 9.0}}
    table = PriceTable.load(overrides=overrides, cache_path=no_cache)
    eu = table.lookup(f"eu.{SONNET45}")
    us = table.lookup(f"us.{SONNET45}")
    assert eu is not None
    assert us is not None
    assert (eu.input, eu.source) == (9.0, SOURCE_CONFIG)
    assert (us.input, us.source) == (3.3, SOURCE_BUNDLED)


def test_override_can_price_a_model_the_table_lacks(no_cache: Path) -> None:
    new = {"input": 1, "output": 2, "cache_read": 0.1, "aliases": ["acme.brand-new-latest"]}
    table = PriceTable.load(overrides={"acme.brand-new-v1:0": new}, cache_path=no_cache)
    expected = Price(1.0, 2.0, 0.1, None, SOURCE_CONFIG, "acme.brand-new-v1:0")
    assert table.lookup("us.acme.brand-new-v1:0") == expected
    assert table.lookup("acme.brand-new-latest") == expected


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        '{"source": "x", "as_of": "2026-01-01"}',  # no models
        '{"source": "x", "as_of": "yesterday", "models": {}}',
        '{"source": "", "as_of": "2026-01-01", "models": {}}',
        json.dumps({"source": "x", "as_of": "2026-01-01", "models": {HAIKU3: {"input": -1}}}),
        json.dumps({"source": "x", "as_of": "2026-01-01", "models": {HAIKU3: {"input": "1"}}}),
        "[]",
        "\udcff",  # undecodable bytes once written with surrogateescape
    ],
)
def test_corrupt_cache_is_ignored_with_a_warning(tmp_path: Path, content: str) -> None:
    cache = tmp_path / "prices.json"
    cache.write_bytes(content.encode("utf-8", "surrogateescape"))
    table = PriceTable.load(cache_path=cache)
    assert len(table.warnings) == 1
    assert str(cache) in table.warnings[0]
    price = table.lookup(HAIKU3)
    assert price is not None
    assert price.source == SOURCE_BUNDLED


def test_missing_cache_is_not_a_warning(table: PriceTable) -> None:
    assert table.warnings == ()
    assert set(table.as_of) == {SOURCE_BUNDLED}


@pytest.mark.parametrize(
    "overrides",
    [
        {HAIKU3: {"input": -0.1, "output": 1.0}},
        {HAIKU3: {"output": 1.0}},
        {HAIKU3: "cheap"},
        {HAIKU3: {"input": 1.0, "output": 1.0, "profile_multipliers": "no-such-set"}},
        {HAIKU3: {"input": 1.0, "output": 1.0, "profile_multipliers": {"us": 0}}},
    ],
)
def test_bad_overrides_are_config_errors(no_cache: Path, overrides: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"prices\.overrides"):
        PriceTable.load(overrides=overrides, cache_path=no_cache)


def test_bad_alias_is_a_config_error(no_cache: Path) -> None:
    with pytest.raises(ConfigError, match=r"prices\.aliases"):
        PriceTable.load(aliases={APP_PROFILE: ""}, cache_path=no_cache)


# --- cost figures ---------------------------------------------------------------------------

SONNET_PRICE = Price(3.0, 15.0, 0.3, 3.75, SOURCE_BUNDLED)
FIGURES = WindowFigures(
    invocations=100,
    input_tokens=1_000_000,
    output_tokens=200_000,
    cache_read_tokens=2_000_000,
    cache_write_tokens=400_000,
)


def test_window_cost_counts_every_kind_of_token() -> None:
    # 1M * 3 + 0.2M * 15 + 2M * 0.3 + 0.4M * 3.75 = 3 + 3 + 0.6 + 1.5
    assert window_cost(FIGURES, SONNET_PRICE) == pytest.approx(8.1)
    assert window_cost(WindowFigures(), SONNET_PRICE) == 0.0


def test_cache_savings_against_the_full_input_price() -> None:
    # 2M cache-read tokens * (3 - 0.3) USD/M
    assert cache_savings(FIGURES, SONNET_PRICE) == pytest.approx(5.4)


def test_cache_tokens_of_a_model_without_cache_prices_cost_the_input_price() -> None:
    price = Price(0.25, 1.25, None, None, SOURCE_BUNDLED)
    figures = WindowFigures(input_tokens=1_000_000, cache_read_tokens=1_000_000)
    assert window_cost(figures, price) == pytest.approx(0.5)
    assert cache_savings(figures, price) == 0.0


def test_usd_per_hour_uses_per_minute_rates() -> None:
    latest: dict[str, float | None] = {
        "input_tokens": 10_000.0,
        "output_tokens": 2_000.0,
        "cache_read_tokens": 10_000.0,
        "cache_write_tokens": 0.0,
    }
    # Per minute: 10k * 3 + 2k * 15 + 10k * 0.3 = 63,000 USD-per-M -> 0.063 USD; * 60
    assert usd_per_hour(latest, SONNET_PRICE) == pytest.approx(3.78)
    no_cache = {"input_tokens": 10_000.0, "output_tokens": 2_000.0}
    assert usd_per_hour(no_cache, SONNET_PRICE) == pytest.approx(3.6)


def test_usd_per_hour_is_none_without_a_complete_period() -> None:
    assert usd_per_hour({}, SONNET_PRICE) is None


def test_the_monitors_own_cost() -> None:
    assert DEFAULT_API_USD_PER_1000 == 0.01
    assert api_cost_usd(1000) == pytest.approx(0.01)
    assert api_cost_usd(0) == 0.0
    assert api_cost_usd(1000, usd_per_1000=0.012) == pytest.approx(0.012)
    # DESIGN.md: 60 metrics every 30 s costs about USD 1.7 a day.
    assert api_usd_per_hour(60, 30) * 24 == pytest.approx(1.728)


# --- the bundled table ----------------------------------------------------------------------


def test_bundled_table_is_valid_and_dated() -> None:
    doc = load_bundled()
    assert "copied by hand" in doc.source
    assert "bedrock-top prices --refresh" in doc.source
    datetime.fromisoformat(doc.as_of)
    assert len(doc.entries) >= 50
    raw = json.loads((Path(__file__).parents[1] / "src/bedrock_top/prices.json").read_text())
    for key, entry in raw["models"].items():
        assert set(PRICE_FIELDS) <= set(entry), key  # null is explicit, never implied
        for name in PRICE_FIELDS:
            value = entry[name]
            assert value is None or (isinstance(value, int | float) and value >= 0), key
        assert entry["input"] is not None
        assert entry["output"] is not None
        assert parse_model_id(key).profile is None, f"{key}: keys carry no profile prefix"


def test_bundled_keys_do_not_collide_after_normalisation() -> None:
    owners: dict[str, set[str]] = {}
    for entry in load_bundled().entries.values():
        for name in (entry.key, *entry.aliases):
            owners.setdefault(model_key(name), set()).add(entry.key)
    assert {k: v for k, v in owners.items() if len(v) > 1} == {}


@pytest.mark.parametrize(
    "model_id",
    [
        "anthropic.claude-3-haiku-20240307-v1:0",
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        "anthropic.claude-3-5-sonnet-20240620-v1:0",
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        "anthropic.claude-3-7-sonnet-20250219-v1:0",
        SONNET4,
        SONNET45,
        "anthropic.claude-opus-4-20250514-v1:0",
        "anthropic.claude-opus-4-1-20250805-v1:0",
        "anthropic.claude-haiku-4-5-20251001-v1:0",
        "amazon.nova-micro-v1:0",
        "amazon.nova-lite-v1:0",
        "amazon.nova-pro-v1:0",
        "amazon.nova-premier-v1:0",
        "amazon.titan-text-express-v1",
        "amazon.titan-embed-text-v2:0",
        "meta.llama3-1-70b-instruct-v1:0",
        "meta.llama3-3-70b-instruct-v1:0",
        "meta.llama4-scout-17b-instruct-v1:0",
        "meta.llama4-maverick-17b-instruct-v1:0",
        "mistral.mistral-large-2407-v1:0",
        "mistral.mistral-small-2402-v1:0",
        "mistral.mixtral-8x7b-instruct-v0:1",
        "mistral.pixtral-large-2502-v1:0",
        "cohere.command-r-v1:0",
        "cohere.command-r-plus-v1:0",
        "cohere.embed-english-v3",
        "ai21.jamba-1-5-large-v1:0",
        "deepseek.r1-v1:0",
        "deepseek.v3-v1:0",
    ],
)
def test_bundled_table_covers_the_common_models(table: PriceTable, model_id: str) -> None:
    assert table.lookup(f"us.{model_id}") is not None


def test_cache_reads_are_priced_below_input() -> None:
    for entry in load_bundled().entries.values():
        if entry.cache_read is not None:
            assert entry.cache_read < entry.input, entry.key
