"""The live monitor: polls in a worker thread, draws snapshots, handles the keys people know.

Polls are chained (the next is scheduled when the last one ends) so two never overlap;
the worker hands the UI an immutable Snapshot (and its account totals) by message, and the
table is patched by key. Alerts never cover data: they go to one notice line and the events
screen, not to toasts.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.style import Style
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from bedrock_top.alerting import AlertCenter
from bedrock_top.cloudwatch.source import Clock, Poller
from bedrock_top.config import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    WINDOW_CHOICES,
    Settings,
    auto_period,
    parse_window,
)
from bedrock_top.errors import ConfigError, describe_error
from bedrock_top.figures.alarms import account_wide, mark_rows
from bedrock_top.figures.alert_rules import AlertEvent
from bedrock_top.figures.alert_state import fmt_value, title
from bedrock_top.figures.callers_spec import spec_of
from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.figures.spikes import SpikeTracker
from bedrock_top.figures.surface_rows import SurfaceRow, SurfaceView
from bedrock_top.figures.surfaces import CALLERS_VIEW, MODELS_VIEW, VIEW_NAMES, ViewSpec
from bedrock_top.figures.totals import Totals, account_totals
from bedrock_top.output.export import export_csv
from bedrock_top.output.render_views import render_view_csv
from bedrock_top.services.alarm_keeper import AlarmKeeper
from bedrock_top.services.alert_actions import ActionRunner
from bedrock_top.services.callers_source import CallersSource
from bedrock_top.services.quota_keeper import QuotaKeeper
from bedrock_top.tui.alarm_screens import ModelAlarms
from bedrock_top.tui.charts import ChartBox, chart_row
from bedrock_top.tui.events_screen import EventsScreen
from bedrock_top.tui.header import HeaderBar, HeaderState, past_window, utc
from bedrock_top.tui.screens import DetailScreen, HelpScreen
from bedrock_top.tui.surface_screen import SurfaceDetailScreen, models_table
from bedrock_top.tui.table import ModelTable
from bedrock_top.views.alarm_commands import put_metric_alarm_commands
from bedrock_top.views.columns import (
    SPARK_KEY,
    SPARK_METRICS,
    Column,
    fmt_span,
    live_keys,
)
from bedrock_top.views.panels import model_charts, surface_charts, totals_charts
from bedrock_top.views.rows import row_filter
from bedrock_top.views.surface_columns import columns_of, sort_default
from bedrock_top.views.surface_view import (
    SurfaceLayout,
    row_title,
    surface_table_columns,
    surface_visible_rows,
)
from bedrock_top.views.view import (
    ModelLayout,
    ViewState,
    column_styles,
    sort_arrow,
    table_columns,
    visible_rows,
)
from bedrock_top.views.view_bar import bar_text, view_tabs

ALARM_WAIT_S = 2.0  # how long a poll's rows wait for an alarm read running beside it
INTERVAL_STEPS = (5, 10, 15, 30, 60, 120, 300, 600)
WINDOWS_HELP = "time window: " + " ".join(WINDOW_CHOICES)
log = logging.getLogger("bedrock_top")
# Which table cells a spike signal marks.
SIGNAL_CELLS = {
    "invocations": ("inv_rate", "invocations", SPARK_KEY),
    "tokens": ("in_rate", "out_rate", "tokens"),
    "errors": ("client_errors", "server_errors", "error_rate"),
    "error_rate": ("error_rate",),
    "throttles": ("throttles",),
    "latency_p90": ("lat_p90",),
    "ttft_p90": ("lat_ttft",),
}
CALLERS_REFRESH_S = 2.0  # the callers view redraws from Live Tail's records this often
COMPACT_WIDTH = 80  # below this (or COMPACT_HEIGHT) there are no panels, only the table
COMPACT_HEIGHT = 20
CHARTS_HEIGHT = 26  # the totals graphs need this many rows
PANE_HEIGHT = 36  # the selected model's charts under the table need this many


class PollDone(Message):
    """A poll finished: a snapshot and its totals, or the error that stopped it."""

    def __init__(
        self,
        generation: int,
        snapshot: Snapshot | None,
        error: BaseException | None,
        totals: Totals | None = None,
    ) -> None:
        super().__init__()
        self.generation = generation
        self.snapshot = snapshot
        self.error = error
        self.totals = totals


class CallersRead(Message):
    """The callers view read again from its aggregator (between polls: Live Tail is live)."""

    def __init__(self, view: SurfaceView) -> None:
        super().__init__()
        self.view = view


class BedrockTopApp(App[int]):
    """bedrock-top's live table."""

    TITLE = "bedrock-top"
    CSS_PATH = Path(__file__).with_name("app.tcss")
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("slash", "filter", "Filter"),
        Binding("escape", "clear_filter", "Clear", show=False),
        Binding("enter", "detail", "Detail", show=False),
        Binding("less_than_sign", "sort_prev", "Sort ◀", show=False),
        Binding("greater_than_sign", "sort_next", "Sort", key_display="< >"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("p,space", "pause", "Pause"),
        Binding("plus,equals_sign", "interval(1)", "Slower", show=False),
        Binding("minus", "interval(-1)", "Faster", show=False),
        Binding("left_square_bracket", "zoom(-1)", "Zoom in", show=False),
        Binding("right_square_bracket", "zoom(1)", "Window", key_display="[ ]"),
        Binding("left_curly_bracket", "step_time(-1)", "Back", key_display="{ }"),
        Binding("right_curly_bracket", "step_time(1)", "Forward", show=False),
        Binding("l", "live", "Live", show=False),
        Binding("e", "problems", "Problems"),
        Binding("s", "spark", "Spark"),
        Binding("v", "pane", "Charts"),
        Binding("a", "events", "Events"),
        Binding("u", "quotas", "Quotas", show=False),
        Binding("ctrl+s", "export", "Export CSV"),
        Binding("colon", "command", "Views", key_display=":"),
        *(
            Binding(str(n), f"show_view({n})", name, show=False)
            for n, name in enumerate(VIEW_NAMES, start=1)
        ),
    ]

    def __init__(
        self,
        settings: Settings,
        poller: Poller,
        *,
        clock: Clock = time.time,
        export_dir: Path | None = None,
        quotas: QuotaKeeper | None = None,
        callers: CallersSource | None = None,
        alarms: AlarmKeeper | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.poller = poller
        self.quotas = quotas
        self.alarms = alarms  # the CloudWatch alarms on Bedrock metrics (None: not read)
        self.callers = callers  # read (and billed) only while the callers view is open
        self._callers_ticker: Timer | None = None
        self.clock = clock
        self.export_dir = export_dir
        self.current_view = settings.view  # "models" or one of ``figures.surfaces``
        # What the user chose to see, per view: each keeps its own sort when switched back.
        self._states = {
            name: ViewState(
                filter=settings.filter,
                sort=_sort(settings.sort, name),
                reverse=settings.reverse,
                spark_metric=settings.spark_metric,
            )
            for name in VIEW_NAMES
        }
        self.header_state = HeaderState(
            source="demo" if settings.demo else (settings.profile or "default"),
            regions=tuple(poller.regions),
            window_s=settings.window_s,
            period_s=settings.period_s,
            interval_s=settings.interval_s,
            api_usd_per_1000=settings.api_usd_per_1000,
            end=settings.end,
        )
        self.snapshot: Snapshot | None = None  # newest good data
        self.shown: Snapshot | None = None  # what is on screen (frozen while paused)
        self.totals: Totals | None = None  # account totals of ``shown``
        self._newest_totals: Totals | None = None
        self.spikes = SpikeTracker(settings.spike_rules)  # marks the cells of a spike
        self.alerts = AlertCenter(
            settings.alert_rules,
            settings.spike_rules,
            ActionRunner(bell=self.bell, on_failure=self._action_failed),
        )
        self.generation = 0
        self.in_flight = False
        self.poll_again = False
        self.failures = 0
        self.next_poll: Timer | None = None
        self.status_text = ""
        self._status_from_poll = False
        self.pane_choice: bool | None = None  # 'v' shows or hides the pane; None: by height
        self.export_to: Path | None = None  # an export waiting for the next full poll
        self._header = HeaderBar(id="header")  # redrawn every second, whatever the screen
        self._header_key: tuple[object, ...] | None = None  # what the header was drawn from
        # Ticks only while the data is stale (its age counts up): an idle monitor that is
        # live wakes for nothing but the next poll.
        self._stale_ticker: Timer | None = None

    @property
    def view(self) -> ViewState:
        """What the user chose to see in the view on screen."""
        return self._states[self.current_view]

    @view.setter
    def view(self, state: ViewState) -> None:
        self._states[self.current_view] = state

    def _spec(self) -> ViewSpec:
        """The spec of the view on screen (not the models)."""
        return spec_of(self.current_view, self.settings.group_by)

    @property
    def registry(self) -> Mapping[str, Column]:
        """The columns of the view on screen."""
        return columns_of(self.current_view)

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        with Vertical(id="top"):
            yield self._header
            yield Static(id="viewbar")
            with Horizontal(id="totals-charts"):
                yield ChartBox(id="chart-tokens", classes="wide")
                yield ChartBox(id="chart-spend")
                yield ChartBox(id="chart-problems")
        with Vertical(id="table-panel"):
            yield Static(id="callers-note")  # why the callers view has no logs to read
            yield ModelTable(id="models")
        with Horizontal(id="pane"):
            yield ChartBox(id="pane-0", classes="wide")
            yield ChartBox(id="pane-1")
            yield ChartBox(id="pane-2")
        yield Input(placeholder="filter: regex over model id / provider, !negates", id="filter")
        yield Input(placeholder="view: " + " ".join(VIEW_NAMES), id="command")
        yield Static(id="notice")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.query_one("#command", Input).display = False
        self.query_one("#callers-note", Static).display = False
        if self.current_view != MODELS_VIEW:
            self.poller.set_view(self.current_view)
            self.table.set_layout(SurfaceLayout(self._spec()))
        self._follow_callers(self.current_view == CALLERS_VIEW)
        self._draw_view_bar()
        self.query_one("#notice", Static).display = False
        self.query_one("#status", Static).display = False
        self.query_one("#top").border_title = "bedrock-top"
        self._layout(self.size.width, self.size.height)
        self._rebuild_columns()
        self._draw_header()
        self._set_cost_aware()
        self.start_poll()
        self.table.focus()

    def _action_failed(self, line: str) -> None:
        """An alert action failed (on a worker thread): the status line says so."""
        try:
            self.call_from_thread(self._set_status, f"⚠ {line}")
        except RuntimeError:  # the app is gone, or this is its own thread
            log.warning("%s", line)

    def on_unmount(self) -> None:
        self.alerts.close(0.5)
        if self.callers is not None:
            self.callers.close()  # no Live Tail minute billed once the monitor is gone

    @property
    def table(self) -> ModelTable:
        return self.query_one("#models", ModelTable)

    def on_resize(self, event: Resize) -> None:
        self._layout(event.size.width, event.size.height)
        self._rebuild_columns(event.size.width)
        self._draw_view_bar()
        self._draw_header()

    def _layout(self, width: int, height: int) -> None:
        """Panels by the room there is: a compact table below 80x20, the totals graphs from
        26 rows, the selected model's charts from 36 (or when asked for with 'v')."""
        compact = width < COMPACT_WIDTH or height < COMPACT_HEIGHT
        self.screen.set_class(compact, "-compact")
        models = self.current_view == MODELS_VIEW  # the totals graphs are the models'
        self.query_one("#totals-charts").display = (
            models and not compact and height >= CHARTS_HEIGHT
        )
        wanted = self.pane_choice if self.pane_choice is not None else height >= PANE_HEIGHT
        self.query_one("#pane").display = not compact and wanted
        self.query_one(Footer).display = height > 12

    def _rebuild_columns(self, width: int | None = None) -> bool:
        """Fit the columns to the width; True when they changed (and the table was drawn)."""
        compact = self.screen.has_class("-compact")
        room = (width or self.size.width or 120) - (0 if compact else 2)  # panel borders
        multi_region = len(self.poller.regions) > 1
        if self.current_view == MODELS_VIEW:
            columns = table_columns(
                room,
                live_keys(self.settings.columns),
                self.shown.rows if self.shown is not None else (),
                self.header_state.window_s,
                self.header_state.period_s,
                multi_region=multi_region,
                sort=self.view.sort,
            )
        else:
            surface = self._surface()
            columns = surface_table_columns(
                room,
                self._spec(),
                surface.rows if surface is not None else (),
                self.header_state.window_s,
                self.header_state.period_s,
                multi_region=multi_region,
                sort=self.view.sort,
            )
        if columns == self.table.shown_columns:
            return False
        self.table.set_columns(columns, self.header_state.window_s)
        self._draw_table()
        return True

    # --- polling -----------------------------------------------------------------------------

    def start_poll(self) -> None:
        """Start a poll unless one is running (then ask for another as soon as it ends)."""
        if self.next_poll is not None:
            self.next_poll.stop()
            self.next_poll = None
        if self.in_flight:
            self.poll_again = True
            return
        self.in_flight = True
        self.header_state = replace(self.header_state, polling=True)
        self._draw_header()
        # Quotas are read (when due) in the poll worker, just before a poll, but never before
        # the first one: the first rows never wait for them.
        quotas = self.quotas if self.snapshot is not None else None
        callers = self.callers if self.current_view == CALLERS_VIEW else None
        self._poll_worker(self.generation, self.poller, quotas, callers, self.alarms)

    @work(thread=True, exclusive=False, group="poll")
    def _poll_worker(
        self,
        generation: int,
        poller: Poller,
        quotas: QuotaKeeper | None,
        callers: CallersSource | None = None,
        alarms: AlarmKeeper | None = None,
    ) -> None:
        try:
            if quotas is not None:
                quotas.update(poller)  # never raises; a failure is in the snapshot
            # The alarms (when due, every 5 minutes) are read beside the poll, not before it:
            # the first rows wait for the slower of the two, and at most ALARM_WAIT_S for them.
            reading = None
            if alarms is not None and alarms.due(alarms.clock()):
                reading = threading.Thread(target=alarms.update, name="bedrock-top-alarms")
                reading.start()
            snapshot = poller.poll()
            if reading is not None:
                reading.join(ALARM_WAIT_S)  # never raises; late: the last alarms read
            if alarms is not None:
                snapshot = replace(snapshot, rows=mark_rows(snapshot.rows, alarms.by_model))
            if callers is not None:  # the callers view is open: its logs, from the backfill on
                callers.open()  # never raises; a failure is in its view
                surfaces = {**snapshot.surfaces, CALLERS_VIEW: callers.view(snapshot.taken_at)}
                snapshot = replace(snapshot, surfaces=surfaces)
            totals = account_totals(snapshot)  # summing every row's series: off the UI thread
        except Exception as exc:  # shown as a status line; the next poll retries
            self.post_message(PollDone(generation, None, exc))
        else:
            self.post_message(PollDone(generation, snapshot, None, totals))

    def on_poll_done(self, message: PollDone) -> None:
        self.in_flight = False
        self.header_state = replace(self.header_state, polling=False)
        if message.generation == self.generation:
            if message.snapshot is not None:
                self._accept(message.snapshot, message.totals)
            elif message.error is not None:
                self._failed(message.error)
        self._draw_header()
        if self.poll_again or message.generation != self.generation:
            self.poll_again = False
            self.start_poll()
            return
        if self.snapshot is not None and self._after_first_rows():
            # The first rows are on screen: read the quotas and list the other views now,
            # with a poll to show them.
            self.call_after_refresh(self.start_poll)
            return
        if self.poller.settings.end is not None and self.failures == 0:
            return  # a past window does not change: read once (again on a key press)
        self.next_poll = self.set_timer(self._next_delay(), self.start_poll)

    def _after_first_rows(self) -> bool:
        """What waits for the first rows (so they never wait for it): the quotas and the
        heartbeat of every other view. True when a poll is due for them now."""
        due = self.quotas is not None and not self.quotas.states
        if set(self.poller.settings.views) != set(VIEW_NAMES):
            self.poller.set_views(VIEW_NAMES)
            due = True
        return due

    def action_quotas(self) -> None:
        if self.quotas is None:
            self._set_status("quotas: not read in this mode")
            return
        self.quotas.ask_refresh()
        if self.alarms is not None:
            self.alarms.ask_refresh()
        self._set_status("reading the quotas again…")
        self.start_poll()

    def _next_delay(self) -> float:
        """The interval; after failures, exponential backoff capped at min(interval, 60 s)."""
        interval = float(self.header_state.interval_s)
        if not self.failures:
            return interval
        return min(interval, 60.0, 2.0 ** (self.failures + 1))

    def _accept(self, snapshot: Snapshot, totals: Totals | None) -> None:
        self.failures = 0
        self.snapshot = snapshot
        self._newest_totals = totals
        if self._stale_ticker is not None:
            self._stale_ticker.stop()
            self._stale_ticker = None
        self.header_state = replace(self.header_state, error=None)
        # Spikes read the models' figures, complete only while the models view is polled.
        if snapshot.visible == MODELS_VIEW and snapshot.live:
            self.spikes.update(snapshot)  # the cells it marks
        events = self.alerts.judge(snapshot)  # the rules: notice line, events, actions
        if snapshot.region_errors:  # some regions answered, others did not: name those
            failed = "; ".join(f"{r}: {why}" for r, why in snapshot.region_errors.items())
            self._set_status(f"⚠ stale rows (last good data kept) — {failed}", from_poll=True)
            for region, why in snapshot.region_errors.items():
                log.warning("region %s failed: %s", region, why)
        elif snapshot.quota_errors:  # the rest works on; the quota column shows ?
            why = next(iter(snapshot.quota_errors.values()))
            self._set_status(f"⚠ {why} — Quota % shows ?", from_poll=True)
        elif snapshot.warnings or self._surface_warnings(snapshot):
            warnings = [*snapshot.warnings, *self._surface_warnings(snapshot)]
            self._set_status(warnings[0], from_poll=True)
        elif self._status_from_poll:  # the poll's own trouble is over; user messages stay
            self._set_status("")
        if self.export_to is not None:
            self._write_export(snapshot)
        self._draw_notice(events)
        if self.header_state.paused:
            return
        self._show(snapshot, totals)

    def _show(self, snapshot: Snapshot, totals: Totals | None) -> None:
        self.shown = snapshot
        self.totals = totals
        self._draw_view_bar()
        if not self._rebuild_columns():
            self._draw_table()
        self._draw_panels()
        self._refresh_detail()

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        text = describe_error(error, self.settings.profile)
        # The screen gets one plain line; the details go to the log file, never the screen.
        log.warning("poll failed: %s", text, exc_info=error)
        self.header_state = replace(self.header_state, error=text)
        if self._stale_ticker is None:
            self._stale_ticker = self.set_interval(1.0, self._draw_header)
        retry = self._next_delay()
        self._set_status(f"⚠ {text} — retrying in {retry:.0f}s; last good data kept", True)
        if self.export_to is not None:
            self._export_failed(f"the poll for it failed ({text})")

    # --- drawing -----------------------------------------------------------------------------

    def _view_words(self) -> str:
        parts = []
        if self.view.filter:
            parts.append(f"filter /{self.view.filter}")
        column = self.registry.get(self.view.sort)
        if column is not None:
            parts.append(f"sort {column.label} {sort_arrow(column.numeric, self.view.reverse)}")
        if self.view.problems_only:
            parts.append("problems only")
        return " · ".join(parts)

    def _draw_header(self) -> None:
        """Redraw the header when something it shows changed (a poll, a key, a resize, and
        every second while stale, for the age of the data)."""
        compact = self.screen.has_class("-compact")
        state = replace(
            self.header_state,
            view=self._view_words() if compact else "",
            compact=compact,
            surface="" if self.current_view == MODELS_VIEW else self.current_view,
        )
        now = self.clock()
        tick = int(now) if state.error else None  # the age of stale data counts up
        key = (state, id(self.shown), id(self.totals), tick)
        if key == self._header_key:
            return
        self._header_key = key
        self.header_state = state
        self._header.show(state, self.shown, self.totals, now)

    def _set_status(self, text: str, from_poll: bool = False) -> None:
        """One line under the table; what a poll reports there is cleared by the next good
        poll, what the user asked for (an export, a key's effect) stays until replaced."""
        self._status_from_poll = from_poll
        self.status_text = text
        status = self.query_one("#status", Static)
        status.update(text)
        status.display = bool(text)

    def _draw_notice(self, events: list[AlertEvent]) -> None:
        """One line for what is firing now: the worst and newest first, each in a few words
        ("Throttled claude-sonnet-4-… 22/min"), the rest counted; the events screen ('a')
        keeps every one with its start, end and peak."""
        active = self.alerts.book.active()
        notice = self.query_one("#notice", Static)
        if not active or self.poller.settings.end is not None:  # a past window: not judged
            notice.display = False
            return
        just = {(e.rule.name, e.subject.row_key) for e in events if e.kind == "fired"}
        rank = {"critical": 0, "warning": 1, "info": 2}
        ordered = sorted(
            active,
            key=lambda i: (
                rank.get(i.rule.severity, 3),
                (i.rule.name, i.subject.row_key) not in just,
                -i.started,
            ),
        )
        describe = self.alerts.book.describe
        parts = []
        for incident in ordered[:3]:
            rule = incident.rule
            _, unit = describe(rule.view, rule.figure)
            who = "total" if rule.total else _short(incident.subject.row_id)
            parts.append(f"{title(rule)} {who} {fmt_value(incident.value, unit)}")
        more = len(active) - len(parts)
        count = f"{len(active)} alert{'s' if len(active) != 1 else ''}"
        text = f"⚠ {count}: " + " · ".join(parts)
        if more > 0:
            text += f" · +{more} more"
        notice.update(text + "  (a: events)")
        notice.display = True

    def _alerting_rows(self) -> set[str]:
        """Rows with an alert now: a rule firing for them, or a spike marked in a cell."""
        rows = {key for key, _ in self.spikes.active}
        rows.update(i.subject.row_key for i in self.alerts.book.active() if i.subject.row_key)
        return rows

    def _flag_style(self) -> Style:
        theme = self.current_theme
        color = Color.parse(theme.error or "red").rich_color
        return Style(color=color, bold=True)

    def _rows(self, snapshot: Snapshot) -> list[ModelRow]:
        """The rows of ``snapshot`` the table shows, in its order."""
        return visible_rows(
            snapshot,
            self.view,
            error_rate=self.spikes.rules.error_rate,
            alerting=self._alerting_rows(),
        )

    def _surface(self) -> SurfaceView | None:
        """The view on screen in the shown snapshot, when that snapshot polled it in full."""
        if self.shown is None or self.shown.visible != self.current_view:
            return None
        return self.shown.surfaces.get(self.current_view)

    def _surface_warnings(self, snapshot: Snapshot) -> list[str]:
        view = snapshot.surfaces.get(snapshot.visible)
        return list(view.warnings) if view is not None else []

    def _draw_view_bar(self) -> None:
        """The views with data, their rows and traffic; the one on screen highlighted."""
        bar = Text(no_wrap=True, overflow="ellipsis")
        width = max(10, (self.size.width or 120) - 4)
        for text, active in bar_text(view_tabs(self.shown, self.current_view), width):
            bar.append(text, style="bold reverse" if active else "")
        self.query_one("#viewbar", Static).update(bar)

    def _draw_table(self) -> None:
        if self.shown is None:
            return
        if self.current_view != MODELS_VIEW:
            self._draw_surface_table()
            return
        if self.shown.visible != MODELS_VIEW:  # models were only a heartbeat: wait for more
            self.table.apply(self.shown, [], self.view, {})
            self.query_one("#table-panel").border_title = "models · reading AWS/Bedrock…"
            return
        rows = self._rows(self.shown)
        flagged: set[tuple[str, str]] = set()
        for row_key, signal in self.spikes.active:
            flagged.add((row_key, "model"))
            for cell in SIGNAL_CELLS.get(signal, ()):
                flagged.add((row_key, cell))
        columns = self.table.shown_columns
        styles = column_styles(columns, rows, self.header_state.window_s)
        self.table.apply(
            self.shown,
            rows,
            self.view,
            styles,
            flagged,
            self._flag_style(),
            set(self.shown.region_errors),
        )
        panel = self.query_one("#table-panel")
        idle = sum(1 for r in rows if not r.window.invocations and not r.window.throttles)
        title = f"models {len(rows)}"
        if len(rows) != len(self.shown.rows):
            title += f" of {len(self.shown.rows)}"
        if idle:
            title += f" · {idle} idle"
        panel.border_title = title
        panel.border_subtitle = self._view_words()
        self._draw_pane()

    def _draw_surface_table(self) -> None:
        """The view on screen: its rows once a poll has read it in full."""
        assert self.shown is not None
        panel = self.query_one("#table-panel")
        surface = self._surface()
        spec = self._spec()
        if surface is None:
            self.table.apply(self.shown, [], self.view, {})
            panel.border_title = f"{spec.name} · reading {spec.namespace}…"
            return
        self._draw_callers_note(surface)
        rows = surface_visible_rows(surface, self.view, error_rate=self.spikes.rules.error_rate)
        styles = column_styles(self.table.shown_columns, rows, self.header_state.window_s)
        self.table.apply(
            self.shown,
            rows,
            self.view,
            styles,
            stale_regions=set(self.shown.region_errors),
        )
        title = f"{spec.name} {len(rows)}"
        if len(rows) != len(surface.rows):
            title += f" of {len(surface.rows)}"
        if not surface.rows:
            title += f" · no metrics in {spec.namespace}"
        panel.border_title = title
        panel.border_subtitle = self._view_words()
        self._draw_pane()

    def _draw_callers_note(self, surface: SurfaceView) -> None:
        """Invocation logging off or out of reach: say so plainly, with the fix and its cost."""
        note = self.query_one("#callers-note", Static)
        source = surface.source
        command = str(source.get("enable_command") or "")
        shown = bool(source) and not source.get("log_group") and bool(surface.notes)
        note.display = shown
        if shown:
            lines = [*surface.notes]
            if command:
                lines += ["", "To turn it on:", command, "", str(source.get("cost_note") or "")]
            note.update("\n".join(lines))

    def _draw_panels(self) -> None:
        if self.shown is None or self.totals is None:
            return
        boxes = [self.query_one(f"#chart-{n}", ChartBox) for n in ("tokens", "spend", "problems")]
        chart_row(boxes, totals_charts(self.shown, self.totals))
        top = self.query_one("#top")
        region = ",".join(self.shown.regions)
        top.border_title = (
            f"bedrock-top · {self.header_state.source} · {region} · "
            f"window {fmt_span(self.header_state.window_s)} @{fmt_span(self.shown.period)}"
        )

    def _draw_pane(self) -> None:
        pane = self.query_one("#pane")
        if not pane.display or self.shown is None:
            return
        key = self.table.selected_row_key()
        boxes = [self.query_one(f"#pane-{i}", ChartBox) for i in range(3)]
        if self.current_view != MODELS_VIEW:
            surface = self._surface()
            found = next((r for r in surface.rows if r.key == key), None) if surface else None
            charts = surface_charts(found, surface.spec, self.shown) if found and surface else []
            chart_row(boxes, charts)
            pane.border_title = row_title(found) if found else "no row selected"
            pane.border_subtitle = "Enter: every figure · v: hide"
            return
        row = next((r for r in self.shown.rows if r.key == key), None)
        if row is None:
            chart_row(boxes, [])
            pane.border_title = "no model selected"
            return
        chart_row(boxes, model_charts(row, self.shown))
        info = row.info
        pane.border_title = (
            f"{row.model_id} · {info.provider or 'unknown provider'} · "
            f"{info.profile or 'on-demand'} · {row.region}"
        )
        pane.border_subtitle = "Enter: every metric · v: hide"

    def _refresh_detail(self) -> None:
        if isinstance(self.screen, SurfaceDetailScreen) and self.shown is not None:
            self.screen.waiting = False
            self.screen.show(self.shown)
        if isinstance(self.screen, DetailScreen) and self.shown is not None:
            self.screen.waiting = False
            self.screen.show(self.shown)

    def _set_view(self, **changes: object) -> None:
        self.view = self.view.with_(**changes)
        self._set_cost_aware()
        if not self._rebuild_columns():
            self._draw_table()
        self._draw_header()

    def _set_cost_aware(self) -> bool:
        """Window percentiles cost a metric per model per poll: asked for only while shown
        or sorted by (or for an export). True when this started a poll to fetch them."""
        keys = [c.key for c in self.table.shown_columns] + [self.view.sort]
        registry = self.registry
        wants_all = self.export_to is not None or any(
            registry[k].window_stats for k in keys if k in registry
        )
        if self.poller.settings.cost_aware == wants_all:
            self.poller.set_cost_aware(not wants_all)
            if wants_all:
                self.start_poll()
                return True
        return False

    # --- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_events(self) -> None:
        book = self.alerts.book
        screen = EventsScreen(book.history, book.describe, self.clock())
        self.push_screen(screen, callback=self._event_chosen)

    def _event_chosen(self, at: float | None) -> None:
        """Enter on an alert in the events screen: the window around its start."""
        if at is not None:
            self.go_to(at)

    def action_filter(self) -> None:
        if isinstance(self.screen, DetailScreen):
            self.pop_screen()  # the filter acts on the table: show it
        box = self.query_one("#filter", Input)
        names = (
            "model id / provider"
            if self.current_view == MODELS_VIEW
            else " / ".join(self._spec().dimensions)
        )
        box.placeholder = f"filter: regex over {names}, !negates"
        box.display = True
        box.value = self.view.filter or ""
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            row_filter(event.value)
        except Exception as exc:  # re.error: keep the last good filter
            self._set_status(f"bad filter regex: {exc} (keeping {self.view.filter or 'none'})")
            return
        self._set_status("")
        self._set_view(filter=event.value or None)

    @on(Input.Submitted, "#filter")
    def _filter_done(self) -> None:
        self.query_one("#filter", Input).display = False
        self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = False
        box.value = ""
        self.table.focus()
        if self.view.filter:
            self._set_view(filter=None)

    def action_detail(self) -> None:
        key = self.table.selected_row_key()
        if key is None or self.shown is None:
            return
        # Percentiles over the window, TTFT averages and quota usage are only paid for while
        # someone looks at them: ask for them now, and stop when the screen closes.
        self.poller.set_focus([key])
        if self.current_view != MODELS_VIEW:
            screen = SurfaceDetailScreen(
                self.current_view, key, self.shown, waiting=True, breakdown=self._breakdown()
            )
            self.push_screen(screen, self._detail_closed)
        else:
            detail = DetailScreen(
                key,
                self.shown,
                waiting=True,
                alarms=self._model_alarms if self.alarms is not None else None,
                commands=self._alarm_commands,
            )
            self.push_screen(detail, self._detail_closed)
        self.start_poll()

    def _model_alarms(self, row: ModelRow) -> ModelAlarms:
        """A model's CloudWatch alarms as last read, for its detail screen."""
        assert self.alarms is not None
        region = self.alarms.region(row.region)
        return ModelAlarms(
            region.by_model.get(row.model_id, ()),
            account_wide(region.alarms),
            region.error,
            region.read_at is not None,
        )

    def _alarm_commands(self, row: ModelRow) -> list[str]:
        """The model's alert rules as put-metric-alarm commands (never run by us)."""
        tpm = row.quota.tpm if row.quota is not None else None
        return put_metric_alarm_commands(
            self.alerts.rules,
            region=row.region,
            model_id=row.model_id,
            tpm_limit=tpm.limit if tpm is not None else None,
        )

    def _detail_closed(self, _: None) -> None:
        self.poller.set_focus([])

    @on(ModelTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_detail()

    @on(ModelTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self._draw_pane()

    @on(ModelTable.HeaderSelected)
    def _header_clicked(self, event: ModelTable.HeaderSelected) -> None:
        key = event.column_key
        if key not in self.registry:
            return
        if key == self.view.sort:
            self._set_view(reverse=not self.view.reverse)
        else:
            self._set_view(sort=key, reverse=False)

    def _sort_step(self, step: int) -> None:
        keys = [c.key for c in self.table.shown_columns if c.key in self.registry]
        keys = keys or list(self.registry)
        index = keys.index(self.view.sort) if self.view.sort in keys else 0
        self._set_view(sort=keys[(index + step) % len(keys)], reverse=False)

    def action_sort_next(self) -> None:
        self._sort_step(1)

    def action_sort_prev(self) -> None:
        self._sort_step(-1)

    def action_reverse(self) -> None:
        self._set_view(reverse=not self.view.reverse)

    def action_pause(self) -> None:
        paused = not self.header_state.paused
        self.header_state = replace(self.header_state, paused=paused)
        if not paused and self.snapshot is not None:
            self._show(self.snapshot, self._newest_totals)
        self._draw_header()

    def action_pane(self) -> None:
        self.pane_choice = not self.query_one("#pane").display
        self._layout(self.size.width, self.size.height)
        self._draw_pane()

    def action_interval(self, step: int) -> None:
        current = self.header_state.interval_s
        steps = sorted({*INTERVAL_STEPS, current})
        index = steps.index(current) + step
        new = steps[max(0, min(len(steps) - 1, index))]
        new = max(MIN_INTERVAL_S, min(MAX_INTERVAL_S, new))
        self.header_state = replace(self.header_state, interval_s=new)
        self._set_status(f"poll every {new}s")
        self._draw_header()
        if not self.in_flight:
            if self.next_poll is not None:
                self.next_poll.stop()
            self.next_poll = self.set_timer(self._next_delay(), self.start_poll)

    def action_zoom(self, step: int) -> None:
        windows = [parse_window(w) for w in WINDOW_CHOICES]
        current = self.header_state.window_s
        index = min(range(len(windows)), key=lambda i: abs(windows[i] - current)) + step
        window = windows[max(0, min(len(windows) - 1, index))]
        if window == current:
            return
        # The alert book stays: events survive a zoom, and an alert still firing at the
        # new resolution is not announced again.
        words = f"window {WINDOW_CHOICES[windows.index(window)]}"
        self._set_window(window, self.poller.settings.end, words)

    def action_step_time(self, direction: int) -> None:
        """One window back ({) or forward (}); forward past now is live again."""
        from bedrock_top.figures.retention import step_end

        window, current = self.header_state.window_s, self.poller.settings.end
        end = step_end(current, window, direction, self.clock(), self.header_state.period_s)
        if end == current:
            if direction < 0:
                self._set_status("CloudWatch keeps no data further back (455 days)")
            return
        self._set_window(window, end, "live" if end is None else "")

    def action_live(self) -> None:
        if self.poller.settings.end is not None:
            self._set_window(self.header_state.window_s, None, "live")

    def go_to(self, at: float) -> None:
        """The window around a moment (an alert in the events screen), or live if it is
        recent enough that the live window holds it."""
        from bedrock_top.figures.retention import around

        window = self.header_state.window_s
        end = around(at, window, self.clock(), self.header_state.period_s)
        self._set_window(window, end, "live" if end is None else "")

    def _set_window(self, window: int, end: float | None, words: str) -> None:
        """Poll another window: its length, and its end (None: live). The period is the
        window's own unless CloudWatch no longer keeps data that fine for it."""
        from bedrock_top.figures.retention import past_period

        try:
            period, note = past_period(window, auto_period(window), end, self.clock(), False)
        except ConfigError as exc:
            self._set_status(f"⚠ {exc}")
            return
        settings = replace(
            self.poller.settings, window_s=window, period_s=period, end=end, period_note=note
        )
        self.poller = self.poller.with_settings(settings)
        if self.callers is not None and end is None:  # the callers' backfill is of the window
            self.callers = self.callers.with_window(window, period)
        self.generation += 1
        self.header_state = replace(self.header_state, window_s=window, period_s=period, end=end)
        self._draw_notice([])
        if end is not None:
            words = words or past_window(end, window)
        self._set_status(", ".join(w for w in (words, f"period {period}s", note) if w))
        self._draw_header()
        self.start_poll()

    def action_problems(self) -> None:
        self._set_view(problems_only=not self.view.problems_only)
        rate = f"{self.spikes.rules.error_rate:.0%}"
        self._set_status(
            f"problems only: alerts firing, error rate ≥ {rate}, ≥ 1% throttled or a quota ≥ 90%"
            if self.view.problems_only
            else ""
        )

    def action_show_view(self, number: int) -> None:
        self.switch_view(VIEW_NAMES[number - 1])

    def action_cycle_view(self, step: int) -> None:
        """Tab / Shift+Tab: the next view in the bar (those with data, and models)."""
        names = [tab.name for tab in view_tabs(self.shown, self.current_view)]
        index = names.index(self.current_view) if self.current_view in names else 0
        self.switch_view(names[(index + step) % len(names)])

    def action_command(self) -> None:
        box = self.query_one("#command", Input)
        box.display = True
        box.value = ""
        box.focus()

    @on(Input.Submitted, "#command")
    def _command_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#command", Input)
        box.display = False
        self.table.focus()
        name = event.value.strip().removeprefix(":").strip()
        if not name:
            return
        matches = [v for v in VIEW_NAMES if v.startswith(name)]
        if name in VIEW_NAMES:
            matches = [name]
        if len(matches) > 1:
            self._set_status(f"{name!r} could be: {' '.join(matches)}")
            return
        if not matches:
            self._set_status(f"no view {name!r}: {' '.join(VIEW_NAMES)}")
            return
        self.switch_view(matches[0])

    def switch_view(self, name: str) -> None:
        """Show another view: it is polled in full from now on (the one left gets only its
        heartbeat), read over the whole window at once."""
        if name == self.current_view:
            return
        self._follow_callers(name == CALLERS_VIEW)
        if isinstance(self.screen, (DetailScreen, SurfaceDetailScreen)):
            self.pop_screen()
        self.current_view = name
        self.poller.set_view(name)
        self.poller.set_focus([])
        spec = None if name == MODELS_VIEW else self._spec()
        self.table.set_layout(ModelLayout() if spec is None else SurfaceLayout(spec))
        self._layout(self.size.width, self.size.height)
        self._set_cost_aware()
        self._rebuild_columns()
        panel = self.query_one("#table-panel")
        if self._surface() is None and name != MODELS_VIEW and spec is not None:
            panel.border_title = f"{name} · reading {spec.namespace}…"
        self._draw_view_bar()
        self._draw_header()
        self._set_status(f"view {name}" + (f": {spec.title}" if spec else ""))
        self.start_poll()

    def _follow_callers(self, shown: bool) -> None:
        """Live Tail runs (and is billed) only while the callers view is on screen: its
        figures are read again every few seconds then; leaving the view ends the session."""
        if shown and self.callers is not None and self._callers_ticker is None:
            self._callers_ticker = self.set_interval(CALLERS_REFRESH_S, self._read_callers)
        elif not shown:
            if self._callers_ticker is not None:
                self._callers_ticker.stop()
                self._callers_ticker = None
            if self.callers is not None and self.callers.is_open:
                self.callers.close()

    def _breakdown(self) -> Callable[[SurfaceRow], Table | None] | None:
        """The callers view's drill-down into a caller's models (other views have none)."""
        callers = self.callers
        if self.current_view != CALLERS_VIEW or callers is None:
            return None

        def models(row: SurfaceRow) -> Table | None:
            found = callers.models_of(tuple(v for _, v in row.dims), self.clock())
            return models_table(found) if found else None

        return models

    def _read_callers(self) -> None:
        callers = self.callers
        if callers is not None and callers.is_open and not self.header_state.paused:
            self._callers_worker(callers)

    @work(thread=True, exclusive=True, group="callers")
    def _callers_worker(self, callers: CallersSource) -> None:
        self.post_message(CallersRead(callers.view(self.clock())))

    def on_callers_read(self, message: CallersRead) -> None:
        shown = self.shown
        if shown is None or self.current_view != CALLERS_VIEW or shown.visible != CALLERS_VIEW:
            return
        self.shown = replace(shown, surfaces={**shown.surfaces, CALLERS_VIEW: message.view})
        self._draw_view_bar()
        self._draw_table()
        self._draw_header()

    def action_spark(self) -> None:
        if self.current_view != MODELS_VIEW:
            self._set_status("the sparkline of this view draws its main figure")
            return
        metrics = list(SPARK_METRICS)
        metric = metrics[(metrics.index(self.view.spark_metric) + 1) % len(metrics)]
        self._set_view(spark_metric=metric)

    def action_export(self) -> None:
        """Export on the next poll, which asks for every figure (window percentiles too), so
        no field of the CSV is left empty for want of a metric the table did not need."""
        if self.shown is None:
            self._set_status("nothing to export yet")
            return
        directory = self.export_dir or _default_export_dir()
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        self.export_to = directory / f"bedrock-top-{stamp}.csv"
        self._set_status("exporting: fetching every figure for the CSV…")
        if not self._set_cost_aware():
            self.start_poll()

    def _write_export(self, snapshot: Snapshot) -> None:
        path = self.export_to
        assert path is not None
        self.export_to = None
        self._set_cost_aware()
        surface = snapshot.surfaces.get(self.current_view)
        if self.current_view != MODELS_VIEW and surface is not None:
            view_rows = surface_visible_rows(surface, self.view)
            count, text = len(view_rows), render_view_csv(surface, view_rows)
        else:
            rows = self._rows(snapshot)
            shown = [c.key for c in self.table.shown_columns if c.key != SPARK_KEY]
            count, text = len(rows), export_csv(rows, shown)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        except OSError as exc:
            log.warning("export failed: %s", exc, exc_info=exc)
            self._export_failed(f"cannot write {path}: {exc.strerror or exc}")
            return
        self._set_status(f"exported {count} rows as of {utc(snapshot.taken_at)} to {path}")

    def _export_failed(self, why: str) -> None:
        self.export_to = None
        self._set_cost_aware()
        self._set_status(f"⚠ export failed: {why}")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Keys":  # ours lists every key, with words
                yield command
        for name, help_text, action in (
            ("Filter models", "regex over model id or provider", self.action_filter),
            ("Sort by next column", "cycle the sort column", self.action_sort_next),
            ("Reverse sort", "flip the sort order", self.action_reverse),
            ("Pause / resume", "freeze the display; polling continues", self.action_pause),
            ("Problems only", "rows with alerts, errors or throttles", self.action_problems),
            ("Cycle sparkline", "invocations, tokens, latency, problems", self.action_spark),
            ("Window: longer (zoom out)", WINDOWS_HELP, lambda: self.action_zoom(1)),
            ("Window: shorter (zoom in)", WINDOWS_HELP, lambda: self.action_zoom(-1)),
            ("Poll interval: slower", "longer poll interval", lambda: self.action_interval(1)),
            ("Poll interval: faster", "shorter poll interval", lambda: self.action_interval(-1)),
            ("Charts pane", "show or hide the selected model's charts", self.action_pane),
            ("Events", "every alert: start, end, peak; Enter goes there", self.action_events),
            ("Time: one window back", "a past window ({)", lambda: self.action_step_time(-1)),
            ("Time: one window forward", "toward live (})", lambda: self.action_step_time(1)),
            ("Time: live", "back to the live window (l)", self.action_live),
            ("Quotas: read again", "from Service Quotas (else cached 12 h)", self.action_quotas),
            ("Export CSV", "write the table to a CSV file", self.action_export),
            ("Help: keys", "every key binding", self.action_help),
        ):
            yield SystemCommand(name, help_text, action)


def _sort(configured: str | None, view: str) -> str:
    """A view's starting sort: the configured column where the view has it, else its own."""
    if configured is not None and configured in columns_of(view):
        return configured
    return sort_default(view, once=False)


def _short(model_id: str) -> str:
    """A model id without its provider and profile prefixes, for one-line notices."""
    info = parse_model_id(model_id)
    return info.base_id.split(".", 1)[-1] if info.provider else info.base_id


def _default_export_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("bedrock-top") / "exports"


def run_app(
    settings: Settings,
    poller: Poller,
    quotas: QuotaKeeper | None = None,
    callers: CallersSource | None = None,
    alarms: AlarmKeeper | None = None,
) -> int:
    """Run the TUI until the user quits (the caller builds the poller and closes it)."""
    app = BedrockTopApp(settings, poller, quotas=quotas, callers=callers, alarms=alarms)
    try:
        app.run()
    finally:
        if callers is not None:
            callers.close()  # no Live Tail minute billed after the monitor is gone
    return app.return_code or 0
