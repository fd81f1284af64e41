"""The CloudWatch alarms on Bedrock metrics: DescribeAlarms, followed page by page.

DescribeAlarms cannot filter by namespace, so every metric alarm of the region is listed
(100 per page, the most it allows) and those reading a Bedrock namespace are kept. It is a
standard CloudWatch API request (not billed per metric like GetMetricData), read-only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any, Final, Literal, Protocol

from bedrock_top.cloudwatch.discovery import pages
from bedrock_top.figures.alarms import BEDROCK_NAMESPACES, Alarm, AlarmMetric, Dimensions

PAGE_SIZE: Final = 100  # DescribeAlarms' MaxRecords maximum


class AlarmClient(Protocol):
    """The one CloudWatch operation alarms need (a boto3 client or the demo backend)."""

    def describe_alarms(
        self,
        *,
        AlarmTypes: Sequence[Literal["CompositeAlarm", "MetricAlarm"]] = ...,
        MaxRecords: int = ...,
        NextToken: str = ...,
    ) -> Mapping[str, Any]: ...


def _epoch(value: object) -> float | None:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    return None


def _dimensions(items: object) -> Dimensions:
    if not isinstance(items, list):
        return ()
    return tuple((str(d.get("Name", "")), str(d.get("Value", ""))) for d in items)


def _metric(item: Mapping[str, Any]) -> AlarmMetric:
    stat: Mapping[str, Any] = item.get("MetricStat") or {}
    metric: Mapping[str, Any] = stat.get("Metric") or {}
    period = stat.get("Period", item.get("Period"))
    return AlarmMetric(
        id=str(item.get("Id", "")),
        namespace=metric.get("Namespace"),
        metric_name=metric.get("MetricName"),
        stat=stat.get("Stat"),
        period_s=int(period) if period else None,
        dimensions=_dimensions(metric.get("Dimensions")),
        expression=item.get("Expression"),
        return_data=bool(item.get("ReturnData", True)),
    )


def alarm_from_api(item: Mapping[str, Any]) -> Alarm:
    """An ``Alarm`` from one ``MetricAlarms`` entry of DescribeAlarms."""
    threshold = item.get("Threshold")
    period = item.get("Period")
    need = item.get("DatapointsToAlarm")
    return Alarm(
        name=str(item.get("AlarmName", "")),
        arn=str(item.get("AlarmArn", "")),
        state=str(item.get("StateValue", "INSUFFICIENT_DATA")),
        state_reason=str(item.get("StateReason", "")),
        state_updated=_epoch(item.get("StateUpdatedTimestamp")),
        namespace=item.get("Namespace"),
        metric_name=item.get("MetricName"),
        statistic=item.get("Statistic"),
        extended_statistic=item.get("ExtendedStatistic"),
        comparison=str(item.get("ComparisonOperator", "")),
        threshold=float(threshold) if threshold is not None else None,
        period_s=int(period) if period else None,
        evaluation_periods=int(item.get("EvaluationPeriods") or 1),
        datapoints_to_alarm=int(need) if need else None,
        dimensions=_dimensions(item.get("Dimensions")),
        actions_enabled=bool(item.get("ActionsEnabled", True)),
        metrics=tuple(_metric(m) for m in item.get("Metrics") or ()),
        threshold_metric_id=item.get("ThresholdMetricId"),
    )


def reads_namespace(item: Mapping[str, Any], namespaces: Collection[str]) -> bool:
    """Whether a MetricAlarms entry reads a metric of one of ``namespaces``."""
    if item.get("Namespace") in namespaces:
        return True
    for query in item.get("Metrics") or ():
        metric = (query.get("MetricStat") or {}).get("Metric") or {}
        if metric.get("Namespace") in namespaces:
            return True
    return False


def read_alarms(
    client: AlarmClient, namespaces: Collection[str] = BEDROCK_NAMESPACES
) -> list[Alarm]:
    """Every metric alarm of the client's region that reads one of ``namespaces``, by name.
    Raises what the client raises (denied, throttled, unreachable)."""
    found: list[Alarm] = []
    for page in pages(client.describe_alarms, AlarmTypes=["MetricAlarm"], MaxRecords=PAGE_SIZE):
        found.extend(
            alarm_from_api(item)
            for item in page.get("MetricAlarms") or ()
            if reads_namespace(item, namespaces)
        )
    return sorted(found, key=lambda a: a.name)
