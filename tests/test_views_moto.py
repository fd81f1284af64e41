"""`bedrock-top --once --view NAME` against CloudWatch over HTTP (a moto server on 127.0.0.1).

Each surface's scenario (``support.surface_truth``) is published the way Bedrock publishes it,
at every documented dimension set, coarser ones included; every figure the tool writes must
equal the truth computed straight from the events for the window the tool reports: nothing
counted twice across dimension sets, a coarser row only where no finer row covers it, the
right level for Mantle's tokens, gauges from the newest complete minute, and the minimum
number of GetMetricData calls.
"""

from __future__ import annotations

import csv
import io
import json
import math
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from moto.cloudwatch.models import CloudWatchBackend

from bedrock_top.cli import main
from support.quota_fake import QuotaFake
from support.quota_fake import model as fake_model
from support.quota_fake import quota as fake_quota
from support.surface_truth import (
    ALIAS_A,
    BATCH_CLAUDE,
    BATCH_IDLE,
    BATCH_NEW,
    BATCH_NOVA,
    DIMENSION_KEYS,
    GPT_OSS,
    GUARDRAIL_2,
    OPUS,
    PROJECT_A,
    SONNET,
    UNPRICED,
    VIEWS,
    GuardrailCall,
    Inference,
    ReasoningCheck,
    Scenario,
    Truth,
    View,
    expected,
    publish,
    row_key,
    scenario,
)

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

pytestmark = pytest.mark.moto

MAX_QUERIES_PER_CALL = 500  # GetMetricData's limit, written here, not taken from the product
MONEY = ("cost_usd", "usd_per_hour")  # Mantle's, checked on their own
# Mantle's quota figures, checked on their own (test_mantle_quotas_...)
QUOTA_FIGURES = ("input_tpm_limit", "input_tpm_peak_pct", "output_tpm_limit", "output_tpm_peak_pct")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class MotoCalls:
    """Every GetMetricData / ListMetrics request moto answered (the server runs in this process,
    so this sees the product's calls however it builds its clients)."""

    get_metric_data: list[int] = field(default_factory=list)  # queries per call
    list_metrics: int = 0


@pytest.fixture
def moto_calls(monkeypatch: pytest.MonkeyPatch) -> MotoCalls:
    calls = MotoCalls()
    get_metric_data = CloudWatchBackend.get_metric_data
    list_metrics = CloudWatchBackend.list_metrics

    def recording_get(
        self: CloudWatchBackend, queries: list[dict[str, Any]], *a: Any, **k: Any
    ) -> Any:
        calls.get_metric_data.append(len(queries))
        return get_metric_data(self, queries, *a, **k)

    def recording_list(self: CloudWatchBackend, *a: Any, **k: Any) -> Any:
        calls.list_metrics += 1
        return list_metrics(self, *a, **k)

    monkeypatch.setattr(CloudWatchBackend, "get_metric_data", recording_get)
    monkeypatch.setattr(CloudWatchBackend, "list_metrics", recording_list)
    return calls


def _seed(client: CloudWatchClient, view: View, *, disagree: bool = False) -> Scenario:
    published = scenario(view, datetime.now(UTC), seed=7, disagree=disagree)
    publish(client, published)
    return published


def _run(endpoint: str, capsys: pytest.CaptureFixture[str], view: str, *extra: str) -> str:
    args = ["--once", "--view", view, "--region", "us-east-1", "--endpoint-url", endpoint, *extra]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def _json(endpoint: str, capsys: pytest.CaptureFixture[str], view: str) -> dict[str, Any]:
    before = datetime.now(UTC)
    output: dict[str, Any] = json.loads(_run(endpoint, capsys, view, "--format", "json"))
    after = datetime.now(UTC)
    # The window ends at the next period boundary after the tool's now and spans an hour.
    end = _parse_time(output["window"]["end"])
    assert end.second == end.microsecond == 0
    assert before < end <= after + timedelta(seconds=60)
    return output


def _shown_rows(view: View, output: dict[str, Any]) -> dict[tuple[str | None, ...], Any]:
    shown: dict[tuple[str | None, ...], Any] = {}
    for row in output["rows"]:
        assert row["region"] == "us-east-1"
        key = row_key(view, row)
        assert key not in shown, f"row {key} shown twice"
        shown[key] = row
    return shown


def _check_key(check: dict[str, Any]) -> tuple[tuple[tuple[str, str], ...], str]:
    return tuple(sorted(check["dims"].items())), check["metric"]


def _assert_matches_truth(output: dict[str, Any], published: Scenario) -> Truth:
    """Every row, figure, total, roll-up check and unknown metric equals the truth for the
    window the tool reports."""
    view = published.view
    assert output["view"] == view
    assert output["regions"] == ["us-east-1"]
    start = _parse_time(output["window"]["start"])
    end = _parse_time(output["window"]["end"])
    assert output["window"]["period_s"] == 60
    assert (end - start).total_seconds() == 3600
    truth = expected(published, start, end, output["window"]["period_s"])

    shown = _shown_rows(view, output)
    # Exactly the finest rows, plus coarser rows only where nothing finer covers them.
    assert set(shown) == set(truth.rows)
    for key, want in truth.rows.items():
        for figure, value in want.items():
            if figure in DIMENSION_KEYS[view]:
                assert shown[key][figure] == value, (key, figure)
            else:
                assert figure in shown[key], (key, figure)
                assert shown[key][figure] == value, (key, figure, shown[key][figure], value)
        # Nothing beside the truth's figures (a new measure needs its truth first).
        extra = set(shown[key]) - set(want) - {"region", *DIMENSION_KEYS[view], *MONEY}
        extra -= set(QUOTA_FIGURES)
        assert not extra, (key, extra)
        for missing in DIMENSION_KEYS[view]:
            if missing not in want:
                assert shown[key].get(missing) is None, (key, missing)
    for total, value in truth.totals.items():
        assert output["totals"][total] == value, total
    assert set(output["unknown_metrics"]) == truth.unknown_metrics

    checks = {_check_key(c): c for c in output["checks"]}
    assert len(checks) == len(output["checks"])
    assert set(checks) == {_check_key(c) for c in truth.checks}
    for want in truth.checks:
        got = checks[_check_key(want)]
        for figure in ("published", "rows_sum", "agree"):
            assert got[figure] == want[figure], (want["dims"], want["metric"], figure)
    return truth


def _assert_minimum_calls(output: dict[str, Any], calls: MotoCalls) -> None:
    """A single poll: ceil(queries / 500) GetMetricData calls, and the counters say so."""
    api = output["api"]
    assert api["get_metric_data_calls"] == len(calls.get_metric_data)
    assert api["metrics_requested"] == sum(calls.get_metric_data)
    assert api["list_metrics_calls"] == calls.list_metrics
    assert api["get_metric_data_calls"] == math.ceil(
        api["metrics_requested"] / MAX_QUERIES_PER_CALL
    )
    assert all(n <= MAX_QUERIES_PER_CALL for n in calls.get_metric_data)
    assert api["requests"] == api["get_metric_data_calls"] + api["list_metrics_calls"]


@pytest.mark.parametrize("view", VIEWS)
def test_view_figures_equal_the_truth(
    view: View,
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    moto_calls: MotoCalls,
    capsys: pytest.CaptureFixture[str],
) -> None:
    published = _seed(cloudwatch_client, view)
    output = _json(cloudwatch_endpoint, capsys, view)
    _assert_matches_truth(output, published)
    _assert_minimum_calls(output, moto_calls)


def test_mantle_tokens_come_from_the_project_model_level_and_the_rollups_agree(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Per-(project, model) tokens are Sum(InputTokens/OutputTokens), percentiles are nearest
    rank over the window's inferences, inferences resolved to neither project nor model
    (Account level only) are in no row, and the published Total* agree with the rows."""
    published = _seed(cloudwatch_client, "mantle")
    output = _json(cloudwatch_endpoint, capsys, "mantle")
    truth = _assert_matches_truth(output, published)
    assert truth.checks
    assert all(c["agree"] for c in output["checks"])
    names = {v for key in truth.rows for v in key if v is not None}
    assert not [w for w in output["warnings"] if any(name in w for name in names)]
    shown = _shown_rows("mantle", output)
    for key, row in shown.items():
        assert "cost_usd" in row
        assert "usd_per_hour" in row
        if key[1] == UNPRICED:
            assert row["cost_usd"] is None
            assert row["usd_per_hour"] is None
    # The scenario's trap is live: the Account level (no dimensions) also counts inferences
    # resolved to neither project nor model, which belong to no row and to no total.
    assert [e for e in published.events if isinstance(e, Inference) and e.project is None]
    assert output["totals"]["inferences"] == sum(r["inferences"] for r in truth.rows.values())


def test_mantle_rollup_that_disagrees_is_a_warning_naming_the_project(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Inferences whose model Bedrock did not resolve count in PROJECT_A's TotalInputTokens
    but in no row: that check disagrees (and only that project's), and a warning names it."""
    published = _seed(cloudwatch_client, "mantle", disagree=True)
    output = _json(cloudwatch_endpoint, capsys, "mantle")
    truth = _assert_matches_truth(output, published)
    wrong = {_check_key(c) for c in truth.checks if not c["agree"]}
    assert wrong == {
        ((("project", PROJECT_A),), "TotalInputTokens"),
        ((("project", PROJECT_A),), "TotalOutputTokens"),
    }
    for check in output["checks"]:
        assert check["agree"] == (_check_key(check) not in wrong)
    assert any(PROJECT_A in w for w in output["warnings"]), output["warnings"]


def test_agents_lowercase_output_tokens_and_the_inline_operation_row(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Alias A publishes only ``outputTokenCount`` (as the metrics page spells it): still
    counted. InvokeInlineAgent has no alias: one {Operation} row, whose two spellings of the
    output tokens are counted once; InvokeAgent's {Operation} series is covered: no row."""
    published = _seed(cloudwatch_client, "agents")
    output = _json(cloudwatch_endpoint, capsys, "agents")
    truth = _assert_matches_truth(output, published)
    shown = _shown_rows("agents", output)
    lowercase = ("InvokeAgent", ALIAS_A, SONNET)
    assert truth.rows[lowercase]["output_tokens"] > 0
    assert shown[lowercase]["output_tokens"] == truth.rows[lowercase]["output_tokens"]
    inline = ("InvokeInlineAgent", None, None)
    assert shown[inline]["output_tokens"] == truth.rows[inline]["output_tokens"] > 0
    assert ("InvokeAgent", None, None) not in shown


def test_guardrails_reasoning_checks_are_neither_rows_nor_invocations(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Automated-reasoning ``Invocations`` share the name but not the dimension set; their
    ``TotalFindings`` (also at {GuardrailArn, GuardrailVersion}) is an unknown metric."""
    published = _seed(cloudwatch_client, "guardrails")
    output = _json(cloudwatch_endpoint, capsys, "guardrails")
    start = _parse_time(output["window"]["start"])
    end = _parse_time(output["window"]["end"])
    _assert_matches_truth(output, published)
    calls = [
        e
        for e in published.events
        if isinstance(e, GuardrailCall)
        and e.outcome != "throttled"
        and start <= e.at.replace(second=0, microsecond=0) < end
    ]
    checks = [e for e in published.events if isinstance(e, ReasoningCheck)]
    assert checks
    assert output["totals"]["invocations"] == len(calls)
    assert "TotalFindings" in output["unknown_metrics"]
    assert "Invocations" not in output["unknown_metrics"]
    assert all(r.get("guardrail_version") for r in output["rows"])
    assert {r["guardrail_arn"] for r in output["rows"]} >= {GUARDRAIL_2}


def test_batch_gauges_are_the_newest_complete_minute(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Levels are the average of the newest complete minute with data (never a sum over time,
    never the minute still filling), rates the window's exact mean per reading."""
    published = _seed(cloudwatch_client, "batch")
    output = _json(cloudwatch_endpoint, capsys, "batch")
    truth = _assert_matches_truth(output, published)
    rows = truth.rows
    # The scenario's traps are live.
    assert rows[(BATCH_CLAUDE,)]["records_pending"] % 1 == 0.5  # two readings, averaged
    assert rows[(BATCH_NEW,)]["records_pending"] is None  # nothing complete yet
    assert rows[(BATCH_NEW,)]["input_tokens_per_minute"] is not None
    assert rows[(BATCH_IDLE,)]["records_pending"] == 0
    assert rows[(BATCH_NOVA,)]["tokens_pending"] is None
    assert rows[(BATCH_NOVA,)]["drain_minutes"] is None
    assert rows[(BATCH_CLAUDE,)]["drain_minutes"] is not None


def test_many_rows_take_the_minimum_number_of_calls(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    moto_calls: MotoCalls,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """60 guardrail versions with every measure: over 500 queries, so two GetMetricData calls
    (not one per row or per metric), and still every figure exact."""
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    events = tuple(
        GuardrailCall(
            minute + timedelta(seconds=i % 60),
            f"arn:aws:bedrock:us-east-1:123456789012:guardrail/scale{i:03d}",
            "1",
            "Input" if i % 2 else "Output",
            "ok",
            latency_ms=100 + i,
            text_units=1 + i % 5,
            intervened_by=("ContentPolicy",) if i % 3 == 0 else (),
        )
        for i in range(60)
    )
    published = Scenario("guardrails", events)
    publish(cloudwatch_client, published)
    output = _json(cloudwatch_endpoint, capsys, "guardrails")
    _assert_matches_truth(output, published)
    _assert_minimum_calls(output, moto_calls)
    assert len(output["rows"]) == 60
    assert output["api"]["metrics_requested"] > MAX_QUERIES_PER_CALL
    assert output["api"]["get_metric_data_calls"] == 2


def test_unknown_view_is_a_one_line_error_exit_2(
    cloudwatch_endpoint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--once", "--view", "nonsense", "--region", "us-east-1"]
    rc: int | str | None
    try:
        rc = main([*args, "--endpoint-url", cloudwatch_endpoint, "--format", "json"])
    except SystemExit as exit_:
        rc = exit_.code
    out, err = capsys.readouterr()
    assert rc == 2
    assert out == ""
    assert err.count("\n") == 1, err
    assert "nonsense" in err
    assert "Traceback" not in err


def test_guardrails_csv_has_the_same_figures_as_json(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    published = _seed(cloudwatch_client, "guardrails")
    as_json = _json(cloudwatch_endpoint, capsys, "guardrails")
    truth = _assert_matches_truth(as_json, published)
    text = _run(cloudwatch_endpoint, capsys, "guardrails", "--format", "csv")
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    figures = {k for row in truth.rows.values() for k in row}
    assert {"guardrail_arn", "guardrail_version"} <= set(header)
    assert figures <= set(header), figures - set(header)
    rows = list(reader)
    by_key = _shown_rows("guardrails", as_json)
    assert len(rows) == len(by_key)
    for row in rows:
        want = by_key[row_key("guardrails", dict(row))]
        for key in figures:
            value = want[key]
            if value is None:
                assert row[key] == "", key
            elif isinstance(value, str):
                assert row[key] == value, key
            elif isinstance(value, int):
                assert int(row[key]) == value, key
            else:
                assert float(row[key]) == value, key


def test_mantle_table_prints_every_row(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    published = _seed(cloudwatch_client, "mantle")
    table = _run(cloudwatch_endpoint, capsys, "mantle", "--format", "table")
    rows = {
        (e.project, e.model)
        for e in published.events
        if isinstance(e, Inference) and e.project is not None and e.model is not None
    }
    assert len(rows) == 5
    lines = table.splitlines()
    for project, model in rows:
        assert any(project in line and model in line for line in lines), (project, model)


def test_view_through_the_real_entry_point(
    cloudwatch_client: CloudWatchClient, cloudwatch_endpoint: str
) -> None:
    published = _seed(cloudwatch_client, "knowledge-bases")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bedrock_top",
            "--once",
            "--view",
            "knowledge-bases",
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
    _assert_matches_truth(json.loads(proc.stdout), published)


def test_mantle_quotas_are_the_busiest_minute_of_each_model(
    cloudwatch_client: CloudWatchClient,
    cloudwatch_endpoint: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Input/output TPM against Mantle's own quotas, one named like the runtime quotas (its
    model resolved through ListFoundationModels), one by the Mantle model id; a model with no
    published quota has none. The peak is the busiest complete minute of the last 60, every
    project of the model summed, computed here from the published inferences."""
    published = _seed(cloudwatch_client, "mantle")
    limits = {("input", GPT_OSS): 900_000.0, ("output", GPT_OSS): 150_000.0}
    limits[("input", OPUS)] = 2_000_000.0
    with QuotaFake(
        default_quotas=[
            fake_quota(
                "L-M1",
                "Bedrock Mantle input tokens per minute for OpenAI GPT OSS 120B",
                limits[("input", GPT_OSS)],
            ),
            fake_quota(
                "L-M2",
                "Bedrock Mantle output tokens per minute for OpenAI GPT OSS 120B",
                limits[("output", GPT_OSS)],
            ),
            fake_quota(
                "L-M3",
                f"Bedrock Mantle input tokens per minute for {OPUS}",
                limits[("input", OPUS)],
            ),
        ],
        models=[fake_model("openai.gpt-oss-120b-1:0", "gpt-oss-120b", "OpenAI")],
    ) as fake:
        for name, value in fake.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # not the session's
        output = _json(cloudwatch_endpoint, capsys, "mantle")
    end = _parse_time(output["window"]["end"])
    # The tool's now is in the minute before ``end``; a minute is complete 120 s after it ends.
    # The last 60 complete minutes the window holds.
    last = end - timedelta(seconds=180)
    first = max(last - timedelta(minutes=60), _parse_time(output["window"]["start"]))
    inferences = [e for e in published.events if isinstance(e, Inference) and e.ok]
    seen = set()
    for row in output["rows"]:
        model = row["model"]
        seen.add(model)
        for direction in ("input", "output"):
            limit = limits.get((direction, model))
            if limit is None:
                assert row[f"{direction}_tpm_limit"] is None, (model, direction)
                assert row[f"{direction}_tpm_peak_pct"] is None, (model, direction)
                continue
            per_minute: dict[datetime, int] = {}
            for e in inferences:
                minute = e.at.replace(second=0, microsecond=0)
                if e.model == model and e.project is not None and first <= minute < last:
                    tokens = e.input_tokens if direction == "input" else e.output_tokens
                    per_minute[minute] = per_minute.get(minute, 0) + tokens
            want = round(max(per_minute.values()) / limit * 100, 3)
            assert row[f"{direction}_tpm_limit"] == limit, (model, direction, row)
            assert row[f"{direction}_tpm_peak_pct"] == want, (model, direction)
    assert {GPT_OSS, OPUS} <= seen
