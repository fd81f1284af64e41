"""Secondary screens: one model in detail (with its CloudWatch alarms) and the key help."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Static

from bedrock_top.figures.quota_usage import quota_lines
from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.format import fmt_count, fmt_ms, fmt_pct, fmt_usd
from bedrock_top.tui.alarm_screens import AlarmCommandsScreen, ModelAlarms, alarm_text
from bedrock_top.tui.charts import ChartBox, chart_row
from bedrock_top.views.panels import ChartSpec, model_charts

MAX_DETAIL_CHARTS = 16


def detail_summary(row: ModelRow) -> Table:
    """Window figures of one model as a compact two-column table."""
    w = row.window
    pairs = [
        ("Invocations", fmt_count(w.invocations)),
        ("Input tokens", fmt_count(w.input_tokens)),
        ("Output tokens", fmt_count(w.output_tokens)),
        ("Cache read/write", f"{fmt_count(w.cache_read_tokens)}/{fmt_count(w.cache_write_tokens)}"),
        ("Cache hit", fmt_pct(w.cache_hit_ratio)),
        ("Latency avg", fmt_ms(w.latency_avg_ms)),
        (
            "Latency p50/p90/p99",
            "/".join(fmt_ms(v) for v in (w.latency_p50_ms, w.latency_p90_ms, w.latency_p99_ms)),
        ),
        ("TTFT avg", fmt_ms(w.ttft_avg_ms)),
        (
            "TTFT p50/p90/p99",
            "/".join(fmt_ms(v) for v in (w.ttft_p50_ms, w.ttft_p90_ms, w.ttft_p99_ms)),
        ),
        ("Client/server errors", f"{fmt_count(w.client_errors)}/{fmt_count(w.server_errors)}"),
        ("Error rate", fmt_pct(w.error_rate)),
        ("Throttles", f"{fmt_count(w.throttles)} ({fmt_pct(w.throttle_rate)})"),
    ]
    if w.tpm_quota is not None:
        pairs.append(("Est. TPM quota", fmt_count(w.tpm_quota)))
    if row.quota_unknown:
        pairs.append(("Quotas", "? (could not be read)"))
    cost = row.cost
    pairs += [
        ("Cost (window)", fmt_usd(cost.window_usd) if cost else "? (no known price)"),
        ("Cost now (15m rate)", f"{fmt_usd(cost.usd_per_hour)}/hour" if cost else "?"),
        ("Cache savings", fmt_usd(cost.cache_savings_usd) if cost else "?"),
    ]
    return pairs_table(pairs)


def pairs_table(pairs: Sequence[tuple[str, str]]) -> Table:
    """(label, figure) pairs, two per line: a detail screen's summary."""
    table = Table.grid(padding=(0, 2))
    for _ in range(4):
        table.add_column()
    for i in range(0, len(pairs), 2):
        cells: list[str | Text] = []
        for label, value in pairs[i : i + 2]:
            cells += [Text(label, style="dim"), Text(value, style="bold")]
        table.add_row(*cells)
    return table


def detail_quota(row: ModelRow) -> Text:
    """The model's quotas and its throttled minutes with their reasons (empty without)."""
    if row.quota is None:
        return Text()
    return Text("\n".join(quota_lines(row.quota, utc_minute)))


def utc_minute(t: int) -> str:
    return time.strftime("%H:%MZ", time.gmtime(t))


class DetailScreen(Screen[None]):
    """Every metric of one model over the window: its figures, then a chart per metric."""

    BINDINGS = [
        Binding("escape", "dismiss", "Back"),
        Binding("q", "app.quit", "Quit"),
        Binding("slash", "app.filter", "Filter"),
        Binding("c", "alarm_commands", "Alarm commands"),
    ]
    DEFAULT_CSS = """
    DetailScreen { layout: vertical; }
    DetailScreen #detail-alarms { height: auto; padding: 0 1; }
    DetailScreen #detail-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    DetailScreen #detail-summary { height: auto; padding: 0 1; }
    DetailScreen #detail-quota { height: auto; padding: 0 1; }
    DetailScreen #detail-scroll { height: 1fr; }
    DetailScreen #detail-charts {
        grid-size: 2; grid-gutter: 0 1; grid-rows: 9; height: auto; padding: 0 1;
    }
    DetailScreen #detail-charts ChartBox { height: 9; }
    """

    def __init__(
        self,
        row_key: str,
        snapshot: Snapshot,
        *,
        waiting: bool = False,
        alarms: Callable[[ModelRow], ModelAlarms] | None = None,
        commands: Callable[[ModelRow], list[str]] | None = None,
    ) -> None:
        super().__init__()
        self.row_key = row_key
        self.snapshot = snapshot
        self.waiting = waiting  # detail-only figures are being fetched
        self.alarms = alarms  # the model's CloudWatch alarms (None: not read in this mode)
        self.commands = commands  # its alert rules as put-metric-alarm commands

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(id="detail-summary")
        yield Static(id="detail-alarms")
        with VerticalScroll(id="detail-scroll"):
            with Grid(id="detail-charts"):
                for i in range(MAX_DETAIL_CHARTS):
                    yield ChartBox(id=f"detail-chart-{i}")
            yield Static(id="detail-quota")  # under the quota charts, every throttled minute
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.snapshot)

    def on_resize(self) -> None:
        self._fit_grid()

    def row(self, snapshot: Snapshot) -> ModelRow | None:
        return next((r for r in snapshot.rows if r.key == self.row_key), None)

    def charts(self) -> list[ChartSpec]:
        row = self.row(self.snapshot)
        return model_charts(row, self.snapshot, every=True) if row is not None else []

    def show(self, snapshot: Snapshot) -> None:
        """Redraw for a newer snapshot (the app calls this after each poll while open)."""
        self.snapshot = snapshot
        row = self.row(snapshot)
        title = self.query_one("#detail-title", Static)
        if row is None:
            title.update(f"{self.row_key.split('|')[-1]}: no longer reported by CloudWatch")
            return
        info = row.info
        title.update(
            f"{row.model_id}  ·  {info.provider or 'unknown provider'}  ·  "
            f"{info.profile or info.kind}  ·  {row.region}  ·  "
            + ("fetching window percentiles…" if self.waiting else "Esc back")
        )
        self.query_one("#detail-summary", Static).update(detail_summary(row))
        alarms = alarm_text(self.alarms(row)) if self.alarms is not None else Text()
        self.query_one("#detail-alarms", Static).update(alarms)
        self.query_one("#detail-alarms", Static).display = bool(alarms.plain)
        quota = detail_quota(row)
        self.query_one("#detail-quota", Static).update(quota)
        self.query_one("#detail-quota", Static).display = bool(quota.plain)
        boxes = list(self.query(ChartBox))
        chart_row(boxes, self.charts())
        self._fit_grid()

    def action_alarm_commands(self) -> None:
        row = self.row(self.snapshot)
        if row is None or self.commands is None:
            return
        self.app.push_screen(AlarmCommandsScreen(row.model_id, self.commands(row)))

    def _fit_grid(self) -> None:
        """As many columns as fit 70 cells each (wide enough for a dot per minute of an
        hour); the screen scrolls when the charts need more rows than it has."""
        grid = self.query_one("#detail-charts", Grid)
        grid.styles.grid_size_columns = max(1, min(3, self.size.width // 70))


HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("1-7 Tab :", "views: models, mantle, agents, guardrails, knowledge-bases, batch, callers"),
    ("/", "filter by model id or provider (regex, !negates)"),
    ("Esc", "clear the filter / go back"),
    ("Enter", "every metric of the selected model, charted"),
    ("v", "show or hide the selected model's charts under the table"),
    ("< >", "choose the sort column (or click a header)"),
    ("r", "reverse the sort"),
    ("s", "cycle the sparkline: invocations, tokens, latency, errors+throttles"),
    ("p / Space", "pause the display (polling continues)"),
    ("+ -", "poll interval (5 s to 10 min)"),
    ("[ ]", "time window: 15m 1h 3h 12h 1d 3d 7d"),
    ("{ }", "step the window back / forward in time (as far as CloudWatch keeps data)"),
    ("l", "back to live"),
    ("e", "problems only: alerts firing, error rate over the limit, >= 1% throttled, quota >= 90%"),
    ("a", "events: every alert with its start, end and peak (Enter: go to that moment)"),
    ("u", "read the quotas again from Service Quotas (they are cached for 12 h)"),
    ("Ctrl+S", "export the table as CSV (every figure)"),
    ("Ctrl+P", "command palette"),
    ("?", "this help"),
    ("q", "quit"),
)
HELP_NOTES = (
    "Per-minute columns (Inv/min, Lat p90, ...) read the newest complete minute (the "
    "header's 'as of'); columns marked 1h, 3h, ... cover the window; $/h 15m is the "
    "spend rate over the last 15 complete minutes. Quota % pk is the busiest complete "
    "minute of the last 60 against the model's TPM or RPM quota (yellow from 70 %, red "
    "from 90 %). ░ is a minute still arriving."
)


class HelpScreen(ModalScreen[None]):
    """Every key, in one place."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 94; max-width: 95%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 1 2;
        border-title-style: bold; border-subtitle-color: $foreground-muted; }
    HelpScreen Static { width: 100%; }
    """

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column(max_width=70)
        for key, text in HELP_KEYS:
            table.add_row(key, text)
        table.add_row("", "")
        table.add_row("", Text(HELP_NOTES, style="dim"))
        box = VerticalScroll()  # scrolls where the terminal is shorter than the keys
        box.border_title = "bedrock-top · keys"
        box.border_subtitle = "Esc or ? closes · ↑↓ scroll"
        with box:
            yield Static(table)
