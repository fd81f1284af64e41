"""The live monitor: polls in a worker thread, draws snapshots, handles the keys people know.

Polls are chained (the next is scheduled when the last one ends) so two never overlap;
the worker hands the UI an immutable Snapshot by message, and the table is patched by key.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from rich.style import Style
from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.color import Color
from textual.events import Resize
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static

from bedrock_top.config import (
    MAX_INTERVAL_S,
    MIN_INTERVAL_S,
    WINDOW_CHOICES,
    Settings,
    auto_period,
    parse_window,
)
from bedrock_top.errors import describe_error
from bedrock_top.logs import setup_file_logging
from bedrock_top.render import render_csv
from bedrock_top.snapshot import Snapshot
from bedrock_top.source import Clock, Poller, PollSettings
from bedrock_top.spikes import SpikeTracker
from bedrock_top.tui.header import HeaderBar, HeaderState
from bedrock_top.tui.screens import DetailScreen, EventsScreen, HelpScreen
from bedrock_top.tui.table import ModelTable
from bedrock_top.view import (
    SORT_ALIASES,
    SORTABLE,
    SPARK_METRICS,
    ViewState,
    compile_view_filter,
    fit_columns,
    visible_rows,
)

INTERVAL_STEPS = (5, 10, 15, 30, 60, 120, 300, 600)
log = logging.getLogger("bedrock_top")
# Which table cells a spike signal marks.
SIGNAL_CELLS = {
    "invocations": ("inv_rate", "spark"),
    "tokens": ("in_rate", "out_rate"),
    "errors": ("client_errors", "server_errors", "error_rate"),
    "error_rate": ("error_rate",),
    "throttles": ("throttles",),
    "latency_p90": ("lat_p90",),
    "ttft_p90": ("ttft_p90",),
}


class PollDone(Message):
    """A poll finished: a snapshot, or the error that stopped it."""

    def __init__(
        self, generation: int, snapshot: Snapshot | None, error: BaseException | None
    ) -> None:
        super().__init__()
        self.generation = generation
        self.snapshot = snapshot
        self.error = error


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
        Binding("greater_than_sign", "sort_next", "Sort ▶"),
        Binding("r", "reverse", "Reverse", show=False),
        Binding("p,space", "pause", "Pause"),
        Binding("plus,equals_sign", "interval(1)", "Slower", show=False),
        Binding("minus", "interval(-1)", "Faster", show=False),
        Binding("left_square_bracket", "zoom(-1)", "Zoom in", show=False),
        Binding("right_square_bracket", "zoom(1)", "Zoom out", show=False),
        Binding("e", "problems", "Problems"),
        Binding("s", "spark", "Spark"),
        Binding("a", "events", "Events"),
        Binding("ctrl+s", "export", "Export CSV"),
    ]

    def __init__(
        self,
        settings: Settings,
        poller: Poller,
        *,
        clock: Clock = time.time,
        export_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.poller = poller
        self.clock = clock
        self.export_dir = export_dir
        sort = SORT_ALIASES.get(settings.sort or "inv_rate", settings.sort or "inv_rate")
        self.view = ViewState(
            filter=settings.filter,
            sort=sort if sort in SORTABLE else "inv_rate",
            reverse=settings.reverse,
            spark_metric=settings.spark_metric,
        )
        self.header_state = HeaderState(
            source="demo" if settings.demo else (settings.profile or "default"),
            regions=tuple(poller.regions),
            window_s=settings.window_s,
            period_s=settings.period_s,
            interval_s=settings.interval_s,
            api_usd_per_1000=settings.api_usd_per_1000,
        )
        self.snapshot: Snapshot | None = None  # newest good data
        self.shown: Snapshot | None = None  # what is on screen (frozen while paused)
        self.spikes = SpikeTracker(settings.spike_rules)
        self.generation = 0
        self.in_flight = False
        self.poll_again = False
        self.failures = 0
        self.next_poll: Timer | None = None
        self.status_text = ""

    # --- layout ---------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        yield ModelTable(id="models")
        yield Input(placeholder="filter: regex over model id / provider, !negates", id="filter")
        yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self._rebuild_columns()
        self._draw_header()
        self.start_poll()
        self.set_interval(1.0, self._draw_header)

    @property
    def table(self) -> ModelTable:
        return self.query_one("#models", ModelTable)

    def on_resize(self, event: Resize) -> None:
        self.query_one(Footer).display = event.size.height > 12
        self._rebuild_columns(event.size.width)

    def _rebuild_columns(self, width: int | None = None) -> None:
        multi_region = len(self.poller.regions) > 1
        rows = self.shown.rows if self.shown is not None else ()
        longest = max((len(r.model_id) for r in rows), default=40)
        multi_account = any(r.account for r in rows)
        columns = fit_columns(
            width or self.size.width or 120,
            multi_region,
            longest,
            self.settings.columns,
            multi_account=multi_account,
        )
        if columns != self.table.shown_columns:
            self.table.set_columns(columns, self.view)
            self._draw_table()

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
        self._poll_worker(self.generation, self.poller)

    @work(thread=True, exclusive=False, group="poll")
    def _poll_worker(self, generation: int, poller: Poller) -> None:
        try:
            snapshot = poller.poll()
        except Exception as exc:  # shown as a status line; the next poll retries
            self.post_message(PollDone(generation, None, exc))
        else:
            self.post_message(PollDone(generation, snapshot, None))

    def on_poll_done(self, message: PollDone) -> None:
        self.in_flight = False
        self.header_state = replace(self.header_state, polling=False)
        if message.generation == self.generation:
            if message.snapshot is not None:
                self._accept(message.snapshot)
            elif message.error is not None:
                self._failed(message.error)
        self._draw_header()
        if self.poll_again or message.generation != self.generation:
            self.poll_again = False
            self.start_poll()
            return
        self.next_poll = self.set_timer(self._next_delay(), self.start_poll)

    def _next_delay(self) -> float:
        """The interval; after failures, exponential backoff capped at min(interval, 60 s)."""
        interval = float(self.header_state.interval_s)
        if not self.failures:
            return interval
        return min(interval, 60.0, 2.0 ** (self.failures + 1))

    def _accept(self, snapshot: Snapshot) -> None:
        self.failures = 0
        self.snapshot = snapshot
        self.header_state = replace(self.header_state, error=None)
        onsets = self.spikes.update(snapshot)
        if snapshot.region_errors:  # some regions answered, others did not: name those
            failed = "; ".join(f"{r}: {why}" for r, why in snapshot.region_errors.items())
            self._set_status(f"⚠ stale rows (last good data kept) — {failed}")
            for region, why in snapshot.region_errors.items():
                log.warning("region %s failed: %s", region, why)
        else:
            self._set_status(snapshot.warnings[0] if snapshot.warnings else "")
        if self.header_state.paused:
            return
        self.shown = snapshot
        self._rebuild_columns()
        self._draw_table()
        self._refresh_detail()
        # Toasts would cover a compact screen; there the marked cells and the log suffice.
        for alert in onsets if self.size.width >= 80 else ():
            self.notify(
                f"{alert.model_id}: {alert.message}",
                title=f"{alert.kind}: {alert.signal}",
                severity="warning" if alert.kind == "spike" else "error",
                timeout=8,
            )

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        text = describe_error(error, self.settings.profile)
        # The screen gets one plain line; the details go to the log file, never the screen.
        log.warning("poll failed: %s", text, exc_info=error)
        self.header_state = replace(self.header_state, error=text)
        retry = self._next_delay()
        self._set_status(f"⚠ {text} — retrying in {retry:.0f}s; last good data kept")

    # --- drawing -----------------------------------------------------------------------------

    def _draw_header(self) -> None:
        self.query_one(HeaderBar).show(self.header_state, self.shown, self.clock())

    def _set_status(self, text: str) -> None:
        self.status_text = text
        status = self.query_one("#status", Static)
        status.update(text)
        status.display = bool(text)

    def _flag_style(self) -> Style:
        theme = self.current_theme
        color = Color.parse(theme.error or "red").rich_color
        return Style(color=color, bold=True)

    def _draw_table(self) -> None:
        if self.shown is None:
            return
        rows = visible_rows(self.shown, self.view)
        flagged: set[tuple[str, str]] = set()
        for row_key, signal in self.spikes.active:
            flagged.add((row_key, "model"))
            for cell in SIGNAL_CELLS.get(signal, ()):
                flagged.add((row_key, cell))
        self.table.apply(
            self.shown, rows, self.view, flagged, self._flag_style(), set(self.shown.region_errors)
        )

    def _refresh_detail(self) -> None:
        if isinstance(self.screen, DetailScreen) and self.shown is not None:
            self.screen.waiting = False
            self.screen.show(self.shown)

    def _set_view(self, **changes: object) -> None:
        self.view = self.view.with_(**changes)
        self.table.refresh_headers(self.view)
        self._draw_table()

    # --- actions -----------------------------------------------------------------------------

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_events(self) -> None:
        self.push_screen(EventsScreen(list(self.spikes.events)))

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.view.filter or ""
        box.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        try:
            compile_view_filter(event.value)
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
        self.push_screen(DetailScreen(key, self.shown, waiting=True), self._detail_closed)
        self.start_poll()

    def _detail_closed(self, _: None) -> None:
        self.poller.set_focus([])

    @on(ModelTable.RowSelected)
    def _row_selected(self) -> None:
        self.action_detail()

    @on(ModelTable.HeaderSelected)
    def _header_clicked(self, event: ModelTable.HeaderSelected) -> None:
        key = event.column_key
        if key not in SORTABLE:
            return
        if key == self.view.sort:
            self._set_view(reverse=not self.view.reverse)
        else:
            self._set_view(sort=key, reverse=False)

    def _sort_step(self, step: int) -> None:
        keys = [c.key for c in self.table.shown_columns if c.key in SORTABLE] or list(SORTABLE)
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
            self.shown = self.snapshot
            self._draw_table()
            self._refresh_detail()
        self._draw_header()

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
        period = auto_period(window)
        settings = PollSettings(
            window_s=window,
            period_s=period,
            all_models=self.poller.settings.all_models,
            include_linked_accounts=self.poller.settings.include_linked_accounts,
        )
        self.poller = self.poller.with_settings(settings)
        self.generation += 1
        self.header_state = replace(self.header_state, window_s=window, period_s=period)
        self.spikes = SpikeTracker(self.spikes.rules)
        self._set_status(f"window {WINDOW_CHOICES[windows.index(window)]}, period {period}s")
        self._draw_header()
        self.start_poll()

    def action_problems(self) -> None:
        self._set_view(problems_only=not self.view.problems_only)
        self._set_status(
            "problems only: rows with errors or throttles" if self.view.problems_only else ""
        )

    def action_spark(self) -> None:
        metrics = list(SPARK_METRICS)
        metric = metrics[(metrics.index(self.view.spark_metric) + 1) % len(metrics)]
        self._set_view(spark_metric=metric)

    def action_export(self) -> None:
        if self.shown is None:
            self._set_status("nothing to export yet")
            return
        directory = self.export_dir or _default_export_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        path = directory / f"bedrock-top-{stamp}.csv"
        path.write_text(render_csv(self.shown, visible_rows(self.shown, self.view)))
        self._set_status(f"exported {path}")
        self.notify(str(path), title="CSV exported")

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for name, help_text, action in (
            ("Filter models", "regex over model id or provider", self.action_filter),
            ("Sort by next column", "cycle the sort column", self.action_sort_next),
            ("Reverse sort", "flip the sort order", self.action_reverse),
            ("Pause / resume", "freeze the display; polling continues", self.action_pause),
            ("Problems only", "rows with errors or throttles", self.action_problems),
            ("Cycle sparkline", "invocations, tokens, latency, problems", self.action_spark),
            ("Zoom out", "longer time window", lambda: self.action_zoom(1)),
            ("Zoom in", "shorter time window", lambda: self.action_zoom(-1)),
            ("Slower polling", "longer poll interval", lambda: self.action_interval(1)),
            ("Faster polling", "shorter poll interval", lambda: self.action_interval(-1)),
            ("Spike events", "the log of spike onsets", self.action_events),
            ("Export CSV", "write the table to a CSV file", self.action_export),
            ("Keys", "every key binding", self.action_help),
        ):
            yield SystemCommand(name, help_text, action)


def _default_export_dir() -> Path:
    from platformdirs import user_data_path

    return user_data_path("bedrock-top") / "exports"


def run_app(settings: Settings) -> int:
    """Build clients and the poller, then run the TUI until the user quits."""
    from bedrock_top.cli import make_poller

    setup_file_logging()
    poller = make_poller(settings)
    app = BedrockTopApp(settings, poller)
    try:
        app.run()
    finally:
        poller.close()
    return app.return_code or 0
