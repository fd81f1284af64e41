"""What alert rules read of a snapshot (``views.alert_figures``), checked against the demo
backend's own request samples: per-minute figures at any complete period, percent figures in
percent, filters and totals, the views beside the models table, and ``replay`` for --once."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.demo.quotas import DemoQuotaClients
from bedrock_top.figures.alert_rules import AlertRule, Observation
from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.pricing import PriceTable, cost_function
from bedrock_top.figures.row_figures import WindowFigures
from bedrock_top.figures.snapshot import SERIES_KEYS, ModelRow, Snapshot
from bedrock_top.figures.spikes import COUNTER_SIGNALS, LATENCY_SIGNALS, SpikeRules, detect
from bedrock_top.figures.spikes import spike_scores as scores_of
from bedrock_top.figures.surfaces import snake
from bedrock_top.output.render_views import _row_dict
from bedrock_top.services.quota_fetch import QuotaSource
from bedrock_top.services.quota_keeper import QuotaKeeper
from bedrock_top.views.alert_figures import (
    ALERT_FIGURES,
    MINUTE_SERIES,
    figures_of,
    new_book,
    observe,
    replay,
    views_needed,
)
from bedrock_top.views.columns import COLUMNS
from bedrock_top.views.surface_columns import view_columns
from support.demo_models import demo_samples

EPOCH = 1_790_000_030.0  # 30 s into a minute (as the TUI tests' frozen clock)
REGION = "us-east-1"
SONNET4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # throttle storms
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"  # error bursts
PRICES = PriceTable.load(cache_path=Path("/nonexistent/bedrock-top/prices.json"))


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@cache
def polled(
    offset: float = 0.0, visible: str = "models", quotas: bool = False
) -> tuple[DemoCloudWatch, Snapshot]:
    """The demo account polled once, every metric of every model (no cost-aware tiers)."""
    clock = Clock(EPOCH + offset)
    cw = DemoCloudWatch(seed=1, clock=clock)
    views = ("models",) if visible == "models" else ("models", visible)
    poller = Poller(
        {REGION: cw},
        PollSettings(cost_aware=False, views=views, visible=visible),
        clock=clock,
        cost_of=cost_function(PRICES),
    )
    if quotas:
        demo = DemoQuotaClients(seed=1, region=REGION, clock=clock)
        source = QuotaSource(REGION, lambda: (demo, demo, demo), None, clock)
        QuotaKeeper({REGION: source}, clock=clock).update(poller)
    return cw, poller.poll()


def at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def in_minute(cw: DemoCloudWatch, model: str, metric: str, start: int) -> int:
    """The truth: the sum of a metric's request samples in the minute [start, start + 60)."""
    return sum(demo_samples(cw, model, metric, at(start), at(start + 60)))


def rule(key: str, **changes: object) -> AlertRule:
    """A rule named ``key`` reading the figure ``key`` (unless told otherwise), > 0."""
    return replace(AlertRule(key, key, ">", 0.0), **changes)  # type: ignore[arg-type]


def by_model(found: Sequence[Observation]) -> dict[str, float | None]:
    return {o.subject.row_id: o.value for o in found}


# --- the models view ----------------------------------------------------------------------


@pytest.mark.parametrize("back", [0, 1, 4])
def test_per_minute_figures_equal_the_demo_requests(back: int) -> None:
    cw, snap = polled()
    idx = snap.latest_complete_index - back
    start = snap.window_start + idx * snap.period
    rules = [rule("thr_min"), rule("err_min"), rule("err_rate_min"), rule("inv_rate")]
    found = observe(snap, rules, index=None if back == 0 else idx, min_requests=10)
    values = {(o.rule.name, o.subject.row_id): o.value for o in found}
    busy = 0
    for row in snap.rows:
        model = row.model_id
        throttles = in_minute(cw, model, "InvocationThrottles", start)
        errors = sum(
            in_minute(cw, model, m, start)
            for m in ("InvocationClientErrors", "InvocationServerErrors")
        )
        requests = in_minute(cw, model, "Invocations", start)
        assert values["thr_min", model] == throttles
        assert values["err_min", model] == errors
        assert values["inv_rate", model] == requests
        rate = values["err_rate_min", model]
        if requests < 10:
            assert rate is None
        else:
            assert rate == pytest.approx(100 * errors / requests)
        busy += throttles + errors
    assert busy > 0  # the demo's storms and bursts are in these minutes: a real check


def test_minute_columns_at_an_earlier_period_equal_the_live_reading_then() -> None:
    """A snapshot taken a minute later, judged one period back, reads what the earlier
    snapshot read live: the same minute, from the series instead of ``latest``."""
    minute = [c.key for c in COLUMNS if c.covers == "minute"]
    assert sorted(minute) == sorted(MINUTE_SERIES)  # every minute column is replayable
    _, before = polled()
    _, after = polled(60.0)
    assert after.window_start == before.window_start + 60
    idx = after.latest_complete_index - 1
    minute_start = after.window_start + idx * after.period
    assert minute_start == before.window_start + before.latest_complete_index * before.period
    rules = [rule(key) for key in minute]
    then = {(o.rule.name, o.subject.row_id): o.value for o in observe(before, rules)}
    replayed = {(o.rule.name, o.subject.row_id): o.value for o in observe(after, rules, index=idx)}
    assert replayed == {key: value for key, value in then.items() if key in replayed}
    assert sum(v or 0 for v in then.values()) > 0


def test_percent_figures_are_in_percent_and_money_in_usd() -> None:
    _, snap = polled(quotas=True)
    rules = [rule(k) for k in ("quota", "error_rate", "throttle_rate", "cache_hit")]
    rules += [rule("usd_per_hour"), rule("lat_p90"), rule("invocations")]
    found = {(o.rule.name, o.subject.row_id): o.value for o in observe(snap, rules)}
    quotas = 0
    for row in snap.rows:
        w, model = row.window, row.model_id
        peak = row.quota.peak_pct if row.quota is not None else None
        quotas += peak is not None
        assert found["quota", model] == (None if peak is None else pytest.approx(peak))
        errors, tries = w.client_errors + w.server_errors, w.invocations + w.throttles
        if w.invocations:
            assert found["error_rate", model] == pytest.approx(100 * errors / w.invocations)
            assert found["throttle_rate", model] == pytest.approx(100 * w.throttles / tries)
        else:
            assert found["error_rate", model] is None
        cached = w.input_tokens + w.cache_read_tokens + w.cache_write_tokens
        expected = 100 * w.cache_read_tokens / cached if cached and w.cache_read_tokens else None
        if expected is not None:
            assert found["cache_hit", model] == pytest.approx(expected)
        cost = row.cost.usd_per_hour if row.cost is not None else None
        assert found["usd_per_hour", model] == cost
        assert found["lat_p90", model] == row.latest.get("latency_p90")
        assert found["invocations", model] == w.invocations
    assert quotas >= 3
    assert any((v or 0) >= 80 for (name, _), v in found.items() if name == "quota")


def test_filter_and_total_work_like_the_filter_flag() -> None:
    cw, snap = polled()
    start = snap.window_start + snap.latest_complete_index * snap.period
    truth = {r.model_id: in_minute(cw, r.model_id, "Invocations", start) for r in snap.rows}
    claude = {m: v for m, v in truth.items() if "claude" in m or "anthropic" in m}
    rules = [
        rule("claude", figure="inv_rate", filter="CLAUDE|anthropic"),
        rule("others", figure="inv_rate", filter="!claude|anthropic"),
        rule("sum", figure="inv_rate", filter="claude|anthropic", total=True),
        rule("none", figure="lat_p90", filter="no-such-model", total=True),
    ]
    found = observe(snap, rules)
    assert by_model([o for o in found if o.rule.name == "claude"]) == claude
    others = by_model([o for o in found if o.rule.name == "others"])
    assert others == {m: v for m, v in truth.items() if m not in claude}
    [total] = [o for o in found if o.rule.name == "sum"]
    assert (total.subject.row_id, total.subject.region, total.subject.row_key) == ("total", "", "")
    assert total.value == sum(claude.values()) > 0
    [empty] = [o for o in found if o.rule.name == "none"]
    assert empty.value is None


def test_subjects_name_the_row_like_the_json_does() -> None:
    _, snap = polled()
    [obs, *_] = observe(snap, [rule("inv_rate")])
    row = snap.rows[0]
    assert (obs.subject.view, obs.subject.region) == ("models", REGION)
    assert (obs.subject.row_id, obs.subject.row_key) == (row.model_id, row.key)
    assert dict(obs.subject.keys) == {"model_id": row.model_id}


def test_disabled_rules_and_views_not_polled_give_nothing() -> None:
    _, snap = polled()
    assert observe(snap, [rule("inv_rate", enabled=False)]) == []
    assert observe(snap, [rule("invocations", view="agents")]) == []
    assert views_needed([rule("a"), rule("b", view="agents"), rule("c", view="x", enabled=False)])


# --- the views beside the models table ----------------------------------------------------


@pytest.mark.parametrize("view", ["guardrails", "knowledge-bases", "agents", "mantle", "batch"])
def test_view_rows_are_subjects_with_the_json_row_keys(view: str) -> None:
    _, snap = polled(visible=view)
    surface = snap.surfaces[view]
    numeric = [c for c in view_columns(surface.spec) if c.numeric]
    found = observe(snap, [rule(c.key, view=view) for c in numeric])
    assert {o.subject.row_key for o in found} == {r.key for r in surface.rows}
    for obs in found:
        row = next(r for r in surface.rows if r.key == obs.subject.row_key)
        shown = _row_dict(surface, row)  # the --once --view JSON row
        dims = {snake(d) for d in surface.spec.dimensions}
        assert dict(obs.subject.keys) == {k: v for k, v in shown.items() if k in dims and v}
        column = next(c for c in numeric if c.key == obs.rule.figure)
        raw = column.value(row)
        scale = 100 if column.kind == "pct" else 1
        assert obs.value == (None if raw is None else pytest.approx(float(raw) * scale))


def test_a_view_ratio_is_compared_in_percent() -> None:
    _, snap = polled(visible="guardrails")
    found = observe(snap, [rule("intervention_rate", view="guardrails")])
    rows = {r.key: r for r in snap.surfaces["guardrails"].rows}
    assert found
    for obs in found:
        values = rows[obs.subject.row_key].values
        intervened, invocations = values["intervened"], values["invocations"]
        assert intervened is not None
        assert invocations
        assert obs.value == pytest.approx(100 * intervened / invocations)


def test_view_minute_figures_at_an_earlier_period_equal_the_live_reading_then() -> None:
    for view in ("guardrails", "batch"):
        _, before = polled(visible=view)
        _, after = polled(60.0, visible=view)
        spec = before.surfaces[view].spec
        minute = [c.key for c in view_columns(spec) if c.covers == "minute"]
        rules = [rule(key, view=view) for key in minute]
        then = {(o.rule.name, o.subject.row_key): o.value for o in observe(before, rules)}
        idx = after.latest_complete_index - 1
        later = observe(after, rules, index=idx)
        assert {(o.rule.name, o.subject.row_key): o.value for o in later} == then
        assert any(then.values())


def test_figures_of_a_view_know_what_adds_up() -> None:
    models = figures_of("models")
    assert [f.key for f in ALERT_FIGURES] == ["thr_min", "err_min", "err_rate_min", "spike"]
    assert {k for k, f in models.items() if f.additive} >= {"thr_min", "usd_per_hour", "cost"}
    assert not any(models[k].additive for k in ("quota", "lat_p90", "spike", "err_rate_min"))
    assert not {"model", "region", "provider"} & models.keys()
    batch = figures_of("batch")
    assert batch["records_pending"].additive
    assert not batch["drain_minutes"].additive  # a quotient, not a flow


# --- the spike score ----------------------------------------------------------------------


def spike_row(**series: Sequence[float | None]) -> ModelRow:
    n = len(next(iter(series.values())))
    full = {k: tuple(series.get(k, (None,) * n)) for k in SERIES_KEYS}
    return ModelRow(REGION, None, parse_model_id(SONNET4), WindowFigures(), full)


def spike_snapshot(row: ModelRow) -> Snapshot:
    """The newest period still partial, as the poller delivers it."""
    n = len(row.series["invocations"])
    start = 1_700_000_040
    return Snapshot(float(start + n * 60), start, start + n * 60, 60, start + (n - 1) * 60,
                    (REGION,), (row,))  # fmt: skip


counts = st.lists(st.integers(0, 400).map(float), min_size=2, max_size=40)
latencies = st.lists(st.one_of(st.none(), st.integers(100, 30_000).map(float)), min_size=2)


@given(
    invocations=counts,
    throttles=counts,
    latency=latencies,
    k=st.sampled_from([0.5, 1.0, 3.0, 5.0]),
    floor=st.sampled_from([0.0, 1.0, 20.0]),
    points=st.integers(1, 8),
)
def test_spike_score_is_above_one_exactly_when_detect_sees_a_spike(
    invocations: list[float],
    throttles: list[float],
    latency: list[float | None],
    k: float,
    floor: float,
    points: int,
) -> None:
    n = min(len(invocations), len(throttles), len(latency))
    row = spike_row(invocations=invocations[:n], throttles=throttles[:n], latency_p90=latency[:n])
    snap = spike_snapshot(row)
    rules = SpikeRules(
        k=k,
        min_baseline_points=points,
        min_change=dict.fromkeys((*COUNTER_SIGNALS, *LATENCY_SIGNALS), floor),
    )
    idx = snap.latest_complete_index
    scores = scores_of(row, idx, rules)
    spiked = {a.signal for a in detect(snap, rules) if a.kind == "spike"}
    assert {s for s, score in scores.items() if score > 1} == spiked
    assert all(math.isfinite(score) for score in scores.values())
    [obs] = observe(snap, [rule("spike")], spike_rules=rules)
    assert obs.value == max(scores.values(), default=None)


def test_spike_score_in_words() -> None:
    """Median 100, MAD 2: the threshold is 100 + max(5 * 1.4826 * 2, 20) = 120."""
    row = spike_row(invocations=[98.0, 100.0, 102.0] * 10 + [140.0, 0.0])
    snap = spike_snapshot(row)
    [obs] = observe(snap, [rule("spike")])
    assert obs.value == pytest.approx(40 / 20)
    [young] = observe(spike_snapshot(spike_row(invocations=[5.0, 9.0])), [rule("spike")])
    assert young.value is None  # no baseline yet


# --- replay (--once) ----------------------------------------------------------------------


def test_replay_knows_what_has_held_long_enough() -> None:
    """The demo's Sonnet 4 throttles in two minutes running, then stops: a rule that wants
    one minute of it is active (within its clear time), one that wants two never fired."""
    cw, snap = polled()
    last = snap.latest_complete_index
    starts = [snap.window_start + i * snap.period for i in range(last - 5, last + 1)]
    throttled = [in_minute(cw, SONNET4, "InvocationThrottles", t) > 0 for t in starts]
    assert throttled == [False, False, False, True, True, False]  # the premise, from the truth
    failed = ("InvocationClientErrors", "InvocationServerErrors")
    bursts = [
        sum(in_minute(cw, LLAMA, m, t) for m in failed)
        / max(1, in_minute(cw, LLAMA, "Invocations", t))
        for t in starts
    ]
    assert [b >= 0.05 for b in bursts] == [False, False, False, True, False, False]
    rules = [
        rule("one-minute", figure="thr_min", for_s=60, clear_s=120, filter="sonnet-4-2"),
        rule("two-minutes", figure="thr_min", for_s=120, clear_s=120, filter="sonnet-4-2"),
        rule("burst-kept", figure="err_rate_min", op=">=", threshold=5.0, clear_s=180),
        rule("burst-gone", figure="err_rate_min", op=">=", threshold=5.0, clear_s=60),
        # fired two minutes before the newest, still within its clear time: replay looks
        # back far enough to know
        rule("storm-clearing", figure="thr_min", clear_s=180, filter="sonnet-4-2"),
    ]
    book = replay(snap, rules)
    active = [(i.rule.name, i.subject.row_id) for i in book.active()]
    assert active == [("one-minute", SONNET4), ("burst-kept", LLAMA), ("storm-clearing", SONNET4)]
    [one, burst, _] = book.active()
    alone = replay(snap, rules[-1:]).active()  # its own look-back: for + clear + a period
    assert [(i.rule.name, i.started) for i in alone] == [
        ("storm-clearing", snap.window_start + (last - 1) * snap.period)
    ]
    # fired when the second minute was judged, at its end
    assert one.started == snap.window_start + last * snap.period
    assert one.value == 0
    assert one.peak == max(in_minute(cw, SONNET4, "InvocationThrottles", t) for t in starts[3:5])
    assert burst.peak == pytest.approx(100 * bursts[3])
    assert "burst-gone" in {i.rule.name for i in book.history}


def test_new_book_messages_use_the_registry_labels() -> None:
    book = new_book([rule("quota", op=">=", threshold=80.0)])
    _, snap = polled(quotas=True)
    events = book.step(snap.taken_at, observe(snap, book.rules))
    assert events
    assert all(" Quota " in e.message and e.message.endswith("% >= 80%") for e in events)
