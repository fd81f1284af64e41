"""Immutable snapshots of the figures the UI and ``--once`` show, built from stored series.

Window figures are exact: counters are sums over the window, averages are
Sum / SampleCount over the window (never an average of averages) and percentiles are the
single whole-window value CloudWatch computed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import TYPE_CHECKING, Any

from bedrock_top.figures.catalog import (
    AVERAGE,
    COUNTER_KEYS,
    SAMPLE_COUNT,
    SUM,
    ModelInfo,
    parse_model_id,
)
from bedrock_top.figures.quota_usage import DailyUsage, RowQuota
from bedrock_top.figures.row_figures import CostOf, RowCost, WindowFigures, recent_periods
from bedrock_top.figures.series import ModelSeries, RingCopy, copy_points

if TYPE_CHECKING:  # the views' part, built by the poller (imported only where used)
    from bedrock_top.figures.surface_rows import SurfaceView

QUOTA_CSV = ("tpm_limit", "tpm_peak_pct", "rpm_limit", "rpm_peak_pct", "tpd_used_pct")
# Rates in ``ModelRow.latest`` are per minute, whatever the period.
LATEST_RATE_KEYS = (
    "invocations",
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "tpm_quota",
)
# Token series money is charged on; their recent rate prices an hour (``recent_periods``).
PRICED_KEYS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
# Statistics whose window figure is the sum of the periods' values.
SUMMED_STATS = frozenset((SUM, SAMPLE_COUNT))

# Per-period series every row carries (oldest first), for sparklines and latest-minute figures.
SERIES_KEYS = (
    *COUNTER_KEYS,
    "latency_avg",
    "latency_p90",
    "ttft_avg",
    "ttft_p90",
    "tpm_quota",
)


@dataclass(frozen=True, slots=True)
class ModelRow:
    """One (region, account, model) row: window figures plus per-period series."""

    region: str
    account: str | None
    info: ModelInfo
    window: WindowFigures
    series: Mapping[str, tuple[float | None, ...]]
    latest: Mapping[str, float | None] = field(default_factory=dict)
    cost: RowCost | None = None  # None: no known price for this model
    quota: RowQuota | None = None  # None: no quota known for this model
    quota_unknown: bool = False  # the quotas of its region could not be read
    # The worst state of the CloudWatch alarms on this model ("ALARM", "INSUFFICIENT_DATA",
    # "OK"; "" without any), and its one-character marker for the table.
    alarm: str = ""
    alarm_marker: str = ""

    @property
    def model_id(self) -> str:
        return self.info.model_id

    @property
    def names(self) -> tuple[str, ...]:
        """What the row filter searches: the model id and the provider."""
        return (self.info.model_id, self.info.provider or "")

    def summed(self, *keys: str) -> list[float | None]:
        """The per-period sum of several series (None where none of them has a value)."""
        cols = [self.series[k] for k in keys]
        out: list[float | None] = []
        for values in zip(*cols, strict=True):
            present = [v for v in values if v is not None]
            out.append(sum(present) if present else None)
        return out

    @property
    def key(self) -> str:
        """Stable row key across polls (for patching table rows)."""
        return f"{self.region}|{self.account or ''}|{self.info.model_id}"

    @staticmethod
    def csv_fields() -> tuple[str, ...]:
        names = (f.name for f in fields(WindowFigures))
        money = ("cost_usd", "usd_per_hour", "cache_savings_usd")
        return ("region", "account", "model_id", "provider", "profile", *names, *money, *QUOTA_CSV)

    def quota_csv(self) -> dict[str, float | None]:
        """The flat quota fields of a CSV line (empty when not known)."""
        quota = self.quota
        tpm, rpm = (quota.tpm, quota.rpm) if quota else (None, None)
        tpd = quota.tpd if quota else None
        return {
            "tpm_limit": tpm.limit if tpm else None,
            "tpm_peak_pct": tpm.peak_pct if tpm else None,
            "rpm_limit": rpm.limit if rpm else None,
            "rpm_peak_pct": rpm.peak_pct if rpm else None,
            "tpd_used_pct": tpd.used_pct if tpd else None,
        }

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "region": self.region,
            "model_id": self.info.model_id,
            "provider": self.info.provider,
            "profile": self.info.profile,
        }
        if self.account is not None:
            out["account"] = self.account
        out.update(asdict(self.window))
        out["cost_usd"] = self.cost.window_usd if self.cost else None
        out["usd_per_hour"] = self.cost.usd_per_hour if self.cost else None
        out["cache_savings_usd"] = self.cost.cache_savings_usd if self.cost else None
        out["quota"] = self.quota.to_dict() if self.quota else None
        return out


@dataclass(frozen=True, slots=True)
class ApiUsage:
    """What the monitor itself asked of CloudWatch (it is billed per metric requested)."""

    requests: int = 0
    get_metric_data_calls: int = 0
    list_metrics_calls: int = 0
    metrics_requested: int = 0
    last_poll_metrics: int = 0  # metrics the newest poll asked for (what each poll costs now)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything one screen or one ``--once`` output needs, safe to hand across threads."""

    taken_at: float
    window_start: int
    window_end: int
    period: int
    complete_until: int  # a period [t, t + period) is complete when t + period <= this
    regions: tuple[str, ...]
    rows: tuple[ModelRow, ...]
    api: ApiUsage = field(default_factory=ApiUsage)
    warnings: tuple[str, ...] = ()
    # region -> why its newest poll failed; its rows are the last good ones (stale)
    region_errors: Mapping[str, str] = field(default_factory=dict)
    # region -> why its quotas could not be read (the rest works on without them)
    quota_errors: Mapping[str, str] = field(default_factory=dict)
    # region -> the account-wide daily quota against the models' 24-hour totals
    tpd_account: Mapping[str, DailyUsage] = field(default_factory=dict)
    # The other views polled (``figures.surfaces``), by name: the one on screen in full,
    # the others for the heartbeat the view bar shows.
    surfaces: Mapping[str, SurfaceView] = field(default_factory=dict)
    visible: str = "models"  # the view polled in full
    # A past window (--end): the moment asked for, before alignment; None: the live window.
    requested_end: float | None = None
    period_note: str | None = None  # why the period is coarser than asked (retention)

    @property
    def live(self) -> bool:
        """The window ends now (False: a past window, which stays as it is)."""
        return self.requested_end is None

    @property
    def period_starts(self) -> range:
        return range(self.window_start, self.window_end, self.period)

    @property
    def latest_complete_index(self) -> int:
        """Index into each row's series of the newest complete period (-1 if none)."""
        return complete_index(self.window_start, self.window_end, self.period, self.complete_until)

    def totals(self) -> dict[str, int]:
        return {k: sum(getattr(r.window, k) for r in self.rows) for k in COUNTER_KEYS}


def complete_index(window_start: int, window_end: int, period: int, complete_until: int) -> int:
    """Index of the newest period [t, t + period) that ends at or before ``complete_until``."""
    n = (complete_until - window_start) // period
    return max(0, min(n, (window_end - window_start) // period)) - 1


def _ratio(num: float, denom: float) -> float | None:
    return num / denom if denom else None


Series = tuple[float | None, ...]
SeriesId = tuple[str, str]  # (metric key, statistic)


class WindowSeries(Mapping[str, Series]):
    """A row's per-period series (``SERIES_KEYS``), each built on first use from copies of
    its rings.

    Most series are never looked at (rows scrolled out of view, sparklines of other
    metrics), so a snapshot keeps byte copies of the rings (cheap, safe to read from another
    thread, invisible to the garbage collector) and turns one into a tuple only when asked.
    """

    __slots__ = ("_cache", "_copies", "_count", "_period", "_start")

    def __init__(
        self, copies: dict[SeriesId, RingCopy], start: int, period: int, count: int
    ) -> None:
        self._copies = copies
        self._start = start
        self._period = period
        self._count = count
        self._cache: dict[str, Series] | None = None

    def __getitem__(self, key: str) -> Series:
        if self._cache is None:
            self._cache = {}
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._build(key)
        return found

    def _build(self, key: str) -> Series:
        metric, _, part = key.rpartition("_")
        if metric in ("latency", "ttft"):
            if part == "p90":
                return self._series((metric, "p90"))
            if part != "avg":
                raise KeyError(key)
            if (metric, SUM) in self._copies or (metric, AVERAGE) not in self._copies:
                sums, counts = self._series((metric, SUM)), self._series((metric, SAMPLE_COUNT))
                return tuple(
                    s / c if s is not None and c else None
                    for s, c in zip(sums, counts, strict=True)
                )
            return self._series((metric, AVERAGE))  # the live tier asks for the average alone
        if key not in SERIES_KEYS:
            raise KeyError(key)
        return self._series((key, SUM))

    def _series(self, series_id: SeriesId) -> Series:
        copy = self._copies.get(series_id)
        if copy is None:
            return (None,) * self._count
        return copy_points(copy, self._start, self._period)

    def __iter__(self) -> Iterator[str]:
        return iter(SERIES_KEYS)

    def __len__(self) -> int:
        return len(SERIES_KEYS)


def build_row(
    region: str,
    account: str | None,
    model_id: str,
    stored: ModelSeries,
    window_start: int,
    window_end: int,
    period: int,
    latest_index: int = -1,
    cost_of: CostOf | None = None,
    quota: RowQuota | None = None,
    *,
    quota_unknown: bool = False,
) -> ModelRow:
    """Compute one row's exact window figures from its rings; its series are lazy; its money
    figures from ``cost_of`` (None: no prices); ``quota``: its quota figures, worked out by the
    poller (a quota may be shared by several rows).

    One pass over the rings takes each one's window total, its value in the newest complete
    period and a copy for the series: a snapshot does this for every model on every poll.
    """
    totals: dict[SeriesId, float] = {}
    newest: dict[SeriesId, float] = {}
    copies: dict[SeriesId, RingCopy] = {}
    t = window_start + latest_index * period
    for series_id, ring in stored.rings.items():
        total, copies[series_id], value = ring.read(
            window_start, window_end, t, summed=series_id[1] in SUMMED_STATS
        )
        if total is not None:
            totals[series_id] = total
        if value is not None:
            newest[series_id] = value
    counts = {key: int(totals.get((key, SUM), 0.0)) for key in COUNTER_KEYS}
    inv, throttles = counts["invocations"], counts["throttles"]
    errors = counts["client_errors"] + counts["server_errors"]
    window_stats = stored.window_stats
    figures = WindowFigures(
        **counts,
        latency_avg_ms=_average(totals, "latency"),
        latency_p50_ms=window_stats.get(("latency", "p50")),
        latency_p90_ms=window_stats.get(("latency", "p90")),
        latency_p99_ms=window_stats.get(("latency", "p99")),
        ttft_avg_ms=_average(totals, "ttft"),
        ttft_p50_ms=window_stats.get(("ttft", "p50")),
        ttft_p90_ms=window_stats.get(("ttft", "p90")),
        ttft_p99_ms=window_stats.get(("ttft", "p99")),
        error_rate=_ratio(errors, inv),
        throttle_rate=_ratio(throttles, inv + throttles),
        tpm_quota=int(totals.get(("tpm_quota", SUM), 0.0))
        if ("tpm_quota", SUM) in stored.loaded
        else None,
    )
    latest = _latest(newest, stored.rings.keys(), period) if latest_index >= 0 else {}
    count = (window_end - window_start) // period
    series = WindowSeries(copies, window_start, period, count)
    cost = None
    if cost_of is not None:
        recent: dict[str, float | None] = {}
        if latest_index >= 0:  # per-minute token rates over the recent span
            n = min(recent_periods(period), latest_index + 1)
            minutes = n * period / 60
            for key in PRICED_KEYS:
                found = stored.rings.get((key, SUM))
                recent[key] = found.recent_total(t, n) / minutes if found is not None else 0.0
        cost = cost_of(model_id, figures, recent)
    info = parse_model_id(model_id)
    return ModelRow(region, account, info, figures, series, latest, cost, quota, quota_unknown)


def _average(totals: Mapping[SeriesId, float], metric: str) -> float | None:
    """The exact window average: Sum / SampleCount over the window (None without samples)."""
    return _ratio(totals.get((metric, SUM), 0.0), totals.get((metric, SAMPLE_COUNT), 0.0))


def _latest(
    newest: Mapping[SeriesId, float], stored: Collection[SeriesId], period: int
) -> dict[str, float | None]:
    """Figures of the newest complete period from each series' value there (``newest``;
    ``stored``: the series the model has): counters as per-minute rates (no data = 0),
    latencies as they are (no data = None)."""
    per_minute = period / 60
    latest: dict[str, float | None] = {
        key: newest.get((key, SUM), 0.0) / per_minute for key in LATEST_RATE_KEYS
    }
    for metric in ("latency", "ttft"):
        if (metric, SUM) in stored or (metric, AVERAGE) not in stored:
            total, n = newest.get((metric, SUM)), newest.get((metric, SAMPLE_COUNT))
            latest[f"{metric}_avg"] = total / n if total is not None and n else None
        else:  # the live tier asks CloudWatch for the per-period average alone
            latest[f"{metric}_avg"] = newest.get((metric, AVERAGE))
        latest[f"{metric}_p90"] = newest.get((metric, "p90"))
    return latest
