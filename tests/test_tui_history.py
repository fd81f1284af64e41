"""The way back in the TUI: { and } step the window through time, l returns to live, the
header names the past window in place of LIVE, a past window is read once and judged by no
alert rule, and Enter on an alert in the events screen goes to the window around it."""

from __future__ import annotations

from bedrock_top.figures.alert_rules import AlertRule, Subject
from bedrock_top.figures.alert_state import Incident
from bedrock_top.figures.retention import around
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.events_screen import EventsScreen
from bedrock_top.tui.header import header_text
from support.tui import FakeClock, make_app, settle

HOUR = 3600


def header(app: BedrockTopApp) -> str:
    return header_text(app.header_state, app.shown, app.totals, app.clock()).plain


async def test_braces_step_the_window_back_and_forward_and_l_is_live() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.shown is not None
        live_end = app.shown.window_end
        assert app.shown.live
        assert "LIVE" in header(app)

        await pilot.press("left_curly_bracket")
        await settle(pilot)
        shown = app.shown
        assert shown is not None
        assert not shown.live
        # The window just before the live one, adjoining it, of the same length.
        assert shown.window_end == app.poller.settings.end
        assert live_end - HOUR - 60 <= shown.window_end <= live_end - HOUR + 60
        assert shown.window_end - shown.window_start == HOUR
        text = header(app)
        assert "LIVE" not in text
        assert "PAST" in text
        assert shown.latest_complete_index == len(shown.rows[0].series["invocations"]) - 1
        assert app.alerts.judge(shown) == []  # a past window fires nothing

        polls = app.poller.usage().get_metric_data_calls
        clock.advance(300)  # time passes: a past window is not read again
        await pilot.pause(0.1)
        assert app.next_poll is None
        assert app.poller.usage().get_metric_data_calls == polls

        await pilot.press("left_curly_bracket")
        await settle(pilot)
        assert app.shown is not None
        assert app.shown.window_end == shown.window_end - HOUR
        await pilot.press("right_curly_bracket")
        await settle(pilot)
        assert app.shown is not None
        assert app.shown.window_end == shown.window_end
        await pilot.press("l")
        await settle(pilot)
        assert app.poller.settings.end is None
        assert app.shown is not None
        assert app.shown.live
        assert "LIVE" in header(app)


async def test_enter_on_an_alert_goes_to_the_window_around_it() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        rule = AlertRule("throttled", "thr_min", ">", 0.0, for_s=180)
        subject = Subject("models", "us-east-1", "m", "us-east-1||m")
        started = clock.now - 5 * HOUR
        old = Incident(rule, subject, started - 180, started, started + 600, 12.0, 0.0, "x")
        app.push_screen(EventsScreen([old], app.alerts.book.describe, clock.now), app._event_chosen)
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
        want = around(started, HOUR, clock.now, 60)
        assert want is not None
        assert app.poller.settings.end == want
        assert app.shown is not None
        assert app.shown.window_start <= started < app.shown.window_end
        assert "PAST" in header(app)


async def test_escape_from_the_events_screen_stays_put() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        assert isinstance(app.screen, EventsScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.poller.settings.end is None
