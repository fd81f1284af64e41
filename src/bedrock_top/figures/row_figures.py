"""The figures of a model row over the window, and its money: the types a row's price is
worked out from (every view prices tokens the same way), apart from the snapshot itself.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

RECENT_S = 15 * 60  # cost per hour is the token rate over this span, not one noisy minute


@dataclass(frozen=True, slots=True)
class WindowFigures:
    """The per-model figures over the whole window (the ``--once`` JSON contract)."""

    invocations: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    client_errors: int = 0
    server_errors: int = 0
    throttles: int = 0
    latency_avg_ms: float | None = None
    latency_p50_ms: float | None = None
    latency_p90_ms: float | None = None
    latency_p99_ms: float | None = None
    ttft_avg_ms: float | None = None
    ttft_p50_ms: float | None = None
    ttft_p90_ms: float | None = None
    ttft_p99_ms: float | None = None
    error_rate: float | None = None
    throttle_rate: float | None = None
    tpm_quota: int | None = None

    @property
    def errors(self) -> int:
        return self.client_errors + self.server_errors

    @property
    def cache_hit_ratio(self) -> float | None:
        """cache_read / (input + cache_read + cache_write); None without any input."""
        denom = self.input_tokens + self.cache_read_tokens + self.cache_write_tokens
        return self.cache_read_tokens / denom if denom else None


@dataclass(frozen=True, slots=True)
class RowCost:
    """Money figures of a row whose model has a known price (USD)."""

    window_usd: float  # tokens over the window at on-demand prices
    usd_per_hour: float | None  # at the token rate of the recent span; None: none complete
    cache_savings_usd: float  # what cache reads saved against the full input price
    # USD per token for (input, output, cache read, cache write), cache at the input price
    # where the model has none: lets charts price any period of the row's series
    per_token: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)


# (model id, window figures, per-minute token rates over the recent span) -> the row's money
# figures, None without a price
CostOf = Callable[[str, WindowFigures, Mapping[str, float | None]], RowCost | None]


def recent_periods(period: int) -> int:
    """How many complete periods make the recent span (at least one)."""
    return max(1, -(-RECENT_S // period))
