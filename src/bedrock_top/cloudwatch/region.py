"""One region's poller: which series each model needs now (cost-aware tiers, quota minutes),
the calls that fetch them, merging the answers into the series, and the rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bedrock_top.cloudwatch.discovery import CloudWatchClient, ModelKey, discover
from bedrock_top.cloudwatch.fetch import CallResult, fetch_call
from bedrock_top.cloudwatch.plan import (
    Call,
    MetricQuery,
    QueryGroup,
    SeriesKey,
    align_down,
    metric_stat,
    plan_groups,
)
from bedrock_top.cloudwatch.quota_poll import (
    QUOTA_KEYS,
    day_queries,
    minute_keys,
    minute_queries,
    minute_since,
    model_minutes,
    quota_tokens,
    write_minutes,
)
from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.figures.burndown import burndown_of
from bedrock_top.figures.catalog import METRICS_BY_KEY, SUM, Tier
from bedrock_top.figures.quota_match import account_tpd, match_quotas
from bedrock_top.figures.quota_usage import (
    DAY_S,
    LOOKBACK_MINUTES,
    MINUTE,
    DailyUsage,
    QuotaMinutes,
    daily_usage,
    share_quotas,
)
from bedrock_top.figures.quotas import ModelQuotas, QuotaCatalog, ServiceQuota
from bedrock_top.figures.series import ModelSeries, span
from bedrock_top.figures.snapshot import CostOf, ModelRow, build_row, complete_index

HEARTBEAT_SERIES = tuple((k, SUM) for k, spec in METRICS_BY_KEY.items() if spec.heartbeat)
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
        self.messages: list[str] = []
        self.focus: frozenset[ModelKey] = frozenset()  # models shown in full (detail screen)
        self.last_poll_metrics = 0
        # (model, tier, quota minutes?) -> (the metric names they were chosen from, the series)
        self._tier_series: dict[tuple[ModelKey, Tier, bool], tuple[dict[str, str], TierSeries]] = {}
        # Quotas: the catalogue read for this region, the limits matched to each model, and
        # the models whose quota series this poll reads (a quota and traffic).
        self.quota_catalog: QuotaCatalog | None = None
        self.quota_overrides: Mapping[str, str] = {}
        self.burndown_overrides: Mapping[str, int] = {}
        self.limits: dict[ModelKey, ModelQuotas] = {}
        self.account_tpd: ServiceQuota | None = None
        self._quota_now: set[ModelKey] = set()  # their quota minutes are read this poll
        self._day_now: set[ModelKey] = set()  # their 24-hour totals are read when due
        self.quota_error: str | None = None  # why the latest quota read failed

    def _window(self, now: float) -> tuple[int, int]:
        period = self.settings.period_s
        end = align_down(now, period) + period
        return end - self.settings.window_s, end

    def _rediscover(self, now: float) -> None:
        found = discover(self.client, self.settings, self.usage)
        self.discovered_at = now
        self._tier_series.clear()
        for key in list(self.models):
            if key not in found:
                del self.models[key]
        for key, names in found.items():
            existing = self.models.get(key)
            if existing is None or existing.metric_names != names:
                self.models[key] = ModelSeries(metric_names=names)
        self.match_quotas()

    def set_quotas(
        self,
        catalog: QuotaCatalog | None,
        overrides: Mapping[str, str],
        burndown_overrides: Mapping[str, int],
    ) -> None:
        """Use this quota catalogue (None: none known) from the next poll on."""
        self.quota_catalog = catalog
        self.quota_overrides = overrides
        self.burndown_overrides = burndown_overrides
        self.match_quotas()

    def match_quotas(self) -> None:
        """Limits for every model of this account (a linked account's quotas are its own,
        and not read here)."""
        catalog = self.quota_catalog
        if catalog is None:
            self.limits, self.account_tpd = {}, None
            return
        own = {k for k in self.models if k[0] is None or k[0] == catalog.account}
        matched = match_quotas(catalog, {k[1] for k in own}, self.quota_overrides)
        self.limits = {k: q for k in own if (q := matched.get(k[1])) is not None and q}
        self.account_tpd = account_tpd(catalog)

    def needs_day(self, model: ModelKey) -> bool:
        limits = self.limits.get(model)
        own = self.quota_catalog is not None and model[0] in (None, self.quota_catalog.account)
        return (limits is not None and limits.tpd is not None) or (
            self.account_tpd is not None and own
        )

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
            quota = model in self._quota_now
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
            if model in self._day_now:
                days.extend(day_queries(self.region, model, stored, end))
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
        start, end = self._window(now)
        tiers = {k: self.tier(*k, s, start, end) for k, s in self.models.items()}
        self.messages = []
        active = [k for k, t in tiers.items() if t != "heartbeat"]
        self._quota_now = {k for k in active if self.needs_minutes(k)}
        self._day_now = {k for k in active if self.needs_day(k)}
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
            self._quota_now |= {k for k in woken if self.needs_minutes(k)}
            self._day_now |= {k for k in woken if self.needs_day(k)}
            more, _, _ = self.plan(now, wake=woken, tiers=woken)
            self._run(more)
            calls += more
        # A series this poll did not ask for would go stale: drop it, so its figures show as
        # unknown and it is re-read over the whole window when wanted again.
        for key, stored in self.models.items():
            quota = key in self._quota_now and self.settings.period_s == MINUTE
            if key not in self._quota_now and stored.minutes_loaded:
                stored.forget_minutes()
            if key not in self._day_now and stored.day_until is not None:
                stored.forget_day()
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
        self.last_poll_metrics = sum(len(c.queries) for c in calls)

    def needs_minutes(self, model: ModelKey) -> bool:
        """Whether the model has a per-minute quota (TPM or RPM), read minute by minute."""
        limits = self.limits.get(model)
        return limits is not None and (limits.tpm is not None or limits.rpm is not None)

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
        quota_now = self._quota_now
        for qid, query in call.queries.items():
            if qid in failed:
                continue
            key = query.key
            model = (key.account, key.model_id)
            stored = models.get(model)
            if stored is None:
                continue
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
        complete_until = int(now) - self.settings.settle_s
        latest = complete_index(start, end, period, complete_until)
        # Quota figures first (a quota shared by several models sums them), so each row is
        # built once with its own.
        quota_of: dict[ModelKey, tuple[ModelQuotas, QuotaMinutes, float | None, int | None]] = {}
        for key, limits in self.limits.items():
            stored = self.models.get(key)
            if stored is not None and self._quota_ready(key, stored, start, end):
                factor = burndown_of(self.quota_catalog, key[1], self.burndown_overrides)
                minutes = model_minutes(stored, complete_until, factor)
                quota_of[key] = (limits, minutes, quota_tokens(stored, factor), stored.day_until)
        quotas = share_quotas(quota_of)
        unknown = self.quota_catalog is None and self.quota_error is not None
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

    def _quota_ready(self, key: ModelKey, stored: ModelSeries, start: int, end: int) -> bool:
        """Whether a model's quota figures can be shown: its minutes are read, or it is idle
        over a window that covers the quota's hour (nothing to read: every minute is 0).
        Until then the row shows no quota figure rather than a false 0 %."""
        if not self.needs_minutes(key):
            return True  # a daily quota only: its total shows once read
        if all(k in stored.minutes_loaded for k in minute_keys(stored.metric_names)):
            return True
        if key in self._quota_now or self.settings.window_s < LOOKBACK_MINUTES * MINUTE:
            return False
        heartbeat = [stored.rings.get(s) for s in HEARTBEAT_SERIES if s in stored.loaded]
        return bool(heartbeat) and not any(r.has_data(start, end) for r in heartbeat if r)

    def account_daily(self) -> DailyUsage | None:
        """The account-wide daily quota against the 24-hour totals of the models read for it
        (those with traffic in the window: an idle model adds nothing to the last hour and
        is not read, so a model busy earlier in the day is missing from this sum)."""
        quota = self.account_tpd
        if quota is None:
            return None
        used, until = 0.0, None
        for (_account, model_id), stored in self.models.items():
            if stored.day_until is None:
                continue
            factor = burndown_of(self.quota_catalog, model_id, self.burndown_overrides)
            used += quota_tokens(stored, factor) or 0.0
            until = max(until or 0, stored.day_until)
        return daily_usage(quota, used, until) if until is not None else None


def _window_value(stamps: Sequence[float], values: Sequence[float], start: int) -> float | None:
    """The single whole-window datapoint (the bucket that starts at the window start)."""
    for t, v in zip(stamps, values, strict=True):
        if t == start:
            return v
    return values[0] if len(values) == 1 else None
