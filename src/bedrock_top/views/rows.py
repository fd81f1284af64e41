"""The one filter and sort path: which rows every output shows (``--once`` table, JSON and
CSV, the live table, the CSV export), in which order. Pure: no Textual, no rich.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bedrock_top.figures.snapshot import ModelRow
from bedrock_top.views.columns import COLUMNS_BY_KEY, Value


def row_filter(pattern: str | None) -> Callable[[ModelRow], bool] | None:
    """The filter every output uses: a case-insensitive regex over model id and provider; a
    leading '!' keeps the rows that do not match. None (keep all) for no pattern or a lone
    '!' (a negation still being typed). Raises re.error on a bad pattern."""
    if not pattern or pattern == "!":
        return None
    negate = pattern.startswith("!")
    regex = re.compile(pattern.removeprefix("!"), re.IGNORECASE)

    def keep(row: ModelRow) -> bool:
        hit = regex.search(row.model_id) or regex.search(row.info.provider or "")
        return bool(hit) != negate

    return keep


def filter_rows(rows: Sequence[ModelRow], pattern: str | None) -> list[ModelRow]:
    keep = row_filter(pattern)
    return list(rows) if keep is None else [r for r in rows if keep(r)]


def order_rows(
    rows: Sequence[ModelRow], value: Callable[[ModelRow], Value], numeric: bool, reverse: bool
) -> list[ModelRow]:
    """Numbers largest first, text A-Z (``reverse`` flips both); empty values always last,
    ties by model id then region. Shared by ``--once`` and the live table."""
    present = [r for r in rows if value(r) is not None]
    missing = [r for r in rows if value(r) is None]
    present.sort(key=lambda r: (r.model_id, r.region))
    present.sort(key=value, reverse=numeric != reverse)  # type: ignore[arg-type]
    return present + missing


def sort_rows(rows: Sequence[ModelRow], key: str, reverse: bool = False) -> list[ModelRow]:
    """Sort by one of ``COLUMNS`` (see ``order_rows``)."""
    column = COLUMNS_BY_KEY[key]
    return order_rows(rows, column.value, column.numeric, reverse)


def select_rows(
    rows: Sequence[ModelRow],
    *,
    pattern: str | None,
    sort: str,
    reverse: bool = False,
    keep: Callable[[ModelRow], bool] | None = None,
) -> list[ModelRow]:
    """Filter (``row_filter``), then ``keep`` (the live table's problems-only), then sort by a
    registry column."""
    chosen = filter_rows(rows, pattern)
    if keep is not None:
        chosen = [r for r in chosen if keep(r)]
    return sort_rows(chosen, sort, reverse)
