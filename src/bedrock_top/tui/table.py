"""The model table: a line-API widget that renders each row once and repaints only rows that
changed.

Textual's DataTable invalidates every rendered cell on any update, so a poll that changes a
few hundred cells repaints the whole screen cell by cell. Here each row is one cached strip,
keyed by the row's signature (the values it is drawn from): an unchanged row costs nothing,
a changed row costs one Text render, and re-sorting only re-orders cached strips. Cell
text itself is built lazily, when a row is first drawn: rows scrolled out of view cost only
their signature.
"""

from __future__ import annotations

from collections.abc import Collection

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

from bedrock_top.snapshot import ModelRow, Snapshot
from bedrock_top.view import SPARK_TITLES, TableColumn, ViewState, cell_text, row_signature

GAP = 1  # blank cells on each side of a column


class ModelTable(ScrollView, can_focus=True):
    """One row per (region, account, model) with a fixed header and a row cursor."""

    BINDINGS = [
        Binding("up,k", "cursor(-1)", "Up", show=False),
        Binding("down,j", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Detail", show=False),
    ]
    COMPONENT_CLASSES = {
        "model-table--header",
        "model-table--cursor",
        "model-table--odd-row",
    }
    DEFAULT_CSS = """
    ModelTable { height: 1fr; background: $surface; }
    ModelTable > .model-table--header { background: $panel; color: $foreground; text-style: bold; }
    ModelTable > .model-table--cursor { background: $block-cursor-background;
        color: $block-cursor-foreground; text-style: bold; }
    ModelTable:blur > .model-table--cursor { background: $block-cursor-blurred-background; }
    ModelTable > .model-table--odd-row { background: $surface-lighten-1; }
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

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._columns: list[TableColumn] = []
        self._header: Text = Text()
        self._order: list[str] = []
        self._cells: dict[str, dict[str, Text]] = {}
        self._pending: dict[str, tuple[ModelRow, Snapshot, ViewState, frozenset[str], bool]] = {}
        self._signatures: dict[str, tuple[object, ...]] = {}
        self._strips: dict[str, Strip] = {}
        self._flag_style: Style | None = None
        self.rows_changed = 0  # for tests and benchmarks: rows whose signature changed last apply
        self.rows_rendered = 0  # for tests and benchmarks: row strips built since the last apply

    # --- data ------------------------------------------------------------------------------

    @property
    def shown_columns(self) -> list[TableColumn]:
        return self._columns

    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def row_keys(self) -> list[str]:
        return list(self._order)

    def get_cell(self, row_key: str, column_key: str) -> Text:
        return self._row_cells(row_key)[column_key]

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

    def set_columns(self, columns: list[TableColumn], state: ViewState) -> None:
        """New columns (resize, first draw): every row is drawn again on the next apply."""
        self._columns = columns
        self._cells.clear()
        self._pending.clear()
        self._signatures.clear()
        self._strips.clear()
        self.refresh_headers(state)

    def refresh_headers(self, state: ViewState) -> None:
        self._header = self._line({c.key: self._header_text(c, state) for c in self._columns})
        self.refresh()

    def _header_text(self, col: TableColumn, state: ViewState) -> Text:
        label = SPARK_TITLES[state.spark_metric] if col.key == "spark" else col.header
        if col.key == state.sort:
            label += "▲" if col.numeric == state.reverse else "▼"
        return Text(label, justify="right" if col.numeric else "left")

    def apply(
        self,
        snapshot: Snapshot,
        rows: list[ModelRow],
        state: ViewState,
        flagged: Collection[tuple[str, str]] = (),
        flag_style: Style | None = None,
        stale_regions: Collection[str] = (),
    ) -> None:
        """Show ``rows`` in this order; only rows whose signature changed are drawn again.

        ``flagged`` (row key, column key) cells get ``flag_style`` and a marker (spikes);
        rows of ``stale_regions`` (whose newest poll failed) are drawn dim.
        """
        selected = self.selected_row_key()
        changed = 0
        wanted = [r.key for r in rows]
        self._flag_style = flag_style
        for key in set(self._signatures) - set(wanted):
            self._forget(key)
        for row in rows:
            marks = frozenset(c.key for c in self._columns if (row.key, c.key) in flagged)
            stale = row.region in stale_regions
            signature = (
                *row_signature(row, self._columns, snapshot, state),
                marks,
                flag_style,
                stale,
            )
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
        if selected in self._cells:
            self.cursor_row = wanted.index(selected)  # the cursor follows its model
        else:
            self.cursor_row = min(self.cursor_row, max(0, len(wanted) - 1))
        self.refresh()

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
        for col in self._columns:
            text = cell_text(col, row, snapshot, state)
            if stale:
                text.stylize("dim")
            if col.key in marks and self._flag_style is not None:
                if col.key not in ("model", "spark"):
                    text = Text.assemble(text, "▲", justify=text.justify)
                text.stylize(self._flag_style)
            cells[col.key] = text
        self._cells[key] = cells
        return cells

    # --- rendering -------------------------------------------------------------------------

    def _line(self, cells: dict[str, Text]) -> Text:
        """One table line: each cell cut or padded to its column, with gaps between."""
        line = Text(no_wrap=True, end="")
        pad = " " * GAP
        for col in self._columns:
            text = cells.get(col.key) or Text()
            if text.cell_len > col.width:
                text = text.copy()
                text.truncate(col.width, overflow="ellipsis")
            line.append(pad)
            fill = " " * (col.width - text.cell_len)
            if text.justify == "right":
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
