"""``--once`` output: a rich table for people, JSON and CSV for scripts (a stable contract)."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.table import Table

from bedrock_top.columns import COLUMNS_BY_KEY
from bedrock_top.format import fmt_count, fmt_ms, fmt_pct
from bedrock_top.pricing import api_cost_usd
from bedrock_top.snapshot import ModelRow, Snapshot


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def to_json_dict(
    snapshot: Snapshot, rows: list[ModelRow], api_usd_per_1000: float = 0.01
) -> dict[str, Any]:
    api = snapshot.api
    totals: dict[str, Any] = {k: sum(getattr(r.window, k) for r in rows) for k in snapshot.totals()}
    # Money over the rows with a known price; the others are named, never counted as 0.
    totals["cost_usd"] = sum(r.cost.window_usd for r in rows if r.cost)
    totals["usd_per_hour"] = sum(r.cost.usd_per_hour or 0.0 for r in rows if r.cost)
    totals["unpriced_models"] = sorted({r.model_id for r in rows if r.cost is None})
    return {
        "window": {
            "start": _iso(snapshot.window_start),
            "end": _iso(snapshot.window_end),
            "period_s": snapshot.period,
        },
        "regions": list(snapshot.regions),
        "models": [r.to_dict() for r in rows],
        "totals": totals,
        "api": {
            "requests": api.requests,
            "get_metric_data_calls": api.get_metric_data_calls,
            "list_metrics_calls": api.list_metrics_calls,
            "metrics_requested": api.metrics_requested,
            "cost_usd": api_cost_usd(api.metrics_requested, api_usd_per_1000),
        },
        "warnings": list(snapshot.warnings),
    }


def render_json(snapshot: Snapshot, rows: list[ModelRow], api_usd_per_1000: float = 0.01) -> str:
    return json.dumps(to_json_dict(snapshot, rows, api_usd_per_1000), indent=2) + "\n"


def render_csv(snapshot: Snapshot, rows: list[ModelRow]) -> str:
    out = io.StringIO()
    dicts = [r.to_dict() for r in rows]
    fields = list(ModelRow.csv_fields())
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for d in dicts:
        writer.writerow({k: "" if d.get(k) is None else d.get(k) for k in fields})
    return out.getvalue()


_TABLE_COLUMNS = (
    ("invocations", fmt_count),
    ("input_tokens", fmt_count),
    ("output_tokens", fmt_count),
    ("latency_avg", fmt_ms),
    ("latency_p50", fmt_ms),
    ("latency_p90", fmt_ms),
    ("latency_p99", fmt_ms),
    ("ttft_p90", fmt_ms),
    ("client_errors", fmt_count),
    ("server_errors", fmt_count),
    ("throttles", fmt_count),
    ("error_rate", fmt_pct),
    ("throttle_rate", fmt_pct),
)


def render_table(snapshot: Snapshot, rows: list[ModelRow], console: Console) -> None:
    window = f"{_iso(snapshot.window_start)} .. {_iso(snapshot.window_end)}"
    regions = ", ".join(snapshot.regions)
    table = Table(
        title=f"bedrock-top  {regions}  window {window}  period {snapshot.period}s",
        title_justify="left",
        header_style="bold",
        box=None,
        pad_edge=False,
    )
    multi_region = len(snapshot.regions) > 1
    multi_account = any(r.account for r in rows)
    if multi_region:
        table.add_column("Region", no_wrap=True)
    if multi_account:
        table.add_column("Account", no_wrap=True)
    table.add_column("Model", no_wrap=True, overflow="ellipsis", min_width=24)
    table.add_column("Provider", no_wrap=True)
    table.add_column("Profile", no_wrap=True)
    for key, _ in _TABLE_COLUMNS:
        table.add_column(COLUMNS_BY_KEY[key].header, justify="right", no_wrap=True)
    for row in rows:
        cells = [row.model_id, row.info.provider or "?", row.info.profile or "-"]
        if multi_account:
            cells.insert(0, row.account or "-")
        if multi_region:
            cells.insert(0, row.region)
        for key, fmt in _TABLE_COLUMNS:
            value = COLUMNS_BY_KEY[key].get(row)
            cells.append(fmt(value if isinstance(value, int | float) else None))
        table.add_row(*cells)
    console.print(table)
    api = snapshot.api
    console.print(
        f"{len(rows)} models; API: {api.get_metric_data_calls} GetMetricData + "
        f"{api.list_metrics_calls} ListMetrics calls, {api.metrics_requested} metrics requested",
        style="dim",
    )
    for warning in snapshot.warnings:
        console.print(f"warning: {warning}", style="yellow")
