"""When to read the CloudWatch alarms on Bedrock metrics, for every region polled.

Alarms change rarely and their state at most once a minute, so they are read at start, then
every five minutes (and at once on request). A failed read keeps the last good alarms and a
short error to show; it never raises into the poll. ``update`` runs on the poll worker thread
while the UI reads: every result is an immutable snapshot swapped in whole.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from bedrock_top.cloudwatch.alarms import AlarmClient, read_alarms
from bedrock_top.errors import describe_error, is_access_denied, needs_new_credentials
from bedrock_top.figures.alarms import BEDROCK_NAMESPACES, Alarm, alarms_by_model

EVERY_S: Final = 300.0
DENIED: Final = "cloudwatch:DescribeAlarms denied — add it to the policy (iam-policy.json)"
_EMPTY: Final[Mapping[str, tuple[Alarm, ...]]] = MappingProxyType({})

log = logging.getLogger(__name__)


def alarm_error(exc: BaseException) -> str:
    """One line for a failed DescribeAlarms; a denial says which permission to add."""
    return DENIED if is_access_denied(exc) else describe_error(exc)


@dataclass(frozen=True, slots=True)
class RegionAlarms:
    """One region's last good alarms (and when they were read) and its newest error."""

    alarms: tuple[Alarm, ...] = ()
    by_model: Mapping[str, tuple[Alarm, ...]] = field(default_factory=lambda: _EMPTY)
    read_at: float | None = None  # epoch of the last good read; None: never read
    error: str | None = None  # why the newest read failed; None: it worked


class AlarmKeeper:
    """Every region's alarms on Bedrock metrics, read when due; ``update`` never raises."""

    def __init__(
        self,
        clients: Mapping[str, AlarmClient],
        clock: Callable[[], float] = time.time,
        every_s: float = EVERY_S,
        namespaces: Collection[str] = BEDROCK_NAMESPACES,
        reconnect: Callable[[str], AlarmClient] | None = None,
    ) -> None:
        self.clients = dict(clients)
        self.clock = clock
        self.every_s = every_s
        self.namespaces = frozenset(namespaces)
        self.reconnect = reconnect  # region -> a new client, when credentials changed
        self._regions: Mapping[str, RegionAlarms] = MappingProxyType(
            {region: RegionAlarms() for region in self.clients}
        )
        self._last: float | None = None
        self._refresh = threading.Event()
        self._busy = threading.Lock()
        self.reads = 0  # DescribeAlarms reads attempted (one per region each time)

    def ask_refresh(self) -> None:
        """Read every region's alarms at the next ``update``."""
        self._refresh.set()

    def due(self, now: float) -> bool:
        if self._refresh.is_set() or self._last is None:
            return True
        return now - self._last >= self.every_s

    def update(self) -> None:
        """Read every region's alarms when due. Another thread already reading: skip."""
        if not self._busy.acquire(blocking=False):
            return
        try:
            now = self.clock()
            if not self.due(now):
                return
            self._refresh.clear()
            self._last = now
            regions = dict(self._regions)
            for region in self.clients:
                regions[region] = self._read(region, regions.get(region, RegionAlarms()), now)
            self._regions = MappingProxyType(regions)
        except Exception:  # never into the poll: a bug here must not stop the figures
            log.exception("reading CloudWatch alarms failed")
        finally:
            self._busy.release()

    def _read(self, region: str, last: RegionAlarms, now: float) -> RegionAlarms:
        self.reads += 1
        try:
            alarms = tuple(read_alarms(self.clients[region], self.namespaces))
        except Exception as exc:
            error = alarm_error(exc)
            log.warning("DescribeAlarms in %s: %s", region, error, exc_info=True)
            if self.reconnect is not None and needs_new_credentials(exc):
                try:
                    self.clients[region] = self.reconnect(region)
                except Exception:
                    log.warning("rebuilding the alarms client of %s failed", region, exc_info=True)
            return RegionAlarms(last.alarms, last.by_model, last.read_at, error)
        return RegionAlarms(alarms, alarms_by_model(alarms), now, None)

    def region(self, region: str) -> RegionAlarms:
        """The region's snapshot: alarms, by model, when read, error."""
        return self._regions.get(region) or RegionAlarms()

    def alarms(self, region: str) -> list[Alarm]:
        """The last good alarms of the region (by name); [] before the first read."""
        return list(self.region(region).alarms)

    def by_model(self, region: str) -> Mapping[str, tuple[Alarm, ...]]:
        """The region's alarms keyed by model id, worst state first."""
        return self.region(region).by_model

    @property
    def errors(self) -> Mapping[str, str]:
        """Region -> why its newest read failed (only the failing regions)."""
        return {r: s.error for r, s in self._regions.items() if s.error}

    @property
    def error(self) -> str | None:
        """One line for the status bar: the failure (its region named when several are
        polled), or None when every region's newest read worked."""
        errors = self.errors
        if not errors:
            return None
        region, text = next(iter(errors.items()))
        where = "" if len(self.clients) == 1 else f" {region}"
        more = f" (+{len(errors) - 1} regions)" if len(errors) > 1 else ""
        label = "" if text == DENIED and not where else f"alarms{where}: "
        return f"{label}{text}{more}"
