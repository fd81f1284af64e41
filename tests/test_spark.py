"""Sparklines: a cell is a rate, cells cover equal time, and cells are aligned to the clock."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.views.spark import (
    BLOCKS,
    IN_PROGRESS,
    NO_DATA,
    Spark,
    bucketize,
    fit_buckets,
    glyphs,
    periods_per_cell,
    sparkline,
)

widths = st.integers(4, 80)
lengths = st.integers(1, 400)
offsets = st.integers(0, 10**8)
positive = st.floats(0.5, 1e6, allow_nan=False, allow_infinity=False)


def body(spark: Spark) -> str:
    """The drawn cells: the text without its left padding and trailing IN_PROGRESS cell."""
    text = spark.text[: len(spark.text) - spark.partial]
    return text.lstrip(" ")


def test_steady_190_per_minute_is_flat_not_a_zigzag() -> None:
    # The bug: 60 points summed into buckets of 3 and 2 drew "▇▅█▅█▅█▅".
    spark = sparkline([190.0] * 60, 24, offset=28_333_334)
    assert set(body(spark)) == {"█"}
    assert spark.per_cell == 3
    assert len(spark.text) == 24


@given(value=positive, width=widths, n=lengths, offset=offsets, partial=st.integers(0, 2))
def test_constant_series_is_one_glyph(
    value: float, width: int, n: int, offset: int, partial: int
) -> None:
    spark = sparkline([value] * (n + partial), width, partial=partial, offset=offset)
    assert len(spark.text) == width
    assert set(body(spark)) == {"█"}


@given(
    base=positive,
    width=widths,
    n=st.integers(2, 400),
    offset=offsets,
    data=st.data(),
)
def test_single_spike_raises_exactly_one_cell(
    base: float, width: int, n: int, offset: int, data: st.DataObject
) -> None:
    k = periods_per_cell(n, width)
    # Not in the oldest bucket, which alignment may push out of a full-width line.
    at = data.draw(st.integers(min(k, n - 1), n - 1))
    values = [base] * n
    values[at] = base + base * 16 * k  # tall enough to be a different glyph after averaging
    cells = body(sparkline(values, width, offset=offset))
    assert cells.count("█") == 1
    others = {c for c in cells if c != "█"}
    assert len(others) == 1
    assert BLOCKS.index(others.pop()) < len(BLOCKS) - 1


@given(
    values=st.lists(positive, min_size=1, max_size=400),
    width=widths,
    offset=offsets,
    partial=st.integers(0, 3),
)
def test_cells_cover_the_window_and_fit(
    values: list[float], width: int, offset: int, partial: int
) -> None:
    partial = min(partial, len(values) - 1)
    spark = sparkline(values, width, partial=partial, offset=offset)
    n_complete = len(values) - partial
    used = len(body(spark))  # positive values: no blank cells inside the body
    assert len(spark.text) == width
    assert used <= width - spark.partial
    assert spark.per_cell * used >= n_complete
    assert spark.per_cell == periods_per_cell(n_complete, width - spark.partial)


@given(values=st.lists(positive, min_size=1, max_size=100), width=widths, partial=st.integers(1, 5))
def test_partial_periods_are_one_trailing_in_progress_cell(
    values: list[float], width: int, partial: int
) -> None:
    spark = sparkline(values, width, partial=partial)
    assert spark.partial == 1
    assert spark.text.endswith(IN_PROGRESS)
    assert spark.text.count(IN_PROGRESS) == 1
    assert len(spark.text) == width


def test_partial_minute_never_reads_as_a_drop() -> None:
    spark = sparkline([100.0] * 10 + [3.0], 12, partial=1)
    assert spark.text == " " + "█" * 10 + IN_PROGRESS


def test_no_partial_means_no_in_progress_cell() -> None:
    spark = sparkline([1.0, 2.0], 6)
    assert spark.partial == 0
    assert IN_PROGRESS not in spark.text


def test_counter_none_is_zero_requests() -> None:
    assert bucketize([10, None, 10, None], 2) == [5, 5]
    assert bucketize([None, None, 4, None], 2) == [None, 2]


def test_latency_none_is_skipped() -> None:
    assert bucketize([10, None, 30, None], 2, counter=False) == [10, 30]
    assert bucketize([None, None, 4, 8], 2, counter=False) == [None, 6]
    assert bucketize([None, 3, 4, 8], 2, counter=False, how="max") == [3, 8]


def test_buckets_follow_absolute_time() -> None:
    # offset 1 with k 3: absolute indices 1,2 | 3,4,5 | 6 -> a short oldest and newest bucket.
    assert bucketize([1, 2, 3, 4, 5, 6], 3, offset=1) == [1.5, 4, 6]
    # A short bucket is still a rate (mean), never a sum.
    assert bucketize([6, 6, 6, 6], 3, offset=2) == [6, 6]


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="k must be"):
        bucketize([1], 0)
    with pytest.raises(ValueError, match="how must be"):
        bucketize([1], 1, how="sum")
    with pytest.raises(ValueError, match="cells must be"):
        periods_per_cell(3, 0)


@given(
    values=st.lists(st.none() | positive, min_size=2, max_size=300),
    new=st.none() | positive,
    k=st.integers(1, 12),
    offset=offsets,
    counter=st.booleans(),
    how=st.sampled_from(["mean", "max"]),
)
def test_sliding_the_window_keeps_full_buckets(
    values: list[float | None],
    new: float | None,
    k: int,
    offset: int,
    counter: bool,
    how: str,
) -> None:
    before = bucketize(values, k, offset=offset, counter=counter, how=how)
    after = bucketize([*values[1:], new], k, offset=offset + 1, counter=counter, how=how)
    n = len(values)
    before_by_j = {offset // k + j: v for j, v in enumerate(before)}
    after_by_j = {(offset + 1) // k + j: v for j, v in enumerate(after)}
    # Buckets wholly inside both windows: absolute periods offset+1 .. offset+n-1.
    first_full = -(-(offset + 1) // k)
    last_full = (offset + n) // k - 1
    for j in range(first_full, last_full + 1):
        assert before_by_j[j] == after_by_j[j]


def test_fit_buckets_drops_only_the_short_oldest_bucket() -> None:
    # 48 periods in 24 cells: k 2; an odd offset needs 25 buckets, the oldest holds 1 period.
    buckets, k = fit_buckets(list(range(48)), 24, offset=1)
    assert k == 2
    assert len(buckets) == 24
    assert buckets[0] == 1.5  # periods 1, 2 (absolute 2, 3); period 0 (absolute 1) dropped


def test_glyph_scale() -> None:
    assert glyphs([0, 1, 8, None]) == " ▁█" + NO_DATA
    assert glyphs([0, 0]) == "  "  # nothing happened: blank
    assert glyphs([1, 1000]) == "▁█"  # any traffic is visible


def test_width_edge_cases() -> None:
    assert sparkline([1.0], 0) == Spark("", 0, 1)
    assert sparkline([1.0, 2.0], 1, partial=1) == Spark(IN_PROGRESS, 1, 1)
    assert sparkline([], 5).text == " " * 5
