"""Account-wide figures over a snapshot: the totals panel's numbers and its graphs.

Every figure is a plain sum of the rows' own figures, so the panel agrees with the table by
construction (and a test checks it against the rows). Pure; built in the poll worker thread,
since summing every row's series costs more than a frame on big accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bedrock_top.figures.quotas import QuotaKind
from bedrock_top.figures.snapshot import PRICED_KEYS, ModelRow, Snapshot

Series = tuple[float, ...]


@dataclass(frozen=True, slots=True)
class Totals:
    """Per-period series (oldest first, per minute or per hour as named) and window sums."""

    tokens_per_min: Series  # input + output tokens
    usd_per_hour: Series  # spend rate of the priced rows, period by period
    problems_per_min: Series  # client + server errors + throttles
    invocations: int
    errors: int
    throttles: int
    spend_usd_per_hour: float  # the rows' recent-span rate (the table's $/h column, summed)
    unpriced_models: int  # models with traffic in the window and no known price

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.invocations if self.invocations else None


def _sum(rows: Sequence[ModelRow], keys: Sequence[str], n: int, scale: float) -> Series:
    out = [0.0] * n
    for row in rows:
        w = row.window
        if not (w.invocations or w.throttles or w.client_errors or w.server_errors):
            continue  # an idle row adds nothing (and its series are never built)
        for key in keys:
            for i, v in enumerate(row.series[key]):
                if v:
                    out[i] += v
    return tuple(v * scale for v in out)


def account_totals(snapshot: Snapshot, rows: Sequence[ModelRow] | None = None) -> Totals:
    """Totals over ``rows`` (default: every row of the snapshot)."""
    rows = snapshot.rows if rows is None else rows
    n = len(snapshot.period_starts)
    per_min = 60 / snapshot.period
    usd = [0.0] * n
    for row in rows:
        cost = row.cost
        if cost is None or not row.window.invocations:
            continue
        for key, price in zip(PRICED_KEYS, cost.per_token, strict=True):
            if price:
                for i, v in enumerate(row.series[key]):
                    if v:
                        usd[i] += v * price
    hours = snapshot.period / 3600
    return Totals(
        tokens_per_min=_sum(rows, ("input_tokens", "output_tokens"), n, per_min),
        usd_per_hour=tuple(v / hours for v in usd),
        problems_per_min=_sum(rows, ("client_errors", "server_errors", "throttles"), n, per_min),
        invocations=sum(r.window.invocations for r in rows),
        errors=sum(r.window.errors for r in rows),
        throttles=sum(r.window.throttles for r in rows),
        spend_usd_per_hour=sum(r.cost.usd_per_hour or 0.0 for r in rows if r.cost),
        unpriced_models=sum(1 for r in rows if r.cost is None and r.window.invocations),
    )


def quota_worst(rows: Sequence[ModelRow]) -> tuple[ModelRow, QuotaKind, float] | None:
    """The row whose quota is fullest: (row, kind, percent), TPD counted by its daily use."""
    worst: tuple[ModelRow, QuotaKind, float] | None = None
    for row in rows:
        found = row.quota.worst() if row.quota is not None else None
        if found is not None and (worst is None or found[1] > worst[2]):
            worst = (row, found[0], found[1])
    return worst
