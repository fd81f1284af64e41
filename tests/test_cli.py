"""Command line validation, row filtering and sorting, number formats and error lines."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.stub import Stubber

from bedrock_top import cli
from bedrock_top.arguments import parse_settings
from bedrock_top.cli import main
from bedrock_top.config import Settings
from bedrock_top.errors import ConfigError, describe_error
from bedrock_top.figures.catalog import parse_model_id
from bedrock_top.figures.row_figures import WindowFigures
from bedrock_top.figures.snapshot import ModelRow
from bedrock_top.format import fmt_count, fmt_ms, fmt_pct
from bedrock_top.views.rows import filter_rows, sort_rows

# (argv, the option the one-line error must name)
BAD_INPUTS: list[tuple[list[str], str]] = [
    (["--format", "xml"], "--format"),
    (["--window", "banana"], "--window"),
    (["--window", "2m"], "--window"),
    (["--window", "8d"], "--window"),
    (["--window", "0"], "--window"),
    (["--window", "330s"], "--window"),
    (["--window", "-1h"], "--window"),
    (["--window"], "--window"),
    (["--period", "90"], "--period"),
    (["--period", "0"], "--period"),
    (["--period", "often"], "--period"),
    (["--window", "1h", "--period", "420"], "--period"),
    (["--window", "7d", "--period", "60"], "--period"),
    (["--interval", "4"], "--interval"),
    (["--interval", "601"], "--interval"),
    (["--interval", "11m"], "--interval"),
    (["--interval", "soon"], "--interval"),
    (["--interval", "-5"], "--interval"),
    (["--filter", "("], "--filter"),
    (["--filter", "!claude["], "--filter"),
    (["--region", "us-east"], "--region"),
    (["--region", "US-EAST-1"], "--region"),
    (["--region", "us-east-1,nowhere"], "--region"),
    (["--region", ","], "--region"),
    (["--sort", "bogus"], "--sort"),
    (["--seed", "1.5"], "--seed"),
    (["--seed", "x"], "--seed"),
    (["--bogus"], "--bogus"),
    (["--once", "--format", "yaml"], "--format"),
]


def exit_code(argv: Sequence[str]) -> int:
    """What the process would exit with (argparse exits; our own checks return)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


@pytest.mark.parametrize(("argv", "option"), BAD_INPUTS)
def test_bad_input_is_one_line_and_exit_code_2(
    argv: list[str], option: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert option in err
    assert err.startswith("bedrock-top: error: ")
    assert "Traceback" not in out + err


# Usage errors argparse reports itself (it exits 2); the rest are our ConfigError.
ARGPARSE_ERRORS = (["--bogus"], ["--window"], ["--window", "-1h"])


@pytest.mark.parametrize("argv", ARGPARSE_ERRORS)
def test_parse_settings_usage_errors_exit_2(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as info:
        parse_settings(argv)
    assert info.value.code == 2


@pytest.mark.parametrize(("argv", "option"), [c for c in BAD_INPUTS if c[0] not in ARGPARSE_ERRORS])
def test_parse_settings_names_the_bad_option(argv: list[str], option: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_settings(argv)
    message = str(info.value)
    assert message.startswith(option)
    assert "\n" not in message


def test_the_real_entry_point_reports_one_line() -> None:
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    proc = subprocess.run(
        [sys.executable, "-m", "bedrock_top", "--window", "banana", "--once"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1
    assert "--window" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_runtime_failure_is_one_line_exit_1(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fail(settings: Settings) -> int:
        raise ClientError(
            {"Error": {"Code": "AccessDenied", "Message": "User: arn:aws:iam::1:user/x is not"}},
            "GetMetricData",
        )

    monkeypatch.setattr(cli, "run_once", fail)
    assert main(["--once", "--region", "us-east-1"]) == 1
    out, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert "access denied" in err
    assert "Traceback" not in out + err


# --- defaults -----------------------------------------------------------------------------


def test_defaults() -> None:
    s = parse_settings([])
    assert (s.window_s, s.period_s, s.interval_s) == (3600, 60, 60)
    assert s.format == "table"
    assert s.regions == ()
    assert not s.once
    assert not s.demo


@pytest.mark.parametrize(
    ("window", "seconds", "period"),
    [
        ("15m", 900, 60),
        ("1h", 3600, 60),
        ("3h", 10_800, 60),
        ("12h", 43_200, 300),
        ("1d", 86_400, 600),
        ("7d", 604_800, 3600),
        ("90", 5400, 60),
    ],
)
def test_period_follows_the_window(window: str, seconds: int, period: int) -> None:
    s = parse_settings(["--window", window])
    assert (s.window_s, s.period_s) == (seconds, period)
    assert s.window_s % s.period_s == 0


def test_explicit_period_interval_and_regions() -> None:
    s = parse_settings(
        [
            "--window",
            "3h",
            "--period",
            "300",
            "--interval",
            "5",
            "--region",
            "us-east-1, eu-west-1,us-east-1",
            "--seed",
            "42",
            "--format",
            "json",
        ]
    )
    assert (s.window_s, s.period_s, s.interval_s, s.seed, s.format) == (10_800, 300, 5, 42, "json")
    assert s.regions == ("us-east-1", "eu-west-1")


@pytest.mark.parametrize("text", ["all", " all "])
def test_region_all_expands_to_the_bedrock_regions(text: str) -> None:
    regions = parse_settings(["--region", text]).regions
    assert len(regions) > 3
    assert "us-east-1" in regions
    assert len(set(regions)) == len(regions)


# --- filter_rows / sort_rows --------------------------------------------------------------


def make_row(model_id: str, invocations: int = 0, latency: float | None = None) -> ModelRow:
    figures = WindowFigures(invocations=invocations, latency_avg_ms=latency)
    return ModelRow("us-east-1", None, parse_model_id(model_id), figures, {})


HAIKU = make_row("us.anthropic.claude-3-haiku-20240307-v1:0", 50, 900.0)
NOVA = make_row("amazon.nova-pro-v1:0", 5, None)
LLAMA = make_row("meta.llama3-8b-instruct-v1:0", 500, 300.0)
APP = make_row("a1b2c3d4e5f6", 5, 1200.0)
ROWS = [HAIKU, NOVA, LLAMA, APP]


def ids(rows: Sequence[ModelRow]) -> list[str]:
    return [r.model_id for r in rows]


def test_filter_matches_the_model_id_case_insensitively() -> None:
    assert filter_rows(ROWS, "CLAUDE") == [HAIKU]
    assert filter_rows(ROWS, "nova|llama") == [NOVA, LLAMA]


def test_filter_matches_the_provider() -> None:
    # The id of the cross-region profile starts with "us.", its provider is "anthropic".
    assert filter_rows(ROWS, "^anthropic$") == [HAIKU]
    assert filter_rows(ROWS, "^(meta|amazon)$") == [NOVA, LLAMA]


def test_filter_negation() -> None:
    assert filter_rows(ROWS, "!claude") == [NOVA, LLAMA, APP]
    assert filter_rows(ROWS, "!^anthropic$") == [NOVA, LLAMA, APP]


@pytest.mark.parametrize("pattern", [None, ""])
def test_no_filter_keeps_everything(pattern: str | None) -> None:
    assert filter_rows(ROWS, pattern) == ROWS


def test_filter_rejects_a_bad_regex() -> None:
    with pytest.raises(ConfigError, match="--filter"):
        parse_settings(["--demo", "--once", "--filter", "(["])


def test_a_lone_negation_filters_nothing_in_once_and_live() -> None:
    """'!' alone is a negation still being typed: every row, in --once as in the TUI (the
    two used to disagree: none in --once, all live)."""
    assert filter_rows(ROWS, "!") == ROWS
    assert parse_settings(["--demo", "--once", "--filter", "!"]).filter == "!"


def test_numbers_sort_descending_with_ties_by_model() -> None:
    assert ids(sort_rows(ROWS, "invocations")) == ids([LLAMA, HAIKU, APP, NOVA])
    assert ids(sort_rows(ROWS, "invocations", reverse=True)) == ids([APP, NOVA, HAIKU, LLAMA])


def test_text_sorts_ascending() -> None:
    assert ids(sort_rows(ROWS, "model")) == sorted(ids(ROWS))
    assert ids(sort_rows(ROWS, "model", reverse=True)) == sorted(ids(ROWS), reverse=True)


def test_missing_values_sort_last_both_ways() -> None:
    assert ids(sort_rows(ROWS, "latency_avg")) == ids([APP, HAIKU, LLAMA, NOVA])
    assert ids(sort_rows(ROWS, "latency_avg", reverse=True)) == ids([LLAMA, HAIKU, APP, NOVA])


# --- formats ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "-"),
        (0, "0"),
        (7, "7"),
        (1234, "1,234"),
        (999_999, "999,999"),
        (1_000_000, "1.0M"),
        (12_345_678, "12.3M"),
        (2_500_000_000, "2.5G"),
        (1.5, "1.5"),
    ],
)
def test_fmt_count(value: float | None, text: str) -> None:
    assert fmt_count(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), (0, "0ms"), (842.4, "842ms"), (9_999, "9999ms"), (12_400, "12.4s")],
)
def test_fmt_ms(value: float | None, text: str) -> None:
    assert fmt_ms(value) == text


@pytest.mark.parametrize(
    ("value", "text"),
    [(None, "-"), (0.0, "0.0%"), (0.0123, "1.2%"), (0.0004, "<0.1%"), (1.0, "100.0%")],
)
def test_fmt_pct(value: float | None, text: str) -> None:
    assert fmt_pct(value) == text


# --- describe_error -----------------------------------------------------------------------

ACCESS_KEY = "AKIDEXAMPLEDONOTLEAK"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYDONOTLEAK"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLEDONOTLEAK"


def client_error(code: str, status: int, message: str) -> ClientError:
    """A ClientError raised the way botocore raises it, by a client holding secrets."""
    client = boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=SESSION_TOKEN,
    )
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "get_metric_data",
            service_error_code=code,
            service_message=message,
            http_status_code=status,
        )
        with pytest.raises(ClientError) as info:
            client.get_metric_data(
                MetricDataQueries=[], StartTime=datetime(2025, 1, 1), EndTime=datetime(2025, 1, 2)
            )
    return info.value


@pytest.mark.parametrize(
    ("code", "status", "message", "expect"),
    [
        ("ExpiredToken", 400, "The security token included in the request is expired", "expired"),
        ("ThrottlingException", 400, "Rate exceeded", "throttling"),
        ("AccessDenied", 403, "User: arn:aws:iam::123456789012:user/x is not authorized", "denied"),
        ("InternalFailure", 500, "We encountered an internal error.\nRequest id 42", "500"),
    ],
)
def test_describe_client_errors(
    monkeypatch: pytest.MonkeyPatch, code: str, status: int, message: str, expect: str
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    line = describe_error(client_error(code, status, message), profile="dev")
    assert "\n" not in line
    assert expect in line.lower()
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN):
        assert secret not in line


def test_expired_token_suggests_logging_in_with_the_profile() -> None:
    exc = ClientError({"Error": {"Code": "ExpiredToken", "Message": "expired"}}, "ListMetrics")
    assert "aws sso login --profile dev" in describe_error(exc, profile="dev")


def test_server_error_names_the_code_and_status() -> None:
    response: Any = {
        "Error": {"Code": "InternalFailure", "Message": "boom"},
        "ResponseMetadata": {"HTTPStatusCode": 500},
    }
    exc = ClientError(response, "GetMetricData")
    line = describe_error(exc)
    assert "InternalFailure" in line
    assert "GetMetricData" in line
    assert "500" in line


def test_no_credentials() -> None:
    line = describe_error(NoCredentialsError())
    assert "\n" not in line
    assert "credentials" in line


def test_endpoint_unreachable() -> None:
    exc = EndpointConnectionError(endpoint_url="https://monitoring.us-east-1.amazonaws.com/")
    line = describe_error(exc)
    assert "\n" not in line
    assert line.startswith("network")


# --- --format needs --once; --help names the commands -------------------------------------

FORMAT_ONCE_ONLY = (
    "bedrock-top: error: --format: only used with --once (add --once, or drop --format)\n"
)


@pytest.fixture
def tui_runs(monkeypatch: pytest.MonkeyPatch) -> list[Settings]:
    """Stands in for the TUI (no Textual, no terminal): the settings it was started with."""
    runs: list[Settings] = []

    def run_app(settings: Settings, *_: object) -> int:
        runs.append(settings)
        return 0

    fake = types.ModuleType("bedrock_top.tui.app")
    monkeypatch.setattr(fake, "run_app", run_app, raising=False)
    monkeypatch.setitem(sys.modules, "bedrock_top.tui.app", fake)
    return runs


@pytest.mark.parametrize(
    "argv",
    [["--format", "json"], ["--demo", "--format", "csv"], ["--format", "table", "--demo"]],
)
def test_format_flag_without_once_is_a_usage_error(
    argv: list[str], tui_runs: list[Settings], capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(argv) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", FORMAT_ONCE_ONLY)
    assert tui_runs == []


def test_format_from_the_file_or_environment_is_no_error_for_the_tui(
    tmp_path: Any,
    monkeypatch: pytest.MonkeyPatch,
    tui_runs: list[Settings],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bt.toml"
    path.write_text('format = "json"\n')
    assert main(["--demo", "--config", str(path)]) == 0
    monkeypatch.setenv("BEDROCK_TOP_FORMAT", "csv")
    assert main(["--demo"]) == 0
    assert [s.format for s in tui_runs] == ["json", "csv"]
    assert main(["--print-config", "--format", "json"]) == 0  # shows it, runs nothing
    assert capsys.readouterr().err == ""
    assert len(tui_runs) == 2


def test_help_names_the_prices_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(["--help"]) == 0
    out = capsys.readouterr().out
    assert "bedrock-top prices [--refresh]" in out
    assert "bedrock-top prices --help" in out


# --- --once output ------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["table", "json", "csv"])
@pytest.mark.parametrize("lines", [1, 0])
def test_a_closed_pipe_is_not_an_error(output: str, lines: int) -> None:
    """`bedrock-top --demo --once | head -1` (and `| head -0`): the reader leaves early;
    bedrock-top exits 0 and writes nothing to stderr (no traceback, no "Exception ignored").

    With every region the output (100+ KB) outgrows a pipe's buffer (64 KB), so bedrock-top
    is still writing when a one-line reader leaves; a reader that leaves before the first
    byte makes the very first write fail, whatever the pipe's size.
    """
    env = {**os.environ, "AWS_EC2_METADATA_DISABLED": "true"}
    argv = ["--demo", "--once", "--format", output, *(["--region", "all"] if lines else [])]
    read_end, write_end = os.pipe()
    with subprocess.Popen(
        [sys.executable, "-m", "bedrock_top", *argv],
        stdout=write_end,
        stderr=subprocess.PIPE,
        env=env,
    ) as proc:
        os.close(write_end)
        with os.fdopen(read_end, "rb") as reader:
            first = [reader.readline() for _ in range(lines)]
        assert proc.stderr is not None
        err = proc.stderr.read().decode()
        code = proc.wait(timeout=60)
    assert all(line.strip() for line in first)
    assert err == ""
    assert code == 0


# Decimals --once keeps in JSON and CSV (README): money and rates 1e-6, milliseconds 0.1.
SIX_DECIMALS = {"cost_usd", "usd_per_hour", "cache_savings_usd", "error_rate", "throttle_rate"}


def decimals_allowed(key: str) -> int | None:
    if key.endswith("_ms"):
        return 1
    if key.endswith("_pct") or key in {"limit", "peak", "last", "used", "pct"}:
        return 3  # quota figures
    return 6 if key in SIX_DECIMALS else None


def floats_in(node: Any, key: str = "") -> Iterator[tuple[str, float]]:
    """Every float in a JSON document, with the key it is under."""
    if isinstance(node, float):
        yield key, node
    elif isinstance(node, dict):
        for k, v in node.items():
            yield from floats_in(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from floats_in(v, key)


def assert_no_float_noise(key: str, value: float) -> None:
    n = decimals_allowed(key)
    assert n is not None, f"{key}: a float the contract does not round"
    assert repr(round(value, n)) == repr(value), (key, value)
    exponent = Decimal(repr(value)).as_tuple().exponent
    assert isinstance(exponent, int)
    assert -exponent <= n, (key, value)


def test_json_floats_carry_no_noise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--once", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    alerts = data.pop("alerts")  # checked below, by the kind of each alert's figure
    floats = list(floats_in(data))
    keys = {k for k, _ in floats}
    # The demo has every kind: averages, percentiles, rates, money per row, totals and API.
    assert {"latency_avg_ms", "ttft_p90_ms", "error_rate", "usd_per_hour"} <= keys
    assert isinstance(data["totals"]["cost_usd"], float)
    assert isinstance(data["api"]["cost_usd"], float)
    for key, value in floats:
        assert_no_float_noise(key, value)
    assert alerts
    for alert in alerts:  # rounded by the kind of figure (output.alert_json)
        for key in ALERT_FIGURES:
            if isinstance(alert[key], float):
                assert_no_float_noise(ALERT_KINDS[alert["figure"]], alert[key])


# The figures of an active alert, and a key of the same decimals as each built-in's figure.
ALERT_FIGURES = ("value", "peak", "threshold")
ALERT_KINDS = {
    "quota": "peak_pct",
    "thr_min": "peak",
    "err_rate_min": "peak_pct",
    "usd_per_hour": "usd_per_hour",
    "spike": "peak",
}


def test_csv_floats_carry_no_noise(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--demo", "--once", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    checked = 0
    for row in rows:
        for key, text in row.items():
            if decimals_allowed(key) is not None and text:
                assert_no_float_noise(key, float(text))
                assert repr(float(text)) == text
                checked += 1
    assert checked > len(rows)


def test_once_table_fits_a_terminal_and_a_pipe_gets_every_column(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--demo", "--once"]) == 0
    piped = capsys.readouterr().out
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setattr(shutil, "get_terminal_size", lambda *a: os.terminal_size((80, 24)))
    assert main(["--demo", "--once"]) == 0
    shown = capsys.readouterr().out
    assert max(len(line) for line in piped.splitlines()) > 80
    assert max(len(line) for line in shown.splitlines()) <= 80
    for text in (piped, shown):
        assert "…" not in text
        assert all(line == line.rstrip() for line in text.splitlines())
    header = next(line for line in piped.splitlines() if line.startswith("Model "))
    for name in ("Provider", "Lat p50", "TTFT p90", "Thr %", "$ 1h"):
        assert name in header
