"""``put-metric-alarm`` commands from alert rules: they parse as shell, say what each rule says,
and, run against moto over HTTP (argv translated into boto3's PutMetricAlarm through
botocore's own service model, or with the real AWS CLI where one is installed), make alarms
that ``read_alarms`` finds on the right model with the right threshold and comparison.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
import subprocess
from typing import TYPE_CHECKING, Any, Final

import botocore.session
import pytest
from botocore.model import Shape, StructureShape
from hypothesis import example, given
from hypothesis import strategies as st

from bedrock_top.cloudwatch.alarms import read_alarms
from bedrock_top.figures.alarms import Alarm, alarms_by_model
from bedrock_top.figures.alert_rules import AlertRule
from bedrock_top.views.alarm_commands import (
    ACTIONS_HINT,
    alarm_name,
    applies,
    put_metric_alarm_commands,
)
from support.bedrock_truth import BASE_HAIKU, US_SONNET

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

REGION: Final = "us-east-1"
APP_PROFILE: Final = (
    "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/x7k2p9q4m1z8"
)
NAME: Final = re.compile(r"^[A-Za-z0-9._-]{1,255}$")
# The truth, written out here: figure -> (metric, statistic) or (expression, metrics).
SINGLE: Final = {
    "thr_min": ("InvocationThrottles", "Sum"),
    "inv_rate": ("Invocations", "Sum"),
    "in_rate": ("InputTokenCount", "Sum"),
    "out_rate": ("OutputTokenCount", "Sum"),
    "lat_p90": ("InvocationLatency", "p90"),
    "lat_avg": ("InvocationLatency", "Average"),
    "lat_ttft": ("TimeToFirstToken", "p90"),
    "quota": ("EstimatedTPMQuotaUsage", "Sum"),
    "tpm_pct": ("EstimatedTPMQuotaUsage", "Sum"),
}
MATH: Final = {
    "err_min": ("m1+m2", ["InvocationClientErrors", "InvocationServerErrors"]),
    "err_rate_min": (
        "100*(m1+m2)/m3",
        ["InvocationClientErrors", "InvocationServerErrors", "Invocations"],
    ),
}
COMPARISON: Final = {
    ">": "GreaterThanThreshold",
    ">=": "GreaterThanOrEqualToThreshold",
    "<": "LessThanThreshold",
    "<=": "LessThanOrEqualToThreshold",
}
TPM_LIMIT: Final = 200_000.0
RULES: Final = (
    AlertRule("throttled", "thr_min", ">", 0, for_s=180),
    AlertRule("busy", "inv_rate", ">=", 1000, for_s=61),
    AlertRule("idle", "inv_rate", "<", 1),
    AlertRule("tokens in", "in_rate", ">", 1e6, for_s=120),
    AlertRule("tokens-out", "out_rate", ">", 250_000.5),
    AlertRule("slow p90", "lat_p90", ">", 8000, for_s=300),
    AlertRule("slow-avg", "lat_avg", ">=", 5000),
    AlertRule("ttft", "lat_ttft", ">", 2000, for_s=59),
    AlertRule("errors", "err_min", ">", 10, for_s=180),
    AlertRule("error rate", "err_rate_min", ">=", 5, for_s=180, severity="critical"),
    AlertRule("quota high", "quota", ">=", 80),
    AlertRule("tpm", "tpm_pct", ">", 95, for_s=60),
)
UNMAPPABLE: Final = (
    AlertRule("spend", "usd_per_hour", ">", 10),
    AlertRule("window errors", "errors", ">", 100),
    AlertRule("spike", "spike", ">=", 3),
    AlertRule("rpm", "rpm_pct", ">=", 80),
)


def commands_for(model_id: str, rules: tuple[AlertRule, ...] = RULES) -> list[str]:
    return put_metric_alarm_commands(rules, region=REGION, model_id=model_id, tpm_limit=TPM_LIMIT)


def options(command: str) -> dict[str, str]:
    """--option -> value of one command (each option once). A backslash-newline continues
    the line in a shell (shlex alone would keep the newline as a token)."""
    argv = shlex.split(command.replace("\\\n", ""), comments=True)
    assert argv[:3] == ["aws", "cloudwatch", "put-metric-alarm"]
    pairs = list(zip(argv[3::2], argv[4::2], strict=True))
    assert all(o.startswith("--") and not v.startswith("--") for o, v in pairs)
    found = dict(pairs)
    assert len(found) == len(pairs)
    return found


# --- argv -> boto3, through botocore's own model of PutMetricAlarm ------------------------


def _input_shape() -> StructureShape:
    model = botocore.session.get_session().get_service_model("cloudwatch")
    shape = model.operation_model("PutMetricAlarm").input_shape
    assert isinstance(shape, StructureShape)
    return shape


def _shorthand(value: str) -> list[dict[str, str]]:
    """The AWS CLI shorthand of one list item: Name=ModelId,Value=x."""
    item = dict(part.split("=", 1) for part in value.split(","))
    assert set(item) == {"Name", "Value"}
    return [item]


def _convert(shape: Shape, value: str) -> Any:
    if shape.type_name == "integer":
        return int(value)
    if shape.type_name == "double":
        return float(value)
    if shape.type_name == "boolean":
        return {"true": True, "false": False}[value]
    if shape.type_name == "list":
        return json.loads(value) if value.startswith("[") else _shorthand(value)
    assert shape.type_name == "string", shape.type_name
    return value


def to_boto3(command: str) -> tuple[str, dict[str, Any]]:
    """(region, PutMetricAlarm kwargs) of a command, as the AWS CLI would send them: every
    option must be a member of the real input shape."""
    members = {name.lower(): (name, shape) for name, shape in _input_shape().members.items()}
    region = ""
    kwargs: dict[str, Any] = {}
    for option, value in options(command).items():
        if option == "--region":
            region = value
            continue
        name, shape = members[option.removeprefix("--").replace("-", "")]
        kwargs[name] = _convert(shape, value)
    return region, kwargs


# --- the text -------------------------------------------------------------------------------


def test_each_rule_becomes_a_command_that_says_what_the_rule_says() -> None:
    commands = commands_for(BASE_HAIKU)
    assert len(commands) == len(RULES)
    for rule, command in zip(RULES, commands, strict=True):
        lines = command.splitlines()
        assert lines[0].startswith(f"# {rule.name}: {rule.figure} {rule.op}")
        assert ACTIONS_HINT in lines
        assert all(line.endswith(" \\") for line in lines[lines.index(ACTIONS_HINT) + 1 : -1])
        found = options(command)
        periods = str(max(1, math.ceil(rule.for_s / 60)))
        assert found["--region"] == REGION
        assert NAME.match(found["--alarm-name"])
        assert found["--alarm-name"].startswith("bedrock-top-")
        assert found["--alarm-name"].endswith("-anthropic.claude-3-haiku-20240307-v1-0")
        assert rule.name in found["--alarm-description"]
        assert found["--comparison-operator"] == COMPARISON[rule.op]
        assert found["--evaluation-periods"] == found["--datapoints-to-alarm"] == periods
        assert found["--treat-missing-data"] == "notBreaching"
        assert "--alarm-actions" not in found
        assert "--ok-actions" not in found
        if rule.figure in SINGLE:
            metric, stat = SINGLE[rule.figure]
            assert found["--namespace"] == "AWS/Bedrock"
            assert found["--metric-name"] == metric
            key = "--extended-statistic" if stat.startswith("p") else "--statistic"
            assert found[key] == stat
            assert found["--period"] == "60"
            assert found["--dimensions"] == f"Name=ModelId,Value={BASE_HAIKU}"
            assert "--metrics" not in found
        else:
            assert {"--namespace", "--metric-name", "--statistic", "--period"}.isdisjoint(found)
    thresholds = {
        r.name: float(options(c)["--threshold"]) for r, c in zip(RULES, commands, strict=True)
    }
    assert thresholds["tokens-out"] == 250_000.5
    assert thresholds["quota high"] == 160_000
    assert thresholds["tpm"] == 190_000
    assert thresholds["error rate"] == 5


def test_error_figures_are_metric_math_over_the_model() -> None:
    commands = dict(zip((r.figure for r in RULES), commands_for(US_SONNET), strict=True))
    for figure, (expression, metrics) in MATH.items():
        queries = json.loads(options(commands[figure])["--metrics"])
        returned = [q for q in queries if q["ReturnData"]]
        assert len(returned) == 1
        assert returned[0]["Expression"] == expression
        read = [q for q in queries if "MetricStat" in q]
        assert [q["MetricStat"]["Metric"]["MetricName"] for q in read] == metrics
        assert [q["Id"] for q in read] == [f"m{i}" for i in range(1, len(metrics) + 1)]
        for query in read:
            stat = query["MetricStat"]
            assert stat["Metric"]["Namespace"] == "AWS/Bedrock"
            assert stat["Metric"]["Dimensions"] == [{"Name": "ModelId", "Value": US_SONNET}]
            assert (stat["Period"], stat["Stat"], query["ReturnData"]) == (60, "Sum", False)
        ids = set(re.findall(r"m\d+", expression))
        assert ids <= {q["Id"] for q in read}


def test_what_cannot_be_an_alarm_is_a_comment_line() -> None:
    rules = (*UNMAPPABLE, AlertRule("quota high", "quota", ">=", 80))
    lines = put_metric_alarm_commands(rules, region=REGION, model_id=BASE_HAIKU)
    assert len(lines) == len(rules)
    for rule, line in zip(rules, lines, strict=True):
        assert line.startswith(f"# {rule.name}: ")
        assert "\n" not in line
        assert shlex.split(line, comments=True) == []
    assert "quota is unknown" in lines[-1]  # no tpm_limit given
    assert "no per-minute CloudWatch metric" in lines[0]


def test_only_the_rules_that_judge_the_model() -> None:
    rules = (
        AlertRule("haiku only", "thr_min", ">", 0, filter="HAIKU"),
        AlertRule("not haiku", "thr_min", ">", 0, filter="!haiku"),
        AlertRule("anthropic", "thr_min", ">", 0, filter="^anthropic\\."),
        AlertRule("off", "thr_min", ">", 0, enabled=False),
        AlertRule("sum", "thr_min", ">", 0, total=True),
        AlertRule("agents", "thr_min", ">", 0, view="agents"),
        AlertRule("bad regex", "thr_min", ">", 0, filter="("),
        AlertRule("lone bang", "thr_min", ">", 0, filter="!"),
    )

    def names(model_id: str) -> list[str]:
        return [r.name for r in rules if applies(r, model_id)]

    assert names(BASE_HAIKU) == ["haiku only", "anthropic", "lone bang"]
    assert names(US_SONNET) == ["not haiku", "lone bang"]
    assert len(put_metric_alarm_commands(rules, region=REGION, model_id=US_SONNET)) == 2


def test_names_are_sanitized_cut_and_kept_apart() -> None:
    assert alarm_name(RULES[0], APP_PROFILE) == (
        "bedrock-top-throttled-arn-aws-bedrock-us-east-1-123456789012-"
        "application-inference-profile-x7k2p9q4m1z8"
    )
    assert alarm_name(AlertRule("a b/c", "thr_min", ">", 0), "m") == "bedrock-top-a-b-c-m"
    long_a, long_b = "x" * 300 + "a", "x" * 300 + "b"
    names = {alarm_name(RULES[0], long_a), alarm_name(RULES[0], long_b)}
    assert len(names) == 2
    assert all(NAME.match(n) for n in names)


@given(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=80),
    st.text(st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=40),
)
@example(model_id="a\u2028b c'd", rule="x\ny\raws sts get-caller-identity\x00")
def test_any_model_id_and_rule_name_make_a_well_formed_command(model_id: str, rule: str) -> None:
    """Whatever the names, pasting runs exactly one command per rule: a newline in a rule's
    name stays inside its comment."""
    rules = (
        AlertRule(rule, "thr_min", ">", 0),
        AlertRule(rule, "err_min", ">", 1),
        AlertRule(rule, "spike", ">", 1),
    )
    single, metric_math, comment = put_metric_alarm_commands(
        rules, region=REGION, model_id=model_id
    )
    for text in (single, metric_math):
        lines = text.split("\n")
        start = lines.index("aws cloudwatch put-metric-alarm \\")
        assert all(line.startswith("#") for line in lines[:start])
        assert all(line.startswith("  --") for line in lines[start + 1 :])
    assert "\n" not in comment
    assert comment.startswith("# ")
    found = options(single)
    assert NAME.match(found["--alarm-name"])
    dims = found["--dimensions"]
    parsed = json.loads(dims) if dims.startswith("[") else _shorthand(dims)
    assert parsed == [{"Name": "ModelId", "Value": model_id}]
    queries = json.loads(options(metric_math)["--metrics"])
    assert queries[0]["MetricStat"]["Metric"]["Dimensions"][0]["Value"] == model_id


# --- against the API (moto over HTTP) ------------------------------------------------------


def check_alarms(
    alarms: list[Alarm], model_id: str, rules: tuple[AlertRule, ...], commands: list[str]
) -> None:
    """The alarms read back are the commands' ones, on the model, with their conditions."""
    mine = {a.name: a for a in alarms_by_model(alarms)[model_id]}
    assert set(mine) == {options(c)["--alarm-name"] for c in commands}
    for rule, command in zip(rules, commands, strict=True):
        alarm = mine[options(command)["--alarm-name"]]
        assert alarm.symbol == rule.op
        assert alarm.threshold == float(options(command)["--threshold"])
        assert alarm.evaluation_periods == max(1, math.ceil(rule.for_s / 60))
        if rule.figure in SINGLE:
            assert (alarm.metric_name, alarm.stat) == SINGLE[rule.figure]
            assert alarm.period_s == 60
            assert alarm.dimensions == (("ModelId", model_id),)
        else:
            expression, metrics = MATH[rule.figure]
            assert [m.expression for m in alarm.metrics if m.return_data] == [expression]
            assert [m.metric_name for m in alarm.metrics if m.metric_name] == metrics


@pytest.mark.parametrize("model_id", [BASE_HAIKU, APP_PROFILE])
def test_the_commands_make_alarms_read_alarms_finds(
    cloudwatch_client: CloudWatchClient, model_id: str
) -> None:
    commands = commands_for(model_id)
    for command in commands:
        region, kwargs = to_boto3(command)
        assert region == REGION
        cloudwatch_client.put_metric_alarm(**kwargs)
    other = commands_for(US_SONNET, RULES[:1])
    cloudwatch_client.put_metric_alarm(**to_boto3(other[0])[1])
    alarms = read_alarms(cloudwatch_client)
    assert len(alarms) == len(RULES) + 1
    check_alarms(alarms, model_id, RULES, commands)
    assert [a.name for a in alarms_by_model(alarms)[US_SONNET]] == [
        options(other[0])["--alarm-name"]
    ]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_real_aws_cli_accepts_the_commands(
    cloudwatch_endpoint: str, cloudwatch_client: CloudWatchClient
) -> None:
    """Pasted as they are (plus the test endpoint): the CLI's own parsing of every option."""
    # One of each kind (the CLI takes ~0.5 s to start): statistic, percentile, math, quota.
    rules = tuple(r for r in RULES if r.figure in {"thr_min", "lat_p90", "err_rate_min", "tpm_pct"})
    commands = commands_for(APP_PROFILE, rules)
    for command in commands:
        script = command.rstrip() + f" \\\n  --endpoint-url {shlex.quote(cloudwatch_endpoint)}"
        done = subprocess.run(
            ["bash", "-c", script], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
    check_alarms(read_alarms(cloudwatch_client), APP_PROFILE, rules, commands)
