"""The callers view as data: who is spending, from Bedrock's model invocation logs.

Its rows come from the logs (a Logs Insights backfill, then Live Tail), not from CloudWatch
metrics, but it is described and shown like every other view: the same column registry,
filter and sort, table, detail, CSV and JSON. What makes a row depends on ``--group-by``:
the caller (``identity.arn``), the caller and the model, or one ``requestMetadata`` key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, Final

from bedrock_top.figures.callers import CallerRow, GroupBy
from bedrock_top.figures.surface_rows import SurfaceRow, SurfaceView
from bedrock_top.figures.surfaces import (
    CALLERS_VIEW,
    SURFACES_BY_NAME,
    Figure,
    Measure,
    ViewSpec,
)

LOG_GROUP_DIMENSION: Final = "Caller"


def _counter(key: str, label: str, what: str) -> Measure:
    return Measure(key, (key,), "counter", label, what)


_MEASURES: Final = (
    _counter("invocations", "Inv", "requests logged"),
    _counter("input_tokens", "In tok", "input tokens"),
    _counter("output_tokens", "Out tok", "output tokens"),
    _counter("cache_read_tokens", "Cache rd", "cache read tokens"),
    _counter("cache_write_tokens", "Cache wr", "cache write tokens"),
)
_FIGURES: Final = (
    Figure("cost_usd", "$", "usd", "USD spent at on-demand prices (every model of the row)"),
    Figure("share", "Share", "pct", "share of the total cost (of tokens when unpriced)"),
    Figure("models", "Models", "count", "models the row used"),
)


@cache
def callers_spec(group_by: str = "caller") -> ViewSpec:
    """The callers view grouped by ``group_by``: "caller", "caller+model" or
    "metadata.<key>" (checked by ``callers.parse_group_by``)."""
    if group_by == "caller":
        level: tuple[str, ...] = (LOG_GROUP_DIMENSION,)
    elif group_by == "caller+model":
        level = (LOG_GROUP_DIMENSION, "ModelId")
    else:
        level = (group_by.removeprefix("metadata."),)
    return ViewSpec(
        name=CALLERS_VIEW,
        title="Callers (model invocation logs)",
        namespace="model invocation logs",
        levels=(level,),
        measures=_MEASURES,
        heartbeat="invocations",
        sort="cost_usd",  # who is spending
        spark="invocations",
        figures=_FIGURES,
    )


def spec_of(view: str, group_by: str = "caller") -> ViewSpec:
    """Any view's spec but the models': a CloudWatch view, or the callers."""
    if view == CALLERS_VIEW:
        return callers_spec(group_by)
    return SURFACES_BY_NAME[view]


def _dims(spec: ViewSpec, row: CallerRow) -> tuple[tuple[str, str], ...]:
    return tuple(zip(spec.levels[0], row.group, strict=True))


def callers_view(
    region: str,
    group_by: GroupBy,
    rows: Sequence[CallerRow],
    source: Mapping[str, Any],
    notes: tuple[str, ...] = (),
) -> SurfaceView:
    """The aggregated callers as a view's rows: the same row type, columns and outputs as
    every other view (``share`` as a fraction, ``models`` as a count)."""
    spec = callers_spec(group_by.option)
    out = []
    for row in rows:
        values: dict[str, float | None] = {
            "invocations": row.invocations,
            "input_tokens": row.input_tokens,
            "output_tokens": row.output_tokens,
            "cache_read_tokens": row.cache_read_tokens,
            "cache_write_tokens": row.cache_write_tokens,
            "cost_usd": row.cost_usd,
            "share": row.share,
            "models": len(row.models),
        }
        out.append(
            SurfaceRow(
                CALLERS_VIEW,
                region,
                None,
                _dims(spec, row),
                values,
                latest={"invocations": row.latest_rate},
                series={"invocations": row.series},
                published=frozenset(spec.measure_keys),
                full=True,
            )
        )
    return SurfaceView(spec, tuple(out), full=True, source=dict(source), notes=notes)
