"""The one filter and sort path: which rows every output shows (``--once`` table, JSON and
CSV, the live table, the CSV export), in which order. Pure: no Textual, no rich.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol, TypeVar

from bedrock_top.views.columns import COLUMNS_BY_KEY, Column, Value


class Row(Protocol):
    """What filtering and sorting read of a row of any view."""

    @property
    def model_id(self) -> str: ...  # the row's name: a model id, or a view's dimension values

    @property
    def region(self) -> str: ...

    @property
    def names(self) -> tuple[str, ...]: ...  # what the filter searches


R = TypeVar("R", bound=Row)


def row_filter(pattern: str | None) -> Callable[[Row], bool] | None:
    """The filter every output uses: a case-insensitive regex over the row's names (model id
    and provider; a view's dimension values); a leading '!' keeps the rows that do not match.
    None (keep all) for no pattern or a lone '!' (a negation still being typed). Raises
    re.error on a bad pattern."""
    if not pattern or pattern == "!":
        return None
    negate = pattern.startswith("!")
    regex = re.compile(pattern.removeprefix("!"), re.IGNORECASE)

    def keep(row: Row) -> bool:
        hit = any(regex.search(name) for name in row.names)
        return hit != negate

    return keep


def filter_rows(rows: Sequence[R], pattern: str | None) -> list[R]:
    keep = row_filter(pattern)
    return list(rows) if keep is None else [r for r in rows if keep(r)]


def order_rows(
    rows: Sequence[R], value: Callable[[R], Value], numeric: bool, reverse: bool
) -> list[R]:
    """Numbers largest first, text A-Z (``reverse`` flips both); empty values always last,
    ties by name then region. Shared by ``--once`` and the live table, in every view."""
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: (r.model_id, r.region))
    present.sort(key=value, reverse=numeric != reverse)  # type: ignore[arg-type]
    return present + missing


def sort_rows(
    rows: Sequence[R],
    key: str,
    reverse: bool = False,
    columns: Mapping[str, Column] = COLUMNS_BY_KEY,
) -> list[R]:
    """Sort by one of the view's registry ``columns`` (see ``order_rows``)."""
    column = columns[key]
    return order_rows(rows, column.value, column.numeric, reverse)


def select_rows(
    rows: Sequence[R],
    *,
    pattern: str | None,
    sort: str,
    reverse: bool = False,
    keep: Callable[[R], bool] | None = None,
    columns: Mapping[str, Column] = COLUMNS_BY_KEY,
) -> list[R]:
    """Filter (``row_filter``), then ``keep`` (the live table's problems-only), then sort by a
    registry column of the view."""
    chosen = filter_rows(rows, pattern)
    if keep is not None:
        chosen = [r for r in chosen if keep(r)]
    return sort_rows(chosen, sort, reverse, columns)
