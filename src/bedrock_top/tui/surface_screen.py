"""One row of a view other than models in detail: its whole dimension values (full ARNs),
every figure of its registry (percentiles too: the screen asks for them while open), the
roll-up checks that concern it, and a chart per measure."""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from bedrock_top.figures.callers import CallerRow
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.surface_rows import SurfaceRow, SurfaceView
from bedrock_top.format import fmt_count, fmt_pct, fmt_usd
from bedrock_top.tui.charts import ChartBox, chart_row
from bedrock_top.tui.screens import pairs_table
from bedrock_top.views.cells import choose_style, row_cell
from bedrock_top.views.columns import header
from bedrock_top.views.panels import surface_charts
from bedrock_top.views.surface_columns import view_columns

MAX_CHARTS = 14


def surface_summary(view: SurfaceView, row: SurfaceRow, window_s: int) -> Table:
    """Every figure of the row (dimensions first, whole), two per line."""
    pairs: list[tuple[str, str]] = [(name, value) for name, value in row.dims]
    for column in view_columns(view.spec):
        if column.kind == "text":
            continue
        style = choose_style(column, [column.value(row)])
        unit = style.unit if column.kind == "latency" else ""
        pairs.append((header(column, unit, window_s), row_cell(column, row, style)))
    for check in view.checks:
        if set(check.dims) <= set(row.dims):
            mark = "✓" if check.agree else "⚠ differs"
            where = ", ".join(v for _, v in check.dims)
            pairs.append(
                (
                    f"{check.metric} ({where})",
                    f"{check.published:,.0f} vs rows {check.rows_sum:,.0f} {mark}",
                )
            )
    return pairs_table(pairs)


class SurfaceDetailScreen(Screen[None]):
    """Every figure of one view row, then its charts."""

    BINDINGS = [
        Binding("escape", "dismiss", "Back"),
        Binding("q", "app.quit", "Quit"),
    ]
    DEFAULT_CSS = """
    SurfaceDetailScreen { layout: vertical; }
    SurfaceDetailScreen #surface-title { height: 1; background: $panel; padding: 0 1;
        text-style: bold; }
    SurfaceDetailScreen #surface-summary { height: auto; padding: 0 1; }
    SurfaceDetailScreen #surface-breakdown { height: auto; padding: 1 1 0 1; }
    SurfaceDetailScreen #surface-scroll { height: 1fr; }
    SurfaceDetailScreen #surface-charts {
        grid-size: 2; grid-gutter: 0 1; grid-rows: 9; height: auto; padding: 0 1;
    }
    SurfaceDetailScreen #surface-charts ChartBox { height: 9; }
    """

    def __init__(
        self,
        view_name: str,
        row_key: str,
        snapshot: Snapshot,
        *,
        waiting: bool = False,
        breakdown: Callable[[SurfaceRow], Table | None] | None = None,
    ) -> None:
        super().__init__()
        self.breakdown = breakdown  # the callers view: the row's models
        self.view_name = view_name
        self.row_key = row_key
        self.snapshot = snapshot
        self.waiting = waiting  # percentiles are being fetched

    def compose(self) -> ComposeResult:
        yield Static(id="surface-title")
        with VerticalScroll(id="surface-scroll"):
            yield Static(id="surface-summary")
            yield Static(id="surface-breakdown")
            with Grid(id="surface-charts"):
                for i in range(MAX_CHARTS):
                    yield ChartBox(id=f"surface-chart-{i}")
        yield Footer()

    def on_mount(self) -> None:
        self.show(self.snapshot)

    def on_resize(self) -> None:
        grid = self.query_one("#surface-charts", Grid)
        grid.styles.grid_size_columns = max(1, min(3, self.size.width // 70))

    def show(self, snapshot: Snapshot) -> None:
        """Redraw for a newer snapshot (the app calls this after each poll while open)."""
        self.snapshot = snapshot
        view = snapshot.surfaces.get(self.view_name)
        row = next((r for r in view.rows if r.key == self.row_key), None) if view else None
        title = self.query_one("#surface-title", Static)
        if view is None or row is None:
            title.update(f"{self.row_key.split('|')[-1]}: no longer listed by CloudWatch")
            return
        names = " · ".join(v for _, v in row.dims)
        title.update(
            f"{view.spec.name} · {names} · {row.region} · "
            + ("fetching window percentiles…" if self.waiting else "Esc back")
        )
        window_s = snapshot.window_end - snapshot.window_start
        self.query_one("#surface-summary", Static).update(surface_summary(view, row, window_s))
        table = self.breakdown(row) if self.breakdown is not None else None
        box = self.query_one("#surface-breakdown", Static)
        box.display = table is not None
        if table is not None:
            box.update(table)
        chart_row(list(self.query(ChartBox)), surface_charts(row, view.spec, snapshot, every=True))
        self.on_resize()


def models_table(rows: list[CallerRow]) -> Table:
    """A caller's drill-down: its models, with their requests, tokens, cost and share."""
    table = Table(
        box=None, header_style="bold", title="models of this caller", title_justify="left"
    )
    for name in ("Model", "Inv", "In tok", "Out tok", "$", "Share"):
        table.add_column(name, justify="left" if name == "Model" else "right")
    for row in rows:
        table.add_row(
            row.models[0] if row.models else "-",
            fmt_count(row.invocations),
            fmt_count(row.input_tokens),
            fmt_count(row.output_tokens),
            fmt_usd(row.cost_usd) if row.cost_usd is not None else "?",
            fmt_pct(row.share),
        )
    return table
