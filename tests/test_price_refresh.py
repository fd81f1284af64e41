"""``prices --refresh`` against a real boto3 Price List client under ``botocore.stub.Stubber``.

The PriceList items mirror the two real shapes: ``AmazonBedrock`` products carry ``model``
and ``inferenceType`` and are priced per 1K tokens; ``AmazonBedrockFoundationModels``
products carry ``servicename`` and encode kind and tier in ``usagetype``, priced per 1M.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from bedrock_top.figures.pricing import (
    SOURCE_BUNDLED,
    SOURCE_CACHED,
    Price,
    PriceTable,
    load_bundled,
    parse_document,
)
from bedrock_top.services.price_refresh import (
    BEDROCK,
    FOUNDATION_MODELS,
    PRICE_LIST_SOURCE,
    Sku,
    name_index,
    parse_product,
    refresh_prices,
)

NOW = datetime(2026, 11, 27, 20, 0, tzinfo=UTC)
SONNET45 = "anthropic.claude-sonnet-4-5-20250929-v1:0"
HAIKU45 = "anthropic.claude-haiku-4-5-20251001-v1:0"
HAIKU3 = "anthropic.claude-3-haiku-20240307-v1:0"
NOVA_PRO = "amazon.nova-pro-v1:0"
LLAMA405 = "meta.llama3-1-405b-instruct-v1:0"
TITAN_V2 = "amazon.titan-embed-text-v2:0"

_sku_counter = iter(range(1, 10_000))


def _terms(sku: str, usd: str, unit: str, description: str) -> dict[str, Any]:
    term = f"{sku}.JRTCKXETXF"
    return {
        "OnDemand": {
            term: {
                "offerTermCode": "JRTCKXETXF",
                "sku": sku,
                "effectiveDate": "2026-11-01T00:00:00Z",
                "termAttributes": {},
                "priceDimensions": {
                    f"{term}.6YS6EN2CT7": {
                        "rateCode": f"{term}.6YS6EN2CT7",
                        "description": description,
                        "beginRange": "0",
                        "endRange": "Inf",
                        "unit": unit,
                        "appliesTo": [],
                        "pricePerUnit": {"USD": usd},
                    }
                },
            }
        }
    }


def bedrock_item(
    model: str, inference_type: str, usagetype: str, usd: str, unit: str = "1K tokens"
) -> str:
    """An ``AmazonBedrock`` PriceList item (a JSON string, as GetProducts returns it)."""
    sku = f"AB{next(_sku_counter):06d}"
    attributes = {
        "servicecode": BEDROCK,
        "servicename": "Amazon Bedrock",
        "location": "US East (N. Virginia)",
        "locationType": "AWS Region",
        "regionCode": "us-east-1",
        "usagetype": usagetype,
        "operation": "Usage",
        "model": model,
        "inferenceType": inference_type,
        "feature": "On-demand Inference",
    }
    product = {"productFamily": "Amazon Bedrock", "attributes": attributes, "sku": sku}
    doc = {
        "product": product,
        "serviceCode": BEDROCK,
        "terms": _terms(sku, usd, unit, f"USD {usd} per {unit} for {model} {inference_type}"),
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    }
    return json.dumps(doc)


def fm_item(servicename: str, usage: str, usd: str, unit: str = "1M tokens") -> str:
    """An ``AmazonBedrockFoundationModels`` PriceList item; ``usage`` follows 'USE1_'."""
    sku = f"FM{next(_sku_counter):06d}"
    attributes = {
        "servicecode": FOUNDATION_MODELS,
        "servicename": f"{servicename} (Amazon Bedrock Edition)",
        "location": "US East (N. Virginia)",
        "locationType": "AWS Region",
        "regionCode": "us-east-1",
        "usagetype": f"USE1-MP:USE1_{usage}",
        "operation": "Usage",
    }
    product = {"productFamily": "Machine Learning Service", "attributes": attributes, "sku": sku}
    doc = {
        "product": product,
        "serviceCode": FOUNDATION_MODELS,
        "terms": _terms(sku, usd, unit, f"{servicename} {usage}"),
        "version": "20261101000000",
        "publicationDate": "2026-11-01T00:00:00Z",
    }
    return json.dumps(doc)


BEDROCK_PAGES = [
    [
        bedrock_item("Nova Pro", "Input tokens", "USE1-NovaPro-input-tokens", "0.0008000000"),
        bedrock_item("Nova Pro", "Output tokens", "USE1-NovaPro-output-tokens", "0.0032000000"),
        bedrock_item(
            "Nova Pro",
            "Prompt cache read input tokens",
            "USE1-NovaPro-cache-read-input-token-count",
            "0.0002000000",
        ),
        bedrock_item("Nova Pro", "input tokens batch", "USE1-NovaPro-input-tokens-batch", "0.0004"),
        bedrock_item(
            "Nova Pro",
            "Prompt cache write input tokens",
            "USE1-NovaPro-cache-write-input-token-count-custom-model",
            "0.0000000000",
        ),
    ],
    [
        bedrock_item("Llama 3.1 405B", "Input tokens", "USE1-Llama3-1-405B-input-tokens", "0.0024"),
        bedrock_item(
            "Llama 3.1 405B", "Output tokens", "USE1-Llama3-1-405B-output-tokens", "0.0024"
        ),
        bedrock_item(
            "Titan Text Embeddings V2", "Input tokens", "USE1-TitanEmbedTextV2-input-tokens", "2E-5"
        ),
        bedrock_item("Nova Canvas", "Images", "USE1-NovaCanvas-T2I-1024-Standard", "0.04", "image"),
        bedrock_item("Nova Ultra", "Input tokens", "USE1-NovaUltra-input-tokens", "0.005"),
    ],
]

FM_PAGES = [
    [
        fm_item("Claude Sonnet 4.5", "InputTokenCount-Units", "3.3000000000"),
        fm_item("Claude Sonnet 4.5", "OutputTokenCount-Units", "16.5000000000"),
        fm_item("Claude Sonnet 4.5", "InputTokenCount_Global-Units", "3.0000000000"),
        fm_item("Claude Sonnet 4.5", "OutputTokenCount_Global-Units", "15.0000000000"),
        fm_item("Claude Sonnet 4.5", "CacheReadInputTokenCount_Global-Units", "0.3000000000"),
        fm_item("Claude Sonnet 4.5", "CacheWriteInputTokenCount_Global-Units", "3.7500000000"),
        fm_item("Claude Sonnet 4.5", "CacheWrite1hInputTokenCount_Global-Units", "6.0000000000"),
        fm_item("Claude Sonnet 4.5", "InputTokenCount_Global_Batch-Units", "1.5000000000"),
    ],
    [
        fm_item("Claude 3 Haiku", "InputTokenCount-Units", "0.3000000000"),  # changed: was 0.25
        fm_item("Claude 3 Haiku", "OutputTokenCount-Units", "1.2500000000"),
        fm_item("Claude Haiku 4.5", "input_tokens_standard-Units", "1.1000000000"),
        fm_item("Claude Haiku 4.5", "output_tokens_standard-Units", "5.5000000000"),
        fm_item("Claude Haiku 4.5", "input_tokens_global_standard-Units", "1.0000000000"),
        fm_item("Claude Haiku 4.5", "output_tokens_global_standard-Units", "5.0000000000"),
        fm_item("Claude Haiku 4.5", "cache_read_tokens_global_standard-Units", "0.1000000000"),
        fm_item("Claude Haiku 4.5", "ProvisionedThroughput_1MonthCommit-Units", "49.8", "hours"),
        fm_item("Claude Fable 5", "input_tokens_global_standard-Units", "10.0000000000"),
    ],
]


def params(service_code: str, token: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "ServiceCode": service_code,
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": "us-east-1"}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    if token:
        out["NextToken"] = token
    return out


def add_pages(stubber: Stubber, service_code: str, pages: list[list[str]]) -> None:
    for i, items in enumerate(pages):
        response: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": items}
        if i + 1 < len(pages):
            response["NextToken"] = f"{service_code}-page-{i + 2}"
        token = f"{service_code}-page-{i + 1}" if i else None
        stubber.add_response("get_products", response, params(service_code, token))


@pytest.fixture
def pricing() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        aws_session_token="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber


def test_refresh_pages_both_service_codes_and_writes_the_cache(
    pricing: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = pricing
    add_pages(stubber, BEDROCK, BEDROCK_PAGES)
    add_pages(stubber, FOUNDATION_MODELS, FM_PAGES)
    cache = tmp_path / "cache" / "bedrock-top" / "prices.json"

    report = refresh_prices(client, cache, now=lambda: NOW)

    stubber.assert_no_pending_responses()
    assert report.requests == 4
    assert report.products == sum(len(p) for p in BEDROCK_PAGES + FM_PAGES)
    assert report.written
    assert set(report.matched) == {SONNET45, HAIKU45, HAIKU3, NOVA_PRO, LLAMA405, TITAN_V2}
    assert report.unmatched == (
        "AmazonBedrock: Nova Ultra",
        "AmazonBedrockFoundationModels: Claude Fable 5",
    )
    bundled = load_bundled()
    assert set(report.missing) == set(bundled.entries) - set(report.matched)
    assert "anthropic.claude-3-opus-20240229-v1:0" in report.missing
    assert f"{HAIKU3}: input 0.25 -> 0.3" in report.changed
    assert report.warnings == ()
    text = "\n".join(report.lines())
    assert f"6 models priced from {report.products} products in 4 GetProducts calls" in text
    assert "Claude Fable 5" in text

    doc = parse_document(json.loads(cache.read_text()), str(cache))  # same schema as bundled
    assert doc.source == PRICE_LIST_SOURCE
    assert doc.as_of == "2026-11-27T20:00:00+00:00"
    sonnet = doc.entries[SONNET45]
    assert (sonnet.input, sonnet.output, sonnet.cache_read, sonnet.cache_write) == (
        3.0,
        15.0,
        0.3,
        3.75,
    )
    assert dict(sonnet.multipliers) == {"global": 1.0, "*": 1.1}
    assert dict(doc.entries[HAIKU3].multipliers) == {}  # one regional price only
    assert not list(cache.parent.glob("*.tmp"))


def test_refreshed_cache_is_used_by_the_price_table(
    pricing: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = pricing
    add_pages(stubber, BEDROCK, BEDROCK_PAGES)
    add_pages(stubber, FOUNDATION_MODELS, FM_PAGES)
    cache = tmp_path / "prices.json"
    refresh_prices(client, cache, now=lambda: NOW)

    table = PriceTable.load(cache_path=cache)
    assert table.warnings == ()
    assert table.as_of[SOURCE_CACHED] == "2026-11-27T20:00:00+00:00"
    assert table.lookup(f"us.{SONNET45}") == Price(3.3, 16.5, 0.33, 4.125, SOURCE_CACHED, SONNET45)
    assert table.lookup(f"global.{SONNET45}") == Price(
        3.0, 15.0, 0.3, 3.75, SOURCE_CACHED, SONNET45
    )
    # Haiku 4.5: cache read from the API; cache write not listed, kept from the bundled table.
    assert table.lookup(f"global.{HAIKU45}") == Price(1.0, 5.0, 0.1, 1.25, SOURCE_CACHED, HAIKU45)
    assert table.lookup(f"eu.{HAIKU3}") == Price(0.3, 1.25, None, None, SOURCE_CACHED, HAIKU3)
    # 1K-token prices converted to per-million; an embedding model without output price.
    assert table.lookup(f"us.{NOVA_PRO}") == Price(0.8, 3.2, 0.2, 0.8, SOURCE_CACHED, NOVA_PRO)
    assert table.lookup(LLAMA405) == Price(2.4, 2.4, None, None, SOURCE_CACHED, LLAMA405)
    assert table.lookup(TITAN_V2) == Price(0.02, 0.0, None, None, SOURCE_CACHED, TITAN_V2)
    opus3 = table.lookup("anthropic.claude-3-opus-20240229-v1:0")
    assert opus3 is not None
    assert opus3.source == SOURCE_BUNDLED


def test_nothing_matched_leaves_an_existing_cache_alone(
    pricing: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = pricing
    add_pages(stubber, BEDROCK, [[bedrock_item("Nova Ultra", "Input tokens", "x-tokens", "1")]])
    add_pages(stubber, FOUNDATION_MODELS, [[]])
    cache = tmp_path / "prices.json"
    cache.write_text("previous")

    report = refresh_prices(client, cache, now=lambda: NOW)

    assert not report.written
    assert report.matched == ()
    assert report.unmatched == ("AmazonBedrock: Nova Ultra",)
    assert cache.read_text() == "previous"
    assert report.lines()[0].startswith("did not write")


def test_api_errors_propagate_and_write_nothing(
    pricing: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = pricing
    stubber.add_client_error("get_products", "AccessDeniedException", "no pricing:GetProducts")
    cache = tmp_path / "prices.json"
    with pytest.raises(ClientError, match="AccessDenied"):
        refresh_prices(client, cache, now=lambda: NOW)
    assert not cache.exists()


@pytest.mark.parametrize(
    ("unit", "usd", "service_code", "expected"),
    [
        ("1K tokens", "0.003", BEDROCK, 3.0),
        ("1M tokens", "3.0", FOUNDATION_MODELS, 3.0),
        ("1000000 Tokens", "3.0", FOUNDATION_MODELS, 3.0),
        ("1000 Tokens", "0.003", BEDROCK, 3.0),
        ("Units", "3.0", FOUNDATION_MODELS, 3.0),  # unitless: each service code's default
        ("Units", "0.003", BEDROCK, 3.0),
        ("tokens", "0.000003", FOUNDATION_MODELS, 3.0),
    ],
)
def test_units_are_converted_to_usd_per_million(
    unit: str, usd: str, service_code: str, expected: float
) -> None:
    if service_code == BEDROCK:
        item = bedrock_item("Nova Pro", "Input tokens", "USE1-NovaPro-input-tokens", usd, unit)
    else:
        item = fm_item("Claude 3 Haiku", "InputTokenCount-Units", usd, unit)
    _, sku = parse_product(item, service_code)
    assert sku is not None
    assert sku.usd_per_million == pytest.approx(expected)


def test_an_unknown_unit_is_not_guessed() -> None:
    _, sku = parse_product(
        fm_item("Claude 3 Haiku", "InputTokenCount-Units", "1", "hours"), FOUNDATION_MODELS
    )
    assert sku is None


@pytest.mark.parametrize(
    ("usage", "expected"),
    [
        ("InputTokenCount-Units", ("input", "regional")),
        ("InputTokenCount_Global-Units", ("input", "global")),
        ("OutputTokenCount-Units", ("output", "regional")),
        ("input_tokens_global_standard-Units", ("input", "global")),
        ("output_tokens_standard-Units", ("output", "regional")),
        ("CacheReadInputTokenCount-Units", ("cache_read", "regional")),
        ("cache_read_tokens_global_standard-Units", ("cache_read", "global")),
        ("CacheWriteInputTokenCount_Global-Units", ("cache_write", "global")),
        ("cache_write_tokens_standard-Units", ("cache_write", "regional")),
        ("CacheWrite1hInputTokenCount-Units", None),
        ("cache_write_tokens_1h_standard-Units", None),
        ("InputTokenCount_Batch-Units", None),
        ("input_tokens_global_batch-Units", None),
        ("InputTokenCount_LatencyOptimized-Units", None),
        ("input_tokens_priority-Units", None),
        ("CacheStorage-Units", None),
        ("search_units-Units", None),
        ("created_image-Units", None),
    ],
)
def test_foundation_model_usagetypes(usage: str, expected: tuple[str, str] | None) -> None:
    name, sku = parse_product(fm_item("Claude Sonnet 4.5", usage, "1.0"), FOUNDATION_MODELS)
    assert name == "Claude Sonnet 4.5"
    assert (None if sku is None else (sku.kind, sku.tier)) == expected


@pytest.mark.parametrize(
    ("inference_type", "usagetype", "expected"),
    [
        ("Input tokens", "USE1-NovaPro-input-tokens", ("input", "regional")),
        ("Output tokens", "USE1-NovaPro-output-tokens", ("output", "regional")),
        ("Input tokens", "USE1-Nova2.0Lite-input-tokens-cross-region-global", ("input", "global")),
        ("Text Input Token", "USE1-Nova2.0Pro-text-input-tokens", ("input", "regional")),
        ("Prompt cache read input tokens", "USE1-NovaPro-cache-read-input-token-count",
         ("cache_read", "regional")),
        ("input tokens batch", "USE1-NovaPro-input-tokens-batch", None),
        ("Input tokens flex", "USE1-NovaPro-input-tokens-flex", None),
        ("Input tokens", "USE1-Nova2.0Lite-input-tokens-cross-region-global-batch", None),
        ("Input Image Token Count", "USE1-Nova2.0Pro-input-image-token-count", None),
        ("Prompt cache write input tokens",
         "USE1-NovaPro-cache-write-input-token-count-custom-model", None),
        ("Search units", "USE1-cohere.rerank-v3-5-search-units", None),
    ],
)  # fmt: skip
def test_bedrock_inference_types(
    inference_type: str, usagetype: str, expected: tuple[str, str] | None
) -> None:
    _, sku = parse_product(bedrock_item("Nova Pro", inference_type, usagetype, "0.001"), BEDROCK)
    assert (None if sku is None else (sku.kind, sku.tier)) == expected


def test_a_model_slug_that_looks_like_a_skip_word_is_still_priced() -> None:
    # "Image" is in the model's slug, not in the kind of price.
    item = bedrock_item(
        "Titan Multimodal Embeddings G1",
        "Input tokens",
        "USE1-TitanEmbedImage-input-tokens",
        "0.0008",
    )
    assert parse_product(item, BEDROCK) == (
        "Titan Multimodal Embeddings G1",
        Sku("Titan Multimodal Embeddings G1", "input", "regional", 0.8),
    )


def test_bundled_price_list_names_are_unambiguous() -> None:
    index = name_index(load_bundled())
    assert index["claudesonnet45"] == SONNET45
    assert index["commandrplus"] == "cohere.command-r-plus-v1:0"
    assert index["commandr"] == "cohere.command-r-v1:0"


def test_two_prices_for_one_slot_keep_the_first_and_warn(
    pricing: tuple[Any, Stubber], tmp_path: Path
) -> None:
    client, stubber = pricing
    # Claude 3 Haiku listed under both service codes, with different input prices.
    add_pages(
        stubber,
        BEDROCK,
        [
            [
                bedrock_item(
                    "Claude 3 Haiku", "Input tokens", "USE1-Claude3Haiku-input-tokens", "0.00025"
                )
            ]
        ],
    )
    add_pages(
        stubber,
        FOUNDATION_MODELS,
        [
            [
                fm_item("Claude 3 Haiku", "InputTokenCount-Units", "0.26"),
                fm_item("Claude 3 Haiku", "OutputTokenCount-Units", "1.25"),
            ]
        ],
    )
    report = refresh_prices(client, tmp_path / "prices.json", now=lambda: NOW)
    assert report.matched == (HAIKU3,)
    assert report.warnings == (f"{HAIKU3}: two regional input prices, kept 0.25",)
    table = PriceTable.load(cache_path=tmp_path / "prices.json")
    assert table.lookup(HAIKU3) == Price(0.25, 1.25, None, None, SOURCE_CACHED, HAIKU3)


def test_prices_command_refreshes_then_shows_the_cached_prices(
    pricing: tuple[Any, Stubber],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """`bedrock-top prices --refresh` end to end (Stubber behind the real command), then
    `bedrock-top prices --format json` shows the refreshed prices as the winning source."""
    from bedrock_top.cli import main
    from bedrock_top.services import price_refresh

    client, stubber = pricing
    add_pages(stubber, BEDROCK, BEDROCK_PAGES)
    add_pages(stubber, FOUNDATION_MODELS, FM_PAGES)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # this test's own cache file
    monkeypatch.setattr(price_refresh, "make_pricing_client", lambda session=None: client)
    assert main(["prices", "--refresh"]) == 0
    out = capsys.readouterr().out
    assert "6 models priced" in out
    assert main(["prices", "--format", "json"]) == 0
    listed = {m["model_id"]: m for m in json.loads(capsys.readouterr().out)["models"]}
    assert listed[HAIKU3]["source"] == "cached"
    assert listed[HAIKU3]["input"] == 0.3
    assert listed["anthropic.claude-3-opus-20240229-v1:0"]["source"] == "bundled"


def test_prices_command_rejects_a_bad_format(capsys: pytest.CaptureFixture[str]) -> None:
    from bedrock_top.cli import main

    assert main(["prices", "--format", "xml"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--format" in err
