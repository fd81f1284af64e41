"""Token prices and cost estimates (pure: no network, no UI).

Prices come in three layers, highest precedence first: config overrides, the user cache file
written by ``bedrock-top prices --refresh``, and the table bundled with the package
(``prices.json``). All prices are USD per 1,000,000 tokens, the unit AWS lists them in, so
figures can be checked against the pricing page by eye; the cost functions divide by
``PER_MILLION``. A model without a known price gets ``None``: the UI shows "?", never 0.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final

import platformdirs

from bedrock_top.errors import ConfigError
from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.row_figures import CostOf, RowCost, WindowFigures

PER_MILLION: Final = 1_000_000
# GetMetricData has no free tier; the rate varies by region, hence configurable.
# USD per 1,000 metrics GetMetricData requests (varies by region; configurable)
DEFAULT_API_USD_PER_1000: Final = 0.01

SOURCE_CONFIG: Final = "config"
SOURCE_CACHED: Final = "cached"
SOURCE_BUNDLED: Final = "bundled"
IN_REGION: Final = "in-region"  # multiplier key for a plain model id (no profile prefix)
ANY_PROFILE: Final = "*"  # multiplier key for any profile not listed
PRICE_FIELDS: Final = ("input", "output", "cache_read", "cache_write")
_VERSION_SUFFIX = re.compile(r"(-\d{8})?-v\d+$|-\d{8}$")  # "-20250929-v1", "-v2", a bare date


@dataclass(frozen=True, slots=True)
class Price:
    """USD per 1,000,000 tokens for one ModelId, profile multiplier already applied.

    ``cache_read`` / ``cache_write`` are None for models without prompt caching. ``source``
    says which layer answered (bundled/cached/config); ``model`` is the table entry used.
    """

    input: float
    output: float
    cache_read: float | None
    cache_write: float | None
    source: str
    model: str = ""


@dataclass(frozen=True, slots=True)
class PriceEntry:
    """One validated model row of a price document (the schema is described in prices.json)."""

    key: str
    name: str
    input: float
    output: float
    cache_read: float | None = None
    cache_write: float | None = None
    multipliers: Mapping[str, float] = field(default_factory=dict)
    aliases: tuple[str, ...] = ()
    price_list_names: tuple[str, ...] = ()

    def multiplier(self, profile: str | None) -> float:
        return self.multipliers.get(profile or IN_REGION, self.multipliers.get(ANY_PROFILE, 1.0))

    def price(self, profile: str | None, source: str) -> Price:
        f = self.multiplier(profile)
        read, write = self.cache_read, self.cache_write
        return Price(  # rounded so 3.0 * 1.1 shows as 3.3, not 3.3000000000000003
            round(self.input * f, 9),
            round(self.output * f, 9),
            None if read is None else round(read * f, 9),
            None if write is None else round(write * f, 9),
            source,
            self.key,
        )


@dataclass(frozen=True, slots=True)
class PriceDocument:
    """A validated price file: the bundled table, or the cache file written by a refresh."""

    source: str
    as_of: str
    entries: Mapping[str, PriceEntry]
    multiplier_sets: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    region: str = "us-east-1"


# --- parsing and validation ---------------------------------------------------------------


def _number(raw: Mapping[str, Any], name: str, where: str, optional: bool) -> float | None:
    value = raw.get(name)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        raise ValueError(f"{where}.{name}: expected a number >= 0, got {value!r}")
    if not math.isfinite(value):
        raise ValueError(f"{where}.{name}: expected a finite number, got {value!r}")
    return float(value)


def _multipliers(raw: Any, where: str) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected a map of profile -> factor")
    out = {str(profile): _number(raw, profile, where, optional=False) or 0.0 for profile in raw}
    if not all(out.values()):
        raise ValueError(f"{where}: a profile factor must be > 0")
    return out


def _strings(raw: Any, where: str) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(s, str) and s for s in raw):
        raise ValueError(f"{where}: expected a list of strings")
    return tuple(raw)


def parse_entry(
    key: str, raw: Any, sets: Mapping[str, Mapping[str, float]], where: str
) -> PriceEntry:
    """Validate one model row; ``profile_multipliers`` may name a set or be inline."""
    where = f"{where}.{key}"
    if not isinstance(raw, Mapping):
        raise ValueError(f"{where}: expected an object")
    name = raw.get("name", key)
    if not isinstance(name, str):
        raise ValueError(f"{where}.name: expected a string")
    mult_raw = raw.get("profile_multipliers")
    if isinstance(mult_raw, str):
        if mult_raw not in sets:
            raise ValueError(f"{where}.profile_multipliers: unknown set {mult_raw!r}")
        multipliers = dict(sets[mult_raw])
    else:
        multipliers = {} if mult_raw is None else _multipliers(mult_raw, where)
    return PriceEntry(
        key=key,
        name=name,
        input=_number(raw, "input", where, optional=False) or 0.0,
        output=_number(raw, "output", where, optional=False) or 0.0,
        cache_read=_number(raw, "cache_read", where, optional=True),
        cache_write=_number(raw, "cache_write", where, optional=True),
        multipliers=multipliers,
        aliases=_strings(raw.get("aliases"), f"{where}.aliases"),
        price_list_names=_strings(raw.get("price_list_names"), f"{where}.price_list_names"),
    )


def parse_document(data: Any, where: str) -> PriceDocument:
    """Validate a whole price file; raises ValueError naming the first bad field."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{where}: expected a JSON object")
    source, as_of = data.get("source"), data.get("as_of")
    if not isinstance(source, str) or not source.strip():
        raise ValueError(f"{where}.source: missing")
    if not isinstance(as_of, str):
        raise ValueError(f"{where}.as_of: missing")
    datetime.fromisoformat(as_of)  # a date or a timestamp; raises ValueError otherwise
    sets_raw = data.get("profile_multiplier_sets", {})
    if not isinstance(sets_raw, Mapping):
        raise ValueError(f"{where}.profile_multiplier_sets: expected an object")
    sets = {name: _multipliers(m, f"{where}.sets.{name}") for name, m in sets_raw.items()}
    models = data.get("models")
    if not isinstance(models, Mapping):
        raise ValueError(f"{where}.models: expected an object")
    entries = {k: parse_entry(k, v, sets, f"{where}.models") for k, v in models.items()}
    return PriceDocument(source, as_of, entries, sets, str(data.get("region", "us-east-1")))


def load_bundled() -> PriceDocument:
    """The table shipped in the package; a broken one is a packaging bug, so it raises."""
    text = resources.files("bedrock_top").joinpath("prices.json").read_text(encoding="utf-8")
    return parse_document(json.loads(text), "prices.json")


def read_cache(path: Path) -> tuple[PriceDocument | None, str | None]:
    """The refreshed table, or (None, warning) when it is unreadable: never a crash."""
    if not path.is_file():
        return None, None
    try:
        return parse_document(json.loads(path.read_text(encoding="utf-8")), str(path)), None
    except (OSError, ValueError) as exc:
        return None, f"ignoring the price cache {path}: {exc}"


def default_cache_path() -> Path:
    return platformdirs.user_cache_path("bedrock-top") / "prices.json"


# --- lookup ---------------------------------------------------------------------------------


def model_key(model_id: str) -> str:
    """The id a price is filed under: no profile prefix, nothing after the first ':'."""
    return parse_model_id(model_id.strip()).base_id.split(":", 1)[0].lower()


def _loose_key(key: str) -> str:
    return _VERSION_SUFFIX.sub("", key)


class PriceTable:
    """Maps a ModelId (any profile prefix, version or context suffix) to a ``Price``."""

    def __init__(
        self,
        layers: Sequence[tuple[str, Mapping[str, PriceEntry]]],
        aliases: Mapping[str, str] | None = None,
        exact: Mapping[str, PriceEntry] | None = None,
        warnings: Sequence[str] = (),
        as_of: Mapping[str, str] | None = None,
    ) -> None:
        """``layers``: (source, entries) in precedence order; ``exact``: config prices for a
        full ModelId incl. prefix (e.g. one ``us.`` profile only), checked before the layers."""
        self._layers: list[tuple[str, dict[str, PriceEntry]]] = []
        self._loose: dict[str, set[str]] = {}
        for source, entries in layers:
            index: dict[str, PriceEntry] = {}
            for key, entry in entries.items():
                for name in (key, *entry.aliases):
                    index[model_key(name)] = entry
            self._layers.append((source, index))
            for key in index:
                self._loose.setdefault(_loose_key(key), set()).add(key)
        self._exact = {k.lower(): e for k, e in (exact or {}).items()}
        self._aliases = dict(aliases or {})
        self.warnings = tuple(warnings)
        self.as_of = dict(as_of or {})

    @classmethod
    def load(
        cls,
        overrides: Mapping[str, Any] | None = None,
        aliases: Mapping[str, str] | None = None,
        cache_path: Path | None = None,
    ) -> PriceTable:
        """Config ``overrides`` > cache file (default: the user cache dir) > bundled table.

        ``overrides`` maps a model id to ``{"input": .., "output": .., "cache_read": ..,
        "cache_write": ..}`` (USD per 1M tokens); ``aliases`` maps an application inference
        profile id (or ARN) to the model id it invokes. Bad config raises ConfigError.
        """
        bundled = load_bundled()
        layers: list[tuple[str, Mapping[str, PriceEntry]]] = []
        exact: dict[str, PriceEntry] = {}
        if overrides:
            plain: dict[str, PriceEntry] = {}
            for key, raw in overrides.items():
                try:
                    entry = parse_entry(key, raw, bundled.multiplier_sets, "prices.overrides")
                except ValueError as exc:
                    raise ConfigError(str(exc)) from None
                info = parse_model_id(key)
                if info.profile is not None:
                    exact[key] = entry
                else:
                    plain[key] = entry
            layers.append((SOURCE_CONFIG, plain))
        for source, target in (aliases or {}).items():
            if not isinstance(source, str) or not isinstance(target, str) or not target:
                raise ConfigError(f"prices.aliases: {source!r} -> {target!r} is not id -> id")
        as_of = {SOURCE_BUNDLED: bundled.as_of}
        cached, warning = read_cache(cache_path if cache_path is not None else default_cache_path())
        if cached is not None:
            layers.append((SOURCE_CACHED, cached.entries))
            as_of[SOURCE_CACHED] = cached.as_of
        layers.append((SOURCE_BUNDLED, bundled.entries))
        return cls(layers, aliases, exact, [warning] if warning else [], as_of)

    def listing(self) -> list[tuple[str, str, Price]]:
        """(model id, name, winning price) for every model the table can price."""
        seen: dict[str, tuple[str, str, Price]] = {}
        for source, index in self._layers:
            for entry in index.values():
                if entry.key not in seen:
                    seen[entry.key] = (entry.key, entry.name, entry.price(None, source))
        return sorted(seen.values())

    def lookup(self, model_id: str) -> Price | None:
        """The price of one ModelId, or None when unknown (never a guess from a family)."""
        target = self._aliases.get(model_id, model_id)
        info = parse_model_id(target)
        if target == model_id and info.kind not in ("base", "inference-profile"):
            target = self._aliases.get(info.base_id, target)
            info = parse_model_id(target)
        if (entry := self._exact.get(target.lower())) is not None:
            return entry.price(info.profile, SOURCE_CONFIG)
        if info.kind not in ("base", "inference-profile"):
            return None  # an application profile without an alias in config
        key = self._resolve(model_key(target))
        for source, index in self._layers:
            if key is not None and (entry := index.get(key)) is not None:
                return entry.price(info.profile, source)
        return None

    def _resolve(self, key: str) -> str | None:
        """The key itself if any layer knows it, else the one entry that differs only by its
        date and -vN (Mantle ids carry neither: anthropic.claude-haiku-4-5)."""
        if any(key in index for _, index in self._layers):
            return key
        candidates = self._loose.get(_loose_key(key), set())
        return next(iter(candidates)) if len(candidates) == 1 else None


# --- cost figures ---------------------------------------------------------------------------


def token_cost(
    price: Price,
    input_tokens: float,
    output_tokens: float,
    cache_read_tokens: float = 0.0,
    cache_write_tokens: float = 0.0,
) -> float:
    """USD for these tokens. Cache tokens of a model whose cache price is null are charged at
    the input price: an estimate that errs high rather than showing those tokens as free."""
    read = price.input if price.cache_read is None else price.cache_read
    write = price.input if price.cache_write is None else price.cache_write
    usd = input_tokens * price.input + output_tokens * price.output
    return (usd + cache_read_tokens * read + cache_write_tokens * write) / PER_MILLION


def window_cost(figures: WindowFigures, price: Price) -> float:
    """Estimated USD over the window: input, output, cache-read and cache-write tokens."""
    return token_cost(
        price,
        figures.input_tokens,
        figures.output_tokens,
        figures.cache_read_tokens,
        figures.cache_write_tokens,
    )


def cache_savings(figures: WindowFigures, price: Price) -> float:
    """What cache reads saved against paying the full input price for the same tokens."""
    if price.cache_read is None:
        return 0.0
    return figures.cache_read_tokens * (price.input - price.cache_read) / PER_MILLION


def usd_per_hour(rates: Mapping[str, float | None], price: Price) -> float | None:
    """USD/hour at per-minute token rates (the recent span's: ``snapshot.RECENT_S``); None
    when no period is complete yet (no rates)."""
    if not rates:
        return None
    keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
    per_minute = [rates.get(key) or 0.0 for key in keys]
    return token_cost(price, *per_minute) * 60


def figures_cost(
    figures: WindowFigures, rates: Mapping[str, float | None], price: Price | None
) -> RowCost | None:
    """The money figures of a row from its window figures and recent per-minute token rates;
    None when its model has no known price."""
    if price is None:
        return None
    read = price.input if price.cache_read is None else price.cache_read
    write = price.input if price.cache_write is None else price.cache_write
    m = PER_MILLION
    return RowCost(
        window_cost(figures, price),
        usd_per_hour(rates, price),
        cache_savings(figures, price),
        (price.input / m, price.output / m, read / m, write / m),
    )


# --- the monitor's own cost -----------------------------------------------------------------


def api_cost_usd(metrics_requested: int, usd_per_1000: float = DEFAULT_API_USD_PER_1000) -> float:
    """USD that GetMetricData charges for this many metrics requested."""
    return metrics_requested * usd_per_1000 / 1000


def api_usd_per_hour(
    metrics_per_poll: int,
    interval_s: float,
    usd_per_1000: float = DEFAULT_API_USD_PER_1000,
) -> float:
    """What the current settings cost per hour if every poll requests ``metrics_per_poll``."""
    return api_cost_usd(metrics_per_poll, usd_per_1000) * 3600 / interval_s


def cost_function(prices: PriceTable) -> CostOf:
    """A row's money figures from this price table (``snapshot.CostOf``); each model id is
    looked up once (a snapshot asks for every row on every poll)."""
    found: dict[str, Price | None] = {}

    def cost_of(
        model_id: str, figures: WindowFigures, recent: Mapping[str, float | None]
    ) -> RowCost | None:
        if model_id not in found:
            found[model_id] = prices.lookup(model_id)
        return figures_cost(figures, recent, found[model_id])

    return cost_of


def token_prices(prices: PriceTable) -> Callable[[str], tuple[float, float, float, float] | None]:
    """USD per token of a model id for (input, output, cache read, cache write), cache at
    the input price where the model has none; None without a known price (never 0)."""

    def price_of(model_id: str) -> tuple[float, float, float, float] | None:
        price = prices.lookup(model_id)
        if price is None:
            return None
        per = 1e-6
        read = price.cache_read if price.cache_read is not None else price.input
        write = price.cache_write if price.cache_write is not None else price.input
        return price.input * per, price.output * per, read * per, write * per

    return price_of
