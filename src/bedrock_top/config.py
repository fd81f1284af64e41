"""Settings and the validation of every user-supplied value, before any network call.

Values arrive from defaults, the config file, the environment and flags (``settings_file``
reads and merges them); every one passes the same checks here. Errors are ``ConfigError`` with
a one-line message that names the option and where it came from; the CLI turns them into exit
code 2.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from bedrock_top.alert_config import BUILTIN_RULES, parse_alerts
from bedrock_top.errors import ConfigError
from bedrock_top.figures.alert_rules import AlertRule
from bedrock_top.figures.pricing import DEFAULT_API_USD_PER_1000
from bedrock_top.figures.retention import DAY, MAX_AGE_S, past_period
from bedrock_top.figures.spikes import DEFAULT_MIN_CHANGE, DEFAULT_RULES, SpikeRules
from bedrock_top.figures.surfaces import MODELS_VIEW, VIEW_NAMES
from bedrock_top.value_checks import compile_filter, parse_duration
from bedrock_top.views.columns import COLUMNS_BY_KEY, SORT_KEYS, SPARK_KEY, SPARK_METRICS, live_keys

WINDOW_CHOICES: Final = ("15m", "1h", "3h", "12h", "1d", "3d", "7d")
FORMATS: Final = ("table", "json", "csv")
MIN_WINDOW_S: Final = 5 * 60
MAX_WINDOW_S: Final = 7 * 86_400
MIN_INTERVAL_S: Final = 5
MAX_INTERVAL_S: Final = 600
DEFAULT_INTERVAL_S: Final = 60
DEFAULT_WINDOW: Final = "1h"
DEFAULT_COLUMNS: Final = live_keys(None)
PRICE_FIELDS: Final = ("input", "output", "cache_read", "cache_write")
MAX_PERIODS_PER_WINDOW: Final = 1440
# Periods offered automatically: each keeps a window at <= 240 points (readable sparklines,
# and 500 series x 240 points stays inside GetMetricData's 100,800-datapoint limit).
AUTO_PERIODS: Final = (60, 300, 600, 900, 1800, 3600, 7200, 21600, 86400)

_GROUP_BY = re.compile(r"^(caller|caller\+model|metadata\.[A-Za-z0-9_.:/@-]{1,256})$")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")


def parse_window(text: str, option: str = "--window") -> int:
    seconds = parse_duration(text, option, default_unit="m")
    if not MIN_WINDOW_S <= seconds <= MAX_WINDOW_S:
        raise ConfigError(f"{option}: {text!r} is out of range (5m to 7d)")
    if seconds % 60:
        raise ConfigError(f"{option}: {text!r} must be a whole number of minutes")
    return seconds


def auto_period(window_s: int) -> int:
    """The smallest period that keeps the window at <= 240 points and divides it evenly."""
    for period in AUTO_PERIODS:
        if window_s % period == 0 and window_s // period <= 240:
            return period
    return 60 * max(1, window_s // (240 * 60))


def check_period(period_s: int, window_s: int, option: str = "--period") -> int:
    if period_s <= 0 or period_s % 60:
        raise ConfigError(f"{option}: {period_s} must be a positive multiple of 60 seconds")
    if window_s % period_s:
        raise ConfigError(f"{option}: {period_s}s does not divide the window ({window_s}s) evenly")
    if window_s // period_s > MAX_PERIODS_PER_WINDOW:
        raise ConfigError(
            f"{option}: {period_s}s gives {window_s // period_s} points per window "
            f"(at most {MAX_PERIODS_PER_WINDOW}); use a larger period"
        )
    return period_s


def check_interval(seconds: int, option: str = "--interval") -> int:
    if not MIN_INTERVAL_S <= seconds <= MAX_INTERVAL_S:
        raise ConfigError(
            f"{option}: {seconds}s is out of range ({MIN_INTERVAL_S} to {MAX_INTERVAL_S} s)"
        )
    return seconds


def parse_regions(text: str | None, known: list[str], option: str = "--region") -> list[str]:
    """'us-east-1,eu-west-1' or 'all' (every region botocore knows for Bedrock runtime)."""
    if text is None:
        return []
    if text.strip() == "all":
        return list(known)
    regions = [r.strip() for r in text.split(",") if r.strip()]
    if not regions:
        raise ConfigError(f"{option}: no region given")
    for region in regions:
        if not _REGION.match(region):
            raise ConfigError(f"{option}: {region!r} is not a valid AWS region name")
    return list(dict.fromkeys(regions))


_AGO = re.compile(r"^\s*((?:\d+\s*[a-z]+\s*)+)ago\s*$", re.IGNORECASE)
_AGO_PART = re.compile(r"(\d+)\s*([a-z]+)", re.IGNORECASE)
_AGO_UNIT_S: Final = {
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3600),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
}


def parse_end(text: str, now: float, option: str = "--end") -> float | None:
    """When a past window ends, as epoch seconds; None for "now" (the live window).

    ISO 8601 with Z or an offset (no offset: UTC; a date alone: its midnight), or a time
    relative to ``now`` such as "2h ago", "90m ago", "1h30m ago", "3d ago".
    """
    spoken = text.strip()
    if spoken.lower() == "now":
        return None
    relative = _AGO.match(spoken)
    if relative:
        seconds = 0
        for number, unit in _AGO_PART.findall(relative.group(1)):
            if unit.lower() not in _AGO_UNIT_S:
                raise ConfigError(f"{option}: unknown unit {unit!r} in {text!r} (use d, h, m or s)")
            seconds += int(number) * _AGO_UNIT_S[unit.lower()]
        at = now - seconds
    else:
        try:
            moment = datetime.fromisoformat(spoken)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            at = moment.timestamp()
        except (ValueError, OverflowError):
            raise ConfigError(
                f"{option}: cannot read {text!r} as a time (ISO 8601 such as "
                '2025-01-31T12:00Z, or "2h ago")'
            ) from None
    if at > now:
        raise ConfigError(f"{option}: {text!r} is in the future (a window can end now at most)")
    if now - at > MAX_AGE_S:
        raise ConfigError(
            f"{option}: {text!r} is {int((now - at) // DAY)} days ago; CloudWatch keeps data "
            f"{MAX_AGE_S // DAY} days (15 months)"
        )
    return at


Key = tuple[str, ...]  # a setting's path in the config file: ("spikes", "k")


@dataclass(frozen=True, slots=True)
class Sourced:
    """One setting's raw value and where it came from, so errors and --print-config say so."""

    value: object
    source: str  # "default", the config file's path, an environment variable, or a flag
    label: str  # names it in errors: "--interval", "BEDROCK_TOP_INTERVAL=2", "interval = 2 in F"


def _alert_rules(values: Mapping[Key, Sourced]) -> tuple[AlertRule, ...]:
    """The built-ins changed or joined by the config file's ``[[alerts]]`` tables."""
    found = values.get(("alerts",))
    return parse_alerts(None if found is None else found.value, found.source if found else "")


@dataclass(frozen=True, slots=True)
class Settings:
    """Effective settings after defaults, config file, environment and command line."""

    demo: bool = False
    profile: str | None = None
    regions: tuple[str, ...] = ()
    endpoint_url: str | None = None
    window_s: int = 3600
    period_s: int = 60
    interval_s: int = DEFAULT_INTERVAL_S
    filter: str | None = None
    sort: str | None = None  # None: window invocations for --once, Inv/min in the TUI
    reverse: bool = False
    all_models: bool = False
    all_accounts: bool = False  # linked accounts of a cross-account monitoring account
    once: bool = False
    end: float | None = None  # epoch seconds a past window ends at (--end); None: live
    period_note: str | None = None  # why the period is coarser than asked (retention)
    format: str = "table"
    seed: int = 0
    spike_rules: SpikeRules = DEFAULT_RULES
    columns: tuple[str, ...] = DEFAULT_COLUMNS  # live-table columns, in this order
    spark_metric: str = "invocations"
    view: str = MODELS_VIEW  # the view on screen (models, or one of ``figures.surfaces``)
    group_by: str = "caller"  # the callers view's rows: caller, caller+model, metadata.KEY
    price_overrides: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    price_aliases: Mapping[str, str] = field(default_factory=dict)
    quota_overrides: Mapping[str, str] = field(default_factory=dict)  # model id -> quota code
    burndown_overrides: Mapping[str, int] = field(default_factory=dict)  # id prefix -> factor
    api_usd_per_1000: float = DEFAULT_API_USD_PER_1000
    # the alert rules in effect: the built-ins, changed or joined by [[alerts]]
    alert_rules: tuple[AlertRule, ...] = BUILTIN_RULES
    extra: dict[str, str] = field(default_factory=dict)


# --- typed access to sourced values (file values are typed; env and flag values are text) ---


def _kind(value: object) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    return names.get(type(value), "a list" if isinstance(value, list) else "a table")


def _fail(s: Sourced, expected: str) -> ConfigError:
    return ConfigError(f"{s.label}: expected {expected}, got {_kind(s.value)}")


def _opt_str(s: Sourced) -> str | None:
    if s.value is None or isinstance(s.value, str):
        return s.value
    raise _fail(s, "a string")


def _str(s: Sourced) -> str:
    value = _opt_str(s)
    if value is None:
        raise _fail(s, "a string")
    return value


def _text(s: Sourced, expected: str) -> str | None:
    """A string, or an integer given as a number in the file (window, period, interval)."""
    if isinstance(s.value, int) and not isinstance(s.value, bool):
        return str(s.value)
    if s.value is None or isinstance(s.value, str):
        return s.value
    raise _fail(s, expected)


def _bool(s: Sourced) -> bool:
    if isinstance(s.value, bool):
        return s.value
    raise _fail(s, "true or false")


def _int(s: Sourced, minimum: int | None = None) -> int:
    value = s.value
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise ConfigError(f"{s.label}: {s.value!r} is not an integer") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(s, "an integer")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{s.label}: must be at least {minimum}")
    return value


def _number(value: object, label: str, *, positive: bool = False) -> float:
    bound = "> 0" if positive else ">= 0"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{label}: expected a number {bound}, got {_kind(value)}")
    number = float(value)
    if not math.isfinite(number) or number < 0 or (positive and number == 0):
        raise ConfigError(f"{label}: expected a number {bound}, got {value!r}")
    return number


# --- resolution ---------------------------------------------------------------------------


def resolve(
    values: Mapping[Key, Sourced],
    bedrock_regions: Callable[[], list[str]],
    *,
    demo: bool = False,
    once: bool = False,
    end: str | None = None,
    now: float | None = None,
) -> Settings:
    """Validate merged values into Settings; ``bedrock_regions`` expands ``region = "all"``.
    ``end`` is the --end flag's text (a past window); ``now`` the moment it is read against
    (None: the clock)."""

    def at(*key: str) -> Sourced:
        return values[key]

    window = at("window")
    window_s = parse_window(_text(window, 'a duration such as "1h"') or "", window.label)
    period = at("period")
    period_text = _text(period, "a number of seconds")
    period_s = auto_period(window_s)
    if period_text is not None:
        period_s = check_period(parse_duration(period_text, period.label), window_s, period.label)
    moment = time.time() if now is None else now
    end_at = parse_end(end, moment) if end is not None else None
    # A past window: a period finer than CloudWatch still keeps there is raised (and said).
    period_s, period_note = past_period(
        window_s, period_s, end_at, moment, explicit=period_text is not None
    )
    interval = at("interval")
    interval_text = _text(interval, "a number of seconds") or ""
    interval_s = check_interval(parse_duration(interval_text, interval.label), interval.label)
    filter_ = at("filter")
    compile_filter(_opt_str(filter_), filter_.label)
    group_by = _str(at("group_by"))
    if not _GROUP_BY.match(group_by):
        raise ConfigError(
            f"{at('group_by').label}: {group_by!r} is not caller, caller+model or metadata.KEY"
        )
    view = _str(at("view"))
    if view not in VIEW_NAMES:
        choices = ", ".join(VIEW_NAMES)
        raise ConfigError(f"{at('view').label}: unknown view {view!r} (choose {choices})")
    sort = _opt_str(at("sort"))
    sort_keys = SORT_KEYS if view == MODELS_VIEW else tuple(_view_columns(view))
    # A sort from the config or the environment may name a column of another view: this view
    # keeps its own default then (a --sort flag is checked against the view).
    configured = not at("sort").source.startswith("--")
    if sort is not None and sort not in sort_keys and configured:
        sort = None if any(sort in _view_columns(name) for name in VIEW_NAMES) else sort
    if sort is not None and sort not in sort_keys:
        choices = ", ".join(sort_keys)
        raise ConfigError(
            f"{at('sort').label}: unknown column {sort!r} in the {view} view "
            f"(choose from {choices})"
        )
    fmt = _str(at("format"))
    if fmt not in FORMATS:
        raise ConfigError(
            f"{at('format').label}: unknown format {fmt!r} (choose table, json or csv)"
        )
    spark = _str(at("sparkline"))
    if spark not in SPARK_METRICS:
        choices = ", ".join(SPARK_METRICS)
        raise ConfigError(f"{at('sparkline').label}: unknown metric {spark!r} (choose {choices})")
    return Settings(
        demo=demo,
        profile=_opt_str(at("profile")),
        regions=_regions(at("region"), bedrock_regions),
        endpoint_url=_opt_str(at("endpoint_url")),
        window_s=window_s,
        period_s=period_s,
        interval_s=interval_s,
        filter=_opt_str(filter_),
        sort=sort,
        reverse=_bool(at("reverse")),
        all_models=_bool(at("all_models")),
        all_accounts=_bool(at("all_accounts")),
        once=once,
        end=end_at,
        period_note=period_note,
        format=fmt,
        seed=_int(at("seed")),
        spike_rules=_spike_rules(values),
        columns=_columns(at("columns", "show")),
        spark_metric=spark,
        view=view,
        group_by=group_by,
        price_overrides=_price_overrides(values),
        price_aliases=_price_aliases(values),
        quota_overrides=_quota_overrides(values),
        burndown_overrides=_burndown_overrides(values),
        alert_rules=_alert_rules(values),
        api_usd_per_1000=_number(
            at("prices", "get_metric_data_usd_per_1000").value,
            at("prices", "get_metric_data_usd_per_1000").label,
        ),
    )


def _view_columns(view: str) -> tuple[str, ...]:
    """A view's column keys (imported only when a view other than models is asked for)."""
    if view == MODELS_VIEW:
        return SORT_KEYS
    from bedrock_top.views.surface_columns import columns_of

    return tuple(columns_of(view))


def _regions(s: Sourced, bedrock_regions: Callable[[], list[str]]) -> tuple[str, ...]:
    """A comma list (flags, env) or a list of names (file); "all" expands."""
    if isinstance(s.value, list):
        if not all(isinstance(r, str) for r in s.value):
            raise _fail(s, "a list of region names")
        text: str | None = ",".join(s.value)
    else:
        text = _opt_str(s)
    wants_all = text is not None and text.strip() == "all"
    return tuple(parse_regions(text, bedrock_regions() if wants_all else [], s.label))


def _spike_rules(values: Mapping[Key, Sourced]) -> SpikeRules:
    def num(name: str, positive: bool = True) -> float:
        s = values["spikes", name]
        return _number(s.value, s.label, positive=positive)

    error_rate = num("error_rate")
    if error_rate > 1:
        raise ConfigError(f"{values['spikes', 'error_rate'].label}: a fraction, at most 1")
    min_change = {}
    for signal in DEFAULT_MIN_CHANGE:
        s = values["spikes", "min_change", signal]
        min_change[signal] = _number(s.value, s.label)
    return SpikeRules(
        k=num("k"),
        min_baseline_points=_int(values["spikes", "min_baseline_points"], minimum=1),
        min_change=min_change,
        error_rate=error_rate,
        min_requests=_int(values["spikes", "min_requests"], minimum=0),
        latency_p90_ms=num("latency_p90_ms"),
        throttles=_bool(values["spikes", "throttles"]),
    )


def _columns(s: Sourced) -> tuple[str, ...]:
    """Column keys in display order; "model" leads, since rows are known by it."""
    if not isinstance(s.value, list) or not all(isinstance(k, str) for k in s.value):
        raise _fail(s, "a list of column names")
    keys: list[str] = s.value
    for key in keys:
        if key not in COLUMNS_BY_KEY and key != SPARK_KEY:
            choices = ", ".join((*COLUMNS_BY_KEY, SPARK_KEY))
            raise ConfigError(f"{s.label}: unknown column {key!r} (choose from {choices})")
    if len(set(keys)) != len(keys):
        raise ConfigError(f"{s.label}: a column is listed twice")
    if keys[:1] != ["model"]:
        raise ConfigError(f'{s.label}: the list must start with "model"')
    return tuple(keys)


def _price_overrides(values: Mapping[Key, Sourced]) -> dict[str, dict[str, float]]:
    """USD per 1M tokens per model id: input and output required, cache prices optional."""
    out: dict[str, dict[str, float]] = {}
    for key, s in values.items():
        if key[:2] != ("prices", "overrides"):
            continue
        if not isinstance(s.value, Mapping):
            raise _fail(s, "a table of prices")
        raw: Mapping[str, object] = s.value
        unknown = sorted(set(raw) - set(PRICE_FIELDS))
        if unknown:
            known = ", ".join(PRICE_FIELDS)
            raise ConfigError(f"{s.label}: unknown key {unknown[0]!r} (known: {known})")
        for name in ("input", "output"):
            if name not in raw:
                raise ConfigError(f"{s.label}: {name!r} is missing")
        out[key[2]] = {k: _number(v, f"{s.label}: {k}") for k, v in raw.items()}
    return out


def _price_aliases(values: Mapping[Key, Sourced]) -> dict[str, str]:
    """Application inference profile id -> the model id it invokes (for its price)."""
    out: dict[str, str] = {}
    for key, s in values.items():
        if key[:2] == ("prices", "aliases"):
            target = _str(s)
            if not target.strip():
                raise ConfigError(f"{s.label}: expected a model id")
            out[key[2]] = target
    return out


_QUOTA_CODE = re.compile(r"^L-[0-9A-F]{8}$")
MAX_BURNDOWN = 100


def _quota_overrides(values: Mapping[Key, Sourced]) -> dict[str, str]:
    """Model id -> the Service Quotas code of its quota (wins over name matching)."""
    out: dict[str, str] = {}
    for key, s in values.items():
        if key[:1] == ("quotas",) and len(key) == 2:
            code = _str(s).strip()
            if not _QUOTA_CODE.match(code):
                raise ConfigError(f"{s.label}: {code!r} is not a quota code like L-8CE99163")
            out[key[1]] = code
    return out


def _burndown_overrides(values: Mapping[Key, Sourced]) -> dict[str, int]:
    """Model-id prefix -> quota tokens per output token (wins over the bundled table)."""
    out: dict[str, int] = {}
    for key, s in values.items():
        if key[:1] == ("burndown",) and len(key) == 2:
            factor = _int(s, minimum=1)
            if factor > MAX_BURNDOWN:
                raise ConfigError(f"{s.label}: must be at most {MAX_BURNDOWN}")
            out[key[1]] = factor
    return out
