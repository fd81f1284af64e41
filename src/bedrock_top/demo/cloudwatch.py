"""A synthetic CloudWatch client for ``bedrock-top --demo``.

``DemoCloudWatch`` answers ``list_metrics`` and ``get_metric_data`` with the same keyword
arguments, rules and response shapes as boto3's CloudWatch client, so the demo drives the
real discovery, planner and poller code. Requests are checked against botocore's own
service model and against the CloudWatch limits botocore does not check (query count, Id
pattern, periods, datapoint budget), raising the same ``ClientError`` CloudWatch would.

The data (see ``demo_data``) is deterministic for a seed and a clock, follows a daily curve
with random bursts, and replays incidents every few minutes so a newcomer sees throttles,
errors and latency spikes at once. Like CloudWatch, a minute's data arrives late and in parts.

The other Bedrock namespaces (Mantle, Agents, Guardrails, Knowledge Bases, Batch) come from
``demo.surfaces``: same validation, pagination and retention, their own data.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from functools import cache, cached_property, lru_cache
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError
from botocore.model import ServiceModel, Shape
from botocore.validate import validate_parameters

from bedrock_top.demo import data as dd
from bedrock_top.figures.catalog import MODEL_DIMENSION, NAMESPACE

if TYPE_CHECKING:
    from bedrock_top.demo.surfaces import DemoSurfaces

_CACHE_COUNT: Final = ("CacheReadInputTokenCount", "CacheWriteInputTokenCount")
_CACHE_TOKENS: Final = ("CacheReadInputTokens", "CacheWriteInputTokens")
_SERVICE_TIER: Final = (
    ("ServiceTier", "default", ("Invocations", "InputTokenCount", "OutputTokenCount")),
)

DEFAULT_PROFILES: Final = (
    dd.ModelProfile("anthropic.claude-3-haiku-20240307-v1:0", 90, 1200, 350, 1500, 250),
    dd.ModelProfile("amazon.titan-embed-text-v2:0", 240, 80, None, 300, phase=0.05),
    dd.ModelProfile("cohere.command-r-plus-v1:0", 3, 2500, None, 2000, 400, phase=0.1),
    dd.ModelProfile(
        "mistral.mistral-large-2407-v1:0", 12, 3000, None, 1800, 500, incident=dd.IDLE
    ),
    dd.ModelProfile(
        "amazon.nova-canvas-v1:0", 4, 6000, images=True, phase=0.2,
        extra_dimensions=(("ImageSize", "1024x1024", ("OutputImageCount",)),),
    ),
    dd.ModelProfile(
        "us.anthropic.claude-sonnet-4-20250514-v1:0", 50, 6000, 900, 4000, 600,
        _CACHE_COUNT, 3000, 400, burndown=5, incident=dd.THROTTLE_STORM,
        extra_dimensions=_SERVICE_TIER,
    ),
    dd.ModelProfile(
        "global.anthropic.claude-sonnet-4-5-20250929-v1:0", 35, 7000, 1100, 5000, 800,
        _CACHE_TOKENS, 4000, 600, burndown=5, phase=-0.05,
        extra_dimensions=(("ContextWindow", "200k", ("InputTokenCount",)),),
    ),
    dd.ModelProfile(
        "us.meta.llama3-3-70b-instruct-v1:0", 90, 2200, 400, 1200, 350,
        incident=dd.ERROR_BURST, estimated_tpm=False,
    ),
    dd.ModelProfile(
        "us.amazon.nova-pro-v1:0", 40, 1800, 300, 2500, 300, incident=dd.LATENCY_SPIKE
    ),
    dd.ModelProfile("us.deepseek.r1-v1:0", 6, 15_000, 3000, 800, 2500, phase=0.3),
    dd.ModelProfile("x7k2p9q4m1z8", 20, 1500, 400, 1000, 200, phase=-0.1),  # app profile
    # Scheduled jobs: listed by CloudWatch, idle in most windows (polled by heartbeat only).
    dd.ModelProfile(
        "us.anthropic.claude-opus-4-1-20250805-v1:0", 15, 12_000, 2000, 6000, 1500,
        _CACHE_COUNT, 5000, 800, burndown=5, incident=dd.BATCH, batch_at=0,
    ),
    dd.ModelProfile("amazon.nova-micro-v1:0", 60, 600, 150, 800, 200, incident=dd.BATCH,
                    batch_at=1),
    dd.ModelProfile("us.meta.llama4-maverick-17b-instruct-v1:0", 30, 2000, 400, 1500, 400,
                    incident=dd.BATCH, batch_at=2),
    dd.ModelProfile("cohere.embed-english-v3", 120, 60, None, 400, incident=dd.BATCH,
                    batch_at=3),
    dd.ModelProfile("ai21.jamba-1-5-large-v1:0", 10, 3000, None, 2500, 300, incident=dd.BATCH,
                    batch_at=1),
    dd.ModelProfile("us.mistral.pixtral-large-2502-v1:0", 8, 4000, 600, 3000, 500,
                    incident=dd.BATCH, batch_at=3),
)  # fmt: skip
DEMO_MODELS: Final[tuple[str, ...]] = tuple(p.model_id for p in DEFAULT_PROFILES)

ACCOUNT_ID: Final = "123456789012"
PAGE_SIZE: Final = 500
MAX_QUERIES: Final = 500
MAX_DATAPOINTS: Final = 100_800
_ID = re.compile(r"^[a-z][A-Za-z0-9_]*$")
_DAY: Final = 86_400


@cache
def _input_shape(operation: str) -> Shape:
    """botocore's request shape of a CloudWatch operation (the model loads once: ~0.1 s)."""
    shape = _service_model().operation_model(operation).input_shape
    assert shape is not None
    return shape


@cache
def _service_model() -> ServiceModel:
    import botocore.session

    return botocore.session.get_session().get_service_model("cloudwatch")


def _error(operation: str, code: str, message: str) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return ClientError(response, operation)


def _epoch(value: datetime | float | str) -> float:
    """A boto3 timestamp argument as epoch seconds (naive datetimes are UTC, as in botocore)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    return float(value)


SeriesKey = tuple[str, str, frozenset[tuple[str, str]]]


class DemoCloudWatch:
    """Drop-in for the ``list_metrics`` and ``get_metric_data`` methods of a boto3 client.

    ``calls`` counts calls per operation and ``metrics_requested`` the queries received by
    GetMetricData, so the demo can show what the same polling would cost on AWS. As in
    CloudWatch, StartTime is rounded down to the minute, buckets step by Period from there,
    a bucket without samples has no datapoint, and a Label defaults to the metric name.
    ``samples()`` exposes the raw samples behind the statistics, for tests.
    """

    def __init__(
        self,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        region: str = "us-east-1",
        profiles: Sequence[dd.ModelProfile] = DEFAULT_PROFILES,
    ) -> None:
        self.seed = seed
        self.region = region
        self._data_seed = dd.stable_seed("demo", seed, region)  # regions differ
        self.calls: Counter[str] = Counter()
        self.metrics_requested = 0
        # Like botocore's Config(parameter_validation=...): about 13 us per query.
        self.parameter_validation = True
        self._clock = clock
        self._lock = threading.Lock()
        self.profiles = tuple(profiles)
        self.models: tuple[str, ...] = tuple(p.model_id for p in self.profiles)
        self._listing: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        self._series: dict[SeriesKey, int] = {}
        for index, profile in enumerate(self.profiles):
            base = ((MODEL_DIMENSION, profile.model_id),)
            for name in profile.metric_names():
                self._add_series(index, name, base)
            for dim, value, names in profile.extra_dimensions:
                for name in names:
                    self._add_series(index, name, (*base, (dim, value)))
        # Bounded caches (a record is under 1 kB, a plan a few kB).
        self._shape = lru_cache(maxsize=4096)(self._make_shape)
        self._plan = lru_cache(maxsize=2048)(self._make_plan)
        self._prefix = lru_cache(maxsize=16_384)(self._make_prefix)
        self._hour_total = lru_cache(maxsize=16_384)(self._make_hour_total)
        # The other Bedrock namespaces (Mantle, Agents, Guardrails, Knowledge Bases, Batch).

    @cached_property
    def surfaces(self) -> DemoSurfaces:
        """The other namespaces' data, built when first asked for (``--once`` of the models
        never needs it)."""
        from bedrock_top.demo.surfaces import DemoSurfaces

        return DemoSurfaces(self.seed, self.region)

    @property
    def clock(self) -> Callable[[], float]:
        """The clock the data follows (the demo's quotas are sized on it)."""
        return self._clock

    def _add_series(self, index: int, name: str, dims: tuple[tuple[str, str], ...]) -> None:
        self._listing.append((name, dims))
        self._series[(NAMESPACE, name, frozenset(dims))] = index

    # --- ListMetrics -----------------------------------------------------------------------

    def list_metrics(self, **kwargs: Any) -> dict[str, Any]:
        """ListMetrics: the published series, 500 per page."""
        with self._lock:
            self.calls["ListMetrics"] += 1
        if self.parameter_validation:
            validate_parameters(kwargs, _input_shape("ListMetrics"))
        if kwargs.get("RecentlyActive", "PT3H") != "PT3H":
            raise _error("ListMetrics", "InvalidParameterValue", "RecentlyActive must be PT3H")
        namespace = kwargs.get("Namespace", NAMESPACE)  # none: AWS/Bedrock only, as before
        listing = self._listing if namespace == NAMESPACE else self.surfaces.listing(namespace)
        matches = matching_metrics(listing, kwargs)
        offset = self._page_offset("ListMetrics", kwargs.get("NextToken"), len(matches))
        return metrics_page(namespace, matches, offset, kwargs, "demo-list-")

    # --- DescribeAlarms ----------------------------------------------------------------------

    def describe_alarms(self, **kwargs: Any) -> dict[str, Any]:
        """DescribeAlarms: a few alarms on the demo's models (``demo.alarms``), paginated."""
        from bedrock_top.demo.alarms import demo_alarms

        with self._lock:
            self.calls["DescribeAlarms"] += 1
        if self.parameter_validation:
            validate_parameters(kwargs, _input_shape("DescribeAlarms"))
        wanted = kwargs.get("AlarmTypes", ["MetricAlarm"])
        alarms = demo_alarms(self.region, self._clock(), self.models)
        alarms = alarms if "MetricAlarm" in wanted else []
        offset = self._page_offset("DescribeAlarms", kwargs.get("NextToken"), len(alarms))
        end = offset + kwargs.get("MaxRecords", 50)
        page: dict[str, Any] = {"MetricAlarms": alarms[offset:end], "CompositeAlarms": []}
        if end < len(alarms):
            page["NextToken"] = f"demo-list-{end}"
        return page

    @staticmethod
    def _page_offset(operation: str, token: str | None, total: int) -> int:
        if token is None:
            return 0
        prefix = "demo-list-"
        if not token.startswith(prefix) or not token[len(prefix) :].isdigit():
            raise _error(operation, "InvalidNextToken", "The NextToken is not valid")
        offset = int(token[len(prefix) :])
        if offset > total:
            raise _error(operation, "InvalidNextToken", "The NextToken is not valid")
        return offset

    # --- GetMetricData ---------------------------------------------------------------------

    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        """GetMetricData over MetricStat queries, paginated by MaxDatapoints / NextToken."""
        with self._lock:
            self.calls["GetMetricData"] += 1
            self.metrics_requested += len(kwargs.get("MetricDataQueries", ()))
        if self.parameter_validation:
            validate_parameters(kwargs, _input_shape("GetMetricData"))
        queries: list[Mapping[str, Any]] = kwargs["MetricDataQueries"]
        start, end = _epoch(kwargs["StartTime"]), _epoch(kwargs["EndTime"])
        self._check_request(queries, start, end, kwargs.get("ScanBy", "TimestampDescending"))
        max_points = kwargs.get("MaxDatapoints", MAX_DATAPOINTS)
        if max_points < 1:
            raise _error("GetMetricData", "ValidationError", "MaxDatapoints must be positive.")
        offset, now = 0, self._clock()
        if "NextToken" in kwargs:  # later pages see the data as of the first page
            offset, now = _parse_data_token(kwargs["NextToken"])
        memo: dict[tuple[int, int, int], dd.Record] = {}
        results = []
        for query in queries:
            if query.get("ReturnData", True):
                points = self._points(query["MetricStat"], start, end, now, memo)
                if kwargs.get("ScanBy", "TimestampDescending") == "TimestampDescending":
                    points.reverse()
                results.append((query, points))
        return _paginate(results, offset, now, max_points)

    @staticmethod
    def _check_request(
        queries: list[Mapping[str, Any]], start: float, end: float, scan_by: str
    ) -> None:
        """The CloudWatch rules that botocore's parameter validation does not cover."""

        def fail(message: str) -> ClientError:
            return _error("GetMetricData", "ValidationError", message)

        if len(queries) > MAX_QUERIES:
            raise fail(f"The collection MetricDataQueries must not have a size greater than "
                       f"{MAX_QUERIES}.")  # fmt: skip
        if start >= end:
            raise fail("The parameter StartTime must be less than the parameter EndTime.")
        if scan_by not in ("TimestampDescending", "TimestampAscending"):
            raise fail(f"Invalid ScanBy value: {scan_by}")
        seen: set[str] = set()
        datapoints = 0
        for query in queries:
            query_id = query["Id"]
            if not _ID.match(query_id):
                raise fail(f"Invalid metric data query Id: {query_id!r} must match "
                           "^[a-z][A-Za-z0-9_]*$")  # fmt: skip
            if query_id in seen:
                raise fail(f"The value {query_id} for field Id must be unique.")
            seen.add(query_id)
            if "Expression" in query or "MetricStat" not in query:
                raise fail(f"Query {query_id}: the demo backend supports MetricStat only.")
            stat = query["MetricStat"]
            period = stat["Period"]
            if period <= 0 or period % 60:
                raise fail(f"Query {query_id}: the period must be a multiple of 60.")
            name = stat["Stat"]
            if name not in dd.BASIC_STATS and dd.parse_percentile(name) is None:
                raise fail(f"Query {query_id}: unsupported statistic {name!r}.")
            datapoints += math.ceil((end - start) / period)
        if datapoints > MAX_DATAPOINTS:
            raise fail(f"You have requested up to {datapoints} datapoints, which exceeds "
                       f"the limit of {MAX_DATAPOINTS}.")  # fmt: skip

    def _points(
        self,
        stat: Mapping[str, Any],
        start: float,
        end: float,
        now: float,
        memo: dict[tuple[int, int, int], dd.Record],
    ) -> list[tuple[int, float]]:
        """(bucket start, value) pairs, ascending, for buckets holding at least one sample."""
        metric = stat["Metric"]
        dims = frozenset((d["Name"], d["Value"]) for d in metric.get("Dimensions", ()))
        period = stat["Period"]
        if metric.get("Namespace", NAMESPACE) != NAMESPACE:
            if not _retained(start, period, now):
                return []
            return self.surfaces.points(metric["Namespace"], metric["MetricName"], dims,
                                        stat["Stat"], period, start, end, now)  # fmt: skip
        index = self._series.get((metric.get("Namespace", ""), metric["MetricName"], dims))
        if index is None or not _retained(start, period, now):
            return []
        fields = dd.METRIC_FIELDS[metric["MetricName"]]
        statistic = stat["Stat"]
        points = []
        first = int(start // 60) * 60  # CloudWatch rounds StartTime down to the minute
        minutes, last_minute = period // 60, math.ceil(end / 60)
        for bucket in range(first, math.ceil(end), period):
            lo = bucket // 60
            hi = lo + minutes if bucket + period <= end else last_minute
            record = memo.get((index, lo, hi))
            if record is None:
                record = memo[(index, lo, hi)] = self._aggregate(index, lo, hi, now)
            if record[fields.count]:
                value = self._statistic(record, fields, statistic, index, lo, hi, now)
                points.append((bucket, value))
        return points

    def _statistic(
        self,
        record: dd.Record,
        fields: dd.MetricFields,
        statistic: str,
        index: int,
        lo: int,
        hi: int,
        now: float,
    ) -> float:
        total, count = record[fields.total], record[fields.count]
        if statistic == "Sum":
            return float(total)
        if statistic == "SampleCount":
            return float(count)
        if statistic == "Average":
            return total / count
        percentile = dd.parse_percentile(statistic)  # Minimum and Maximum too
        assert percentile is not None
        if fields.hist is not None:
            return float(dd.hist_percentile(record[fields.hist], percentile))
        # Counters keep totals only: walk the requests themselves (slow, rarely asked).
        values = self._request_samples(index, lo, hi, now, fields)
        return float(dd.percentile_of(values, percentile))

    # --- the data ----------------------------------------------------------------------------

    def _make_shape(self, index: int, hour: int) -> dd.HourShape:
        return dd.shape_hour(self.profiles[index], self._data_seed, hour)

    def _make_plan(self, index: int, hour: int) -> dd.HourPlan:
        return dd.plan_hour(self.profiles[index], self._data_seed, hour, self._shape(index, hour))

    def _make_prefix(self, index: int, regime: int, x: int) -> dd.Record:
        return dd.prefix_record(self.profiles[index], regime, x)

    def _range_record(self, index: int, ranges: list[dd.Range]) -> dd.Record:
        return dd.sum_records(
            [
                dd.diff_records(self._prefix(index, g, x1), self._prefix(index, g, x0))
                for g, x0, x1 in ranges
                if x1 > x0
            ]
        )

    def _make_hour_total(self, index: int, hour: int) -> dd.Record:
        return self._range_record(index, self._shape(index, hour).ranges())

    def _aggregate(self, index: int, lo: int, hi: int, now: float) -> dd.Record:
        """Totals (and merged histograms) of the data visible now for minutes [lo, hi)."""
        parts = []
        for hour, first, end, fraction in dd.spans(lo, hi, now):
            if (first, end) == (0, 60):
                parts.append(self._hour_total(index, hour))
            else:
                ranges = dd.request_ranges(self._plan(index, hour), first, end, fraction)
                parts.append(self._range_record(index, ranges))
        return dd.sum_records(parts)

    def _request_samples(
        self, index: int, lo: int, hi: int, now: float, fields: dd.MetricFields
    ) -> list[int]:
        """Each request's own value of a metric, for the statistics no total can give."""
        profile, values = self.profiles[index], []
        for hour, first, end, fraction in dd.spans(lo, hi, now):
            for regime, x0, x1 in dd.request_ranges(self._plan(index, hour), first, end, fraction):
                before = dd.prefix_record(profile, regime, x0)
                for x in range(x0 + 1, x1 + 1):
                    after = dd.prefix_record(profile, regime, x)
                    if fields.hist is not None:
                        values += dd.hist_values(after[fields.hist] - before[fields.hist])
                    elif after[fields.count] > before[fields.count]:
                        values.append(after[fields.total] - before[fields.total])
                    before = after
        return values


Listing = Sequence[tuple[str, tuple[tuple[str, str], ...]]]  # (metric name, dimensions)


def matching_metrics(listing: Listing, kwargs: Mapping[str, Any]) -> list[Any]:
    """The listed metrics a ListMetrics request's MetricName and Dimensions filters keep."""
    wanted_name = kwargs.get("MetricName")
    wanted_dims = [(d["Name"], d.get("Value")) for d in kwargs.get("Dimensions", [])]
    return [
        (name, dims)
        for name, dims in listing
        if wanted_name in (None, name)
        and all(_has_dimension(dims, key, value) for key, value in wanted_dims)
    ]


def metrics_page(
    namespace: str, matches: Listing, offset: int, kwargs: Mapping[str, Any], token_prefix: str
) -> dict[str, Any]:
    """One ListMetrics page (500 metrics) from ``offset``, shaped as CloudWatch answers."""
    page = matches[offset : offset + PAGE_SIZE]
    response: dict[str, Any] = {
        "Metrics": [
            {
                "Namespace": namespace,
                "MetricName": name,
                "Dimensions": [{"Name": k, "Value": v} for k, v in dims],
            }
            for name, dims in page
        ]
    }
    if kwargs.get("IncludeLinkedAccounts"):
        response["OwningAccounts"] = [ACCOUNT_ID] * len(page)
    if offset + PAGE_SIZE < len(matches):
        response["NextToken"] = f"{token_prefix}{offset + PAGE_SIZE}"
    return response


def _has_dimension(dims: tuple[tuple[str, str], ...], name: str, value: str | None) -> bool:
    return any(k == name and value in (None, v) for k, v in dims)


def _retained(start: float, period: int, now: float) -> bool:
    """CloudWatch returns nothing for old data asked at a finer period than it keeps."""
    age = now - start
    if age > 455 * _DAY:
        return False
    if age > 63 * _DAY:
        return period % 3600 == 0
    return age <= 15 * _DAY or period % 300 == 0


def _parse_data_token(token: str) -> tuple[int, float]:
    match = re.fullmatch(r"demo-data-(\d+)@(\d+(?:\.\d+)?)", token)
    if not match:
        raise _error("GetMetricData", "InvalidNextToken", "The NextToken is not valid")
    return int(match.group(1)), float(match.group(2))


def _paginate(
    results: list[tuple[Mapping[str, Any], list[tuple[int, float]]]],
    offset: int,
    now: float,
    max_points: int,
) -> dict[str, Any]:
    """The page of datapoints [offset, offset + max_points) over all results in query order.

    A result cut by the page end says ``PartialData``; empty results come on the first page.
    """
    page: list[dict[str, Any]] = []
    stamps: dict[int, datetime] = {}
    page_end = offset + max_points
    first = 0  # global index of the result's first point
    for query, points in results:
        last = first + len(points)
        lo, hi = max(offset, first), min(page_end, last)
        if lo < hi or (not points and offset == 0):
            taken = points[lo - first : hi - first]
            page.append({
                "Id": query["Id"],
                "Label": query.get("Label", query["MetricStat"]["Metric"]["MetricName"]),
                "Timestamps": [
                    stamps.get(t) or stamps.setdefault(t, datetime.fromtimestamp(t, UTC))
                    for t, _ in taken
                ],
                "Values": [value for _, value in taken],
                "StatusCode": "PartialData" if hi < last else "Complete",
            })  # fmt: skip
        first = last
    response: dict[str, Any] = {"MetricDataResults": page, "Messages": []}
    if page_end < first:
        response["NextToken"] = f"demo-data-{page_end}@{now!r}"
    return response
