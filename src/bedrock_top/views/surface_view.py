"""The live table of a view beside the models table, as data: its rows (the one filter and
sort path with the view's registry), the columns that fit, the text of every cell and its
sparkline; ``SurfaceLayout`` hands them to the same table widget the models view uses.
Pure: no Textual, no rich.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.surface_rows import SurfaceRow, SurfaceView
from bedrock_top.figures.surfaces import ViewSpec
from bedrock_top.views.cells import CellStyle, row_cell
from bedrock_top.views.columns import SPARK_KEY, fmt_span
from bedrock_top.views.rows import select_rows
from bedrock_top.views.spark import Spark, sparkline
from bedrock_top.views.surface_columns import (
    columns_of,
    live_columns,
    short_value,
    sort_default,
)
from bedrock_top.views.view import (
    THROTTLE_PROBLEM_RATE,
    Slot,
    ViewState,
    fit_columns,
    header_text,
    partial_periods,
    shorten_middle,
)

NAME_MAX = 44  # a dimension column never takes more (long ARNs are cut in the middle)


def is_surface_problem(row: SurfaceRow, error_rate: float) -> bool:
    """A row worth a look: its error rate over the alert threshold or at least 1 % of its
    requests throttled (the ratios the view has)."""
    errors = row.values.get("error_rate")
    throttled = row.values.get("throttle_rate")
    return (errors is not None and errors >= error_rate) or (
        throttled is not None and throttled >= THROTTLE_PROBLEM_RATE
    )


def surface_visible_rows(
    view: SurfaceView, state: ViewState, *, error_rate: float = 0.05
) -> list[SurfaceRow]:
    """The rows the live table shows: the view's registry filters and sorts them."""
    registry = columns_of(view.spec.name)
    sort = state.sort if state.sort in registry else default_sort(view.spec)
    keep = (lambda r: is_surface_problem(r, error_rate)) if state.problems_only else None
    return select_rows(
        view.rows,
        pattern=state.filter,
        sort=sort,
        reverse=state.reverse,
        keep=keep,
        columns=registry,
    )


def default_sort(spec: ViewSpec) -> str:
    return sort_default(spec.name, once=False)


def surface_table_columns(
    width: int,
    spec: ViewSpec,
    rows: Sequence[SurfaceRow],
    window_s: int,
    period_s: int,
    *,
    multi_region: bool,
    sort: str,
) -> list[Slot]:
    """The view's live columns that fit ``width``: its dimension columns as wide as their
    longest (shortened) value, the least important figures dropped first."""
    registry = columns_of(spec.name)
    widths: dict[str, int] = {}
    for key, column in registry.items():
        if column.kind == "text":
            longest = max((len(str(column.value(r))) for r in rows), default=len(column.label))
            widths[key] = min(NAME_MAX, max(longest, len(column.label) + 1))
    hidden = set() if multi_region else {"region"}
    return fit_columns(
        width,
        live_columns(spec),
        window_s,
        model_width=widths.get("model", 40),
        spark_width=window_s // period_s + 1,
        hidden=hidden,
        keep=sort,
        registry=registry,
        text_widths=widths,
    )


@dataclass(frozen=True, slots=True)
class SurfaceLayout:
    """How the live table draws one view (the counterpart of ``view.ModelLayout``)."""

    spec: ViewSpec

    def header(self, slot: Slot, style: CellStyle | None, state: ViewState, window_s: int) -> str:
        if slot.column is None:
            measure = self.spec.measure(self.spec.spark)
            unit = "/min" if measure.kind == "counter" else ""
            return f"{measure.label}{unit} · {fmt_span(window_s)}"
        return header_text(slot, style, state, window_s)

    def cells(
        self,
        row: SurfaceRow,
        snapshot: Snapshot,
        state: ViewState,
        slots: Sequence[Slot],
        styles: dict[str, CellStyle],
    ) -> dict[str, str]:
        cells: dict[str, str] = {}
        for slot in slots:
            if slot.column is None:
                cells[slot.key] = self.spark(row, snapshot, state, slot.width).text
            elif slot.column.kind == "text":
                cells[slot.key] = shorten_middle(str(slot.column.value(row) or ""), slot.width)
            else:
                cells[slot.key] = row_cell(slot.column, row, styles.get(slot.key) or CellStyle())
        return cells

    def signature(
        self, row: SurfaceRow, slots: Sequence[Slot], state: ViewState
    ) -> tuple[object, ...]:
        values: list[object] = [s.column.value(row) for s in slots if s.column is not None]
        if any(s.key == SPARK_KEY for s in slots):
            values.append(row.series.get(self.spec.spark))
        return tuple(values)

    def spark(self, row: SurfaceRow, snapshot: Snapshot, state: ViewState, width: int) -> Spark:
        """The heartbeat measure per period: a counter as a rate, a gauge or mean as a level."""
        measure = self.spec.measure(self.spec.spark)
        values = row.series.get(measure.key) or (None,) * len(snapshot.period_starts)
        return sparkline(
            list(values),
            width,
            partial=partial_periods(snapshot),
            offset=snapshot.window_start // snapshot.period,
            counter=measure.kind == "counter",
        )


def row_title(row: SurfaceRow) -> str:
    """A row named in a title line: its dimension values, shortened, with the region."""
    return " · ".join([*(short_value(v) for _, v in row.dims), row.region])
