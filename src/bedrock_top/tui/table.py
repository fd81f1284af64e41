"""The model table: a line-API widget that renders each row once and repaints only rows that
changed.

Textual's DataTable invalidates every rendered cell on any update, so a poll that changes a
few hundred cells repaints the whole screen cell by cell. Here each row is one cached strip,
keyed by the row's signature (the values it is drawn from): an unchanged row costs nothing,
a changed row costs one Text render, and re-sorting only re-orders cached strips. Cell
text itself is built lazily, when a row is first drawn: rows scrolled out of view cost only
their signature.

Every numeric column keeps its last cell free for a marker (a spike's ▲, the header's sort
arrow), so digits stay aligned whether a cell is flagged or not and the sort arrow never
falls off a full header.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any, Protocol

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.views.cells import CellStyle, level
from bedrock_top.views.spark import Spark
from bedrock_top.views.view import GAP, ModelLayout, Slot, ViewState, partial_periods, sort_arrow

FLAG = "▲"
# The model cell's alarm marker, by the worst state of the model's CloudWatch alarms.
ALARM_STYLES = {"ALARM": "bold red", "INSUFFICIENT_DATA": "dim", "OK": "green"}


class TableLayout(Protocol):
    """What a view tells the table: header words, cell texts, what a row is drawn from and
    its sparkline (``view.ModelLayout``, ``surface_view.SurfaceLayout``)."""

    def header(
        self, slot: Slot, style: CellStyle | None, state: ViewState, window_s: int
    ) -> str: ...

    def cells(
        self,
        row: Any,
        snapshot: Snapshot,
        state: ViewState,
        slots: Sequence[Slot],
        styles: dict[str, CellStyle],
    ) -> dict[str, str]: ...

    def signature(
        self, row: Any, slots: Sequence[Slot], state: ViewState
    ) -> tuple[object, ...]: ...

    def spark(self, row: Any, snapshot: Snapshot, state: ViewState, width: int) -> Spark: ...


class ModelTable(ScrollView, can_focus=True):
    """One row per (region, account, model) with a fixed header and a row cursor that stays
    on its model."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Detail", show=False),
        # Tab moves between views, not focus: the table is the one thing that takes keys.
        Binding("tab", "app.cycle_view(1)", "Next view", show=False),
        Binding("shift+tab", "app.cycle_view(-1)", "Previous view", show=False),
    ]
    COMPONENT_CLASSES = {
        "model-table--header",
        "model-table--sorted",
        "model-table--cursor",
        "model-table--odd-row",
        "model-table--warning",
        "model-table--critical",
    }
    DEFAULT_CSS = """
    ModelTable { height: 1fr; background: $surface; }
    ModelTable > .model-table--header { background: $panel; color: $foreground; text-style: bold; }
    ModelTable > .model-table--sorted { color: $accent; text-style: bold; }
    ModelTable > .model-table--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: bold; }
    ModelTable:blur > .model-table--cursor { background: $block-cursor-blurred-background; }
    ModelTable > .model-table--odd-row { background: $surface-lighten-1; }
    ModelTable > .model-table--warning { color: $warning; }
    ModelTable > .model-table--critical { color: $error; text-style: bold; }
    """

    cursor_row: reactive[int] = reactive(0, always_update=True)
    """Index (in display order) of the selected row."""

    class RowSelected(Message):
        """Enter or a click on the selected row: open its detail."""

        def __init__(self, row_key: str) -> None:
            super().__init__()
            self.row_key = row_key

    class HeaderSelected(Message):
        """A click on a column header: sort by it."""

        def __init__(self, column_key: str) -> None:
            super().__init__()
            self.column_key = column_key

    class CursorMoved(Message):
        """The selected model changed (the detail pane follows it)."""

        def __init__(self, row_key: str | None) -> None:
            super().__init__()
            self.row_key = row_key

    def __init__(self, *, id: str | None = None, layout: TableLayout | None = None) -> None:
        super().__init__(id=id)
        self.view_layout: TableLayout = layout or ModelLayout()
        self._columns: list[Slot] = []
        self._styles: dict[str, CellStyle] = {}
        self._window_s = 3600
        self._header: Text = Text()
        self._order: list[str] = []
        self._cells: dict[str, dict[str, Text]] = {}
        self._pending: dict[str, tuple[Any, Snapshot, ViewState, frozenset[str], bool]] = {}
        self._signatures: dict[str, tuple[object, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._flag_style: Style | None = None
        self._partial_style = Style(dim=True)
        self._selected: str | None = None  # the model under the cursor, kept across polls
        self.rows_changed = 0  # for tests and benchmarks: rows whose signature changed last apply
        self.rows_rendered = 0  # for tests and benchmarks: row strips built since the last apply

    # --- data ------------------------------------------------------------------------------

    @property
    def shown_columns(self) -> list[Slot]:
        return self._columns

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def row_keys(self) -> list[str]:
        return list(self._order)

    def get_cell(self, row_key: str, column_key: str) -> Text:
        return self._row_cells(row_key)[column_key]

    def cell_text(self, row_key: str, column_key: str) -> str:
        """A cell's figure as written (without its marker slot)."""
        return self.get_cell(row_key, column_key).plain.rstrip(FLAG).strip()

    def header_label(self, column_key: str) -> str:
        for col, (start, end) in zip(self._columns, self._spans(), strict=True):
            if col.key == column_key:
                return self._header.plain[start:end].strip()
        raise KeyError(column_key)

    def column_at(self, x: int) -> str | None:
        """The key of the column under screen column ``x`` (header clicks)."""
        for col, (start, end) in zip(self._columns, self._spans(), strict=True):
            if start - GAP <= x < end + GAP:
                return col.key
        return None

    def _spans(self) -> list[tuple[int, int]]:
        spans, x = [], 0
        for col in self._columns:
            spans.append((x + GAP, x + GAP + col.width))
            x += col.width + 2 * GAP
        return spans

    @property
    def _row_width(self) -> int:
        return sum(c.width + 2 * GAP for c in self._columns)

    def set_layout(self, layout: TableLayout) -> None:
        """Draw another view: every row is drawn again on the next apply."""
        self.view_layout = layout
        self._columns = []
        self._order = []
        self._selected = None
        self._forget_all()

    def set_columns(self, columns: list[Slot], window_s: int) -> None:
        """New columns (resize, zoom, first draw): every row is drawn again on the next apply."""
        self._columns = columns
        self._window_s = window_s
        self._forget_all()

    def _forget_all(self) -> None:
        self._cells.clear()
        self._pending.clear()
        self._signatures.clear()
        self._strips.clear()

    def refresh_headers(self, state: ViewState) -> None:
        cells: dict[str, Text] = {}
        for col in self._columns:
            label = self.view_layout.header(col, self._styles.get(col.key), state, self._window_s)
            arrow = sort_arrow(col.numeric, state.reverse) if col.key == state.sort else ""
            if col.numeric:
                room = col.width - 1
                label = label if len(label) <= room else label[: room - 1] + "…"
                text = Text(label.rjust(room) + (arrow or " "), justify="right")
            else:
                room = col.width - len(arrow)
                label = label if len(label) <= room else label[: room - 1] + "…"
                text = Text(label + arrow)
            if col.key == state.sort:
                text.stylize(self.get_component_rich_style("model-table--sorted"))
            cells[col.key] = text
        self._header = self._line(cells)
        self.refresh()

    def apply(
        self,
        snapshot: Snapshot,
        rows: Sequence[Any],
        state: ViewState,
        styles: Mapping[str, CellStyle],
        flagged: Collection[tuple[str, str]] = (),
        flag_style: Style | None = None,
        stale_regions: Collection[str] = (),
    ) -> None:
        """Show ``rows`` in this order; only rows whose signature changed are drawn again.

        ``styles`` writes each column in one unit; ``flagged`` (row key, column key) cells get
        ``flag_style`` and a marker (spikes); rows of ``stale_regions`` (whose newest poll
        failed) are drawn dim. The cursor stays on its model, or moves to the nearest row
        still shown when that model is filtered out.
        """
        selected = self._selected
        old_order = self._order
        if styles != self._styles:
            self._styles = dict(styles)
            self._forget_all()
        self.refresh_headers(state)  # the units (styles) and the sort arrow live there
        changed = 0
        wanted = [r.key for r in rows]
        self._flag_style = flag_style
        wanted_set = set(wanted)
        for key in set(self._signatures) - wanted_set:
            self._forget(key)
        spark = (
            state.spark_metric,
            partial_periods(snapshot),
            snapshot.window_start // snapshot.period,
        )
        for row in rows:
            marks = frozenset(c.key for c in self._columns if (row.key, c.key) in flagged)
            stale = row.region in stale_regions
            drawn_from = self.view_layout.signature(row, self._columns, state)
            signature = (*drawn_from, spark, marks, stale)
            if self._signatures.get(row.key) == signature:
                continue
            self._forget(row.key)
            self._signatures[row.key] = signature
            self._pending[row.key] = (row, snapshot, state, marks, stale)
            changed += 1
        self.rows_changed = changed
        self.rows_rendered = 0
        self._order = wanted
        self.virtual_size = Size(self._row_width, len(wanted) + 1)
        self.cursor_row = self._follow(selected, old_order, wanted, wanted_set)
        self.refresh()

    def _follow(
        self, selected: str | None, old: list[str], new: list[str], present: set[str]
    ) -> int:
        """Where the cursor goes after an update: its model's new place, else the nearest
        row (in the old order) that is still shown."""
        if not new:
            return 0
        if selected is None or selected in present:
            return new.index(selected) if selected is not None else 0
        if selected in old:
            i = old.index(selected)
            for distance in range(1, len(old)):
                for j in (i + distance, i - distance):
                    if 0 <= j < len(old) and old[j] in present:
                        return new.index(old[j])
        return min(self.cursor_row, len(new) - 1)

    def _forget(self, key: str) -> None:
        self._cells.pop(key, None)
        self._pending.pop(key, None)
        self._signatures.pop(key, None)
        self._strips.pop(key, None)

    def _row_cells(self, key: str) -> dict[str, Text]:
        """The cell texts of a row, built on first use after the row changed."""
        cells = self._cells.get(key)
        if cells is not None:
            return cells
        row, snapshot, state, marks, stale = self._pending.pop(key)
        cells = {}
        plain = self.view_layout.cells(row, snapshot, state, self._columns, self._styles)
        for col in self._columns:
            flagged = col.key in marks and self._flag_style is not None
            if col.column is None:
                text = self._spark(row, snapshot, state, col.width)
            elif col.numeric:
                text = Text(plain[col.key][-(col.width - 1) :].rjust(col.width - 1))
                text.append(FLAG if flagged else " ")
                reached = level(col.column, col.column.value(row))
                if reached:
                    name = "model-table--warning" if reached == 1 else "model-table--critical"
                    text.stylize(self.get_component_rich_style(name), 0, col.width - 1)
            else:
                text = Text(plain[col.key][: col.width])
                alarm: str = getattr(row, "alarm", "")  # the models view's rows have one
                if col.key == "model" and alarm:
                    text.stylize(ALARM_STYLES.get(alarm, ""), len(text) - 1)
            if stale:
                text.stylize("dim")
            if flagged and self._flag_style is not None:
                text.stylize(self._flag_style)
            cells[col.key] = text
        self._cells[key] = cells
        return cells

    def _spark(self, row: Any, snapshot: Snapshot, state: ViewState, width: int) -> Text:
        drawn = self.view_layout.spark(row, snapshot, state, width)
        text = Text(drawn.text)
        if drawn.partial:
            text.stylize(self._partial_style, width - drawn.partial, width)
        return text

    # --- rendering -------------------------------------------------------------------------

    def _line(self, cells: dict[str, Text]) -> Text:
        """One table line: each cell padded to its column, with gaps between."""
        line = Text(no_wrap=True, end="")
        pad = " " * GAP
        for col in self._columns:
            text = cells.get(col.key) or Text()
            if text.cell_len > col.width:
                text = text.copy()
                text.truncate(col.width)
            line.append(pad)
            fill = " " * (col.width - text.cell_len)
            if col.numeric:
                line.append(fill)
                line.append_text(text)
            else:
                line.append_text(text)
                line.append(fill)
            line.append(pad)
        return line

    def _row_strip(self, key: str) -> Strip:
        strip = self._strips.get(key)
        if strip is None:
            segments = list(self._line(self._row_cells(key)).render(self.app.console))
            strip = self._strips[key] = Strip(segments, self._row_width)
            self.rows_rendered += 1
        return strip

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.size.width
        if y == 0:
            header = Strip(list(self._header.render(self.app.console)), self._row_width)
            style = self.get_component_rich_style("model-table--header")
            return self._finish(header, style, scroll_x, width)
        index = scroll_y + y - 1
        if index >= len(self._order):
            return Strip.blank(width, self.rich_style)
        strip = self._row_strip(self._order[index])
        if index == self.cursor_row:
            style = self.get_component_rich_style("model-table--cursor")
            segments = Segment.apply_style(strip, post_style=Style(bgcolor=style.bgcolor))
            strip = Strip(list(segments), strip.cell_length)
            return self._finish(strip, style, scroll_x, width)
        base = self.rich_style
        if index % 2:
            base += self.get_component_rich_style("model-table--odd-row")
        return self._finish(strip, base, scroll_x, width)

    def _finish(self, strip: Strip, style: Style, scroll_x: int, width: int) -> Strip:
        strip = strip.crop(scroll_x, scroll_x + width).apply_style(style)
        return strip.extend_cell_length(width, style)

    # --- cursor and mouse ------------------------------------------------------------------

    def selected_row_key(self) -> str | None:
        if not self._order:
            return None
        return self._order[min(self.cursor_row, len(self._order) - 1)]

    def watch_cursor_row(self, old: int, new: int) -> None:
        self.refresh()
        key = self.selected_row_key()
        if key != self._selected:
            self._selected = key
            self.post_message(self.CursorMoved(key))
        rows_visible = max(1, self.size.height - 1)
        top = self.scroll_offset.y
        if new < top:
            self.scroll_to(y=new, animate=False)
        elif new >= top + rows_visible:
            self.scroll_to(y=new - rows_visible + 1, animate=False)

    def validate_cursor_row(self, value: int) -> int:
        return max(0, min(value, len(self._order) - 1)) if self._order else 0

    def action_cursor(self, step: int) -> None:
        self.cursor_row += step

    def action_page(self, step: int) -> None:
        self.cursor_row += step * max(1, self.size.height - 2)

    def action_jump(self, where: int) -> None:
        self.cursor_row = 0 if where == 0 else len(self._order) - 1

    def action_select(self) -> None:
        key = self.selected_row_key()
        if key is not None:
            self.post_message(self.RowSelected(key))

    def on_click(self, event: events.Click) -> None:
        if event.y == 0:
            column = self.column_at(event.x + self.scroll_offset.x)
            if column is not None:
                self.post_message(self.HeaderSelected(column))
            return
        index = self.scroll_offset.y + event.y - 1
        if 0 <= index < len(self._order):
            if index == self.cursor_row and event.chain >= 2:
                self.action_select()
            self.cursor_row = index
