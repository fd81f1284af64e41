"""`bedrock-top --once` against CloudWatch over HTTP (a moto server on 127.0.0.1).

Every figure must equal the seeded truth for the window the tool reports, computed
independently from the requests, and the calls must be batched the minimum way.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

import bedrock_top
from bedrock_top.cli import main
from bedrock_top.cloudwatch.plan import MAX_QUERIES_PER_CALL, QUERY_ID_PATTERN
from bedrock_top.figures.catalog import COUNTER_KEYS
from support.bedrock_truth import expected, publish, scenario
from support.call_recorder import CallRecorder, record_cloudwatch_calls
from support.once_truth import assert_matches_truth, parse_time

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient


def _seed(client: CloudWatchClient) -> list[Any]:
    requests = scenario(datetime.now(UTC), seed=7)
    publish(client, requests)
    return requests


def _assert_matches_truth(output: dict[str, Any], requests: list[Any]) -> None:
    start = parse_time(output["window"]["start"])
    end = parse_time(output["window"]["end"])
    assert (end - start).total_seconds() == 3600
    assert_matches_truth(output, requests)


def test_once_json_through_the_real_entry_point(
    cloudwatch_client: CloudWatchClient, cloudwatch_endpoint: str
) -> None:
    requests = _seed(cloudwatch_client)
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bedrock_top",
            "--once",
            "--format",
            "json",
            "--region",
            "us-east-1",
            "--endpoint-url",
            cloudwatch_endpoint,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    output = json.loads(proc.stdout)
    _assert_matches_truth(output, requests)
    assert output["regions"] == ["us-east-1"]
    # The hour's figures, the quota minutes reaching a few minutes before the window (a call
    # of their own: a whole-window bucket fixes its call's start) and the 24-hour totals
    # of the daily quotas (a 24-hour range).
    assert output["api"]["get_metric_data_calls"] == 3
    assert output["api"]["list_metrics_calls"] == 1


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> CallRecorder:
    return record_cloudwatch_calls(monkeypatch)


def split_day_calls(
    calls: list[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(calls over the window, calls over 24 hours for daily quotas)."""
    day = [c for c in calls if (c["EndTime"] - c["StartTime"]).total_seconds() >= 86_400]
    return [c for c in calls if c not in day], day


def _run_once(endpoint: str, capsys: pytest.CaptureFixture[str], *extra: str) -> str:
    args = ["--once", "--region", "us-east-1", "--endpoint-url", endpoint, *extra]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_once_batches_calls_with_valid_ids(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    recorder: CallRecorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    requests = _seed(cloudwatch_client)
    output = json.loads(_run_once(cloudwatch_endpoint, capsys, "--format", "json"))
    _assert_matches_truth(output, requests)
    assert {name for name, _ in recorder.calls} == {"ListMetrics", "GetMetricData"}
    data_calls, day_calls = split_day_calls(recorder.named("GetMetricData"))
    queries = [q for call in data_calls for q in call["MetricDataQueries"]]
    day_queries = [q for call in day_calls for q in call["MetricDataQueries"]]
    # One more than the minimum: quota minutes start before the window (see above).
    assert len(data_calls) == math.ceil(len(queries) / MAX_QUERIES_PER_CALL) + 1
    assert len(day_calls) == math.ceil(len(day_queries) / MAX_QUERIES_PER_CALL)
    assert {q["MetricStat"]["Period"] for q in day_queries} == {86_400}
    assert output["api"]["metrics_requested"] == len(queries) + len(day_queries)
    for call in data_calls:
        ids = [q["Id"] for q in call["MetricDataQueries"]]
        assert len(ids) <= MAX_QUERIES_PER_CALL
        assert len(set(ids)) == len(ids)
        assert all(QUERY_ID_PATTERN.match(i) for i in ids)
        start = call["StartTime"]
        assert start.second == 0
        assert start.minute * 60 % 60 == 0
    # Models without TTFT or cache metrics are never asked for them.
    asked = {
        (
            q["MetricStat"]["Metric"]["Dimensions"][0]["Value"],
            q["MetricStat"]["Metric"]["MetricName"],
        )
        for q in queries
    }
    assert ("amazon.nova-lite-v1:0", "TimeToFirstToken") not in asked
    assert ("amazon.nova-lite-v1:0", "CacheReadInputTokenCount") not in asked


def test_csv_and_table_show_the_same_figures(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    requests = _seed(cloudwatch_client)
    as_json = json.loads(_run_once(cloudwatch_endpoint, capsys, "--format", "json"))
    rows = list(
        csv.DictReader(io.StringIO(_run_once(cloudwatch_endpoint, capsys, "--format", "csv")))
    )
    by_id = {m["model_id"]: m for m in as_json["models"]}
    assert len(rows) == len(by_id)
    for row in rows:
        model = by_id[row["model_id"]]
        for key in COUNTER_KEYS:
            assert int(row[key]) == model[key]
        assert (float(row["latency_p90_ms"]) if row["latency_p90_ms"] else None) == model[
            "latency_p90_ms"
        ]
    table = _run_once(cloudwatch_endpoint, capsys)
    for model_id in by_id:
        assert model_id in table
    assert len(requests) > 0


def test_filter_and_sort_in_once(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(cloudwatch_client)
    out = _run_once(
        cloudwatch_endpoint, capsys, "--format", "json", "--filter", "SONNET", "--sort", "throttles"
    )
    models = json.loads(out)["models"]
    assert models
    assert all("sonnet" in m["model_id"] for m in models)
    throttles = [m["throttles"] for m in models]
    assert throttles == sorted(throttles, reverse=True)


def test_many_models_take_the_minimum_number_of_calls(
    cloudwatch_endpoint: str,
    recorder: CallRecorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """120 models x 5 metrics = 600 queries -> exactly 2 GetMetricData calls, and 600
    listed metrics -> 2 ListMetrics pages."""
    client = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=cloudwatch_endpoint)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    names = ["Invocations", "InputTokenCount", "OutputTokenCount", "InvocationThrottles"]
    data = []
    for i in range(120):
        dims = [{"Name": "ModelId", "Value": f"us.meta.llama-synthetic-{i:03d}-v1:0"}]
        for name in [*names, "InvocationClientErrors"]:
            data.append(
                {"MetricName": name, "Dimensions": dims, "Timestamp": now, "Value": float(i)}
            )
    for chunk in range(0, len(data), 500):
        client.put_metric_data(Namespace="AWS/Bedrock", MetricData=data[chunk : chunk + 500])  # type: ignore[arg-type]
    output = json.loads(
        _run_once(cloudwatch_endpoint, capsys, "--format", "json", "--window", "15m")
    )
    assert len(output["models"]) == 120
    assert len(recorder.named("ListMetrics")) == 2
    hour_calls, day_calls = split_day_calls(recorder.named("GetMetricData"))
    assert len(hour_calls) == 2
    assert sum(len(c["MetricDataQueries"]) for c in hour_calls) == 600
    # No per-model quota matches these made-up models; the account's daily one asks for
    # each model's 24-hour input and output tokens, in a call of its own.
    assert len(day_calls) == 1
    assert len(day_calls[0]["MetricDataQueries"]) == 240
    for m in output["models"]:
        i = int(m["model_id"].split("-")[2])
        assert m["invocations"] == i
        assert m["throttles"] == i
        assert m["client_errors"] == i


def test_once_never_imports_textual() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from bedrock_top.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    rc = main(['--demo', '--once', '--format', 'json'])\n"
        "assert rc == 0, rc\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_core_modules_never_import_textual_or_rich() -> None:
    """Everything but the TUI is pure: the --once output too is plain text."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import bedrock_top\n"
        "for m in pkgutil.walk_packages(bedrock_top.__path__, 'bedrock_top.'):\n"
        "    if m.name.split('.')[1] not in ('tui', '__main__'):\n"
        "        importlib.import_module(m.name)\n"
        "assert 'bedrock_top.figures.snapshot' in sys.modules\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich'))\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


def test_unreachable_endpoint_is_one_line_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    # Port 9 on loopback: nothing listens, the connection is refused at once.
    rc = main(["--once", "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:9"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert err.count("\n") == 1
    assert "cannot reach CloudWatch" in err
    assert "Traceback" not in err


def test_once_costs_equal_tokens_times_the_bundled_prices(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """cost_usd per model = the seeded truth's tokens x the prices in prices.json (read here
    straight from the file); an application profile without an alias has no price: null."""
    requests = _seed(cloudwatch_client)
    output = json.loads(_run_once(cloudwatch_endpoint, capsys, "--format", "json"))
    start = parse_time(output["window"]["start"])
    end = parse_time(output["window"]["end"])
    truth = expected(requests, start, end, output["window"]["period_s"])
    table = json.loads((Path(bedrock_top.__file__).parent / "prices.json").read_text())["models"]
    shown = {m["model_id"]: m for m in output["models"]}
    priced = 0
    for model_id, figures in truth.items():
        base = model_id.split(".", 1)[1] if model_id.startswith(("us.", "global.")) else model_id
        entry = table.get(base)
        if entry is None or model_id.startswith("global.anthropic.claude-sonnet-4-2"):
            continue  # unknown, or a profile-specific price (covered in test_pricing)
        read = entry["cache_read"] if entry["cache_read"] is not None else entry["input"]
        write = entry["cache_write"] if entry["cache_write"] is not None else entry["input"]
        usd = (
            figures["input_tokens"] * entry["input"]
            + figures["output_tokens"] * entry["output"]
            + figures["cache_read_tokens"] * read
            + figures["cache_write_tokens"] * write
        ) / 1_000_000
        # Written to 1e-6 USD: within half of that of the exact cost, and nothing after it.
        cost = shown[model_id]["cost_usd"]
        assert cost == pytest.approx(usd, rel=0, abs=5e-7 + 1e-12), model_id
        assert cost == round(cost, 6), model_id
        priced += 1
    assert priced >= 3
    assert shown["k3m9x2p7q1w8"]["cost_usd"] is None
    assert "k3m9x2p7q1w8" in output["totals"]["unpriced_models"]
    known = [m["cost_usd"] for m in output["models"] if m["cost_usd"] is not None]
    assert output["totals"]["cost_usd"] == pytest.approx(sum(known))
    assert output["api"]["cost_usd"] == pytest.approx(output["api"]["metrics_requested"] / 100_000)
