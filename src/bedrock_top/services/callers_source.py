"""The callers view's data: found, backfilled and tailed only while the view is open.

Opening it finds the region's invocation log group (GetModelInvocationLoggingConfiguration),
fills the window with one Logs Insights query up to the start of the current period, and
from that instant on counts the records Live Tail streams (a record older than that instant
is the backfill's; a record seen twice is counted once, by requestId). Closing it ends the
Live Tail session, which is billed per minute. Message texts (prompts and answers) are parsed
and dropped at once (``figures.invocation_records``): nothing here keeps or logs them.

Insights cannot deduplicate before ``stats`` (``dedup`` may only be followed by ``limit``), so
an event stored twice in the log group counts twice in the backfill; Bedrock writes each
record once, and the duplicates Live Tail can deliver (on a reconnect) are counted once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from bedrock_top.errors import describe_error
from bedrock_top.figures.callers import CallerAggregator, CallerRow, GroupBy, PriceOf
from bedrock_top.figures.callers_spec import callers_view
from bedrock_top.figures.invocation_records import Skip, SkipCounter, parse_record
from bedrock_top.figures.surface_rows import SurfaceView
from bedrock_top.services.invocation_logs import (
    Backfill,
    LiveTail,
    LoggingTarget,
    backfill,
    find_log_group,
    log_group_arn,
)

# (bedrock control plane, CloudWatch Logs, STS) clients of one region
LogClients = Callable[[], tuple[Any, Any, Any]]


class CallersSource:
    """One region's callers, kept while the view is open (``open`` / ``close``)."""

    def __init__(
        self,
        region: str,
        clients: LogClients,
        window_s: int,
        period_s: int,
        group_by: GroupBy,
        price_of: PriceOf,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.region = region
        self.clients = clients
        self.window_s, self.period_s = window_s, period_s
        self.group_by = group_by
        self.price_of = price_of
        self.clock = clock
        self.sleep = sleep
        self.target: LoggingTarget | None = None
        self.backfilled: Backfill | None = None
        self.error: str | None = None  # why the newest open failed (retried on the next)
        self.status = ""  # Live Tail's: connecting, live, sampled, or why it stopped
        self.sampled = False
        self.skipped = SkipCounter()
        self.tail = LiveTail(clock=clock)  # session minutes on the same clock as the data
        self._aggregator = CallerAggregator(window_s, period_s, group_by)
        self._since = 0.0  # live records from this instant on; older ones are the backfill's
        self._lock = threading.Lock()
        self._open = False

    @property
    def is_open(self) -> bool:
        return self._open

    def open(self, live: bool = True) -> None:
        """Find the log group, backfill the window and (``live``) start Live Tail. Blocking
        (one Insights query): call it off the UI thread. A failure is kept in ``error`` and
        the next call tries again; logging off or denied is an answer in ``target``."""
        if self._open:
            return
        try:
            bedrock, logs, sts = self.clients()
            self.target = find_log_group(bedrock)
            group = self.target.log_group
            if group is None:
                self._open = True  # nothing to read: the view explains why
                return
            now = self.clock()
            start, _ = self._aggregator.window(now)
            since = now - now % self.period_s if live else now
            meta = self.group_by.key if self.group_by.kind == "metadata" else None
            result = backfill(
                logs, group, start, since, self.period_s, meta, self.clock, self.sleep
            )
            with self._lock:
                self._aggregator = CallerAggregator(self.window_s, self.period_s, self.group_by)
                for row in result.rows:
                    if not row.caller or not row.model_id:  # records Insights could not read
                        self.skipped.add(Skip.MISSING_FIELDS, row.invocations)
                        continue
                    self._aggregator.add_totals(
                        self.group_by.group_values(row.caller, row.model_id, row.meta),
                        row.model_id,
                        row.period_start,
                        row.invocations,
                        row.input_tokens,
                        row.output_tokens,
                        row.cache_read_tokens,
                        row.cache_write_tokens,
                        now=now,
                    )
                self._since = since
            self.backfilled = result
            if live:
                account = sts.get_caller_identity()["Account"]
                arn = log_group_arn(self.region, account, group)
                self.tail.start(logs, arn, self._on_events, self._on_status)
            self.error = None
            self._open = True
        except Exception as exc:  # shown in the view; the next poll tries again
            self.error = describe_error(exc)

    def close(self) -> None:
        """End the Live Tail session (the view left the screen): no more minutes billed."""
        self.tail.stop(timeout=0.2)
        self._open = False

    def _on_events(self, messages: list[str]) -> None:
        """Live Tail's thread: parse each message (its text dropped at once), count it."""
        now = self.clock()
        with self._lock:
            for message in messages:
                record = self.skipped.take(parse_record(message))
                if record is not None and record.at >= self._since:
                    self._aggregator.add(record, now)

    def _on_status(self, status: str) -> None:
        self.status = status
        self.sampled = self.sampled or status == "sampled"

    def models_of(self, group: tuple[str, ...], now: float) -> list[CallerRow]:
        """One caller's drill-down: a row per model it used."""
        with self._lock:
            return self._aggregator.models_of(group, now, self.price_of)

    def with_window(self, window_s: int, period_s: int) -> CallersSource:
        """A source for another window (a zoom): the backfill runs again when it opens."""
        self.close()
        return CallersSource(
            self.region,
            self.clients,
            window_s,
            period_s,
            self.group_by,
            self.price_of,
            clock=self.clock,
            sleep=self.sleep,
        )

    def rows(self, now: float) -> list[CallerRow]:
        with self._lock:
            return self._aggregator.rows(now, self.price_of)

    @property
    def usd(self) -> float:
        """What this view cost so far: Insights' bytes scanned and Live Tail's minutes."""
        insights = self.backfilled.usd if self.backfilled is not None else 0.0
        return insights + self.tail.usd

    def view(self, now: float) -> SurfaceView:
        """The view as every output shows it, with where its figures came from."""
        target = self.target
        warnings: list[str] = []
        if self.error:
            warnings.append(f"callers: {self.error}")
        if target is not None and target.log_group is None:
            warnings.append(f"callers: {target.reason}")
        if self.skipped.total:
            warnings.append(f"callers: {self.skipped.describe()}")
        if self.backfilled is not None and self.backfilled.truncated:
            warnings.append("callers: the backfill reached 10,000 rows; older rows may be missing")
        source = {
            "log_group": target.log_group if target is not None else None,
            "sampled": self.sampled,
            "bytes_scanned": self.backfilled.bytes_scanned if self.backfilled else 0.0,
            "live": self.status,
            "records_skipped": self.skipped.total,
            "usd": self.usd,
            "enable_command": target.enable_command if target is not None else "",
            "cost_note": target.cost_note if target is not None else "",
        }
        return callers_view(self.region, self.group_by, self.rows(now), source, tuple(warnings))
