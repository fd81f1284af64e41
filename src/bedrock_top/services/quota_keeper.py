"""When to read quotas, for every region at once, and handing them to the poller.

Quotas change rarely (an increase request, a new model): they are read at start (from the
12-hour disk cache when fresh), checked again every half hour, retried every five minutes
after a failure, and re-read at once on request (a key, ``quotas --refresh``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Final, Protocol

from bedrock_top.figures.quotas import QuotaState
from bedrock_top.services.quota_fetch import QuotaSource

RETRY_S: Final = 300.0  # after a failure (denied, throttled, unreachable)
CHECK_S: Final = 1800.0  # otherwise; the source itself re-reads AWS only past 12 hours


class QuotaSink(Protocol):
    """What takes the quotas (the poller)."""

    def set_quota_state(self, region: str, state: QuotaState) -> None: ...


class QuotaKeeper:
    """The quota sources of every region polled, with the config's overrides."""

    def __init__(
        self,
        sources: Mapping[str, QuotaSource],
        overrides: Mapping[str, str] | None = None,
        burndown_overrides: Mapping[str, int] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.sources = dict(sources)
        self.overrides = dict(overrides or {})
        self.burndown_overrides = dict(burndown_overrides or {})
        self.clock = clock
        self.states: dict[str, QuotaState] = {}
        self._last: float | None = None
        self._refresh = threading.Event()

    def ask_refresh(self) -> None:
        """Read every region's quotas from AWS at the next ``update`` (not the cache)."""
        self._refresh.set()

    def due(self, now: float) -> bool:
        if self._refresh.is_set() or self._last is None:
            return True
        failed = any(s.error for s in self.states.values())
        return now - self._last >= (RETRY_S if failed else CHECK_S)

    def load(self, refresh: bool = False) -> dict[str, QuotaState]:
        """Every region's quotas (concurrently when there are several); never raises."""
        names = list(self.sources)
        if len(names) == 1:
            return {names[0]: self.sources[names[0]].load(refresh)}
        with ThreadPoolExecutor(min(8, len(names)), "bedrock-top-quotas") as pool:
            states = list(pool.map(lambda n: self.sources[n].load(refresh), names))
        return dict(zip(names, states, strict=True))

    def update(self, sink: QuotaSink) -> None:
        """Read the quotas when due and hand them, with the config's overrides, to ``sink``."""
        now = self.clock()
        if not self.due(now):
            return
        refresh = self._refresh.is_set()
        self._refresh.clear()
        self.states = self.load(refresh)
        self._last = now
        for region, state in self.states.items():
            configured = replace(
                state, overrides=self.overrides, burndown_overrides=self.burndown_overrides
            )
            sink.set_quota_state(region, configured)
