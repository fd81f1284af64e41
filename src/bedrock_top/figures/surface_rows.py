"""Rows of the views beside the models table, built from their rings by the ``ViewSpec``: one
code path for every view, exact like the models' figures (counters are sums over the window,
means ΣSum / ΣSampleCount, percentiles the one whole-window value CloudWatch computed, a
gauge its newest complete period), plus the roll-up checks of a view's own consistency.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from bedrock_top.figures.catalog import AVERAGE, SAMPLE_COUNT, SUM
from bedrock_top.figures.row_figures import CostOf, WindowFigures, recent_periods
from bedrock_top.figures.series import ModelSeries, Ring, copy_points
from bedrock_top.figures.surfaces import (
    Kind,
    Rollup,
    ViewSpec,
    percentile_keys,
    snake,
    window_key,
)

Dims = tuple[tuple[str, str], ...]
Series = tuple[float | None, ...]


@dataclass(frozen=True, slots=True)
class SurfaceRow:
    """One row of a view: its dimension values, window figures by registry key, the newest
    complete period's figures (counters per minute) and per-period series per measure."""

    view: str
    region: str
    account: str | None
    dims: Dims
    values: Mapping[str, float | None]
    latest: Mapping[str, float | None] = field(default_factory=dict)
    series: Mapping[str, Series] = field(default_factory=dict)
    # measure key -> (ΣSum, ΣSampleCount) over the window: totals of means stay exact
    parts: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    published: frozenset[str] = frozenset()  # measures this row publishes
    full: bool = False  # polled for every measure (the view is on screen), not a heartbeat
    quota_unknown: bool = False  # the view has quotas but they could not be read

    @property
    def key(self) -> str:
        """Stable across polls (table rows, the detail screen, focus)."""
        values = "|".join(v for _, v in self.dims)
        return f"{self.region}|{self.account or ''}|{self.view}:{values}"

    @property
    def model_id(self) -> str:
        """The row's name (the filter, ties in sorting): its dimension values."""
        return " ".join(v for _, v in self.dims)

    @property
    def names(self) -> tuple[str, ...]:
        """What the row filter searches: the dimension values."""
        return tuple(v for _, v in self.dims)

    def dim(self, name: str) -> str | None:
        """A dimension's value by its snake_case key ('project'), None when not a dimension
        of this row (a coarser row of the view)."""
        for dimension, value in self.dims:
            if snake(dimension) == name:
                return value
        return None

    def to_dict(self) -> dict[str, Any]:
        """The row as JSON/CSV fields: region, account, dimensions, every figure."""
        out: dict[str, Any] = {"region": self.region}
        if self.account is not None:
            out["account"] = self.account
        out.update({snake(name): value for name, value in self.dims})
        out.update(self.values)
        return out


@dataclass(frozen=True, slots=True)
class RollupCheck:
    """A published coarser total against the sum of the rows it covers, over the complete
    periods of the window (both exact integers)."""

    dims: Dims
    metric: str
    published: float
    rows_sum: float

    @property
    def agree(self) -> bool:
        return self.published == self.rows_sum

    def to_dict(self) -> dict[str, Any]:
        return {
            "dims": {snake(name): value for name, value in self.dims},
            "metric": self.metric,
            "published": int(self.published),
            "rows_sum": int(self.rows_sum),
            "agree": self.agree,
        }

    def message(self, view: str) -> str:
        where = ", ".join(f"{snake(n)} {v}" for n, v in self.dims)
        return (
            f"{view}: {where}: {self.metric} is {self.published:,.0f} but its rows add up to "
            f"{self.rows_sum:,.0f} (complete minutes of the window)"
        )


@dataclass(frozen=True, slots=True)
class SurfaceView:
    """One view's part of a snapshot."""

    spec: ViewSpec
    rows: tuple[SurfaceRow, ...] = ()
    checks: tuple[RollupCheck, ...] = ()
    unknown: tuple[str, ...] = ()  # metric names the namespace has that the view does not know
    full: bool = False  # on screen (polled in full); else its rows carry the heartbeat only
    # Where a view not read from CloudWatch metrics got its rows (the callers' log group,
    # bytes scanned, sampling...) and what it has to say about them.
    source: Mapping[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def warnings(self) -> tuple[str, ...]:
        found = [*self.notes, *(c.message(self.spec.name) for c in self.checks if not c.agree)]
        if self.unknown:
            found.append(
                f"{self.spec.name}: {self.spec.namespace} also publishes metrics this view does "
                f"not show: {', '.join(self.unknown)}"
            )
        return tuple(found)

    def heartbeat_total(self) -> float:
        """The view bar's figure: the heartbeat measure over the window, summed over rows."""
        key = window_key(self.spec.measure(self.spec.heartbeat))
        return sum(v for r in self.rows if (v := r.values.get(key)) is not None)


def merge_views(parts: Iterable[SurfaceView]) -> SurfaceView:
    """Several regions' parts of one view as one (rows, checks and unknown names joined)."""
    parts = list(parts)
    first = parts[0]
    return SurfaceView(
        first.spec,
        tuple(r for p in parts for r in p.rows),
        tuple(c for p in parts for c in p.checks),
        tuple(sorted({n for p in parts for n in p.unknown})),
        any(p.full for p in parts),
    )


@dataclass(frozen=True, slots=True)
class Window:
    """The span a snapshot covers and its newest complete period."""

    start: int
    end: int
    period: int
    latest_index: int  # index of the newest complete period (-1: none yet)

    @property
    def complete_end(self) -> int:
        return self.start + (self.latest_index + 1) * self.period

    @property
    def count(self) -> int:
        return (self.end - self.start) // self.period

    @property
    def newest(self) -> int:
        """Start of the newest complete period."""
        return self.start + self.latest_index * self.period


def build_surface_row(
    spec: ViewSpec,
    region: str,
    account: str | None,
    dims: Dims,
    stored: ModelSeries,
    window: Window,
    full: bool,
    cost_of: CostOf | None = None,
    extra: Mapping[str, float | None] | None = None,
    quota_unknown: bool = False,
) -> SurfaceRow:
    """A row's exact figures from its rings (see the module docstring)."""
    values: dict[str, float | None] = {}
    latest: dict[str, float | None] = {}
    series: dict[str, Series] = {}
    parts: dict[str, tuple[float, float]] = {}
    for measure in spec.measures:
        key = window_key(measure)
        if measure.key not in stored.metric_names:
            if measure.kind == "counter":  # not listed in 3 hours: nothing happened (0);
                values[key] = 0  # some (errors, throttles) are published only when they occur
                latest[measure.key] = 0.0
            continue
        read = _READERS[measure.kind](measure.key, stored, window)
        if read is None:
            values[key] = None  # not polled now (a heartbeat): unknown, not 0
            continue
        values[key], latest[measure.key], series[measure.key], found = read
        if found is not None:
            parts[measure.key] = found
        for stat, pkey in percentile_keys(measure):
            values[pkey] = stored.window_stats.get((measure.key, stat))
    for ratio in spec.ratios:
        num = _sum_of(values, spec, ratio.numerator)
        den = _sum_of(values, spec, ratio.denominator)
        values[ratio.key] = num / den if num is not None and den else None
    if spec.priced is not None:
        values.update(_money(spec, dims, stored, values, window, cost_of))
    if extra:
        values.update(extra)  # figures worked out across rows (quotas)
    return SurfaceRow(
        spec.name,
        region,
        account,
        dims,
        values,
        latest,
        series,
        parts,
        frozenset(stored.metric_names),
        full,
        quota_unknown,
    )


# (window figure, newest complete period's figure, per-period series, (ΣSum, ΣSampleCount)),
# or None when the series is not held (not polled now)
Read = tuple[float | None, float | None, Series, tuple[float, float] | None]


def _points(ring: Ring, window: Window) -> Series:
    return copy_points(ring.window_copy(window.start, window.end), window.start, window.period)


def _read_counter(key: str, stored: ModelSeries, window: Window) -> Read | None:
    """The window's sum; the newest complete period per minute."""
    sums = stored.rings.get((key, SUM))
    if sums is None:
        return None
    total = sums.total(window.start, window.end)
    newest = sums.get(window.newest) if window.latest_index >= 0 else None
    value = int(total) if total.is_integer() else total
    return value, (newest or 0.0) * 60 / window.period, _points(sums, window), None


def _read_mean(key: str, stored: ModelSeries, window: Window) -> Read | None:
    """ΣSum / ΣSampleCount over the window; per period Sum / SampleCount."""
    sums, counts = stored.rings.get((key, SUM)), stored.rings.get((key, SAMPLE_COUNT))
    if sums is None or counts is None:
        return None
    points = _points(sums, window)
    means = tuple(
        s / c if s is not None and c else None
        for s, c in zip(points, _points(counts, window), strict=True)
    )
    total, n = sums.total(window.start, window.end), counts.total(window.start, window.end)
    return total / n if n else None, _newest(means, window.latest_index), means, (total, n)


def _read_gauge(key: str, stored: ModelSeries, window: Window) -> Read | None:
    """A level: the newest complete period's average (one metric: Average per period)."""
    averages = stored.rings.get((key, AVERAGE))
    if averages is None:
        return None
    levels = _points(averages, window)
    newest = _newest(levels, window.latest_index)
    return newest, newest, levels, None


_READERS: Final[dict[Kind, Callable[[str, ModelSeries, Window], Read | None]]] = {
    "counter": _read_counter,
    "mean": _read_mean,
    "gauge": _read_gauge,
}


def _newest(values: Sequence[float | None], latest_index: int) -> float | None:
    """The newest complete period that has a value (a gauge holds its level between datums)."""
    for value in reversed(values[: latest_index + 1]):
        if value is not None:
            return value
    return None


def _sum_of(
    values: Mapping[str, float | None], spec: ViewSpec, keys: Sequence[str]
) -> float | None:
    found = [values.get(window_key(spec.measure(k))) for k in keys]
    present = [v for v in found if v is not None]
    return sum(present) if present else None


def _money(
    spec: ViewSpec,
    dims: Dims,
    stored: ModelSeries,
    values: Mapping[str, float | None],
    window: Window,
    cost_of: CostOf | None,
) -> dict[str, float | None]:
    """cost_usd over the window and usd_per_hour at the recent token rate, from the price of
    the row's model (None: no known price, never 0)."""
    assert spec.priced is not None
    dimension, input_key, output_key = spec.priced
    model = dict(dims).get(dimension)
    if cost_of is None or model is None:
        return {"cost_usd": None, "usd_per_hour": None}
    figures = WindowFigures(
        input_tokens=int(values.get(input_key) or 0),
        output_tokens=int(values.get(output_key) or 0),
    )
    recent: dict[str, float | None] = {}
    if window.latest_index >= 0:
        n = min(recent_periods(window.period), window.latest_index + 1)
        minutes = n * window.period / 60
        t = window.newest
        for key, measure_key in (("input_tokens", input_key), ("output_tokens", output_key)):
            ring = stored.rings.get((measure_key, SUM))
            recent[key] = ring.recent_total(t, n) / minutes if ring is not None else 0.0
    cost = cost_of(model, figures, recent)
    if cost is None:
        return {"cost_usd": None, "usd_per_hour": None}
    return {"cost_usd": cost.window_usd, "usd_per_hour": cost.usd_per_hour}


def rollup_checks(
    rollups: Iterable[tuple[str | None, Dims, Rollup, ModelSeries]],
    rows: Sequence[tuple[str | None, Dims, ModelSeries]],
    window: Window,
) -> list[RollupCheck]:
    """Each published roll-up total against the sum of its rows' measure (of the same
    account), over the complete periods of the window; only where both were read (a view
    off screen has no checks)."""
    checks: list[RollupCheck] = []
    start, end = window.start, window.complete_end
    if end <= start:
        return checks
    for account, dims, rollup, stored in rollups:
        ring = stored.rings.get((rollup.metric, SUM))
        if ring is None:
            continue
        wanted = set(dims)
        parts = [
            row_stored.rings.get((rollup.measure, SUM))
            for row_account, row_dims, row_stored in rows
            if row_account == account and wanted <= set(row_dims)
        ]
        if any(p is None for p in parts):
            continue
        rows_sum = sum(p.total(start, end) for p in parts if p is not None)
        checks.append(RollupCheck(dims, rollup.metric, ring.total(start, end), rows_sum))
    return checks


def view_totals(view: SurfaceView, rows: Sequence[SurfaceRow]) -> dict[str, float | None]:
    """The view's totals over ``rows``: counters, gauges and per-minute rates summed (the
    account's backlog and throughput), other means ΣSum / ΣSampleCount across rows (never
    an average of averages), money summed. A ratio is worked out over the rows that have its
    numerator (the drain time of the models that publish tokens pending)."""
    spec = view.spec
    totals: dict[str, float | None] = {}
    for measure in spec.measures:
        key = window_key(measure)
        if measure.kind == "mean" and measure.unit != "tokens_per_minute":
            total = sum(r.parts[measure.key][0] for r in rows if measure.key in r.parts)
            n = sum(r.parts[measure.key][1] for r in rows if measure.key in r.parts)
            totals[key] = total / n if n else None
        else:
            present = [v for r in rows if (v := r.values.get(key)) is not None]
            totals[key] = sum(present) if present else (0 if measure.kind == "counter" else None)
    for ratio in spec.ratios:
        having = [r for r in rows if _sum_of(r.values, spec, ratio.numerator) is not None]
        num = _total(having, spec, ratio.numerator)
        den = _total(having, spec, ratio.denominator)
        totals[ratio.key] = num / den if num is not None and den else None
    if spec.priced is not None:
        totals["cost_usd"] = sum(r.values.get("cost_usd") or 0.0 for r in rows)
        totals["usd_per_hour"] = sum(r.values.get("usd_per_hour") or 0.0 for r in rows)
    return totals


def _total(rows: Sequence[SurfaceRow], spec: ViewSpec, keys: Sequence[str]) -> float | None:
    """Σ over rows of Σ over keys (None when no row has any of them)."""
    found = [v for r in rows if (v := _sum_of(r.values, spec, keys)) is not None]
    return sum(found) if found else None
