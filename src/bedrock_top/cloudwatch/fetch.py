"""One planned GetMetricData call run to its last page, its answers kept as CloudWatch sent
them (parallel timestamps and values per query).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from bedrock_top.cloudwatch.discovery import CloudWatchClient, pages
from bedrock_top.cloudwatch.plan import Call
from bedrock_top.cloudwatch.settings import UsageCounter


@dataclass(slots=True)
class CallResult:
    """Points per query Id of one call (all pages merged) and what CloudWatch noted.

    A query's points are two parallel lists, timestamps (epoch seconds) and values, as
    CloudWatch sends them: no object per datapoint.
    """

    series: dict[str, tuple[Sequence[float], Sequence[float]]] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)

    def points(self, qid: str) -> list[tuple[float, float]]:
        stamps, values = self.series.get(qid, ((), ()))
        return list(zip(stamps, values, strict=True))


_FAILED = frozenset(("InternalError", "Forbidden"))  # a result's StatusCode: nothing usable


def fetch_call(client: CloudWatchClient, call: Call, usage: UsageCounter) -> CallResult:
    """Run one planned GetMetricData call, following NextToken, in whatever order it answers."""
    result = CallResult()
    series = result.series
    failed: dict[str, str] = {}  # Id -> status, as the last page that had the Id says
    queries = call.queries
    for page in pages(client.get_metric_data, **call.request()):
        usage.get_metric_data_calls += 1
        usage.metrics_requested += len(queries)
        result.messages.extend(m.get("Value", m.get("Code", "")) for m in page.get("Messages", []))
        for item in page.get("MetricDataResults", []):
            qid = item["Id"]
            if qid not in queries:
                continue
            stamps = epochs(item.get("Timestamps", ()))
            values = item.get("Values", ())
            if len(stamps) != len(values):
                raise ValueError(f"{qid}: {len(stamps)} timestamps but {len(values)} values")
            earlier = series.get(qid)
            if earlier is None:
                series[qid] = (stamps, values)
            else:  # the rest of a series cut short on an earlier page
                series[qid] = ([*earlier[0], *stamps], [*earlier[1], *values])
            code = item.get("StatusCode")
            if code in _FAILED:
                failed[qid] = code
            elif failed:
                failed.pop(qid, None)
            for m in item.get("Messages", ()):
                result.messages.append(f"{queries[qid].key.model_id}: {m.get('Value', '')}")
    for qid, code in failed.items():
        result.failed.add(qid)
        result.messages.append(f"{queries[qid].key.model_id}: {code}")
    return result


def epochs(stamps: Sequence[datetime | float]) -> Sequence[float]:
    """A result's timestamps as epoch seconds. bedrock-top's own clients already give numbers
    (``wire``), passed on as they are; boto3's default (the demo, Stubber) gives datetimes."""
    if stamps and isinstance(stamps[0], datetime):
        return [int(ts.timestamp()) for ts in stamps]  # type: ignore[union-attr]
    return stamps  # type: ignore[return-value]
