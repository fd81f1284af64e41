"""One region's poller: which series each model needs now (cost-aware tiers, quota minutes),
the calls that fetch them, merging the answers into the series, and the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bedrock_top.cloudwatch.discovery import CloudWatchClient, ModelKey, discover
from bedrock_top.cloudwatch.fetch import CallResult, fetch_call
from bedrock_top.cloudwatch.plan import (
    Call,
    MetricQuery,
    QueryGroup,
    SeriesKey,
    metric_stat,
    plan_groups,
)
from bedrock_top.cloudwatch.quota_poll import (
    MINUTE_SLOTS,
    QUOTA_KEYS,
    day_queries,
    minute_queries,
    minute_since,
    write_minutes,
)
from bedrock_top.cloudwatch.region_quotas import RegionQuotas
from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.cloudwatch.surface_poll import SurfacePoll, ViewListing, discover_view
from bedrock_top.figures.catalog import HEARTBEAT_SERIES, METRICS_BY_KEY, SUM, Tier
from bedrock_top.figures.quota_usage import (
    DAY_S,
    MINUTE,
)
from bedrock_top.figures.retention import MARGIN_S, finest_period
from bedrock_top.figures.row_figures import CostOf
from bedrock_top.figures.series import ModelSeries, span
from bedrock_top.figures.snapshot import ModelRow, build_row, complete_index
from bedrock_top.figures.surfaces import MODELS_VIEW, SURFACES_BY_NAME

if TYPE_CHECKING:
    from bedrock_top.figures.surface_rows import Dims, SurfaceView

SeriesId = tuple[str, str]  # (metric key, statistic) within one model
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class TierSeries:
    """The series a model in one tier is polled for, the same every poll: built once per
    model and tier, with each series' part of the request."""

    per_period: tuple[tuple[SeriesKey, str, SeriesId, Mapping[str, Any]], ...]
    whole_window: tuple[tuple[SeriesKey, str, Mapping[str, Any]], ...]
    per_period_ids: frozenset[SeriesId]
    whole_window_ids: frozenset[SeriesId]


class RegionPoller:
    """Polls one region (and account scope) and keeps its series."""

    def __init__(
        self,
        region: str,
        client: CloudWatchClient,
        settings: PollSettings,
        clock: Clock = time.time,
    ) -> None:
        self.region = region
        self.client = client
        self.settings = settings
        self.clock = clock
        self.usage = UsageCounter()
        self.models: dict[ModelKey, ModelSeries] = {}
        self.discovered_at: float | None = None
        self._discovered_views: tuple[str, ...] = ()  # the views the last listing covered
        self.messages: list[str] = []
        self.focus: frozenset[ModelKey] = frozenset()  # models shown in full (detail screen)
        self.last_poll_metrics = 0
        # (model, tier, quota minutes?) -> (the metric names they were chosen from, the series)
        self._tier_series: dict[tuple[ModelKey, Tier, bool], tuple[dict[str, str], TierSeries]] = {}
        self.quotas = RegionQuotas()
        self.surfaces = SurfacePoll(region)  # the other views' rows (``figures.surfaces``)

    def _window(self, now: float) -> tuple[int, int]:
        end = self.settings.window_end(now)  # a past window's (--end) or the live one's
        return end - self.settings.window_s, end

    def _rediscover(self, now: float) -> None:
        found, listings = self._list_everything(self.settings.views)
        self.surfaces.use(listings)
        self.discovered_at = now
        self._discovered_views = self.settings.views
        self._use_models(found)

    def _discover_added(self) -> None:
        """Views added since the last listing (the live monitor adds them after the first
        rows): only their namespaces are listed, the rest waits for the next due listing."""
        added = tuple(v for v in self.settings.views if v not in self._discovered_views)
        found, listings = self._list_everything(added)
        kept = {v: found for v, found in self.surfaces.listings.items() if v in self.settings.views}
        self.surfaces.use({**kept, **listings})
        if MODELS_VIEW in added:
            self._use_models(found)
        self._discovered_views = self.settings.views

    def _use_models(self, found: dict[ModelKey, dict[str, str]]) -> None:
        """The models as listed: new ones get series, gone ones lose theirs."""
        self._tier_series.clear()
        for key in list(self.models):
            if key not in found:
                del self.models[key]
        for key, names in found.items():
            existing = self.models.get(key)
            if existing is None or existing.metric_names != names:
                self.models[key] = ModelSeries(metric_names=names)
        self.quotas.match(self.models)

    def _list_everything(
        self, views: tuple[str, ...]
    ) -> tuple[dict[ModelKey, dict[str, str]], dict[str, ViewListing]]:
        """ListMetrics of these views' namespaces at once (one round trip, not six in a row:
        the first rows wait for it). Each job counts its own calls."""
        settings, client = self.settings, self.client
        specs = [SURFACES_BY_NAME[n] for n in views if n in SURFACES_BY_NAME]
        models = MODELS_VIEW in views
        counters = [UsageCounter() for _ in range(len(specs) + 1)]
        if not specs:
            found = discover(client, settings, counters[0]) if models else {}
            listings: dict[str, ViewListing] = {}
        else:
            with ThreadPoolExecutor(len(specs) + 1, "bedrock-top-list") as pool:
                jobs = [
                    pool.submit(discover_view, client, spec, settings, counter)
                    for spec, counter in zip(specs, counters[1:], strict=True)
                ]
                found = discover(client, settings, counters[0]) if models else {}
                listings = {spec.name: job.result() for spec, job in zip(specs, jobs, strict=True)}
        self.usage.list_metrics_calls += sum(c.list_metrics_calls for c in counters)
        return found, listings

    def plan(
        self,
        now: float,
        wake: Collection[ModelKey] = (),
        tiers: Mapping[ModelKey, Tier] | None = None,
    ) -> tuple[list[Call], int, int]:
        """The calls this poll needs: a full window for new models, the recent tail otherwise.
        With ``wake`` (models whose heartbeat just showed traffic), only the series those
        models lack, so they show their full figures in the same poll.

        A call has one StartTime, so tails and whole-window queries (percentiles, new models)
        fill calls of their own, latest start first; only the one call at the boundary holds
        both and re-reads its tails from the window start. That keeps the number of calls at
        ceil(queries / 500), the minimum, while every other call stays incremental. The cost
        is the same either way (CloudWatch bills per metric, not per datapoint).
        """
        start, end = self._window(now)
        period, overlap = self.settings.period_s, self.settings.overlap_s
        window_s = self.settings.window_s
        groups: dict[QueryGroup, list[MetricQuery]] = {}
        tails: list[MetricQuery] = []  # the queries of the latest ``since`` met so far
        tails_since = None
        days: list[MetricQuery] = []  # 24-hour totals for daily quotas
        models = [(k, self.models[k]) for k in wake] if wake else self.models.items()
        for model, stored in models:
            tier = (tiers or {}).get(model) or self.tier(*model, stored, start, end)
            # A model with a quota and traffic: its minutes come with the table's series at a
            # 1-minute period, or as queries of their own at a longer one.
            quota = model in self.quotas.minutes_now
            piggyback = quota and period == MINUTE
            wanted = self.series_for(model, stored, tier, piggyback)
            loaded = stored.loaded
            for sk, name, series_id, stat in wanted.per_period:
                done = loaded.get(series_id)
                if done is None:
                    since = start
                elif wake:
                    continue  # read a moment ago, in this poll's first round
                else:
                    since = max(start, min(end, done) - overlap)
                if piggyback and series_id[0] in QUOTA_KEYS and series_id[1] == SUM:
                    since = min(since, minute_since(stored, series_id[0], end, overlap))
                since -= since % period
                if since != tails_since:  # (rare: most series of a poll share one since)
                    tails = groups.setdefault((since, period, False), [])
                    tails_since = since
                tails.append(MetricQuery(sk, name, period, since, stat))
            if wanted.whole_window:
                whole = groups.setdefault((start, window_s, True), [])
                for sk, name, stat in wanted.whole_window:
                    whole.append(MetricQuery(sk, name, window_s, start, stat))
            if quota and not piggyback:
                for q in minute_queries(self.region, model, stored, end, overlap):
                    groups.setdefault((q.start, q.period, False), []).append(q)
            if model in self.quotas.day_now:
                days.extend(day_queries(self.region, model, stored, end))
        if not wake:  # the other views' queries share the models' calls
            self.surfaces.plan(self.settings, start, end, self.focus, groups)
        calls = plan_groups(groups, end, now)
        if days:  # a 24-hour range of their own: in a shared call every tail would span it
            calls += plan_groups({(end - DAY_S, DAY_S, True): days}, end, now)
        return calls, start, end

    def series_for(
        self, model: ModelKey, stored: ModelSeries, tier: Tier, quota: bool = False
    ) -> TierSeries:
        """The series a model in ``tier`` is polled for: kept for as long as the model
        publishes the same metrics. ``quota``: also the quota estimate per period (the
        table's own series give the other quota figures)."""
        cached = self._tier_series.get((model, tier, quota))
        if cached is not None and cached[0] is stored.metric_names:
            return cached[1]
        period, window_s = self.settings.period_s, self.settings.window_s
        model_id = model[1]
        per_period: list[tuple[SeriesKey, str, SeriesId, Mapping[str, Any]]] = []
        whole_window: list[tuple[SeriesKey, str, Mapping[str, Any]]] = []
        for key, name in stored.metric_names.items():
            period_stats, window_stats = METRICS_BY_KEY[key].stats(tier)
            if quota and key == "tpm_quota" and SUM not in period_stats:
                period_stats = (*period_stats, SUM)
            for stat in period_stats:
                sk = SeriesKey(self.region, *model, key, stat)
                per_period.append(
                    (sk, name, (key, stat), metric_stat(name, model_id, period, stat))
                )
            for stat in window_stats:
                sk = SeriesKey(self.region, *model, key, stat, True)
                whole_window.append((sk, name, metric_stat(name, model_id, window_s, stat)))
        found = TierSeries(
            tuple(per_period),
            tuple(whole_window),
            frozenset(series_id for _, _, series_id, _ in per_period),
            frozenset((sk.metric, sk.stat) for sk, _, _ in whole_window),
        )
        self._tier_series[(model, tier, quota)] = (stored.metric_names, found)
        return found

    def tier(
        self, account: str | None, model_id: str, stored: ModelSeries, start: int, end: int
    ) -> Tier:
        """How much to ask for this model now (see ``catalog.Tier``).

        A model is idle when the series it always polls (Invocations, InvocationThrottles)
        are loaded and show nothing in the window: then no other metric can have data in the
        window either, so polling only the heartbeat shows exactly the same figures.
        """
        if self.settings.models_in_background:
            return "heartbeat"  # another view is on screen
        if not self.settings.cost_aware or (account, model_id) in self.focus:
            return "full"
        published = False
        for series in HEARTBEAT_SERIES:  # (a plain loop: this runs for every model every poll)
            if series[0] in stored.metric_names:
                if series not in stored.loaded or stored.rings[series].has_data(start, end):
                    return "live"
                published = True
        return "heartbeat" if published else "live"

    def poll(self) -> None:
        """One poll: rediscover when due, fetch, merge. Raises on API failure (data kept)."""
        now = self.clock()
        if self.discovered_at is None or now - self.discovered_at >= self.settings.rediscover_s:
            self._rediscover(now)
        elif self.settings.views != self._discovered_views:
            self._discover_added()
        start, end = self._window(now)
        tiers = {k: self.tier(*k, s, start, end) for k, s in self.models.items()}
        self.messages = []
        self.quotas.choose([k for k, t in tiers.items() if t != "heartbeat"])
        self._drop_gone_minutes(now, end)
        calls, _, _ = self.plan(now, tiers=tiers)
        self._run(calls)
        # A model whose heartbeat just showed traffic gets the rest of its series now: a
        # second, small round only on polls where something wakes up.
        woken: dict[ModelKey, Tier] = {}
        for key, tier in tiers.items():
            if tier == "heartbeat":
                now_tier = self.tier(*key, self.models[key], start, end)
                if now_tier != "heartbeat":
                    woken[key] = now_tier
        if woken:
            self.quotas.choose(woken, more=True)
            self._drop_gone_minutes(now, end)
            more, _, _ = self.plan(now, wake=woken, tiers=woken)
            self._run(more)
            calls += more
        # A series this poll did not ask for would go stale: drop it, so its figures show as
        # unknown and it is re-read over the whole window when wanted again.
        for key, stored in self.models.items():
            quota = key in self.quotas.minutes_now and self.settings.period_s == MINUTE
            self.quotas.forget_unread(key, stored)
            asked = self.series_for(key, stored, tiers[key], quota)
            per_period, whole_window = asked.per_period_ids, asked.whole_window_ids
            if key in woken:
                also = self.series_for(key, stored, woken[key], quota)
                per_period |= also.per_period_ids
                whole_window |= also.whole_window_ids
            if stored.loaded.keys() <= per_period and stored.window_stats.keys() <= whole_window:
                continue  # the usual case: nothing to drop
            stored.loaded = {s: t for s, t in stored.loaded.items() if s in per_period}
            stored.rings = {s: r for s, r in stored.rings.items() if s in per_period}
            stored.window_stats = {
                s: v for s, v in stored.window_stats.items() if s in whole_window
            }
        self.surfaces.prune()
        self.last_poll_metrics = sum(len(c.queries) for c in calls)

    def _drop_gone_minutes(self, now: float, end: int) -> None:
        """A past window older than CloudWatch keeps 1-minute data for: no quota minutes
        are read (its rows show no per-minute quota figure rather than a false one)."""
        first = end - MINUTE_SLOTS * MINUTE
        if self.settings.end is not None and finest_period(now - first + MARGIN_S) != MINUTE:
            self.quotas.minutes_now = set()

    def _run(self, calls: list[Call]) -> None:
        for call in calls:
            result = fetch_call(self.client, call, self.usage)
            self.messages.extend(result.messages)
            self._merge(call, result)

    def _merge(self, call: Call, result: CallResult) -> None:
        period = self.settings.period_s
        size = self.settings.window_s // period
        where = span(call.start, call.end, period, size)  # the same for every series here
        no_points: tuple[Sequence[float], Sequence[float]] = ((), ())
        models, failed, series = self.models, result.failed, result.series
        surfaces = self.surfaces.series
        quota_now = self.quotas.minutes_now
        for qid, query in call.queries.items():
            if qid in failed:
                continue
            key = query.key
            model = (key.account, key.model_id)
            stored = models.get(model)
            if stored is None:
                surface = surfaces.get(model)
                if surface is None:
                    continue
                stored = surface.stored
            series_id = (key.metric, key.stat)
            stamps, values = series.get(qid, no_points)
            if key.window:
                value = _window_value(stamps, values, query.start)
                if query.period == DAY_S:  # a 24-hour total for a daily quota
                    stored.day_sums[key.metric] = value or 0.0
                    stored.day_until = call.end
                else:
                    stored.window_stats[series_id] = value
                continue
            if (
                query.period == MINUTE
                and model in quota_now
                and key.stat == SUM
                and key.metric in QUOTA_KEYS
            ):
                write_minutes(stored, key.metric, call.start, call.end, stamps, values)
            if query.period != period:
                continue  # a quota minute series beside a longer table period
            stored.ring(series_id, period, size).write(where, stamps, values)
            stored.loaded[series_id] = call.end

    def rows(self, now: float, cost_of: CostOf | None = None) -> list[ModelRow]:
        start, end = self._window(now)
        period = self.settings.period_s
        complete_until = self.settings.complete_until(now)
        latest = complete_index(start, end, period, complete_until)
        # Quota figures first (a quota shared by several models sums them), so each row is
        # built once with its own.
        quotas = self.quotas.row_quotas(
            self.models, complete_until, (start, end), self.settings.window_s
        )
        unknown = self.quotas.unknown
        return [
            build_row(
                self.region,
                *key,
                stored,
                start,
                end,
                period,
                latest,
                cost_of,
                quotas.get(key),
                quota_unknown=unknown,
            )
            for key, stored in self.models.items()
        ]

    def surface_views(self, now: float, cost_of: CostOf | None = None) -> dict[str, SurfaceView]:
        """Every polled view's rows and checks in this region (see ``figures.surface_rows``)."""
        if not self.surfaces.listings:
            return {}  # the models alone: nothing of the views is even imported
        from bedrock_top.figures.surface_quotas import quota_figures, surface_limits
        from bedrock_top.figures.surface_rows import (
            SurfaceView,
            Window,
            build_surface_row,
            rollup_checks,
        )

        start, end = self._window(now)
        period = self.settings.period_s
        complete_until = self.settings.complete_until(now)
        latest = complete_index(start, end, period, complete_until)
        window = Window(start, end, period, latest)
        visible = self.settings.visible
        out: dict[str, SurfaceView] = {}
        for name, listing in self.surfaces.listings.items():
            spec = SURFACES_BY_NAME[name]
            full = name == visible
            stored = [(key[0], s.dims, s.stored) for key, s in listing.rows.items()]
            quotas: dict[tuple[str | None, Dims], dict[str, float | None]] = {}
            if spec.quotas and full:
                models = {v for _, dims, _ in stored for _, v in dims}
                catalog = self.quotas.state.catalog
                limits = surface_limits(spec, catalog, models)
                own = catalog.account if catalog is not None else None
                quotas = quota_figures(spec, stored, limits, window, complete_until, own)
            rows = tuple(
                build_surface_row(
                    spec,
                    self.region,
                    key[0],
                    s.dims,
                    s.stored,
                    window,
                    full,
                    cost_of,
                    quotas.get((key[0], s.dims)),
                    quota_unknown=bool(spec.quotas) and self.quotas.unknown,
                )
                for key, s in listing.rows.items()
            )
            checks = rollup_checks(
                [
                    (key[0], s.dims, s.rollup, s.stored)
                    for key, s in listing.rollups.items()
                    if s.rollup
                ],
                stored,
                window,
            )
            out[name] = SurfaceView(spec, rows, tuple(checks), listing.unknown, full)
        return out


def _window_value(stamps: Sequence[float], values: Sequence[float], start: int) -> float | None:
    """The single whole-window datapoint (the bucket that starts at the window start)."""
    for t, v in zip(stamps, values, strict=True):
        if t == start:
            return v
    return values[0] if len(values) == 1 else None
