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

    def set_quota_state(
        self, region: str, state: QuotaState, burndown_overrides: Mapping[str, int] | None = None
    ) -> None: ...


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

    def update(self, sink: QuotaSink) -> bool:
        """Read the quotas when due and hand them to ``sink``; True when they changed (a new
        catalogue, a new error or its end), so the caller can poll again to show them."""
        now = self.clock()
        if not self.due(now):
            return False
        refresh = self._refresh.is_set()
        self._refresh.clear()
        states = self.load(refresh)
        self._last = now
        changed = refresh or any(
            (old := self.states.get(region)) is None
            or old.catalog is not state.catalog
            or old.error != state.error
            for region, state in states.items()
        )
        self.states = states
        for region, state in states.items():
            sink.set_quota_state(
                region, replace(state, overrides=self.overrides), self.burndown_overrides
            )
        return changed
