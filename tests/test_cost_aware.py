"""Cost-aware polling: idle models on a heartbeat, detail figures only while looked at, and
what is shown identical to a poll that asks for everything."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from bedrock_top.cloudwatch.region import RegionPoller
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.figures.catalog import naive_metrics_per_model
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.views.columns import SPARK_METRICS, live_keys
from bedrock_top.views.view import ViewState, column_styles, fit_columns, row_cells
from support.tui import FROZEN_EPOCH, FakeClock

OPUS = "us.anthropic.claude-opus-4-1-20250805-v1:0"  # a demo batch job: idle most hours


def pollers(clock: Callable[[], float], seed: int = 3) -> tuple[Poller, Poller]:
    """The same demo data behind a cost-aware poller and one that asks for everything."""
    cheap = Poller({"us-east-1": DemoCloudWatch(seed=seed, clock=clock)}, PollSettings(), clock)
    full = Poller(
        {"us-east-1": DemoCloudWatch(seed=seed, clock=clock)},
        PollSettings(cost_aware=False),
        clock,
    )
    return cheap, full


def shown(snapshot: Snapshot) -> dict[str, list[str]]:
    """Every table cell, for every sparkline metric: what a person sees."""
    out: dict[str, list[str]] = {}
    slots = fit_columns(1000, live_keys(None), 3600)
    styles = column_styles(slots, snapshot.rows, 3600)
    for row in snapshot.rows:
        cells = []
        for metric in SPARK_METRICS:
            state = ViewState(spark_metric=metric)
            cells += list(row_cells(row, snapshot, state, slots, styles).values())
        out[row.key] = cells
    return out


def region(poller: Poller) -> RegionPoller:
    return poller.regions["us-east-1"]


def test_table_is_identical_to_a_full_poll_across_two_hours() -> None:
    clock = FakeClock()
    cheap, full = pollers(clock)
    tiers_seen: set[str] = set()
    for _ in range(120):
        a, b = cheap.poll(), full.poll()
        assert shown(a) == shown(b)
        r = region(cheap)
        start, end = r._window(clock.now)
        tiers_seen |= {r.tier(acc, m, s, start, end) for (acc, m), s in r.models.items()}
        clock.advance(60)
    assert tiers_seen == {"heartbeat", "live"}  # idle models came and went
    assert cheap.usage().metrics_requested < 0.5 * full.usage().metrics_requested


def test_focused_model_shows_every_figure_of_a_full_poll() -> None:
    clock = FakeClock()
    cheap, full = pollers(clock)
    cheap.poll()
    key = next(r.key for r in full.poll().rows if r.model_id.startswith("us.anthropic.claude-s"))
    cheap.set_focus([key])
    clock.advance(60)
    a = {r.key: r for r in cheap.poll().rows}
    b = {r.key: r for r in full.poll().rows}
    assert a[key].window == b[key].window
    assert a[key].window.latency_p99_ms is not None
    others = [k for k in a if k != key and a[k].window.invocations]
    assert others
    assert all(a[k].window.latency_p90_ms is None for k in others)  # not paid for
    cheap.set_focus([])
    clock.advance(60)
    assert next(r for r in cheap.poll().rows if r.key == key).window.latency_p90_ms is None


def _asked(poller: Poller, model_id: str) -> set[tuple[str, str, bool]]:
    r = region(poller)
    calls, _, _ = r.plan(r.clock())
    return {
        (q.key.metric, q.key.stat, q.key.window)
        for c in calls
        for q in c.queries.values()
        if q.key.model_id == model_id
    }


def _model(query: dict[str, Any]) -> str:
    return str(query["MetricStat"]["Metric"]["Dimensions"][0]["Value"])


def test_idle_model_gets_only_the_heartbeat_and_wakes_up_with_a_full_window() -> None:
    # Find an hour where the Opus batch job has not run for the last hour.
    clock = FakeClock()
    cheap, _ = pollers(clock)
    cheap.poll()
    while next(r for r in cheap.snapshot().rows if r.model_id == OPUS).window.invocations:
        clock.advance(600)
        cheap.poll()
    cheap.poll()
    assert _asked(cheap, OPUS) == {("invocations", "Sum", False), ("throttles", "Sum", False)}
    # Advance minute by minute until the job starts: in that same poll a second round asks
    # for the live series it lacks, over the whole window, so the row is complete at once.
    backend = region(cheap).client
    assert isinstance(backend, DemoCloudWatch)
    seen: list[dict[str, Any]] = []
    original = backend.get_metric_data

    def spy(**kwargs: Any) -> dict[str, Any]:
        seen.append(kwargs)
        return original(**kwargs)

    backend.get_metric_data = spy  # type: ignore[method-assign]
    while not next(r for r in cheap.snapshot().rows if r.model_id == OPUS).window.invocations:
        seen.clear()
        clock.advance(60)
        cheap.poll()
    row = next(r for r in cheap.snapshot().rows if r.model_id == OPUS)
    assert row.window.input_tokens > 0
    assert any(v is not None for v in row.series["latency_avg"])
    start, _ = region(cheap)._window(clock.now)
    wake_round = seen[-1]
    opus = [q for q in wake_round["MetricDataQueries"] if _model(q) == OPUS]
    assert wake_round["StartTime"].timestamp() == start
    assert {q["MetricStat"]["Metric"]["MetricName"] for q in opus} >= {
        "InvocationLatency",
        "InputTokenCount",
        "CacheReadInputTokenCount",
    }
    asked = _asked(cheap, OPUS)  # from now on: the live set, incrementally
    assert ("latency", "p90", False) in asked
    assert not any(window for _, _, window in asked)  # percentiles only in the detail view


@pytest.mark.parametrize("hour", [0, 1, 2, 3])
def test_an_hour_of_polling_costs_at_most_30_percent_of_a_naive_poller(hour: int) -> None:
    """Floor of the cost issue: metrics requested per hour at default settings on the demo
    workload vs a poller that asks every catalogue metric-statistic of every discovered model
    every interval."""
    clock = FakeClock(FROZEN_EPOCH + hour * 3600)
    cheap, _ = pollers(clock, seed=0)
    polls = 60  # one hour at the default 60 s interval
    for _ in range(polls):
        cheap.poll()
        clock.advance(60)
    models = len(region(cheap).models)
    naive = naive_metrics_per_model() * models * polls
    ratio = cheap.usage().metrics_requested / naive
    assert ratio <= 0.30, ratio
