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
from typing import Any

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


def _put(ring: array[Any], slot: int, run: array[Any]) -> None:
    """Write ``run`` into ``ring`` from ``slot`` on, wrapping around its end."""
    room = len(ring) - slot
    if len(run) <= room:
        ring[slot : slot + len(run)] = run
    else:
        ring[slot:] = run[:room]
        ring[: len(run) - room] = run[room:]


class Span:
    """Where a write of [start, end) lands in rings of one (period, size).

    Every series of a GetMetricData call shares its range, so this is worked out once per
    call (``span`` caches it), not once per series: the write itself is then two slice
    copies in the usual case.
    """

    __slots__ = (
        "asked",
        "end",
        "first",
        "prefixes",
        "reach",
        "slot",
        "stamp_runs",
        "start",
        "stop",
        "zero_runs",
    )

    def __init__(self, start: int, end: int, period: int, size: int) -> None:
        self.asked = start  # as requested: tells whether the ring stays contiguous
        self.end = end
        self.reach = end - size * period  # older points no longer fit in the ring
        self.start = max(start, self.reach)
        self.first = self.start - self.start % period
        self.slot = (self.first // period) % size
        # The period starts in [first, end). For each count n: the first n of them, the ring
        # stamps of a write holding exactly those (the rest empty; [0]: all empty) and the
        # zeros that follow n values.
        grid = list(range(self.first, end, period))[:size]
        width = len(grid)
        self.prefixes = [grid[:n] for n in range(width + 1)]
        empty, full = array("q", [_EMPTY]) * width, array("q", grid)
        self.stamp_runs = [full[:n] + empty[n:] for n in range(width + 1)]
        self.zero_runs = _zero_runs(width)
        # Where the write ends in the ring, or 0 when it wraps around the ring's end.
        self.stop = self.slot + width if self.slot + width <= size else 0


@lru_cache(maxsize=16)
def span(start: int, end: int, period: int, size: int) -> Span:
    """The ``Span`` of [start, end) in rings of (period, size), built once per call range."""
    return Span(start, end, period, size)


@lru_cache(maxsize=64)
def _zero_runs(width: int) -> list[array[float]]:
    """``[n]``: the zeros that follow n values in a write of ``width`` periods."""
    return [array("d", [0.0]) * (width - n) for n in range(width + 1)]


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

    def replace(
        self, start: int, end: int, stamps: Sequence[float], values: Sequence[float]
    ) -> None:
        """Make [start, end) hold exactly the points (``stamps[i]``, ``values[i]``): CloudWatch
        is the truth for that range.

        Periods inside the range without a point become empty ("no data"), points outside
        the ring's reach (older than ``end - size * period``) are dropped.
        """
        self.write(span(start, end, self.period, self.size), stamps, values)

    def write(self, where: Span, stamps: Sequence[float], values: Sequence[float]) -> None:
        """``replace`` for a range already placed (the hot path: once per series per poll)."""
        count = len(stamps)
        if count != len(values):
            raise ValueError(f"{count} timestamps but {len(values)} values")
        if (self.end is not None and where.asked <= self.end) or where.asked <= where.reach:
            self.end = where.end
        else:
            self.end = None
        if count < len(where.prefixes) and stamps == where.prefixes[count]:
            # The usual answer for a busy model: a point for every period up to the newest
            # one CloudWatch has published, in order. Two slice copies, not point by point.
            run = array("d", values) + where.zero_runs[count]
            if where.stop:
                self.stamps[where.slot : where.stop] = where.stamp_runs[count]
                self.values[where.slot : where.stop] = run
            else:
                _put(self.stamps, where.slot, where.stamp_runs[count])
                _put(self.values, where.slot, run)
            return
        _put(self.stamps, where.slot, where.stamp_runs[0])
        _put(self.values, where.slot, where.zero_runs[0])
        period, size, ring_stamps, ring_values = self.period, self.size, self.stamps, self.values
        start, end = where.start, where.end
        for stamp, value in zip(stamps, values, strict=True):
            if start <= stamp < end:
                t = int(stamp)  # (epoch seconds may come as floats)
                slot = (t // period) % size
                ring_stamps[slot] = t
                ring_values[slot] = value

    def get(self, t: int) -> float | None:
        slot = self._slot(t)
        return self.values[slot] if self.stamps[slot] == t else None

    def recent_total(self, last: int, count: int) -> float:
        """Sum of the ``count`` periods ending with the one starting at ``last`` (cheap: only
        those slots are read; money rates read this for every priced row on every poll)."""
        period, stamps, values = self.period, self.stamps, self.values
        total = 0.0
        for t in range(last - (min(count, self.size) - 1) * period, last + period, period):
            slot = self._slot(t)
            if stamps[slot] == t:
                total += values[slot]
        return total

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

    def read(
        self, start: int, end: int, t: int, summed: bool
    ) -> tuple[float | None, RingCopy, float | None]:
        """(``total`` if ``summed``, ``window_copy``, ``get(t)``) in one call: what a snapshot
        takes of every series of every model on every poll, so the usual case is inlined."""
        if end - start != self.size * self.period:  # a window other than the ring's span
            total = self.total(start, end) if summed else None
            return total, self.window_copy(start, end), self.get(t)
        values, stamps, period, size = self.values, self.stamps, self.period, self.size
        if not summed:
            total = None
        elif end == self.end:
            total = math.fsum(values)
        else:
            total = self.total(start, end)
        slot = (t // period) % size
        value = values[slot] if stamps[slot] == t else None
        return total, (values.tobytes(), stamps.tobytes(), (start // period) % size), value

    def counts(self, start: int, count: int) -> list[float]:
        """``count`` per-period values from ``start``, 0.0 where there is no data (a counter's
        reading). While the ring is contiguous and holds the span, every slot is a period of
        it or empty (0.0): one rotation of the values, done in C."""
        period, size = self.period, self.size
        end = start + count * period
        if self.end is not None and self.end - size * period <= start and end <= self.end:
            first = self._slot(start)
            values = self.values[first:] + self.values[:first]
            return values[:count].tolist()
        return [v or 0.0 for v in self.points(start, end)]

    def has_data(self, start: int, end: int) -> bool:
        """Whether any period in [start, end) holds a non-zero value."""
        if self.end is not None and not (start % self.period or end % self.period):
            # Contiguous: every slot holds a period of [reach, self.end) or nothing (0.0). At
            # the start of a poll the window is that span moved on by a period or so: count
            # the non-zero values in C, less those of the few periods outside the window.
            period = self.period
            reach = self.end - self.size * period
            outside = [*range(reach, min(start, self.end), period)]
            outside += range(max(end, reach), self.end, period)
            if len(outside) <= 2:
                nonzero = self.size - self.values.count(0.0)
                return nonzero > sum(1 for t in outside if self.get(t))
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
    # Quota figures: 1-minute rings of the last hour and so (metric key -> ring), the end of
    # the last range each was read over, and 24-hour sums read at ``day_until``.
    minutes: dict[str, Ring] = field(default_factory=dict)
    minutes_loaded: dict[str, int] = field(default_factory=dict)
    day_sums: dict[str, float] = field(default_factory=dict)
    day_until: int | None = None

    def forget_minutes(self) -> None:
        """Drop the quota minutes: re-read in full when the model needs them again."""
        self.minutes.clear()
        self.minutes_loaded.clear()

    def forget_day(self) -> None:
        self.day_sums.clear()
        self.day_until = None

    def ring(self, series_id: tuple[str, str], period: int, size: int) -> Ring:
        """The ring of (metric, stat), made on first use."""
        ring = self.rings.get(series_id)
        if ring is None:
            ring = self.rings[series_id] = Ring(period, size)
        return ring
