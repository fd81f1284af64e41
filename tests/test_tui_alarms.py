"""CloudWatch alarms in the TUI: a marker per model coloured by its worst alarm, the alarms in
the detail screen, and the key that turns the model's alert rules into put-metric-alarm
commands (shown, never run)."""

from __future__ import annotations

import shlex

from textual.widgets import Static, TextArea

from bedrock_top.demo.alarms import ERRORS, STEADY, THROTTLED
from bedrock_top.tui.alarm_screens import AlarmCommandsScreen
from bedrock_top.tui.screens import DetailScreen
from support.tui import make_app, settle


async def test_models_carry_their_alarm_marker_and_the_detail_lists_them() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.shown is not None
        states = {r.model_id: r.alarm for r in app.shown.rows if r.alarm}
        assert states == {THROTTLED: "ALARM", STEADY: "OK", ERRORS: "INSUFFICIENT_DATA"}
        keys = app.table.row_keys
        for row in app.shown.rows:
            if row.key not in keys:
                continue
            cell = app.table.get_cell(row.key, "model")
            if row.alarm:
                assert cell.plain.endswith(" " + row.alarm_marker), cell.plain
                assert cell.spans  # coloured by its state
            else:
                assert not cell.plain.rstrip().endswith(("!", "?", "✓"))

        target = next(r for r in app.shown.rows if r.model_id == THROTTLED)
        while app.table.row_keys[app.table.cursor_row] != target.key:
            await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        text = str(app.screen.query_one("#detail-alarms", Static).render())
        assert "ALARM" in text
        assert "InvocationThrottles" in text
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, AlarmCommandsScreen)
        commands = app.screen.query_one(TextArea).text
        assert "aws cloudwatch put-metric-alarm" in commands
        assert THROTTLED in commands
        # Every command is one shell line once its continuations are joined.
        for block in commands.split("\n\n"):
            if block.startswith("aws ") or "\naws " in block:
                argv = shlex.split(block.replace("\\\n", " "), comments=True)
                assert argv[:3] == ["aws", "cloudwatch", "put-metric-alarm"]
        await pilot.press("escape")
        assert isinstance(app.screen, DetailScreen)


async def test_without_alarms_nothing_is_marked() -> None:
    app = make_app(alarms=False)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        assert app.shown is not None
        assert not any(r.alarm for r in app.shown.rows)
