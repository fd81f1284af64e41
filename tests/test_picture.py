"""What the eye sees tells the truth: the cursor stays on its model, alerts neither vanish nor
repeat on a zoom and never cover data, sort arrows and units are always there, names keep
their ending. Plain assertions (the SVG snapshots only guard the pixels)."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import Input, Static
from textual.widgets._toast import Toast

from bedrock_top.figures.alert_rules import AlertEvent
from bedrock_top.figures.alert_state import Incident
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.totals import account_totals
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.events_screen import EventsScreen, event_cells
from bedrock_top.tui.header import HeaderBar
from bedrock_top.tui.screens import DetailScreen
from bedrock_top.tui.table import FLAG
from bedrock_top.views.columns import COLUMNS_BY_KEY, SORT_KEYS
from bedrock_top.views.rows import order_rows
from support.tui import FakeClock, make_app, poll_now, settle


def status(app: BedrockTopApp) -> str:
    return str(app.query_one("#status", Static).render())


def header(app: BedrockTopApp) -> str:
    return str(app.query_one(HeaderBar).render())


def selected(app: BedrockTopApp) -> str | None:
    return app.table.selected_row_key()


async def test_the_cursor_stays_on_its_model_across_polls_sorts_filters_and_zoom() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down")
        chosen = selected(app)
        assert chosen is not None
        moved = 0
        for _ in range(30):  # the rows' figures change and the rows re-sort on most polls
            before = app.table.row_keys.index(chosen)
            clock.advance(60)
            await poll_now(pilot)
            assert selected(app) == chosen
            moved += app.table.row_keys.index(chosen) != before
        assert moved  # the row did move: the cursor followed it, not its old index
        await pilot.press("greater_than_sign", "r")
        assert selected(app) == chosen
        app.query_one("#filter", Input).value = chosen.split("|")[-1].split(".")[-1][:6]
        await pilot.pause()
        assert selected(app) == chosen
        await pilot.press("escape")
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert selected(app) == chosen


async def test_a_filtered_out_model_hands_the_cursor_to_the_nearest_row() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("down", "down", "down")
        keys = app.table.row_keys
        chosen = selected(app)
        assert chosen == keys[3]
        model = chosen.split("|")[-1]
        app.query_one("#filter", Input).value = "!" + re.escape(model)
        await pilot.pause()
        assert chosen not in app.table.row_keys
        assert selected(app) in (keys[4], keys[2])  # a neighbour, not the top row


async def test_zoom_keeps_the_events_and_announces_nothing_again() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        book = app.alerts.book
        active = {(i.rule.name, i.subject.row_key) for i in book.active()}
        assert active  # the demo has alerts from the start
        history = book.history
        fired: list[tuple[str, str]] = []
        original = app.alerts.judge

        def judge(snapshot: Snapshot) -> list[AlertEvent]:
            events = original(snapshot)
            fired.extend((e.rule.name, e.subject.row_key) for e in events if e.kind == "fired")
            return events

        app.alerts.judge = judge  # type: ignore[method-assign]
        for key in ("right_square_bracket", "left_square_bracket", "minus", "p", "p"):
            await pilot.press(key)
            await settle(pilot)

        def starts(incidents: tuple[Incident, ...]) -> list[tuple[str, str, float]]:
            return [(i.rule.name, i.subject.row_key, i.started) for i in incidents]

        # Nothing lost: the incidents before are still there, in order.
        assert starts(app.alerts.book.history)[: len(history)] == starts(history)
        still = {(i.rule.name, i.subject.row_key) for i in app.alerts.book.active()}
        assert not [k for k in fired if k in active and k in still]  # still firing: no repeat
        assert not app.query(Toast)  # alerts never pile up over the table
        await pilot.press("a")
        assert isinstance(app.screen, EventsScreen)
        assert str(app.screen.query_one("Vertical").border_title).startswith("Events")


async def test_alerts_go_to_one_notice_line_and_the_events_screen_not_toasts() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        notice = str(app.query_one("#notice", Static).render())
        active = app.alerts.book.active()
        assert f"{len(active)} alert" in notice
        assert "(a: events)" in notice
        assert not app.query(Toast)
        await pilot.press("a")
        assert isinstance(app.screen, EventsScreen)
        console = Console(width=250, record=True, file=io.StringIO())
        describe = app.alerts.book.describe
        for incident in app.screen.incidents:
            console.print(*event_cells(incident, app.clock(), describe))
        text = console.export_text()
        for incident in app.alerts.book.history:
            assert incident.subject.row_id in text
        assert "active" in text  # the demo's alerts are still firing
        assert "thr_min" not in text  # words, not internal names
        assert "latency_p90" not in text


async def test_export_failure_is_a_status_line_not_a_crash(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the export directory should be")
    app = make_app(blocker)
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "export failed" in status(app)
        assert str(blocker) in status(app)
        assert app.is_running
        assert app.poller.settings.cost_aware  # back to asking only for what is shown
        await pilot.press("down")  # still alive and answering keys
        assert app.table.cursor_row == 1


@pytest.mark.parametrize("width", [160, 100])
async def test_the_sort_arrow_is_visible_on_every_sorted_column(width: int) -> None:
    app = make_app()
    async with app.run_test(size=(width, 45)) as pilot:
        await settle(pilot)
        for key in SORT_KEYS:
            if key in ("region", "account"):
                continue  # one region, one account: those columns have nothing to say
            for reverse in (False, True):
                app._set_view(sort=key, reverse=reverse)
                await pilot.pause()
                shown = [c.key for c in app.table.shown_columns]
                assert key in shown  # the sort column is never dropped
                label = app.table.header_label(key)
                column = COLUMNS_BY_KEY[key]
                arrow = "▲" if column.numeric == reverse else "▼"
                assert label.endswith(arrow), (key, label)
                assert "…" not in label or len(label) > 3


async def test_every_once_sort_key_sorts_the_live_table_the_same_way() -> None:
    for key in ("inv_rate", "cost", "usd_per_hour", "latency_p90", "ttft_p90"):
        app = make_app(sort=key)
        async with app.run_test(size=(200, 45)) as pilot:
            await settle(pilot)
            assert app.view.sort == key  # taken as given, never replaced
            assert app.shown is not None
            column = COLUMNS_BY_KEY[key]
            expected = order_rows(app.shown.rows, column.value, column.numeric, False)
            assert app.table.row_keys == [r.key for r in expected]
            if column.window_stats:  # the figure sorted by is fetched for every model
                assert not app.poller.settings.cost_aware
                assert any(column.value(r) is not None for r in app.shown.rows)


async def test_slash_on_the_detail_screen_opens_the_filter_on_the_table() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        await pilot.press("slash")
        await pilot.pause()
        assert not isinstance(app.screen, DetailScreen)
        box = app.query_one("#filter", Input)
        assert box.display
        assert box.has_focus


async def test_the_palette_lists_each_command_once_and_finds_the_window() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert len(titles) == len(set(titles))
        assert sum("key" in t.lower() for t in titles) == 1
        assert [t for t in titles if "window" in t.lower()]


async def test_the_header_says_what_the_figures_cover() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        snapshot = app.shown
        assert snapshot is not None
        newest = snapshot.window_start + snapshot.latest_complete_index * snapshot.period
        stamp = re.search(r"as of (\d\d:\d\d)Z", header(app))
        assert stamp is not None
        assert stamp.group(1) == f"{newest // 3600 % 24:02d}:{newest // 60 % 60:02d}"
        await pilot.press("slash", *"claude", "enter", "r", "e")
        panel = app.query_one("#table-panel")
        words = str(panel.border_subtitle)
        assert "filter /claude" in words
        assert "sort Inv/min ▲" in words
        assert "problems only" in words
        await pilot.press("p")
        assert "PAUSED" in header(app)
        # Per-minute columns and window columns say so in their headers.
        assert app.table.header_label("inv_rate").startswith("Inv/min")
        assert " 1h" in app.table.header_label("throttles")


def _cells(app: BedrockTopApp, key: str) -> list[str]:
    return [app.table.get_cell(row, key).plain for row in app.table.row_keys]


async def test_one_style_per_column_and_digits_aligned_when_flagged() -> None:
    app = make_app()
    async with app.run_test(size=(200, 45)) as pilot:
        await settle(pilot)
        flagged = 0
        for slot in app.table.shown_columns:
            column = slot.column
            if column is None or not column.numeric:
                continue
            cells = _cells(app, slot.key)
            assert all(len(c) == slot.width for c in cells), slot.key
            assert {c[-1] for c in cells} <= {" ", FLAG}  # the marker slot
            flagged += sum(c[-1] == FLAG for c in cells)
            figures = [c[:-1].strip() for c in cells if c[:-1].strip() not in ("-", "?")]
            assert all(c[:-1] == c[:-1].rstrip() for c in cells)  # digits end in one column
            decimals = {len(f.partition(".")[2]) for f in figures if not f.startswith("<")}
            assert len(decimals) <= 1, (slot.key, figures)
            suffixes = {f[-1] for f in figures if f[-1].isalpha()}
            assert not suffixes or all(f[-1] in suffixes for f in figures if f != "0"), slot.key
            if column.kind == "latency":  # the header names the one unit of the column
                assert app.table.header_label(slot.key).rstrip("▲▼ ").endswith((" ms", " s"))
        assert flagged  # the demo has alerts: flagged cells were checked too


@pytest.mark.parametrize("size", [(160, 45), (100, 30), (50, 12)])
async def test_model_names_keep_the_part_that_tells_them_apart(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.shown is not None
        markers = {r.key: r.alarm_marker for r in app.shown.rows}
        for key in app.table.row_keys:
            model_id = key.split("|")[-1]
            text = app.table.get_cell(key, "model").plain.rstrip()
            if markers[key]:  # its CloudWatch alarm marker ends the cell
                assert text.endswith(" " + markers[key])
                text = text.removesuffix(markers[key]).rstrip()
            tail = model_id.split(".")[-1][-10:]  # date and version
            assert text.endswith(tail), (text, model_id)


def test_cost_per_hour_is_the_rate_of_the_last_15_complete_minutes() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    snapshot = app.poller.poll()
    latest = snapshot.latest_complete_index
    checked = 0
    for row in snapshot.rows:
        if row.cost is None or not row.window.invocations:
            continue
        prices = row.cost.per_token
        keys = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens")
        usd = 0.0
        for key, price in zip(keys, prices, strict=True):
            usd += sum(v or 0.0 for v in row.series[key][latest - 14 : latest + 1]) * price
        assert row.cost.usd_per_hour == pytest.approx(usd * 4, rel=1e-9)
        checked += 1
    assert checked >= 5


def test_the_totals_panel_adds_up_the_rows() -> None:
    snapshot: Snapshot = make_app().poller.poll()
    totals = account_totals(snapshot)
    for i in range(len(snapshot.period_starts)):
        tokens = sum(
            (r.series["input_tokens"][i] or 0) + (r.series["output_tokens"][i] or 0)
            for r in snapshot.rows
        )
        assert totals.tokens_per_min[i] == pytest.approx(tokens)
    assert totals.throttles == sum(r.window.throttles for r in snapshot.rows)
    assert totals.spend_usd_per_hour == pytest.approx(
        sum(r.cost.usd_per_hour or 0 for r in snapshot.rows if r.cost)
    )


@pytest.mark.parametrize("size", [(160, 45), (100, 30), (50, 12)])
async def test_layouts_by_size(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        charts = app.query_one("#totals-charts").display
        pane = app.query_one("#pane").display
        assert (charts, pane) == {
            (160, 45): (True, True),
            (100, 30): (True, False),
            (50, 12): (False, False),
        }[size]
        assert app.table.row_count > 0
        await pilot.press("v")  # the pane can be asked for (not on a compact screen)
        assert app.query_one("#pane").display == (size != (50, 12) and not pane)
        await pilot.press("q")


async def test_the_pane_follows_the_cursor_and_its_charts_agree_with_the_row() -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        key = selected(app)
        assert key is not None
        assert str(app.query_one("#pane").border_title).startswith(key.split("|")[-1])
        box = app.query_one("#pane-2")
        row = next(r for r in (app.shown.rows if app.shown else ()) if r.key == key)
        data = box.data  # type: ignore[attr-defined]
        assert data.values == tuple(row.series["invocations"])  # per minute at a 1-min period
        complete = len(data.values) - data.partial
        throttled = [i for i, v in enumerate(row.series["throttles"][:complete]) if v]
        assert list(data.markers) == throttled


async def test_per_minute_figures_read_the_newest_complete_minute() -> None:
    """The minute still arriving is never read as a figure nor drawn as a drop."""
    app = make_app()
    async with app.run_test(size=(200, 45)) as pilot:
        await settle(pilot)
        snapshot = app.shown
        assert snapshot is not None
        newest = snapshot.latest_complete_index
        assert len(snapshot.period_starts) - 1 - newest >= 1  # a partial minute exists
        for row in snapshot.rows:
            count = row.series["invocations"][newest] or 0
            assert app.table.cell_text(row.key, "inv_rate") == f"{count:,.0f}"
            assert app.table.get_cell(row.key, "spark").plain.endswith("░")
