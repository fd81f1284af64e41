"""One-line sparklines, and the time bucketing they share with the braille chart.

Rules, so a steady series draws a steady line and the picture does not reshuffle as time
moves on:

* a cell shows a *rate* (the mean, or the max, of the periods it holds), never a sum, so a
  cell holding fewer periods than its neighbours does not read as a dip;
* every cell covers the same number of periods (``k``);
* cells are aligned to absolute time (period index ``// k``), so a cell's value changes only
  when one of its own periods does.

Pure and stdlib-only, so the table, the chart, exports and tests share it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BLOCKS = " ▁▂▃▄▅▆▇█"
NO_DATA = "·"
IN_PROGRESS = "░"  # incomplete periods: drawn as "still arriving", never as a low bar


def periods_per_cell(n: int, cells: int) -> int:
    """The fewest periods per cell (``k``) that fit ``n`` periods into ``cells`` cells."""
    if cells < 1:
        raise ValueError(f"cells must be >= 1, got {cells}")
    return max(1, -(-n // cells))


def bucketize(
    values: Sequence[float | None],
    k: int,
    *,
    offset: int = 0,
    how: str = "mean",
    counter: bool = True,
) -> list[float | None]:
    """Group complete per-period ``values`` (oldest first) into time-aligned buckets of ``k``.

    ``offset`` is the absolute index of ``values[0]`` (``window_start // period``): bucket
    boundaries fall where the absolute index is a multiple of ``k``, so they stay put as the
    window slides. The oldest and newest buckets may hold fewer than ``k`` periods; their
    value is still the mean (or max) of what they hold, a fair rate.

    ``counter=True`` (counts): a missing period means "no requests", so it counts as 0 and
    a bucket is None only when all of its periods are. ``counter=False`` (latencies): missing
    periods are skipped; None when nothing is present. ``how`` is "mean" or "max".
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if how not in ("mean", "max"):
        raise ValueError(f"how must be 'mean' or 'max', got {how!r}")
    out: list[float | None] = []
    i = 0
    n = len(values)
    while i < n:
        # Periods up to the next absolute multiple of k belong to this bucket.
        end = min(n, i + k - (i + offset) % k)
        chunk = values[i:end]
        present = [v for v in chunk if v is not None]
        if not present:
            out.append(None)
        elif how == "max":
            out.append(max(present))
        elif counter:
            out.append(sum(present) / len(chunk))
        else:
            out.append(sum(present) / len(present))
        i = end
    return out


def fit_buckets(
    values: Sequence[float | None],
    cells: int,
    *,
    offset: int = 0,
    how: str = "mean",
    counter: bool = True,
) -> tuple[list[float | None], int]:
    """Bucket ``values`` into at most ``cells`` cells; returns ``(buckets, k)``.

    Alignment can need one cell more than ``ceil(n / k)``; the oldest bucket (then always a
    partly filled one) is dropped rather than changing ``k``, which would make the picture
    jump between scales from one minute to the next.
    """
    k = periods_per_cell(len(values), cells)
    buckets = bucketize(values, k, offset=offset, how=how, counter=counter)
    return buckets[max(0, len(buckets) - cells) :], k


@dataclass(frozen=True, slots=True)
class Spark:
    """A rendered sparkline."""

    text: str  # exactly `width` cells, right-aligned, padded on the left with spaces
    partial: int  # trailing IN_PROGRESS cells (0 or 1), for the caller to dim
    per_cell: int  # periods per cell (k), so a header can say "3 min per cell"


def glyphs(buckets: Sequence[float | None]) -> str:
    """Block characters on a zero-based scale topped by the largest bucket.

    0 is blank ("nothing happened"), any traffic is at least one eighth, None is NO_DATA.
    """
    top = max((v for v in buckets if v is not None), default=0.0)
    levels = len(BLOCKS) - 1
    chars: list[str] = []
    for v in buckets:
        if v is None:
            chars.append(NO_DATA)
        elif v <= 0 or top <= 0:
            chars.append(BLOCKS[0])
        else:
            chars.append(BLOCKS[min(levels, max(1, round(v / top * levels)))])
    return "".join(chars)


def sparkline(
    values: Sequence[float | None],
    width: int,
    *,
    partial: int = 0,
    offset: int = 0,
    counter: bool = True,
    how: str = "mean",
) -> Spark:
    """Render all periods of a window (oldest first) into exactly ``width`` cells.

    The last ``partial`` periods are incomplete: they are never drawn as values (a minute
    still arriving must not read as a drop) but as one trailing IN_PROGRESS cell. The
    complete periods are bucketed with ``bucketize`` (``offset`` = absolute index of
    ``values[0]``).
    """
    if width <= 0:
        return Spark("", 0, 1)
    partial = max(0, min(partial, len(values)))
    tail = 1 if partial else 0
    cells = width - tail
    complete = values[: len(values) - partial]
    body, k = "", 1
    if cells > 0:
        buckets, k = fit_buckets(complete, cells, offset=offset, how=how, counter=counter)
        body = glyphs(buckets)
    text = (body + IN_PROGRESS * tail).rjust(width)
    return Spark(text, tail, k)
