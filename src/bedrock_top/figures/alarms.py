"""CloudWatch alarms people already set on Bedrock metrics, as data: which model (or surface
row) each one watches, the worst state among several, and one line that says what it checks.

bedrock-top only reads alarms (``cloudwatch.alarms``); its own rules stay its own. An alarm
may read one metric or, with metric math, several: a ModelId dimension in any of them ties
it to that model, and one without any dimension watches the whole account.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Final

from bedrock_top.figures.catalog import MODEL_DIMENSION, NAMESPACE
from bedrock_top.figures.snapshot import ModelRow
from bedrock_top.figures.surfaces import SURFACES

# AWS/Bedrock and every view's namespace (AWS/Bedrock/Agents, AWS/BedrockMantle, ...).
BEDROCK_NAMESPACES: Final = frozenset({NAMESPACE, *(s.namespace for s in SURFACES)})

ALARM: Final = "ALARM"
INSUFFICIENT_DATA: Final = "INSUFFICIENT_DATA"
OK: Final = "OK"
# Worst first; a state CloudWatch may add later ranks with INSUFFICIENT_DATA (unknown).
_RANK: Final = MappingProxyType({OK: 0, INSUFFICIENT_DATA: 1, ALARM: 2})
MARKERS: Final = MappingProxyType({ALARM: "!", INSUFFICIENT_DATA: "?", OK: "✓"})

COMPARISON_SYMBOLS: Final = MappingProxyType(
    {
        "GreaterThanThreshold": ">",
        "GreaterThanOrEqualToThreshold": ">=",
        "LessThanThreshold": "<",
        "LessThanOrEqualToThreshold": "<=",
        # Anomaly detection: the threshold is a band (ThresholdMetricId), not a number.
        "LessThanLowerOrGreaterThanUpperThreshold": "outside the band",
        "LessThanLowerThreshold": "below the band",
        "GreaterThanUpperThreshold": "above the band",
    }
)

TIMES: Final = "\N{MULTIPLICATION SIGN}"  # three periods of 60 s: 3 TIMES 60s

Dimensions = tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class AlarmMetric:
    """One entry of a metric-math alarm's ``Metrics``: a metric it reads or an expression."""

    id: str
    namespace: str | None = None
    metric_name: str | None = None
    stat: str | None = None
    period_s: int | None = None
    dimensions: Dimensions = ()
    expression: str | None = None
    return_data: bool = False


@dataclass(frozen=True, slots=True)
class Alarm:
    """One CloudWatch metric alarm (DescribeAlarms ``MetricAlarms`` entry), read-only."""

    name: str
    arn: str
    state: str  # "OK", "ALARM" or "INSUFFICIENT_DATA"
    state_reason: str
    state_updated: float | None  # epoch seconds
    namespace: str | None  # None for a metric-math alarm: see ``metrics``
    metric_name: str | None  # None for a metric-math alarm
    statistic: str | None  # Sum, Average, ...
    extended_statistic: str | None  # p90, ...
    comparison: str  # CloudWatch ComparisonOperator
    threshold: float | None  # None for an anomaly-detection band
    period_s: int | None
    evaluation_periods: int
    datapoints_to_alarm: int | None  # None: every evaluation period must breach
    dimensions: Dimensions
    actions_enabled: bool
    metrics: tuple[AlarmMetric, ...] = ()  # metric math: what it reads and computes
    threshold_metric_id: str | None = None  # anomaly detection: the band's id

    @property
    def symbol(self) -> str:
        """The comparison as ">", ">=", "<", "<=", or the anomaly band in words."""
        return COMPARISON_SYMBOLS.get(self.comparison, self.comparison)

    @property
    def stat(self) -> str | None:
        return self.extended_statistic or self.statistic

    @property
    def namespaces(self) -> frozenset[str]:
        """Every namespace it reads (one, or those of its math metrics)."""
        found = {m.namespace for m in self.metrics if m.namespace}
        if self.namespace:
            found.add(self.namespace)
        return frozenset(found)

    def dimension_sets(self) -> tuple[tuple[str | None, Dimensions], ...]:
        """(namespace, dimensions) of every metric it reads."""
        own = ((self.namespace, self.dimensions),) if self.metric_name else ()
        return own + tuple((m.namespace, m.dimensions) for m in self.metrics if m.metric_name)

    def values_of(self, dimension: str, namespace: str | None = None) -> tuple[str, ...]:
        """The values of ``dimension`` in any metric it reads (of ``namespace`` if given)."""
        values = (
            value
            for ns, dims in self.dimension_sets()
            if namespace is None or ns == namespace
            for name, value in dims
            if name == dimension
        )
        return tuple(dict.fromkeys(values))

    @property
    def model_ids(self) -> tuple[str, ...]:
        """The models it watches: ModelId values of its AWS/Bedrock metrics."""
        return self.values_of(MODEL_DIMENSION, NAMESPACE)

    @property
    def account_wide(self) -> bool:
        """It reads only metrics without dimensions: the whole namespace, every model."""
        sets = self.dimension_sets()
        return bool(sets) and all(not dims for _, dims in sets)


def rank(state: str) -> int:
    return _RANK.get(state, _RANK[INSUFFICIENT_DATA])


def worst_state(alarms: Iterable[Alarm]) -> str | None:
    """ALARM > INSUFFICIENT_DATA > OK; None for no alarm."""
    states = [a.state for a in alarms]
    return max(states, key=rank) if states else None


def ordered(alarms: Iterable[Alarm]) -> tuple[Alarm, ...]:
    """Worst state first, then by name: the order a list of alarms is shown in."""
    return tuple(sorted(alarms, key=lambda a: (-rank(a.state), a.name)))


def alarms_by_model(alarms: Iterable[Alarm]) -> Mapping[str, tuple[Alarm, ...]]:
    """The alarms of each model id (worst first); an alarm on several models is under each."""
    found: dict[str, list[Alarm]] = {}
    for alarm in alarms:
        for model_id in alarm.model_ids:
            found.setdefault(model_id, []).append(alarm)
    return MappingProxyType({model: ordered(group) for model, group in found.items()})


def account_wide(alarms: Iterable[Alarm]) -> tuple[Alarm, ...]:
    """Alarms on a whole namespace (no dimension at all), worst first."""
    return ordered(a for a in alarms if a.account_wide)


def alarms_for_row(
    alarms: Iterable[Alarm], namespace: str, dimensions: Mapping[str, str]
) -> tuple[Alarm, ...]:
    """The alarms on a row of a view (its namespace, its dimension values): those reading a
    metric of that namespace whose dimensions are all among the row's, worst first."""
    row = set(dimensions.items())
    return ordered(
        a
        for a in alarms
        if any(ns == namespace and dims and set(dims) <= row for ns, dims in a.dimension_sets())
    )


def marker(alarms: Sequence[Alarm]) -> tuple[str, str]:
    """(one-character marker, worst state) for a table cell; ("", "") for no alarm. The TUI
    colours the marker by the state."""
    state = worst_state(alarms)
    if state is None:
        return "", ""
    return MARKERS.get(state, MARKERS[INSUFFICIENT_DATA]), state


def summary(alarms: Sequence[Alarm]) -> str:
    """How many alarms in which state, worst first ("3 alarms: 1 ALARM, 2 OK"); "" for none."""
    if not alarms:
        return ""
    counts: dict[str, int] = {}
    for alarm in ordered(alarms):
        counts[alarm.state] = counts.get(alarm.state, 0) + 1
    noun = "alarm" if len(alarms) == 1 else "alarms"
    return f"{len(alarms)} {noun}: " + ", ".join(f"{n} {s}" for s, n in counts.items())


def _number(value: float) -> str:
    return f"{value:,.0f}" if value.is_integer() and abs(value) >= 1e4 else f"{value:g}"


def watched(alarm: Alarm) -> str:
    """What it evaluates: "InvocationThrottles Sum", or a math expression and what it reads."""
    if alarm.metric_name:
        return " ".join(filter(None, (alarm.metric_name, alarm.stat)))
    read = [m for m in alarm.metrics if m.metric_name]
    shown = [m for m in alarm.metrics if m.return_data] or read[:1]
    if not shown:
        return "(no metric)"
    names = ", ".join(dict.fromkeys(m.metric_name or "" for m in read))
    first = shown[0]
    if first.expression:
        return f"{first.expression} of {names}" if names else first.expression
    return " ".join(filter(None, (first.metric_name, first.stat)))


def _period(alarm: Alarm) -> int | None:
    if alarm.period_s:
        return alarm.period_s
    periods = [m.period_s for m in alarm.metrics if m.period_s]
    return periods[0] if periods else None


def condition(alarm: Alarm) -> str:
    """What breaches: the metric, the comparison and how many periods of how long (all of
    them, or "2 of 3" when DatapointsToAlarm is fewer)."""
    if alarm.threshold is not None:
        limit = f" {alarm.symbol} {_number(alarm.threshold)}"
    else:
        limit = f" {alarm.symbol}" + (
            f" {alarm.threshold_metric_id}" if alarm.threshold_metric_id else ""
        )
    period = _period(alarm)
    span = (
        f"{alarm.evaluation_periods}{TIMES}{period}s" if period else f"{alarm.evaluation_periods}"
    )
    need = alarm.datapoints_to_alarm
    if need is not None and need != alarm.evaluation_periods:
        span = f"{need} of {span}"
    return f"{watched(alarm)}{limit} over {span}"


def describe(alarm: Alarm) -> str:
    """One line: name · state · condition (``condition``) — the reason of the state."""
    line = f"{alarm.name} · {alarm.state} · {condition(alarm)}"
    if not alarm.actions_enabled:
        line += " (actions off)"
    reason = " ".join(alarm.state_reason.split())
    return f"{line} — {reason}" if reason else line


def mark_rows(
    rows: Sequence[ModelRow], alarms_of: Callable[[str], Mapping[str, tuple[Alarm, ...]]]
) -> tuple[ModelRow, ...]:
    """The rows with the worst state of their model's alarms (``alarms_of``: a region's
    alarms by model id); a row without alarms is passed on as it is."""
    out: list[ModelRow] = []
    by_region: dict[str, Mapping[str, tuple[Alarm, ...]]] = {}
    for row in rows:
        found = by_region.get(row.region)
        if found is None:
            found = by_region[row.region] = alarms_of(row.region)
        char, state = marker(found.get(row.model_id, ()))
        changed = state != row.alarm
        out.append(replace(row, alarm=state, alarm_marker=char) if changed else row)
    return tuple(out)
