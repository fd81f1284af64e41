"""The alert engine (``figures.alert_state``): when a rule fires, repeats and resolves, flap
damping, peaks, messages, reloads and memory, on hand-made observation sequences."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, Observation, Subject
from bedrock_top.figures.alert_state import AlertBook, fmt_duration, fmt_value

T0 = 1_800_000_000.0
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SUBJECT = Subject("models", "us-east-1", HAIKU, f"us-east-1||{HAIKU}", {"model_id": HAIKU})


def subject(i: int, region: str = "us-east-1") -> Subject:
    return Subject("models", region, f"model-{i}", f"{region}||model-{i}")


def rule(**changes: object) -> AlertRule:
    base = AlertRule("throttled", "thr_min", ">", 5.0, clear_s=0)
    return replace(base, **changes)  # type: ignore[arg-type]


def feed(
    book: AlertBook, r: AlertRule, steps: Sequence[tuple[float, float | None]]
) -> list[AlertEvent]:
    """Every event of one subject over (time, value) steps; None: not observed at all."""
    events: list[AlertEvent] = []
    for at, value in steps:
        observed = [] if value is None else [Observation(r, SUBJECT, value)]
        events.extend(book.step(at, observed))
    return events


def kinds(events: Sequence[AlertEvent]) -> str:
    return " ".join(e.kind for e in events)


# --- examples -----------------------------------------------------------------------------


def test_fires_once_after_for_then_resolves_after_clear() -> None:
    r = rule(for_s=180, clear_s=120)
    book = AlertBook([r])
    minutes = [1, 9, 9, 9, 9, 9, 0, 0, 0, 0]  # > 5 from minute 1 to 5
    events = feed(book, r, [(T0 + 60 * i, float(v)) for i, v in enumerate(minutes)])
    assert [(e.kind, e.at - T0) for e in events] == [("fired", 240), ("resolved", 480)]
    fired, resolved = events
    assert fired.started == T0 + 240
    assert fired.message == f"Throttled: {HAIKU} (us-east-1) thr_min 9 > 5 for 3m"
    assert resolved.message == (
        f"Resolved: Throttled: {HAIKU} (us-east-1) thr_min 0 (peak 9, lasted 4m)"
    )
    assert resolved.started == fired.started
    assert book.active() == []
    [incident] = book.history
    assert (incident.started, incident.ended, incident.peak) == (T0 + 240, T0 + 480, 9)
    assert book.tracked == 0


def test_a_pending_streak_is_reset_by_one_false() -> None:
    r = rule(for_s=120)
    book = AlertBook([r])
    values = [9, 9, 0, 9, 9, 9]  # the dip at minute 2 restarts the streak at minute 3
    events = feed(book, r, [(T0 + 60 * i, float(v)) for i, v in enumerate(values)])
    assert [(e.kind, e.at - T0) for e in events] == [("fired", 300)]


def test_repeats_while_it_holds_and_flaps_shorter_than_clear_are_one_incident() -> None:
    r = rule(repeat_s=300, clear_s=180)
    book = AlertBook([r])
    values = [9, 9, 0, 0, 9, 9, 9, 9, 0, 9, 9, 9, 9, 9]  # dips of 2 and 1 minutes < 3
    events = feed(book, r, [(T0 + 60 * i, float(v)) for i, v in enumerate(values)])
    assert [(e.kind, e.at - T0) for e in events] == [
        ("fired", 0),
        ("repeat", 300),
        ("repeat", 600),
    ]
    assert events[1].message.startswith(f"Still throttled: {HAIKU} (us-east-1) thr_min 9 > 5")
    [incident] = book.active()
    assert incident.ended is None
    assert incident.peak == 9


def test_peak_is_the_worst_value_for_the_direction_of_the_rule() -> None:
    above = rule(clear_s=60)
    below = rule(name="idle", op="<", threshold=5.0, clear_s=60)
    book = AlertBook([above, below])
    steps = [7.0, 12.0, 8.0]
    for i, v in enumerate(steps):
        book.step(T0 + 60 * i, [Observation(above, SUBJECT, v)])
    for i, v in enumerate([3.0, 1.0, 2.5]):
        book.step(T0 + 600 + 60 * i, [Observation(below, SUBJECT, v)])
    peaks = {i.rule.name: (i.peak, i.value) for i in book.history}
    assert peaks == {"throttled": (12.0, None), "idle": (1.0, 2.5)}


def test_a_subject_that_disappears_counts_as_false() -> None:
    r = rule(clear_s=120)
    book = AlertBook([r])
    events = feed(book, r, [(T0, 9.0), (T0 + 60, None), (T0 + 120, None), (T0 + 180, None)])
    assert [(e.kind, e.at - T0) for e in events] == [("fired", 0), ("resolved", 180)]
    assert events[1].value is None


def test_unknown_values_never_hold_and_disabled_rules_are_ignored() -> None:
    off = rule(name="off", enabled=False)
    book = AlertBook([off, rule()])
    assert book.step(T0, [Observation(off, SUBJECT, 99.0)]) == []
    assert book.step(T0, [Observation(rule(), SUBJECT, None)]) == []
    assert book.tracked == 0


def test_events_come_in_rule_order_then_subject_order() -> None:
    first, second = rule(name="b-rule"), rule(name="a-rule")
    book = AlertBook([first, second])
    subjects = [subject(3, "us-west-2"), subject(2), subject(1, "eu-west-1")]
    observed = [Observation(r, s, 9.0) for s in subjects for r in (second, first)]
    events = book.step(T0, observed)
    assert [(e.rule.name, e.subject.region, e.subject.row_id) for e in events] == [
        ("b-rule", "eu-west-1", "model-1"),
        ("b-rule", "us-east-1", "model-2"),
        ("b-rule", "us-west-2", "model-3"),
        ("a-rule", "eu-west-1", "model-1"),
        ("a-rule", "us-east-1", "model-2"),
        ("a-rule", "us-west-2", "model-3"),
    ]
    assert [(i.rule.name, i.subject.row_id) for i in book.active()] == [
        ("b-rule", "model-1"),
        ("b-rule", "model-2"),
        ("b-rule", "model-3"),
        ("a-rule", "model-1"),
        ("a-rule", "model-2"),
        ("a-rule", "model-3"),
    ]


def test_messages_write_values_by_kind() -> None:
    def describe(view: str, figure: str) -> tuple[str, str]:
        return {"usd_per_hour": ("spend/h", "usd"), "quota": ("Quota", "pct")}[figure]

    spend = rule(name="spend-rate", figure="usd_per_hour", threshold=50.0, total=True)
    quota = rule(name="quota-high", figure="quota", op=">=", threshold=80.0)
    book = AlertBook([spend, quota], describe=describe)
    total = Subject("models", "", "total", "")
    events = book.step(T0, [Observation(spend, total, 62.4), Observation(quota, SUBJECT, 93.25)])
    assert [e.message for e in events] == [
        "Spend rate: total spend/h $62.40 > $50.00",
        f"Quota high: {HAIKU} (us-east-1) Quota 93.2% >= 80%",
    ]
    assert fmt_value(1500.0, "latency") == "1.5s"
    assert fmt_value(850.0, "latency") == "850ms"
    assert fmt_value(12.0, "rate") == "12/min"
    assert fmt_value(2.46, "score") == "2.5x"
    assert fmt_value(1234.0, "count") == "1,234"
    assert [fmt_duration(s) for s in (45, 90, 180, 3900, 7200, 200_000)] == [
        "45s",
        "1m30s",
        "3m",
        "1h5m",
        "2h",
        "2d7h",
    ]


def test_a_reload_keeps_unchanged_conditions_and_ends_the_others() -> None:
    keep = rule(name="keep", repeat_s=0)
    change = rule(name="change")
    gone = rule(name="gone")
    pending = rule(name="pending", for_s=600)
    book = AlertBook([keep, change, gone, pending])
    fired = book.step(T0, [Observation(r, SUBJECT, 9.0) for r in (keep, change, gone, pending)])
    assert kinds(fired) == "fired fired fired"
    louder = replace(keep, severity="critical", repeat_s=60, actions=("notice", "bell"))
    ended = book.replace_rules([louder, replace(change, threshold=8.0), replace(pending, for_s=0)])
    assert [(e.kind, e.rule.name, e.at) for e in ended] == [
        ("resolved", "change", T0),
        ("resolved", "gone", T0),
    ]
    assert all(e.message.endswith("(rule changed or removed by a reload)") for e in ended)
    assert [(i.rule.name, i.rule.severity) for i in book.active()] == [("keep", "critical")]
    assert book.tracked == 1  # the pending streak of a changed rule is gone
    later = book.step(T0 + 60, [Observation(r, SUBJECT, 9.0) for r in book.rules])
    assert [(e.kind, e.rule.name) for e in later] == [
        ("repeat", "keep"),
        ("fired", "change"),
        ("fired", "pending"),
    ]  # the kept one repeats with its new repeat; the others start over


# --- properties ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    rule: AlertRule
    steps: list[tuple[float, float | None]]  # (time, value); None: not observed
    events: list[AlertEvent]

    def holds_at(self, i: int) -> bool:
        return self.rule.holds(self.steps[i][1])

    def index_at(self, at: float) -> int:
        return next(i for i, (t, _) in enumerate(self.steps) if t == at)


values = st.one_of(st.none(), st.integers(0, 10).map(float))
durations = st.sampled_from([0, 30, 60, 90, 120, 180, 300, 600])


@st.composite
def runs(draw: st.DrawFn) -> Run:
    r = rule(
        op=draw(st.sampled_from([">", ">=", "<", "<="])),
        threshold=5.0,
        for_s=draw(durations),
        repeat_s=draw(durations),
        clear_s=draw(durations),
    )
    gaps = draw(st.lists(st.integers(1, 120), min_size=1, max_size=80))
    observed = draw(st.lists(values, min_size=len(gaps), max_size=len(gaps)))
    steps, at = [], T0
    for gap, value in zip(gaps, observed, strict=True):
        at += gap
        steps.append((at, value))
    return Run(r, steps, feed(AlertBook([r]), r, steps))


@given(runs())
@settings(max_examples=400)
def test_events_alternate_fired_repeats_resolved(run: Run) -> None:
    assert re.fullmatch(r"((fired( repeat)* resolved ?)*(fired( repeat)*)?)?", kinds(run.events))
    if run.rule.repeat_s == 0:
        assert "repeat" not in kinds(run.events)


@given(runs())
@settings(max_examples=400)
def test_it_fires_exactly_when_the_condition_has_held_for(run: Run) -> None:
    """A "fired" at step i: steps s..i all hold and t_i - t_s >= for; and the first step
    where an idle subject's streak reaches ``for`` always fires."""
    firing = False
    since: float | None = None
    fired_at = {e.at for e in run.events if e.kind == "fired"}
    resolved_at = {e.at for e in run.events if e.kind == "resolved"}
    for i, (at, _) in enumerate(run.steps):
        holds = run.holds_at(i)
        if firing:
            firing = at not in resolved_at
            since = None if not firing else since
            assert at not in fired_at
            continue
        since = (since if since is not None else at) if holds else None
        should = since is not None and at - since >= run.rule.for_s
        assert (at in fired_at) == should, (i, at - T0)
        firing = should


@given(runs())
@settings(max_examples=400)
def test_repeats_are_spaced_and_resolves_wait_for_clear(run: Run) -> None:
    last_sent: float | None = None
    for event in run.events:
        i = run.index_at(event.at)
        if event.kind == "fired":
            last_sent = event.at
        elif event.kind == "repeat":
            assert last_sent is not None
            assert event.at - last_sent >= run.rule.repeat_s > 0
            assert run.holds_at(i)
            last_sent = event.at
        else:
            # false from some step f through i, with t_i - t_f >= clear, and f - 1 held
            f = i
            while f > 0 and not run.holds_at(f - 1) and run.steps[f - 1][0] > event.started:
                f -= 1
            assert not any(run.holds_at(j) for j in range(f, i + 1))
            assert event.at - run.steps[f][0] >= run.rule.clear_s
            # and not a step later than needed
            assert all(run.steps[j][0] - run.steps[f][0] < run.rule.clear_s for j in range(f, i))


@given(runs())
@settings(max_examples=400)
def test_peak_is_the_worst_value_since_it_fired(run: Run) -> None:
    pick = max if run.rule.op.startswith(">") else min
    for event in run.events:
        i = run.index_at(event.at)
        start = run.index_at(event.started)
        seen = [v for _, v in run.steps[start : i + 1] if v is not None]
        assert event.peak == pick(seen)
        assert event.value == run.steps[i][1]


@given(
    for_s=durations,
    clear_s=st.integers(61, 600),
    gap=st.integers(1, 60),
    ups=st.lists(st.integers(1, 5), min_size=2, max_size=30),
)
def test_oscillation_faster_than_clear_fires_once(
    for_s: int, clear_s: int, gap: int, ups: list[int]
) -> None:
    """Runs of true (long enough to fire) between single false steps that last less than
    ``clear``: one incident, never resolved while it goes on."""
    r = rule(for_s=for_s, clear_s=clear_s)
    steps: list[tuple[float, float | None]] = []
    at = T0
    for length in ups:
        for _ in range(length):
            steps.append((at, 9.0))
            at += gap
        steps.append((at, 0.0))  # one false step: false for `gap` < clear before the next true
        at += gap
    steps.append((at, 9.0))
    longest = max((length - 1) * gap for length in [*ups, 1])  # the streaks' durations
    events = feed(AlertBook([r]), r, steps)
    assert "resolved" not in kinds(events)
    assert kinds(events).count("fired") == (1 if longest >= for_s else 0)
    if for_s == 0:
        assert kinds(events) == "fired"


@given(for_s=durations, gap=st.integers(1, 120), n=st.integers(1, 60))
def test_constant_true_fires_exactly_once(for_s: int, gap: int, n: int) -> None:
    r = rule(for_s=for_s, repeat_s=0)
    events = feed(AlertBook([r]), r, [(T0 + gap * i, 9.0) for i in range(n)])
    expected = 1 if gap * (n - 1) >= for_s else 0
    assert kinds(events) == " ".join(["fired"] * expected)


def test_memory_stays_flat_when_subjects_churn() -> None:
    """Thousands of rows that fire once and go away: the book forgets each after ``clear``,
    and keeps only ``max_history`` incidents."""
    r = rule(clear_s=120, repeat_s=60)
    book = AlertBook([r], max_history=50)
    most = 0
    for minute in range(3000):
        live = range(minute, minute + 5)  # every minute one row comes and one goes
        book.step(T0 + 60 * minute, [Observation(r, subject(i), 9.0) for i in live])
        most = max(most, book.tracked)
    assert most <= 5 + 3  # the live rows and those still within their clear time
    assert len(book.history) == 50
    assert book.history[-1].subject.row_id == "model-3003"


def test_rules_not_judged_keep_their_state() -> None:
    """A rule whose view is not polled in full this time is neither resolved nor advanced."""
    rule = AlertRule("hot", "inv_rate", ">", 10.0, clear_s=0)
    subject = Subject("models", "us-east-1", "m", "us-east-1||m")
    book = AlertBook([rule])
    assert [e.kind for e in book.step(0.0, [Observation(rule, subject, 20.0)])] == ["fired"]
    assert book.step(60.0, [], judged=()) == []
    assert [i.subject.row_id for i in book.active()] == ["m"]
    assert [e.kind for e in book.step(120.0, [], judged=("hot",))] == ["resolved"]
