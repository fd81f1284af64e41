"""The alert center the TUI and `watch` share: what it judges (live snapshots, views polled
in full), what the first snapshot's look-back tells, and which actions it hands on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from bedrock_top import alerting
from bedrock_top.alerting import AlertCenter
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, Observation, Subject
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.spikes import DEFAULT_RULES
from bedrock_top.views.alert_figures import new_book
from support.tui import FakeClock

BUSY = AlertRule("busy", "inv_rate", ">", 0.0, clear_s=0, actions=("notice", "webhook"))
SUBJECT = Subject("models", "us-east-1", "m", "us-east-1||m")


class Runner:
    """Records what would be sent (the real runner is tested in test_alert_actions)."""

    def __init__(self) -> None:
        self.sent: list[tuple[AlertEvent, Mapping[str, object]]] = []

    def dispatch(self, event: AlertEvent, record: Mapping[str, object]) -> None:
        self.sent.append((event, record))

    def close(self, timeout_s: float = 1.0) -> None:
        pass


def demo_snapshot(clock: FakeClock, **settings: Any) -> Snapshot:
    poller = Poller(
        {"us-east-1": DemoCloudWatch(seed=1, clock=clock)}, PollSettings(**settings), clock
    )
    return poller.poll()


def center(rules: tuple[AlertRule, ...], runner: Runner | None = None) -> AlertCenter:
    return AlertCenter(rules, DEFAULT_RULES, runner)  # type: ignore[arg-type]


def test_live_snapshots_are_judged_and_actions_other_than_notice_are_handed_on() -> None:
    clock = FakeClock()
    runner = Runner()
    alerts = center((BUSY,), runner)
    events = alerts.judge(demo_snapshot(clock))
    busy = {e.subject.row_id for e in events}
    assert busy  # the demo's busy models
    assert {e.kind for e in events} == {"fired"}
    assert [e for e, _ in runner.sent] == events
    assert all(record["event"] == "fired" for _, record in runner.sent)
    quiet = center((replace(BUSY, actions=("notice",)),), runner := Runner())
    quiet.judge(demo_snapshot(clock))
    assert runner.sent == []  # the notice is the caller's own


def test_a_past_window_and_a_view_on_heartbeat_are_not_judged() -> None:
    clock = FakeClock()
    alerts = center((BUSY,))
    past = demo_snapshot(clock, end=clock.now - 5 * 3600)
    assert not past.live
    assert alerts.judge(past) == []
    fired = alerts.judge(demo_snapshot(clock))
    assert fired
    # Another view on screen: the models are a heartbeat, their alerts neither end nor move.
    clock.advance(600)
    elsewhere = demo_snapshot(clock, views=("models", "mantle"), visible="mantle")
    assert alerts.judge(elsewhere) == []
    assert len(alerts.book.active()) == len(fired)


def test_the_look_back_tells_only_what_still_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    """An incident found in its clear time is not told as fired, and its end is not told;
    if it holds again it is told then."""
    rule = AlertRule("hot", "inv_rate", ">", 10.0, clear_s=300)
    book = new_book([rule])
    book.step(0.0, [Observation(rule, SUBJECT, 20.0)])
    book.step(60.0, [Observation(rule, SUBJECT, 1.0)])  # stopped holding: clearing
    monkeypatch.setattr(alerting, "replay", lambda *a, **k: book)
    steps: list[list[Observation]] = []
    monkeypatch.setattr(alerting, "observe", lambda *a, **k: steps.pop(0))
    clock = FakeClock()
    snapshot = demo_snapshot(clock)
    alerts = center((rule,))
    assert alerts.judge(snapshot) == []  # clearing: not told
    steps.append([Observation(rule, SUBJECT, 30.0)])
    again = alerts.judge(replace(snapshot, taken_at=120.0))
    assert [(e.kind, e.value) for e in again] == [("fired", 30.0)]  # holds again: told now
    steps.append([Observation(rule, SUBJECT, 1.0)])
    alerts.judge(replace(snapshot, taken_at=180.0))
    steps.append([Observation(rule, SUBJECT, 1.0)])
    ended = alerts.judge(replace(snapshot, taken_at=500.0))
    assert [e.kind for e in ended] == ["resolved"]  # told start, told end


def test_an_untold_incident_ends_silently(monkeypatch: pytest.MonkeyPatch) -> None:
    rule = AlertRule("hot", "inv_rate", ">", 10.0, clear_s=120)
    book = new_book([rule])
    book.step(0.0, [Observation(rule, SUBJECT, 20.0)])
    book.step(60.0, [Observation(rule, SUBJECT, 1.0)])
    monkeypatch.setattr(alerting, "replay", lambda *a, **k: book)
    monkeypatch.setattr(alerting, "observe", lambda *a, **k: [Observation(rule, SUBJECT, 1.0)])
    snapshot = demo_snapshot(FakeClock())
    alerts = center((rule,))
    assert alerts.judge(snapshot) == []
    assert alerts.judge(replace(snapshot, taken_at=400.0)) == []  # ended, never told
    assert alerts.book.active() == []
