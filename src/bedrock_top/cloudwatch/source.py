"""The CloudWatch poller: discovery, batched GetMetricData with pagination, merge into series.

Works against anything with boto3's ``list_metrics`` / ``get_metric_data`` signatures: a real
client, or the demo backend, so ``--demo`` runs exactly this code.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

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
from bedrock_top.errors import describe_error, needs_new_credentials
from bedrock_top.figures.burndown import burndown_of
from bedrock_top.figures.catalog import (
    METRICS_BY_KEY,
    MODEL_DIMENSION,
    NAMESPACE,
    SUM,
    Tier,
    choose_metric_names,
)
from bedrock_top.figures.pricing import Price, PriceTable, figures_cost
from bedrock_top.figures.quota_usage import (
    DAY_S,
    LOOKBACK_MINUTES,
    MINUTE,
    DailyUsage,
    QuotaMinutes,
    daily_usage,
    share_quotas,
)
from bedrock_top.figures.quotas import ModelQuotas, QuotaCatalog, QuotaState, ServiceQuota
from bedrock_top.figures.series import ModelSeries, span
from bedrock_top.figures.snapshot import (
    ApiUsage,
    CostOf,
    ModelRow,
    RowCost,
    Snapshot,
    WindowFigures,
    build_row,
    complete_index,
)

Clock = Callable[[], float]
HEARTBEAT_SERIES = tuple((k, SUM) for k, spec in METRICS_BY_KEY.items() if spec.heartbeat)
ModelKey = tuple[str | None, str]  # (account, model id) within one region
SeriesId = tuple[str, str]  # (metric key, statistic) within one model


class CloudWatchClient(Protocol):
    """The two read-only CloudWatch operations bedrock-top uses."""

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class TierSeries:
    """The series a model in one tier is polled for, the same every poll: built once per
    model and tier, with each series' part of the request."""

    per_period: tuple[tuple[SeriesKey, str, SeriesId, Mapping[str, Any]], ...]
    whole_window: tuple[tuple[SeriesKey, str, Mapping[str, Any]], ...]
    per_period_ids: frozenset[SeriesId]
    whole_window_ids: frozenset[SeriesId]


@dataclass(frozen=True, slots=True)
class PollSettings:
    """What to poll: window, period and discovery scope."""

    window_s: int = 3600
    period_s: int = 60
    all_models: bool = False
    include_linked_accounts: bool = False
    rediscover_s: int = 300
    settle_s: int = 120  # CloudWatch publishes a minute 1-2 minutes after it ends
    cost_aware: bool = True  # False: every metric for every model (--once, comparisons)

    @property
    def overlap_s(self) -> int:
        """How far back every incremental poll re-reads, to pick up late datapoints."""
        return max(3, math.ceil(300 / self.period_s)) * self.period_s

    @property
    def recently_active_only(self) -> bool:
        """``RecentlyActive=PT3H`` only fits windows of at most three hours."""
        return not self.all_models and self.window_s <= 3 * 3600


@dataclass(slots=True)
class UsageCounter:
    """Mutable tally of API usage; snapshots get a frozen copy."""

    get_metric_data_calls: int = 0
    list_metrics_calls: int = 0
    metrics_requested: int = 0

    def frozen(self) -> ApiUsage:
        return ApiUsage(
            requests=self.get_metric_data_calls + self.list_metrics_calls,
            get_metric_data_calls=self.get_metric_data_calls,
            list_metrics_calls=self.list_metrics_calls,
            metrics_requested=self.metrics_requested,
        )


def _pages(call: Callable[..., Mapping[str, Any]], **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    """Follow NextToken until the last page."""
    token: str | None = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return


def discover(
    client: CloudWatchClient, settings: PollSettings, usage: UsageCounter
) -> dict[ModelKey, dict[str, str]]:
    """List Bedrock models and the metric names each publishes with only a ModelId dimension."""
    kwargs: dict[str, Any] = {"Namespace": NAMESPACE}
    if settings.recently_active_only:
        kwargs["RecentlyActive"] = "PT3H"
    if settings.include_linked_accounts:
        kwargs["IncludeLinkedAccounts"] = True
    listed: dict[ModelKey, set[str]] = {}
    for page in _pages(client.list_metrics, **kwargs):
        usage.list_metrics_calls += 1
        owners = page.get("OwningAccounts") or []
        for i, metric in enumerate(page.get("Metrics", [])):
            if metric.get("Namespace", NAMESPACE) != NAMESPACE:
                continue
            dims = metric.get("Dimensions") or []
            if len(dims) != 1 or dims[0].get("Name") != MODEL_DIMENSION:
                continue
            account = owners[i] if settings.include_linked_accounts and i < len(owners) else None
            key = (account, dims[0]["Value"])
            listed.setdefault(key, set()).add(metric["MetricName"])
    chosen = {key: choose_metric_names(names) for key, names in listed.items()}
    return {key: names for key, names in chosen.items() if names}


@dataclass(slots=True)
class CallResult:
    """Points per query Id of one call (all pages merged) and what CloudWatch noted.

    A query's points are two parallel lists, timestamps (epoch seconds) and values, as
    CloudWatch sends them: no object per datapoint.
    """

    series: dict[str, tuple[Sequence[float], Sequence[float]]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)

    def points(self, qid: str) -> list[tuple[float, float]]:
        stamps, values = self.series.get(qid, ((), ()))
        return list(zip(stamps, values, strict=True))


_FAILED = frozenset(("InternalError", "Forbidden"))  # a result's StatusCode: nothing usable


def fetch_call(client: CloudWatchClient, call: Call, usage: UsageCounter) -> CallResult:
    """Run one planned GetMetricData call, following NextToken, in whatever order it answers."""
    result = CallResult()
    series = result.series
    failed: dict[str, str] = {}  # Id -> status, as the last page that had the Id says
    queries = call.queries
    for page in _pages(client.get_metric_data, **call.request()):
        usage.get_metric_data_calls += 1
        usage.metrics_requested += len(queries)
        result.messages.extend(m.get("Value", m.get("Code", "")) for m in page.get("Messages", []))
        for item in page.get("MetricDataResults", []):
            qid = item["Id"]
            if qid not in queries:
                continue
            stamps = epochs(item.get("Timestamps", ()))
            values = item.get("Values", ())
            if len(stamps) != len(values):
                raise ValueError(f"{qid}: {len(stamps)} timestamps but {len(values)} values")
            earlier = series.get(qid)
            if earlier is None:
                series[qid] = (stamps, values)
            else:  # the rest of a series cut short on an earlier page
                series[qid] = ([*earlier[0], *stamps], [*earlier[1], *values])
            code = item.get("StatusCode")
            if code in _FAILED:
                failed[qid] = code
            elif failed:
                failed.pop(qid, None)
            for m in item.get("Messages", ()):
                result.messages.append(f"{queries[qid].key.model_id}: {m.get('Value', '')}")
    for qid, code in failed.items():
        result.failed.add(qid)
        result.messages.append(f"{queries[qid].key.model_id}: {code}")
    return result


def epochs(stamps: Sequence[datetime | float]) -> Sequence[float]:
    """A result's timestamps as epoch seconds. bedrock-top's own clients already give numbers
    (``wire``), passed on as they are; boto3's default (the demo, Stubber) gives datetimes."""
    if stamps and isinstance(stamps[0], datetime):
        return [int(ts.timestamp()) for ts in stamps]  # type: ignore[union-attr]
    return stamps  # type: ignore[return-value]


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
        # (model, tier) -> (the metric names they were chosen from, the series polled)
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
        from bedrock_top.figures.quota_match import account_tpd, match_quotas

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


def _attempt(poll: Callable[[], None]) -> BaseException | None:
    """Run one region's poll; its exception is returned, not raised, so others go on."""
    try:
        poll()
    except Exception as exc:
        return exc
    return None


def _window_value(stamps: Sequence[float], values: Sequence[float], start: int) -> float | None:
    """The single whole-window datapoint (the bucket that starts at the window start)."""
    for t, v in zip(stamps, values, strict=True):
        if t == start:
            return v
    return values[0] if len(values) == 1 else None


class Poller:
    """Polls every region and assembles snapshots."""

    def __init__(
        self,
        clients: Mapping[str, CloudWatchClient],
        settings: PollSettings,
        clock: Clock = time.time,
        prices: PriceTable | None = None,
        reconnect: Callable[[str], CloudWatchClient] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.prices = prices
        self.reconnect = reconnect  # region -> a new client, when credentials changed
        self._stale_credentials: set[str] = set()  # regions whose credentials were refused
        self._price_of: dict[str, Price | None] = {}
        self.regions = {
            name: RegionPoller(name, client, settings, clock) for name, client in clients.items()
        }
        self.last_poll_at: float | None = None
        self.profile: str | None = None  # for error messages that name the fix
        # Last good rows of each region, kept when that region fails on a later poll.
        self._good_rows: dict[str, list[ModelRow]] = {}
        self._region_errors: dict[str, str] = {}
        self._workers = (
            ThreadPoolExecutor(len(self.regions), "bedrock-top-region")
            if len(self.regions) > 1
            else None
        )

    def poll(self) -> Snapshot:
        """Poll every region (concurrently when there are several). A failing region keeps its
        last good rows and is named in ``Snapshot.region_errors``; only when every region
        fails does the error propagate (the caller then marks everything stale)."""
        names = list(self.regions)
        for name in self._stale_credentials:  # picks up credentials renewed since then
            self._reconnect(name)
        self._stale_credentials.clear()
        if self._workers is None:
            outcomes = [_attempt(self.regions[names[0]].poll)]
        else:
            outcomes = list(self._workers.map(lambda n: _attempt(self.regions[n].poll), names))
        failures = {name: exc for name, exc in zip(names, outcomes, strict=True) if exc}
        self._stale_credentials = {
            name for name, exc in failures.items() if needs_new_credentials(exc)
        }
        if len(failures) == len(names):
            raise next(iter(failures.values()))
        self.last_poll_at = self.clock()
        self._region_errors = {
            name: describe_error(exc, self.profile) for name, exc in failures.items()
        }
        return self.snapshot()

    def _reconnect(self, region: str) -> None:
        """A fresh client for the next attempt, so new credentials are picked up without a
        restart; if even that fails, the old client stays and the next poll tries again."""
        if self.reconnect is None:
            return
        try:
            self.regions[region].client = self.reconnect(region)
        except Exception:
            return

    def set_focus(self, row_keys: Iterable[str]) -> None:
        """Ask for every metric of these rows ("region|account|model") from the next poll on:
        the detail screen shows figures the table does not, and only it pays for them."""
        wanted: dict[str, set[ModelKey]] = {name: set() for name in self.regions}
        for row_key in row_keys:
            region, account, model_id = row_key.split("|", 2)
            if region in wanted:
                wanted[region].add((account or None, model_id))
        for name, region_poller in self.regions.items():
            region_poller.focus = frozenset(wanted[name])

    def set_quota_state(
        self,
        region: str,
        state: QuotaState,
        burndown_overrides: Mapping[str, int] | None = None,
    ) -> None:
        """Quotas read for ``region`` (from the Service Quotas and Bedrock APIs, or the disk
        cache): matched to the models from the next snapshot on. A failed read keeps the
        last catalogue it had and is named in ``Snapshot.quota_errors``."""
        region_poller = self.regions.get(region)
        if region_poller is None:
            return
        region_poller.quota_error = state.error
        region_poller.set_quotas(state.catalog, state.overrides, burndown_overrides or {})

    def set_cost_aware(self, cost_aware: bool) -> None:
        """From the next poll on, ask for only what the table shows (True) or for every metric
        of every model (False: the table shows or sorts by a window percentile, or an export
        wants every figure). Data already held is kept; new series load over the window."""
        self.settings = replace(self.settings, cost_aware=cost_aware)
        for region_poller in self.regions.values():
            region_poller.settings = self.settings

    def usage(self) -> ApiUsage:
        total = UsageCounter()
        for region in self.regions.values():
            total.get_metric_data_calls += region.usage.get_metric_data_calls
            total.list_metrics_calls += region.usage.list_metrics_calls
            total.metrics_requested += region.usage.metrics_requested
        frozen = total.frozen()
        last = sum(region.last_poll_metrics for region in self.regions.values())
        return replace(frozen, last_poll_metrics=last)

    def snapshot(self) -> Snapshot:
        now = self.last_poll_at if self.last_poll_at is not None else self.clock()
        period = self.settings.period_s
        end = align_down(now, period) + period
        rows: list[ModelRow] = []
        messages: list[str] = []
        cost_of = self._cost_of if self.prices is not None else None
        for name, region in self.regions.items():
            if name in self._region_errors:
                rows.extend(self._good_rows.get(name, ()))
                continue
            self._good_rows[name] = region.rows(now, cost_of)
            rows.extend(self._good_rows[name])
            messages.extend(region.messages)
        rows.sort(key=lambda r: (-r.window.invocations, r.region, r.info.model_id))
        return Snapshot(
            taken_at=now,
            window_start=end - self.settings.window_s,
            window_end=end,
            period=period,
            complete_until=int(now) - self.settings.settle_s,
            regions=tuple(self.regions),
            rows=tuple(rows),
            api=self.usage(),
            warnings=tuple(dict.fromkeys(messages)),
            region_errors=dict(self._region_errors),
            quota_errors={
                name: region.quota_error
                for name, region in self.regions.items()
                if region.quota_error is not None
            },
            tpd_account={
                name: daily
                for name, region in self.regions.items()
                if (daily := region.account_daily()) is not None
            },
        )

    def _cost_of(
        self, model_id: str, figures: WindowFigures, latest: Mapping[str, float | None]
    ) -> RowCost | None:
        return figures_cost(figures, latest, self._price(model_id))

    def _price(self, model_id: str) -> Price | None:
        if model_id not in self._price_of and self.prices is not None:
            self._price_of[model_id] = self.prices.lookup(model_id)
        return self._price_of.get(model_id)

    def clients(self) -> dict[str, CloudWatchClient]:
        """The client of each region."""
        return {name: region.client for name, region in self.regions.items()}

    def with_settings(self, settings: PollSettings) -> Poller:
        """A poller for new window/period settings that reuses the clients (reloads data)."""
        poller = Poller(self.clients(), replace(settings), self.clock, self.prices, self.reconnect)
        poller.profile = self.profile
        for name, region in self.regions.items():  # quotas do not depend on the window
            again = poller.regions[name]
            again.quota_error = region.quota_error
            again.set_quotas(
                region.quota_catalog, region.quota_overrides, region.burndown_overrides
            )
        self.close()
        return poller

    def close(self) -> None:
        """Let the region threads go (a poll already running finishes first)."""
        if self._workers is not None:
            self._workers.shutdown(wait=False)
