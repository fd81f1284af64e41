"""``bedrock-top prices --refresh``: current on-demand prices from the AWS Price List API.

Read-only: ``pricing:GetProducts`` only (the Price List API itself is free). Bedrock prices
live under two service codes whose products are shaped differently:

- ``AmazonBedrock`` (Amazon, Meta, Mistral, DeepSeek, ... models): the model is the ``model``
  attribute ("Nova Pro", "Llama 3.1 405B"), the kind of price is ``inferenceType`` ("Input
  tokens", "Output tokens", "Prompt cache read input tokens", "input tokens batch"), the tier
  is in ``usagetype`` ("USE1-NovaPro-input-tokens", "...-cross-region-global"), and prices
  are per 1K tokens.
- ``AmazonBedrockFoundationModels`` (marketplace models: Anthropic, Cohere, AI21, ...): the
  model is ``servicename`` ("Claude Sonnet 4.5 (Amazon Bedrock Edition)"); kind and tier are
  in ``usagetype`` ("USE1-MP:USE1_InputTokenCount_Global-Units",
  "USE1-MP:USE1_cache_read_tokens_standard-Units"); prices are per 1M tokens.

Products are matched to the bundled table by exact (normalised) name, from each entry's
``name`` and ``price_list_names``: a near miss is reported as unmatched, never guessed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from bedrock_top.figures.pricing import (
    PER_MILLION,
    PRICE_FIELDS,
    PriceDocument,
    PriceEntry,
    load_bundled,
)

BEDROCK: Final = "AmazonBedrock"
FOUNDATION_MODELS: Final = "AmazonBedrockFoundationModels"
SERVICE_CODES: Final = (BEDROCK, FOUNDATION_MODELS)
PRICE_LIST_SOURCE: Final = "AWS Price List API"
PRICING_API_REGION: Final = "us-east-1"  # the Price List API endpoint (also in ap-south-1)
MAX_PAGES: Final = 500  # per service code; a guard against a NextToken that never ends

# Tiers and units we do not price: batch/flex/priority/latency-optimised tiers, provisioned
# throughput, custom models, 1-hour cache writes, cache storage, non-text modalities, rerank.
_SKIP = (
    "batch", "flex", "priority", "latency", "provisioned", "reserved", "commit", "custom",
    "1h", "storage", "image", "video", "audio", "speech", "search", "rerank",
)  # fmt: skip
_EDITION = re.compile(r"\s*\(Amazon Bedrock( Edition)?\)\s*$", re.IGNORECASE)


class PricingClient(Protocol):
    def get_products(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Sku:
    """One on-demand token price: product name, kind (input/output/cache_*), tier."""

    name: str
    kind: str
    tier: str  # "global" (global cross-region profile) or "regional" (in-region, us./eu./...)
    usd_per_million: float


@dataclass(frozen=True, slots=True)
class RefreshReport:
    """What a refresh did: which bundled models it priced and what it could not map."""

    cache_path: Path
    written: bool
    as_of: str
    requests: int
    products: int
    matched: tuple[str, ...]  # model ids (bundled keys) with a refreshed price
    unmatched: tuple[str, ...]  # "<service code>: <product name>" mapped to no model
    missing: tuple[str, ...]  # bundled model ids the API gave no usable price for
    changed: tuple[str, ...] = ()  # "<model>: input 3 -> 3.3" against the bundled table
    warnings: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        head = "wrote" if self.written else "did not write (no price matched)"
        out = [
            f"{head} {self.cache_path}: {len(self.matched)} models priced from "
            f"{self.products} products in {self.requests} GetProducts calls",
        ]
        for title, items in (
            ("changed against the bundled table", self.changed),
            ("products not mapped to a model", self.unmatched),
            ("bundled models without a refreshed price (bundled price kept)", self.missing),
            ("warnings", self.warnings),
        ):
            if items:
                out.append(f"{title} ({len(items)}):")
                out.extend(f"  {item}" for item in items)
        return out


def make_pricing_client(session: Any = None) -> Any:
    """A Price List API client (its endpoint lives in us-east-1 whatever the user's region)."""
    import boto3

    from bedrock_top.services.aws import CLIENT_CONFIG

    session = session or boto3.session.Session()
    return session.client("pricing", region_name=PRICING_API_REGION, config=CLIENT_CONFIG)


def fetch_products(client: PricingClient, service_code: str, region: str) -> tuple[list[Any], int]:
    """Every PriceList item of one service code in one region (following NextToken), and
    the number of GetProducts calls it took."""
    kwargs: dict[str, Any] = {
        "ServiceCode": service_code,
        "Filters": [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}],
        "FormatVersion": "aws_v1",
        "MaxResults": 100,
    }
    items: list[Any] = []
    calls = 0
    while calls < MAX_PAGES:
        page = client.get_products(**kwargs)
        calls += 1
        items.extend(page.get("PriceList", []))
        if not page.get("NextToken"):
            break
        kwargs["NextToken"] = page["NextToken"]
    return items, calls


def _flat(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower())


def _kind(text: str) -> str | None:
    """input/output/cache_read/cache_write, or None for a SKU we do not price."""
    flat = _flat(text)
    if any(word in flat for word in _SKIP):
        return None
    for marker, kind in (
        ("cacheread", "cache_read"),
        ("cachewrite", "cache_write"),
        ("inputtoken", "input"),
        ("outputtoken", "output"),
        ("responsetoken", "output"),
    ):
        if marker in flat:
            return kind
    return None


def _per_million(usd: float, unit: str, service_code: str) -> float | None:
    u = unit.lower().replace(",", "").strip()
    if re.search(r"\b1m\b|million|1000000", u):
        return usd
    if re.search(r"\b1k\b|thousand|\b1000\b", u):
        return usd * 1000
    if u in ("token", "tokens"):
        return usd * PER_MILLION
    if u in ("", "unit", "units"):  # unitless: each service code's documented default
        return usd * 1000 if service_code == BEDROCK else usd
    return None


def parse_product(item: str | Mapping[str, Any], service_code: str) -> tuple[str, Sku | None]:
    """(product name, the on-demand token price it carries or None if it is another SKU)."""
    product = json.loads(item) if isinstance(item, str) else item
    attrs: Mapping[str, str] = product.get("product", {}).get("attributes", {})
    usagetype = attrs.get("usagetype", "")
    if service_code == FOUNDATION_MODELS:
        name = attrs.get("servicename", "")
        text = usagetype.split(":", 1)[-1].split("_", 1)[-1]  # "InputTokenCount_Global-Units"
        kind = _kind(text)
    else:
        name = attrs.get("model") or attrs.get("titanModel") or ""
        # The kind is in inferenceType; the tier in the usagetype after the model slug
        # ("USE1-NovaPro-input-tokens-cross-region-global"), so the slug cannot trip _SKIP.
        inference = attrs.get("inferenceType") or usagetype.split("-", 1)[-1]
        at = usagetype.lower().find("token")
        text = f"{inference} {usagetype[at:] if at >= 0 else ''}"
        kind = _kind(inference) if _kind(text) else None
    name = _EDITION.sub("", name).strip()
    if kind is None:
        return name, None
    tier = "global" if "global" in text.lower() else "regional"
    for term in product.get("terms", {}).get("OnDemand", {}).values():
        for dim in term.get("priceDimensions", {}).values():
            try:
                usd = float(dim["pricePerUnit"]["USD"])
            except (KeyError, TypeError, ValueError):
                continue
            per_million = _per_million(usd, str(dim.get("unit", "")), service_code)
            if per_million is not None:
                return name, Sku(name, kind, tier, round(per_million, 9))
    return name, None


def name_key(name: str) -> str:
    """Names compared without case, spaces or punctuation ("Command R+" != "Command R")."""
    return re.sub(r"[^a-z0-9]", "", _EDITION.sub("", name).lower().replace("+", "plus"))


def name_index(bundled: PriceDocument) -> dict[str, str]:
    """Normalised product name -> bundled model key; a name claimed twice is an error."""
    index: dict[str, str] = {}
    for key, entry in bundled.entries.items():
        for name in (entry.name, *entry.price_list_names):
            previous = index.setdefault(name_key(name), key)
            if previous != key:
                raise ValueError(f"price list name {name!r} is claimed by {previous} and {key}")
    return index


def build_entry(base: PriceEntry, slots: Mapping[tuple[str, str], float]) -> PriceEntry | None:
    """A refreshed entry: global-tier prices with the regional premium as a multiplier.

    Without an input price (or an output price, unless the model has none) there is no
    entry. Cache prices the API does not list are kept from the bundled entry.
    """
    tier = "global" if ("input", "global") in slots else "regional"
    values = {f: slots.get((f, tier)) for f in PRICE_FIELDS}
    if values["input"] is None:
        return None
    if values["output"] is None:
        if base.output:
            return None
        values["output"] = 0.0
    multipliers: dict[str, float] = {}
    regional = slots.get(("input", "regional"))
    if tier == "global" and regional is not None and values["input"]:
        ratio = round(regional / values["input"], 4)
        if ratio != 1.0:
            multipliers = {"global": 1.0, "*": ratio}
    return PriceEntry(
        key=base.key,
        name=base.name,
        input=values["input"] or 0.0,
        output=values["output"] or 0.0,
        cache_read=base.cache_read if values["cache_read"] is None else values["cache_read"],
        cache_write=base.cache_write if values["cache_write"] is None else values["cache_write"],
        multipliers=multipliers,
        aliases=base.aliases,
    )


def entry_json(entry: PriceEntry) -> dict[str, Any]:
    """An entry in the schema of prices.json (multipliers written inline)."""
    out: dict[str, Any] = {"name": entry.name, **{f: getattr(entry, f) for f in PRICE_FIELDS}}
    if entry.multipliers:
        out["profile_multipliers"] = dict(entry.multipliers)
    if entry.aliases:
        out["aliases"] = list(entry.aliases)
    return out


def _changes(old: PriceEntry, new: PriceEntry) -> list[str]:
    out = [
        f"{old.key}: {f} {getattr(old, f)} -> {getattr(new, f)}"
        for f in PRICE_FIELDS
        if getattr(old, f) != getattr(new, f)
    ]
    if dict(old.multipliers) != dict(new.multipliers):
        out.append(f"{old.key}: profile multipliers {old.multipliers} -> {new.multipliers}")
    return out


def refresh_prices(
    pricing_client: PricingClient,
    cache_path: Path,
    *,
    region: str = "us-east-1",
    bundled: PriceDocument | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RefreshReport:
    """Fetch on-demand prices for ``region``, write the cache file, report what matched."""
    bundled = bundled or load_bundled()
    names = name_index(bundled)
    requests = products = 0
    slots: dict[str, dict[tuple[str, str], float]] = {}
    unmatched: set[str] = set()
    warnings: list[str] = []
    for code in SERVICE_CODES:
        items, calls = fetch_products(pricing_client, code, region)
        requests += calls
        products += len(items)
        for item in items:
            try:
                name, sku = parse_product(item, code)
            except (ValueError, AttributeError, TypeError) as exc:
                warnings.append(f"{code}: unreadable product ({exc})")
                continue
            if sku is None:
                continue
            key = names.get(name_key(name))
            if key is None:
                unmatched.add(f"{code}: {name or '(no name)'}")
                continue
            slot, known = (sku.kind, sku.tier), slots.setdefault(key, {})
            if slot in known and known[slot] != sku.usd_per_million:
                warnings.append(f"{key}: two {sku.tier} {sku.kind} prices, kept {known[slot]}")
            known.setdefault(slot, sku.usd_per_million)

    entries: dict[str, PriceEntry] = {}
    for key, model_slots in slots.items():
        entry = build_entry(bundled.entries[key], model_slots)
        if entry is not None:
            entries[key] = entry
    as_of = now().isoformat(timespec="seconds")
    if entries:
        doc = {
            "schema": 1,
            "source": PRICE_LIST_SOURCE,
            "as_of": as_of,
            "region": region,
            "currency": "USD",
            "unit": "USD per 1,000,000 tokens",
            "models": {key: entry_json(entries[key]) for key in sorted(entries)},
        }
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_name(cache_path.name + ".tmp")
        tmp.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        tmp.replace(cache_path)
    return RefreshReport(
        cache_path=cache_path,
        written=bool(entries),
        as_of=as_of,
        requests=requests,
        products=products,
        matched=tuple(sorted(entries)),
        unmatched=tuple(sorted(unmatched)),
        missing=tuple(sorted(set(bundled.entries) - set(entries))),
        changed=tuple(c for k in sorted(entries) for c in _changes(bundled.entries[k], entries[k])),
        warnings=tuple(warnings),
    )
