"""What to poll (window, period, discovery scope) and the tally of what was asked of
CloudWatch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from bedrock_top.figures.snapshot import ApiUsage


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
    # The views polled at all ("models" and ``figures.surfaces`` names) and the one on
    # screen, polled in full (the others only for a heartbeat).
    views: tuple[str, ...] = ("models",)
    visible: str = "models"
    # A past window's end (epoch seconds, --end); None: the live window, ending now.
    end: float | None = None
    period_note: str | None = None  # why ``period_s`` is coarser than asked (retention)

    @property
    def models_in_background(self) -> bool:
        """The models table is not on screen: every model is polled for its heartbeat only."""
        return self.visible != "models"

    @property
    def overlap_s(self) -> int:
        """How far back every incremental poll re-reads, to pick up late datapoints."""
        return max(3, math.ceil(300 / self.period_s)) * self.period_s

    @property
    def recently_active_only(self) -> bool:
        """``RecentlyActive=PT3H`` only fits live windows of at most three hours (a past
        window lists every metric CloudWatch still lists)."""
        return not self.all_models and self.end is None and self.window_s <= 3 * 3600

    def window_end(self, now: float) -> int:
        """The window's end: the live window takes in the period under way, a past one ends
        at the period boundary at or before ``end``."""
        period = self.period_s
        if self.end is None:
            return int(now // period) * period + period
        return int(self.end // period) * period

    def complete_until(self, now: float) -> int:
        """Periods ending at or before this are complete (CloudWatch has published them):
        ``settle_s`` before the real ``now``, and at most the end of a past window (its
        quota figures are those of its last minutes)."""
        settled = int(now) - self.settle_s
        return settled if self.end is None else min(settled, self.window_end(now))


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
