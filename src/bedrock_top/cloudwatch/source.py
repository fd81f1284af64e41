"""The CloudWatch poller: discovery, batched GetMetricData with pagination, merge into series.

Works against anything with boto3's ``list_metrics`` / ``get_metric_data`` signatures: a real
client, or the demo backend, so ``--demo`` runs exactly this code.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from bedrock_top.cloudwatch.discovery import CloudWatchClient, ModelKey
from bedrock_top.cloudwatch.region import RegionPoller
from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.errors import describe_error, needs_new_credentials
from bedrock_top.figures.quotas import QuotaState
from bedrock_top.figures.retention import LISTED_S, LISTED_WARNING
from bedrock_top.figures.row_figures import CostOf
from bedrock_top.figures.snapshot import ApiUsage, ModelRow, Snapshot

if TYPE_CHECKING:
    from bedrock_top.figures.surface_rows import SurfaceView

Clock = Callable[[], float]


def _merged(parts: Mapping[str, list[SurfaceView]]) -> dict[str, SurfaceView]:
    """Each view's parts from every region as one (nothing to import without views)."""
    if not parts:
        return {}
    from bedrock_top.figures.surface_rows import merge_views

    return {view: merge_views(found) for view, found in parts.items()}


def _attempt(poll: Callable[[], None]) -> BaseException | None:
    """Run one region's poll; its exception is returned, not raised, so others go on."""
    try:
        poll()
    except Exception as exc:
        return exc
    return None


class Poller:
    """Polls every region and assembles snapshots."""

    def __init__(
        self,
        clients: Mapping[str, CloudWatchClient],
        settings: PollSettings,
        clock: Clock = time.time,
        cost_of: CostOf | None = None,
        reconnect: Callable[[str], CloudWatchClient] | None = None,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.cost_of = cost_of  # a row's money figures (None: no prices)
        self.reconnect = reconnect  # region -> a new client, when credentials changed
        self._stale_credentials: set[str] = set()  # regions whose credentials were refused
        self.regions = {
            name: RegionPoller(name, client, settings, clock) for name, client in clients.items()
        }
        self.last_poll_at: float | None = None
        self.profile: str | None = None  # for error messages that name the fix
        # Last good rows of each region, kept when that region fails on a later poll.
        self._good_rows: dict[str, list[ModelRow]] = {}
        self._good_views: dict[str, dict[str, SurfaceView]] = {}
        self._polled = settings  # the settings the newest poll ran with
        self._region_errors: dict[str, str] = {}
        self._workers = (
            ThreadPoolExecutor(len(self.regions), "bedrock-top-region")
            if len(self.regions) > 1
            else None
        )

    def poll(self) -> Snapshot:
        """Poll every region (concurrently when there are several). A failing region keeps its
        last good rows and is named in ``Snapshot.region_errors``; only when every region
        fails does the error propagate (the caller then marks everything stale)."""
        names = list(self.regions)
        # The settings of this poll: a view switched or a figure asked for while it runs
        # applies from the next one, so a snapshot never mixes two plans.
        self._polled = self.settings
        for region_poller in self.regions.values():
            region_poller.settings = self._polled
        for name in self._stale_credentials:  # picks up credentials renewed since then
            self._reconnect(name)
        self._stale_credentials.clear()
        if self._workers is None:
            outcomes = [_attempt(self.regions[names[0]].poll)]
        else:
            outcomes = list(self._workers.map(lambda n: _attempt(self.regions[n].poll), names))
        failures = {name: exc for name, exc in zip(names, outcomes, strict=True) if exc}
        self._stale_credentials = {
            name for name, exc in failures.items() if needs_new_credentials(exc)
        }
        if len(failures) == len(names):
            raise next(iter(failures.values()))
        self.last_poll_at = self.clock()
        self._region_errors = {
            name: describe_error(exc, self.profile) for name, exc in failures.items()
        }
        return self.snapshot()

    def _reconnect(self, region: str) -> None:
        """A fresh client for the next attempt, so new credentials are picked up without a
        restart; if even that fails, the old client stays and the next poll tries again."""
        if self.reconnect is None:
            return
        try:
            self.regions[region].client = self.reconnect(region)
        except Exception:
            return

    def set_focus(self, row_keys: Iterable[str]) -> None:
        """Ask for every metric of these rows ("region|account|model") from the next poll on:
        the detail screen shows figures the table does not, and only it pays for them."""
        wanted: dict[str, set[ModelKey]] = {name: set() for name in self.regions}
        for row_key in row_keys:
            region, account, model_id = row_key.split("|", 2)
            if region in wanted:
                wanted[region].add((account or None, model_id))
        for name, region_poller in self.regions.items():
            region_poller.focus = frozenset(wanted[name])

    def set_quota_state(
        self,
        region: str,
        state: QuotaState,
    ) -> None:
        """Quotas read for ``region`` (from the Service Quotas and Bedrock APIs, or the disk
        cache): matched to the models from the next snapshot on. A failed read keeps the
        last catalogue it had and is named in ``Snapshot.quota_errors``."""
        region_poller = self.regions.get(region)
        if region_poller is None:
            return
        region_poller.quotas.use(state, region_poller.models)

    def set_view(self, view: str) -> None:
        """From the next poll on, poll ``view`` in full and every other view (models too)
        for its heartbeat only; a view coming back is read over the whole window."""
        self._replace_settings(replace(self.settings, visible=view))

    def set_views(self, views: tuple[str, ...]) -> None:
        """Poll these views from the next poll on (listed again at once)."""
        self._replace_settings(replace(self.settings, views=views))

    def _replace_settings(self, settings: PollSettings) -> None:
        """New settings for the next poll (``poll`` hands them to the regions)."""
        self.settings = settings

    def set_cost_aware(self, cost_aware: bool) -> None:
        """From the next poll on, ask for only what the table shows (True) or for every metric
        of every model (False: the table shows or sorts by a window percentile, or an export
        wants every figure). Data already held is kept; new series load over the window."""
        self._replace_settings(replace(self.settings, cost_aware=cost_aware))

    def usage(self) -> ApiUsage:
        total = UsageCounter()
        for region in self.regions.values():
            total.get_metric_data_calls += region.usage.get_metric_data_calls
            total.list_metrics_calls += region.usage.list_metrics_calls
            total.metrics_requested += region.usage.metrics_requested
        frozen = total.frozen()
        last = sum(region.last_poll_metrics for region in self.regions.values())
        return replace(frozen, last_poll_metrics=last)

    def snapshot(self) -> Snapshot:
        now = self.last_poll_at if self.last_poll_at is not None else self.clock()
        settings = self._polled
        period = settings.period_s
        end = settings.window_end(now)  # a past window's (--end) or the live one's
        rows: list[ModelRow] = []
        messages: list[str] = []
        parts: dict[str, list[SurfaceView]] = {}
        cost_of = self.cost_of
        for name, region in self.regions.items():
            if name not in self._region_errors:
                self._good_rows[name] = region.rows(now, cost_of)
                self._good_views[name] = region.surface_views(now, cost_of)
                messages.extend(region.messages)
            rows.extend(self._good_rows.get(name, ()))
            for view, part in self._good_views.get(name, {}).items():
                parts.setdefault(view, []).append(part)
        rows.sort(key=lambda r: (-r.window.invocations, r.region, r.info.model_id))
        if settings.end is not None and end - settings.window_s < now - LISTED_S:
            messages.append(LISTED_WARNING)
        return Snapshot(
            taken_at=now,
            window_start=end - settings.window_s,
            window_end=end,
            period=period,
            complete_until=settings.complete_until(now),
            regions=tuple(self.regions),
            rows=tuple(rows),
            api=self.usage(),
            warnings=tuple(dict.fromkeys(messages)),
            region_errors=dict(self._region_errors),
            quota_errors={
                name: error
                for name, region in self.regions.items()
                if (error := region.quotas.error) is not None
            },
            surfaces=_merged(parts),
            visible=settings.visible,
            tpd_account={
                name: daily
                for name, region in self.regions.items()
                if (daily := region.quotas.account_daily(region.models)) is not None
            },
            requested_end=settings.end,
            period_note=settings.period_note,
        )

    def clients(self) -> dict[str, CloudWatchClient]:
        """The client of each region."""
        return {name: region.client for name, region in self.regions.items()}

    def with_settings(self, settings: PollSettings) -> Poller:
        """A poller for new window/period settings that reuses the clients (reloads data)."""
        poller = Poller(self.clients(), replace(settings), self.clock, self.cost_of, self.reconnect)
        poller.profile = self.profile
        for name, region in self.regions.items():  # quotas do not depend on the window
            again = poller.regions[name]
            again.quotas.use(region.quotas.state, ())
        self.close()
        return poller

    def close(self) -> None:
        """Let the region threads go (a poll already running finishes first)."""
        if self._workers is not None:
            self._workers.shutdown(wait=False)
