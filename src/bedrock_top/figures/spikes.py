"""Spike and threshold detection on a Snapshot's per-period series (pure: no UI, no I/O).

Only the newest *complete* period is judged, so a half-filled minute never alarms. A spike is
measured against the row's own recent history with median/MAD, which a single earlier outlier
cannot drag around the way mean/stddev would; an absolute floor (``min_change``) keeps tiny
models from alarming on 1 -> 3 requests. Absolute rules (throttles, error rate, p90 latency)
fire even without enough history, because they are bad regardless of the baseline.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.format import fmt_count, fmt_pct

# Signal -> the row series summed to make it. Counters read None as 0 within the window.
COUNTER_SIGNALS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "invocations": ("invocations",),
        "tokens": ("input_tokens", "output_tokens"),
        "errors": ("client_errors", "server_errors"),
        "throttles": ("throttles",),
    }
)
# Latency signals: None means "no requests, no latency", so it is skipped, never 0.
LATENCY_SIGNALS: tuple[str, ...] = ("latency_p90", "ttft_p90")

# Smallest rise over the median (per period) worth a notification, per signal.
DEFAULT_MIN_CHANGE: Mapping[str, float] = MappingProxyType(
    {
        "invocations": 20.0,
        "tokens": 20_000.0,
        "errors": 5.0,
        "throttles": 5.0,
        "latency_p90": 500.0,
        "ttft_p90": 500.0,
    }
)
MAD_SCALE = 1.4826  # makes MAD estimate the standard deviation of normal data
BASELINE_PERIODS = 30


@dataclass(frozen=True, slots=True)
class SpikeRules:
    """Tunables for :func:`detect`; defaults aim at "worth a glance", not paging."""

    k: float = 5.0  # robust z: value > median + k * 1.4826 * MAD
    min_baseline_points: int = 5
    # Missing signals fall back to DEFAULT_MIN_CHANGE, so a partial override is safe.
    min_change: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MIN_CHANGE)
    error_rate: float = 0.05
    min_requests: int = 10
    latency_p90_ms: float = 20_000.0
    throttles: bool = True


DEFAULT_RULES = SpikeRules()


@dataclass(frozen=True, slots=True)
class Alert:
    """One signal of one row that looks wrong in the newest complete period."""

    row_key: str
    region: str
    model_id: str
    signal: str  # a counter or latency signal, or "error_rate"
    kind: str  # "spike" (vs own baseline) or "threshold" (absolute rule)
    at: int  # epoch start of the period judged
    value: float
    baseline: float | None  # median of the baseline periods (pooled rate for error_rate)
    message: str


def _secs(ms: float) -> str:
    return f"{ms:.0f}ms" if ms < 1000 else f"{ms / 1000:.1f}s"


def _per(period: int) -> str:
    if period == 60:
        return "/min"
    return f"/{period // 60}min" if period % 60 == 0 else f"/{period}s"


def _signal_series(row: ModelRow, signal: str, lo: int, hi: int) -> list[float | None]:
    """The signal over periods [lo, hi]; counters with None as 0, latency as stored.

    Only the baseline span is built: detection runs on every poll for every row."""
    if signal in COUNTER_SIGNALS:
        parts = [row.series.get(name, ()) for name in COUNTER_SIGNALS[signal]]
        out: list[float | None] = []
        for i in range(lo, hi + 1):
            total = 0.0
            for p in parts:
                if i < len(p):
                    total += p[i] or 0.0
            out.append(total)
        return out
    values = row.series.get(signal, ())
    return [values[i] if i < len(values) else None for i in range(lo, hi + 1)]


def _median_mad(values: Sequence[float]) -> tuple[float, float]:
    med = statistics.median(values)
    return med, statistics.median(abs(v - med) for v in values)


def _row_alerts(row: ModelRow, idx: int, at: int, period: int, rules: SpikeRules) -> list[Alert]:
    out: list[Alert] = []

    def add(signal: str, kind: str, value: float, base: float | None, msg: str) -> None:
        out.append(Alert(row.key, row.region, row.model_id, signal, kind, at, value, base, msg))

    lo = max(0, idx - BASELINE_PERIODS)
    for signal in (*COUNTER_SIGNALS, *LATENCY_SIGNALS):
        series = _signal_series(row, signal, lo, idx)
        value = series[-1]
        if value is None:
            continue
        floor = rules.min_change.get(signal, DEFAULT_MIN_CHANGE.get(signal, 0.0))
        if signal in COUNTER_SIGNALS and value <= floor and not (signal == "throttles" and value):
            continue  # below the minimum change (and no throttle): nothing can fire
        history = [v for v in series[:-1] if v is not None]
        med: float | None = None
        threshold: float | None = None
        if len(history) >= rules.min_baseline_points:
            med, mad = _median_mad(history)
            threshold = med + max(rules.k * MAD_SCALE * mad, floor)
        latency = signal in LATENCY_SIGNALS
        label = signal.replace("_", " ")
        if latency:
            shown = f"{label} {_secs(value)}"
            vs = f" vs {_secs(med)}" if med is not None else ""
        else:
            shown = f"{label} {fmt_count(value)}{_per(period)}"
            vs = f" (baseline {fmt_count(med)})" if med is not None else ""
        # One alert per (row, signal): a spike wins, as it carries the baseline comparison.
        if threshold is not None and value > threshold:
            add(signal, "spike", value, med, shown + vs)
        elif signal == "latency_p90" and value > rules.latency_p90_ms:
            add(signal, "threshold", value, med, f"{shown} (limit {_secs(rules.latency_p90_ms)})")
        elif signal == "throttles" and rules.throttles and value > 0:
            add(signal, "threshold", value, med, shown + vs)

    inv = _signal_series(row, "invocations", lo, idx)
    errs = _signal_series(row, "errors", lo, idx)
    requests, errors = inv[-1] or 0.0, errs[-1] or 0.0
    if requests >= rules.min_requests and errors / requests > rules.error_rate:
        base_inv = sum(v or 0.0 for v in inv[:-1])
        base = sum(v or 0.0 for v in errs[:-1]) / base_inv if base_inv else None
        msg = f"error rate {fmt_pct(errors / requests)} ({fmt_count(errors)}/{fmt_count(requests)})"
        add("error_rate", "threshold", errors / requests, base, msg)
    return out


def detect(snapshot: Snapshot, rules: SpikeRules = DEFAULT_RULES) -> list[Alert]:
    """All alerts for the newest complete period of every row (row order, then signal order)."""
    idx = snapshot.latest_complete_index
    if idx < 0:
        return []
    at = snapshot.window_start + idx * snapshot.period
    alerts: list[Alert] = []
    for row in snapshot.rows:
        alerts.extend(_row_alerts(row, idx, at, snapshot.period, rules))
    return alerts


SIGNAL_WORDS: Mapping[str, str] = MappingProxyType(
    {
        "invocations": "Invocations",
        "tokens": "Tokens",
        "errors": "Errors",
        "throttles": "Throttles",
        "latency_p90": "Latency p90",
        "ttft_p90": "Time to first token p90",
        "error_rate": "Error rate",
    }
)


def headline(alert: Alert) -> str:
    """An alert in words ("Errors spiked", "Throttled"), never an internal name."""
    words = SIGNAL_WORDS.get(alert.signal, alert.signal.replace("_", " "))
    if alert.kind == "spike":
        return f"{words} spiked"
    if alert.signal == "throttles":
        return "Throttled"
    if alert.signal == "error_rate":
        return "Error rate high"
    return f"{words} over its limit"


AlertKey = tuple[str, str]  # (row_key, signal)


class SpikeTracker:
    """Turns per-refresh detections into onsets, so the UI notifies once per incident.

    ``active`` holds what currently fires (for highlighting rows and cells); ``events`` holds
    the most recent onsets, oldest first / newest LAST (``events[-1]`` is the latest).
    """

    def __init__(self, rules: SpikeRules = DEFAULT_RULES, max_events: int = 200) -> None:
        self.rules = rules
        self.active: dict[AlertKey, Alert] = {}
        self.events: deque[Alert] = deque(maxlen=max_events)

    def update(self, snapshot: Snapshot) -> list[Alert]:
        """Re-evaluate; return only alerts whose (row_key, signal) was not active before.

        Re-feeding the same snapshot yields nothing new; an alert that clears and later fires
        again is a new onset. A snapshot without any complete period keeps ``active`` as is,
        since nothing could be judged.
        """
        if snapshot.latest_complete_index < 0:
            return []
        current = {(a.row_key, a.signal): a for a in detect(snapshot, self.rules)}
        onsets = [a for key, a in current.items() if key not in self.active]
        self.active = current
        self.events.extend(onsets)
        return onsets

    def signals_for(self, row_key: str) -> set[str]:
        """The signals currently firing for one row (for cell highlighting)."""
        return {signal for key, signal in self.active if key == row_key}


# A rise over a flat baseline with no floor (min_change 0) has no scale: it scores this.
SCORE_CAP = 1e6


def spike_scores(row: ModelRow, idx: int, rules: SpikeRules) -> dict[str, float]:
    """Per signal, how far period ``idx`` is above its baseline in units of the spike
    threshold: (value - median) / max(k * 1.4826 * MAD, min_change). Above 1 exactly when
    :func:`detect` reports a spike for that signal; signals without a value or without
    ``min_baseline_points`` of history have no score. Scores are per period, like the
    floors, so the period itself does not enter."""
    out: dict[str, float] = {}
    lo = max(0, idx - BASELINE_PERIODS)
    for signal in (*COUNTER_SIGNALS, *LATENCY_SIGNALS):
        series = _signal_series(row, signal, lo, idx)
        value = series[-1]
        history = [v for v in series[:-1] if v is not None]
        if value is None or len(history) < rules.min_baseline_points:
            continue
        floor = rules.min_change.get(signal, DEFAULT_MIN_CHANGE.get(signal, 0.0))
        med, mad = _median_mad(history)
        scale = max(rules.k * MAD_SCALE * mad, floor)
        spiked = value > med + scale  # detect's own test decides the side of 1
        if scale <= 0:
            score = SCORE_CAP if spiked else 0.0
        else:
            score = (value - med) / scale
            if spiked != (score > 1):  # rounding at the very edge: keep detect's verdict
                score = math.nextafter(1.0, 2.0) if spiked else 1.0
        out[signal] = score
    return out


def spike_score(row: ModelRow, idx: int, rules: SpikeRules) -> float | None:
    """The highest of :func:`spike_scores` (None when no signal has enough baseline)."""
    return max(spike_scores(row, idx, rules).values(), default=None)
