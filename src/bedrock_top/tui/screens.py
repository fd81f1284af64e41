"""Secondary screens: one model in detail, the key help, and the spike events log."""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Label, Sparkline, Static

from bedrock_top.format import fmt_count, fmt_ms, fmt_pct, fmt_usd
from bedrock_top.snapshot import ModelRow, Snapshot
from bedrock_top.spikes import Alert

# (series key or derived name, title, formatter) for each chart on the detail screen.
DETAIL_CHARTS: tuple[tuple[str, str, str], ...] = (
    ("invocations", "Invocations", "count"),
    ("input_tokens", "Input tokens", "count"),
    ("output_tokens", "Output tokens", "count"),
    ("cache_read_tokens", "Cache read tokens", "count"),
    ("cache_write_tokens", "Cache write tokens", "count"),
    ("latency_avg", "Latency avg", "ms"),
    ("latency_p90", "Latency p90", "ms"),
    ("ttft_avg", "TTFT avg", "ms"),
    ("ttft_p90", "TTFT p90", "ms"),
    ("client_errors", "Client errors", "count"),
    ("server_errors", "Server errors", "count"),
    ("throttles", "Throttles", "count"),
    ("tpm_quota", "Est. TPM quota usage", "count"),
    ("output_tps", "Output tokens/s", "rate"),
)


def output_tokens_per_second(row: ModelRow) -> list[float | None]:
    """OutputTokenCount / (InvocationLatency - TimeToFirstToken) per period, in tokens/s.

    Uses per-period averages: tokens per request over generation time per request.
    """
    s = row.series
    out: list[float | None] = []
    for tokens, inv, lat, ttft in zip(
        s["output_tokens"], s["invocations"], s["latency_avg"], s["ttft_avg"], strict=True
    ):
        if not tokens or not inv or lat is None:
            out.append(None)
            continue
        gen_ms = lat - (ttft or 0.0)
        out.append(tokens / inv / gen_ms * 1000 if gen_ms > 0 else None)
    return out


def _fmt(kind: str, value: float | None) -> str:
    if value is None:
        return "-"
    if kind == "ms":
        return fmt_ms(value)
    if kind == "rate":
        return f"{value:.1f}"
    return fmt_count(value)


def detail_summary(row: ModelRow) -> Table:
    """Window figures of one model as a compact two-column table."""
    w = row.window
    table = Table.grid(padding=(0, 2))
    for _ in range(4):
        table.add_column()
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
    cost = row.cost
    pairs += [
        ("Cost (window)", fmt_usd(cost.window_usd) if cost else "? (no known price)"),
        ("Cost now", f"{fmt_usd(cost.usd_per_hour)}/hour" if cost else "?"),
        ("Cache savings", fmt_usd(cost.cache_savings_usd) if cost else "?"),
    ]
    for i in range(0, len(pairs), 2):
        cells: list[str | Text] = []
        for label, value in pairs[i : i + 2]:
            cells += [Text(label, style="dim"), Text(value, style="bold")]
        table.add_row(*cells)
    return table


class DetailScreen(Screen[None]):
    """Every metric of one model over the window, as sparklines with latest/max figures."""

    BINDINGS = [Binding("escape", "dismiss", "Back"), Binding("q", "app.quit", "Quit")]
    DEFAULT_CSS = """
    DetailScreen { layout: vertical; }
    DetailScreen #detail-title { height: 1; background: $panel; padding: 0 1; text-style: bold; }
    DetailScreen #detail-summary { height: auto; padding: 0 1 1 1; }
    DetailScreen Grid {
        grid-size: 2; grid-columns: 50 1fr; grid-rows: 1; height: auto; padding: 0 1;
    }
    DetailScreen .chart-label { height: 1; }
    DetailScreen Sparkline { height: 1; }
    DetailScreen Sparkline > .sparkline--max-color { color: $accent; }
    DetailScreen Sparkline > .sparkline--min-color { color: $primary 50%; }
    """

    def __init__(self, row_key: str, snapshot: Snapshot, *, waiting: bool = False) -> None:
        super().__init__()
        self.row_key = row_key
        self.snapshot = snapshot
        self.waiting = waiting  # detail-only figures are being fetched

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        with VerticalScroll():
            yield Static(id="detail-summary")
            with Grid():
                for key, title, _ in DETAIL_CHARTS:
                    yield Label(title, id=f"label-{key}", classes="chart-label")
                    yield Sparkline([], id=f"chart-{key}")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.snapshot)

    def row(self, snapshot: Snapshot) -> ModelRow | None:
        return next((r for r in snapshot.rows if r.key == self.row_key), None)

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
        for key, title_text, kind in DETAIL_CHARTS:
            values = output_tokens_per_second(row) if key == "output_tps" else list(row.series[key])
            # Charts and "now" stop at the newest complete period: a minute still arriving
            # would read as a drop (the table marks it as in progress instead).
            values = values[: snapshot.latest_complete_index + 1]
            present = [v for v in values if v is not None]
            # A metric this model does not publish gets no chart at all.
            label = self.query_one(f"#label-{key}", Label)
            chart = self.query_one(f"#chart-{key}", Sparkline)
            label.display = chart.display = bool(present)
            latest = values[-1] if values else None
            if latest is None and kind == "count" and values:
                latest = 0.0  # a complete minute without datapoints had none of these
            peak = max(present) if present else None
            label.update(
                Text.assemble(
                    (f"{title_text:<21}", "bold"),
                    (f"now {_fmt(kind, latest):>8}  max {_fmt(kind, peak):>8}", "dim"),
                )
            )
            chart.data = [v or 0.0 for v in values]


HELP_KEYS: tuple[tuple[str, str], ...] = (
    ("/", "filter by model id or provider (regex, !negates)"),
    ("Esc", "clear the filter / go back"),
    ("Enter", "details of the selected model"),
    ("< >", "choose the sort column (or click a header)"),
    ("r", "reverse the sort"),
    ("s", "cycle the sparkline: invocations, tokens, latency, errors+throttles"),
    ("p / Space", "pause the display (polling continues)"),
    ("+ -", "poll interval (5 s to 10 min)"),
    ("[ ]", "time window: 15m 1h 3h 12h 1d 3d 7d"),
    ("e", "problems only: rows with errors or throttles"),
    ("a", "spike events log"),
    ("Ctrl+S", "export the table as CSV"),
    ("Ctrl+P", "command palette"),
    ("?", "this help"),
    ("q", "quit"),
)


class HelpScreen(ModalScreen[None]):
    """Every key, in one place."""

    BINDINGS = [Binding("escape,question_mark,q", "app.pop_screen", "Close")]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > Static { width: auto; max-width: 90%; height: auto; max-height: 90%;
        border: round $accent; background: $surface; padding: 1 2; }
    """

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold")
        table.add_column()
        for key, text in HELP_KEYS:
            table.add_row(key, text)
        yield Static(table)


def events_table(events: Iterable[Alert]) -> Table:
    table = Table(box=None, expand=True, header_style="bold")
    table.add_column("Time", no_wrap=True)
    table.add_column("Model", overflow="ellipsis", no_wrap=True, ratio=2)
    table.add_column("Signal", no_wrap=True)
    table.add_column("What", ratio=3)
    rows = list(events)
    for alert in reversed(rows):
        stamp = time.strftime("%H:%M", time.gmtime(alert.at)) + "Z"
        table.add_row(stamp, alert.model_id, f"{alert.kind}: {alert.signal}", alert.message)
    if not rows:
        table.add_row("", "no spikes yet", "", "")
    return table


class EventsScreen(ModalScreen[None]):
    """Spike onsets, newest first."""

    BINDINGS = [Binding("escape,a,q", "app.pop_screen", "Close")]
    DEFAULT_CSS = """
    EventsScreen { align: center middle; }
    EventsScreen > VerticalScroll { width: 90%; height: 80%; border: round $warning;
        background: $surface; padding: 0 1; }
    """

    def __init__(self, events: list[Alert]) -> None:
        super().__init__()
        self.events = events

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(events_table(self.events))
