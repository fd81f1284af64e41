"""The views beside the models table, polled by one engine from their ``ViewSpec``: which rows
and metrics each namespace lists (ListMetrics), the queries a poll adds to the region's
calls, and dropping the series a poll no longer asks for.

The queries go into the same GetMetricData calls as the models' (``RegionPoller.plan``), so
a poll still takes ceil(queries / 500) calls, and the answers land in ``ModelSeries`` rings
exactly like a model's. Only the view on screen is polled in full; the others are polled for
one heartbeat metric per row, so the view bar can say where traffic is for a few metrics.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from bedrock_top.cloudwatch.discovery import CloudWatchClient, ModelKey, pages
from bedrock_top.cloudwatch.plan import MetricQuery, QueryGroup, SeriesKey
from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.figures.catalog import SUM
from bedrock_top.figures.series import ModelSeries
from bedrock_top.figures.surfaces import SURFACES_BY_NAME, Rollup, ViewSpec

Dims = tuple[tuple[str, str], ...]  # (dimension name, value) in the level's order
SeriesId = tuple[str, str]


@dataclass(slots=True)
class SurfaceSeries:
    """One row of a view (or one roll-up series it is checked against) and its rings."""

    view: str
    dims: Dims
    stored: ModelSeries  # metric_names: measure key (or roll-up metric) -> CloudWatch name
    rollup: Rollup | None = None


@dataclass(slots=True)
class ViewListing:
    """What ListMetrics shows of one view's namespace."""

    rows: dict[ModelKey, SurfaceSeries] = field(default_factory=dict)
    rollups: dict[ModelKey, SurfaceSeries] = field(default_factory=dict)
    unknown: tuple[str, ...] = ()  # metric names the view does not know


def row_id(view: str, dims: Dims, metric: str = "") -> str:
    """A row's id in series keys and table keys: 'mantle:default|anthropic.claude-…'; a
    roll-up series adds its metric ('mantle:default#TotalInputTokens')."""
    values = "|".join(v for _, v in dims)
    return f"{view}:{values}#{metric}" if metric else f"{view}:{values}"


def discover_view(
    client: CloudWatchClient, spec: ViewSpec, settings: PollSettings, usage: UsageCounter
) -> ViewListing:
    """The rows of ``spec`` and the metric names each publishes, its roll-up series, and the
    names the namespace publishes that the view does not know."""
    kwargs: dict[str, Any] = {"Namespace": spec.namespace}
    if settings.recently_active_only:
        kwargs["RecentlyActive"] = "PT3H"
    if settings.include_linked_accounts:
        kwargs["IncludeLinkedAccounts"] = True
    known = spec.known_names()
    levels = {frozenset(level): level for level in spec.levels}
    listed: dict[tuple[str | None, tuple[str, ...], Dims], set[str]] = {}
    rollups: dict[ModelKey, SurfaceSeries] = {}
    unknown: set[str] = set()
    for page in pages(client.list_metrics, **kwargs):
        usage.list_metrics_calls += 1
        owners = page.get("OwningAccounts") or []
        for i, metric in enumerate(page.get("Metrics", [])):
            if metric.get("Namespace", spec.namespace) != spec.namespace:
                continue
            name = metric["MetricName"]
            if name not in known:
                unknown.add(name)
                continue
            values = {d["Name"]: d["Value"] for d in metric.get("Dimensions") or []}
            account = owners[i] if settings.include_linked_accounts and i < len(owners) else None
            level = levels.get(frozenset(values))
            if level is not None:
                dims = tuple((d, values[d]) for d in level)
                listed.setdefault((account, level, dims), set()).add(name)
                continue
            for rollup in spec.rollups:
                if rollup.metric == name and frozenset(rollup.dims) == frozenset(values):
                    dims = tuple((d, values[d]) for d in rollup.dims)
                    stored = ModelSeries(metric_names={name: name})
                    key = (account, row_id(spec.name, dims, name))
                    rollups[key] = SurfaceSeries(spec.name, dims, stored, rollup)
    rows: dict[ModelKey, SurfaceSeries] = {}
    for (account, level, dims), names in listed.items():
        if _covered(account, level, dims, listed):
            continue  # a finer row shows this traffic already
        chosen = _choose_names(spec, names)
        if chosen:
            rows[(account, row_id(spec.name, dims))] = SurfaceSeries(
                spec.name, dims, ModelSeries(metric_names=chosen)
            )
    return ViewListing(rows, rollups, tuple(sorted(unknown)))


def _covered(
    account: str | None,
    level: tuple[str, ...],
    dims: Dims,
    listed: Mapping[tuple[str | None, tuple[str, ...], Dims], set[str]],
) -> bool:
    """Whether a row of a finer level has the same values for every dimension of ``level``."""
    mine = set(dims)
    return any(
        other_account == account and len(other_level) > len(level) and mine <= set(other)
        for other_account, other_level, other in listed
    )


def _choose_names(spec: ViewSpec, listed: set[str]) -> dict[str, str]:
    """measure key -> the CloudWatch name to query (the first spelling listed wins)."""
    chosen: dict[str, str] = {}
    for measure in spec.measures:
        for name in measure.names:
            if name in listed:
                chosen[measure.key] = name
                break
    return chosen


@lru_cache(maxsize=65_536)
def surface_metric_stat(
    namespace: str, metric_name: str, dims: Dims, period: int, stat: str
) -> Mapping[str, Any]:
    """The MetricStat of one view series: built once and shared (never mutated)."""
    return {
        "Metric": {
            "Namespace": namespace,
            "MetricName": metric_name,
            "Dimensions": [{"Name": name, "Value": value} for name, value in dims],
        },
        "Period": period,
        "Stat": stat,
    }


class SurfacePoll:
    """Every view's rows in one region: discovery, the queries of a poll, pruning."""

    def __init__(self, region: str) -> None:
        self.region = region
        self.listings: dict[str, ViewListing] = {}
        # Every row and roll-up series of every view, by the key their queries carry.
        self.series: dict[ModelKey, SurfaceSeries] = {}
        # What the newest plan asked for, per series: (per-period ids, whole-window ids).
        self._asked: dict[ModelKey, tuple[set[SeriesId], set[SeriesId]]] = {}

    def use(self, listings: Mapping[str, ViewListing]) -> None:
        """The views as listed again; rows that still publish the same names keep their data."""
        old, self.series = self.series, {}
        self.listings = dict(listings)
        for listing in self.listings.values():
            for found in (listing.rows, listing.rollups):
                for key, series in found.items():
                    before = old.get(key)
                    if (
                        before is not None
                        and before.stored.metric_names == series.stored.metric_names
                    ):
                        found[key] = before
                    self.series[key] = found[key]

    def plan(
        self,
        settings: PollSettings,
        start: int,
        end: int,
        focus: frozenset[ModelKey],
        groups: MutableMapping[QueryGroup, list[MetricQuery]],
    ) -> None:
        """Add this poll's queries to ``groups``: the visible view's every measure (and its
        roll-ups), the other views' heartbeat measure; whole-window percentiles for the rows
        of the visible view in full (the detail screen, ``--once``, an export)."""
        period, window_s, overlap = settings.period_s, settings.window_s, settings.overlap_s
        self._asked = {}
        for key, series in self.series.items():
            spec = SURFACES_BY_NAME[series.view]
            visible = series.view == settings.visible
            if series.rollup is not None and not visible:
                continue
            full = visible and (not settings.cost_aware or key in focus)
            stored = series.stored
            per_period: set[SeriesId] = set()
            whole: set[SeriesId] = set()
            for measure_key, name in stored.metric_names.items():
                if series.rollup is not None:
                    stats: tuple[str, ...] = (SUM,)
                    percentiles: tuple[str, ...] = ()
                else:
                    measure = spec.measure(measure_key)
                    if not visible and measure_key != spec.heartbeat:
                        continue
                    stats = measure.period_stats
                    percentiles = measure.percentiles if full else ()
                for stat in stats:
                    series_id = (measure_key, stat)
                    done = stored.loaded.get(series_id)
                    since = start if done is None else max(start, min(end, done) - overlap)
                    since -= since % period
                    query = MetricQuery(
                        SeriesKey(self.region, key[0], key[1], measure_key, stat),
                        name,
                        period,
                        since,
                        surface_metric_stat(spec.namespace, name, series.dims, period, stat),
                    )
                    groups.setdefault((since, period, False), []).append(query)
                    per_period.add(series_id)
                for stat in percentiles:
                    query = MetricQuery(
                        SeriesKey(self.region, key[0], key[1], measure_key, stat, True),
                        name,
                        window_s,
                        start,
                        surface_metric_stat(spec.namespace, name, series.dims, window_s, stat),
                    )
                    groups.setdefault((start, window_s, True), []).append(query)
                    whole.add((measure_key, stat))
            self._asked[key] = (per_period, whole)

    def prune(self) -> None:
        """Drop the series the newest plan did not ask for: a view that left the screen keeps
        only its heartbeat, and is read over the whole window when it comes back."""
        for key, series in self.series.items():
            per_period, whole = self._asked.get(key, (set(), set()))
            stored = series.stored
            if stored.loaded.keys() <= per_period and stored.window_stats.keys() <= whole:
                continue
            stored.loaded = {s: t for s, t in stored.loaded.items() if s in per_period}
            stored.rings = {s: r for s, r in stored.rings.items() if s in per_period}
            stored.window_stats = {s: v for s, v in stored.window_stats.items() if s in whole}
