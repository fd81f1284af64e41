"""Cell text with one style per column: one latency unit, one count style, one precision.

A column of figures is read by comparing them, so every cell of a column is written the same
way: latency all in ms or all in s, counts all exact (``1,234,567``) or all in the same
multiple (``12.3M`` above ``0.6M``), money with the same decimals. The style is chosen from
the column's values; the unit goes in the header when the cells carry none. Pure.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from bedrock_top.views.columns import Column, Value

MISSING: Final = "-"  # no figure (no requests: no latency)
UNPRICED: Final = "?"  # no known price: never shown as 0
SECONDS_FROM_MS: Final = 10_000.0  # a latency column reads in seconds once it reaches 10 s
_MULTIPLES: Final = ((1e9, "G"), (1e6, "M"), (1e3, "k"))


@dataclass(frozen=True, slots=True)
class CellStyle:
    """How every cell of one column is written."""

    unit: str = ""  # for the header: "ms", "s", "%", "$"
    divisor: float = 1.0  # counts in thousands/millions, latency in seconds
    suffix: str = ""  # "k", "M", "G" on every count cell of a scaled column
    decimals: int = 0


def _numbers(values: Iterable[Value]) -> list[float]:
    return [float(v) for v in values if isinstance(v, int | float) and math.isfinite(v)]


def choose_style(column: Column, values: Iterable[Value], width: int | None = None) -> CellStyle:
    """The style for a column holding ``values``; ``width`` (cells) makes counts switch to a
    multiple only when the exact figures would not fit (None: always exact)."""
    numbers = _numbers(values)
    top = max((abs(v) for v in numbers), default=0.0)
    kind = column.kind
    if kind == "latency":
        if top >= SECONDS_FROM_MS:
            return CellStyle("s", 1000.0, "", 1 if top >= 100_000 else 2)
        return CellStyle("ms")
    if kind == "pct":
        return CellStyle("%", 0.01, "", 1)
    if kind == "usd":  # cents, or tenths of a cent when a nonzero amount is under a cent
        small = any(0 < abs(v) < 0.01 for v in numbers)
        return CellStyle("$", 1.0, "", 4 if small else 0 if top >= 10_000 else 2)
    if kind in ("count", "rate"):
        fractional = kind == "rate" and any(not v.is_integer() for v in numbers)
        decimals = 1 if fractional and top < 1000 else 0
        exact = CellStyle("", 1.0, "", decimals)
        if width is None or len(_write(top, exact)) <= width:
            return exact
        for size, suffix in _MULTIPLES:
            if top >= size:
                return CellStyle("", size, suffix, 1)
        return exact
    return CellStyle()


def _write(value: float, style: CellStyle) -> str:
    scaled = value / style.divisor
    if style.suffix:
        if value and abs(scaled) < 0.05:
            return f"<0.1{style.suffix}"
        return f"{scaled:,.1f}{style.suffix}"
    if style.unit == "%":
        if value and abs(scaled) < 0.05:
            return "<0.1"
        return f"{scaled:.1f}"
    if style.unit == "$":
        return f"{scaled:,.{style.decimals}f}"
    if style.unit == "ms":
        return f"{scaled:,.0f}"
    return f"{scaled:,.{style.decimals}f}"


UNKNOWN: Final = "?"  # a figure that exists but could not be read (quotas denied)


def row_cell(column: Column, row: object, style: CellStyle) -> str:
    """The text of ``column`` for ``row`` (of any view): "?" where the figure could not be
    read."""
    value = column.value(row)
    if value is None and column.unknown is not None and column.unknown(row):
        return UNKNOWN
    return cell(column, value, style)


def level(column: Column, value: Value) -> int:
    """0, 1 (warning) or 2 (critical): which of the column's levels the value reached."""
    if column.levels is None or not isinstance(value, int | float):
        return 0
    warning, critical = column.levels
    return 2 if value >= critical else 1 if value >= warning else 0


def cell(column: Column, value: Value, style: CellStyle) -> str:
    """The text of one cell in a column written with ``style``."""
    if column.kind == "text":
        return "" if value is None else str(value)
    if not isinstance(value, int | float):
        return UNPRICED if column.kind == "usd" else MISSING
    return _write(float(value), style)
