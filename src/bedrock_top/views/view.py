"""The live table as data: what the user chose to see, which rows, which columns fit, and the
text of every cell, without Textual or rich.

The TUI only places and colours what this module computes, so the same logic is unit-tested
and benchmarked without a terminal, and ``--once`` shares its filter and sort.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Final

from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.views.cells import CellStyle, choose_style, row_cell
from bedrock_top.views.columns import (
    COLUMNS_BY_KEY,
    DEFAULT_SORT_LIVE,
    QUOTA_LEVELS,
    SPARK_KEY,
    Column,
    fmt_span,
    header,
)
from bedrock_top.views.rows import select_rows
from bedrock_top.views.spark import Spark, sparkline

SPARK_TITLES: Final = {
    "invocations": "Inv/min",
    "tokens": "Tok/min",
    "latency": "Lat avg",
    "problems": "Err+thr/min",
}
# The row series each sparkline metric adds up; latency is a level, not a count.
SPARK_INPUTS: Final = {
    "invocations": ("invocations",),
    "tokens": ("input_tokens", "output_tokens"),
    "latency": ("latency_avg",),
    "problems": ("client_errors", "server_errors", "throttles"),
}
SPARK_MIN: Final = 14  # narrowest useful sparkline (and room for its header)
MODEL_MIN: Final = 16
MODEL_COMFORT: Final = 30
GAP: Final = 1  # blank cells on each side of a column
ESSENTIAL: Final = 2  # columns of this priority or less are kept before a long model name
THROTTLE_PROBLEM_RATE: Final = 0.01  # a problem row: >= 1 % of requests throttled


@dataclass(frozen=True, slots=True)
class ViewState:
    """What the user chose to see; the UI swaps it for a new one on each key press."""

    filter: str | None = None
    sort: str = DEFAULT_SORT_LIVE
    reverse: bool = False
    problems_only: bool = False
    spark_metric: str = "invocations"

    def with_(self, **changes: object) -> ViewState:
        return replace(self, **changes)  # type: ignore[arg-type]


# --- rows ------------------------------------------------------------------------------------


def is_problem(row: ModelRow, error_rate: float, alerting: Collection[str] = ()) -> bool:
    """A row worth a look: an alert firing now, an error rate over the alert threshold, at
    least 1 % of its requests throttled over the window (a stray error is not a problem), or
    a quota at 90 % or more (about to be throttled)."""
    w = row.window
    if row.key in alerting:
        return True
    if w.error_rate is not None and w.error_rate >= error_rate:
        return True
    if w.throttle_rate is not None and w.throttle_rate >= THROTTLE_PROBLEM_RATE:
        return True
    worst = row.quota.worst() if row.quota is not None else None
    return worst is not None and worst[1] >= QUOTA_LEVELS[1] * 100


def visible_rows(
    snapshot: Snapshot,
    state: ViewState,
    *,
    error_rate: float = 0.05,
    alerting: Collection[str] = (),
) -> list[ModelRow]:
    """The live table's rows: ``rows.select_rows`` with problems-only as its ``keep``."""
    sort = state.sort if state.sort in COLUMNS_BY_KEY else DEFAULT_SORT_LIVE
    keep = (lambda r: is_problem(r, error_rate, alerting)) if state.problems_only else None
    return select_rows(
        snapshot.rows, pattern=state.filter, sort=sort, reverse=state.reverse, keep=keep
    )


# --- columns ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Slot:
    """A registry column placed in the table: its width in cells (the sparkline is not in the
    registry: it draws a series, not a figure)."""

    key: str
    width: int
    column: Column | None  # None: the sparkline
    # Model column only: too narrow for the longest name, so every name drops its provider
    # prefix (one style for the column; the provider is in the detail and the filter).
    drop_provider: bool = False

    @property
    def numeric(self) -> bool:
        return self.column is None or self.column.numeric

    @property
    def priority(self) -> int:
        return 1 if self.column is None else self.column.priority


# Widest cell each numeric kind needs (headers may need more: see slot_width).
KIND_WIDTH: Final = {"rate": 7, "count": 9, "latency": 6, "pct": 5, "usd": 7, "text": 6}


# Text columns hold names of a known length.
TEXT_WIDTH: Final = {"region": 14, "account": 12, "provider": 9, "profile": 6}


def slot_width(column: Column, window_s: int, text_widths: Mapping[str, int] = TEXT_WIDTH) -> int:
    """Room for the widest usual cell and for the header with its sort arrow."""
    head = len(header(column, header_unit(column, "ms"), window_s)) + 1
    return max(text_widths.get(column.key, KIND_WIDTH[column.kind]), head)


def fit_columns(
    width: int,
    keys: Sequence[str],
    window_s: int,
    *,
    model_width: int = 40,
    spark_width: int = 61,
    hidden: Collection[str] = (),
    keep: str | None = None,
    registry: Mapping[str, Column] = COLUMNS_BY_KEY,
    text_widths: Mapping[str, int] = TEXT_WIDTH,
) -> list[Slot]:
    """The columns of ``keys`` that fit ``width`` cells, dropping the least important first.

    Model ids are what people scan, so the model column keeps its whole width while only
    low-priority columns go, then a comfortable width while essential ones would go; only on
    very narrow terminals is it cut further. Spare room goes
    to the model column (up to the longest id), then to the sparkline (up to one cell per
    period of the window, plus one for the minute still arriving). The ``keep`` column (the
    sort column) goes last, so what the rows are sorted by is always on screen.
    """
    candidates: list[Slot] = []
    if keep is not None and keep not in keys and keep in registry:
        keys = [*keys, keep]  # sorted by a column not configured: shown at the end
    for key in keys:
        if key in hidden:
            continue
        if key == SPARK_KEY:
            candidates.append(Slot(SPARK_KEY, SPARK_MIN, None))
            continue
        column = registry[key]
        slot_w = MODEL_COMFORT if key == "model" else slot_width(column, window_s, text_widths)
        candidates.append(Slot(key, slot_w, column))
    budget = width - 1  # one cell for the scrollbar
    chosen: list[Slot] = []
    essential = {s.key for s in candidates if s.priority <= ESSENTIAL or s.key == keep}
    for floor in (model_width, min(model_width, MODEL_COMFORT), MODEL_MIN):
        chosen = [replace(s, width=floor) if s.key == "model" else s for s in candidates]
        while len(chosen) > 1 and sum(s.width + 2 * GAP for s in chosen) > budget:
            worst = max(chosen[1:], key=lambda s: (s.key != keep, s.priority, keys.index(s.key)))
            chosen.remove(worst)
        if essential <= {s.key for s in chosen}:
            break  # whole names while the essential columns still fit
        if floor == MODEL_COMFORT and len(chosen) >= 3:
            break
    spare = budget - sum(s.width + 2 * GAP for s in chosen)
    for i, slot in enumerate(chosen):
        if slot.key == "model":
            grow = max(0, min(model_width - slot.width, spare))
            chosen[i] = replace(slot, width=slot.width + grow)
            spare -= grow
    for i, slot in enumerate(chosen):
        if slot.key == SPARK_KEY:
            grow = max(0, min(spark_width - slot.width, spare))
            chosen[i] = replace(slot, width=slot.width + grow)
            spare -= grow
    return chosen


def table_columns(
    width: int,
    keys: Sequence[str],
    rows: Sequence[ModelRow],
    window_s: int,
    period_s: int,
    *,
    multi_region: bool,
    sort: str,
) -> list[Slot]:
    """The live table's columns for ``rows`` in ``width`` cells (see ``fit_columns``): Region
    only with several regions, Account only with linked accounts; when even that leaves the
    model column too narrow for whole names, every name drops its provider prefix and the
    room that frees goes to the other columns."""
    hidden = set() if multi_region else {"region"}
    if not any(r.account for r in rows):
        hidden.add("account")
    profile_shown = "profile" in keys

    def fit(model_width: int) -> list[Slot]:
        return fit_columns(
            width,
            keys,
            window_s,
            model_width=model_width,
            spark_width=window_s // period_s + 1,
            hidden=hidden,
            keep=sort,
        )

    longest = max((len(model_name(r, profile_shown)) for r in rows), default=40)
    columns = fit(longest)
    if rows and columns[0].key == "model" and columns[0].width < longest:
        shorter = max(len(model_text(r, 999, profile_shown, True)) for r in rows)
        columns = fit(shorter)
        columns[0] = replace(columns[0], drop_provider=True)
    return columns


# --- cells -----------------------------------------------------------------------------------


def column_styles(
    slots: Sequence[Slot], rows: Sequence[object], window_s: int
) -> dict[str, CellStyle]:
    """One cell style per shown column, from the values of the rows on screen."""
    out: dict[str, CellStyle] = {}
    for slot in slots:
        if slot.column is not None:
            values = [slot.column.value(r) for r in rows]
            out[slot.key] = choose_style(slot.column, values, slot.width - 1)
    return out


def sort_arrow(numeric: bool, reverse: bool) -> str:
    """▼ for the usual order (numbers largest first, text A-Z), ▲ for the reverse."""
    return "▲" if numeric == reverse else "▼"


def header_text(slot: Slot, style: CellStyle | None, state: ViewState, window_s: int) -> str:
    """A header without the sort arrow (the table adds it in a cell kept free for it)."""
    if slot.column is None:
        return f"{SPARK_TITLES[state.spark_metric]} · {fmt_span(window_s)}"
    return header(slot.column, header_unit(slot.column, style.unit if style else ""), window_s)


def header_unit(column: Column, unit: str) -> str:
    """The unit a header names: latency's ms or s (the labels of %, $ and counts say it)."""
    return unit if column.kind == "latency" else ""


def model_name(row: ModelRow, profile_shown: bool) -> str:
    """The model's full name as the table shows it: without the profile prefix when a Prof
    column shows that."""
    info = row.info
    if profile_shown and info.profile and info.profile != "application":
        return info.base_id
    return row.model_id


def model_text(row: ModelRow, width: int, profile_shown: bool, drop_provider: bool) -> str:
    """The model's name in ``width`` cells: without the provider prefix when the column is
    too narrow for the longest name, and only then cut in the middle (never at the end,
    where the date and version tell models apart)."""
    name = model_name(row, profile_shown)
    provider = row.info.provider
    if drop_provider and provider and provider + "." in name:
        head, _, tail = name.partition(provider + ".")
        name = head + tail  # "us.anthropic.claude-…" -> "us.claude-…" without a Prof column
    if row.alarm_marker and width > 2:  # its CloudWatch alarms: a marker at the cell's end
        return shorten_middle(name, width - 2).ljust(width - 2) + " " + row.alarm_marker
    return shorten_middle(name, width)


def shorten_middle(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with '…' in the middle, keeping more of the end."""
    if len(text) <= width:
        return text
    if width <= 1:
        return text[:width]
    head = (width - 1) * 2 // 5
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


def cell_value(slot: Slot, row: ModelRow, style: CellStyle | None) -> str:
    """The text of a numeric or plain cell (model and sparkline cells are drawn elsewhere)."""
    if slot.column is None:
        return ""
    return row_cell(slot.column, row, style or CellStyle())


def spark_values(row: ModelRow, metric: str) -> list[float | None]:
    """The per-period values a sparkline draws: a sum of counters, or the latency level."""
    keys = SPARK_INPUTS[metric]
    return list(row.series[keys[0]]) if len(keys) == 1 else row.summed(*keys)


def draw_spark(row: ModelRow, snapshot: Snapshot, metric: str, width: int) -> Spark:
    """A row's sparkline: a rate per cell (every cell the same number of periods, aligned to
    the clock); the minute still arriving is one in-progress cell, never a drop."""
    return sparkline(
        spark_values(row, metric),
        width,
        partial=partial_periods(snapshot),
        offset=snapshot.window_start // snapshot.period,
        counter=metric != "latency",
    )


def row_cells(
    row: ModelRow,
    snapshot: Snapshot,
    state: ViewState,
    slots: Sequence[Slot],
    styles: dict[str, CellStyle],
) -> dict[str, str]:
    """The plain text of every cell of a row, as the table writes it."""
    profile_shown = any(s.key == "profile" for s in slots)
    cells: dict[str, str] = {}
    for slot in slots:
        if slot.key == "model":
            cells[slot.key] = model_text(row, slot.width, profile_shown, slot.drop_provider)
        elif slot.column is None:
            cells[slot.key] = draw_spark(row, snapshot, state.spark_metric, slot.width).text
        else:
            cells[slot.key] = cell_value(slot, row, styles.get(slot.key))
    return cells


def partial_periods(snapshot: Snapshot) -> int:
    """How many of the newest periods are still incomplete."""
    return len(snapshot.period_starts) - 1 - snapshot.latest_complete_index


class ModelLayout:
    """How the live table draws the models view (see ``tui.table``): every view supplies
    these four, so one table widget draws them all."""

    def header(self, slot: Slot, style: CellStyle | None, state: ViewState, window_s: int) -> str:
        return header_text(slot, style, state, window_s)

    def cells(
        self,
        row: ModelRow,
        snapshot: Snapshot,
        state: ViewState,
        slots: Sequence[Slot],
        styles: dict[str, CellStyle],
    ) -> dict[str, str]:
        return row_cells(row, snapshot, state, slots, styles)

    def signature(
        self, row: ModelRow, slots: Sequence[Slot], state: ViewState
    ) -> tuple[object, ...]:
        return row_signature(row, slots, state)

    def spark(self, row: ModelRow, snapshot: Snapshot, state: ViewState, width: int) -> Spark:
        return draw_spark(row, snapshot, state.spark_metric, width)


def row_signature(row: ModelRow, slots: Sequence[Slot], state: ViewState) -> tuple[object, ...]:
    """Everything a row's cells are drawn from: equal signatures draw equal cells, so the
    table can skip rows that did not change (most rows, most polls)."""
    values: list[object] = [s.column.value(row) for s in slots if s.column is not None]
    values.append(row.quota_unknown)
    values.append(row.alarm)
    if any(s.column is None for s in slots):
        values.extend(row.series[k] for k in SPARK_INPUTS[state.spark_metric])
    return tuple(values)
