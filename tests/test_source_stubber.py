"""The poller against a real boto3 CloudWatch client under ``botocore.stub.Stubber``.

These cover what moto never produces (DESIGN.md section 3): NextToken pages of ListMetrics
and GetMetricData, PartialData / Forbidden / InternalError results, top-level Messages,
shuffled results and descending timestamps. Stubber validates every response against the
real output shapes and ``expected_params`` asserts what the poller sends. No network.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from bedrock_top.cloudwatch.discovery import discover
from bedrock_top.cloudwatch.fetch import fetch_call
from bedrock_top.cloudwatch.plan import Call, MetricQuery, SeriesKey, align_down
from bedrock_top.cloudwatch.region import RegionPoller
from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.figures.catalog import CACHE_READ
from bedrock_top.figures.series import ModelSeries

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

REGION = "us-east-1"
SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"
TITAN = "amazon.titan-embed-text-v2:0"

# 2025-06-16 12:00:30 UTC: half a minute into the newest period.
NOW0 = datetime(2025, 6, 16, 12, 0, 30, tzinfo=UTC).timestamp()
END0 = int(datetime(2025, 6, 16, 12, 1, tzinfo=UTC).timestamp())  # end of the first window
WINDOW = 3600
PERIOD = 60

Series = tuple[str, str, str, int]  # (model id, CloudWatch metric name, stat, period)


# These tests are about paging, merging and time ranges: ask for every metric of every model
# (cost-aware tiers are tested on their own below).
FULL = PollSettings(window_s=WINDOW, period_s=PERIOD, cost_aware=False)


def at(hh: int, mm: int) -> int:
    """Epoch seconds of 2025-06-16 hh:mm UTC."""
    return int(datetime(2025, 6, 16, hh, mm, tzinfo=UTC).timestamp())


def dt(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


# --- ListMetrics helpers ------------------------------------------------------------------


def listed(name: str, model: str, **extra: str) -> dict[str, Any]:
    dims = [{"Name": "ModelId", "Value": model}]
    dims += [{"Name": k, "Value": v} for k, v in extra.items()]
    return {"Namespace": "AWS/Bedrock", "MetricName": name, "Dimensions": dims}


def list_params(token: str | None = None, recently_active: bool = True) -> dict[str, Any]:
    params: dict[str, Any] = {"Namespace": "AWS/Bedrock"}
    if recently_active:
        params["RecentlyActive"] = "PT3H"
    if token:
        params["NextToken"] = token
    return params


# --- GetMetricData script -----------------------------------------------------------------


@dataclass
class Result:
    """One MetricDataResults entry, naming its series instead of the Id."""

    series: Series
    points: Sequence[tuple[int, float]] = ()
    status: str = "Complete"


@dataclass
class Page:
    """One expected GetMetricData request and the page to answer it with."""

    start: int
    end: int
    series: set[Series]
    results: list[Result] = field(default_factory=list)
    token: str | None = None  # the NextToken the request must carry
    next_token: str | None = None  # the NextToken to answer with
    messages: Sequence[tuple[str, str]] = ()  # top-level (Code, Value)


def series_of(query: Mapping[str, Any]) -> Series:
    stat = query["MetricStat"]
    metric = stat["Metric"]
    assert metric["Namespace"] == "AWS/Bedrock"
    assert [d["Name"] for d in metric["Dimensions"]] == ["ModelId"]
    return (metric["Dimensions"][0]["Value"], metric["MetricName"], stat["Stat"], stat["Period"])


class Direct:
    """The stubbed client seen through the poller's protocol (boto3-stubs types it narrower)."""

    def __init__(self, client: CloudWatchClient) -> None:
        self.client = client

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.client.list_metrics(**kwargs)

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.client.get_metric_data(**kwargs)


class SameSeries:
    """Equal to a MetricDataQueries list asking for exactly ``wanted``, in any order."""

    def __init__(self, wanted: set[Series]) -> None:
        self.wanted = wanted

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, list):
            return NotImplemented
        got = [series_of(q) for q in other]
        return len(got) == len(set(got)) and set(got) == self.wanted

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return f"SameSeries({sorted(self.wanted)!r})"


class ScriptedCloudWatch:
    """The real client under Stubber; each GetMetricData page is queued when the request is
    seen, so the script names series and the page can use whatever Ids the planner chose."""

    def __init__(self, client: CloudWatchClient, stubber: Stubber) -> None:
        self.client = client
        self.stubber = stubber
        self.pages: list[Page] = []
        self.requests: list[dict[str, Any]] = []

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.client.list_metrics(**kwargs)

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        self.requests.append(kwargs)
        ids = {series_of(q): q["Id"] for q in kwargs["MetricDataQueries"]}
        token = kwargs.get("NextToken")
        # Calls may come in any order; an unexpected request gets the first pending page,
        # whose expected_params then make Stubber report the difference.
        matching = [p for p in self.pages if p.series == set(ids) and p.token == token]
        assert self.pages, f"unexpected GetMetricData request: {sorted(ids)}"
        page = (matching or self.pages)[0]
        self.pages.remove(page)
        expected: dict[str, Any] = {
            "MetricDataQueries": SameSeries(page.series),
            "StartTime": dt(page.start),
            "EndTime": dt(page.end),
            "ScanBy": ANY,
        }
        if page.token:
            expected["NextToken"] = page.token
        response: dict[str, Any] = {
            "MetricDataResults": [
                {
                    "Id": ids.get(r.series, "unknown"),
                    "Label": r.series[1],
                    "Timestamps": [dt(t) for t, _ in r.points],
                    "Values": [v for _, v in r.points],
                    "StatusCode": r.status,
                }
                for r in page.results
            ],
            "Messages": [{"Code": c, "Value": v} for c, v in page.messages],
        }
        if page.next_token:
            response["NextToken"] = page.next_token
        self.stubber.add_response("get_metric_data", response, expected)
        return self.client.get_metric_data(**kwargs)


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> CloudWatchClient:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return boto3.client(
        "cloudwatch",
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def stubber(client: CloudWatchClient) -> Iterator[Stubber]:
    with Stubber(client) as stub:
        yield stub
        stub.assert_no_pending_responses()


@pytest.fixture
def cw(client: CloudWatchClient, stubber: Stubber) -> Iterator[ScriptedCloudWatch]:
    scripted = ScriptedCloudWatch(client, stubber)
    yield scripted
    assert scripted.pages == [], "scripted GetMetricData pages were never requested"


# --- discovery ----------------------------------------------------------------------------


def test_list_metrics_follows_next_token(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    stubber.add_response(
        "list_metrics",
        {"Metrics": [listed("Invocations", SONNET)], "NextToken": "page-2"},
        list_params(),
    )
    stubber.add_response(
        "list_metrics",
        {"Metrics": [listed("InputTokenCount", SONNET), listed("Invocations", TITAN)]},
        list_params("page-2"),
    )
    usage = UsageCounter()
    found = discover(cw, PollSettings(), usage)
    assert found == {
        (None, SONNET): {"invocations": "Invocations", "input_tokens": "InputTokenCount"},
        (None, TITAN): {"invocations": "Invocations"},
    }
    assert usage.list_metrics_calls == 2


@pytest.mark.parametrize(
    ("settings", "recently_active"),
    [
        (PollSettings(window_s=3 * 3600, period_s=60), True),
        (PollSettings(window_s=12 * 3600, period_s=300), False),
        (PollSettings(all_models=True), False),
    ],
)
def test_recently_active_only_for_short_windows(
    stubber: Stubber, cw: ScriptedCloudWatch, settings: PollSettings, recently_active: bool
) -> None:
    stubber.add_response("list_metrics", {"Metrics": []}, list_params(None, recently_active))
    assert discover(cw, settings, UsageCounter()) == {}


def test_series_with_extra_dimensions_are_ignored(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    metrics = [
        listed("Invocations", SONNET),
        listed("InputTokenCount", SONNET, ServiceTier="priority"),
        listed("Invocations", "meta.llama3-8b-instruct-v1:0", ContextWindow="long"),
        {"Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": []},
    ]
    stubber.add_response("list_metrics", {"Metrics": metrics}, list_params())
    found = discover(cw, PollSettings(), UsageCounter())
    assert found == {(None, SONNET): {"invocations": "Invocations"}}


def test_both_cache_metric_spellings(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    first, second = CACHE_READ.cloudwatch_names
    metrics = [
        listed("CacheReadInputTokenCount", "model.a"),
        listed("CacheWriteInputTokenCount", "model.a"),
        listed("CacheReadInputTokens", "model.b"),
        listed("CacheWriteInputTokens", "model.b"),
        listed(second, "model.both"),
        listed(first, "model.both"),
    ]
    stubber.add_response("list_metrics", {"Metrics": metrics}, list_params())
    found = discover(cw, PollSettings(), UsageCounter())
    assert found[(None, "model.a")] == {
        "cache_read_tokens": "CacheReadInputTokenCount",
        "cache_write_tokens": "CacheWriteInputTokenCount",
    }
    assert found[(None, "model.b")] == {
        "cache_read_tokens": "CacheReadInputTokens",
        "cache_write_tokens": "CacheWriteInputTokens",
    }
    assert found[(None, "model.both")] == {"cache_read_tokens": first}


def test_linked_accounts_are_kept_apart(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    stubber.add_response(
        "list_metrics",
        {
            "Metrics": [listed("Invocations", SONNET), listed("Invocations", SONNET)],
            "OwningAccounts": ["111111111111", "222222222222"],
        },
        {**list_params(), "IncludeLinkedAccounts": True},
    )
    found = discover(cw, PollSettings(include_linked_accounts=True), UsageCounter())
    assert set(found) == {("111111111111", SONNET), ("222222222222", SONNET)}


# --- fetch_call: exact requests, pages, order, status ------------------------------------


def call_for(queries: dict[str, tuple[str, str, str]], start: int, end: int) -> Call:
    """A Call with chosen Ids: ``{id: (model, metric key, CloudWatch name)}``, stat Sum."""
    return Call(
        start,
        end,
        {
            qid: MetricQuery(SeriesKey(REGION, None, model, key, "Sum"), name, PERIOD, start)
            for qid, (model, key, name) in queries.items()
        },
    )


def wire_query(qid: str, model: str, name: str) -> dict[str, Any]:
    return {
        "Id": qid,
        "MetricStat": {
            "Metric": {
                "Namespace": "AWS/Bedrock",
                "MetricName": name,
                "Dimensions": [{"Name": "ModelId", "Value": model}],
            },
            "Period": PERIOD,
            "Stat": "Sum",
        },
        "ReturnData": True,
    }


def gmd_params(
    start: int, end: int, queries: list[dict[str, Any]], token: str | None = None
) -> dict[str, Any]:
    params: dict[str, Any] = {
        "MetricDataQueries": queries,
        "StartTime": dt(start),
        "EndTime": dt(end),
        "ScanBy": ANY,
    }
    if token:
        params["NextToken"] = token
    return params


def result(
    qid: str, points: Sequence[tuple[int, float]], status: str = "Complete"
) -> dict[str, Any]:
    return {
        "Id": qid,
        "Timestamps": [dt(t) for t, _ in points],
        "Values": [v for _, v in points],
        "StatusCode": status,
    }


def test_pages_of_one_id_are_merged_in_any_order(
    stubber: Stubber, client: CloudWatchClient
) -> None:
    start, end = at(11, 50), at(12, 0)
    call = call_for(
        {
            "inv": (SONNET, "invocations", "Invocations"),
            "tok": (SONNET, "input_tokens", "InputTokenCount"),
        },
        start,
        end,
    )
    wire = [wire_query("inv", SONNET, "Invocations"), wire_query("tok", SONNET, "InputTokenCount")]
    # Page 1: results in reverse order, timestamps descending, "inv" cut short.
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [
                result("tok", [(at(11, 55), 500.0), (at(11, 51), 100.0)]),
                result("inv", [(at(11, 59), 4.0), (at(11, 58), 3.0)], "PartialData"),
            ],
            "NextToken": "more",
        },
        gmd_params(start, end, wire),
    )
    stubber.add_response(
        "get_metric_data",
        {"MetricDataResults": [result("inv", [(at(11, 52), 2.0), (at(11, 50), 1.0)])]},
        gmd_params(start, end, wire, token="more"),
    )
    usage = UsageCounter()
    got = fetch_call(Direct(client), call, usage)
    stubber.assert_no_pending_responses()
    assert sorted(got.points("inv")) == [
        (at(11, 50), 1.0),
        (at(11, 52), 2.0),
        (at(11, 58), 3.0),
        (at(11, 59), 4.0),
    ]
    assert sorted(got.points("tok")) == [(at(11, 51), 100.0), (at(11, 55), 500.0)]
    assert got.failed == set()
    # Every page is a request that carries (and is billed for) every query of the call.
    assert (usage.get_metric_data_calls, usage.metrics_requested) == (2, 4)


@pytest.mark.parametrize("status", ["Forbidden", "InternalError"])
def test_failed_results_are_reported(
    stubber: Stubber, client: CloudWatchClient, status: str
) -> None:
    start, end = at(11, 50), at(12, 0)
    call = call_for(
        {"a": (SONNET, "invocations", "Invocations"), "b": (TITAN, "invocations", "Invocations")},
        start,
        end,
    )
    wire = [wire_query("a", SONNET, "Invocations"), wire_query("b", TITAN, "Invocations")]
    stubber.add_response(
        "get_metric_data",
        {
            "MetricDataResults": [result("a", [], status), result("b", [(at(11, 51), 1.0)])],
            "Messages": [{"Code": "Note", "Value": "some metrics were not returned"}],
        },
        gmd_params(start, end, wire),
    )
    got = fetch_call(Direct(client), call, UsageCounter())
    assert got.failed == {"a"}
    assert any(SONNET in m and status in m for m in got.messages)
    assert "some metrics were not returned" in got.messages


# --- RegionPoller / Poller over the scripted client ---------------------------------------

INV = (SONNET, "Invocations", "Sum", PERIOD)
LAT_SUM = (SONNET, "InvocationLatency", "Sum", PERIOD)
LAT_N = (SONNET, "InvocationLatency", "SampleCount", PERIOD)
LAT_P90 = (SONNET, "InvocationLatency", "p90", PERIOD)
LAT_AVG = (SONNET, "InvocationLatency", "Average", PERIOD)
TTFT_SUM = (SONNET, "TimeToFirstToken", "Sum", PERIOD)
TTFT_N = (SONNET, "TimeToFirstToken", "SampleCount", PERIOD)
TTFT_P90 = (SONNET, "TimeToFirstToken", "p90", PERIOD)
TITAN_INV = (TITAN, "Invocations", "Sum", PERIOD)
TITAN_LAT = [
    (TITAN, "InvocationLatency", s, PERIOD) for s in ("Average", "Sum", "SampleCount", "p90")
]

PER_PERIOD = {
    INV,
    LAT_AVG,
    LAT_SUM,
    LAT_N,
    LAT_P90,
    TTFT_SUM,
    TTFT_N,
    TTFT_P90,
    TITAN_INV,
    *TITAN_LAT,
}
WHOLE_WINDOW = {
    (model, name, p, WINDOW)
    for model, names in (
        (SONNET, ("InvocationLatency", "TimeToFirstToken")),
        (TITAN, ("InvocationLatency",)),
    )
    for name in names
    for p in ("p50", "p90", "p99")
}


def list_models(stubber: Stubber) -> None:
    """Sonnet streams (TTFT); Titan embeddings never publish TimeToFirstToken."""
    stubber.add_response(
        "list_metrics",
        {
            "Metrics": [
                listed("Invocations", SONNET),
                listed("InvocationLatency", SONNET),
                listed("TimeToFirstToken", SONNET),
                listed("Invocations", TITAN),
                listed("InvocationLatency", TITAN),
            ]
        },
        list_params(),
    )


def first_poll(stubber: Stubber, cw: ScriptedCloudWatch, results: list[Result]) -> Poller:
    """Discovery plus the initial full-window read, at NOW0."""
    list_models(stubber)
    ws = END0 - WINDOW
    cw.pages.append(Page(ws, END0, PER_PERIOD | WHOLE_WINDOW, results))
    poller = Poller({REGION: cw}, FULL, Clock(NOW0))
    poller.poll()
    return poller


def sonnet(poller: Poller) -> RegionPoller:
    return poller.regions[REGION]


def test_first_poll_reads_the_whole_window_once(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    p90 = (SONNET, "InvocationLatency", "p90", WINDOW)
    poller = first_poll(
        stubber,
        cw,
        [
            Result(INV, [(at(11, 30), 10.0), (at(11, 2), 5.0)]),
            Result(LAT_SUM, [(at(11, 30), 9000.0)]),
            Result(LAT_N, [(at(11, 30), 10.0)]),
            Result(p90, [(END0 - WINDOW, 1234.0)]),
        ],
    )
    snap = poller.snapshot()
    row = next(r for r in snap.rows if r.model_id == SONNET)
    assert row.window.invocations == 15
    assert row.window.latency_avg_ms == 900.0
    assert row.window.latency_p90_ms == 1234.0
    assert (snap.window_start, snap.window_end) == (END0 - WINDOW, END0)
    api = snap.api
    assert (api.list_metrics_calls, api.get_metric_data_calls) == (1, 1)
    assert api.metrics_requested == len(PER_PERIOD | WHOLE_WINDOW)
    assert api.requests == 2


def test_models_without_ttft_never_get_ttft_queries(
    stubber: Stubber, cw: ScriptedCloudWatch
) -> None:
    first_poll(stubber, cw, [])
    asked = {series_of(q) for r in cw.requests for q in r["MetricDataQueries"]}
    assert any(s[0] == SONNET and s[1] == "TimeToFirstToken" for s in asked)
    assert not any(s[0] == TITAN and s[1] == "TimeToFirstToken" for s in asked)


def test_second_poll_reads_only_the_overlap(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    poller = first_poll(stubber, cw, [Result(INV, [(at(11, 58), 5.0), (at(11, 40), 2.0)])])
    clock = poller.clock
    assert isinstance(clock, Clock)
    clock.now = NOW0 + 60
    end1 = END0 + 60
    overlap = poller.settings.overlap_s
    assert overlap >= 180  # covers CloudWatch's 1-2 minute publishing delay
    # Under 500 queries, tails and whole-window percentiles share the one call (the minimum),
    # whose StartTime is the window start of the moved window; the re-read replaces values.
    cw.pages.append(
        Page(
            end1 - WINDOW,
            end1,
            PER_PERIOD | WHOLE_WINDOW,
            [
                Result(INV, [(at(11, 40), 2.0), (at(11, 58), 7.0), (at(12, 0), 1.0)]),
                Result((SONNET, "InvocationLatency", "p99", WINDOW), [(end1 - WINDOW, 4321.0)]),
            ],
        )
    )
    snap = poller.poll()
    row = next(r for r in snap.rows if r.model_id == SONNET)
    # The late correction of 11:58 (5 -> 7) replaced the value: 2 + 7 + 1, never 2 + 5 + 7 + 1.
    assert row.window.invocations == 10
    ring = sonnet(poller).models[(None, SONNET)].rings[("invocations", "Sum")]
    assert ring.get(at(11, 58)) == 7.0
    assert row.window.latency_p99_ms == 4321.0
    assert snap.api.get_metric_data_calls == 2
    assert snap.api.list_metrics_calls == 1  # rediscovery is not due yet


def test_a_gap_rereads_from_the_last_loaded_point(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    poller = first_poll(stubber, cw, [Result(INV, [(at(11, 40), 2.0)])])
    clock = poller.clock
    assert isinstance(clock, Clock)
    clock.now = NOW0 + 20 * 60
    end = END0 + 20 * 60
    list_models(stubber)  # rediscovery is due after 20 minutes
    cw.pages.append(
        Page(
            end - WINDOW,
            end,
            PER_PERIOD | WHOLE_WINDOW,
            [Result(INV, [(at(11, 40), 2.0), (at(12, 10), 3.0)])],
        )
    )
    snap = poller.poll()
    row = next(r for r in snap.rows if r.model_id == SONNET)
    assert row.window.invocations == 5
    assert snap.api.list_metrics_calls == 2


@pytest.mark.parametrize("status", ["Forbidden", "InternalError"])
def test_a_failed_result_keeps_what_was_stored(
    stubber: Stubber, cw: ScriptedCloudWatch, status: str
) -> None:
    poller = first_poll(
        stubber,
        cw,
        [
            Result(INV, [(at(11, 57), 3.0), (at(11, 58), 4.0)]),
            Result(TITAN_INV, [(at(11, 57), 1.0)]),
        ],
    )
    clock = poller.clock
    assert isinstance(clock, Clock)
    clock.now = NOW0 + 60
    end1 = END0 + 60
    cw.pages.append(
        Page(
            end1 - WINDOW,
            end1,
            PER_PERIOD | WHOLE_WINDOW,
            [Result(INV, [], status), Result(TITAN_INV, [(at(11, 57), 6.0)])],
        )
    )
    snap = poller.poll()
    ring = sonnet(poller).models[(None, SONNET)].rings[("invocations", "Sum")]
    assert (ring.get(at(11, 57)), ring.get(at(11, 58))) == (3.0, 4.0)
    rows = {r.model_id: r for r in snap.rows}
    assert rows[SONNET].window.invocations == 7
    assert rows[TITAN].window.invocations == 6  # the rest of the call was merged
    assert any(SONNET in w and status in w for w in snap.warnings)


def test_partial_data_then_the_rest_on_the_next_page(
    stubber: Stubber, cw: ScriptedCloudWatch
) -> None:
    list_models(stubber)
    ws = END0 - WINDOW
    everything = PER_PERIOD | WHOLE_WINDOW
    cw.pages.append(
        Page(
            ws,
            END0,
            everything,
            [Result(INV, [(at(11, 59), 4.0), (at(11, 30), 3.0)], "PartialData")],
            next_token="t2",
        )
    )
    cw.pages.append(
        Page(ws, END0, everything, [Result(INV, [(at(11, 10), 2.0), (at(11, 1), 1.0)])], token="t2")
    )
    poller = Poller({REGION: cw}, FULL, Clock(NOW0))
    snap = poller.poll()
    row = next(r for r in snap.rows if r.model_id == SONNET)
    assert row.window.invocations == 10
    series = row.series["invocations"]
    assert (series[0], series[9], series[29], series[58]) == (1.0, 2.0, 3.0, 4.0)
    assert snap.api.get_metric_data_calls == 2
    assert snap.api.metrics_requested == 2 * len(everything)


def test_top_level_messages_become_warnings(stubber: Stubber, cw: ScriptedCloudWatch) -> None:
    list_models(stubber)
    cw.pages.append(
        Page(
            END0 - WINDOW,
            END0,
            PER_PERIOD | WHOLE_WINDOW,
            messages=[("MaxQueryTimeRangeExceed", "Query time range exceeded")],
        )
    )
    snap = Poller({REGION: cw}, FULL, Clock(NOW0)).poll()
    assert "Query time range exceeded" in snap.warnings


def test_shuffled_results_with_descending_timestamps(
    stubber: Stubber, cw: ScriptedCloudWatch
) -> None:
    poller = first_poll(
        stubber,
        cw,
        [
            Result(LAT_N, [(at(11, 59), 4.0), (at(11, 58), 2.0)]),
            Result(TITAN_INV, [(at(11, 59), 9.0)]),
            Result(LAT_SUM, [(at(11, 59), 2000.0), (at(11, 58), 300.0)]),
            Result(INV, [(at(12, 0), 1.0), (at(11, 59), 4.0), (at(11, 58), 2.0)]),
        ],
    )
    row = next(r for r in poller.snapshot().rows if r.model_id == SONNET)
    assert row.series["invocations"][-3:] == (2.0, 4.0, 1.0)
    assert row.series["latency_avg"][-3:] == (150.0, 500.0, None)
    assert row.window.latency_avg_ms == 2300.0 / 6.0


def test_incremental_polls_keep_the_minimum_calls_and_short_ranges() -> None:
    """With more than 500 queries, later polls fill whole calls with recent tails only; one
    boundary call also holds the whole-window percentiles (so it starts at the window
    start), and the count stays ceil(queries / 500)."""
    names = {"invocations": "Invocations", "latency": "InvocationLatency"}
    region = RegionPoller(
        REGION,
        Direct(boto3.client("cloudwatch", region_name="us-east-1")),
        FULL,
        Clock(NOW0),
    )
    for i in range(150):  # 150 x (1 + 3 per-period + 3 window) = 1050 queries
        region.models[(None, f"us.meta.synthetic-{i:03d}-v1:0")] = ModelSeries(dict(names))
    first, start, end = region.plan(NOW0)
    assert len(first) == math.ceil(1050 / 500)
    assert all(c.start == start for c in first)
    for call in first:  # as if the first poll succeeded
        for q in call.queries.values():
            if not q.key.window:
                region.models[(None, q.key.model_id)].loaded[(q.key.metric, q.key.stat)] = end
    later, start1, _ = region.plan(NOW0 + 60)
    assert len(later) == math.ceil(1050 / 500)
    tail_start = align_down(end - region.settings.overlap_s, PERIOD)
    # 600 tails and 450 window queries: [500 tails] [100 tails + 400 window] [50 window]
    assert sorted(c.start for c in later) == [start1, start1, tail_start]
    tails = [q for c in later for q in c.queries.values() if not q.key.window]
    assert all(q.start == tail_start for q in tails)
