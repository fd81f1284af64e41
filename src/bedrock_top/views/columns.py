"""The one registry of columns: key, header, unit, what the figure covers, how it is written,
how it sorts and how important it is on a narrow screen.

``--once`` (table, CSV), the live table, Ctrl+S export, ``--sort``/``[columns] show``
validation and ``--help`` all read this tuple, so a column means the same figure everywhere.
Pure: no Textual, no rich.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from bedrock_top.figures.quota_usage import RowQuota
from bedrock_top.figures.row_figures import RECENT_S, RowCost
from bedrock_top.figures.snapshot import ModelRow

Value = float | str | None
Kind = Literal["text", "count", "rate", "latency", "pct", "usd"]
# What a figure covers: the newest complete minute (a per-minute rate), the recent span that
# money rates use (15 minutes at a 1-minute period), the whole window, the busiest of the last
# 60 complete minutes (quotas count per minute), the last 24 hours, or nothing (names).
Covers = Literal["", "minute", "recent", "window", "hour", "day"]


@dataclass(frozen=True, slots=True)
class Column:
    """One figure of a row, described once for every output."""

    key: str
    label: str  # header words; the unit and the span are added by ``header``
    kind: Kind
    covers: Covers
    value: Callable[[Any], Value]  # a ModelRow's, or a view's SurfaceRow's figure
    priority: int  # lower survives longer when the terminal is narrow; 0 is never dropped
    description: str
    # Figures the live table asks CloudWatch for only when shown or sorted by (window
    # percentiles and averages cost one more metric per model per poll).
    window_stats: bool = False
    # (warning, critical) levels of the value: the live table colours a cell that reaches one
    levels: tuple[float, float] | None = None
    # A row whose figure is not known, rather than absent, shows "?" (quotas not readable)
    unknown: Callable[[Any], bool] | None = None

    @property
    def numeric(self) -> bool:
        return self.kind != "text"


def _w(attr: str) -> Callable[[ModelRow], Value]:
    return lambda row: getattr(row.window, attr)


def _latest(key: str) -> Callable[[ModelRow], Value]:
    return lambda row: row.latest.get(key)


def _cost(get: Callable[[RowCost], float | None]) -> Callable[[ModelRow], Value]:
    return lambda row: get(row.cost) if row.cost is not None else None


def _quota(get: Callable[[RowQuota], float | None]) -> Callable[[ModelRow], Value]:
    """A quota percentage as a ratio (the pct columns' unit), None without that quota."""

    def value(row: ModelRow) -> Value:
        found = get(row.quota) if row.quota is not None else None
        return found / 100 if found is not None else None

    return value


def _quota_unknown(row: ModelRow) -> bool:
    return row.quota_unknown


QUOTA_LEVELS: Final = (0.7, 0.9)  # 70 % and 90 % of a quota
QUOTA_COLUMN: Final[dict[str, Any]] = {"levels": QUOTA_LEVELS, "unknown": _quota_unknown}
# (key, label, covers, figure of RowQuota, priority, description) of the quota columns
QuotaSpec = tuple[str, str, Covers, Callable[[RowQuota], float | None], int, str]
_QUOTA_SPECS: Final[tuple[QuotaSpec, ...]] = (
    ("quota", "Quota %", "hour", lambda q: q.peak_pct, 2,
     "TPM or RPM quota used, whichever is fuller"),
    ("tpm_pct", "TPM %", "hour", lambda q: q.tpm.peak_pct if q.tpm else None, 7,
     "tokens-per-minute quota used"),
    ("rpm_pct", "RPM %", "hour", lambda q: q.rpm.peak_pct if q.rpm else None, 8,
     "requests-per-minute quota used"),
    ("tpd_pct", "TPD %", "day", lambda q: q.tpd.used_pct if q.tpd else None, 8,
     "tokens-per-day quota used"),
)  # fmt: skip


def _profile(row: ModelRow) -> str:
    profile = row.info.profile
    return "app" if profile == "application" else (profile or "")


COLUMNS: Final[tuple[Column, ...]] = (
    Column("model", "Model", "text", "", lambda r: r.model_id, 0, "model id"),
    Column("region", "Region", "text", "", lambda r: r.region, 1, "AWS region"),
    Column("account", "Account", "text", "", lambda r: r.account or "", 2, "AWS account"),
    Column("provider", "Provider", "text", "", lambda r: r.info.provider or "", 9, "provider"),
    Column("profile", "Prof", "text", "", _profile, 2, "inference profile: us, eu, global, app"),
    Column("inv_rate", "Inv/min", "rate", "minute", _latest("invocations"), 1, "invocations"),
    Column("in_rate", "In tok/min", "rate", "minute", _latest("input_tokens"), 4, "input tokens"),
    Column(
        "out_rate", "Out tok/min", "rate", "minute", _latest("output_tokens"), 4, "output tokens"
    ),
    Column("lat_avg", "Lat avg", "latency", "minute", _latest("latency_avg"), 5, "mean latency"),
    Column("lat_p90", "Lat p90", "latency", "minute", _latest("latency_p90"), 3, "p90 latency"),
    Column(
        "lat_ttft", "TTFT p90", "latency", "minute", _latest("ttft_p90"), 7, "p90 time to 1st token"
    ),
    Column(
        "usd_per_hour",
        "$/h",
        "usd",
        "recent",
        _cost(lambda c: c.usd_per_hour),
        3,
        "USD per hour at the token rate",
    ),
    Column("invocations", "Inv", "count", "window", _w("invocations"), 3, "invocations"),
    Column("input_tokens", "In tok", "count", "window", _w("input_tokens"), 8, "input tokens"),
    Column("output_tokens", "Out tok", "count", "window", _w("output_tokens"), 8, "output tokens"),
    Column(
        "tokens",
        "Tok",
        "count",
        "window",
        lambda r: r.window.input_tokens + r.window.output_tokens,
        8,
        "input + output tokens",
    ),
    Column(
        "cache_read_tokens",
        "Cache rd",
        "count",
        "window",
        _w("cache_read_tokens"),
        9,
        "cache read tokens",
    ),
    Column(
        "cache_write_tokens",
        "Cache wr",
        "count",
        "window",
        _w("cache_write_tokens"),
        9,
        "cache write tokens",
    ),
    Column(
        "cache_hit",
        "Cache %",
        "pct",
        "window",
        lambda r: r.window.cache_hit_ratio,
        8,
        "cache read / (input + cache read + cache write)",
    ),
    Column("client_errors", "Cli err", "count", "window", _w("client_errors"), 6, "client errors"),
    Column("server_errors", "Srv err", "count", "window", _w("server_errors"), 6, "server errors"),
    Column(
        "errors", "Err", "count", "window", lambda r: r.window.errors, 7, "client + server errors"
    ),
    Column("throttles", "Thr", "count", "window", _w("throttles"), 2, "throttled requests"),
    Column("error_rate", "Err %", "pct", "window", _w("error_rate"), 2, "errors / invocations"),
    Column(
        "throttle_rate",
        "Thr %",
        "pct",
        "window",
        _w("throttle_rate"),
        5,
        "throttles / (invocations + throttles)",
    ),
    Column("cost", "$", "usd", "window", _cost(lambda c: c.window_usd), 6, "USD spent"),
    *(
        Column(key, label, "pct", covers, _quota(get), priority, what, **QUOTA_COLUMN)
        for key, label, covers, get, priority, what in _QUOTA_SPECS
    ),
    Column(
        "latency_avg", "Lat avg", "latency", "window", _w("latency_avg_ms"), 6, "mean latency", True
    ),
    Column(
        "latency_p50", "Lat p50", "latency", "window", _w("latency_p50_ms"), 7, "p50 latency", True
    ),
    Column(
        "latency_p90", "Lat p90", "latency", "window", _w("latency_p90_ms"), 6, "p90 latency", True
    ),
    Column(
        "latency_p99", "Lat p99", "latency", "window", _w("latency_p99_ms"), 7, "p99 latency", True
    ),
    Column(
        "ttft_avg",
        "TTFT avg",
        "latency",
        "window",
        _w("ttft_avg_ms"),
        8,
        "mean time to 1st token",
        True,
    ),
    Column(
        "ttft_p50",
        "TTFT p50",
        "latency",
        "window",
        _w("ttft_p50_ms"),
        9,
        "p50 time to 1st token",
        True,
    ),
    Column(
        "ttft_p90",
        "TTFT p90",
        "latency",
        "window",
        _w("ttft_p90_ms"),
        8,
        "p90 time to 1st token",
        True,
    ),
    Column(
        "ttft_p99",
        "TTFT p99",
        "latency",
        "window",
        _w("ttft_p99_ms"),
        9,
        "p99 time to 1st token",
        True,
    ),
)
COLUMNS_BY_KEY: Final = {c.key: c for c in COLUMNS}
SORT_KEYS: Final = tuple(COLUMNS_BY_KEY)

# What each output shows by default (``[columns] show`` replaces the live set).
LIVE_DEFAULT: Final = (
    "model",
    "region",
    "account",
    "profile",
    "inv_rate",
    "in_rate",
    "out_rate",
    "lat_avg",
    "lat_p90",
    "lat_ttft",
    "client_errors",
    "server_errors",
    "throttles",
    "quota",
    "error_rate",
    "cache_hit",
    "usd_per_hour",
    "cost",
    "invocations",
    "tokens",
    "provider",
)
ONCE_DEFAULT: Final = (
    "region",
    "account",
    "model",
    "provider",
    "profile",
    "invocations",
    "input_tokens",
    "output_tokens",
    "latency_avg",
    "latency_p50",
    "latency_p90",
    "latency_p99",
    "ttft_p90",
    "client_errors",
    "server_errors",
    "throttles",
    "error_rate",
    "throttle_rate",
    "quota",
    "cost",
)
DEFAULT_SORT_LIVE: Final = "inv_rate"
SPARK_KEY: Final = "spark"  # the live table's sparkline, placed like a column
SPARK_METRICS: Final = ("invocations", "tokens", "latency", "problems")
DEFAULT_SORT_ONCE: Final = "invocations"


def fmt_span(seconds: int) -> str:
    """3600 -> '1h', 900 -> '15m', 86400 -> '1d'."""
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def header(column: Column, unit: str, window_s: int, recent_s: int = RECENT_S) -> str:
    """The header text: label, unit where the cells carry none, and the span it covers
    ("Thr 1h", "Lat p90 ms", "Lat p90 1h s", "$/h 15m"); per-minute labels say "/min"."""
    parts = [column.label]
    if column.covers == "window":
        parts.append(fmt_span(window_s))
    elif column.covers == "recent":
        parts.append(fmt_span(recent_s))
    elif column.covers == "hour":
        parts.append("pk")  # the peak minute of the last hour (--help says so)
    elif column.covers == "day":
        parts.append("24h")
    elif column.covers == "minute" and column.kind == "latency":
        pass  # "Lat p90 ms": per-minute latencies are the table's default reading
    if unit:
        parts.append(unit)
    return " ".join(parts)


_COVERS_WORDS: Final = {
    "": "",
    "minute": "newest complete minute",
    "recent": "last 15 complete minutes",
    "window": "over the window",
    "hour": "at the busiest complete minute of the last 60",
    "day": "over the last 24 hours",
}


def columns_help(window_s: int = 3600) -> str:
    """One line per column key: its header and what it shows, for ``--help``."""
    lines = []
    for c in COLUMNS:
        covers = _COVERS_WORDS[c.covers]
        what = f"{c.description}, {covers}" if covers else c.description
        extra = " (on demand)" if c.window_stats else ""
        lines.append(f"  {c.key:<19}{header(c, '', window_s):<13}{what}{extra}")
    return "\n".join(lines)


def live_keys(configured: Sequence[str] | None) -> tuple[str, ...]:
    """The live table's column keys, the sparkline last unless placed by the config."""
    keys = tuple(configured) if configured else LIVE_DEFAULT
    return keys if SPARK_KEY in keys else (*keys, SPARK_KEY)
