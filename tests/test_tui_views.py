"""The view bar and switching between views, driven through Pilot against the demo backend
(which publishes every namespace): what is polled, what is drawn, and that the figures on
screen are the view's own."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from rich.console import Console
from textual.widgets import Input, Static

from bedrock_top.figures.surface_rows import SurfaceRow
from bedrock_top.figures.surfaces import CALLERS_VIEW, MODELS_VIEW, VIEW_NAMES
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.header import HeaderBar
from bedrock_top.tui.surface_screen import SurfaceDetailScreen, surface_summary
from bedrock_top.views.cells import choose_style, row_cell
from bedrock_top.views.surface_columns import columns_of
from support.tui import FakeClock, FlakyBackend, make_app, poll_now, settle


def bar(app: BedrockTopApp) -> str:
    return str(app.query_one("#viewbar", Static).render())


def status(app: BedrockTopApp) -> str:
    return str(app.query_one("#status", Static).render())


def surface_rows(app: BedrockTopApp, view: str) -> list[SurfaceRow]:
    assert app.shown is not None
    return list(app.shown.surfaces[view].rows)


async def test_view_bar_names_every_view_with_data_and_its_rows() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        text = bar(app)
        assert app.shown is not None
        assert f"{len(VIEW_NAMES)} {CALLERS_VIEW}" in text  # read only while open: no count
        for number, name in enumerate(VIEW_NAMES[:-1], start=1):
            rows = (
                len(app.shown.rows) if name == MODELS_VIEW else len(app.shown.surfaces[name].rows)
            )
            assert rows > 0
            assert f"{number} {name} {rows}" in text
        # Off screen, a view is polled for its heartbeat measure only: one metric per row.
        mantle = app.shown.surfaces["mantle"]
        assert not mantle.full
        assert all(row.values.get("input_tokens") is None for row in mantle.rows)
        assert all(row.values["inferences"] is not None for row in mantle.rows)


async def test_number_key_switches_to_a_view_polled_in_full() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        assert app.current_view == "mantle"
        assert app.shown is not None
        assert app.shown.visible == "mantle"
        rows = surface_rows(app, "mantle")
        assert {r.key for r in rows} == set(app.table.row_keys)
        assert all(r.full and r.values["input_tokens"] is not None for r in rows)
        # Each cell is the row's figure, written in the column's style.
        registry = columns_of("mantle")
        shown = [s.key for s in app.table.shown_columns if s.key in registry]
        for key in ("inferences", "input_tokens", "cost_usd"):
            if key not in shown:
                continue
            column = registry[key]
            style = app.table._styles[key]
            for row in rows:
                assert app.table.cell_text(row.key, key) == row_cell(column, row, style)
        # The models are now a heartbeat: latency is not asked for while they are hidden.
        assert all(all(v is None for v in r.series["latency_p90"]) for r in app.shown.rows)
        assert "Mantle" in str(app.query_one(HeaderBar).render())
        assert "mantle" in str(app.query_one("#table-panel").border_title)


async def test_back_to_models_reads_them_in_full_again() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        assert app.shown is not None
        before = {r.key: r.window.invocations for r in app.shown.rows}
        await pilot.press("4")
        await settle(pilot)
        assert app.current_view == "guardrails"
        await pilot.press("1")
        await settle(pilot)
        assert app.current_view == MODELS_VIEW
        assert app.shown.visible == MODELS_VIEW
        assert {r.key for r in app.shown.rows} == set(before)
        busy = [r for r in app.shown.rows if r.window.invocations]
        # Latency is not in the heartbeat: it is there again for every busy model.
        assert busy
        assert all(any(v is not None for v in r.series["latency_p90"]) for r in busy)
        assert sorted(app.table.row_keys) == sorted(before)


async def test_tab_cycles_the_views_and_shift_tab_goes_back() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        seen = []
        for _ in range(len(VIEW_NAMES)):
            await pilot.press("tab")
            await settle(pilot)
            seen.append(app.current_view)
        assert seen == [*VIEW_NAMES[1:], MODELS_VIEW]
        await pilot.press("shift+tab")
        await settle(pilot)
        assert app.current_view == VIEW_NAMES[-1]


async def test_colon_command_switches_by_name_or_prefix() -> None:
    app = make_app()
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("colon")
        box = app.query_one("#command", Input)
        assert box.display
        await pilot.press(*"guard", "enter")
        await settle(pilot)
        assert app.current_view == "guardrails"
        assert not box.display
        await pilot.press("colon", *"nope", "enter")
        await settle(pilot)
        assert app.current_view == "guardrails"
        assert "no view 'nope'" in status(app)


async def test_each_view_keeps_its_own_sort() -> None:
    app = make_app()
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        models_sort = app.view.sort
        await pilot.press("2")
        await settle(pilot)
        assert app.view.sort == "inferences"
        await pilot.press("greater_than_sign")
        await settle(pilot)
        mantle_sort = app.view.sort
        assert mantle_sort != "inferences"
        assert mantle_sort in columns_of("mantle")
        registry = columns_of("mantle")
        column = registry[mantle_sort]
        by_key = {r.key: r for r in surface_rows(app, "mantle")}
        values = [column.value(by_key[k]) for k in app.table.row_keys]
        present = [v for v in values if v is not None]
        if column.numeric:
            assert present == sorted(present, reverse=True)
        await pilot.press("1")
        await settle(pilot)
        assert app.view.sort == models_sort
        await pilot.press("2")
        await settle(pilot)
        assert app.view.sort == mantle_sort


async def test_enter_shows_every_figure_with_percentiles_of_the_row() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        key = app.table.selected_row_key()
        assert key is not None
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, SurfaceDetailScreen)
        row = next(r for r in surface_rows(app, "mantle") if r.key == key)
        # The detail asks for the row's per-inference percentiles, and only its.
        assert row.values["input_tokens_p90"] is not None
        others = [r for r in surface_rows(app, "mantle") if r.key != key]
        assert all(r.values.get("input_tokens_p90") is None for r in others)
        assert app.shown is not None
        console = Console(width=200)
        with console.capture() as captured:
            console.print(surface_summary(app.shown.surfaces["mantle"], row, 3600))
        text = captured.get()
        column = columns_of("mantle")["input_tokens_p90"]
        assert row_cell(column, row, choose_style(column, [column.value(row)])) in text
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SurfaceDetailScreen)


async def test_view_from_settings_and_a_network_fault_keeps_its_rows_stale() -> None:
    clock = FakeClock()
    backend = FlakyBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": backend}, view="guardrails")
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        assert app.current_view == "guardrails"
        keys = list(app.table.row_keys)
        assert keys
        assert all("guardrails:" in k for k in keys)
        backend.down = True
        clock.advance(60)
        await poll_now(pilot)
        assert "STALE" in str(app.query_one(HeaderBar).render())
        assert app.table.row_keys == keys  # the last good rows stay on screen
        backend.down = False
        clock.advance(60)
        await poll_now(pilot)
        assert "LIVE" in str(app.query_one(HeaderBar).render())
        assert app.table.row_keys == keys or set(app.table.row_keys) == set(keys)


async def test_export_in_a_view_writes_that_views_csv(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await pilot.press("4")
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "exported 2 rows" in status(app)
        (path,) = tmp_path.glob("bedrock-top-*.csv")
        lines = list(csv.DictReader(io.StringIO(path.read_text())))
        assert app.shown is not None
        rows = {r.dim("guardrail_arn"): r for r in app.shown.surfaces["guardrails"].rows}
        assert {line["guardrail_arn"] for line in lines} == set(rows)
        for line in lines:
            row = rows[line["guardrail_arn"]]
            assert int(line["invocations"]) == row.values["invocations"]
            # The export asks for every figure: the window percentiles are there too.
            assert line["latency_p90_ms"] != ""


async def test_other_views_are_listed_right_after_the_first_rows() -> None:
    """The first poll reads the view on screen alone (the first rows never wait for five
    more ListMetrics); the other views' heartbeat follows at once."""
    app = make_app(views=(MODELS_VIEW,))
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        await settle(pilot)  # the poll started right after the first rows
        assert set(app.poller.settings.views) == set(VIEW_NAMES)
        assert app.shown is not None
        assert set(app.shown.surfaces) == set(VIEW_NAMES) - {MODELS_VIEW, CALLERS_VIEW}
        assert "2 mantle 6" in bar(app)
