"""Ready-to-paste ``aws cloudwatch put-metric-alarm`` commands that turn a model's bedrock-top
alert rules into CloudWatch alarms, so the alert keeps working when bedrock-top is not
running. bedrock-top never calls a write API: it only prints the commands.

A rule becomes an alarm only where CloudWatch has the same figure per minute: throttles,
invocations, tokens, errors (metric math), latency and, with a known limit, TPM quota use.
Window totals, money, spikes and the like have no CloudWatch metric: they get a comment
saying so. Missing data never breaches, as an unknown figure never holds a bedrock-top rule.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

from bedrock_top.figures.alert_rules import AlertRule
from bedrock_top.figures.catalog import (
    CLIENT_ERRORS,
    INPUT_TOKENS,
    INVOCATIONS,
    LATENCY,
    MODEL_DIMENSION,
    NAMESPACE,
    OUTPUT_TOKENS,
    SERVER_ERRORS,
    THROTTLES,
    TPM_QUOTA,
    TTFT,
    parse_model_id,
)
from bedrock_top.figures.surfaces import MODELS_VIEW
from bedrock_top.views.rows import row_filter

PERIOD_S: Final = 60
MAX_NAME: Final = 255  # CloudWatch's AlarmName limit
MAX_DESCRIPTION: Final = 1024
OPERATORS: Final = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}
ACTIONS_HINT: Final = "# add --alarm-actions arn:aws:sns:REGION:ACCOUNT:TOPIC to be notified"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_SHORTHAND_SAFE = re.compile(r"[A-Za-z0-9._:/-]+")


@dataclass(frozen=True, slots=True)
class Single:
    """One metric with one statistic (a percentile goes in ``--extended-statistic``)."""

    metric: str
    stat: str


@dataclass(frozen=True, slots=True)
class Math:
    """A metric-math expression over per-minute Sums of metrics m1, m2, ..."""

    expression: str
    label: str
    metrics: tuple[str, ...]


SINGLE: Final[Mapping[str, Single]] = {
    "thr_min": Single(THROTTLES.cloudwatch_names[0], "Sum"),
    "inv_rate": Single(INVOCATIONS.cloudwatch_names[0], "Sum"),
    "in_rate": Single(INPUT_TOKENS.cloudwatch_names[0], "Sum"),
    "out_rate": Single(OUTPUT_TOKENS.cloudwatch_names[0], "Sum"),
    "lat_p90": Single(LATENCY.cloudwatch_names[0], "p90"),
    "lat_avg": Single(LATENCY.cloudwatch_names[0], "Average"),
    "lat_ttft": Single(TTFT.cloudwatch_names[0], "p90"),
}
_ERRORS: Final = (CLIENT_ERRORS.cloudwatch_names[0], SERVER_ERRORS.cloudwatch_names[0])
MATH: Final[Mapping[str, Math]] = {
    "err_min": Math("m1+m2", "errors per minute", _ERRORS),
    "err_rate_min": Math(
        "100*(m1+m2)/m3", "error rate %", (*_ERRORS, INVOCATIONS.cloudwatch_names[0])
    ),
}
QUOTA_FIGURES: Final = frozenset({"quota", "tpm_pct"})
QUOTA_METRIC: Final = TPM_QUOTA.cloudwatch_names[0]


@dataclass(frozen=True, slots=True)
class _Model:
    """The model as the row filter sees a models-view row: its id and its provider."""

    model_id: str
    region: str

    @property
    def names(self) -> tuple[str, ...]:
        return (self.model_id, parse_model_id(self.model_id).provider or "")


def applies(rule: AlertRule, model_id: str) -> bool:
    """Whether the rule judges this model's row: an enabled per-row rule of the models view
    whose filter keeps the model (the filter of every output). A bad pattern keeps nothing."""
    if not rule.enabled or rule.total or rule.view != MODELS_VIEW:
        return False
    try:
        keep = row_filter(rule.filter)
    except re.error:
        return False
    return keep is None or keep(_Model(model_id, ""))


def sanitize(text: str) -> str:
    """Letters, digits, '.', '_' and '-' only (a model id's ':' and '/' become '-')."""
    return _UNSAFE.sub("-", text).strip("-") or "x"


def alarm_name(rule: AlertRule, model_id: str) -> str:
    """``bedrock-top-<rule>-<model>``, cut to 255 characters (then kept apart by a hash)."""
    name = f"bedrock-top-{sanitize(rule.name)}-{sanitize(model_id)}"
    if len(name) <= MAX_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_NAME - 9]}-{digest}"


def evaluation_periods(rule: AlertRule) -> int:
    """Minutes the comparison must hold: ``for_s`` rounded up, at least one."""
    return max(1, math.ceil(rule.for_s / PERIOD_S))


def _number(value: float) -> str:
    value = float(value)  # a TOML threshold may be an int
    return str(int(value)) if value.is_integer() else repr(value)


def one_line(text: str) -> str:
    """Text for a ``#`` comment or a description: a newline in a rule's name must not end
    the comment (the rest would run when pasted), nor any other control character."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _comment(rule: AlertRule, why: str) -> str:
    return f"# {one_line(rule.name)}: {why}"


def _dimensions(model_id: str) -> list[dict[str, str]]:
    return [{"Name": MODEL_DIMENSION, "Value": model_id}]


def metrics_json(math_: Math, model_id: str) -> str:
    """The ``--metrics`` value: one MetricStat per metric (not returned) and the expression."""
    queries: list[dict[str, object]] = [
        {
            "Id": f"m{i}",
            "MetricStat": {
                "Metric": {
                    "Namespace": NAMESPACE,
                    "MetricName": metric,
                    "Dimensions": _dimensions(model_id),
                },
                "Period": PERIOD_S,
                "Stat": "Sum",
            },
            "ReturnData": False,
        }
        for i, metric in enumerate(math_.metrics, 1)
    ]
    queries.append(
        {"Id": "e1", "Expression": math_.expression, "Label": math_.label, "ReturnData": True}
    )
    return json.dumps(queries, separators=(",", ":"))


def _command(
    rule: AlertRule,
    model_id: str,
    region: str,
    metric: list[tuple[str, str]],
    threshold: float,
    *note: str,
) -> str:
    periods = str(evaluation_periods(rule))
    held = f" for {rule.for_s}s" if rule.for_s else ""
    said = one_line(f"{rule.name}: {rule.figure} {rule.op} {_number(rule.threshold)}{held}")
    description = one_line(f"bedrock-top rule {said} on {model_id} ({rule.severity})")
    options = [
        ("--region", region),
        ("--alarm-name", alarm_name(rule, model_id)),
        ("--alarm-description", description[:MAX_DESCRIPTION]),
        *metric,
        ("--comparison-operator", OPERATORS[rule.op]),
        ("--threshold", _number(threshold)),
        ("--evaluation-periods", periods),
        ("--datapoints-to-alarm", periods),
        ("--treat-missing-data", "notBreaching"),
    ]
    lines = ["aws cloudwatch put-metric-alarm"]
    lines += [f"  {option} {shlex.quote(value)}" for option, value in options]
    notes = "".join(f"# {n}\n" for n in (said, *note))
    return f"{notes}{ACTIONS_HINT}\n" + " \\\n".join(lines)


def _single(single: Single, model_id: str) -> list[tuple[str, str]]:
    stat = ("--extended-statistic" if single.stat.startswith("p") else "--statistic", single.stat)
    return [
        ("--namespace", NAMESPACE),
        ("--metric-name", single.metric),
        stat,
        ("--period", str(PERIOD_S)),
        ("--dimensions", dimensions_option(model_id)),
    ]


def dimensions_option(model_id: str) -> str:
    """The AWS CLI's shorthand ``Name=ModelId,Value=<id>``, or its JSON form for an id with a
    character the shorthand gives a meaning to (never in a real model id or ARN)."""
    if _SHORTHAND_SAFE.fullmatch(model_id):
        return f"Name={MODEL_DIMENSION},Value={model_id}"
    return json.dumps(_dimensions(model_id), separators=(",", ":"))


def alarm_command(
    rule: AlertRule, *, region: str, model_id: str, tpm_limit: float | None = None
) -> str:
    """The command for one rule on one model, or one ``# rule: why not`` comment line."""
    figure = rule.figure
    if figure in SINGLE:
        return _command(rule, model_id, region, _single(SINGLE[figure], model_id), rule.threshold)
    if figure in MATH:
        metric = [("--metrics", metrics_json(MATH[figure], model_id))]
        return _command(rule, model_id, region, metric, rule.threshold)
    if figure in QUOTA_FIGURES:
        if not tpm_limit or tpm_limit <= 0:
            return _comment(rule, "the model's tokens-per-minute quota is unknown, so its % "
                            f"cannot become a {QUOTA_METRIC} threshold")  # fmt: skip
        limit = round(rule.threshold * tpm_limit / 100, 6)
        single = Single(QUOTA_METRIC, "Sum")
        note = f"{rule.threshold:g} % of {tpm_limit:g} tokens per minute"
        if figure == "quota":  # the fuller of TPM and RPM: CloudWatch has the TPM side only
            note += "; the requests-per-minute side has no CloudWatch metric"
        return _command(rule, model_id, region, _single(single, model_id), limit, note)
    return _comment(rule, f"{figure} has no per-minute CloudWatch metric, so no alarm can "
                    "watch it (only bedrock-top can)")  # fmt: skip


def put_metric_alarm_commands(
    rules: Sequence[AlertRule], *, region: str, model_id: str, tpm_limit: float | None = None
) -> list[str]:
    """One command (or ``#`` comment) per rule that judges this model, in the rules' order.
    ``tpm_limit``: the model's tokens-per-minute quota, for the quota % rules."""
    return [
        alarm_command(rule, region=region, model_id=model_id, tpm_limit=tpm_limit)
        for rule in rules
        if applies(rule, model_id)
    ]
