"""What the charts show: the account totals and one model's series, as pure chart specs.

A chart of a count never starts anywhere but zero, and small counts (a throttle or two)
get a floor on their scale (``PROBLEM_FLOOR``, stated on the axis) so one event does not
read as a wall. The newest periods still arriving are passed on as ``partial`` and drawn
as in progress, as the table's sparklines do, so the charts and the sparklines agree.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bedrock_top.figures.snapshot import ModelRow, Snapshot
from bedrock_top.figures.surface_rows import SurfaceRow
from bedrock_top.figures.surfaces import ViewSpec
from bedrock_top.figures.totals import Totals
from bedrock_top.views.chart import fmt_value

PROBLEM_FLOOR: Final = 10.0  # errors/throttles per minute at the top of an idle scale
LATENCY_FLOOR_MS: Final = 100.0


@dataclass(frozen=True, slots=True)
class ChartSpec:
    """One chart: a window's per-period values and how to read them."""

    title: str
    values: tuple[float | None, ...]
    start: int
    period: int
    partial: int = 0
    counter: bool = True
    fmt: Callable[[float], str] = fmt_value
    min_top: float = 0.0
    threshold: float | None = None
    threshold_label: str = ""
    markers: tuple[int, ...] = ()
    summary: str = ""  # "now 83 · max 120": the figures an eye would guess at


def fmt_figure(value: float) -> str:
    """A chart summary figure to three significant digits: 756,711 -> '757k', 62 -> '62'."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if abs(value) >= scale or scale == 1.0:
            scaled = value / scale
            digits = 0 if abs(scaled) >= 100 else 1 if abs(scaled) >= 10 else 2
            text = f"{scaled:.{digits}f}"
            if "." in text:
                text = text.rstrip("0").rstrip(".")
            return text + suffix
    return f"{value:g}"  # unreachable


def fmt_latency_axis(ms: float) -> str:
    """Axis labels for latency: '800ms', '2.5s'."""
    return f"{ms / 1000:g}s" if ms >= 1000 else f"{ms:g}ms"


def fmt_usd_axis(usd: float) -> str:
    return "$" + fmt_value(usd)


def fmt_usd_figure(usd: float) -> str:
    return f"${usd:,.2f}"


def fmt_latency_figure(ms: float) -> str:
    return f"{ms / 1000:.2f}s" if ms >= 1000 else f"{ms:.0f}ms"


def _complete(snapshot: Snapshot) -> int:
    return snapshot.latest_complete_index + 1


def _summary(values: Sequence[float | None], n: int, fmt: Callable[[float], str]) -> str:
    """'now X · max Y' over the complete periods (now: the newest complete one)."""
    done = [v for v in values[:n] if v is not None]
    if not done:
        return "no data"
    now = values[n - 1] if n else None
    now_text = fmt(now) if now is not None else "-"
    return f"now {now_text} · max {fmt(max(done))}"


@dataclass(frozen=True, slots=True)
class Reading:
    """How a chart reads its values: axis and summary formats, counter or level, floor."""

    axis: Callable[[float], str]
    figure: Callable[[float], str]
    counter: bool = True  # a count (missing = 0) or a level such as latency (missing = none)
    min_top: float = 0.0


COUNT = Reading(fmt_value, fmt_figure)
PROBLEMS = Reading(fmt_value, fmt_figure, min_top=PROBLEM_FLOOR)
LATENCY = Reading(fmt_latency_axis, fmt_latency_figure, counter=False, min_top=LATENCY_FLOOR_MS)
MONEY = Reading(fmt_usd_axis, fmt_usd_figure)
SPEED = Reading(fmt_value, fmt_figure, counter=False)


def _spec(
    title: str,
    values: Sequence[float | None],
    snapshot: Snapshot,
    reading: Reading = COUNT,
    markers: tuple[int, ...] = (),
) -> ChartSpec:
    n = _complete(snapshot)
    return ChartSpec(
        title=title,
        values=tuple(values),
        start=snapshot.window_start,
        period=snapshot.period,
        partial=len(values) - n,
        counter=reading.counter,
        fmt=reading.axis,
        min_top=reading.min_top,
        markers=markers,
        summary=_summary(values, n, reading.figure),
    )


def per_minute(values: Sequence[float | None], period: int) -> list[float | None]:
    """A counter's per-period values as a rate per minute (the unit every chart uses)."""
    scale = 60 / period
    return [v * scale if v is not None else None for v in values]


def totals_charts(snapshot: Snapshot, totals: Totals) -> list[ChartSpec]:
    """The account panel: tokens/min, spend rate, and errors + throttles."""
    return [
        _spec("Tokens/min (in + out)", totals.tokens_per_min, snapshot),
        _spec("Spend $/h", totals.usd_per_hour, snapshot, MONEY),
        _spec("Errors + throttles/min", totals.problems_per_min, snapshot, PROBLEMS),
    ]


def output_tokens_per_second(row: ModelRow) -> list[float | None]:
    """OutputTokenCount / (InvocationLatency - TimeToFirstToken) per period, in tokens/s.

    Uses per-period averages: tokens per request over generation time per request.
    """
    s = row.series
    out: list[float | None] = []
    for tokens, inv, lat, ttft in zip(
        s["output_tokens"], s["invocations"], s["latency_avg"], s["ttft_avg"], strict=True
    ):
        if not tokens or not inv or lat is None:
            out.append(None)
            continue
        gen_ms = lat - (ttft or 0.0)
        out.append(tokens / inv / gen_ms * 1000 if gen_ms > 0 else None)
    return out


def throttled_periods(row: ModelRow, snapshot: Snapshot) -> tuple[int, ...]:
    """Indices of the complete periods in which this model was throttled."""
    n = _complete(snapshot)
    return tuple(i for i, v in enumerate(row.series["throttles"][:n]) if v)


def model_charts(row: ModelRow, snapshot: Snapshot, *, every: bool = False) -> list[ChartSpec]:
    """One model's charts: the pane under the table shows the first three (traffic, latency,
    requests with throttled minutes marked); the detail screen shows all of them."""
    period = snapshot.period
    marks = throttled_periods(row, snapshot)

    def rate(*keys: str) -> list[float | None]:
        return per_minute(row.summed(*keys), period)

    charts = [
        _spec("Tokens/min (in + out)", rate("input_tokens", "output_tokens"), snapshot),
        _spec("Latency p90", row.series["latency_p90"], snapshot, LATENCY),
        _spec(
            "Invocations/min" + (" · ✕ throttled" if marks else ""),
            rate("invocations"),
            snapshot,
            markers=marks,
        ),
    ]
    if not every:
        return charts
    charts += quota_charts(row)
    more: list[tuple[str, Sequence[float | None], Reading]] = [
        ("Input tokens/min", rate("input_tokens"), COUNT),
        ("Output tokens/min", rate("output_tokens"), COUNT),
        ("Cache read tokens/min", rate("cache_read_tokens"), COUNT),
        ("Cache write tokens/min", rate("cache_write_tokens"), COUNT),
        ("Latency avg", row.series["latency_avg"], LATENCY),
        ("TTFT p90", row.series["ttft_p90"], LATENCY),
        ("Client errors/min", rate("client_errors"), PROBLEMS),
        ("Server errors/min", rate("server_errors"), PROBLEMS),
        ("Throttles/min", rate("throttles"), PROBLEMS),
        ("Est. TPM quota usage/min", rate("tpm_quota"), COUNT),
        ("Output tokens/s per request", output_tokens_per_second(row), SPEED),
    ]
    for title, values, reading in more:
        if any(v for v in values):  # a metric the model does not publish gets no chart
            charts.append(_spec(title, values, snapshot, reading))
    return charts


def quota_charts(row: ModelRow) -> list[ChartSpec]:
    """The last 60 complete minutes against the model's TPM and RPM quotas: usage of the
    quota (every ModelId sharing it), the limit as a line, the row's throttled minutes
    marked. Always at 1-minute resolution: quotas count per minute."""
    quota = row.quota
    if quota is None:
        return []
    minutes = quota.minutes
    marks = tuple(i for i, v in enumerate(minutes.throttles) if v)
    shared = f" · {minutes.sharing} ids" if minutes.sharing > 1 else ""
    out = []
    for usage, values, what in (
        (quota.tpm, minutes.tpm_used, "TPM used"),
        (quota.rpm, minutes.requests, "Requests/min"),
    ):
        if usage is None:
            continue
        out.append(
            ChartSpec(
                title=f"{what} vs quota{shared}" + (" · ✕ throttled" if marks else ""),
                values=tuple(values),
                start=minutes.starts[0],
                period=60,
                threshold=usage.limit,
                threshold_label=f"quota {fmt_figure(usage.limit)}",
                markers=marks,
                summary=f"peak {usage.peak_pct:.0f}% · last {usage.last_pct:.0f}%",
            )
        )
    return out


def surface_charts(
    row: SurfaceRow, spec: ViewSpec, snapshot: Snapshot, *, every: bool = False
) -> list[ChartSpec]:
    """A view row's charts, one per measure it publishes (counters per minute, latencies and
    other means as levels, gauges as levels): the pane shows the first three."""
    charts = []
    for measure in spec.measures:
        values = row.series.get(measure.key)
        if values is None or not any(v is not None for v in values):
            continue
        if measure.kind == "counter":
            reading = COUNT
            title = f"{measure.label}/min"
            values = tuple(per_minute(values, snapshot.period))
        else:
            reading = LATENCY if measure.unit == "ms" else SPEED
            title = measure.label if measure.kind == "gauge" else f"{measure.label} (mean)"
        charts.append(_spec(title, values, snapshot, reading))
    return charts if every else charts[:3]
