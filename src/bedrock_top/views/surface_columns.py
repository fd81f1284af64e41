"""The column registry of each view beside the models table, generated from its ``ViewSpec``:
the same ``Column`` type as the models' registry, so the live table, ``--once`` (table, JSON,
CSV), sorting and ``--help`` read every view the same way. Pure: no Textual, no rich.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Final

from bedrock_top.figures.callers_spec import spec_of
from bedrock_top.figures.surface_rows import SurfaceRow
from bedrock_top.figures.surfaces import (
    DIMENSION_LABELS,
    MODELS_VIEW,
    Measure,
    ViewSpec,
    percentile_keys,
    snake,
    window_key,
)
from bedrock_top.views.columns import (
    COLUMNS_BY_KEY,
    DEFAULT_SORT_LIVE,
    DEFAULT_SORT_ONCE,
    QUOTA_LEVELS,
    SPARK_KEY,
    Column,
    Kind,
    Value,
)

RATE_SUFFIX: Final = "_rate"  # a counter's newest complete minute, per minute


def _value(key: str) -> Callable[[SurfaceRow], Value]:
    return lambda row: row.values.get(key)


def _latest(key: str) -> Callable[[SurfaceRow], Value]:
    return lambda row: row.latest.get(key) if row.full or key in row.latest else None


def _quota_value(key: str) -> Callable[[SurfaceRow], Value]:
    """A quota percentage (0-100 in the row) as a ratio, the pct columns' unit."""

    def value(row: SurfaceRow) -> Value:
        found = row.values.get(key)
        return found / 100 if found is not None else None

    return value


def _quota_unknown(row: SurfaceRow) -> bool:
    return row.quota_unknown


def short_value(value: str) -> str:
    """A dimension value as tables show it: an ARN by its resource id ('AGENT7K2Q9/ALIASPROD1',
    'gr7pii2mask'), a knowledge base by its id; JSON and CSV keep the whole value."""
    if value.startswith("arn:"):
        return value.split("/", 1)[-1]
    return value.removeprefix("knowledge-base/")


def _dimension(name: str) -> Callable[[SurfaceRow], Value]:
    key = snake(name)
    return lambda row: short_value(row.dim(key) or "")


def _measure_columns(measure: Measure, priority: int, rate_priority: int) -> list[Column]:
    """A counter: its rate in the newest minute and its window sum; a mean: its window
    average and percentiles (on demand); a gauge: its newest level."""
    key = window_key(measure)
    if measure.kind == "counter":
        return [
            Column(f"{measure.key}{RATE_SUFFIX}", f"{measure.label}/min", "rate", "minute",
                   _latest(measure.key), rate_priority, f"{measure.description}"),
            Column(key, measure.label, "count", "window", _value(key), priority,
                   measure.description),
            *(
                Column(pkey, f"{measure.label} {stat}", "count", "window", _value(pkey), 8,
                       f"{measure.description}, {stat} of one inference", window_stats=True)
                for stat, pkey in percentile_keys(measure)
            ),
        ]  # fmt: skip
    if measure.kind == "gauge":
        return [Column(key, measure.label, "count", "minute", _value(key), priority,
                       f"{measure.description}, newest complete minute")]  # fmt: skip
    kind: Kind = "latency" if measure.unit == "ms" else "rate"
    label = measure.label if measure.unit == "tokens_per_minute" else f"{measure.label} avg"
    return [
        Column(key, label, kind, "window", _value(key), priority, f"mean {measure.description}"),
        *(
            Column(pkey, f"{measure.label} {stat}", kind, "window", _value(pkey), 8,
                   f"{measure.description}, {stat}", window_stats=True)
            for stat, pkey in percentile_keys(measure)
        ),
    ]  # fmt: skip


@cache
def view_columns(spec: ViewSpec) -> tuple[Column, ...]:
    """Every column of a view: its dimensions, each measure's figures, its ratios, money."""
    columns = [
        Column(snake(name), DIMENSION_LABELS.get(name, name), "text", "", _dimension(name),
               0 if i == 0 else 1, f"{name} dimension")
        for i, name in enumerate(spec.dimensions)
    ]  # fmt: skip
    columns.append(Column("region", "Region", "text", "", lambda r: r.region, 1, "AWS region"))
    # The heartbeat measure stays longest, then the others in the spec's order; per-minute
    # rates of counters other than the heartbeat are for sorting, not the default table.
    for i, measure in enumerate(spec.measures):
        heartbeat = measure.key == spec.heartbeat
        priority = 1 if heartbeat else min(2 + i // 2, 7)
        columns.extend(_measure_columns(measure, priority, 3 if heartbeat else 9))
    for ratio in spec.ratios:
        kind: Kind = "pct" if ratio.percent else "rate"
        columns.append(
            Column(ratio.key, ratio.label, kind, "window" if ratio.percent else "",
                   _value(ratio.key), 2, ratio.description)
        )  # fmt: skip
    for figure in spec.figures:
        columns.append(
            Column(figure.key, figure.label, figure.kind,
                   "" if figure.kind == "count" else "window", _value(figure.key), 2,
                   figure.description)
        )  # fmt: skip
    for quota in spec.quotas:
        key = f"{quota.key}_peak_pct"
        columns.append(
            Column(key, quota.label, "pct", "hour", _quota_value(key), 2,
                   f"{quota.label.removesuffix(' %')} quota used (all projects of the model)",
                   levels=QUOTA_LEVELS, unknown=_quota_unknown)
        )  # fmt: skip
    if spec.priced is not None:
        columns.append(Column("usd_per_hour", "$/h", "usd", "recent", _value("usd_per_hour"), 2,
                              "USD per hour at the token rate"))  # fmt: skip
        columns.append(Column("cost_usd", "$", "usd", "window", _value("cost_usd"), 3,
                              "USD spent"))  # fmt: skip
    return tuple(columns)


def columns_of(view: str) -> Mapping[str, Column]:
    """The registry of ``view`` by key (the models view's is ``columns.COLUMNS_BY_KEY``)."""
    if view == MODELS_VIEW:
        return COLUMNS_BY_KEY
    return {c.key: c for c in view_columns(spec_of(view))}


@cache
def live_columns(spec: ViewSpec) -> tuple[str, ...]:
    """A view's live table: its dimensions, the heartbeat's per-minute rate, every window
    figure but the percentiles (on demand), then the sparkline of its heartbeat measure."""
    keys = [c.key for c in view_columns(spec) if not c.window_stats and c.priority < 9]
    return (*keys, SPARK_KEY)


@cache
def once_columns(spec: ViewSpec) -> tuple[str, ...]:
    """A view's ``--once`` table: its dimensions and window figures (no per-minute rates)."""
    return tuple(c.key for c in view_columns(spec) if c.covers != "minute" or c.kind != "rate")


def sort_default(view: str, once: bool) -> str:
    """The column a view sorts by unless told otherwise."""
    if view == MODELS_VIEW:
        return DEFAULT_SORT_ONCE if once else DEFAULT_SORT_LIVE
    spec = spec_of(view)
    if spec.sort in spec.measure_keys:
        return window_key(spec.measure(spec.sort))
    return spec.sort  # a figure's key
