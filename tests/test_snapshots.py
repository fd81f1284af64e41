"""SVG snapshots of every screen and state (pytest-textual-snapshot), on frozen demo data.

Regenerate after an intended UI change with ``pytest tests/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from support.tui import FakeClock, FlakyBackend, make_app, poll_now, settle

SnapCompare = Callable[..., bool]
SIZE = (160, 45)


def keys(*presses: str) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press(*presses)
        await settle(pilot)  # a key may start a poll (the detail screen does)

    return run_before


def test_main_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys())


def test_main_screen_100x30(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=keys())


def test_filtered(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("slash", *"anthropic"))


def test_sorted_by_throttles_reversed(snap_compare: SnapCompare) -> None:
    app = make_app(sort="throttles")
    assert snap_compare(app, terminal_size=SIZE, run_before=keys("r"))


def test_detail(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("down", "enter"))


def test_help(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("question_mark"))


def test_problems_only(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("e"))


def test_paused(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("p"))


def test_stale(snap_compare: SnapCompare) -> None:
    clock = FakeClock()
    backend = FlakyBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": backend})

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        backend.down = True
        clock.advance(95)
        await poll_now(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_compact_50x12(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(50, 12), run_before=keys())


def test_events(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("a"))


def test_mantle_view(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("2"))


def test_guardrails_view(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("4"))


def test_mantle_detail(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=keys("2", "enter"))


def test_batch_view_100x30(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 30), run_before=keys("6"))


def test_callers_view(snap_compare: SnapCompare) -> None:
    from bedrock_top.assemble import make_callers_source
    from bedrock_top.config import Settings
    from bedrock_top.figures.pricing import PriceTable

    clock = FakeClock()
    app = make_app(clock=clock)
    bundled = PriceTable.load(cache_path=Path("/nonexistent/bedrock-top/prices.json"))
    app.callers = make_callers_source(Settings(demo=True), "us-east-1", clock, bundled)
    callers = app.callers

    async def open_callers(pilot: Pilot[Any]) -> None:
        await keys("7")(pilot)
        for _ in range(1000):  # Live Tail connects on its own thread: wait until it is live
            if callers.status == "live":
                break
            await pilot.pause(0.01)
        assert callers.status == "live"
        app._read_callers()  # the view read again with that status, as its ticker does
        await settle(pilot)

    assert snap_compare(app, terminal_size=SIZE, run_before=open_callers)
