"""Bounded series storage (``Ring``) and the exact window figures built from it (``build_row``)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_top.figures.catalog import SAMPLE_COUNT, SUM
from bedrock_top.figures.series import ModelSeries, Ring, copy_points
from bedrock_top.figures.snapshot import ModelRow, Snapshot, build_row

P = 60
T0 = 1_750_000_020  # a whole minute (1_750_000_020 % 60 == 0)


def minute(i: int) -> int:
    return T0 + i * P


def put(ring: Ring, start: int, end: int, points: list[tuple[int, float]]) -> None:
    """``Ring.replace`` with (timestamp, value) pairs."""
    ring.replace(start, end, [t for t, _ in points], [v for _, v in points])


# --- Ring ---------------------------------------------------------------------------------


def test_replace_overwrites_late_data_instead_of_adding() -> None:
    ring = Ring(P, 10)
    put(ring, minute(0), minute(5), [(minute(2), 5.0), (minute(3), 1.0)])
    # The same range fetched again after CloudWatch corrected minute 2.
    put(ring, minute(0), minute(5), [(minute(2), 8.0), (minute(3), 1.0)])
    assert ring.get(minute(2)) == 8.0
    assert ring.total(minute(0), minute(5)) == 9.0


def test_replaced_periods_without_a_point_become_empty() -> None:
    ring = Ring(P, 10)
    put(ring, minute(0), minute(5), [(minute(i), 1.0) for i in range(5)])
    put(ring, minute(2), minute(5), [(minute(4), 3.0)])
    assert ring.points(minute(0), minute(5)) == [1.0, 1.0, None, None, 3.0]
    assert ring.total(minute(0), minute(5)) == 5.0


def test_periods_outside_the_replaced_range_are_kept() -> None:
    ring = Ring(P, 10)
    put(ring, minute(0), minute(6), [(minute(i), float(i)) for i in range(6)])
    put(ring, minute(4), minute(7), [(minute(6), 60.0)])
    assert ring.points(minute(0), minute(7)) == [0.0, 1.0, 2.0, 3.0, None, None, 60.0]


def test_old_periods_that_slid_out_are_ignored() -> None:
    ring = Ring(P, 10)
    put(ring, minute(0), minute(10), [(minute(i), 1.0) for i in range(10)])
    # Much later, only part of the new window is fetched: slots of minutes 0..4 are reused
    # by minutes 100..104, which have no data; the old values must not show through.
    put(ring, minute(105), minute(110), [(minute(107), 4.0)])
    assert ring.total(minute(100), minute(110)) == 4.0
    assert ring.points(minute(100), minute(110)) == [None] * 7 + [4.0, None, None]
    assert ring.get(minute(100)) is None


def test_points_outside_the_reach_of_the_ring_are_dropped() -> None:
    ring = Ring(P, 5)
    points = [(minute(i), 1.0) for i in range(12)]
    put(ring, minute(0), minute(10), points)
    # Only [end - 5 periods, end) is kept; minute 10 and 11 are at or after the end.
    assert ring.points(minute(5), minute(10)) == [1.0] * 5
    assert ring.get(minute(0)) is None
    assert ring.get(minute(10)) is None
    assert ring.total(0, minute(100)) == 5.0


def test_points_before_the_replaced_range_are_dropped() -> None:
    ring = Ring(P, 10)
    put(ring, minute(5), minute(8), [(minute(4), 9.0), (minute(6), 2.0)])
    assert ring.get(minute(4)) is None
    assert ring.total(minute(0), minute(10)) == 2.0


class SlotModel:
    """The ring's specification, slot by slot and point by point (no fast paths)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.slots: list[tuple[int, float]] = [(-1, 0.0)] * size
        self.end: int | None = None

    def replace(self, start: int, end: int, points: list[tuple[int, float]]) -> None:
        reach = end - self.size * P
        contiguous = (self.end is not None and start <= self.end) or start <= reach
        start = max(start, reach)
        for t in range(start - start % P, end, P):
            self.slots[(t // P) % self.size] = (-1, 0.0)
        for t, v in points:
            if start <= t < end:
                self.slots[(t // P) % self.size] = (t, v)
        self.end = end if contiguous else None

    def points(self, start: int, end: int) -> list[float | None]:
        found = dict(self.slots)
        return [found.get(t) for t in range(start, end, P)]


@st.composite
def writes(draw: st.DrawFn) -> tuple[int, list[tuple[int, int, list[tuple[int, float]]]]]:
    """A ring size and a run of writes as polls make them (and some they never make)."""
    size = draw(st.integers(2, 12))
    end = minute(draw(st.integers(0, 30)))
    runs = []
    for _ in range(draw(st.integers(1, 8))):
        end += P * draw(st.sampled_from([0, 1, 1, 1, 2, size, size + 3]))
        start = end - P * draw(st.integers(0, size + 3))
        candidates = list(range(start - 2 * P, end + P, P))
        stamps = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=len(candidates)))
        if draw(st.booleans()):  # the usual answer: every period up to the newest, in order
            stamps = list(range(start, end, P))[: draw(st.integers(0, max(0, (end - start) // P)))]
        values = [draw(st.sampled_from([0.0, 1.0, 2.5, 7.0])) for _ in stamps]
        runs.append((start, end, list(zip(stamps, values, strict=True))))
    return size, runs


@settings(max_examples=300, deadline=None)
@given(writes(), st.integers(-14, 14), st.integers(0, 14))
def test_ring_matches_its_slot_by_slot_specification(
    case: tuple[int, list[tuple[int, int, list[tuple[int, float]]]]], shift: int, width: int
) -> None:
    size, runs = case
    ring, model = Ring(P, size), SlotModel(size)
    for start, end, points in runs:
        put(ring, start, end, points)
        model.replace(start, end, points)
        assert list(zip(ring.stamps, ring.values, strict=True)) == model.slots
        assert ring.end == model.end
    last = runs[-1][1]
    lo = last - size * P + shift * P
    hi = lo + width * P
    expected = model.points(lo, hi)
    assert ring.has_data(lo, hi) == any(expected)
    assert ring.total(lo, hi) == math.fsum(v for v in expected if v is not None)
    window = (last - size * P, last)
    assert copy_points(ring.window_copy(*window), window[0], P) == tuple(model.points(*window))
    total, _, value = ring.read(*window, last - P, summed=True)
    assert total == math.fsum(v for v in model.points(*window) if v is not None)
    assert value == model.points(last - P, last)[0]


def test_memory_is_bounded_whatever_the_number_of_polls() -> None:
    size = 60
    ring = Ring(P, size)
    for poll in range(10_000):
        end = minute(poll + 1)
        put(ring, end - 5 * P, end, [(t, 1.0) for t in range(end - 5 * P, end, P)])
        assert len(ring.stamps) == size
        assert len(ring.values) == size
    end = minute(10_000)
    assert ring.total(end - size * P, end) == float(size)
    assert ring.points(end - size * P, end) == [1.0] * size


# --- build_row ----------------------------------------------------------------------------

WINDOW_START = minute(0)
WINDOW_END = minute(10)
SIZE = 10


def stored_with(
    data: dict[tuple[str, str], dict[int, float]],
    names: dict[str, str] | None = None,
    window_stats: dict[tuple[str, str], float | None] | None = None,
) -> ModelSeries:
    """A ModelSeries holding ``data[(metric, stat)][minute index] = value``."""
    stored = ModelSeries(metric_names=names or {"invocations": "Invocations"})
    for (metric, stat), values in data.items():
        ring = stored.ring((metric, stat), P, SIZE)
        put(ring, WINDOW_START, WINDOW_END, [(minute(i), v) for i, v in values.items()])
    stored.window_stats.update(window_stats or {})
    return stored


def row_of(stored: ModelSeries) -> ModelRow:
    return build_row(
        "us-east-1", None, "us.anthropic.claude-x", stored, WINDOW_START, WINDOW_END, P
    )


def test_window_sums() -> None:
    row = row_of(
        stored_with(
            {
                ("invocations", SUM): {0: 3.0, 4: 5.0, 9: 2.0},
                ("input_tokens", SUM): {0: 100.0, 9: 50.0},
                ("output_tokens", SUM): {4: 70.0},
                ("throttles", SUM): {1: 4.0},
            }
        )
    )
    w = row.window
    assert (w.invocations, w.input_tokens, w.output_tokens, w.throttles) == (10, 150, 70, 4)
    assert (w.client_errors, w.server_errors, w.cache_read_tokens) == (0, 0, 0)
    assert row.series["invocations"] == (3.0, None, None, None, 5.0, None, None, None, None, 2.0)
    assert row.info.provider == "anthropic"
    assert row.info.profile == "us"


def test_window_average_is_sum_over_sample_count_not_average_of_averages() -> None:
    # Minute 0: one request of 100 ms; minute 1: ten requests totalling 2,000 ms.
    sums = {0: 100.0, 1: 2000.0}
    counts = {0: 1.0, 1: 10.0}
    row = row_of(stored_with({("latency", SUM): sums, ("latency", SAMPLE_COUNT): counts}))
    exact = (100.0 + 2000.0) / (1.0 + 10.0)
    average_of_averages = (100.0 / 1.0 + 2000.0 / 10.0) / 2
    assert row.window.latency_avg_ms == exact
    assert row.window.latency_avg_ms != average_of_averages
    assert row.series["latency_avg"][:3] == (100.0, 200.0, None)
    assert row.window.ttft_avg_ms is None


def test_average_is_none_without_samples() -> None:
    row = row_of(stored_with({("latency", SUM): {}, ("latency", SAMPLE_COUNT): {}}))
    assert row.window.latency_avg_ms is None
    assert row.series["latency_avg"] == (None,) * SIZE


@pytest.mark.parametrize(
    ("inv", "cli", "srv", "thr", "error_rate", "throttle_rate"),
    [
        (100, 3, 2, 25, 5 / 100, 25 / 125),
        (40, 0, 0, 0, 0.0, 0.0),
        (0, 0, 0, 0, None, None),
        (0, 0, 0, 7, None, 1.0),
        (0, 2, 0, 0, None, None),
    ],
)
def test_error_and_throttle_rates(
    inv: int, cli: int, srv: int, thr: int, error_rate: float | None, throttle_rate: float | None
) -> None:
    row = row_of(
        stored_with(
            {
                ("invocations", SUM): {0: float(inv)},
                ("client_errors", SUM): {0: float(cli)},
                ("server_errors", SUM): {0: float(srv)},
                ("throttles", SUM): {0: float(thr)},
            }
        )
    )
    assert row.window.errors == cli + srv
    assert row.window.error_rate == error_rate
    assert row.window.throttle_rate == throttle_rate


def test_cache_hit_ratio() -> None:
    row = row_of(
        stored_with(
            {
                ("input_tokens", SUM): {0: 200.0},
                ("cache_read_tokens", SUM): {0: 600.0, 3: 100.0},
                ("cache_write_tokens", SUM): {1: 100.0},
            }
        )
    )
    assert row.window.cache_hit_ratio == 700 / (200 + 700 + 100)
    assert row_of(stored_with({})).window.cache_hit_ratio is None


def test_percentiles_come_from_the_whole_window_statistics() -> None:
    stats: dict[tuple[str, str], float | None] = {
        ("latency", "p50"): 410.0,
        ("latency", "p90"): 980.0,
        ("latency", "p99"): 2500.0,
        ("ttft", "p90"): 300.0,
    }
    # Per-minute p90 values that disagree with the window p90 must not be used for it.
    row = row_of(stored_with({("latency", "p90"): {0: 5000.0, 1: 10.0}}, window_stats=stats))
    w = row.window
    assert (w.latency_p50_ms, w.latency_p90_ms, w.latency_p99_ms) == (410.0, 980.0, 2500.0)
    assert (w.ttft_p50_ms, w.ttft_p90_ms, w.ttft_p99_ms) == (None, 300.0, None)
    assert row.series["latency_p90"][:3] == (5000.0, 10.0, None)


def test_tpm_quota_is_none_when_not_published() -> None:
    assert row_of(stored_with({})).window.tpm_quota is None
    names = {"invocations": "Invocations", "tpm_quota": "EstimatedTPMQuotaUsage"}
    stored = stored_with({("tpm_quota", SUM): {2: 1500.0, 3: 500.0}}, names=names)
    stored.loaded[("tpm_quota", SUM)] = minute(10)
    assert row_of(stored).window.tpm_quota == 2000
    not_fetched = stored_with({("tpm_quota", SUM): {2: 1500.0}}, names=names)
    assert row_of(not_fetched).window.tpm_quota is None  # published, but not asked for
    published_but_idle = stored_with({}, names=names)
    published_but_idle.loaded[("tpm_quota", SUM)] = minute(10)
    assert row_of(published_but_idle).window.tpm_quota == 0


def test_values_older_than_the_window_are_not_counted() -> None:
    stored = stored_with({("invocations", SUM): dict.fromkeys(range(10), 1.0)})
    later = build_row("us-east-1", None, "m", stored, minute(5), minute(15), P)
    assert later.window.invocations == 5
    assert later.series["invocations"] == (1.0,) * 5 + (None,) * 5


# --- Snapshot.latest_complete_index -------------------------------------------------------


@pytest.mark.parametrize(
    ("complete_until", "expected"),
    [
        (0, -1),
        (59, -1),
        (60, 0),
        (119, 0),
        (120, 1),
        (125, 1),
        (600, 9),
        (10_000, 9),
        (-500, -1),
    ],
)
def test_latest_complete_index(complete_until: int, expected: int) -> None:
    snap = Snapshot(
        taken_at=700.0,
        window_start=0,
        window_end=600,
        period=60,
        complete_until=complete_until,
        regions=("us-east-1",),
        rows=(),
    )
    assert snap.latest_complete_index == expected
