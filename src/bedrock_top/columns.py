"""Named columns over snapshot rows: one definition serves sorting, ``--once`` and the TUI."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bedrock_top.snapshot import ModelRow

Value = float | str | None


@dataclass(frozen=True, slots=True)
class Column:
    """A column: how to get its value from a row and how it sorts."""

    key: str
    header: str
    get: Callable[[ModelRow], Value]
    numeric: bool = True


def _w(attr: str) -> Callable[[ModelRow], Value]:
    return lambda row: getattr(row.window, attr)


COLUMNS: Final[tuple[Column, ...]] = (
    Column("model", "Model", lambda r: r.model_id, numeric=False),
    Column("provider", "Provider", lambda r: r.info.provider or "", numeric=False),
    Column("profile", "Profile", lambda r: r.info.profile or "", numeric=False),
    Column("region", "Region", lambda r: r.region, numeric=False),
    Column("invocations", "Invocations", _w("invocations")),
    Column("input_tokens", "In tokens", _w("input_tokens")),
    Column("output_tokens", "Out tokens", _w("output_tokens")),
    Column("tokens", "Tokens", lambda r: r.window.input_tokens + r.window.output_tokens),
    Column("cache_read_tokens", "Cache read", _w("cache_read_tokens")),
    Column("cache_write_tokens", "Cache write", _w("cache_write_tokens")),
    Column("cache_hit", "Cache hit", lambda r: r.window.cache_hit_ratio),
    Column("latency_avg", "Lat avg", _w("latency_avg_ms")),
    Column("latency_p50", "Lat p50", _w("latency_p50_ms")),
    Column("latency_p90", "Lat p90", _w("latency_p90_ms")),
    Column("latency_p99", "Lat p99", _w("latency_p99_ms")),
    Column("ttft_avg", "TTFT avg", _w("ttft_avg_ms")),
    Column("ttft_p90", "TTFT p90", _w("ttft_p90_ms")),
    Column("client_errors", "Cli err", _w("client_errors")),
    Column("server_errors", "Srv err", _w("server_errors")),
    Column("errors", "Errors", lambda r: r.window.errors),
    Column("throttles", "Throttles", _w("throttles")),
    Column("error_rate", "Err %", _w("error_rate")),
    Column("throttle_rate", "Thr %", _w("throttle_rate")),
)
COLUMNS_BY_KEY: Final = {c.key: c for c in COLUMNS}
SORT_KEYS: Final = tuple(COLUMNS_BY_KEY)


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


def match_rows(rows: Sequence[ModelRow], regex: re.Pattern[str], negate: bool) -> list[ModelRow]:
    """Rows whose model id or provider matches ``regex`` (the others when ``negate``)."""
    return [
        r
        for r in rows
        if bool(regex.search(r.model_id) or regex.search(r.info.provider or "")) != negate
    ]


def sort_rows(rows: Sequence[ModelRow], key: str, reverse: bool = False) -> list[ModelRow]:
    """Sort by one of ``COLUMNS`` (see ``order_rows``)."""
    column = COLUMNS_BY_KEY[key]
    return order_rows(rows, column.get, column.numeric, reverse)
