"""Bounded per-series storage of what CloudWatch returned, aligned to the period grid.

Each series lives in a fixed-size ring of ``window / period`` slots, so memory depends on
the window, never on how long the monitor has run. A slot remembers which period it holds,
so a value that slid out of the window is simply ignored, and a re-fetched range
overwrites (never adds to) what was there: late CloudWatch data cannot be double-counted.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field

_EMPTY = -1


class Ring:
    """Values of one per-period series for the last ``size`` periods."""

    __slots__ = ("end", "period", "size", "stamps", "values")

    def __init__(self, period: int, size: int) -> None:
        self.period = period
        self.size = size
        self.stamps = array("q", [_EMPTY]) * size
        self.values = array("d", [0.0]) * size  # 0.0 in every empty slot
        # End of the newest range replaced. Ranges are contiguous (each poll re-reads from
        # before the last one ended), so then every slot holds a period of
        # [end - size * period, end) or is empty: the window sum is a plain sum of ``values``.
        self.end: int | None = None

    def _slot(self, t: int) -> int:
        return (t // self.period) % self.size

    def replace(self, start: int, end: int, points: Iterable[tuple[int, float]]) -> None:
        """Make [start, end) hold exactly ``points``: CloudWatch is the truth for that range.

        Periods inside the range without a point become empty ("no data"), points outside
        the ring's reach (older than ``end - size * period``) are dropped.
        """
        period, size, stamps, values = self.period, self.size, self.stamps, self.values
        reach = end - size * period
        contiguous = (self.end is not None and start <= self.end) or start <= reach
        start = max(start, reach)
        for t in range(start - start % period, end, period):  # slot math inlined: hot path
            slot = (t // period) % size
            stamps[slot] = _EMPTY
            values[slot] = 0.0
        for t, value in points:
            if start <= t < end:
                slot = (t // period) % size
                stamps[slot] = t
                values[slot] = value
        self.end = end if contiguous else None

    def get(self, t: int) -> float | None:
        slot = self._slot(t)
        return self.values[slot] if self.stamps[slot] == t else None

    def total(self, start: int, end: int) -> float:
        """Sum of the values stored for periods in [start, end)."""
        if end == self.end and start == end - self.size * self.period:
            return math.fsum(self.values)  # the whole ring is exactly this window
        return sum(v for s, v in zip(self.stamps, self.values, strict=True) if start <= s < end)

    def window_arrays(self, start: int, end: int) -> tuple[array[float], array[int]] | None:
        """Copies of (values, stamps) in period order from ``start``, when [start, end) is
        exactly the ring's span; None otherwise. Copies are immutable snapshots that another
        thread can read while this ring keeps changing."""
        if end - start != self.size * self.period:
            return None
        first = self._slot(start)
        return (
            self.values[first:] + self.values[:first],
            self.stamps[first:] + self.stamps[:first],
        )

    def has_data(self, start: int, end: int) -> bool:
        """Whether any period in [start, end) holds a non-zero value (stops at the first)."""
        return any(v and start <= s < end for s, v in zip(self.stamps, self.values, strict=True))

    def points(self, start: int, end: int) -> list[float | None]:
        """One entry per period in [start, end), None where there is no data.

        Runs for every series on every snapshot, so it walks the arrays in slot order
        (a rotation) instead of looking up each period."""
        period, size = self.period, self.size
        first = self._slot(start)
        stamps = self.stamps[first:] + self.stamps[:first]
        values = self.values[first:] + self.values[:first]
        count = (end - start) // period
        if count > size:  # longer than the ring holds: the oldest periods are unknown
            return [None] * (count - size) + self.points(end - size * period, end)
        return [
            v if s == t else None
            for v, s, t in zip(values, stamps, range(start, end, period), strict=False)
        ]


@dataclass(slots=True)
class ModelSeries:
    """Everything stored for one (region, account, model)."""

    metric_names: dict[str, str]  # metric key -> CloudWatch name the model publishes
    rings: dict[tuple[str, str], Ring] = field(default_factory=dict)
    window_stats: dict[tuple[str, str], float | None] = field(default_factory=dict)
    # (metric, stat) -> end of the last range fetched for that series; a series missing here
    # is read over the whole window when it is next wanted.
    loaded: dict[tuple[str, str], int] = field(default_factory=dict)

    def ring(self, metric: str, stat: str, period: int, size: int) -> Ring:
        key = (metric, stat)
        ring = self.rings.get(key)
        if ring is None:
            ring = self.rings[key] = Ring(period, size)
        return ring
