"""Regenerate screenshots/*.svg from the demo, on a frozen clock so they are reproducible.

Run: .venv/bin/python scripts/screenshots.py
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

from bedrock_top.assemble import make_callers_source
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.config import Settings
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.demo.quotas import DemoQuotaClients
from bedrock_top.figures.pricing import PriceTable, cost_function
from bedrock_top.figures.surfaces import CALLERS_VIEW, MODELS_VIEW, VIEW_NAMES
from bedrock_top.services.alarm_keeper import AlarmKeeper
from bedrock_top.services.quota_fetch import QuotaSource
from bedrock_top.services.quota_keeper import QuotaKeeper
from bedrock_top.tui.app import BedrockTopApp

OUT = Path(__file__).resolve().parent.parent / "screenshots"
FROZEN = 1_790_000_030.0
SIZE = (160, 45)


async def settle(pilot: Pilot[int]) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def shoot(
    name: str,
    steps: Callable[[Pilot[int]], Awaitable[None]],
    size: tuple[int, int] = SIZE,
    **settings: object,
) -> Path:
    clock = lambda: FROZEN  # noqa: E731 - a frozen clock
    clients = {"us-east-1": DemoCloudWatch(seed=1, clock=clock)}
    prices = PriceTable.load(cache_path=OUT / "no-cache.json")  # bundled prices only
    view = str(settings.get("view", MODELS_VIEW))
    # Every view polled, as the live monitor does (the view bar counts their rows).
    poll = PollSettings(views=VIEW_NAMES, visible=view)
    poller = Poller(clients, poll, clock=clock, cost_of=cost_function(prices))
    demo = DemoQuotaClients(seed=1, clock=clock)
    source = QuotaSource("us-east-1", lambda: (demo, demo, demo), None, clock)
    quotas = QuotaKeeper({"us-east-1": source}, clock=clock)
    quotas.update(poller)  # the demo account's quotas, on the first screen already
    app = BedrockTopApp(
        Settings(demo=True, **settings),  # type: ignore[arg-type]
        poller,
        clock=clock,
        quotas=quotas,
        alarms=AlarmKeeper(clients, clock=clock),  # the demo account's CloudWatch alarms
    )
    if view == CALLERS_VIEW:  # the demo account's invocation logs, on the frozen clock
        bundled = PriceTable.load(cache_path=OUT / "no-cache.json")
        app.callers = make_callers_source(Settings(demo=True), "us-east-1", clock, bundled)
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        await steps(pilot)
        await settle(pilot)  # a step may start a poll (the detail screen does)
        path = OUT / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(OUT))
    return path


async def main() -> None:
    os.environ["TZ"] = "UTC"
    time.tzset()
    OUT.mkdir(exist_ok=True)

    async def nothing(pilot: Pilot[int]) -> None:
        return None

    async def detail(pilot: Pilot[int]) -> None:
        await pilot.press("down", "enter")

    async def filtered(pilot: Pilot[int]) -> None:
        await pilot.press("slash", *"anthropic", "enter")

    async def events(pilot: Pilot[int]) -> None:
        await pilot.press("a")

    async def past(pilot: Pilot[int]) -> None:  # one window back in time
        await pilot.press("left_curly_bracket")

    async def alarm_commands(pilot: Pilot[int]) -> None:  # the model in ALARM: its rules
        app = pilot.app
        assert isinstance(app, BedrockTopApp)
        assert app.shown is not None
        keys = app.table.row_keys
        target = next(r.key for r in app.shown.rows if r.alarm == "ALARM")
        await pilot.press(*["down"] * keys.index(target), "enter")
        await settle(pilot)
        await pilot.press("c")

    async def mantle_detail(pilot: Pilot[int]) -> None:  # per-inference token percentiles
        await pilot.press("enter")

    async def quota(pilot: Pilot[int]) -> None:  # the fullest quota's detail, its reasons
        await pilot.press("home", "enter")
        await settle(pilot)
        pilot.app.screen.query_one("#detail-scroll").scroll_to(y=9, animate=False)

    for name, steps, size in (
        ("main", nothing, SIZE),
        ("main-100x30", nothing, (100, 30)),
        ("compact-50x12", nothing, (50, 12)),
        ("detail", detail, SIZE),
        ("filter", filtered, SIZE),
        ("events", events, SIZE),
        ("past-window", past, (100, 30)),
        ("alarm-commands", alarm_commands, SIZE),
    ):
        print(await shoot(name, steps, size))
    print(await shoot("quota", quota, (160, 50), sort="quota"))
    for view in ("mantle", "guardrails", "agents", "batch", "callers"):
        print(await shoot(f"view-{view}", nothing, SIZE, view=view))
    print(await shoot("view-mantle-detail", mantle_detail, SIZE, view="mantle"))


if __name__ == "__main__":
    asyncio.run(main())
