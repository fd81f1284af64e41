"""``--once`` output: a plain-text table for people, JSON and CSV for scripts (a stable contract).

The table is plain ``str`` (no rich): a pipe gets exactly what a terminal shows, and a number
is never cut to fit; a narrow terminal loses whole columns instead.
"""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bedrock_top.figures.pricing import api_cost_usd
from bedrock_top.figures.quota_usage import MINUTE, daily_dict, minute_starts
from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.figures.totals import quota_worst
from bedrock_top.views.cells import choose_style, row_cell
from bedrock_top.views.columns import (
    COLUMNS_BY_KEY,
    DEFAULT_SORT_ONCE,
    ONCE_DEFAULT,
    Column,
    header,
)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


# --- JSON and CSV -------------------------------------------------------------------------

# Decimals kept in JSON/CSV: sums of float prices and Sum / SampleCount averages carry binary
# noise (0.06813960000000001) that means nothing and breaks diffs of two outputs.
MONEY_DECIMALS = 6  # 1e-6 USD
MS_DECIMALS = 1  # 0.1 ms
RATE_DECIMALS = 6  # error_rate, throttle_rate
MONEY_KEYS = frozenset({"cost_usd", "usd_per_hour", "cache_savings_usd"})
RATE_KEYS = frozenset({"error_rate", "throttle_rate"})
PCT_DECIMALS = 3  # quota percentages (0-100) and quota figures (limits, tokens, requests)
QUOTA_KEYS = frozenset({"limit", "peak", "last", "used", "pct"})


def _decimals(key: str) -> int | None:
    """How many decimals a float field keeps (None: not rounded)."""
    if key in MONEY_KEYS:
        return MONEY_DECIMALS
    if key in RATE_KEYS:
        return RATE_DECIMALS
    if key.endswith("_ms"):
        return MS_DECIMALS
    if key.endswith("_pct") or key in QUOTA_KEYS:
        return PCT_DECIMALS
    return None


def round_figures(values: Mapping[str, Any], rates: frozenset[str] = RATE_KEYS) -> dict[str, Any]:
    """A copy of ``values`` with its money, rate (``rates``) and millisecond floats rounded
    (see ``MONEY_DECIMALS``); ints, None and text are kept as they are."""
    out = dict(values)
    for key, value in values.items():
        if isinstance(value, Mapping):  # the quota figures of a row
            out[key] = round_figures(value)
            continue
        n = RATE_DECIMALS if key in rates else _decimals(key)
        if n is not None and isinstance(value, float):
            out[key] = round(value, n)
    return out


def quota_totals(snapshot: Snapshot, rows: Sequence[ModelRow]) -> dict[str, Any]:
    """The fullest quota of any row (``quota_worst``) and the account-wide daily quota
    (``tpd_account``: the fullest region's when several are shown)."""
    found = quota_worst(rows)
    worst = None
    if found is not None:
        row, kind, pct = found
        worst = {"region": row.region, "model_id": row.model_id, "kind": kind, "pct": pct}
    daily = max(snapshot.tpd_account.values(), key=lambda d: d.used_pct, default=None)
    return {"quota_worst": worst, "tpd_account": daily_dict(daily)}


def to_json_dict(
    snapshot: Snapshot,
    rows: list[ModelRow],
    api_usd_per_1000: float = 0.01,
    alerts: Sequence[Mapping[str, object]] = (),
) -> dict[str, Any]:
    """The --once JSON contract; ``alerts``: the alert records active at the snapshot
    (``output.alert_json.active_records``)."""
    totals: dict[str, Any] = {k: sum(getattr(r.window, k) for r in rows) for k in snapshot.totals()}
    # Money over the rows with a known price; the others are named, never counted as 0.
    totals["cost_usd"] = sum(r.cost.window_usd for r in rows if r.cost)
    totals["usd_per_hour"] = sum(r.cost.usd_per_hour or 0.0 for r in rows if r.cost)
    totals["unpriced_models"] = sorted({r.model_id for r in rows if r.cost is None})
    totals.update(quota_totals(snapshot, rows))
    minutes = minute_starts(snapshot.complete_until)
    return {
        "window": {
            "start": iso(snapshot.window_start),
            "end": iso(snapshot.window_end),
            "period_s": snapshot.period,
            # the minutes every quota peak and last figure read (1-minute, always)
            "quota_minutes": {"start": iso(minutes[0]), "end": iso(minutes[-1] + MINUTE)},
            **which_window(snapshot),
        },
        "regions": list(snapshot.regions),
        "models": [round_figures(r.to_dict()) for r in rows],
        "totals": round_figures(totals),
        "api": api_dict(snapshot, api_usd_per_1000),
        "warnings": [*snapshot.warnings, *(f"{r}: {e}" for r, e in snapshot.quota_errors.items())],
        "alerts": [dict(a) for a in alerts],
    }


def which_window(snapshot: Snapshot) -> dict[str, Any]:
    """The ``window`` keys saying whether it is live; a past window (--end) also gives the
    moment asked for (before alignment to the period) and why its period is coarser than
    asked (null: it is not)."""
    if snapshot.requested_end is None:
        return {"live": True}
    return {
        "live": False,
        "requested_end": iso(snapshot.requested_end),
        "period_note": snapshot.period_note,
    }


def past_window_lines(snapshot: Snapshot) -> list[str]:
    """For a past window, the line that says so under the title (and the period's note)."""
    if snapshot.requested_end is None:
        return []
    start = datetime.fromtimestamp(snapshot.window_start, UTC)
    end = datetime.fromtimestamp(snapshot.window_end, UTC)
    same_day = start.date() == end.date() or end == end.replace(hour=0, minute=0, second=0)
    span = (
        f"{start:%Y-%m-%d %H:%M}\u2013{end:%H:%M}"
        if same_day and end - start < timedelta(days=1)
        else f"{start:%Y-%m-%d %H:%M} \u2013 {end:%Y-%m-%d %H:%M}"
    )
    lines = [f"window {span} UTC (past window)"]
    if snapshot.period_note:
        lines.append(f"note: {snapshot.period_note}")
    return lines


def api_dict(snapshot: Snapshot, api_usd_per_1000: float) -> dict[str, Any]:
    """What the run asked of CloudWatch and what that cost (every view's JSON has it)."""
    api = snapshot.api
    return round_figures(
        {
            "requests": api.requests,
            "get_metric_data_calls": api.get_metric_data_calls,
            "list_metrics_calls": api.list_metrics_calls,
            "metrics_requested": api.metrics_requested,
            "cost_usd": api_cost_usd(api.metrics_requested, api_usd_per_1000),
        }
    )


def render_json(
    snapshot: Snapshot,
    rows: list[ModelRow],
    api_usd_per_1000: float = 0.01,
    alerts: Sequence[Mapping[str, object]] = (),
) -> str:
    return json.dumps(to_json_dict(snapshot, rows, api_usd_per_1000, alerts), indent=2) + "\n"


def render_csv(snapshot: Snapshot, rows: list[ModelRow]) -> str:
    out = io.StringIO()
    dicts = [round_figures(r.to_dict()) for r in rows]
    fields = list(ModelRow.csv_fields())
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row, d in zip(rows, dicts, strict=True):
        d.update(round_figures(row.quota_csv()))
        writer.writerow({k: "" if d.get(k) is None else d.get(k) for k in fields})
    return out.getvalue()


# --- the plain-text table -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextColumn:
    """One column of a plain-text table, already formatted."""

    header: str
    cells: list[str]
    right: bool = True  # numbers right-aligned
    priority: int = 5  # lower survives longer when the width is short; 0 is never dropped


def fit_text_table(columns: Sequence[TextColumn], width: int | None, gap: int = 2) -> list[str]:
    """The header line and one line per row, every cell whole.

    Each column is as wide as its widest cell or header. While the lines are wider than
    ``width``, whole columns go, the highest ``priority`` number first (ties: the rightmost
    first); the first column and priority-0 columns always stay, even if that leaves a line
    wider than ``width`` (a long line is better than a cut id). ``width`` None: no limit
    (piped output). Lines carry no trailing spaces.
    """
    if not columns:
        return []
    count = len(columns[0].cells)
    if any(len(c.cells) != count for c in columns):
        raise ValueError("fit_text_table: every column needs the same number of cells")
    widths = [max([len(c.header), *(len(cell) for cell in c.cells)]) for c in columns]
    kept = list(range(len(columns)))

    def total() -> int:
        return sum(widths[i] for i in kept) + gap * (len(kept) - 1)

    droppable = [i for i in kept if i > 0 and columns[i].priority > 0]
    droppable.sort(key=lambda i: (columns[i].priority, i), reverse=True)
    for i in droppable:
        if width is None or total() <= width:
            break
        kept.remove(i)

    def line(texts: Sequence[str]) -> str:
        parts = []
        for i, text in zip(kept, texts, strict=True):
            pad = widths[i]
            parts.append(text.rjust(pad) if columns[i].right else text.ljust(pad))
        return (" " * gap).join(parts).rstrip()

    lines = [line([columns[i].header for i in kept])]
    lines.extend(line([columns[i].cells[r] for i in kept]) for r in range(count))
    return lines


# The columns of the ``--once`` table, in order, from the one registry. Region shows only
# with several regions and Account only when a row has one (see ``render_table``).
ONCE_COLUMNS: tuple[Column, ...] = tuple(COLUMNS_BY_KEY[key] for key in ONCE_DEFAULT)


def once_text_columns(
    snapshot: Snapshot, rows: Sequence[ModelRow], sort: str = DEFAULT_SORT_ONCE
) -> list[TextColumn]:
    """``ONCE_COLUMNS`` written for ``rows``: one style per column (exact counts, one
    latency unit named in the header), every cell whole; the sort column is never dropped."""
    hidden = set()
    if len(snapshot.regions) <= 1:
        hidden.add("region")
    if not any(r.account for r in rows):
        hidden.add("account")
    window_s = snapshot.window_end - snapshot.window_start
    shown = [c for c in ONCE_COLUMNS if c.key not in hidden]
    return text_columns(shown, rows, window_s, sort)


def text_columns(
    columns: Sequence[Column], rows: Sequence[Any], window_s: int, sort: str
) -> list[TextColumn]:
    """Registry ``columns`` written for ``rows`` of any view (see ``once_text_columns``)."""
    out = []
    for col in columns:
        style = choose_style(col, [col.value(r) for r in rows])
        texts = [row_cell(col, r, style) or "-" for r in rows]
        head = header(col, style.unit if col.kind == "latency" else "", window_s)
        priority = 0 if col.key == sort else col.priority
        out.append(TextColumn(head, texts, right=col.numeric, priority=priority))
    return out


def wrap(text: str, width: int | None) -> list[str]:
    """``text`` as lines of at most ``width`` (None: one line), broken at spaces only."""
    if width is None:
        return [text]
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False) or [""]


def render_table(
    snapshot: Snapshot, rows: Sequence[ModelRow], width: int | None, sort: str = DEFAULT_SORT_ONCE
) -> str:
    """The title, the table fitted to ``width`` (None: every column, for a pipe), the API
    line and the warnings, as plain text ending in a newline."""
    window = f"{iso(snapshot.window_start)} .. {iso(snapshot.window_end)}"
    regions = ", ".join(snapshot.regions)
    title = f"bedrock-top  {regions}  window {window}  period {snapshot.period}s"
    api = snapshot.api
    summary = (
        f"{len(rows)} models; API: {api.get_metric_data_calls} GetMetricData + "
        f"{api.list_metrics_calls} ListMetrics calls, {api.metrics_requested} metrics requested"
    )
    lines = wrap(title, width)
    for line in past_window_lines(snapshot):
        lines.extend(wrap(line, width))
    lines.extend(fit_text_table(once_text_columns(snapshot, rows, sort), width))
    lines.extend(wrap(summary, width))
    for warning in snapshot.warnings:
        lines.extend(wrap(f"warning: {warning}", width))
    return "\n".join(lines) + "\n"
