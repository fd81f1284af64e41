"""Bounded per-series storage of what CloudWatch returned, aligned to the period grid.

Each series lives in a fixed-size ring of ``window / period`` slots, so memory depends on
the window, never on how long the monitor has run. A slot remembers which period it holds,
so a value that slid out of the window is simply ignored, and a re-fetched range
overwrites (never adds to) what was there: late CloudWatch data cannot be double-counted.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

_EMPTY = -1


# A ring's (values, stamps, slot of the window start) as bytes: see ``Ring.window_copy``.
RingCopy = tuple[bytes, bytes, int]


def copy_points(copy: RingCopy, start: int, period: int) -> tuple[float | None, ...]:
    """One entry per period from ``start`` (oldest first), None where there is no data."""
    raw_values, raw_stamps, first = copy
    values, stamps = array("d"), array("q")
    values.frombytes(raw_values[first * values.itemsize :] + raw_values[: first * values.itemsize])
    stamps.frombytes(raw_stamps[first * stamps.itemsize :] + raw_stamps[: first * stamps.itemsize])
    times = range(start, start + len(values) * period, period)
    return tuple(v if s == t else None for v, s, t in zip(values, stamps, times, strict=True))


@lru_cache(maxsize=8)
def _blank(size: int) -> tuple[array[int], array[float]]:
    """Empty stamps and zero values, ``size`` of each: the source that clears ring slices."""
    return array("q", [_EMPTY]) * size, array("d", [0.0]) * size


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

    def replace(self, start: int, end: int, stamps: Sequence[int], values: Sequence[float]) -> None:
        """Make [start, end) hold exactly the points (``stamps[i]``, ``values[i]``): CloudWatch
        is the truth for that range.

        Periods inside the range without a point become empty ("no data"), points outside
        the ring's reach (older than ``end - size * period``) are dropped.
        """
        if len(stamps) != len(values):
            raise ValueError(f"{len(stamps)} timestamps but {len(values)} values")
        period, size, ring_stamps, ring_values = self.period, self.size, self.stamps, self.values
        reach = end - size * period
        contiguous = (self.end is not None and start <= self.end) or start <= reach
        start = max(start, reach)
        first = start - start % period
        cleared = min(size, -((first - end) // period))  # periods in [first, end)
        if cleared > 0:  # slot math inlined and whole slices cleared: this is the hot path
            a = (first // period) % size
            b = min(size, a + cleared)
            empty_stamps, zeros = _blank(size)
            ring_stamps[a:b] = empty_stamps[: b - a]
            ring_values[a:b] = zeros[: b - a]
            wrapped = cleared - (b - a)
            if wrapped:
                ring_stamps[:wrapped] = empty_stamps[:wrapped]
                ring_values[:wrapped] = zeros[:wrapped]
        for t, value in zip(stamps, values, strict=True):
            if start <= t < end:
                slot = (t // period) % size
                ring_stamps[slot] = t
                ring_values[slot] = value
        self.end = end if contiguous else None

    def get(self, t: int) -> float | None:
        slot = self._slot(t)
        return self.values[slot] if self.stamps[slot] == t else None

    def total(self, start: int, end: int) -> float:
        """Sum of the values stored for periods in [start, end)."""
        if end == self.end and start == end - self.size * self.period:
            return math.fsum(self.values)  # the whole ring is exactly this window
        return sum(v for s, v in zip(self.stamps, self.values, strict=True) if start <= s < end)

    def window_copy(self, start: int, end: int) -> RingCopy:
        """An immutable copy of the periods in [start, end), for ``copy_points``.

        Another thread can read the copy while this ring keeps changing. It is raw bytes,
        which the garbage collector never scans, and is put in period order only when read:
        most copies never are (rows out of view, sparklines of other metrics).
        """
        if end - start == self.size * self.period:  # the poller's case: the ring's own span
            return self.values.tobytes(), self.stamps.tobytes(), self._slot(start)
        points = self.points(start, end)
        times = range(start, end, self.period)
        values = array("d", [0.0 if v is None else v for v in points])
        known = zip(points, times, strict=False)
        stamps = array("q", [_EMPTY if v is None else t for v, t in known])
        return values.tobytes(), stamps.tobytes(), 0

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
