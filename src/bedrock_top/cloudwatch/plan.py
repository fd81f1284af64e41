"""Pure GetMetricData query planning: series wanted -> the fewest valid API calls.

CloudWatch (and botocore) leave most limits to the caller: at most 500 queries and
100,800 datapoints per call, Ids matching ``^[a-z][A-Za-z0-9_]*$`` and unique per call,
periods that respect the retention tiers. This module enforces them and nothing here does I/O.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, NamedTuple

from bedrock_top.figures.catalog import MODEL_DIMENSION, NAMESPACE

MAX_QUERIES_PER_CALL: Final = 500
MAX_DATAPOINTS_PER_CALL: Final = 100_800
QUERY_ID_PATTERN: Final = re.compile(r"^[a-z][A-Za-z0-9_]*$")
# Ids of the queries of a call, by position (valid, unique, and built once).
QUERY_IDS: Final = tuple(f"q{i}" for i in range(MAX_QUERIES_PER_CALL))

_DAY: Final = 86_400


QueryGroup = tuple[int, int, bool]  # queries sharing (start, period, whole-window or not)


class PlanError(ValueError):
    """A request that CloudWatch would reject; raised before anything is sent."""


class SeriesKey(NamedTuple):
    """Identifies one stored series: (region, account, model, metric, statistic, scope).

    ``window`` is True for a single-value statistic computed by CloudWatch over the whole
    window (the percentiles), False for a per-period series. A named tuple, because a poll
    makes thousands of these and a frozen dataclass costs several times more to build.
    """

    region: str
    account: str | None
    model_id: str
    metric: str
    stat: str
    window: bool = False


class MetricQuery(NamedTuple):
    """One series to fetch: its key, the CloudWatch metric name, period and earliest start.

    ``metric_stat`` is the request's MetricStat when the caller already holds it (the poller
    builds each series' once, not once per poll); None: built from the other fields.
    """

    key: SeriesKey
    metric_name: str
    period: int
    start: int  # epoch seconds the data is needed from (aligned to ``period``)
    metric_stat: Mapping[str, Any] | None = None

    @property
    def alignment(self) -> int:
        """Per-period series start on period boundaries so buckets match the clock; a
        whole-window statistic is one bucket starting at the window start (a whole minute)."""
        return 60 if self.key.window else self.period

    def to_request(self, query_id: str) -> dict[str, Any]:
        key = self.key
        query: dict[str, Any] = {
            "Id": query_id,
            "MetricStat": self.metric_stat
            or metric_stat(self.metric_name, key.model_id, self.period, key.stat),
            "ReturnData": True,
        }
        if key.account is not None:
            query["AccountId"] = key.account
        return query


@lru_cache(maxsize=65_536)
def metric_stat(metric_name: str, model_id: str, period: int, stat: str) -> Mapping[str, Any]:
    """The MetricStat part of a query: the same every poll, so built once and shared (never
    mutated)."""
    return {
        "Metric": {
            "Namespace": NAMESPACE,
            "MetricName": metric_name,
            "Dimensions": [{"Name": MODEL_DIMENSION, "Value": model_id}],
        },
        "Period": period,
        "Stat": stat,
    }


@dataclass(frozen=True, slots=True)
class Call:
    """One GetMetricData call: a shared time range and its queries keyed by Id."""

    start: int
    end: int
    queries: dict[str, MetricQuery] = field(default_factory=dict)

    def request(self) -> dict[str, Any]:
        """The keyword arguments for ``client.get_metric_data`` (without NextToken)."""
        return {
            "MetricDataQueries": [q.to_request(qid) for qid, q in self.queries.items()],
            "StartTime": datetime.fromtimestamp(self.start, UTC),
            "EndTime": datetime.fromtimestamp(self.end, UTC),
            "ScanBy": "TimestampAscending",
        }

    @property
    def datapoints(self) -> int:
        return sum(datapoints(self.start, self.end, q.period) for q in self.queries.values())


def datapoints(start: int, end: int, period: int) -> int:
    """How many datapoints CloudWatch counts for one query over [start, end)."""
    return math.ceil((end - start) / period)


def align_down(t: float, period: int) -> int:
    return int(t // period) * period


def check_period(period: int, start: int, now: float) -> None:
    """Enforce CloudWatch's period rules for the age of the data asked for."""
    if period <= 0 or period % 60:
        raise PlanError(f"period {period}s must be a positive multiple of 60")
    age = now - start
    for days, multiple in ((63, 3600), (15, 300)):
        if age > days * _DAY and period % multiple:
            raise PlanError(
                f"data older than {days} days needs a period that is a multiple of "
                f"{multiple} s, got {period}"
            )


def _check_query(start: int, period: int, alignment: int, end: int, now: float) -> None:
    if start % alignment:
        raise PlanError(f"start {start} is not aligned to {alignment}s")
    if start >= end:
        raise PlanError("query start must be before the end of the window")
    check_period(period, start, now)
    if datapoints(start, end, period) > MAX_DATAPOINTS_PER_CALL:
        raise PlanError(
            f"one series over this range needs {datapoints(start, end, period)} "
            f"datapoints; CloudWatch allows {MAX_DATAPOINTS_PER_CALL} per call: "
            "use a larger period"
        )


def plan_calls(queries: list[MetricQuery], end: int, now: float) -> list[Call]:
    """Pack queries into as few GetMetricData calls as the limits allow.

    Queries are taken latest-start first, so most calls keep a short time range
    (incremental polls stay incremental) and only the boundary call widens to an earlier
    start. When datapoints do not bind, the count is ``ceil(len(queries) / 500)``: the minimum.
    A whole-window query's single bucket must start at its own start, so a call holding one
    never widens to an earlier start (quota minutes reach back before the window): the
    earlier groups go to the next call.
    Queries sharing (start, period) are checked and packed as one group: a poll has
    thousands of queries but only a handful of groups.
    """
    groups: dict[QueryGroup, list[MetricQuery]] = {}
    for q in queries:
        groups.setdefault((q.start, q.period, q.key.window), []).append(q)
    return plan_groups(groups, end, now)


def plan_groups(
    groups: Mapping[QueryGroup, Sequence[MetricQuery]], end: int, now: float
) -> list[Call]:
    """``plan_calls`` for queries already grouped by (start, period, window): the poller
    builds them that way, so it does not pay for grouping thousands of queries again."""
    for (start, period, _), members in groups.items():
        _check_query(start, period, members[0].alignment, end, now)

    calls: list[Call] = []
    current: list[MetricQuery] = []
    periods: Counter[int] = Counter()
    step = 1  # the call start must be aligned for every query in it: lcm of alignments
    call_start = end
    pinned = False  # the call holds whole-window queries: its start cannot move earlier
    for (start, period, whole), members in sorted(groups.items(), key=lambda g: -g[0][0]):
        alignment = members[0].alignment
        taken = 0
        if current and pinned and start < call_start:  # a whole-window bucket must start
            calls.append(Call(call_start, end, dict(zip(QUERY_IDS, current, strict=False))))
            current, periods, step, pinned = [], Counter(), 1, False  # at its call's start
        while taken < len(members):
            new_step = math.lcm(step, alignment) if current else alignment
            # This group has the earliest start yet: the call widens back to it.
            new_start = align_down(start, new_step)
            used = sum(n * datapoints(new_start, end, p) for p, n in periods.items())
            fits = (MAX_DATAPOINTS_PER_CALL - used) // datapoints(new_start, end, period)
            take = min(MAX_QUERIES_PER_CALL - len(current), fits, len(members) - taken)
            if take <= 0 and not current:  # cannot happen after _check_query; never loop
                raise PlanError("a query does not fit in an empty call")
            if take > 0:
                current.extend(members[taken : taken + take])
                periods[period] += take
                step, call_start = new_step, new_start
                pinned = pinned or whole
                taken += take
            if taken < len(members):  # this call is full: start the next one
                calls.append(Call(call_start, end, dict(zip(QUERY_IDS, current, strict=False))))
                current, periods, step, pinned = [], Counter(), 1, False
    if current:
        calls.append(Call(call_start, end, dict(zip(QUERY_IDS, current, strict=False))))
    return calls
