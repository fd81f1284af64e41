"""``--once --view NAME`` for the views beside the models table: JSON, CSV and the plain-text
table, each built from the view's column registry, so every output names and writes a figure
the same way.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.surface_quotas import quota_keys
from bedrock_top.figures.surface_rows import SurfaceRow, SurfaceView, view_totals
from bedrock_top.figures.surfaces import percentile_keys, snake, window_key
from bedrock_top.output.render import (
    api_dict,
    fit_text_table,
    iso,
    past_window_lines,
    round_figures,
    text_columns,
    which_window,
    wrap,
)
from bedrock_top.views.surface_columns import once_columns, view_columns


def figure_keys(view: SurfaceView) -> list[str]:
    """The figures of a row, in the order JSON and CSV write them."""
    spec = view.spec
    keys: list[str] = []
    for measure in spec.measures:
        keys.append(window_key(measure))
        keys.extend(key for _, key in percentile_keys(measure))
    keys.extend(ratio.key for ratio in spec.ratios)
    keys.extend(quota_keys(spec.quotas))
    keys.extend(figure.key for figure in spec.figures)
    if spec.priced is not None:
        keys += ["cost_usd", "usd_per_hour"]
    return keys


def _row_dict(view: SurfaceView, row: SurfaceRow) -> dict[str, Any]:
    """A row in the contract's order: region, account, every dimension of the view (null
    where the row has none), then every figure (null where it does not publish it)."""
    found = row.to_dict()
    out: dict[str, Any] = {"region": row.region}
    if row.account is not None:
        out["account"] = row.account
    out.update({snake(d): found.get(snake(d)) for d in view.spec.dimensions})
    out.update({k: found.get(k) for k in figure_keys(view)})
    return round_figures(out, rates=_float_keys(view))


def _float_keys(view: SurfaceView) -> frozenset[str]:
    """Figures written to 1e-6 (ratios, averages that are not latencies, levels): their
    binary noise means nothing."""
    spec = view.spec
    keys = {r.key for r in spec.ratios} | {f.key for f in spec.figures if f.kind == "pct"}
    keys |= {window_key(m) for m in spec.measures if m.kind != "counter" and m.unit != "ms"}
    keys |= {k for m in spec.measures if m.unit != "ms" for _, k in percentile_keys(m)}
    return frozenset(keys)


def view_json_dict(
    snapshot: Snapshot, view: SurfaceView, rows: Sequence[SurfaceRow], api_usd_per_1000: float
) -> dict[str, Any]:
    """The view's contract: ``view``, ``window``, ``rows`` (dimension values under snake_case
    keys, then every figure), ``totals``, ``checks`` (roll-ups), ``unknown_metrics``, ``api``
    and ``warnings``."""
    return {
        "view": view.spec.name,
        "namespace": view.spec.namespace,
        "window": {
            "start": iso(snapshot.window_start),
            "end": iso(snapshot.window_end),
            "period_s": snapshot.period,
            **which_window(snapshot),
        },
        "regions": list(snapshot.regions),
        "rows": [_row_dict(view, r) for r in rows],
        "totals": round_figures(view_totals(view, rows), rates=_float_keys(view)),
        "checks": [c.to_dict() for c in view.checks],
        "unknown_metrics": list(view.unknown),
        "api": _api(snapshot, view, api_usd_per_1000),
        "warnings": [*snapshot.warnings, *view.warnings],
        **({"source": _source(view)} if view.source else {}),
    }


def _api(snapshot: Snapshot, view: SurfaceView, api_usd_per_1000: float) -> dict[str, Any]:
    """The CloudWatch API use, and for a view read from logs what the logs cost too."""
    api = api_dict(snapshot, api_usd_per_1000)
    if view.source:
        logs_usd = float(view.source.get("usd", 0.0))
        api["logs_usd"] = round(logs_usd, 6)
        api["cost_usd"] = round(api["cost_usd"] + logs_usd, 6)
    return api


def _source(view: SurfaceView) -> dict[str, Any]:
    """Where the callers came from: the log group, sampling, the bytes the backfill scanned."""
    keys = ("log_group", "sampled", "bytes_scanned", "records_skipped", "enable_command")
    return {k: view.source.get(k) for k in keys}


def render_view_json(
    snapshot: Snapshot, view: SurfaceView, rows: Sequence[SurfaceRow], api_usd_per_1000: float
) -> str:
    return json.dumps(view_json_dict(snapshot, view, rows, api_usd_per_1000), indent=2) + "\n"


def render_view_csv(view: SurfaceView, rows: Sequence[SurfaceRow]) -> str:
    """One line per row: region, account, the view's dimensions, then every figure."""
    fields = ["region", "account", *(snake(d) for d in view.spec.dimensions), *figure_keys(view)]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=fields, lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        found = _row_dict(view, row)
        writer.writerow({k: "" if found.get(k) is None else found[k] for k in fields})
    return out.getvalue()


def render_view_table(
    snapshot: Snapshot,
    view: SurfaceView,
    rows: Sequence[SurfaceRow],
    width: int | None,
    sort: str,
) -> str:
    """The title, the view's table fitted to ``width`` (None: every column), the API line
    and the warnings (roll-ups that disagree, metrics the view does not know)."""
    spec = view.spec
    window = f"{iso(snapshot.window_start)} .. {iso(snapshot.window_end)}"
    title = (
        f"bedrock-top  {spec.name} ({spec.namespace})  {', '.join(snapshot.regions)}  "
        f"window {window}  period {snapshot.period}s"
    )
    registry = {c.key: c for c in view_columns(spec)}
    keys = [k for k in once_columns(spec) if not registry[k].window_stats]
    if len(snapshot.regions) <= 1:
        keys.remove("region")
    columns = [registry[k] for k in keys if k in registry]
    window_s = snapshot.window_end - snapshot.window_start
    lines = wrap(title, width)
    for line in past_window_lines(snapshot):
        lines.extend(wrap(line, width))
    if rows:
        lines.extend(fit_text_table(text_columns(columns, rows, window_s, sort), width))
    else:
        lines.append(f"no {spec.name} metrics in {spec.namespace} in this window")
    api = snapshot.api
    count = f"{len(rows)} row{'' if len(rows) == 1 else 's'}"
    lines.extend(
        wrap(
            f"{count}; API: {api.get_metric_data_calls} GetMetricData + "
            f"{api.list_metrics_calls} ListMetrics calls, {api.metrics_requested} metrics "
            "requested",
            width,
        )
    )
    for warning in (*snapshot.warnings, *view.warnings):
        lines.extend(wrap(f"warning: {warning}", width))
    return "\n".join(lines) + "\n"
