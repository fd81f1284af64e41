"""The callers view end to end on the demo account's invocation logs: its figures equal the
records logged (each request once), Live Tail runs only while the view is open, and no
prompt or answer text reaches the screen, the log file, the CSV export or the JSON."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Static

from bedrock_top.assemble import make_callers_source
from bedrock_top.cli import main
from bedrock_top.config import Settings
from bedrock_top.demo.invocation_logs import PROMPT_MARKER, DemoLogs
from bedrock_top.figures.surfaces import CALLERS_VIEW
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.surface_screen import SurfaceDetailScreen
from support.tui import FakeClock, make_app, settle

FROZEN = 1_790_000_030.0


def _truth(start: float, end: float, clock: FakeClock) -> dict[str, dict[str, int]]:
    """Per caller, the records stored for [start, end), as the backfill counts them: the
    readable ones (an event stored twice counts twice: Insights cannot deduplicate)."""
    logs = DemoLogs(seed=0, clock=clock)
    out: dict[str, dict[str, int]] = {}
    for call in logs.records(math.ceil(start * 1000), math.ceil(end * 1000)):
        if call.caller is None:
            continue
        row = out.setdefault(
            call.caller,
            {"invocations": 0, "input_tokens": 0, "output_tokens": 0, "cache_read_tokens": 0,
             "cache_write_tokens": 0},
        )  # fmt: skip
        row["invocations"] += 1
        row["input_tokens"] += call.input_tokens
        row["output_tokens"] += call.output_tokens
        row["cache_read_tokens"] += call.cache_read_tokens
        row["cache_write_tokens"] += call.cache_write_tokens
    return out


def test_backfill_figures_equal_the_logged_records() -> None:
    clock = FakeClock(FROZEN)
    source = make_callers_source(Settings(demo=True), "us-east-1", clock)
    source.open(live=False)
    view = source.view(clock())
    start = FROZEN - FROZEN % 60 + 60 - 3600  # the window: whole minutes up to now's
    truth = _truth(start, FROZEN, clock)
    shown = {dict(r.dims)["Caller"]: r.values for r in view.rows}
    assert set(shown) == set(truth)
    for caller, figures in truth.items():
        for key, value in figures.items():
            assert shown[caller][key] == value, (caller, key)
    shares = [r.values["share"] for r in view.rows]
    assert math.isclose(sum(s for s in shares if s is not None), 1.0)


@pytest.mark.parametrize("output", ["json", "csv", "table"])
def test_once_never_prints_a_prompt(
    output: str, capsys: pytest.CaptureFixture[str], product_log: list[str]
) -> None:
    assert main(["--once", "--demo", "--view", "callers", "--format", output]) == 0
    out, err = capsys.readouterr()
    assert "nightly-batch" in out
    assert PROMPT_MARKER not in out + err + "\n".join(product_log)
    if output == "json":
        document: dict[str, Any] = json.loads(out)
        assert document["view"] == CALLERS_VIEW
        assert document["source"]["log_group"] == "/aws/bedrock/model-invocations"
        assert document["api"]["logs_usd"] >= 0
        assert {"caller", "invocations", "cost_usd", "share"} <= set(document["rows"][0])
    if output == "csv":
        header = next(csv.reader(io.StringIO(out)))
        assert header[:3] == ["region", "account", "caller"]


def _callers_app(tmp_path: Path) -> tuple[BedrockTopApp, FakeClock]:
    clock = FakeClock(FROZEN)
    app = make_app(tmp_path, clock=clock)
    app.callers = make_callers_source(Settings(demo=True), "us-east-1", clock)
    return app, clock


async def test_live_tail_runs_only_while_the_view_is_open(
    tmp_path: Path, product_log: list[str]
) -> None:
    app, _ = _callers_app(tmp_path)
    callers = app.callers
    assert callers is not None
    async with app.run_test(size=(200, 40)) as pilot:
        await settle(pilot)
        assert not callers.tail.running
        await pilot.press("7")
        await settle(pilot)
        assert app.current_view == CALLERS_VIEW
        assert callers.is_open
        assert callers.tail.running
        keys = app.table.row_keys
        assert keys
        assert any("nightly-batch" in k for k in keys)
        await pilot.press("ctrl+s")
        await settle(pilot)
        (path,) = tmp_path.glob("bedrock-top-*.csv")
        screen = "\n".join(str(app.query_one(w, Static).render()) for w in ("#status", "#viewbar"))
        screen += "".join(app.table.cell_text(k, "caller") for k in keys)
        assert PROMPT_MARKER not in path.read_text() + screen + "\n".join(product_log)
        await pilot.press("1")
        await settle(pilot)
        assert not callers.is_open
        assert not callers.tail.running  # no Live Tail minute billed off screen


async def test_a_caller_drills_down_to_its_models_and_a_zoom_backfills_again(
    tmp_path: Path,
) -> None:
    app, _ = _callers_app(tmp_path)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await pilot.press("7")
        await settle(pilot)
        first = app.callers
        assert first is not None
        batch = next(k for k in app.table.row_keys if "nightly-batch" in k)
        app.table.cursor_row = app.table.row_keys.index(batch)
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SurfaceDetailScreen)
        assert screen.query_one("#surface-breakdown", Static).display
        shown = app.shown
        assert shown is not None
        row = next(r for r in shown.surfaces[CALLERS_VIEW].rows if r.key == batch)
        models = first.models_of(tuple(v for _, v in row.dims), FROZEN)
        assert sum(m.invocations for m in models) == row.values["invocations"]
        assert len(models) == row.values["models"]
        await pilot.press("escape", "right_square_bracket")  # a longer window
        await settle(pilot)
        assert app.callers is not first
        assert not first.tail.running
        assert app.callers is not None
        assert app.callers.window_s > first.window_s
        assert app.callers.is_open
