"""``bedrock-top watch``: the poller and the alert rules without a screen.

One JSON object per line for every alert event (fired, repeat, resolved) and for the
monitor's own health (poll_failed, recovered), on stdout or appended to ``--output FILE``; a
short status line per poll on stderr unless ``--quiet``. SIGTERM and SIGINT end it within a
second even while a poll hangs on the network; SIGHUP reads the config again (and reopens the
output file, for log rotation). Faults never end it: a failed poll is a ``poll_failed`` line,
a retry with backoff, and a ``recovered`` line once CloudWatch answers again.

Exit codes: 0 stopped by a signal, 1 the output could not be written, 2 bad flags or config
at start (a bad config on SIGHUP keeps the previous one and says so on stderr).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from types import FrameType
from typing import IO, TYPE_CHECKING

from bedrock_top.arguments import PROG, build_parser, load_settings, print_config
from bedrock_top.config import Settings
from bedrock_top.errors import ConfigError, describe_error
from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, HealthEvent
from bedrock_top.figures.spikes import DEFAULT_RULES

if TYPE_CHECKING:
    from bedrock_top.cloudwatch.source import Poller
    from bedrock_top.figures.snapshot import Snapshot
    from bedrock_top.services.quota_keeper import QuotaKeeper

WATCH_PROG = f"{PROG} watch"
STOP_GRACE_S = 0.5  # how long a stop waits for a poll in flight before leaving without it
MAX_BACKOFF_S = 60.0
# Flags of the main command that mean nothing without a screen or a one-shot output.
_NOT_FOR_WATCH = ("once", "format", "sort", "reverse", "end", "write_config", "force")


def build_watch_parser() -> argparse.ArgumentParser:
    """The main command's flags (the same settings, config file and environment) plus the
    output ones; those that only make sense for a table are refused in ``_check_flags``."""
    parser = build_parser()
    parser.prog = WATCH_PROG
    parser.description = (
        "Run the poller and the alert rules without a screen: one JSON line per alert event."
    )
    parser.epilog = (
        "output: one JSON object per line (at, event, rule, severity, view, region, model_id,\n"
        "figure, value, threshold, message); events fired, repeat, resolved, poll_failed,\n"
        "recovered. Signals: SIGTERM/SIGINT stop (exit 0), SIGHUP reloads the config.\n"
        "Exit codes: 0 stopped by a signal, 1 output not writable, 2 bad flags or config."
    )
    for action in parser._actions:  # refused by watch (_check_flags): not offered either
        if action.dest in _NOT_FOR_WATCH:
            action.help = argparse.SUPPRESS
    parser.add_argument("--output", metavar="FILE", help="append the JSON lines to FILE")
    parser.add_argument("--quiet", action="store_true", help="no status line on stderr")
    return parser


def _check_flags(args: argparse.Namespace) -> None:
    for name in _NOT_FOR_WATCH:
        value = getattr(args, name, None)
        if value not in (None, False):
            flag = "--" + name.replace("_", "-")
            raise ConfigError(f"{flag}: not used by watch")


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class Health:
    """Which regions are failing, so each outage is told once and its end once."""

    failing: dict[str, str] = field(default_factory=dict)  # region -> message told

    def update(
        self, now: float, failed: dict[str, str], polled: Sequence[str]
    ) -> list[HealthEvent]:
        events: list[HealthEvent] = []
        for region in polled:
            message = failed.get(region)
            if message is not None and self.failing.get(region) != message:
                events.append(HealthEvent("poll_failed", now, region, message))
                self.failing[region] = message
            elif message is None and region in self.failing:
                del self.failing[region]
                events.append(HealthEvent("recovered", now, region, "polls succeed again"))
        return events


class Watch:
    """One watch run: polls on a worker thread, writes events, reloads on request."""

    def __init__(
        self,
        settings: Settings,
        load: Callable[[], Settings],
        out: Callable[[], IO[str]],
        status: IO[str] | None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self._load = load  # the settings again, from the same flags (SIGHUP)
        self._open_out = out
        self.out = out()
        self.status = status
        self.clock = clock
        self.stop = threading.Event()
        self.reload = threading.Event()
        self.wake = threading.Event()  # cuts the wait between polls short (stop, reload)
        self.health = Health()
        self.failures = 0
        self.write_error: OSError | None = None
        self._build()

    # --- what a run is made of (rebuilt when the config changes what is polled) -------------

    def _build(self) -> None:
        from bedrock_top.alerting import AlertCenter
        from bedrock_top.assemble import make_poller, make_quota_keeper
        from bedrock_top.services.alert_actions import ActionRunner

        self.poller: Poller = make_poller(self.settings)
        self.poller.set_cost_aware(_cost_aware(self.settings.alert_rules))
        self.quotas: QuotaKeeper = make_quota_keeper(
            self.settings, tuple(self.poller.regions), self.poller.clients()
        )
        runner = ActionRunner(bell=self._bell, on_failure=self._action_failed)
        self.center = AlertCenter(self.settings.alert_rules, self.settings.spike_rules, runner)
        self._warn_unjudged()

    def _warn_unjudged(self) -> None:
        """One view is polled in full (--view); rules on another view could never fire."""
        view = self.settings.view
        others = sorted({r.view for r in self.settings.alert_rules if r.enabled and r.view != view})
        if others:
            self._say(
                f"note: only the {view} view is polled in full; rules on "
                f"{', '.join(others)} are not judged (run a watch with --view for each)"
            )

    def _bell(self) -> None:
        if self.status is not None and self.status.isatty():
            self.status.write("\a")
            self.status.flush()

    def _action_failed(self, line: str) -> None:
        self._say(f"⚠ {line}")

    def _say(self, line: str) -> None:
        if self.status is None:
            return
        try:
            self.status.write(f"{PROG}: {line}\n")
            self.status.flush()
        except (OSError, ValueError):
            pass  # stderr gone: the JSON lines are what matters

    # --- the loop ----------------------------------------------------------------------------

    def run(self) -> int:
        """Poll until stopped; returns the exit code."""
        worker = threading.Thread(target=self._loop, name="bedrock-top-watch", daemon=True)
        self.worker = worker
        worker.start()
        # No timeout: a signal interrupts the wait (its handler sets ``stop``), and an idle
        # watch wakes for nothing but its polls.
        self.stop.wait()
        self.wake.set()
        worker.join(STOP_GRACE_S)  # a poll hung on the network is left behind (daemon)
        self.center.close(STOP_GRACE_S)
        self.poller.close()
        return 1 if self.write_error is not None else 0

    def _loop(self) -> None:
        while not self.stop.is_set():
            if self.reload.is_set():
                self.reload.clear()
                self._reload()
            started = self.clock()
            self._poll_once()
            if self.stop.is_set():
                return
            delay = self._next_delay() - (self.clock() - started)
            self.wake.clear()
            self.wake.wait(max(0.0, delay))

    def _next_delay(self) -> float:
        """The interval; after failures, exponential backoff capped at min(interval, 60 s)."""
        interval = float(self.settings.interval_s)
        if not self.failures:
            return interval
        return min(interval, MAX_BACKOFF_S, 2.0 ** (self.failures + 1))

    def _poll_once(self) -> None:
        started = time.perf_counter()
        regions = tuple(self.poller.regions)
        try:
            self.quotas.update(self.poller)  # never raises; a failure is in the snapshot
            snapshot = self.poller.poll()
        except Exception as exc:
            self.failures += 1
            text = describe_error(exc, self.settings.profile)
            now = self.clock()
            self._emit(self.health.update(now, dict.fromkeys(regions, text), regions))
            retry = self._next_delay()
            self._say(f"{_iso(now)} poll failed, retrying in {retry:.0f}s: {text}")
            return
        self.failures = 0
        now = snapshot.taken_at
        self._emit(self.health.update(now, dict(snapshot.region_errors), regions))
        self._emit(self.center.judge(snapshot))
        self._say(self._status_line(snapshot, time.perf_counter() - started))

    def _status_line(self, snapshot: Snapshot, seconds: float) -> str:
        rows = len(snapshot.rows)
        active = len(self.center.book.active())
        calls = snapshot.api.get_metric_data_calls
        failing = len(snapshot.region_errors)
        partial = f" · {failing} region(s) failing" if failing else ""
        return (
            f"{_iso(snapshot.taken_at)} poll ok · {rows} model{'' if rows == 1 else 's'} · "
            f"{active} active alert{'' if active == 1 else 's'} · {seconds:.1f}s · "
            f"{calls} GetMetricData call{'' if calls == 1 else 's'} so far{partial}"
        )

    def _emit(self, events: Sequence[AlertEvent | HealthEvent]) -> None:
        from bedrock_top.output.alert_json import event_record, health_record

        for event in events:
            record = event_record(event) if isinstance(event, AlertEvent) else health_record(event)
            try:
                self.out.write(json.dumps(record, ensure_ascii=False) + "\n")
                self.out.flush()
            except OSError as exc:  # a full disk or a closed pipe ends the watch
                self.write_error = exc
                self._say(f"cannot write the events: {exc.strerror or exc}")
                self.stop.set()
                return

    def _reload(self) -> None:
        """SIGHUP: the config again; what is polled is rebuilt only when it changed."""
        try:
            settings = self._load()
        except ConfigError as exc:
            self._say(f"config reload failed, keeping the previous config: {exc}")
            return
        self._reopen_output()
        if _polled(settings) != _polled(self.settings):
            # Another region, window or view: a new poller (the incidents end with it).
            self._emit(self.center.reload((), settings.spike_rules))
            self.poller.close()
            self.center.close(STOP_GRACE_S)
            self.settings = settings
            self._build()
        else:
            self.settings = settings
            self._emit(self.center.reload(settings.alert_rules, settings.spike_rules))
            self.poller.set_cost_aware(_cost_aware(settings.alert_rules))
            self._warn_unjudged()
        enabled = sum(rule.enabled for rule in settings.alert_rules)
        self._say(f"config reloaded: {enabled} alert rule{'' if enabled == 1 else 's'} on")

    def _reopen_output(self) -> None:
        if self.out in (sys.stdout, sys.__stdout__):
            return
        try:
            fresh = self._open_out()
        except OSError as exc:
            self._say(f"cannot reopen the output, keeping the old one: {exc.strerror or exc}")
            return
        old, self.out = self.out, fresh
        old.close()

    # --- signals -----------------------------------------------------------------------------

    def install_signals(self) -> None:
        def stop(signum: int, frame: FrameType | None) -> None:
            self.stop.set()
            self.wake.set()

        def reload(signum: int, frame: FrameType | None) -> None:
            self.reload.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        if hasattr(signal, "SIGHUP"):
            signal.signal(signal.SIGHUP, reload)


def _polled(settings: Settings) -> Settings:
    """The settings that decide what is polled (everything but the rules)."""
    return replace(settings, alert_rules=(), spike_rules=DEFAULT_RULES)


def _cost_aware(rules: Sequence[AlertRule]) -> bool:
    """Ask only for the table's metrics unless a rule reads a window statistic."""
    from bedrock_top.views.columns import COLUMNS_BY_KEY

    return not any(
        rule.enabled and (col := COLUMNS_BY_KEY.get(rule.figure)) is not None and col.window_stats
        for rule in rules
    )


def run_watch(argv: Sequence[str]) -> int:
    """``bedrock-top watch [flags]``; errors at start are one line and exit code 2."""
    parser = build_watch_parser()
    args = parser.parse_args(list(argv))
    _check_flags(args)
    settings, values = load_settings(args)
    if args.print_config:
        return print_config(args, settings, values)

    def load() -> Settings:
        return load_settings(args)[0]

    path = args.output

    def open_out() -> IO[str]:
        if path is None:
            return sys.stdout
        return open(path, "a", encoding="utf-8")  # kept open for the run

    try:
        watch = Watch(settings, load, open_out, None if args.quiet else sys.stderr)
    except OSError as exc:
        sys.stderr.write(f"{WATCH_PROG}: cannot open {path}: {exc.strerror or exc}\n")
        return 1
    watch.install_signals()
    code = watch.run()
    sys.stdout.flush()
    if watch.worker.is_alive():
        # A poll still hung on the network: leave now rather than wait for its timeout.
        sys.stderr.flush()
        os._exit(code)
    return code
