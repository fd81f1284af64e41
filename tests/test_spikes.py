"""Spike / threshold detection and onset tracking on hand-crafted per-period series."""

from __future__ import annotations

import random
from collections.abc import Sequence

from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.row_figures import WindowFigures
from bedrock_top.figures.snapshot import SERIES_KEYS, ModelRow, Snapshot
from bedrock_top.figures.spikes import DEFAULT_MIN_CHANGE, Alert, SpikeRules, SpikeTracker, detect

PERIOD = 60
T0 = 1_700_000_040  # a minute boundary
MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"

Series = Sequence[float | None]


def row(model: str = MODEL, region: str = "us-east-1", **series: Series) -> ModelRow:
    n = len(next(iter(series.values())))
    full = {k: tuple(series.get(k, (None,) * n)) for k in SERIES_KEYS}
    return ModelRow(region, None, parse_model_id(model), WindowFigures(), full)


def snap(*rows: ModelRow, partial: bool = True, start: int = T0) -> Snapshot:
    """A window of len(series) periods; by default the newest one is still partial."""
    n = len(rows[0].series["invocations"])
    complete = n - 1 if partial else n
    return Snapshot(
        taken_at=float(start + n * PERIOD),
        window_start=start,
        window_end=start + n * PERIOD,
        period=PERIOD,
        complete_until=start + complete * PERIOD,
        regions=("us-east-1",),
        rows=rows,
    )


def noisy(center: float, n: int, spread: float, seed: int = 1) -> list[float | None]:
    rnd = random.Random(seed)
    return [float(round(center + rnd.uniform(-spread, spread))) for _ in range(n)]


def signals(alerts: Sequence[Alert]) -> set[tuple[str, str]]:
    return {(a.signal, a.kind) for a in alerts}


# Baseline with median exactly 100 and a little spread.
BASE = [98.0, 100.0, 102.0] * 10


def test_steady_noisy_series_no_alert() -> None:
    n = 40
    r = row(
        invocations=noisy(100, n, 10),
        input_tokens=noisy(50_000, n, 5_000, seed=2),
        output_tokens=noisy(8_000, n, 800, seed=3),
        client_errors=noisy(1, n, 1, seed=4),
        latency_p90=noisy(1_200, n, 150, seed=5),
        ttft_p90=noisy(400, n, 60, seed=6),
    )
    assert detect(snap(r)) == []


def test_jump_in_latest_complete_period_is_spike() -> None:
    s = snap(row(invocations=[*BASE, 400.0, 50.0]))
    [alert] = detect(s)
    assert (alert.signal, alert.kind) == ("invocations", "spike")
    assert alert.value == 400
    assert alert.baseline == 100
    assert alert.at == T0 + 30 * PERIOD
    assert alert.row_key == s.rows[0].key
    assert (alert.region, alert.model_id) == ("us-east-1", MODEL)
    assert alert.message == "invocations 400/min (baseline 100)"


def test_jump_only_in_partial_period_is_ignored() -> None:
    r = row(invocations=[*BASE, 100.0, 5_000.0], throttles=[None] * 31 + [50.0])
    assert detect(snap(r)) == []
    # ...and once that period completes it does alarm.
    assert signals(detect(snap(r, partial=False))) == {
        ("invocations", "spike"),
        ("throttles", "spike"),
    }


def test_small_absolute_change_is_no_alarm() -> None:
    assert detect(snap(row(invocations=[1.0] * 20 + [3.0, 0.0]))) == []
    assert detect(snap(row(invocations=[0.0, 1.0, 2.0, 1.0] * 5 + [9.0, 0.0]))) == []


def test_counter_none_counts_as_zero() -> None:
    [alert] = detect(snap(row(invocations=[None] * 10 + [500.0, None])))
    assert (alert.signal, alert.value, alert.baseline) == ("invocations", 500, 0)


def test_tokens_are_input_plus_output() -> None:
    r = row(
        input_tokens=[*noisy(5_000, 20, 200), 6_000.0, 0.0],
        output_tokens=[*noisy(5_000, 20, 200, seed=9), 90_000.0, 0.0],
        invocations=[10.0] * 22,
    )
    [alert] = detect(snap(r))
    assert (alert.signal, alert.kind, alert.value) == ("tokens", "spike", 96_000)


def test_throttles_threshold() -> None:
    r = row(invocations=[100.0] * 12, throttles=[0.0] * 10 + [2.0, 0.0])
    [alert] = detect(snap(r))
    assert (alert.signal, alert.kind, alert.value, alert.baseline) == (
        "throttles",
        "threshold",
        2,
        0,
    )
    assert alert.message == "throttles 2/min (baseline 0)"
    assert detect(snap(r), SpikeRules(throttles=False)) == []


def test_throttle_spike_is_one_alert_per_signal() -> None:
    [alert] = detect(snap(row(throttles=[0.0] * 10 + [42.0, 0.0])))
    assert (alert.kind, alert.message) == ("spike", "throttles 42/min (baseline 0)")


def test_error_rate_needs_enough_requests() -> None:
    errs = [0.0] * 10 + [6.0, 0.0]
    many = row(invocations=[100.0] * 12, client_errors=errs, server_errors=[0.0] * 10 + [4.0, 0])
    rate = [a for a in detect(snap(many)) if a.signal == "error_rate"]
    assert len(rate) == 1
    assert (rate[0].kind, rate[0].value, rate[0].baseline) == ("threshold", 0.1, 0.0)
    assert rate[0].message == "error rate 10.0% (10/100)"

    few = row(invocations=[5.0] * 12, client_errors=[0.0] * 10 + [3.0, 0.0])
    assert detect(snap(few)) == []
    # 4% is under the 5% default.
    ok = row(invocations=[100.0] * 12, server_errors=[0.0] * 10 + [4.0, 0.0])
    assert detect(snap(ok)) == []


def test_latency_p90_absolute_threshold() -> None:
    r = row(invocations=[10.0] * 12, latency_p90=[*noisy(24_000, 10, 2_000), 25_000.0, None])
    [alert] = detect(snap(r))
    assert (alert.signal, alert.kind, alert.value) == ("latency_p90", "threshold", 25_000)
    assert alert.message.endswith("(limit 20.0s)")


def test_mad_zero_uses_min_change() -> None:
    floor = DEFAULT_MIN_CHANGE["invocations"]
    assert detect(snap(row(invocations=[100.0] * 20 + [100 + floor, 0.0]))) == []
    [alert] = detect(snap(row(invocations=[100.0] * 20 + [101 + floor, 0.0])))
    assert (alert.kind, alert.baseline) == ("spike", 100)

    [lat] = detect(snap(row(invocations=[10.0] * 12, latency_p90=[1_000.0] * 10 + [1_600, None])))
    assert (lat.signal, lat.kind, lat.message) == (
        "latency_p90",
        "spike",
        "latency p90 1.6s vs 1.0s",
    )
    custom = SpikeRules(min_change={"latency_p90": 1_000.0})
    assert (
        detect(
            snap(row(invocations=[10.0] * 12, latency_p90=[1_000.0] * 10 + [1_600, None])), custom
        )
        == []
    )


def test_too_little_baseline_only_absolute_rules() -> None:
    r = row(
        invocations=[1.0, 1.0, 1.0, 1.0, 9_000.0, 0.0],
        throttles=[0.0, 0.0, 0.0, 0.0, 3.0, 0.0],
        latency_p90=[800.0, 800.0, 800.0, 800.0, 21_000.0, None],
    )
    assert signals(detect(snap(r))) == {("throttles", "threshold"), ("latency_p90", "threshold")}
    # Latency None periods are skipped, so 10 periods with 3 latencies is still too little.
    sparse = row(invocations=[1.0] * 12, ttft_p90=[None] * 7 + [300.0] * 3 + [9_000.0, None])
    assert detect(snap(sparse)) == []
    # The same jump with enough latency points does alarm.
    dense = row(invocations=[1.0] * 12, ttft_p90=[300.0] * 10 + [9_000.0, None])
    assert signals(detect(snap(dense))) == {("ttft_p90", "spike")}


def test_baseline_is_the_last_30_periods() -> None:
    # Old periods were busy; only the recent 30 (median 100) define "normal".
    assert signals(detect(snap(row(invocations=[1_000.0] * 40 + BASE + [300.0, 0.0])))) == {
        ("invocations", "spike")
    }


def test_no_complete_period() -> None:
    s = snap(row(invocations=[9_000.0]))
    assert s.latest_complete_index == -1
    assert detect(s) == []


# --- tracker ------------------------------------------------------------------------------


def throttling(value: float, model: str = MODEL) -> ModelRow:
    return row(model=model, invocations=[100.0] * 12, throttles=[0.0] * 10 + [value, 0.0])


def test_tracker_onsets_once_and_re_onsets_after_clearing() -> None:
    tracker = SpikeTracker()
    bad = snap(throttling(7))
    [onset] = tracker.update(bad)
    assert onset.signal == "throttles"
    assert set(tracker.active) == {(onset.row_key, "throttles")}
    assert tracker.signals_for(onset.row_key) == {"throttles"}

    assert tracker.update(bad) == []  # same snapshot again
    assert tracker.update(snap(throttling(9), start=T0 + PERIOD)) == []  # still active
    assert tracker.active[(onset.row_key, "throttles")].value == 9  # refreshed

    assert tracker.update(snap(throttling(0), start=T0 + 2 * PERIOD)) == []
    assert tracker.active == {}
    [again] = tracker.update(snap(throttling(4), start=T0 + 3 * PERIOD))
    assert again.value == 4
    assert [e.value for e in tracker.events] == [7, 4]  # newest last


def test_tracker_keeps_active_without_complete_period() -> None:
    tracker = SpikeTracker()
    assert len(tracker.update(snap(throttling(7)))) == 1
    assert tracker.update(snap(row(invocations=[1.0]))) == []
    assert len(tracker.active) == 1


def test_tracker_events_are_bounded() -> None:
    tracker = SpikeTracker()
    assert tracker.events.maxlen == 200
    rows = [throttling(1, model=f"us.anthropic.model-{i}") for i in range(250)]
    assert len(tracker.update(snap(*rows))) == 250
    assert len(tracker.events) == 200
    assert tracker.events[-1].model_id == "us.anthropic.model-249"


# --- properties ---------------------------------------------------------------------------


@given(
    n=st.integers(min_value=1, max_value=60),
    count=st.integers(min_value=0, max_value=10**7),
    ms=st.floats(min_value=0, max_value=10**6, allow_nan=False),
    partial=st.booleans(),
)
def test_constant_series_never_spike(n: int, count: int, ms: float, partial: bool) -> None:
    c = float(count)
    r = row(
        invocations=[c] * n,
        input_tokens=[c] * n,
        output_tokens=[c] * n,
        client_errors=[c] * n,
        throttles=[c] * n,
        latency_p90=[ms] * n,
        ttft_p90=[ms] * n,
    )
    assert [a for a in detect(snap(r, partial=partial)) if a.kind == "spike"] == []
