"""`bedrock-top watch` as a user runs it: a subprocess polling CloudWatch over HTTP (moto on
127.0.0.1 behind a fault proxy), through an outage and a recovery, with its JSON lines read
as they come and checked against the contract; signals end or reload it.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from support.faults import FaultProxy

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

MODEL = "anthropic.claude-3-haiku-20240307-v1:0"
ALERT_KEYS = (
    "at",
    "event",
    "rule",
    "severity",
    "view",
    "region",
    "model_id",
    "figure",
    "value",
    "threshold",
    "message",
)
HEALTH_KEYS = ("at", "event", "region", "message")
RULES = """
[[alerts]]
name = "few-calls"
figure = "invocations"
op = "<"
threshold = 10
for = "0s"
clear = "0s"
severity = "critical"
"""
# The built-ins judge quotas, throttles, errors, spend and spikes: off, so only the rule
# under test speaks.
BUILT_INS_OFF = "".join(
    f'\n[[alerts]]\nname = "{name}"\nenabled = false\n'
    for name in ("quota-high", "throttled", "error-rate", "spend-rate", "spike")
)


class Lines:
    """A stream read on a thread, so a test can wait for a line with a timeout."""

    def __init__(self, stream: IO[str]) -> None:
        self.queue: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.queue.put(line)

    def next(self, timeout: float) -> str:
        line = self.queue.get(timeout=timeout)
        self.seen.append(line)
        return line

    def said(self, timeout: float, skip: str = "poll ok") -> str:
        """The next line that is not a routine status line."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.next(max(0.01, deadline - time.monotonic()))
            if skip not in line:
                return line


def _publish_invocations(client: CloudWatchClient, count: int, minutes_ago: int) -> None:
    at = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
    client.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": MODEL}],
                "Timestamp": at,
                "Values": [1.0],
                "Counts": [float(count)],
            }
        ],
    )


def _start(config: Path, endpoint: str, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bedrock_top",
            "watch",
            "--region",
            "us-east-1",
            "--endpoint-url",
            endpoint,
            "--interval",
            "5",
            "--config",
            str(config),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def _event(lines: Lines, timeout: float = 40) -> dict[str, Any]:
    record: dict[str, Any] = json.loads(lines.next(timeout))
    keys = ALERT_KEYS if record["event"] in ("fired", "repeat", "resolved") else HEALTH_KEYS
    assert tuple(record)[: len(keys)] == keys, record
    at = datetime.fromisoformat(record["at"].replace("Z", "+00:00"))
    assert at.utcoffset() == timedelta(0)
    assert abs((datetime.now(UTC) - at).total_seconds()) < 120
    return record


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> tuple[int, float]:
    started = time.monotonic()
    proc.send_signal(sig)
    code = proc.wait(timeout=10)
    return code, time.monotonic() - started


def test_watch_through_outages_and_recoveries(
    cloudwatch_client: CloudWatchClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(RULES + BUILT_INS_OFF, encoding="utf-8")
    _publish_invocations(cloudwatch_client, 3, minutes_ago=5)
    proc = _start(config, proxy.url)
    assert proc.stdout is not None
    assert proc.stderr is not None
    out, err = Lines(proc.stdout), Lines(proc.stderr)
    try:
        fired = _event(out)
        assert fired["event"] == "fired"
        assert (fired["rule"], fired["severity"], fired["view"]) == (
            "few-calls",
            "critical",
            "models",
        )
        assert (fired["region"], fired["model_id"], fired["figure"]) == (
            "us-east-1",
            MODEL,
            "invocations",
        )
        assert (fired["value"], fired["threshold"]) == (3, 10)
        assert MODEL in fired["message"]
        assert "poll ok" in err.next(20)  # the status line of that poll

        proxy.refuse()  # CloudWatch unreachable
        failed = _event(out)
        assert (failed["event"], failed["region"]) == ("poll_failed", "us-east-1")
        assert failed["message"]
        proxy.clear()
        recovered = _event(out)
        assert (recovered["event"], recovered["region"]) == ("recovered", "us-east-1")

        # Throttling that outlasts botocore's retries, then expired credentials: each is one
        # poll_failed naming it (not one per retry), then recovered.
        for arm, words in ((proxy.throttle, "throttl"), (proxy.expired_token, "expired")):
            arm()
            failed = _event(out)
            assert failed["event"] == "poll_failed"
            assert words in failed["message"].lower(), failed
            proxy.clear()
            assert _event(out)["event"] == "recovered"

        _publish_invocations(cloudwatch_client, 20, minutes_ago=4)  # 23 >= 10: it ends
        resolved = _event(out)
        assert (resolved["event"], resolved["rule"], resolved["model_id"]) == (
            "resolved",
            "few-calls",
            MODEL,
        )
        assert resolved["value"] == 23
        assert out.queue.empty()  # nothing else was said (no repeat: repeat is off)

        code, seconds = _stop(proc)
        assert code == 0
        assert seconds < 1.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "Traceback" not in "".join(err.seen)


def test_watch_stops_within_a_second_while_a_poll_hangs(
    cloudwatch_client: CloudWatchClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(BUILT_INS_OFF, encoding="utf-8")
    proc = _start(config, proxy.url, "--quiet")
    assert proc.stderr is not None
    err = Lines(proc.stderr)
    try:
        time.sleep(3)  # past start-up, into the first polls
        proxy.drop()  # every request read and never answered: a poll hangs on the network
        time.sleep(1.5)
        code, seconds = _stop(proc, signal.SIGINT)
        assert code == 0
        assert seconds < 1.0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    time.sleep(0.2)
    assert err.queue.empty()  # --quiet: nothing on stderr


def test_sighup_reloads_and_a_bad_config_keeps_the_old_one(
    cloudwatch_client: CloudWatchClient, proxy: FaultProxy, tmp_path: Path
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(BUILT_INS_OFF, encoding="utf-8")
    _publish_invocations(cloudwatch_client, 3, minutes_ago=5)
    output = tmp_path / "events.jsonl"
    proc = _start(config, proxy.url, "--output", str(output))
    assert proc.stderr is not None
    err = Lines(proc.stderr)
    try:
        assert "poll ok" in err.next(30)
        assert not output.read_text(encoding="utf-8")  # no rule on: nothing to say
        config.write_text("[[alerts]]\nname = 'broken'\nfigure = 'nope'\n", encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        line = err.said(10)
        assert "config reload failed" in line
        assert "broken" in line
        config.write_text(RULES + BUILT_INS_OFF, encoding="utf-8")
        proc.send_signal(signal.SIGHUP)
        assert "config reloaded" in err.said(10)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not output.read_text(encoding="utf-8"):
            time.sleep(0.2)
        first = json.loads(output.read_text(encoding="utf-8").splitlines()[0])
        assert (first["event"], first["rule"], first["value"]) == ("fired", "few-calls", 3)
        code, _ = _stop(proc)
        assert code == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_watch_usage_errors_are_one_line_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        "[[alerts]]\nname = 'x'\nfigure = 'invocations'\nop = '=='\n", encoding="utf-8"
    )
    for args in (["--once"], ["--config", str(config)], ["--interval", "1"]):
        proc = subprocess.run(
            [sys.executable, "-m", "bedrock_top", "watch", "--demo", *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == ""
        assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
        assert "Traceback" not in proc.stderr


def test_watch_prints_its_config_with_the_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bedrock_top.cli import main

    config = tmp_path / "config.toml"
    config.write_text(RULES, encoding="utf-8")
    assert main(["watch", "--demo", "--config", str(config), "--print-config"]) == 0
    out = capsys.readouterr().out
    assert "few-calls" in out
    assert "invocations < 10" in out
    assert f"config file: {config}" in out
