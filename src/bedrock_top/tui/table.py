"""The model table: a DataTable patched in place by row key, one changed cell at a time."""

from __future__ import annotations

import contextlib
from collections.abc import Collection

from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import ColumnKey, RowDoesNotExist

from bedrock_top.snapshot import ModelRow, Snapshot
from bedrock_top.view import SPARK_TITLES, TableColumn, ViewState, cell_text


class ModelText(Text):
    """The model cell: text that also carries its row key, so rows can be re-ordered by key."""

    row_key: str = ""


class ModelTable(DataTable[Text]):
    """One row per (region, account, model); only cells whose text changed are updated."""

    DEFAULT_CSS = """
    ModelTable { height: 1fr; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="row", zebra_stripes=True)
        self._columns: list[TableColumn] = []
        self._cells: dict[str, dict[str, Text]] = {}
        self._order: list[str] = []
        self.cells_updated = 0  # for tests and benchmarks: cells written by the last apply

    @property
    def shown_columns(self) -> list[TableColumn]:
        return self._columns

    def set_columns(self, columns: list[TableColumn], state: ViewState) -> None:
        """Rebuild the header (on resize or when the sparkline metric changes)."""
        self.clear(columns=True)
        self._cells.clear()
        self._order = []
        self._columns = columns
        for col in columns:
            self.add_column(self._header(col, state), width=col.width, key=col.key)

    def _header(self, col: TableColumn, state: ViewState) -> Text:
        label = SPARK_TITLES[state.spark_metric] if col.key == "spark" else col.header
        marker = ""
        if col.key == state.sort:
            marker = " ▲" if col.numeric == state.reverse else " ▼"
        text = Text(label + marker, style="bold" if marker else "")
        if col.numeric:
            text.justify = "right"
        return text

    def refresh_headers(self, state: ViewState) -> None:
        for col in self._columns:
            self.columns[ColumnKey(col.key)].label = self._header(col, state)
        self.refresh()

    def apply(
        self,
        snapshot: Snapshot,
        rows: list[ModelRow],
        state: ViewState,
        flagged: Collection[tuple[str, str]] = (),
        flag_style: Style | None = None,
    ) -> None:
        """Patch the table to show ``rows`` in order; ``flagged`` (row key, column key) cells
        get ``flag_style`` and a marker (spikes)."""
        updated = 0
        wanted = [r.key for r in rows]
        wanted_set = set(wanted)
        for key in [k for k in self._cells if k not in wanted_set]:
            del self._cells[key]
            with contextlib.suppress(RowDoesNotExist):
                self.remove_row(key)
        for row in rows:
            new = self._row_cells(row, snapshot, state, flagged, flag_style)
            old = self._cells.get(row.key)
            if old is None:
                self.add_row(*new.values(), key=row.key)
                updated += len(new)
            else:
                for col_key, text in new.items():
                    if old.get(col_key) != text:
                        self.update_cell(row.key, col_key, text)
                        updated += 1
            self._cells[row.key] = new
        if wanted != self._order:
            position = {key: i for i, key in enumerate(wanted)}
            self.sort("model", key=lambda cell: position.get(cell.row_key, 0))
            self._order = wanted
        self.cells_updated = updated

    def _row_cells(
        self,
        row: ModelRow,
        snapshot: Snapshot,
        state: ViewState,
        flagged: Collection[tuple[str, str]],
        flag_style: Style | None,
    ) -> dict[str, Text]:
        cells: dict[str, Text] = {}
        for col in self._columns:
            text = cell_text(col, row, snapshot, state)
            if col.key == "model":
                model = ModelText(text.plain, no_wrap=True, overflow="ellipsis")
                model.row_key = row.key
                text = model
            if (row.key, col.key) in flagged and flag_style is not None:
                if col.key not in ("model", "spark"):
                    text = Text.assemble(text, "▲", no_wrap=True, justify=text.justify)
                text.stylize(flag_style)
            cells[col.key] = text
        return cells

    def selected_row_key(self) -> str | None:
        if not self.row_count:
            return None
        try:
            key = self.coordinate_to_cell_key(self.cursor_coordinate).row_key
        except Exception:
            return None
        return key.value
