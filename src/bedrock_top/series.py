"""Bounded per-series storage of what CloudWatch returned, aligned to the period grid.

Each series lives in a fixed-size ring of ``window / period`` slots, so memory depends on
the window, never on how long the monitor has run. A slot remembers which period it holds,
so a value that slid out of the window is simply ignored, and a re-fetched range
overwrites (never adds to) what was there: late CloudWatch data cannot be double-counted.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

_EMPTY = -1


class Ring:
    """Values of one per-period series for the last ``size`` periods."""

    __slots__ = ("period", "size", "stamps", "values")

    def __init__(self, period: int, size: int) -> None:
        self.period = period
        self.size = size
        self.stamps = array("q", [_EMPTY]) * size
        self.values = array("d", [0.0]) * size

    def _slot(self, t: int) -> int:
        return (t // self.period) % self.size

    def replace(self, start: int, end: int, points: Iterable[tuple[int, float]]) -> None:
        """Make [start, end) hold exactly ``points``: CloudWatch is the truth for that range.

        Periods inside the range without a point become empty ("no data"), points outside
        the ring's reach (older than ``end - size * period``) are dropped.
        """
        start = max(start, end - self.size * self.period)
        period, stamps = self.period, self.stamps
        for t in range(start - start % period, end, period):
            stamps[self._slot(t)] = _EMPTY
        for t, value in points:
            if start <= t < end:
                slot = self._slot(t)
                stamps[slot] = t
                self.values[slot] = value

    def get(self, t: int) -> float | None:
        slot = self._slot(t)
        return self.values[slot] if self.stamps[slot] == t else None

    def total(self, start: int, end: int) -> float:
        """Sum of the values stored for periods in [start, end)."""
        return sum(v for s, v in zip(self.stamps, self.values, strict=True) if start <= s < end)

    def points(self, start: int, end: int) -> list[float | None]:
        """One entry per period in [start, end), None where there is no data."""
        return [self.get(t) for t in range(start, end, self.period)]


@dataclass(slots=True)
class ModelSeries:
    """Everything stored for one (region, account, model)."""

    metric_names: dict[str, str]  # metric key -> CloudWatch name the model publishes
    rings: dict[tuple[str, str], Ring] = field(default_factory=dict)
    window_stats: dict[tuple[str, str], float | None] = field(default_factory=dict)
    # (metric, stat) -> end of the last range fetched for that series; a series missing here
    # is read over the whole window when it is next wanted.
    loaded: dict[tuple[str, str], int] = field(default_factory=dict)

    def window_total(self, metric: str, stat: str, start: int, end: int) -> float:
        ring = self.rings.get((metric, stat))
        return ring.total(start, end) if ring else 0.0

    def ring(self, metric: str, stat: str, period: int, size: int) -> Ring:
        key = (metric, stat)
        ring = self.rings.get(key)
        if ring is None:
            ring = self.rings[key] = Ring(period, size)
        return ring
