"""Quota headroom end to end: CloudWatch from moto over HTTP, Service Quotas, the Bedrock
control plane and STS from a local fake over HTTP, through ``bedrock-top --once``.

Every quota figure is checked against the truth computed here from the requests themselves
(never from the product's code): per-minute quota tokens with the right burndown, requests
per minute, the busiest and the newest of the last 60 complete minutes, the 24-hour totals.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bedrock_top.cli import main
from support.bedrock_truth import BASE_HAIKU, GLOBAL_SONNET, US_SONNET, Request, publish, scenario
from support.quota_fake import QuotaFake, model, quota

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

_TPM = "model inference tokens per minute for Anthropic Claude"
_RPM = "model inference requests per minute for Anthropic Claude"
LIMITS = {
    "L-0000A001": (f"On-demand {_TPM} 3 Haiku", 20_000),
    "L-0000A002": (f"On-demand {_RPM} 3 Haiku", 10),
    "L-0000A003": (f"Cross-region {_TPM} 3.5 Sonnet V2", 30_000),
    "L-0000A004": (f"Global cross-Region {_TPM} Sonnet 4 V1", 50_000),
    "L-0000A005": ("Model invocation max tokens per day for Anthropic Claude Sonnet 4 V1", 10**6),
    "L-0000A006": ("Cross-Model Max Tokens Per Day", 10_000_000),
    "L-0000A007": (f"On-demand {_TPM} 2", 9_000),
}
APPLIED = {"L-0000A001": 25_000}  # the account asked for more than the default
MODELS = (
    ("anthropic.claude-3-haiku-20240307-v1:0", "Claude 3 Haiku"),
    ("anthropic.claude-3-5-sonnet-20241022-v2:0", "Claude 3.5 Sonnet v2"),
    ("anthropic.claude-sonnet-4-20250514-v1:0", "Claude Sonnet 4"),
)
# What each model is checked for: (TPM code, burndown the product must apply, estimate?)
CASES = {
    BASE_HAIKU: ("L-0000A001", 1, False),  # on-demand, computed, burndown 1
    US_SONNET: ("L-0000A003", 1, True),  # us. profile: cross-Region, EstimatedTPMQuotaUsage
    GLOBAL_SONNET: ("L-0000A004", 5, False),  # global. profile: Sonnet 4 burns output x5
}


def publish_estimates(client: CloudWatchClient, requests: list[Request], model_id: str) -> None:
    """EstimatedTPMQuotaUsage as Bedrock publishes it: one sample per successful request."""
    per_minute: dict[datetime, list[float]] = defaultdict(list)
    for r in requests:
        if r.model_id == model_id and r.outcome == "ok":
            per_minute[r.at.replace(second=0, microsecond=0)].append(estimate(r))
    data: list[Any] = [
        {
            "MetricName": "EstimatedTPMQuotaUsage",
            "Dimensions": [{"Name": "ModelId", "Value": model_id}],
            "Timestamp": minute,
            "Values": values,
        }
        for minute, values in per_minute.items()
    ]
    client.put_metric_data(Namespace="AWS/Bedrock", MetricData=data)


def estimate(r: Request) -> float:
    """A made-up estimate that is not the product's formula (so a wrong source shows)."""
    return float(r.input_tokens + r.cache_write + 3 * r.output_tokens)


def quota_tokens(r: Request, burndown: int, estimated: bool) -> float:
    if r.outcome != "ok":
        return 0.0
    if estimated:
        return estimate(r)
    return float(r.input_tokens + r.cache_write + burndown * r.output_tokens)


def minute_of(r: Request) -> datetime:
    return r.at.replace(second=0, microsecond=0)


def truth_minutes(
    requests: list[Request], model_id: str, start: datetime, value: Any
) -> list[float]:
    """Per-minute totals of ``value(request)`` over the 60 minutes from ``start``."""
    totals = [0.0] * 60
    for r in requests:
        if r.model_id == model_id:
            i = int((minute_of(r) - start).total_seconds() // 60)
            if 0 <= i < 60:
                totals[i] += value(r)
    return totals


@pytest.fixture
def quotas(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[QuotaFake]:
    """A quota account with known limits, one page at a time, and an empty cache."""
    fake = QuotaFake(
        default_quotas=[quota(c, name, value) for c, (name, value) in LIMITS.items()],
        applied_quotas=[quota(c, LIMITS[c][0], v) for c, v in APPLIED.items()],
        models=[model(mid, name, "Anthropic") for mid, name in MODELS],
        page_sizes={"ListAWSDefaultServiceQuotas": [2, 0, 3], "ListServiceQuotas": [1]},
    ).start()
    for name, value in fake.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    try:
        yield fake
    finally:
        fake.stop()


def run_once(endpoint: str, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[str, str]:
    args = ["--once", "--region", "us-east-1", "--endpoint-url", endpoint, *extra]
    assert main(args) == 0
    return capsys.readouterr()


@pytest.mark.parametrize("window", ["1h", "15m", "6h"])
def test_quota_figures_equal_the_truth(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    quotas: QuotaFake,
    capsys: pytest.CaptureFixture[str],
    window: str,
) -> None:
    """Any window (a 15-minute one, a 6-hour one at a 2-minute period): quotas are counted
    per minute over the last 60 complete minutes, exactly."""
    requests = scenario(datetime.now(UTC), seed=11)
    publish(cloudwatch_client, requests)
    publish_estimates(cloudwatch_client, requests, US_SONNET)
    out, err = run_once(cloudwatch_endpoint, capsys, "--format", "json", "--window", window)
    assert err == ""
    data = json.loads(out)
    span = data["window"]["quota_minutes"]
    start = datetime.fromisoformat(span["start"].replace("Z", "+00:00"))
    assert datetime.fromisoformat(span["end"].replace("Z", "+00:00")) - start == timedelta(hours=1)
    shown = {m["model_id"]: m for m in data["models"]}
    for model_id, (code, burndown, estimated) in CASES.items():
        tpm = shown[model_id]["quota"]["tpm"]
        limit = APPLIED.get(code, LIMITS[code][1])
        used = truth_minutes(
            requests, model_id, start, lambda r, b=burndown, e=estimated: quota_tokens(r, b, e)
        )
        assert tpm["code"] == code
        assert tpm["limit"] == limit
        assert tpm["source"] == ("EstimatedTPMQuotaUsage" if estimated else "computed")
        assert tpm["peak"] == max(used), model_id
        assert tpm["last"] == used[-1], model_id
        assert tpm["peak_pct"] == round(max(used) / limit * 100, 3)
        assert tpm["last_pct"] == round(used[-1] / limit * 100, 3)
    # RPM: Invocations per minute (throttled requests are not invocations).
    rpm = shown[BASE_HAIKU]["quota"]["rpm"]
    calls = truth_minutes(requests, BASE_HAIKU, start, lambda r: r.outcome != "throttled")
    assert (rpm["limit"], rpm["source"]) == (10, "Invocations")
    assert (rpm["peak"], rpm["last"]) == (max(calls), calls[-1])
    assert rpm["peak_pct"] == round(max(calls) / 10 * 100, 3)
    assert shown[US_SONNET]["quota"]["rpm"] is None
    # TPD: the model's 24 hours (all of the scenario's requests) with its burndown.
    tpd = shown[GLOBAL_SONNET]["quota"]["tpd"]
    day = sum(quota_tokens(r, 5, False) for r in requests if r.model_id == GLOBAL_SONNET)
    assert (tpd["code"], tpd["limit"], tpd["used"]) == ("L-0000A005", 1_000_000, day)
    assert tpd["used_pct"] == round(day / 1_000_000 * 100, 3)
    # The account-wide daily quota counts every model, each with its own burndown or estimate.
    burn = {GLOBAL_SONNET: 5}
    account = sum(
        quota_tokens(r, burn.get(r.model_id, 1), r.model_id == US_SONNET) for r in requests
    )
    assert data["totals"]["tpd_account"]["used"] == account
    assert data["totals"]["tpd_account"]["code"] == "L-0000A006"
    # The fullest quota of any model is named in the totals.
    fullest = max(
        (
            (kind_figures[k], m["model_id"], kind)
            for m in data["models"]
            if m["quota"]
            for kind, k in (("tpm", "peak_pct"), ("rpm", "peak_pct"), ("tpd", "used_pct"))
            if (kind_figures := m["quota"][kind])
        ),
    )
    worst = data["totals"]["quota_worst"]
    assert (worst["pct"], worst["model_id"], worst["kind"]) == fullest
    # A model without any known quota says so with null.
    assert all(m["quota"] is None for m in data["models"] if m["model_id"] not in CASES)


def test_quota_csv_columns(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    quotas: QuotaFake,
    capsys: pytest.CaptureFixture[str],
) -> None:
    publish(cloudwatch_client, scenario(datetime.now(UTC), seed=11))
    out, _ = run_once(cloudwatch_endpoint, capsys, "--format", "json")
    data = {m["model_id"]: m["quota"] for m in json.loads(out)["models"]}
    out, _ = run_once(cloudwatch_endpoint, capsys, "--format", "csv")
    lines = out.splitlines()
    header = lines[0].split(",")
    assert header[-5:] == ["tpm_limit", "tpm_peak_pct", "rpm_limit", "rpm_peak_pct", "tpd_used_pct"]
    for line in lines[1:]:
        cells = dict(zip(header, line.split(","), strict=True))
        q = data[cells["model_id"]]
        tpm = q and q["tpm"]
        assert cells["tpm_limit"] == (str(tpm["limit"]) if tpm else "")
        assert cells["tpm_peak_pct"] == (str(tpm["peak_pct"]) if tpm else "")


def test_denied_quotas_leave_the_rest_working(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    quotas: QuotaFake,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """AccessDenied on Service Quotas: exit 0, every figure but the quotas, a `?` in the
    Quota % column and one warning line naming the missing IAM action."""
    publish(cloudwatch_client, scenario(datetime.now(UTC), seed=11))
    quotas.fail("ListServiceQuotas", "deny")
    out, err = run_once(cloudwatch_endpoint, capsys, "--format", "json")
    data = json.loads(out)
    assert all(m["quota"] is None for m in data["models"])
    assert data["models"][0]["invocations"] > 0
    assert err.count("\n") == 1
    assert "servicequotas:ListServiceQuotas" in err
    assert any("servicequotas:ListServiceQuotas" in w for w in data["warnings"])
    out, _ = run_once(cloudwatch_endpoint, capsys, "--format", "table")
    header, *rows = (re.split(r" {2,}", line) for line in out.splitlines()[1:-1])
    at = header.index("Quota % pk")
    assert rows
    assert all(row[at] == "?" for row in rows), out


def test_config_override_wins_over_the_name(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    quotas: QuotaFake,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    publish(cloudwatch_client, scenario(datetime.now(UTC), seed=11))
    config = tmp_path / "config.toml"
    config.write_text(f'[quotas]\n"{BASE_HAIKU}" = "L-0000A007"\n')
    out, _ = run_once(cloudwatch_endpoint, capsys, "--format", "json", "--config", str(config))
    haiku = next(m for m in json.loads(out)["models"] if m["model_id"] == BASE_HAIKU)
    assert haiku["quota"]["tpm"]["code"] == "L-0000A007"
    assert haiku["quota"]["tpm"]["limit"] == 9_000
    assert haiku["quota"]["rpm"]["code"] == "L-0000A002"  # the other kinds still match


def test_bad_override_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[quotas]\n"anthropic.claude-3-haiku-20240307-v1:0" = "8CE99163"\n')
    assert main(["--demo", "--once", "--config", str(config)]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert "not a quota code like L-8CE99163" in err


def test_quotas_command_lists_every_quota_and_why(
    quotas: QuotaFake, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["quotas", "--region", "us-east-1", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    listed = {q["code"]: q for q in json.loads(out)["quotas"]}
    assert set(listed) == set(LIMITS)
    assert listed["L-0000A001"]["model_ids"] == [BASE_HAIKU]
    assert listed["L-0000A001"]["value"] == 25_000
    assert listed["L-0000A001"]["applied"]
    assert "us.anthropic.claude-3-5-sonnet-20241022-v2:0" not in listed["L-0000A001"]["model_ids"]
    assert listed["L-0000A007"]["model_ids"] == []
    assert "Claude 2" in listed["L-0000A007"]["reason"]
    assert listed["L-0000A006"]["kind"] == "tpd"
    # The catalogue is cached: a second run reads no quota API but STS.
    quotas.clear_requests()
    assert main(["quotas", "--region", "us-east-1"]) == 0
    assert set(quotas.operations()) == {"GetCallerIdentity"}
    assert main(["quotas", "--region", "us-east-1", "--refresh"]) == 0
    assert "ListServiceQuotas" in quotas.operations()
    text, _ = capsys.readouterr()
    assert "L-0000A001" in text
    assert BASE_HAIKU in text
