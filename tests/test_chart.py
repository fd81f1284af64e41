"""The braille chart: exact geometry, zero-based honest heights, time-aligned buckets."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.views.chart import (
    Chart,
    braille,
    column_heights,
    fmt_value,
    nice_top,
    render_chart,
    utc_hhmm,
)
from bedrock_top.views.spark import IN_PROGRESS, fit_buckets, periods_per_cell

START = 1_700_000_040  # 2023-11-14 22:14 UTC, a minute boundary
STYLES = {"axis", "label", "bar", "partial", "marker", "threshold", ""}
_LEFT = (0x40, 0x04, 0x02, 0x01)  # bottom dot first
_RIGHT = (0x80, 0x20, 0x10, 0x08)

values_st = st.lists(
    st.none() | st.floats(0, 1e7, allow_infinity=False, allow_subnormal=False), max_size=500
)


def text(line: Sequence[object]) -> str:
    return "".join(seg.text for seg in line)  # type: ignore[attr-defined]


def texts(chart: Chart) -> list[str]:
    return [text(line) for line in chart.lines]


def styles_at(chart: Chart, row: int) -> list[str]:
    """The style of every cell of one line."""
    return [seg.style for seg in chart.lines[row] for _ in seg.text]


def plot_left(chart: Chart) -> int:
    """The first plot column: just right of the y axis of the top line."""
    return texts(chart)[0].index("┤") + 1


def dot_heights(chart: Chart, rows: int) -> list[int]:
    """Decode the braille area back into filled dots per dot column (checking that every
    column is filled solidly from the bottom)."""
    lines = texts(chart)[:rows]
    left = plot_left(chart)
    heights: list[int] = []
    for c in range(left, len(lines[0])):
        for bits_of in (_LEFT, _RIGHT):
            filled: list[bool] = []
            for r in reversed(range(rows)):
                ch = lines[r][c]
                bits = ord(ch) - 0x2800 if 0x2800 <= ord(ch) <= 0x28FF else 0
                filled.extend(bool(bits & b) for b in bits_of)
            h = sum(filled)
            assert filled == [True] * h + [False] * (len(filled) - h), "not solid from zero"
            heights.append(h)
    return heights


def is_nice(value: float) -> bool:
    mantissa = value / 10 ** math.floor(math.log10(value))
    return any(math.isclose(mantissa, m) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10))


def nice_below(value: float) -> float:
    """The largest nice number strictly below ``value``."""
    e = math.floor(math.log10(value))
    cands = [m * 10.0**x for x in (e - 1, e) for m in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8)]
    return max(c for c in cands if c < value * (1 - 1e-9))


@given(
    values=values_st,
    width=st.integers(14, 160),
    height=st.integers(4, 30),
    partial=st.integers(0, 2),
    markers=st.lists(st.integers(-2, 510), max_size=6),
    threshold=st.none() | st.floats(0, 1e7, allow_nan=False),
    counter=st.booleans(),
)
def test_every_line_is_exactly_width_cells(
    values: list[float | None],
    width: int,
    height: int,
    partial: int,
    markers: list[int],
    threshold: float | None,
    counter: bool,
) -> None:
    draw = functools.partial(
        render_chart,
        values,
        width=width,
        height=height,
        start=START,
        period=60,
        partial=partial,
        counter=counter,
        markers=markers,
        threshold=threshold,
        threshold_label="quota",
    )
    chart = draw()
    assert len(chart.lines) == height
    for line in chart.lines:
        assert len(text(line)) == width
        assert all(seg.text and seg.style in STYLES for seg in line)
    assert chart == draw()  # pure and deterministic


@given(
    values=st.lists(st.floats(0.001, 1e9, allow_nan=False), min_size=1, max_size=60),
    height=st.integers(5, 20),
)
def test_y_axis_is_zero_based_and_topped_by_a_nice_number(values: list[float], height: int) -> None:
    chart = render_chart(values, width=140, height=height, start=START, period=60)
    lines = texts(chart)
    rows = height - 2
    assert lines[0].split("┤")[0].strip() == fmt_value(chart.top)
    assert lines[rows - 1].split("┤")[0].strip() == "0"
    assert is_nice(chart.top)
    assert chart.top >= max(values)  # few points: every period is drawn as is
    assert nice_below(chart.top) < max(values)  # and it is the smallest nice one


def test_top_label_uses_fmt_and_sets_the_gutter() -> None:
    chart = render_chart(
        [1200, 2400], width=30, height=5, start=START, period=60, fmt=lambda v: f"{v:.0f}/min"
    )
    lines = texts(chart)
    assert chart.top == 2500
    assert lines[0].startswith("2500/min ┤")
    assert lines[2].startswith("       0 ┤")
    assert lines[1].startswith("         │")


def test_nice_top() -> None:
    assert [nice_top(v) for v in (0, 0.3, 1, 1.01, 2.2, 3, 7, 10, 190, 259, 2400, 942_446)] == [
        1.0,
        0.3,
        1.0,
        1.2,
        2.5,
        3.0,
        8.0,
        10.0,
        200.0,
        300.0,
        2500.0,
        1_000_000.0,
    ]


@given(
    value=st.floats(0.01, 1e6, allow_nan=False),
    n=st.integers(1, 600),
    width=st.integers(16, 120),
    height=st.integers(4, 12),
    offset=st.integers(0, 10**6),
)
def test_constant_series_is_flat(
    value: float, n: int, width: int, height: int, offset: int
) -> None:
    chart = render_chart([value] * n, width=width, height=height, start=offset * 60, period=60)
    drawn = [h for h in dot_heights(chart, height - 2) if h]
    assert drawn
    assert len(set(drawn)) == 1


@given(
    n=st.integers(2, 600),
    width=st.integers(16, 120),
    height=st.integers(5, 12),
    offset=st.integers(0, 10**6),
    data=st.data(),
)
def test_single_spike_is_one_column_group_high(
    n: int, width: int, height: int, offset: int, data: st.DataObject
) -> None:
    rows = height - 2
    dots = 2 * (width - 5)  # a fixed-width top label keeps the plot width fixed

    def draw(values: list[float]) -> Chart:
        return render_chart(
            values, width=width, height=height, start=offset * 60, period=60, fmt=lambda v: "top"
        )

    crop = n - dots if dots < n <= dots + dots // 4 else 0  # a few too many: oldest left out
    k = 1 if crop else periods_per_cell(n, dots)
    at = data.draw(st.integers(max(crop, min(k, n - 1)), n - 1))  # not in a cut bucket
    values = [1.0] * n
    values[at] = 1.0 + 100.0 * k * rows
    chart = draw(values)
    assert plot_left(chart) == 5
    heights = dot_heights(chart, rows)
    tallest = max(heights)
    tall = [x for x, h in enumerate(heights) if h == tallest]
    assert tall == list(range(tall[0], tall[-1] + 1))  # one group of adjacent dot columns
    if k == 1:
        assert len(tall) == max(1, dots // n)  # one period's columns
    else:
        assert len(tall) == 1
    assert len({h for h in heights if h and h != tallest}) == 1


@given(
    values=st.lists(st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=40),
    height=st.integers(4, 14),
    partial=st.integers(0, 2),
)
def test_dot_heights_are_rounded_rates(values: list[float], height: int, partial: int) -> None:
    chart = render_chart(values, width=100, height=height, start=START, period=60, partial=partial)
    rows = height - 2
    n = len(values) - min(partial, len(values))
    heights = dot_heights(chart, rows)
    if partial:
        heights = heights[:-2]  # the IN_PROGRESS cell is not braille
    dots = len(heights)
    assert chart.per_dot == 1
    if n == 0:
        assert not any(heights)
        return
    d = dots // n
    expected = [0] * (dots - n * d)
    for v in values[:n]:
        h = round(v / chart.top * 4 * rows)
        expected += [min(4 * rows, max(1, h)) if v > 0 else 0] * d
    assert heights == expected
    assert heights == column_heights(
        [None] * (dots - n * d) + [v for v in values[:n] for _ in range(d)], chart.top, rows
    )
    tallest = max(range(n), key=lambda i: values[i])
    if values[tallest] > 0:
        assert heights[dots - n * d + tallest * d] == max(heights)


@given(
    values=st.lists(st.none() | st.floats(0, 1e6, allow_nan=False), min_size=1, max_size=900),
    width=st.integers(16, 90),
    height=st.integers(4, 10),
    offset=st.integers(0, 10**6),
    counter=st.booleans(),
)
def test_many_periods_use_the_sparkline_buckets(
    values: list[float | None], width: int, height: int, offset: int, counter: bool
) -> None:
    chart = render_chart(
        values, width=width, height=height, start=offset * 60, period=60, counter=counter
    )
    dots = 2 * (width - plot_left(chart))
    buckets, k = fit_buckets(values, dots, offset=offset, counter=counter)
    if len(values) <= dots + dots // 4:  # a dot per period (the oldest few cropped)
        assert chart.per_dot == 1
        return
    assert chart.per_dot == k == periods_per_cell(len(values), dots)
    expected = column_heights([None] * (dots - len(buckets)) + buckets, chart.top, height - 2)
    assert dot_heights(chart, height - 2) == expected
    peak = max((b for b in buckets if b is not None), default=0.0)
    assert chart.top >= peak


def test_column_heights_and_braille() -> None:
    assert column_heights([0, None, 0.01, 5, 10, 20], top=10, rows=2) == [0, 0, 1, 4, 8, 8]
    assert braille(0, 0) == " "
    assert braille(4, 4) == "⣿"
    assert braille(1, 0) == "⡀"
    assert braille(0, 2) == "⢠"


def test_min_top_keeps_a_zero_one_series_low() -> None:
    values = [0.0, 1.0, 0.0, 0.0, 1.0, 1.0]
    for height in (4, 6, 10, 22):
        rows = height - 2
        chart = render_chart(values, width=40, height=height, start=START, period=60, min_top=10)
        assert chart.top == 10
        assert max(dot_heights(chart, rows)) == max(1, round(4 * rows / 10))
        assert max(dot_heights(chart, rows)) <= max(1, math.ceil(4 * rows / 10))
    tall = render_chart(values, width=40, height=8, start=START, period=60)
    assert tall.top == 1
    assert max(dot_heights(tall, 6)) == 24  # without min_top: a wall


def test_all_zero_or_missing() -> None:
    assert render_chart([0, None, 0], width=30, height=5, start=START, period=60).top == 1
    chart = render_chart([0, 0], width=30, height=5, start=START, period=60, min_top=10)
    assert chart.top == 10
    assert not any(dot_heights(chart, 3))


def test_partial_is_one_in_progress_cell_at_the_bottom_right() -> None:
    chart = render_chart([5.0] * 10 + [0.2], width=40, height=6, start=START, period=60, partial=1)
    lines = texts(chart)
    rows = 4
    assert lines[rows - 1][-1] == IN_PROGRESS
    assert styles_at(chart, rows - 1)[-1] == "partial"
    assert all(line[-1] == " " for line in lines[: rows - 1])
    assert sum(line.count(IN_PROGRESS) for line in lines) == 1
    # The last complete period is the newest drawn column, at full height.
    assert dot_heights(chart, rows)[-3] == 16


def test_markers_fall_under_their_minutes() -> None:
    values = [3.0] * 20 + [1.0]
    chart = render_chart(
        values, width=52, height=8, start=START, period=60, partial=1, markers={0, 7, 19, 20}
    )
    lines = texts(chart)
    rows = 8 - 3
    marker_line = lines[rows]
    left = plot_left(chart)
    dots = 2 * (52 - left - 1)  # one cell kept for the partial period
    d = dots // 20
    x0 = dots - 20 * d
    want = {left + (x0 + i * d + d // 2) // 2 for i in (0, 7, 19)} | {51}  # 20 is partial
    got = {c for c, ch in enumerate(marker_line) if ch == "✕"}
    assert got == want
    assert {styles_at(chart, rows)[c] for c in got} == {"marker"}
    assert marker_line[left - 1] == "│"
    assert lines[rows + 1][left - 1] == "└"


def test_markers_with_buckets_mark_the_bucket_column() -> None:
    n = 400
    chart = render_chart([1.0] * n, width=50, height=6, start=START, period=60, markers=[n - 1])
    line = texts(chart)[3]
    assert line.rstrip().endswith("✕")
    assert len(line.rstrip()) == 50
    assert line.count("✕") == 1


def test_threshold_is_a_dotted_row_with_its_label() -> None:
    values = [10.0, 20.0, 30.0, 40.0]
    rows = 8
    chart = render_chart(
        values,
        width=60,
        height=rows + 2,
        start=START,
        period=60,
        threshold=90,
        threshold_label="quota",
    )
    assert chart.top == 100  # the threshold raises the top
    lines = texts(chart)
    # 90 of 100 is 28.8 -> 29 of 32 dots: in the eighth row from the bottom.
    (row,) = [r for r, line in enumerate(lines) if "┈" in line]
    assert row == rows - 8
    assert lines[row].endswith("┈quota")
    assert set(styles_at(chart, row)[plot_left(chart) :]) == {"threshold"}


def test_threshold_does_not_cover_bars_and_label_needs_room() -> None:
    chart = render_chart(
        [100.0] * 40,
        width=30,
        height=6,
        start=START,
        period=60,
        threshold=50,
        threshold_label="quota",
    )
    lines = texts(chart)
    assert "quota" not in "".join(lines)  # the bars fill that row's right end
    row = next(r for r, line in enumerate(lines) if "┈" in line)
    assert "⣿" in lines[row]


def labels_and_ticks(chart: Chart) -> tuple[list[tuple[int, str]], list[int]]:
    lines = texts(chart)
    axis, labels = lines[-2], lines[-1]
    ticks = [c for c, ch in enumerate(axis) if ch == "┬"]
    found: list[tuple[int, str]] = []
    c = 0
    while c < len(labels):
        if labels[c] != " ":
            end = labels.index(" ", c) if " " in labels[c:] else len(labels)
            found.append((c, labels[c:end]))
            c = end
        else:
            c += 1
    return found, ticks


@given(
    n=st.integers(1, 1400),
    width=st.integers(20, 200),
    partial=st.integers(0, 1),
    minute=st.integers(0, 1439),
    period=st.sampled_from([60, 300]),
)
def test_time_labels_are_round_times_under_their_ticks(
    n: int, width: int, partial: int, minute: int, period: int
) -> None:
    start = (START // 86400 * 86400 + minute * 60) // period * period
    n = min(n, 86400 // period - 1)  # HH:MM is unambiguous inside a day
    chart = render_chart(
        [1.0] * (n + partial), width=width, height=5, start=start, period=period, partial=partial
    )
    found, ticks = labels_and_ticks(chart)
    assert len(found) == len(ticks) >= 1
    ends = {utc_hhmm(start + i * period): i for i in range(n + 1)}
    times = [ends[label] for _, label in found]
    assert times == sorted(times)
    assert len(set(times)) == len(times)
    assert found[-1][1] == utc_hhmm(start + n * period)  # end of the newest complete period
    for (col, label), tick in zip(found, ticks, strict=True):
        assert len(label) == 5
        assert col <= tick < col + 5  # under its tick
    for (c1, l1), (c2, _) in itertools.pairwise(found):
        assert c1 + len(l1) < c2  # at least one space apart
    # All but the rightmost label fall on multiples of one tick step.
    round_times = [start + i * period for i in times[:-1]]
    if len(round_times) >= 2:
        step = min(b - a for a, b in itertools.pairwise(round_times))
        assert all(t % step == 0 for t in round_times)


def test_time_labels_example() -> None:
    chart = render_chart([5.0] * 60, width=70, height=5, start=START, period=60)
    found, _ = labels_and_ticks(chart)
    assert [label for _, label in found] == ["22:20", "22:30", "22:40", "22:50", "23:00", "23:14"]
    assert texts(chart)[-2].startswith("  └")


def test_custom_time_fmt_gets_epoch_seconds() -> None:
    seen: list[int] = []

    def fmt(t: int) -> str:
        seen.append(t)
        return "x"

    render_chart([1.0] * 3, width=30, height=4, start=START, period=60, time_fmt=fmt)
    assert START + 3 * 60 in seen


def test_no_complete_periods() -> None:
    chart = render_chart([7.0], width=20, height=4, start=START, period=60, partial=1)
    lines = texts(chart)
    assert lines[1].endswith(IN_PROGRESS)
    assert lines[-1].strip() == ""


def test_too_small() -> None:
    with pytest.raises(ValueError, match="height"):
        render_chart([1.0], width=40, height=3, start=START, period=60)
    with pytest.raises(ValueError, match="width"):
        render_chart([1.0], width=4, height=6, start=START, period=60)


def test_time_labels_wider_than_the_chart_are_left_out() -> None:
    chart = render_chart(
        [1.0] * 5, width=12, height=4, start=START, period=60, time_fmt=lambda t: "x" * 20
    )
    assert all(len(line) == 12 for line in texts(chart))
    assert texts(chart)[-1] == " " * 12
