"""A braille time-series chart (like btop's graphs) for the detail pane and totals panel.

The chart is an area filled from zero: every dot column is as tall as its rate, against a
y axis that always starts at zero, so heights compare honestly. Time runs left to right
with the newest complete period at the right edge; periods still arriving are one dim
IN_PROGRESS cell, never a drop. Pure and stdlib-only: it returns styled text segments
whose style names the caller maps to colours.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from bedrock_top.views.spark import IN_PROGRESS, bucketize, fit_buckets

# Braille dot bits per dot column, bottom dot first (dots 7,3,2,1 and 8,6,5,4).
_LEFT_DOTS = (0x40, 0x04, 0x02, 0x01)
_RIGHT_DOTS = (0x80, 0x20, 0x10, 0x08)
_BRAILLE = 0x2800
# Candidate tick spacings in seconds; the smallest whose labels do not collide is used.
_TICK_STEPS = (60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800)


@dataclass(frozen=True, slots=True)
class Segment:
    """A run of cells in one style: "axis", "label", "bar", "partial", "marker",
    "threshold", or "" (blank)."""

    text: str
    style: str


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered chart: ``height`` lines of exactly ``width`` cells each."""

    lines: list[list[Segment]]
    top: float  # the value at the top of the y axis
    per_dot: int  # periods per dot column (k); 1 when each period spans >= 1 dot column


NICE = (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)  # mantissas of an axis top


def nice_top(value: float) -> float:
    """The smallest of ``NICE`` x 10^e that is >= ``value`` (1.0 for value <= 0): steps fine
    enough that the tallest column fills at least 3/4 of the height."""
    if value <= 0:
        return 1.0
    e = math.floor(math.log10(value))
    for exp in (e - 1, e, e + 1):
        for m in NICE:
            # Parsed, so 2.5e-3 is exactly the float 0.0025 (2.5 * 10.0**-3 may not be).
            cand = float(f"{m:g}e{exp}")
            if cand >= value:
                return cand
    return float(f"1e{e + 2}")  # unreachable: 1 x 10^(e+1) > value


def fmt_value(value: float) -> str:
    """Compact axis label: 2500 -> '2.5k', 0.25 -> '0.25', 3e6 -> '3M'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:g}{suffix}"
    return f"{value:g}"


def utc_hhmm(epoch: int) -> str:
    """An epoch second as UTC "HH:MM"."""
    return time.strftime("%H:%M", time.gmtime(epoch))


def column_heights(values: Sequence[float | None], top: float, rows: int) -> list[int]:
    """Filled dots per dot column on a zero-based scale of ``4 * rows`` dots.

    round(v / top * dots), but at least one dot for any v > 0 (any traffic is visible) and
    none for 0 or None (nothing happened / nothing known); never above the top.
    """
    dots = 4 * rows
    out: list[int] = []
    for v in values:
        if v is None or v <= 0 or top <= 0:
            out.append(0)
        else:
            # (to 1e-9 first: a mean of equal values that carries binary noise must not
            # land on the other side of a half dot, and draw a flat series as a step)
            out.append(min(dots, max(1, round(round(v / top * dots, 9)))))
    return out


def braille(left: int, right: int) -> str:
    """One braille cell with ``left``/``right`` (0..4) dots filled from the bottom."""
    bits = sum(_LEFT_DOTS[:left]) + sum(_RIGHT_DOTS[:right])
    return chr(_BRAILLE + bits) if bits else " "


@dataclass(frozen=True, slots=True)
class _XScale:
    """Where time sits on the dot columns of the complete-data area."""

    cols: list[float | None]  # one value per dot column; None left of the data too
    per_dot: int  # k
    dots_per_period: float  # d (>= 1) or 1/k
    right: int  # relative period index at the right edge of the data
    left: int  # relative period index at the left edge of the data
    first_bucket: int  # absolute bucket index of the oldest drawn bucket (k > 1 layout)
    x0: int  # first dot column holding data

    def x(self, i: float) -> float:
        """Dot-column coordinate of the boundary before relative period ``i``."""
        return len(self.cols) - (self.right - i) * self.dots_per_period

    def dot_of(self, i: int, offset: int) -> int:
        """The dot column that shows relative period ``i`` (a complete one)."""
        if self.per_dot == 1:
            d = int(self.dots_per_period)
            return self.x0 + i * d + d // 2
        return self.x0 + (i + offset) // self.per_dot - self.first_bucket


def _x_scale(values: Sequence[float | None], dots: int, offset: int, counter: bool) -> _XScale:
    """Spread ``n`` complete periods over ``dots`` dot columns, newest at the right.

    n <= dots: every period gets the same whole number of dot columns. A few periods more
    than dots (up to a quarter): the oldest are left out, so the rest keep one dot each
    rather than halving the resolution of the whole chart. Otherwise periods are bucketed
    exactly as the sparkline does (time-aligned means of k periods).
    """
    n = len(values)
    if n == 0:
        return _XScale([None] * dots, 1, 1.0, 0, 0, 0, dots)
    if n <= dots:
        d = dots // n
        x0 = dots - n * d
        per = bucketize(values, 1, offset=offset, counter=counter)
        cols: list[float | None] = [None] * x0
        cols += [v for v in per for _ in range(d)]
        return _XScale(cols, 1, float(d), n, 0, 0, x0)
    if n <= dots + dots // 4:
        crop = n - dots
        per = bucketize(values[crop:], 1, offset=offset + crop, counter=counter)
        return _XScale(list(per), 1, 1.0, n, crop, 0, -crop)
    buckets, k = fit_buckets(values, dots, offset=offset, counter=counter)
    last = (offset + n - 1) // k
    first = last - len(buckets) + 1
    x0 = dots - len(buckets)
    right = (last + 1) * k - offset
    left = max(0, first * k - offset)
    padded: list[float | None] = [None] * x0
    padded += buckets
    return _XScale(padded, k, 1.0 / k, right, left, first, x0)


def render_chart(
    values: Sequence[float | None],
    *,
    width: int,
    height: int,
    start: int,
    period: int,
    partial: int = 0,
    counter: bool = True,
    fmt: Callable[[float], str] = fmt_value,
    min_top: float = 0.0,
    threshold: float | None = None,
    threshold_label: str = "",
    markers: Collection[int] = (),
    time_fmt: Callable[[int], str] = utc_hhmm,
) -> Chart:
    """Draw a window's per-period ``values`` (oldest first) in ``width`` x ``height`` cells.

    ``start`` is the epoch second of ``values[0]`` and ``period`` the period length; the last
    ``partial`` values are still arriving and drawn as one IN_PROGRESS cell. ``counter``
    picks the None semantics of ``bucketize`` (None is 0 for counts, skipped for latencies).

    The y axis starts at zero and its top is the smallest nice number (1, 2, 2.5, 5 x 10^e)
    at least the tallest drawn value, ``min_top`` and ``threshold``. ``min_top`` keeps a
    sparse series honest: a 0/1 throttle series with ``min_top=10`` stays a low ripple
    instead of filling the chart like a wall. ``threshold`` (e.g. a quota) is a dotted line
    labelled ``threshold_label``. ``markers`` are indices into ``values`` (e.g. throttled
    minutes) marked with a cross on a line above the x axis. Raises ValueError when the
    chart cannot fit (height < 4, or fewer than 2 plot columns).
    """
    if height < 4:
        raise ValueError(f"height must be >= 4, got {height}")
    if period <= 0:
        raise ValueError(f"period must be > 0, got {period}")
    partial = max(0, min(partial, len(values)))
    n = len(values) - partial
    complete = values[:n]
    offset = start // period
    marker_rows = 1 if markers else 0
    rows = height - 2 - marker_rows

    # The gutter depends on the top label, which depends on the plot width: widen until stable.
    label_w = 1
    while True:
        plot_w = width - label_w - 2  # label, one space, the axis character
        data_cells = plot_w - (1 if partial else 0)
        if plot_w < 2 or data_cells < 1:
            raise ValueError(f"width {width} leaves no room to plot")
        xs = _x_scale(complete, 2 * data_cells, offset, counter)
        peak = max((v for v in xs.cols if v is not None), default=0.0)
        wanted = max(peak, min_top, threshold or 0.0)
        top = nice_top(wanted) if peak > 0 else nice_top(max(wanted, 1.0))
        top_label, zero_label = fmt(top), "0"
        need = max(len(top_label), len(zero_label))
        if need <= label_w:
            break
        label_w = need

    left = label_w + 2  # first plot column
    cells: list[list[tuple[str, str]]] = [[(" ", "")] * width for _ in range(height)]

    # Y axis.
    for r in range(rows + marker_rows):
        cells[r][left - 1] = ("│", "axis")
    for r, text in ((rows - 1, zero_label), (0, top_label)):
        for j, ch in enumerate(text.rjust(label_w)):
            cells[r][j] = (ch, "label" if ch != " " else "")
        cells[r][left - 1] = ("┤", "axis")

    # Bars.
    heights = column_heights(xs.cols, top, rows)
    for c in range(data_cells):
        hl, hr = heights[2 * c], heights[2 * c + 1]
        for r in range(rows):
            base = (rows - 1 - r) * 4
            ch = braille(min(4, max(0, hl - base)), min(4, max(0, hr - base)))
            if ch != " ":
                cells[r][left + c] = (ch, "bar")
    if partial:
        cells[rows - 1][left + data_cells] = (IN_PROGRESS, "partial")

    # Threshold: a dotted line across empty cells, its label at the right end if it fits.
    if threshold is not None and threshold >= 0:
        level = column_heights([threshold], top, rows)[0]
        r = rows - 1 - min(rows - 1, max(0, level - 1) // 4)
        row = cells[r]
        for c in range(left, width):
            if row[c][1] == "":
                row[c] = ("┈", "threshold")
        span = range(width - len(threshold_label), width)
        if threshold_label and span.start >= left and all(row[c][1] == "threshold" for c in span):
            for c, ch in zip(span, threshold_label, strict=True):
                row[c] = (ch, "threshold")

    # Markers: under the dot column showing each marked period.
    if markers:
        for i in markers:
            if 0 <= i < n:
                x = xs.dot_of(i, offset)
                if x >= max(0, xs.x0):
                    cells[rows][left + x // 2] = ("✕", "marker")
            elif n <= i < len(values):
                cells[rows][left + data_cells] = ("✕", "marker")

    # X axis and time labels.
    axis, labels = cells[height - 2], cells[height - 1]
    axis[left - 1] = ("└", "axis")
    for c in range(left, width):
        axis[c] = ("─", "axis")
    for col, pos, text in _time_labels(xs, n, start, period, left, data_cells, width, time_fmt):
        axis[col] = ("┬", "axis")
        for j, ch in enumerate(text):
            labels[pos + j] = (ch, "label")

    return Chart([_segments(line) for line in cells], top, xs.per_dot)


def _time_labels(
    xs: _XScale,
    n: int,
    start: int,
    period: int,
    left: int,
    data_cells: int,
    width: int,
    time_fmt: Callable[[int], str],
) -> list[tuple[int, int, str]]:
    """Ticks as (tick column, label column, label), right to left, labels one space apart;
    each label is centred on its tick where it fits. The rightmost is the end of the newest
    complete period; the others fall on round times (multiples of a tick step)."""
    if n == 0:
        return []

    def column(i: int) -> int:
        return left + min(data_cells - 1, max(0, math.floor(xs.x(i) / 2)))

    def place(col: int, text: str) -> int:
        return min(max(0, col - len(text) // 2), width - len(text))

    end_text = time_fmt(start + n * period)
    if len(end_text) > width:
        return []
    end_col = column(n)
    limit = place(end_col, end_text)  # labels must end before this column
    out = [(end_col, limit, end_text)]
    cells_per_period = xs.dots_per_period / 2
    gap = len(end_text) + 1
    step = next(
        (s for s in _TICK_STEPS if s % period == 0 and s / period * cells_per_period >= gap),
        None,
    )
    if step is None:
        return out
    i = n - 1
    while i >= xs.left:
        t = start + i * period
        if t % step == 0:
            text = time_fmt(t)
            if len(text) > width:
                break
            col = column(i)
            pos = place(col, text)
            if col < out[-1][0] and pos + len(text) < limit:
                out.append((col, pos, text))
                limit = pos
        i -= 1
    return out


def _segments(line: list[tuple[str, str]]) -> list[Segment]:
    """Merge runs of same-style cells."""
    out: list[Segment] = []
    text, style = "", line[0][1] if line else ""
    for ch, st in line:
        if st != style and text:
            out.append(Segment(text, style))
            text = ""
        text, style = text + ch, st
    if text:
        out.append(Segment(text, style))
    return out
