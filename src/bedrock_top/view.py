"""The live table as data: columns, filtering, sorting and cell text, without Textual.

The TUI only places what this module computes, so the same logic is unit-tested and
benchmarked without a terminal.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Final

from rich.text import Text

from bedrock_top.columns import match_rows, order_rows
from bedrock_top.format import fmt_count, fmt_ms, fmt_pct, fmt_usd
from bedrock_top.snapshot import ModelRow, RowCost, Snapshot
from bedrock_top.spark import sparkline

Value = float | str | None

SPARK_METRICS: Final = ("invocations", "tokens", "latency", "problems")
SPARK_TITLES: Final = {
    "invocations": "Invocations",
    "tokens": "Tokens",
    "latency": "Latency avg",
    "problems": "Errors+throttles",
}
SPARK_WIDTH: Final = 24


def spark_series(row: ModelRow, metric: str) -> tuple[list[float | None], str]:
    """The per-period values a sparkline shows, and how to squeeze them (sum or max)."""
    s = row.series
    if metric == "latency":
        return list(s["latency_avg"]), "max"

    def add(*keys: str) -> list[float | None]:
        cols = [s[k] for k in keys]
        out: list[float | None] = []
        for vals in zip(*cols, strict=True):
            present = [v for v in vals if v is not None]
            out.append(sum(present) if present else None)
        return out

    if metric == "tokens":
        return add("input_tokens", "output_tokens"), "sum"
    if metric == "problems":
        return add("client_errors", "server_errors", "throttles"), "sum"
    return add("invocations"), "sum"


SPARK_INPUTS: Final = {
    "invocations": ("invocations",),
    "tokens": ("input_tokens", "output_tokens"),
    "latency": ("latency_avg",),
    "problems": ("client_errors", "server_errors", "throttles"),
}


def row_signature(
    row: ModelRow, columns: Sequence[TableColumn], snapshot: Snapshot, state: ViewState
) -> tuple[object, ...]:
    """Everything a row's cells are drawn from: equal signatures draw equal cells, so the
    table can skip building text for rows that did not change (most rows, most polls)."""
    values: list[object] = [c.value(row) for c in columns if c.key != "spark"]
    values.extend(row.series[k] for k in SPARK_INPUTS[state.spark_metric])
    values.append((state.spark_metric, partial_periods(snapshot)))
    return tuple(values)


@dataclass(frozen=True, slots=True)
class TableColumn:
    """A live-table column: value for sorting, text for display, priority for narrow screens.

    Lower ``priority`` survives longer when the terminal is narrow.
    """

    key: str
    header: str
    width: int
    priority: int
    value: Callable[[ModelRow], Value]
    text: Callable[[Value], str]
    numeric: bool = True


def _latest(key: str) -> Callable[[ModelRow], Value]:
    return lambda row: row.latest.get(key)


def _rate(value: Value) -> str:
    if not isinstance(value, int | float):
        return "-"
    return fmt_count(round(value, 1) if value < 100 else round(value))


def _num(value: Value) -> str:
    return fmt_count(value) if isinstance(value, int | float) else "-"


def _ms(value: Value) -> str:
    return fmt_ms(value) if isinstance(value, int | float) else "-"


def _pct(value: Value) -> str:
    return fmt_pct(value) if isinstance(value, int | float) else "-"


def _text(value: Value) -> str:
    return str(value) if value is not None else ""


def _usd(value: Value) -> str:
    return fmt_usd(value) if isinstance(value, int | float) else "-"


def _cost(get: Callable[[RowCost], float | None]) -> Callable[[ModelRow], Value]:
    return lambda row: get(row.cost) if row.cost is not None else None


COST_COLUMNS: Final = frozenset({"usd_per_hour", "cost"})


TABLE_COLUMNS: Final[tuple[TableColumn, ...]] = (
    TableColumn("model", "Model", 40, 0, lambda r: r.model_id, _text, numeric=False),
    TableColumn("region", "Region", 14, 3, lambda r: r.region, _text, numeric=False),
    TableColumn("account", "Account", 12, 3, lambda r: r.account or "", _text, numeric=False),
    TableColumn("provider", "Provider", 9, 9, lambda r: r.info.provider or "?", _text, False),
    TableColumn("inv_rate", "Inv/min", 8, 1, _latest("invocations"), _rate),
    TableColumn("in_rate", "In tok/m", 9, 4, _latest("input_tokens"), _rate),
    TableColumn("out_rate", "Out tok/m", 9, 4, _latest("output_tokens"), _rate),
    TableColumn("lat_avg", "Lat avg", 7, 5, _latest("latency_avg"), _ms),
    TableColumn("lat_p90", "Lat p90", 7, 3, _latest("latency_p90"), _ms),
    TableColumn("ttft_p90", "TTFT p90", 8, 7, _latest("ttft_p90"), _ms),
    TableColumn("client_errors", "Cli err", 7, 6, lambda r: r.window.client_errors, _num),
    TableColumn("server_errors", "Srv err", 7, 6, lambda r: r.window.server_errors, _num),
    TableColumn("throttles", "Throttles", 9, 2, lambda r: r.window.throttles, _num),
    TableColumn("error_rate", "Err %", 6, 2, lambda r: r.window.error_rate, _pct),
    TableColumn("cache_hit", "Cache %", 7, 8, lambda r: r.window.cache_hit_ratio, _pct),
    TableColumn("usd_per_hour", "$/hour", 8, 3, _cost(lambda c: c.usd_per_hour), _usd),
    TableColumn("cost", "$ (win)", 8, 6, _cost(lambda c: c.window_usd), _usd),
    TableColumn("invocations", "Inv (win)", 9, 5, lambda r: r.window.invocations, _num),
    TableColumn(
        "tokens",
        "Tok (win)",
        9,
        8,
        lambda r: r.window.input_tokens + r.window.output_tokens,
        _num,
    ),
    TableColumn("spark", "Trend", SPARK_WIDTH, 1, lambda r: r.window.invocations, _num),
)
COLUMNS_BY_KEY: Final = {c.key: c for c in TABLE_COLUMNS}
SORTABLE: Final = tuple(c.key for c in TABLE_COLUMNS if c.key != "spark")
# --sort names (columns.py, window figures) that mean something else in the live table.
SORT_ALIASES: Final = {"latency_p90": "lat_p90", "latency_avg": "lat_avg", "errors": "error_rate"}


MODEL_MIN_WIDTH: Final = 16
MODEL_COMFORT_WIDTH: Final = 30


def fit_columns(
    width: int,
    multi_region: bool,
    model_width: int = 40,
    allowed: Sequence[str] | None = None,
    multi_account: bool = False,
) -> list[TableColumn]:
    """The columns that fit ``width`` cells, dropping the least important first.

    ``allowed`` (column keys, "model" first) picks the columns and their order, as configured.

    Model ids are what people scan, so the model column keeps a comfortable width while
    low-priority columns go; only on very narrow terminals is it cut further. It then takes
    the room left over, up to ``model_width`` (the longest id).
    """
    pool = TABLE_COLUMNS if allowed is None else [COLUMNS_BY_KEY[key] for key in allowed]
    hidden = {"region"} if not multi_region else set()
    if not multi_account:
        hidden.add("account")
    candidates = [c for c in pool if c.key not in hidden]
    # DataTable pads each cell by one on both sides; keep one cell for the scrollbar.
    budget = width - 1
    chosen: list[TableColumn] = []
    for floor in (min(model_width, MODEL_COMFORT_WIDTH), MODEL_MIN_WIDTH):
        chosen = [replace(c, width=floor) if c.key == "model" else c for c in candidates]
        while len(chosen) > 1 and sum(c.width + 2 for c in chosen) > budget:
            worst = max(chosen[1:], key=lambda c: (c.priority, TABLE_COLUMNS.index(c)))
            chosen.remove(worst)
        if len(chosen) >= 3:
            break
    spare = budget - sum(c.width + 2 for c in chosen)
    floor = chosen[0].width
    chosen[0] = replace(chosen[0], width=max(floor, min(model_width, floor + spare)))
    return chosen


@dataclass(frozen=True, slots=True)
class ViewState:
    """What the user chose to see; the UI swaps it for a new one on each key press."""

    filter: str | None = None
    sort: str = "inv_rate"
    reverse: bool = False
    problems_only: bool = False
    spark_metric: str = "invocations"

    def with_(self, **changes: object) -> ViewState:
        return replace(self, **changes)  # type: ignore[arg-type]


def compile_view_filter(pattern: str | None) -> tuple[re.Pattern[str] | None, bool]:
    """(regex, negate) for a filter string; raises re.error on a bad pattern."""
    if not pattern or pattern == "!":
        return None, False
    negate = pattern.startswith("!")
    return re.compile(pattern.removeprefix("!"), re.IGNORECASE), negate


def visible_rows(snapshot: Snapshot, state: ViewState) -> list[ModelRow]:
    """Filter (model id and provider), problems-only, then sort; empty values sort last."""
    regex, negate = compile_view_filter(state.filter)
    rows: Sequence[ModelRow] = snapshot.rows
    if regex is not None:
        rows = match_rows(rows, regex, negate)
    if state.problems_only:
        rows = [r for r in rows if r.window.errors or r.window.throttles]
    column = COLUMNS_BY_KEY.get(state.sort, COLUMNS_BY_KEY["inv_rate"])
    return order_rows(rows, column.value, column.numeric, state.reverse)


def partial_periods(snapshot: Snapshot) -> int:
    """How many of the newest periods are still incomplete."""
    n = len(snapshot.period_starts)
    return n - 1 - snapshot.latest_complete_index


def spark_cell(row: ModelRow, snapshot: Snapshot, metric: str, width: int = SPARK_WIDTH) -> Text:
    values, how = spark_series(row, metric)
    n = max(1, len(values))
    partial = partial_periods(snapshot)
    tail = math.ceil(partial * min(width, n) / n) if partial else 0
    return sparkline(values, width, how, partial_tail=tail)


def cell_text(column: TableColumn, row: ModelRow, snapshot: Snapshot, state: ViewState) -> Text:
    """The text of one cell (the sparkline column draws the chosen metric)."""
    if column.key == "spark":
        return spark_cell(row, snapshot, state.spark_metric, column.width)
    if column.key in COST_COLUMNS and row.cost is None:
        content = "?"  # no known price: never shown as 0
    else:
        content = column.text(column.value(row))
    text = Text(content, no_wrap=True, overflow="ellipsis")
    if column.numeric:
        text.justify = "right"
    return text
