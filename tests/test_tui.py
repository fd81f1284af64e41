"""The live TUI driven like a person would, through Pilot, against the demo backend."""

from __future__ import annotations

import csv
import io
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Input, Static

from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.format import fmt_count
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.charts import ChartBox
from bedrock_top.tui.events_screen import EventsScreen
from bedrock_top.tui.header import HeaderBar
from bedrock_top.tui.screens import DetailScreen, HelpScreen, detail_summary
from bedrock_top.tui.table import ModelTable
from bedrock_top.views.columns import SORT_KEYS
from bedrock_top.views.panels import fmt_figure
from bedrock_top.views.view import is_problem
from support.tui import FakeClock, FlakyBackend, make_app, poll_now, settle


def model_column(app: BedrockTopApp) -> list[str]:
    """The model ids of the rows shown, in order (the cells may drop a profile prefix)."""
    return [key.split("|")[-1] for key in app.table.row_keys]


def cell(app: BedrockTopApp, row_key: str, column: str) -> str:
    return app.table.cell_text(row_key, column)


def header(app: BedrockTopApp) -> str:
    return str(app.query_one(HeaderBar).render())


def status(app: BedrockTopApp) -> str:
    return str(app.query_one("#status", Static).render())


async def test_first_poll_fills_one_row_per_model() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        demo_models = {r.model_id for r in app.snapshot.rows}
        assert app.table.row_count == len(demo_models) >= 10
        assert set(model_column(app)) == demo_models
        assert "LIVE" in header(app)


async def test_cells_show_the_snapshot_figures() -> None:
    app = make_app()
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        for row in app.snapshot.rows:
            assert cell(app, row.key, "invocations") == fmt_count(row.window.invocations)
            assert cell(app, row.key, "throttles") == fmt_count(row.window.throttles)
            rate = row.latest["invocations"]
            assert rate is not None
            assert cell(app, row.key, "inv_rate") == fmt_count(round(rate))


async def test_filter_as_you_type_negation_and_bad_regex() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        everything = set(model_column(app))
        await pilot.press("slash", *"claude")
        await pilot.pause()
        shown = model_column(app)
        assert shown
        assert all("claude" in m for m in shown)
        await pilot.press("left_parenthesis")  # "claude(" does not compile
        await pilot.pause()
        assert "bad filter regex" in status(app)
        assert model_column(app) == shown  # last good filter kept
        await pilot.press("backspace", "enter")
        app.query_one("#filter", Input).value = "!claude"
        await pilot.pause()
        assert set(model_column(app)) == everything - set(shown)
        await pilot.press("escape")
        await pilot.pause()
        assert set(model_column(app)) == everything
        assert app.view.filter is None


async def test_filter_matches_provider() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"^meta$", "enter")
        await pilot.pause()
        assert app.snapshot is not None
        metas = {r.model_id for r in app.snapshot.rows if r.info.provider == "meta"}
        assert len(metas) >= 2
        assert set(model_column(app)) == metas  # "meta" is in none of the ids as a word


def _numbers(app: BedrockTopApp, column: str) -> list[float]:
    out = []
    for key in app.table.row_keys:
        text = cell(app, key, column)
        out.append(float(text.replace(",", "")) if text != "-" else -1)
    return out


async def test_sort_keys_reverse_and_header_click() -> None:
    app = make_app()
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        assert app.view.sort == "inv_rate"
        rates = _numbers(app, "inv_rate")
        assert rates == sorted(rates, reverse=True)
        await pilot.press("greater_than_sign")
        assert app.view.sort != "inv_rate"
        await pilot.press("less_than_sign")
        assert app.view.sort == "inv_rate"
        await pilot.press("r")
        await pilot.pause()
        assert _numbers(app, "inv_rate") == sorted(rates)
        # Clicking the "Inv (win)" header sorts by it, largest first.
        app.table.post_message(ModelTable.HeaderSelected("invocations"))
        await pilot.pause()
        assert app.view.sort == "invocations"
        totals = _numbers(app, "invocations")
        assert totals == sorted(totals, reverse=True)


async def test_header_click_with_the_mouse() -> None:
    app = make_app()
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        keys = [c.key for c in app.table.shown_columns]
        before_inv = app.table.shown_columns[: keys.index("inv_rate")]
        x = sum(c.width + 2 for c in before_inv) + 2  # inside the "Inv/min" header
        before = app.view.reverse
        await pilot.click("#models", offset=(x, 0))
        await pilot.pause()
        assert app.view.sort == "inv_rate"
        assert app.view.reverse != before


async def test_pause_freezes_display_while_polling_continues() -> None:
    clock = FakeClock()
    app = make_app(clock=clock)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert "PAUSED" in header(app)
        frozen = app.shown
        clock.advance(180)
        await poll_now(pilot)
        assert app.snapshot is not frozen  # polling went on
        assert app.shown is frozen  # the screen did not move
        await pilot.press("space")
        assert app.shown is app.snapshot
        assert "LIVE" in header(app)


async def test_interval_keys_are_bounded() -> None:
    app = make_app(interval_s=60)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("minus")
        assert app.header_state.interval_s == 30
        await pilot.press(*["minus"] * 10)
        assert app.header_state.interval_s == 5
        await pilot.press(*["plus"] * 20)
        assert app.header_state.interval_s == 600
        assert "every 600s" in header(app)


async def test_zoom_changes_window_and_period_then_reloads() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert (app.header_state.window_s, app.header_state.period_s) == (3 * 3600, 60)
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert (app.header_state.window_s, app.header_state.period_s) == (12 * 3600, 300)
        assert app.snapshot is not None
        assert app.snapshot.period == 300
        assert app.snapshot.window_end - app.snapshot.window_start == 12 * 3600
        await pilot.press(*["left_square_bracket"] * 5)
        await settle(pilot)
        assert app.header_state.window_s == 15 * 60


async def test_problems_only() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        # A spike marked in a cell, or an alert rule firing for the row.
        alerting = {key for key, _ in app.spikes.active}
        alerting |= {i.subject.row_key for i in app.alerts.book.active()}
        expected = {r.key for r in app.snapshot.rows if is_problem(r, 0.05, alerting)}
        # A few rows worth a look, not every row with a stray error.
        assert 0 < len(expected) <= len(app.snapshot.rows) // 2
        await pilot.press("e")
        assert set(app.table.row_keys) == expected
        await pilot.press("e")
        assert app.table.row_count == len(app.snapshot.rows)


async def test_export_csv(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)  # the export waits for a poll that asks for every figure
        files = list(tmp_path.glob("bedrock-top-*.csv"))
        assert len(files) == 1
        assert str(files[0]) in status(app)
        reader = csv.DictReader(files[0].open())
        rows = list(reader)
        assert app.snapshot is not None
        assert {r["model_id"] for r in rows} == {r.model_id for r in app.snapshot.rows}
        # The screen's columns first, in screen order, then every JSON field.
        shown = [c.key for c in app.table.shown_columns if c.key != "spark"]
        assert reader.fieldnames is not None
        assert reader.fieldnames[: len(shown)] == ["model_id", *shown[1:]]
        by_id = {r.model_id: r for r in app.snapshot.rows}
        for r in rows:
            row = by_id[r["model_id"]]
            assert int(r["invocations"]) == row.window.invocations
            if row.window.invocations:  # no empty latency field for a model that had requests
                for field in ("latency_avg_ms", "latency_p50_ms", "latency_p90_ms"):
                    assert r[field] != "", (r["model_id"], field)
                    assert float(r[field]) == round(getattr(row.window, field), 1)
        # The poller went back to asking only for what the table shows.
        assert app.poller.settings.cost_aware


async def test_detail_help_events_screens_and_back() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        selected = app.screen.row_key
        title = str(app.screen.query_one("#detail-title", Static).render())
        assert selected.split("|")[-1] in title
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailScreen)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.press("a")
        assert isinstance(app.screen, EventsScreen)
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0]


async def test_spark_metric_cycles() -> None:
    app = make_app()
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        seen = [app.view.spark_metric]
        for _ in range(4):
            await pilot.press("s")
            seen.append(app.view.spark_metric)
        assert seen == ["invocations", "tokens", "latency", "problems", "invocations"]
        assert app.table.header_label("spark") == "Inv/min · 1h"


async def test_unchanged_poll_patches_no_cells() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        assert app.table.rows_changed > 0
        await poll_now(pilot)  # same clock: same data
        assert app.table.rows_changed == 0
        assert app.table.rows_rendered == 0  # nothing was drawn again


async def test_network_loss_keeps_data_marks_stale_and_recovers() -> None:
    clock = FakeClock()
    backend = FlakyBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": backend})
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        rows = app.table.row_count
        backend.down = True
        clock.advance(90)
        await poll_now(pilot)
        assert "STALE" in header(app)
        assert "cannot reach CloudWatch" in status(app)
        assert app.table.row_count == rows  # last good data stays
        assert app.failures == 1
        assert app._next_delay() <= 60
        backend.down = False
        clock.advance(10)
        await poll_now(pilot)
        assert "LIVE" in header(app)
        assert app.failures == 0
        assert status(app) == "" or "cannot reach" not in status(app)


class SlowBackend(DemoCloudWatch):
    """A backend whose GetMetricData waits until released: a poll stays in flight."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(seed=1, clock=clock)
        self.release = threading.Event()

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        self.release.wait(10)
        return super().get_metric_data(**kwargs)


async def test_keys_are_handled_while_a_poll_is_in_flight() -> None:
    clock = FakeClock()
    backend = SlowBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": backend})
    async with app.run_test(size=(200, 40)) as pilot:
        assert app.in_flight
        started = time.perf_counter()
        await pilot.press("question_mark")
        elapsed = time.perf_counter() - started
        assert isinstance(app.screen, HelpScreen)
        assert elapsed < 1.0  # handled while the poll still waits
        assert app.in_flight
        await pilot.press("escape")
        backend.release.set()
        await settle(pilot)
        assert not app.in_flight
        assert app.table.row_count > 0


async def test_no_two_polls_at_once() -> None:
    clock = FakeClock()
    backend = SlowBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": backend})
    async with app.run_test(size=(200, 40)) as pilot:
        app.start_poll()  # while one is in flight: queued, not started
        app.start_poll()
        assert app.poll_again
        assert len([w for w in app.workers if w.group == "poll" and not w.is_finished]) == 1
        backend.release.set()
        await settle(pilot)
        await settle(pilot)
        assert not app.in_flight


@pytest.mark.parametrize("size", [(40, 10), (60, 15), (80, 24)])
async def test_small_terminals_degrade_and_q_quits(size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        assert app.table.row_count > 0
        assert sum(c.width + 2 for c in app.table.shown_columns) <= size[0]
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_every_sortable_column_sorts() -> None:
    app = make_app()
    async with app.run_test(size=(240, 40)) as pilot:
        await settle(pilot)
        for key in SORT_KEYS:
            app.view = app.view.with_(sort=key)
            app._draw_table()
            await pilot.pause()
            assert app.table.row_count > 0


async def test_detail_shows_money_and_unknown_prices_as_question_marks() -> None:
    app = make_app()
    async with app.run_test(size=(240, 50)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        unpriced = next(r for r in app.snapshot.rows if r.cost is None and r.window.invocations)
        priced = next(r for r in app.snapshot.rows if r.cost is not None and r.cost.window_usd)
        assert cell(app, unpriced.key, "usd_per_hour") == "?"
        assert priced.cost is not None
        assert cell(app, priced.key, "cost") == f"{priced.cost.window_usd:,.2f}"
        for row, expected in ((priced, "Cache savings"), (unpriced, "? (no known price)")):
            console = Console(width=200, record=True, file=io.StringIO())
            console.print(detail_summary(row))
            assert expected in console.export_text()


async def test_detail_now_is_the_newest_complete_minute_like_the_table() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        key = app.table.row_keys[0]
        await pilot.press("home", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        charts = {box.data.title: box.data for box in app.screen.query(ChartBox) if box.data}
        row = next(r for r in app.shown.rows if r.key == key) if app.shown else None
        assert row is not None
        rate = row.latest["invocations"]
        assert rate is not None
        assert cell(app, key, "inv_rate") == fmt_count(round(rate))
        invocations = next(v for t, v in charts.items() if t.startswith("Invocations/min"))
        assert invocations.summary.startswith(f"now {fmt_figure(rate)} ")


async def test_help_scrolls_on_a_short_terminal() -> None:
    """At 100x30 the key list is taller than the box: it scrolls to its last line."""
    from textual.containers import VerticalScroll

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        box = app.screen.query_one(VerticalScroll)
        assert box.max_scroll_y > 0
        await pilot.press("end")
        await pilot.pause()
        assert box.scroll_y == box.max_scroll_y
