"""What one region's poller knows of its quotas: the catalogue, the limits matched to its
models, which models' quota series a poll reads, and their figures for the rows.

The poller asks three things of it: which models need quota minutes and 24-hour totals this
poll (``choose``), and, when it builds rows, each model's ``RowQuota`` and the account-wide
daily figure. Everything else about quotas stays here.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping

from bedrock_top.cloudwatch.discovery import ModelKey
from bedrock_top.cloudwatch.quota_poll import minute_keys, model_minutes, quota_tokens
from bedrock_top.figures.burndown import burndown_of
from bedrock_top.figures.catalog import HEARTBEAT_SERIES
from bedrock_top.figures.quota_match import account_tpd, match_quotas
from bedrock_top.figures.quota_usage import (
    LOOKBACK_MINUTES,
    MINUTE,
    DailyUsage,
    QuotaMinutes,
    RowQuota,
    daily_usage,
    share_quotas,
)
from bedrock_top.figures.quotas import ModelQuotas, QuotaState, ServiceQuota
from bedrock_top.figures.series import ModelSeries

QuotaInputs = tuple[ModelQuotas, QuotaMinutes, float | None, int | None]


class RegionQuotas:
    """The quota side of one region's poller."""

    def __init__(self) -> None:
        self.state = QuotaState()  # the catalogue (None: none known) and the latest error
        self.limits: dict[ModelKey, ModelQuotas] = {}
        self.account_tpd: ServiceQuota | None = None
        self.minutes_now: set[ModelKey] = set()  # their quota minutes are read this poll
        self.day_now: set[ModelKey] = set()  # their 24-hour totals are read when due

    @property
    def error(self) -> str | None:
        """Why the latest quota read failed (the last good catalogue stays in use)."""
        return self.state.error

    @property
    def unknown(self) -> bool:
        """No quota can be shown: none was ever read, and reading failed."""
        return self.state.catalog is None and self.state.error is not None

    def use(self, state: QuotaState, models: Iterable[ModelKey]) -> None:
        """This catalogue (and error, and overrides) from the next poll on, matched to
        ``models``."""
        self.state = state
        self.match(models)

    def match(self, models: Iterable[ModelKey]) -> None:
        """Limits for every model of this account (a linked account's quotas are its own,
        and not read here)."""
        catalog = self.state.catalog
        if catalog is None:
            self.limits, self.account_tpd = {}, None
            return
        own = {k for k in models if k[0] is None or k[0] == catalog.account}
        matched = match_quotas(catalog, {k[1] for k in own}, self.state.overrides)
        self.limits = {k: q for k in own if (q := matched.get(k[1])) is not None and q}
        self.account_tpd = account_tpd(catalog)

    def needs_minutes(self, model: ModelKey) -> bool:
        """Whether the model has a per-minute quota (TPM or RPM), read minute by minute."""
        limits = self.limits.get(model)
        return limits is not None and (limits.tpm is not None or limits.rpm is not None)

    def needs_day(self, model: ModelKey) -> bool:
        """Whether the model's 24-hour total is read: a daily quota of its own, or the
        account-wide one (for a model of this account)."""
        limits = self.limits.get(model)
        if limits is not None and limits.tpd is not None:
            return True
        catalog = self.state.catalog
        return (
            self.account_tpd is not None
            and catalog is not None
            and model[0]
            in (
                None,
                catalog.account,
            )
        )

    def choose(self, active: Collection[ModelKey], *, more: bool = False) -> None:
        """The models (with traffic) whose quota series this poll reads; ``more``: add
        these (models that just woke up) to the poll's first choice."""
        minutes = {k for k in active if self.needs_minutes(k)}
        day = {k for k in active if self.needs_day(k)}
        if more:
            self.minutes_now |= minutes
            self.day_now |= day
        else:
            self.minutes_now, self.day_now = minutes, day

    def forget_unread(self, key: ModelKey, stored: ModelSeries) -> None:
        """Drop the quota series this poll did not read: re-read in full when wanted."""
        if key not in self.minutes_now and stored.minutes_loaded:
            stored.forget_minutes()
        if key not in self.day_now and stored.day_until is not None:
            stored.forget_day()

    def burndown(self, model_id: str) -> int:
        return burndown_of(self.state.catalog, model_id, self.state.burndown_overrides)

    def row_quotas(
        self,
        models: Mapping[ModelKey, ModelSeries],
        complete_until: int,
        window: tuple[int, int],
        window_s: int,
    ) -> dict[ModelKey, RowQuota]:
        """Each model's quota figures (a quota shared by several models sums them)."""
        inputs: dict[ModelKey, QuotaInputs] = {}
        for key, limits in self.limits.items():
            stored = models.get(key)
            if stored is not None and self._ready(key, stored, window, window_s):
                factor = self.burndown(key[1])
                minutes = model_minutes(stored, complete_until, factor)
                inputs[key] = (limits, minutes, quota_tokens(stored, factor), stored.day_until)
        return share_quotas(inputs)

    def _ready(
        self, key: ModelKey, stored: ModelSeries, window: tuple[int, int], window_s: int
    ) -> bool:
        """Whether a model's quota figures can be shown: its minutes are read, or it is idle
        over a window that covers the quota's hour (nothing to read: every minute is 0).
        Until then the row shows no quota figure rather than a false 0 %."""
        if not self.needs_minutes(key):
            return True  # a daily quota only: its total shows once read
        if all(k in stored.minutes_loaded for k in minute_keys(stored.metric_names)):
            return True
        if key in self.minutes_now or window_s < LOOKBACK_MINUTES * MINUTE:
            return False
        heartbeat = [stored.rings.get(s) for s in HEARTBEAT_SERIES if s in stored.loaded]
        return bool(heartbeat) and not any(r.has_data(*window) for r in heartbeat if r)

    def account_daily(self, models: Mapping[ModelKey, ModelSeries]) -> DailyUsage | None:
        """The account-wide daily quota against the 24-hour totals of the models read for it
        (those with traffic in the window: an idle model adds nothing to the last hour and
        is not read, so a model busy earlier in the day is missing from this sum)."""
        quota = self.account_tpd
        if quota is None:
            return None
        used, until = 0.0, None
        for (_account, model_id), stored in models.items():
            if stored.day_until is None:
                continue
            used += quota_tokens(stored, self.burndown(model_id)) or 0.0
            until = max(until or 0, stored.day_until)
        return daily_usage(quota, used, until) if until is not None else None
