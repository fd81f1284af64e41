"""Three CloudWatch alarms of the demo account, in the DescribeAlarms answer's shape, so
``--demo`` shows alarm markers: one in ALARM (the model with the throttle storm), one OK and
one metric-math alarm still waiting for data.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Any, Final

from bedrock_top.figures.catalog import MODEL_DIMENSION, NAMESPACE

ACCOUNT_ID: Final = "123456789012"
THROTTLED: Final = "us.anthropic.claude-sonnet-4-20250514-v1:0"
STEADY: Final = "anthropic.claude-3-haiku-20240307-v1:0"
ERRORS: Final = "us.meta.llama3-3-70b-instruct-v1:0"


def _alarm(region: str, name: str, state: str, reason: str, at: datetime) -> dict[str, Any]:
    return {
        "AlarmName": name,
        "AlarmArn": f"arn:aws:cloudwatch:{region}:{ACCOUNT_ID}:alarm:{name}",
        "ActionsEnabled": True,
        "StateValue": state,
        "StateReason": reason,
        "StateUpdatedTimestamp": at,
        "EvaluationPeriods": 3,
        "DatapointsToAlarm": 3,
        "TreatMissingData": "notBreaching",
    }


def _stat(query_id: str, metric: str, model_id: str) -> dict[str, Any]:
    dims = [{"Name": MODEL_DIMENSION, "Value": model_id}]
    metric_ = {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dims}
    return {
        "Id": query_id,
        "MetricStat": {"Metric": metric_, "Period": 60, "Stat": "Sum"},
        "ReturnData": False,
    }


def demo_alarms(region: str, now: float, models: Collection[str]) -> list[dict[str, Any]]:
    """The ``MetricAlarms`` of the demo account in ``region`` (by name, as CloudWatch sorts),
    those of the ``models`` it has."""
    at = datetime.fromtimestamp(now - now % 60 - 180, UTC)
    throttles = _alarm(
        region,
        "sonnet-4-throttled",
        "ALARM",
        "Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (0.0).",
        at,
    )
    throttles.update(
        Namespace=NAMESPACE,
        MetricName="InvocationThrottles",
        Dimensions=[{"Name": MODEL_DIMENSION, "Value": THROTTLED}],
        Statistic="Sum",
        Period=60,
        Threshold=0.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    latency = _alarm(
        region,
        "haiku-p90-latency",
        "OK",
        "Threshold Crossed: no datapoints were greater than the threshold (5000.0).",
        at,
    )
    latency.update(
        Namespace=NAMESPACE,
        MetricName="InvocationLatency",
        Dimensions=[{"Name": MODEL_DIMENSION, "Value": STEADY}],
        ExtendedStatistic="p90",
        Period=60,
        Threshold=5000.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    errors = _alarm(region, "llama-error-rate", "INSUFFICIENT_DATA", "Unchecked: Initial alarm "
                    "creation", at)  # fmt: skip
    errors.update(
        Metrics=[
            _stat("m1", "InvocationClientErrors", ERRORS),
            _stat("m2", "InvocationServerErrors", ERRORS),
            _stat("m3", "Invocations", ERRORS),
            {"Id": "e1", "Expression": "100*(m1+m2)/m3", "Label": "error %", "ReturnData": True},
        ],
        Threshold=5.0,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
    )
    alarms = [(throttles, THROTTLED), (latency, STEADY), (errors, ERRORS)]
    return sorted((a for a, model in alarms if model in models), key=lambda a: a["AlarmName"])
