"""Building the TUI against the demo backend with a clock the test controls."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from botocore.exceptions import EndpointConnectionError
from textual.pilot import Pilot

from bedrock_top.cloudwatch.alarms import AlarmClient
from bedrock_top.cloudwatch.discovery import CloudWatchClient
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.config import Settings
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.demo.quotas import DemoQuotaClients
from bedrock_top.figures.pricing import PriceTable, cost_function
from bedrock_top.figures.surfaces import VIEW_NAMES
from bedrock_top.services.alarm_keeper import AlarmKeeper
from bedrock_top.services.quota_fetch import QuotaSource
from bedrock_top.services.quota_keeper import QuotaKeeper
from bedrock_top.tui.app import BedrockTopApp

# A fixed instant, 30 s into a minute, so every run draws the same screen.
FROZEN_EPOCH = 1_790_000_030.0


@dataclass
class FakeClock:
    """A clock that moves only when the test says so."""

    now: float = FROZEN_EPOCH

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def make_app(
    tmp_path: Path | None = None,
    *,
    clock: Callable[[], float] | None = None,
    clients: dict[str, CloudWatchClient] | None = None,
    window_s: int = 3600,
    period_s: int = 60,
    seed: int = 1,
    reconnect: Callable[[str], CloudWatchClient] | None = None,
    quotas: bool = True,
    quota_clients: DemoQuotaClients | None = None,
    views: tuple[str, ...] = VIEW_NAMES,
    alarms: bool = True,
    **settings: object,
) -> BedrockTopApp:
    """An app over the demo backend (or ``clients``) with a frozen clock; with ``quotas``,
    the demo account's quotas (or ``quota_clients``), read before the app starts (so the
    first poll shows them)."""
    clock = clock or FakeClock()
    if clients is None:
        clients = {"us-east-1": DemoCloudWatch(seed=seed, clock=clock)}
    config = Settings(
        demo=True,
        window_s=window_s,
        period_s=period_s,
        seed=seed,
        **settings,  # type: ignore[arg-type]
    )
    prices = PriceTable.load(cache_path=Path("/nonexistent/bedrock-top/prices.json"))
    poller = Poller(
        clients,
        PollSettings(window_s=window_s, period_s=period_s, views=views, visible=config.view),
        clock=clock,
        cost_of=cost_function(prices),
        reconnect=reconnect,
    )
    keeper = None
    if quotas:
        keeper = QuotaKeeper(
            {
                region: QuotaSource(
                    region, demo_quota_clients(seed, region, clock, quota_clients), None, clock
                )
                for region in clients
            },
            clock=clock,
        )
        keeper.update(poller)
    alarm_keeper = None
    if alarms and all(hasattr(c, "describe_alarms") for c in clients.values()):
        alarm_keeper = AlarmKeeper(cast("dict[str, AlarmClient]", clients), clock=clock)
    return BedrockTopApp(
        config, poller, clock=clock, export_dir=tmp_path, quotas=keeper, alarms=alarm_keeper
    )


def demo_quota_clients(
    seed: int, region: str, clock: Callable[[], float], demo: DemoQuotaClients | None = None
) -> Callable[[], tuple[Any, Any, Any]]:
    demo = demo or DemoQuotaClients(seed=seed, region=region, clock=clock)
    return lambda: (demo, demo, demo)


async def settle(pilot: Pilot[int]) -> None:
    """Wait for the poll in flight and for the UI to draw its result."""
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.pause()


async def poll_now(pilot: Pilot[int]) -> None:
    """Run one more poll (as the timer would) and wait for it to be drawn."""
    app = pilot.app
    assert isinstance(app, BedrockTopApp)
    app.start_poll()
    await settle(pilot)


class FailingClient:
    """Wraps a client (or backend) and raises ``error()`` on every call while ``down``."""

    def __init__(self, inner: Any, error: Callable[[], Exception]) -> None:
        self.inner = inner
        self.error = error
        self.down = False

    def list_metrics(self, **kwargs: Any) -> Any:
        self._check()
        return self.inner.list_metrics(**kwargs)

    def get_metric_data(self, **kwargs: Any) -> Any:
        self._check()
        return self.inner.get_metric_data(**kwargs)

    def _check(self) -> None:
        if self.down:
            raise self.error()


class FlakyBackend(FailingClient):
    """The demo backend, failing on demand like a dropped network."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(
            DemoCloudWatch(seed=1, clock=clock),
            lambda: EndpointConnectionError(
                endpoint_url="https://monitoring.us-east-1.amazonaws.com/"
            ),
        )
