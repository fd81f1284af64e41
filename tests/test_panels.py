"""What the charts show: rates per minute from the rows' own series, zero-based scales with a
stated floor for small counts, throttled minutes marked, the minute still arriving apart."""

from __future__ import annotations

import math

from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.row_figures import WindowFigures
from bedrock_top.figures.snapshot import SERIES_KEYS, ModelRow, Snapshot
from bedrock_top.views.chart import render_chart
from bedrock_top.views.panels import PROBLEM_FLOOR, model_charts, per_minute, throttled_periods

START = 1_790_000_000 - 1_790_000_000 % 3600
N = 60


def snapshot_with(series: dict[str, tuple[float | None, ...]]) -> tuple[Snapshot, ModelRow]:
    full = {k: series.get(k, (None,) * N) for k in SERIES_KEYS}
    row = ModelRow("us-east-1", None, parse_model_id("amazon.nova-pro-v1:0"), WindowFigures(), full)
    snap = Snapshot(
        taken_at=START + N * 60,
        window_start=START,
        window_end=START + N * 60,
        period=60,
        complete_until=START + (N - 1) * 60,  # the last minute is still arriving
        regions=("us-east-1",),
        rows=(row,),
    )
    return snap, row


def test_a_zero_one_throttle_series_is_not_a_wall() -> None:
    throttles = tuple(float(i % 2) for i in range(N))
    snap, row = snapshot_with({"throttles": throttles, "invocations": (50.0,) * N})
    chart = next(c for c in model_charts(row, snap, every=True) if c.title == "Throttles/min")
    assert chart.min_top == PROBLEM_FLOOR
    drawn = render_chart(
        chart.values,
        width=80,
        height=10,
        start=chart.start,
        period=chart.period,
        partial=chart.partial,
        min_top=chart.min_top,
    )
    assert drawn.top >= PROBLEM_FLOOR
    rows = 8
    # A throttle a minute fills at most a tenth of the height (rounded up to one dot).
    assert math.ceil(1 / drawn.top * rows * 4) <= 4
    # ...and the minutes it happened in are marked on the invocations chart.
    inv = next(c for c in model_charts(row, snap) if c.title.startswith("Invocations/min"))
    assert inv.markers == throttled_periods(row, snap)
    assert set(inv.markers) == {i for i in range(N - 1) if i % 2}


def test_charts_are_per_minute_rates_and_keep_the_partial_minute_apart() -> None:
    snap, row = snapshot_with({"invocations": tuple(float(i) for i in range(N))})
    inv = next(c for c in model_charts(row, snap) if c.title.startswith("Invocations/min"))
    assert inv.values == tuple(float(i) for i in range(N))
    assert inv.partial == 1
    assert inv.summary == f"now {N - 2} · max {N - 2}"  # the partial minute is not "now"
    assert per_minute([300.0, None], 300) == [60.0, None]


def test_output_speed_is_tokens_per_request_over_generation_time() -> None:
    snap, row = snapshot_with(
        {
            "invocations": (10.0,) * N,
            "output_tokens": (5_000.0,) * N,
            "latency_avg": (2_500.0,) * N,
            "ttft_avg": (500.0,) * N,
        }
    )
    charts = model_charts(row, snap, every=True)
    speed = next(c for c in charts if c.title == "Output tokens/s per request")
    assert speed.values == (250.0,) * N  # 500 tokens per request over 2 s of generation
    assert not speed.counter  # a level: a minute without requests has no speed, not 0
