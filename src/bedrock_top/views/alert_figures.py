"""What an alert rule reads of a Snapshot: one figure per row of its view (or their total).

A rule's figure is any numeric column of its view's registry (``views.columns`` for the
models view, ``views.surface_columns`` for the others), read with the column's own
``value``, plus, in the models view, the alert figures of ``ALERT_FIGURES`` (throttles and
errors per minute, the error rate of the newest complete period, the spike score).

Units are those a person writes in a rule: every percent figure is compared in percent
(80 = 80 %). The registries keep every "pct" column as a ratio (0.8: ``cache_hit``,
``error_rate``, ``throttle_rate``, the views' ratios and the callers' ``share``; the quota
columns divide the quota figures' 0-100 by 100), so a pct figure is multiplied by 100 here,
whatever the column. Money is in USD, latency in ms, per-minute rates per minute.

``index`` judges an earlier complete period (``replay``): figures of the newest complete
minute are read from the rows' per-period series at that index; figures that cover the
window, the recent 15 minutes, the busiest minute of the hour or the day are the same at
every index (a snapshot holds them only as they are now).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from bedrock_top.figures.alert_rules import AlertRule, Observation, Subject
from bedrock_top.figures.alert_state import DEFAULT_MAX_HISTORY, AlertBook
from bedrock_top.figures.callers_spec import spec_of
from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.figures.spikes import DEFAULT_RULES, SpikeRules, spike_score
from bedrock_top.figures.surface_rows import SurfaceRow, SurfaceView
from bedrock_top.figures.surfaces import MODELS_VIEW, ViewSpec, snake, window_key
from bedrock_top.views.columns import COLUMNS_BY_KEY, Column
from bedrock_top.views.rows import row_filter
from bedrock_top.views.surface_columns import RATE_SUFFIX, view_columns

FigureKind = Literal["count", "rate", "latency", "pct", "usd", "score"]
TOTAL_ROW: Final = "total"  # Subject.row_id of a rule's total over its rows
DEFAULT_MIN_REQUESTS: Final = 10


@dataclass(frozen=True, slots=True)
class AlertFigure:
    """A figure a rule can read: a registry column's, or one only alerts use."""

    key: str
    label: str  # words in messages ("throttles"), the unit comes from ``kind``
    kind: FigureKind
    description: str
    covers: str = "minute"  # as the registry's ``Column.covers``
    additive: bool = False  # a total over rows means something (counts, rates, money)


ALERT_FIGURES: Final[tuple[AlertFigure, ...]] = (
    AlertFigure("thr_min", "throttles", "rate",
                "throttled requests per minute in the newest complete period", additive=True),
    AlertFigure("err_min", "errors", "rate",
                "client + server errors per minute in the newest complete period",
                additive=True),
    AlertFigure("err_rate_min", "error rate", "pct",
                "errors / invocations of the newest complete period, in percent; none when "
                "that period had fewer than min_requests invocations"),
    AlertFigure("spike", "spike score", "score",
                "how far the newest complete period is above its own baseline, in units of "
                "the spike threshold (above 1: a spike, as the in-app spike notices judge)"),
)  # fmt: skip
ALERT_FIGURES_BY_KEY: Final = {f.key: f for f in ALERT_FIGURES}
ADDITIVE_KINDS: Final = frozenset({"count", "rate", "usd"})

# The models registry's newest-minute columns: (series, counter?) read at an earlier index.
MINUTE_SERIES: Final[Mapping[str, tuple[str, bool]]] = {
    "inv_rate": ("invocations", True),
    "in_rate": ("input_tokens", True),
    "out_rate": ("output_tokens", True),
    "lat_avg": ("latency_avg", False),
    "lat_p90": ("latency_p90", False),
    "lat_ttft": ("ttft_p90", False),
}


def _label(column: Column) -> str:
    """A column's label as message words: the unit is written with the value ("Inv 12/min",
    "Quota 93.2%", "spend/h $53.22")."""
    if column.kind == "usd":
        return "spend/h" if column.label == "$/h" else "cost"
    if column.kind == "pct":
        return column.label.removesuffix(" %")
    return column.label.removesuffix("/min") if column.kind == "rate" else column.label


def _from_column(column: Column, ratios: frozenset[str] = frozenset()) -> AlertFigure:
    additive = column.kind in ADDITIVE_KINDS and column.key not in ratios
    kind: FigureKind = "count" if column.kind == "text" else column.kind  # numeric only
    return AlertFigure(
        column.key, _label(column), kind, column.description, column.covers, additive
    )


def _registry(view: str, spec: ViewSpec | None = None) -> tuple[tuple[Column, ...], frozenset[str]]:
    """A view's columns and the keys of its quotients (ratios that are not percentages)."""
    if view == MODELS_VIEW:
        return tuple(COLUMNS_BY_KEY.values()), frozenset()
    spec = spec or spec_of(view)
    return view_columns(spec), frozenset(r.key for r in spec.ratios)


def figures_of(view: str, spec: ViewSpec | None = None) -> dict[str, AlertFigure]:
    """Every figure a rule of ``view`` can read, by key: the registry's numeric columns, and
    in the models view the alert figures. ``spec``: the view's (the callers' depends on
    --group-by; by default ``callers_spec.spec_of``'s)."""
    columns, ratios = _registry(view, spec)
    out = {c.key: _from_column(c, ratios) for c in columns if c.numeric}
    if view == MODELS_VIEW:
        out.update(ALERT_FIGURES_BY_KEY)
    return out


def text_keys(view: str) -> tuple[str, ...]:
    """The view's text columns (names, not figures: no rule can compare them)."""
    return tuple(c.key for c in _registry(view)[0] if not c.numeric)


def describe(view: str, figure: str) -> tuple[str, str]:
    """(label, kind) of a figure for messages; the key itself when unknown."""
    found = figures_of(view).get(figure)
    return (found.label, found.kind) if found is not None else (figure, "count")


def new_book(rules: Sequence[AlertRule], max_history: int = DEFAULT_MAX_HISTORY) -> AlertBook:
    """An AlertBook whose messages name figures as the registries do."""
    return AlertBook(rules, max_history, describe=describe)


def views_needed(rules: Sequence[AlertRule]) -> tuple[str, ...]:
    """The views the enabled rules read (a poller must poll them in full, not a heartbeat)."""
    return tuple(dict.fromkeys(r.view for r in rules if r.enabled))


# --- reading ------------------------------------------------------------------------------

Read = Callable[[Any], float | None]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _at(series: Sequence[float | None], idx: int) -> float | None:
    return series[idx] if 0 <= idx < len(series) else None


def _per_minute(row: ModelRow, keys: tuple[str, ...], idx: int, period: int) -> float | None:
    """A counter (several summed) in period ``idx`` per minute; no data is 0."""
    if idx < 0:
        return None
    return sum(_at(row.series[k], idx) or 0.0 for k in keys) * 60 / period


def _error_rate(row: ModelRow, idx: int, min_requests: int) -> float | None:
    if idx < 0:
        return None
    requests = _at(row.series["invocations"], idx) or 0.0
    if requests <= 0 or requests < min_requests:
        return None
    errors = sum(_at(row.series[k], idx) or 0.0 for k in ("client_errors", "server_errors"))
    return errors / requests * 100


@dataclass(frozen=True, slots=True)
class _Context:
    snapshot: Snapshot
    idx: int  # the complete period judged (-1: none)
    earlier: bool  # idx is not the newest complete period
    min_requests: int
    spike_rules: SpikeRules


def _model_reader(figure: str, ctx: _Context) -> Read | None:
    """How to read ``figure`` of a ModelRow (None: not a figure of the models view)."""
    period, idx = ctx.snapshot.period, ctx.idx
    if figure == "thr_min":
        return lambda row: _per_minute(row, ("throttles",), idx, period)
    if figure == "err_min":
        return lambda row: _per_minute(row, ("client_errors", "server_errors"), idx, period)
    if figure == "err_rate_min":
        return lambda row: _error_rate(row, idx, ctx.min_requests)
    if figure == "spike":
        return lambda row: spike_score(row, idx, ctx.spike_rules) if idx >= 0 else None
    column = COLUMNS_BY_KEY.get(figure)
    if column is None or not column.numeric:
        return None
    if ctx.earlier and figure in MINUTE_SERIES:
        key, counter = MINUTE_SERIES[figure]
        if counter:
            return lambda row: _per_minute(row, (key,), idx, period)
        return lambda row: _at(row.series[key], idx)
    return _scaled(column)


def _scaled(column: Column) -> Read:
    """The column's value as a number, percent figures in percent."""
    scale = 100.0 if column.kind == "pct" else 1.0
    value = column.value

    def read(row: Any) -> float | None:
        found = _number(value(row))
        return found * scale if found is not None else None

    return read


def _surface_reader(spec: ViewSpec, figure: str, ctx: _Context) -> Read | None:
    """How to read ``figure`` of a view's SurfaceRow (None: not a figure of that view)."""
    column = {c.key: c for c in view_columns(spec)}.get(figure)
    if column is None or not column.numeric:
        return None
    if ctx.earlier and column.covers == "minute":
        period, idx = ctx.snapshot.period, ctx.idx
        for measure in spec.measures:
            if measure.kind == "counter" and figure == measure.key + RATE_SUFFIX:
                return lambda row: _surface_rate(row, measure.key, idx, period)
            if measure.kind == "gauge" and figure == window_key(measure):
                return lambda row: _surface_level(row, measure.key, idx)
    return _scaled(column)


def _surface_rate(row: SurfaceRow, key: str, idx: int, period: int) -> float | None:
    series = row.series.get(key)
    if series is None:
        return None  # not polled for this row (a heartbeat): unknown, not 0
    return (_at(series, idx) or 0.0) * 60 / period


def _surface_level(row: SurfaceRow, key: str, idx: int) -> float | None:
    """A gauge at ``idx``: the newest level at or before it (a level holds between datums)."""
    series = row.series.get(key, ())
    for value in reversed(series[: idx + 1]):
        if value is not None:
            return value
    return None


def model_subject(row: ModelRow) -> Subject:
    keys = {"model_id": row.model_id}
    if row.account is not None:
        keys["account"] = row.account
    return Subject(MODELS_VIEW, row.region, row.model_id, row.key, keys)


def surface_subject(row: SurfaceRow) -> Subject:
    keys = {snake(name): value for name, value in row.dims}
    if row.account is not None:
        keys["account"] = row.account
    return Subject(row.view, row.region, row.model_id, row.key, keys)


def total_subject(view: str) -> Subject:
    return Subject(view, "", TOTAL_ROW, "")


def observe(
    snapshot: Snapshot,
    rules: Sequence[AlertRule],
    *,
    min_requests: int = DEFAULT_MIN_REQUESTS,
    index: int | None = None,
    spike_rules: SpikeRules = DEFAULT_RULES,
) -> list[Observation]:
    """Every enabled rule's figure of every row of its view that its filter keeps (the same
    filter as --filter), or one total over those rows (None when no row has the figure).
    ``index``: judge that complete period instead of the newest (see the module docstring).
    A view the snapshot does not hold gives no observations (its subjects count as false)."""
    latest = snapshot.latest_complete_index
    idx = latest if index is None else index
    ctx = _Context(snapshot, idx, idx != latest, min_requests, spike_rules)
    subjects: dict[str, Subject] = {}
    out: list[Observation] = []
    for rule in rules:
        if not rule.enabled:
            continue
        found = _rows_and_reader(snapshot, rule, ctx)
        if found is None:
            continue
        rows, read, subject_of = found
        keep = row_filter(rule.filter)
        kept = [r for r in rows if keep(r)] if keep is not None else rows
        if rule.total:
            values = [v for r in kept if (v := read(r)) is not None]
            total = sum(values) if values else None
            out.append(Observation(rule, total_subject(rule.view), total))
            continue
        for row in kept:
            subject = subjects.get(row.key)
            if subject is None:
                subject = subjects[row.key] = subject_of(row)
            out.append(Observation(rule, subject, read(row)))
    return out


def _rows_and_reader(
    snapshot: Snapshot, rule: AlertRule, ctx: _Context
) -> tuple[Sequence[Any], Read, Callable[[Any], Subject]] | None:
    if rule.view == MODELS_VIEW:
        read = _model_reader(rule.figure, ctx)
        return None if read is None else (snapshot.rows, read, model_subject)
    view: SurfaceView | None = snapshot.surfaces.get(rule.view)
    if view is None:
        return None
    read = _surface_reader(view.spec, rule.figure, ctx)
    return None if read is None else (view.rows, read, surface_subject)


def replay(
    snapshot: Snapshot,
    rules: Sequence[AlertRule],
    *,
    min_requests: int = DEFAULT_MIN_REQUESTS,
    spike_rules: SpikeRules = DEFAULT_RULES,
) -> AlertBook:
    """A fresh book fed the snapshot's recent complete periods in order (each judged at its
    end), so one poll (``--once``) knows what has held for ``for`` already: its ``active()``
    are the alerts active at the snapshot's newest complete period.

    The span is the longest ``for + clear`` of the enabled rules plus one period (capped by
    the window): an alert that stopped holding less than ``clear`` ago is still active, as
    in the live monitor. Figures that are not per period are the same at every step.
    """
    book = new_book(rules)
    latest = snapshot.latest_complete_index
    if latest < 0:
        return book
    span = max((r.for_s + r.clear_s for r in rules if r.enabled), default=0) + snapshot.period
    count = -(-span // snapshot.period)
    for idx in range(max(0, latest - count + 1), latest + 1):
        at = snapshot.window_start + (idx + 1) * snapshot.period
        found = observe(
            snapshot, rules, min_requests=min_requests, index=idx, spike_rules=spike_rules
        )
        book.step(at, found)
    return book
