"""The GetMetricData planner: every series fetched exactly once, in valid calls, as few as possible.

The limits are restated here from CloudWatch's documentation (DESIGN.md section 2), not
imported from the planner, so a wrong constant in ``plan.py`` makes these tests fail.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bedrock_top.cloudwatch.plan import (
    Call,
    MetricQuery,
    PlanError,
    SeriesKey,
    align_down,
    check_period,
    datapoints,
    plan_calls,
)
from support.cloudwatch_limits import validate_call

MAX_QUERIES = 500
MAX_POINTS = 100_800
ID_RE = re.compile(r"^[a-z][A-Za-z0-9_]*$")
DAY = 86_400

# 2025-06-16 00:00:00 UTC: aligned to every period used below (60, 300, 3600).
END = int(datetime(2025, 6, 16, tzinfo=UTC).timestamp())
NOW = END - 25  # the clock is inside the newest (partial) period
PERIODS = (60, 300, 3600)


def per_period(model: int, metric: str, period: int, start: int, stat: str = "Sum") -> MetricQuery:
    key = SeriesKey("us-east-1", None, f"vendor.model-{model}", metric, stat)
    return MetricQuery(key, "Invocations", period, start)


def whole_window(model: int, metric: str, stat: str, window: int) -> MetricQuery:
    key = SeriesKey("us-east-1", None, f"vendor.model-{model}", metric, stat, window=True)
    return MetricQuery(key, "InvocationLatency", window, END - window)


def points_in(call: Call) -> int:
    """Datapoints CloudWatch counts for a call: one per period in [start, end) per query."""
    return sum(-(-(call.end - call.start) // q.period) for q in call.queries.values())


def assert_valid_plan(queries: list[MetricQuery], calls: list[Call]) -> None:
    """Every query exactly once, every call within CloudWatch's limits and well aligned."""
    planned = Counter(q for call in calls for q in call.queries.values())
    assert planned == Counter(queries)
    for call in calls:
        validate_call(call)
        assert call.end == END
        assert 0 < len(call.queries) <= MAX_QUERIES
        assert points_in(call) <= MAX_POINTS
        ids = list(call.queries)
        assert len(set(ids)) == len(ids)
        assert all(ID_RE.match(qid) for qid in ids)
        for q in call.queries.values():
            assert call.start <= q.start
            if q.key.window:
                # One bucket of the window's length must begin exactly at the window start.
                assert (q.start - call.start) % q.period == 0
            else:
                assert call.start % q.period == 0


# --- property tests -----------------------------------------------------------------------

# A model's query pattern: per-period queries (period, how many periods back the start is,
# or None for the whole window) and how many whole-window percentiles it has.
pattern_st = st.tuples(
    st.lists(
        st.tuples(st.sampled_from(PERIODS), st.none() | st.integers(1, 12)),
        max_size=6,
    ),
    st.integers(0, 3),
)


def build_queries(
    window: int, n_models: int, patterns: list[tuple[list[tuple[int, int | None]], int]]
) -> list[MetricQuery]:
    ws = END - window
    queries: list[MetricQuery] = []
    for m in range(n_models):
        per, n_window = patterns[m % len(patterns)]
        for j, (period, back) in enumerate(per):
            if period > window:
                continue
            # Incremental: the last few periods; full: from the window start. Both aligned.
            start = ws if back is None else max(ws, END - back * period)
            queries.append(per_period(m, f"m{j}", period, start))
        for s in range(n_window):
            queries.append(whole_window(m, "latency", f"p{s}", window))
    return queries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    window=st.sampled_from([3600, 2 * 3600, 3 * 3600, 12 * 3600, DAY, 7 * DAY]),
    n_models=st.integers(0, 3000),
    patterns=st.lists(pattern_st, min_size=1, max_size=4),
)
def test_plan_is_valid_and_minimal(
    window: int, n_models: int, patterns: list[tuple[list[tuple[int, int | None]], int]]
) -> None:
    queries = build_queries(window, n_models, patterns)
    calls = plan_calls(queries, END, NOW)
    assert_valid_plan(queries, calls)
    # Datapoints cannot bind when even 500 series each spanning the whole window fit.
    widest = max((-(-window // q.period) for q in queries if not q.key.window), default=1)
    if widest * MAX_QUERIES <= MAX_POINTS:
        assert len(calls) == math.ceil(len(queries) / MAX_QUERIES)


@settings(max_examples=60, deadline=None)
@given(
    window=st.sampled_from([12 * 3600, DAY, 3 * DAY, 7 * DAY]),
    period=st.sampled_from(PERIODS),
    n=st.integers(0, 3000),
)
def test_binding_datapoints_give_the_fewest_calls(window: int, period: int, n: int) -> None:
    """Equal-size series: the minimum is ceil(n / k), k = what fits by count and by points."""
    queries = [per_period(m, "invocations", period, END - window) for m in range(n)]
    calls = plan_calls(queries, END, NOW)
    assert_valid_plan(queries, calls)
    per_call = min(MAX_QUERIES, MAX_POINTS // (window // period))
    assert len(calls) == math.ceil(n / per_call)


@pytest.mark.parametrize(("n", "expected_calls"), [(1, 1), (70, 1), (71, 2), (140, 2), (141, 3)])
def test_one_day_at_one_minute_fits_70_series_per_call(n: int, expected_calls: int) -> None:
    queries = [per_period(m, "invocations", 60, END - DAY) for m in range(n)]
    calls = plan_calls(queries, END, NOW)
    assert len(calls) == expected_calls
    assert max(len(c.queries) for c in calls) <= 70
    assert_valid_plan(queries, calls)


def test_seven_days_at_one_minute_fits_ten_series_per_call() -> None:
    # 10,080 points per series: legal for CloudWatch, but only 10 fit in 100,800.
    queries = [per_period(m, "invocations", 60, END - 7 * DAY) for m in range(25)]
    calls = plan_calls(queries, END, NOW)
    assert [len(c.queries) for c in calls] == [10, 10, 5]


def test_incremental_queries_keep_a_short_range_when_calls_must_split() -> None:
    ws = END - 3600
    tail = [per_period(m, "invocations", 60, END - 300) for m in range(600)]
    full = [per_period(m, "latency", 60, ws) for m in range(100)]
    calls = plan_calls(tail + full, END, NOW)
    assert len(calls) == 2
    assert sorted(c.start for c in calls) == [ws, END - 300]


def test_mixed_periods_share_a_call_with_an_aligned_start() -> None:
    queries = [
        per_period(0, "a", 60, END - 120),
        per_period(1, "b", 300, END - 300),
        per_period(2, "c", 3600, END - 3600),
        per_period(3, "d", 60, END - 3540),
    ]
    calls = plan_calls(queries, END, NOW)
    assert len(calls) == 1
    assert calls[0].start == END - 3600
    assert_valid_plan(queries, calls)


def test_empty_plan() -> None:
    assert plan_calls([], END, NOW) == []


# --- rejected plans -----------------------------------------------------------------------


def test_unaligned_start_is_rejected() -> None:
    with pytest.raises(PlanError, match="aligned"):
        plan_calls([per_period(0, "a", 300, END - 360)], END, NOW)


def test_start_at_or_after_end_is_rejected() -> None:
    with pytest.raises(PlanError):
        plan_calls([per_period(0, "a", 60, END)], END, NOW)


def test_one_series_over_the_datapoint_limit_is_rejected() -> None:
    start = END - (MAX_POINTS + 1) * 60
    # ``now`` at the start keeps the retention rule out of the way: only datapoints bind.
    with pytest.raises(PlanError, match="datapoints"):
        plan_calls([per_period(0, "a", 60, start)], END, start)


def test_one_series_at_exactly_the_datapoint_limit_is_accepted() -> None:
    start = END - MAX_POINTS * 60
    calls = plan_calls([per_period(0, "a", 60, start)], END, start)
    assert points_in(calls[0]) == MAX_POINTS


def test_old_one_minute_data_is_rejected() -> None:
    with pytest.raises(PlanError, match="300"):
        plan_calls([per_period(0, "a", 60, END - 16 * DAY)], END, NOW)


# --- check_period -------------------------------------------------------------------------


@pytest.mark.parametrize("period", [0, -60, 30, 90, 61])
def test_period_must_be_a_positive_multiple_of_60(period: int) -> None:
    with pytest.raises(PlanError, match="multiple of 60"):
        check_period(period, END - 3600, NOW)


@pytest.mark.parametrize(
    ("period", "age", "ok"),
    [
        (60, 15 * DAY, True),
        (60, 15 * DAY + 1, False),
        (120, 15 * DAY + 1, False),
        (300, 15 * DAY + 1, True),
        (600, 20 * DAY, True),
        (300, 63 * DAY, True),
        (300, 63 * DAY + 1, False),
        (1800, 63 * DAY + 1, False),
        (3600, 63 * DAY + 1, True),
        (7200, 400 * DAY, True),
    ],
)
def test_retention_tiers(period: int, age: int, ok: bool) -> None:
    now = 2_000_000_000
    start = now - age
    if ok:
        check_period(period, start, now)
    else:
        with pytest.raises(PlanError):
            check_period(period, start, now)


# --- small helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "period", "expected"),
    [
        (0, 3600, 60, 60),
        (0, 3601, 60, 61),
        (0, 59, 60, 1),
        (0, 3600, 3600, 1),
        (0, 86_400, 300, 288),
    ],
)
def test_datapoints(start: int, end: int, period: int, expected: int) -> None:
    assert datapoints(start, end, period) == expected


@pytest.mark.parametrize(
    ("t", "period", "expected"),
    [(119.9, 60, 60), (120, 60, 120), (0, 300, 0), (-1, 60, -60), (END + 3599, 3600, END)],
)
def test_align_down(t: float, period: int, expected: int) -> None:
    assert align_down(t, period) == expected


# --- Call.request ---------------------------------------------------------------------------


def test_call_request_uses_utc_datetimes_and_cloudwatch_shapes() -> None:
    query = per_period(7, "invocations", 60, END - 600)
    call = Call(start=END - 600, end=END, queries={"q0": query})
    request = call.request()
    start, end = request["StartTime"], request["EndTime"]
    assert isinstance(start, datetime)
    assert start.utcoffset() == timedelta(0)
    assert end.utcoffset() == timedelta(0)
    assert start == datetime(2025, 6, 15, 23, 50, tzinfo=UTC)
    assert end == datetime(2025, 6, 16, tzinfo=UTC)
    assert set(request) == {"MetricDataQueries", "StartTime", "EndTime", "ScanBy"}
    assert request["MetricDataQueries"] == [
        {
            "Id": "q0",
            "MetricStat": {
                "Metric": {
                    "Namespace": "AWS/Bedrock",
                    "MetricName": "Invocations",
                    "Dimensions": [{"Name": "ModelId", "Value": "vendor.model-7"}],
                },
                "Period": 60,
                "Stat": "Sum",
            },
            "ReturnData": True,
        }
    ]


def test_account_id_only_when_the_series_has_an_account() -> None:
    mine = per_period(1, "invocations", 60, END - 60)
    linked = MetricQuery(
        SeriesKey("us-east-1", "111122223333", "vendor.model-1", "invocations", "Sum"),
        "Invocations",
        60,
        END - 60,
    )
    request = Call(END - 60, END, {"a": mine, "b": linked}).request()
    by_id = {q["Id"]: q for q in request["MetricDataQueries"]}
    assert "AccountId" not in by_id["a"]
    assert by_id["b"]["AccountId"] == "111122223333"


# --- validate_call ------------------------------------------------------------------------


def test_validate_call_rejects_bad_ids_and_too_many_queries() -> None:
    q = per_period(0, "a", 60, END - 60)
    for bad in ("Q0", "0q", "q-0", "", "q 0"):
        with pytest.raises(PlanError):
            validate_call(Call(END - 60, END, {bad: q}))
    many = {f"q{i}": per_period(i, "a", 60, END - 60) for i in range(MAX_QUERIES + 1)}
    with pytest.raises(PlanError):
        validate_call(Call(END - 60, END, many))


def test_validate_call_rejects_too_many_datapoints() -> None:
    start = END - DAY
    queries = {f"q{i}": per_period(i, "a", 60, start) for i in range(71)}
    with pytest.raises(PlanError, match="datapoints"):
        validate_call(Call(start, END, queries))


def test_a_whole_window_bucket_keeps_its_call_start() -> None:
    """Quota minutes reach back before the window; a percentile over the window sharing their
    call would start early and cover the wrong hour. The earlier queries get a call of their
    own, the whole-window one starts exactly at the window start."""
    ws = END - 3600
    queries = [
        per_period(0, "invocations", 60, ws),
        whole_window(0, "latency", "p90", 3600),
        per_period(1, "invocations", 60, ws - 6 * 60),  # a quota model's first read
    ]
    calls = plan_calls(queries, END, NOW)
    assert_valid_plan(queries, calls)
    (holding,) = [c for c in calls if any(q.key.window for q in c.queries.values())]
    assert holding.start == ws
    assert len(calls) == 2
