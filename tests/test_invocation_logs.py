"""Bedrock model invocation logs: where they go, the Insights backfill, Live Tail, the demo.

moto (over HTTP on 127.0.0.1) serves Bedrock's logging configuration and CloudWatch Logs.
What moto 5.2 does with them, checked here so the tests lean on it only where it is right:

* GetModelInvocationLoggingConfiguration / Put...: stored and returned as given
  (``loggingConfig`` is null when logging was never configured).
* StartQuery / GetQueryResults: complete at once, but only ``fields``, ``sort`` and ``limit``
  run: ``filter`` and ``stats ... by bin()`` are ignored, every event comes back as
  ``@ptr`` / ``@timestamp``, and there are no statistics. StopQuery is not implemented
  (HTTP 500). So the backfill's query text, parameters, polling and parsing are checked
  with botocore's Stubber (every request and answer validated against the service model).
* StartLiveTail: a real event stream over HTTP, once the client skips the endpoint's
  ``stream-`` host prefix: one ``sessionStart`` and one ``sessionUpdate`` with every event
  of the group so far, then the stream ends. JSON filter patterns are not applied.
  Reconnection and stream errors are driven by fake clients.
"""

from __future__ import annotations

import json
import logging
import shlex
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, EventStreamError
from botocore.stub import Stubber

from bedrock_top.demo.invocation_logs import (
    DEMO_LOG_GROUP,
    PROMPT_MARKER,
    DemoBedrockLogging,
    DemoLogs,
)
from bedrock_top.services.aws import logs_client_config
from bedrock_top.services.invocation_logs import (
    FILTER_PATTERN,
    Backfill,
    BackfillRow,
    InsightsError,
    LiveTail,
    backfill,
    find_log_group,
    log_group_arn,
    query_text,
)

ACCOUNT = "123456789012"
GROUP = "/aws/bedrock/model-invocations"
STREAM = "aws/bedrock/modelinvocations"
ROLE = f"arn:aws:sts::{ACCOUNT}:assumed-role"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"
# The backfill query, written out: a change to the text must be a change to this test.
QUERY_300 = (
    'fields @timestamp | filter schemaType = "ModelInvocationLog" '
    "| stats count(*) as invocations, sum(input.inputTokenCount) as input_tokens, "
    "sum(output.outputTokenCount) as output_tokens, "
    "sum(input.cacheReadInputTokenCount) as cache_read_tokens, "
    "sum(input.cacheWriteInputTokenCount) as cache_write_tokens "
    "by bin(300s) as period, identity.arn as caller, modelId as model_id"
)
DENIED = "User: {who} is not authorized to perform: {action} on resource: {what}"

# --- helpers -------------------------------------------------------------------------------


# caplog sees what bedrock-top logs (see conftest.logger_propagates).
pytestmark = pytest.mark.usefixtures("logger_propagates")


def record(
    ms: int,
    caller: str,
    model: str,
    tokens: tuple[int, int],
    cache_read: int = 0,
    metadata: dict[str, str] | None = None,
    request_id: str = "5a1f0c1e-0000-4000-8000-000000000001",
) -> str:
    """An invocation log record as Bedrock writes it (Converse, prompt and answer included)."""
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ms / 1000))
    body = {"messages": [{"role": "user", "content": [{"text": "secret prompt"}]}]}
    fields: dict[str, Any] = {"inputContentType": "application/json", "inputBodyJson": body,
                              "inputTokenCount": tokens[0]}  # fmt: skip
    if cache_read:
        fields["cacheReadInputTokenCount"] = cache_read
    message: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": stamp,
        "accountId": ACCOUNT,
        "identity": {"arn": caller},
        "region": "us-east-1",
        "requestId": request_id,
        "operation": "Converse",
        "modelId": model,
        "input": fields,
        "output": {"outputContentType": "application/json", "outputTokenCount": tokens[1]},
    }
    if metadata:
        message["requestMetadata"] = metadata
    return json.dumps(message)


def put_records(client: Any, events: list[tuple[int, str]]) -> None:
    client.create_log_group(logGroupName=GROUP)
    client.create_log_stream(logGroupName=GROUP, logStreamName=STREAM)
    client.put_log_events(
        logGroupName=GROUP,
        logStreamName=STREAM,
        logEvents=[{"timestamp": ms, "message": text} for ms, text in sorted(events)],
    )


def offline_client(service: str) -> Any:
    """A client for Stubber: it never reaches the network."""
    factory: Any = boto3.client  # typed per service name: this one takes any
    return factory(service, region_name="us-east-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing", aws_session_token="testing")  # fmt: skip


def denied_message(action: str | None) -> str:
    """AWS's AccessDenied text, which names the action, or a terse one (some proxies)."""
    if action is None:
        return "Access denied"
    return DENIED.format(who=f"{ROLE}/viewer/me", action=action, what="*")


class Recorder:
    """on_events / on_status callbacks that remember what they got, and can be waited on."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.statuses: list[str] = []
        self._changed = threading.Condition()

    def on_events(self, messages: list[str]) -> None:
        with self._changed:
            self.batches.append(messages)
            self._changed.notify_all()

    def on_status(self, status: str) -> None:
        with self._changed:
            self.statuses.append(status)
            self._changed.notify_all()

    def wait(self, predicate: Any, timeout: float = 5.0) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: predicate(self), timeout), self.statuses


@pytest.fixture
def logs_client(cloudwatch_endpoint: str) -> Any:
    return boto3.client("logs", region_name="us-east-1", endpoint_url=cloudwatch_endpoint,
                        config=logs_client_config(cloudwatch_endpoint), aws_access_key_id="testing",
                        aws_secret_access_key="testing", aws_session_token="testing")  # fmt: skip


@pytest.fixture
def bedrock_client(cloudwatch_endpoint: str) -> Any:
    return boto3.client("bedrock", region_name="us-east-1", endpoint_url=cloudwatch_endpoint,
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        aws_session_token="testing")  # fmt: skip


# --- where the logs go ---------------------------------------------------------------------


@pytest.mark.moto
def test_the_log_group_comes_from_the_logging_configuration(bedrock_client: Any) -> None:
    bedrock_client.put_model_invocation_logging_configuration(
        loggingConfig={
            "cloudWatchConfig": {"logGroupName": "/team/bedrock", "roleArn": f"arn:aws:iam::"
                                 f"{ACCOUNT}:role/BedrockLogging"},
            "textDataDeliveryEnabled": True,
        }
    )  # fmt: skip
    target = find_log_group(bedrock_client)
    assert target.log_group == "/team/bedrock"
    assert target.reason == target.enable_command == ""


@pytest.mark.moto
def test_logging_off_gives_a_reason_the_command_and_its_cost(bedrock_client: Any) -> None:
    target = find_log_group(bedrock_client)
    assert target.log_group is None
    assert target.reason.startswith("model invocation logging is off in us-east-1")
    assert target.enable_command == (
        "aws bedrock put-model-invocation-logging-configuration --logging-config "
        '\'{"cloudWatchConfig":{"logGroupName":"/aws/bedrock/model-invocations",'
        '"roleArn":"arn:aws:iam::ACCOUNT:role/BedrockLogging"},"textDataDeliveryEnabled":true}\''
        " --region us-east-1"
    )
    assert "$0.50 per GB ingested" in target.cost_note


@pytest.mark.moto
def test_s3_only_logging_keeps_s3_in_the_command(bedrock_client: Any) -> None:
    s3 = {"bucketName": "acme-bedrock-logs", "keyPrefix": "invocations"}
    bedrock_client.put_model_invocation_logging_configuration(
        loggingConfig={"s3Config": s3, "textDataDeliveryEnabled": False,
                       "imageDataDeliveryEnabled": True},
    )  # fmt: skip
    target = find_log_group(bedrock_client)
    assert target.log_group is None
    assert "S3 only (s3://acme-bedrock-logs)" in target.reason
    words = shlex.split(target.enable_command)
    assert words[:4] == ["aws", "bedrock", "put-model-invocation-logging-configuration",
                         "--logging-config"]  # fmt: skip
    assert json.loads(words[4]) == {  # the put replaces everything: S3 must stay
        "cloudWatchConfig": {"logGroupName": GROUP,
                             "roleArn": "arn:aws:iam::ACCOUNT:role/BedrockLogging"},
        "s3Config": s3,
        "textDataDeliveryEnabled": True,
        "imageDataDeliveryEnabled": True,
    }  # fmt: skip
    assert target.cost_note


@pytest.mark.parametrize("named", [True, False])
def test_no_permission_to_read_the_configuration_is_an_answer(named: bool) -> None:
    client = offline_client("bedrock")
    action = "bedrock:GetModelInvocationLoggingConfiguration"
    with Stubber(client) as stub:
        stub.add_client_error(
            "get_model_invocation_logging_configuration",
            "AccessDeniedException",
            denied_message(action if named else None),
        )
        target = find_log_group(client)
    assert target.log_group is None
    assert target.reason == (
        f"access denied: the identity lacks {action}: cannot tell where invocation logs go"
    )
    assert target.enable_command == ""


def test_other_errors_reading_the_configuration_raise() -> None:
    client = offline_client("bedrock")
    with Stubber(client) as stub:
        stub.add_client_error("get_model_invocation_logging_configuration",
                              "ThrottlingException", http_status_code=429)  # fmt: skip
        with pytest.raises(ClientError):
            find_log_group(client)


def test_the_demo_logs_to_cloudwatch() -> None:
    assert find_log_group(DemoBedrockLogging()).log_group == DEMO_LOG_GROUP


# --- backfill ------------------------------------------------------------------------------


def field_row(**values: str) -> list[dict[str, str]]:
    return [{"field": key, "value": value} for key, value in values.items()]


def test_the_backfill_query_and_parameters_sent_and_its_answer_parsed() -> None:
    client = offline_client("logs")
    sleeps: list[float] = []
    rows = [
        field_row(period="2025-06-01 12:00:00.000", caller=f"{ROLE}/checkout-api/i-0abc",
                  model_id=HAIKU, invocations="12", input_tokens="9000", output_tokens="2100"),
        field_row(period="2025-06-01 12:05:00.000", caller=f"{ROLE}/support-bot/bot",
                  model_id=SONNET, invocations="3", input_tokens="4500", output_tokens="700",
                  cache_read_tokens="12000", cache_write_tokens="1.5E3"),
    ]  # fmt: skip
    statistics = {"recordsMatched": 15.0, "recordsScanned": 20.0, "bytesScanned": 3 * 2**30}
    with Stubber(client) as stub:
        stub.add_response(
            "start_query",
            {"queryId": "q-1"},
            {"logGroupName": GROUP, "startTime": 1_748_779_200, "endTime": 1_748_780_999,
             "queryString": QUERY_300, "limit": 10_000},
        )  # fmt: skip
        for status in ("Scheduled", "Running"):
            stub.add_response("get_query_results", {"status": status, "results": []},
                              {"queryId": "q-1"})  # fmt: skip
        stub.add_response(
            "get_query_results",
            {"status": "Complete", "results": rows, "statistics": statistics},
            {"queryId": "q-1"},
        )
        result = backfill(client, GROUP, 1_748_779_200, 1_748_781_000, 300, None,
                          time.monotonic, sleeps.append)  # fmt: skip
        stub.assert_no_pending_responses()
    assert sleeps == [0.5, 1.0]
    assert result == Backfill(
        rows=[
            BackfillRow(1_748_779_200, f"{ROLE}/checkout-api/i-0abc", HAIKU, None,
                        12, 9000, 2100, 0, 0),
            BackfillRow(1_748_779_500, f"{ROLE}/support-bot/bot", SONNET, None,
                        3, 4500, 700, 12_000, 1500),
        ],
        bytes_scanned=3 * 2**30,
        records_matched=15.0,
        truncated=False,
        usd=result.usd,
    )  # fmt: skip
    assert result.usd == pytest.approx(3 * 0.005)


def test_grouping_by_a_metadata_key_adds_it_to_the_query() -> None:
    client = offline_client("logs")
    with Stubber(client) as stub:
        stub.add_response(
            "start_query",
            {"queryId": "q-2"},
            {"logGroupName": GROUP, "startTime": 100, "endTime": 3699,
             "queryString": QUERY_300.replace("300s", "60s") + ", requestMetadata.team as meta",
             "limit": 10_000},
        )  # fmt: skip
        stub.add_response(
            "get_query_results",
            {"status": "Complete", "results": [
                field_row(period="1970-01-01 00:01:00.000", caller="c", model_id=HAIKU,
                          meta="payments", invocations="1", input_tokens="10"),
                field_row(period="1970-01-01 00:02:00.000", caller="c", model_id=HAIKU,
                          invocations="2"),
            ]},
            {"queryId": "q-2"},
        )  # fmt: skip
        result = backfill(client, GROUP, 100.2, 3700, 60, "team", time.monotonic, time.sleep)
    assert [(r.period_start, r.meta, r.invocations, r.input_tokens) for r in result.rows] == [
        (60, "payments", 1, 10),
        (120, None, 2, 0),  # Insights leaves absent values out of the row
    ]
    assert result.bytes_scanned == result.usd == 0


def test_a_full_answer_is_marked_truncated() -> None:
    client = offline_client("logs")
    row = field_row(period="2025-06-01 12:00:00.000", caller="c", model_id=HAIKU,
                    invocations="1")  # fmt: skip
    with Stubber(client) as stub:
        stub.add_response("start_query", {"queryId": "q"})
        stub.add_response("get_query_results", {"status": "Complete", "results": [row] * 10_000})
        result = backfill(client, GROUP, 0, 86_400, 60, None, time.monotonic, time.sleep)
    assert result.truncated
    assert len(result.rows) == 10_000


class SlowInsights:
    """A logs client whose query never completes."""

    def __init__(self) -> None:
        self.stopped: list[str] = []

    def start_query(self, **kwargs: Any) -> dict[str, Any]:
        return {"queryId": "q-slow"}

    def get_query_results(self, **kwargs: Any) -> dict[str, Any]:
        return {"status": "Running", "results": []}

    def stop_query(self, **kwargs: Any) -> dict[str, Any]:
        self.stopped.append(kwargs["queryId"])
        return {"success": True}


def test_a_query_running_past_a_minute_is_stopped() -> None:
    now = [1000.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    client = SlowInsights()
    with pytest.raises(InsightsError, match="did not finish within 60 s and was stopped"):
        backfill(client, GROUP, 0, 3600, 300, None, lambda: now[0], sleep)
    assert client.stopped == ["q-slow"]
    assert now[0] == 1060.0
    assert sleeps[:5] == [0.5, 1.0, 2.0, 4.0, 4.0]  # backoff, capped at 4 s
    assert max(sleeps) == 4.0


@pytest.mark.parametrize("status", ["Failed", "Cancelled", "Timeout"])
def test_a_failed_query_raises(status: str) -> None:
    client = offline_client("logs")
    with Stubber(client) as stub:
        stub.add_response("start_query", {"queryId": "q"})
        stub.add_response("get_query_results", {"status": status, "results": []})
        with pytest.raises(InsightsError, match=f"ended with status {status}"):
            backfill(client, GROUP, 0, 3600, 300, None, time.monotonic, time.sleep)


@pytest.mark.parametrize("named", [True, False])
@pytest.mark.parametrize(
    ("operation", "action"),
    [("start_query", "logs:StartQuery"), ("get_query_results", "logs:GetQueryResults")],
)
def test_backfill_without_permission_names_the_action(
    operation: str, action: str, named: bool
) -> None:
    client = offline_client("logs")
    message = denied_message(action if named else None)
    with Stubber(client) as stub:
        if operation == "get_query_results":
            stub.add_response("start_query", {"queryId": "q"})
        stub.add_client_error(operation, "AccessDeniedException", message)
        with pytest.raises(InsightsError) as raised:
            backfill(client, GROUP, 0, 3600, 300, None, time.monotonic, time.sleep)
    assert str(raised.value) == f"access denied: the identity lacks {action} (see the " \
                                "minimal IAM policy)"  # fmt: skip


@pytest.mark.moto
def test_moto_runs_the_query_but_not_its_stats(logs_client: Any) -> None:
    """moto accepts the query and the window, but answers events, not ``stats`` rows: the
    backfill finds no row to read (the Stubber tests above check the real answer)."""
    base = 1_748_779_200_000
    put_records(logs_client, [
        (base + 1000, record(base, f"{ROLE}/checkout-api/i-0abc", HAIKU, (900, 120))),
        (base + 2000, record(base, f"{ROLE}/nightly-batch/job", SONNET, (30_000, 2000), 5000)),
    ])  # fmt: skip
    answer = backfill(logs_client, GROUP, base / 1000, base / 1000 + 3600, 300, None,
                      time.monotonic, time.sleep)  # fmt: skip
    assert answer.rows == []
    assert answer.truncated is False
    (sent,) = logs_client.describe_queries(logGroupName=GROUP)["queries"]
    assert sent["queryString"] == QUERY_300
    assert sent["status"] == "Complete"


def test_only_plain_metadata_keys_and_positive_periods() -> None:
    assert query_text(300) == QUERY_300
    with pytest.raises(ValueError, match="metadata key"):
        query_text(300, "team | filter x")
    with pytest.raises(ValueError, match="positive"):
        query_text(0)


# --- Live Tail -----------------------------------------------------------------------------


@pytest.mark.moto
def test_what_moto_live_tail_streams(logs_client: Any) -> None:
    base = int(time.time() * 1000) - 60_000
    invocation = record(base, f"{ROLE}/checkout-api/i-0abc", HAIKU, (900, 120))
    put_records(logs_client, [(base, invocation), (base + 1, "START RequestId: lambda noise")])
    arn = log_group_arn("us-east-1", ACCOUNT, GROUP)
    response = logs_client.start_live_tail(
        logGroupIdentifiers=[arn], logEventFilterPattern=FILTER_PATTERN
    )
    events = list(response["responseStream"])
    assert [next(iter(event)) for event in events] == ["sessionStart", "sessionUpdate"]
    assert events[0]["sessionStart"]["logGroupIdentifiers"] == [arn]
    update = events[1]["sessionUpdate"]
    assert update["sessionMetadata"] == {"sampled": False}
    # moto does not apply JSON filter patterns: the Lambda line comes through too.
    assert [r["message"] for r in update["sessionResults"]] == [
        invocation,
        "START RequestId: lambda noise",
    ]


@pytest.mark.moto
def test_live_tail_reads_records_from_moto_and_reconnects(logs_client: Any) -> None:
    base = int(time.time() * 1000) - 60_000
    invocation = record(base, f"{ROLE}/checkout-api/i-0abc", HAIKU, (900, 120))
    put_records(logs_client, [(base, invocation)])
    seen = Recorder()
    tail = LiveTail(backoff_s=0.05, max_backoff_s=0.05)
    tail.start(logs_client, log_group_arn("us-east-1", ACCOUNT, GROUP), seen.on_events,
               seen.on_status)  # fmt: skip
    seen.wait(lambda r: len(r.batches) >= 2)  # moto's stream ends at once: a second session
    tail.stop()
    assert not tail.running
    assert seen.batches[:2] == [[invocation], [invocation]]
    assert seen.statuses[:4] == [
        "connecting",
        "live",
        "the Live Tail session ended; reconnecting in 0.05 s",
        "connecting",
    ]
    assert seen.statuses[-1] == "stopped"
    assert tail.minutes_open > 0
    assert tail.usd == pytest.approx(tail.minutes_open * 0.01)


class BlockingStream:
    """A stream that yields its events, then waits (as Live Tail does between updates)
    until closed, or raises ``error`` when done."""

    def __init__(self, events: list[dict[str, Any]], error: Exception | None = None) -> None:
        self.events = events
        self.error = error
        self.closed = threading.Event()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield from self.events
        if self.error is not None:
            raise self.error
        self.closed.wait(30)

    def close(self) -> None:
        self.closed.set()


def update(*messages: str, sampled: bool = False) -> dict[str, Any]:
    results = [{"message": m, "timestamp": 0} for m in messages]
    return {"sessionUpdate": {"sessionMetadata": {"sampled": sampled}, "sessionResults": results}}


START: dict[str, Any] = {"sessionStart": {"sessionId": "s"}}
TIMEOUT = EventStreamError(
    {"Error": {"Code": "SessionTimeoutException", "Message": "after 3 hours"}}, "StartLiveTail"
)


class FakeLogs:
    """start_live_tail answers (streams or exceptions) in order; the last one repeats."""

    def __init__(self, *answers: Iterable[dict[str, Any]] | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[dict[str, Any]] = []

    def start_live_tail(self, **kwargs: Any) -> dict[str, Any]:
        self.requests.append(kwargs)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return {"responseStream": answer}


def test_live_tail_reconnects_after_a_session_times_out() -> None:
    last = BlockingStream([START, update("b1", "b2"), update()])
    client = FakeLogs(BlockingStream([START, update("a"), update()], TIMEOUT), last)
    seen = Recorder()
    tail = LiveTail(backoff_s=0.01)
    tail.start(client, "arn:group", seen.on_events, seen.on_status)
    seen.wait(lambda r: len(r.batches) == 2)
    began = time.monotonic()
    tail.stop()
    assert time.monotonic() - began < 1.0
    assert last.closed.is_set()
    assert seen.batches == [["a"], ["b1", "b2"]]  # empty updates are not passed on
    assert seen.statuses == [
        "connecting",
        "live",
        "the Live Tail session reached its 3-hour limit; reconnecting in 0.01 s",
        "connecting",
        "live",
        "stopped",
    ]
    assert client.requests == [
        {"logGroupIdentifiers": ["arn:group"],
         "logEventFilterPattern": '{ $.schemaType = "ModelInvocationLog" }'},
    ] * 2  # fmt: skip


class DeafStream:
    """A stream whose close() does not interrupt a read: it ends with its next update."""

    def __init__(self, *messages: str) -> None:
        self.messages = messages
        self.closed = False

    def __iter__(self) -> Iterator[dict[str, Any]]:
        yield START
        while not self.closed:
            yield update(*self.messages)
            time.sleep(0.3)

    def close(self) -> None:
        self.closed = True


def test_live_tail_restarts_right_after_a_stop() -> None:
    """Leaving the view and coming back at once: the old session is let finish first."""
    seen = Recorder()
    tail = LiveTail()
    tail.start(FakeLogs(DeafStream("old")), "arn:group", seen.on_events, seen.on_status)
    seen.wait(lambda r: r.batches)
    tail.stop(timeout=0)
    tail.start(FakeLogs(DeafStream("new")), "arn:group", seen.on_events, seen.on_status)
    seen.wait(lambda r: ["new"] in r.batches)
    tail.stop()
    assert not tail.running
    assert {m for batch in seen.batches for m in batch} == {"old", "new"}


def test_live_tail_backs_off_exponentially_up_to_the_cap() -> None:
    lost = EndpointConnectionError(endpoint_url="https://stream-logs.us-east-1.amazonaws.com/")
    seen = Recorder()
    tail = LiveTail(backoff_s=0.01, max_backoff_s=0.04)
    tail.start(FakeLogs(lost), "arn:group", seen.on_events, seen.on_status)
    seen.wait(lambda r: sum("reconnecting" in s for s in r.statuses) >= 5)
    tail.stop()
    delays = [s.rsplit(" in ", 1)[1] for s in seen.statuses if "reconnecting" in s]
    assert delays[:5] == ["0.01 s", "0.02 s", "0.04 s", "0.04 s", "0.04 s"]
    assert seen.statuses[1].startswith("network: cannot reach CloudWatch at https://stream-logs")
    assert tail.minutes_open == 0


def test_live_tail_reports_sampling() -> None:
    stream = BlockingStream([START, update("x", sampled=True), update("y")])
    seen = Recorder()
    tail = LiveTail()
    tail.start(FakeLogs(stream), "arn:group", seen.on_events, seen.on_status)
    seen.wait(lambda r: len(r.batches) == 2)
    tail.stop()
    assert seen.statuses == ["connecting", "live", "sampled", "live", "stopped"]


@pytest.mark.parametrize("named", [True, False])
def test_live_tail_without_permission_says_so_and_retries_slowly(named: bool) -> None:
    client = offline_client("logs")
    message = denied_message("logs:StartLiveTail" if named else None)
    seen = Recorder()
    tail = LiveTail()
    with Stubber(client) as stub:
        stub.add_client_error("start_live_tail", "AccessDeniedException", message)
        tail.start(client, "arn:aws:logs:us-east-1:1:log-group:g", seen.on_events,
                   seen.on_status)  # fmt: skip
        seen.wait(lambda r: len(r.statuses) == 2)
        assert tail.running  # waiting 5 minutes, not crashed
        began = time.monotonic()
        tail.stop()
        assert time.monotonic() - began < 1.0
    assert seen.statuses == [
        "connecting",
        "access denied: the identity lacks logs:StartLiveTail: retrying in 5 min",
        "stopped",
    ]


def test_a_failing_consumer_loses_an_update_not_the_session(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream = BlockingStream([START, update("secret prompt one"), update("secret prompt two")])
    seen = Recorder()

    def on_events(messages: list[str]) -> None:
        seen.on_events(messages)
        if len(seen.batches) == 1:
            raise ValueError(f"cannot parse {messages[0]}")

    tail = LiveTail()
    with caplog.at_level(logging.DEBUG):
        tail.start(FakeLogs(stream), "arn:group", on_events, seen.on_status)
        seen.wait(lambda r: len(r.batches) == 2)
        tail.stop()
    assert seen.batches == [["secret prompt one"], ["secret prompt two"]]
    assert "on_events failed (ValueError)" in caplog.text
    assert "secret prompt" not in caplog.text
    assert seen.statuses == ["connecting", "live", "stopped"]


# --- the demo ------------------------------------------------------------------------------

NOW = 1_750_000_000.0


def expected_rows(events: list[tuple[int, str]], period: int, key: str | None) -> list[Any]:
    """The backfill's rows computed from the log events themselves, as Insights would."""
    totals: dict[tuple[int, str, str, str | None], Counter[str]] = {}
    for ms, text in events:
        item = json.loads(text)
        if item.get("schemaType") != "ModelInvocationLog":
            continue
        meta = item.get("requestMetadata", {}).get(key) if key else None
        group = (ms // 1000 // period * period, item.get("identity", {}).get("arn", ""),
                 item.get("modelId", ""), meta)  # fmt: skip
        sums = totals.setdefault(group, Counter())
        sums["invocations"] += 1
        sums["input_tokens"] += item.get("input", {}).get("inputTokenCount", 0)
        sums["output_tokens"] += item.get("output", {}).get("outputTokenCount", 0)
        sums["cache_read_tokens"] += item.get("input", {}).get("cacheReadInputTokenCount", 0)
        sums["cache_write_tokens"] += item.get("input", {}).get("cacheWriteInputTokenCount", 0)
    return sorted(
        (*group, s["invocations"], s["input_tokens"], s["output_tokens"],
         s["cache_read_tokens"], s["cache_write_tokens"])
        for group, s in totals.items()
    )  # fmt: skip


@pytest.mark.parametrize(("period", "key"), [(300, None), (60, "team"), (3600, "app")])
def test_the_demo_backfill_is_exact(period: int, key: str | None) -> None:
    demo = DemoLogs(seed=3, clock=lambda: NOW)
    start, end = NOW - 7200 - 17, NOW - 600
    result = backfill(demo, GROUP, start, end, period, key, time.monotonic, time.sleep)
    events = demo.events(start, end)
    assert sorted(
        (r.period_start, r.caller, r.model_id, r.meta, r.invocations, r.input_tokens,
         r.output_tokens, r.cache_read_tokens, r.cache_write_tokens)
        for r in result.rows
    ) == expected_rows(events, period, key)  # fmt: skip
    assert result.records_matched == len(events)
    assert result.bytes_scanned == sum(len(text.encode()) for _, text in events)
    assert demo.calls == {"StartQuery": 1, "GetQueryResults": 1}


def test_the_demo_sees_nothing_after_its_clock() -> None:
    demo = DemoLogs(clock=lambda: NOW)
    assert demo.events(NOW - 60, NOW + 3600) == demo.events(NOW - 60, NOW + 0.001)
    assert all(ms <= NOW * 1000 for ms, _ in demo.events(NOW - 60, NOW + 3600))


def test_the_demo_records() -> None:
    demo = DemoLogs(seed=1, clock=lambda: NOW)
    events = demo.events(NOW - 4 * 3600, NOW)
    records = [json.loads(text) for _, text in events]
    recent = [event for event in events if event[0] >= (NOW - 600) * 1000]
    assert recent == DemoLogs(seed=1, clock=lambda: NOW).events(NOW - 600, NOW)
    assert recent != DemoLogs(seed=2, clock=lambda: NOW).events(NOW - 600, NOW)
    ids = Counter(r["requestId"] for r in records)
    twice = sum(n == 2 for n in ids.values())
    malformed = [r for r in records if "identity" not in r]
    assert len(records) / 400 < twice < len(records) / 100  # about 1 in 200
    assert len(records) / 1500 < len(malformed) < len(records) / 200  # about 1 in 500
    assert all(r["schemaType"] == "ModelInvocationLog" for r in records)
    good = [r for r in records if "identity" in r]
    assert all(PROMPT_MARKER in json.dumps(r["input"]["inputBodyJson"]) for r in good)
    assert all(PROMPT_MARKER in json.dumps(r["output"]["outputBodyJson"]) for r in good)
    tokens: Counter[str] = Counter()
    for r in good:
        tokens[r["identity"]["arn"].split("/")[1]] += r["input"]["inputTokenCount"]
    assert set(tokens) == {"checkout-api", "support-bot", "nightly-batch", "alice", "bob"}
    assert tokens["nightly-batch"] > 0.8 * sum(tokens.values())  # the runaway job
    by_caller = {r["identity"]["arn"]: r.get("requestMetadata") for r in good}
    assert by_caller[f"arn:aws:iam::{ACCOUNT}:user/bob"] is None
    assert by_caller[f"arn:aws:iam::{ACCOUNT}:user/alice"] == {"team": "research",
                                                               "app": "notebook"}  # fmt: skip
    assert f"{ROLE}/checkout-api/i-0abc1234def567890" in by_caller
    assert any(r["input"].get("cacheReadInputTokenCount") for r in good)
    assert {r["modelId"] for r in good} == {HAIKU, SONNET, "us.amazon.nova-pro-v1:0"}


def test_the_demo_answers_only_its_query_with_valid_parameters() -> None:
    demo = DemoLogs(clock=lambda: NOW)
    with pytest.raises(ClientError, match="MalformedQueryException"):
        demo.start_query(logGroupName=GROUP, startTime=0, endTime=60,
                         queryString="fields @message | limit 5")  # fmt: skip
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        demo.start_query(logGroupName="/other", startTime=0, endTime=60, queryString=QUERY_300)
    with pytest.raises(Exception, match="Invalid type for parameter startTime"):
        demo.start_query(logGroupName=GROUP, startTime="0", endTime=60, queryString=QUERY_300)
    query_id = demo.start_query(logGroupName=GROUP, startTime=0, endTime=60,
                                queryString=QUERY_300)["queryId"]  # fmt: skip
    assert demo.stop_query(queryId=query_id) == {"success": False}  # already complete
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        demo.get_query_results(queryId="nope")


class ManualClock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_the_demo_live_tail_yields_new_records_as_its_clock_advances() -> None:
    clock = ManualClock(NOW)
    demo = DemoLogs(seed=5, clock=clock)
    response = demo.start_live_tail(logGroupIdentifiers=[demo.log_group_arn],
                                    logEventFilterPattern=FILTER_PATTERN)  # fmt: skip
    stream = response["responseStream"]
    events = iter(stream)
    assert next(events)["sessionStart"]["logGroupIdentifiers"] == [demo.log_group_arn]
    got: list[tuple[int, str]] = []
    for _ in range(120):
        clock.now += 1
        update = next(events)["sessionUpdate"]
        assert update["sessionMetadata"] == {"sampled": False}
        got += [(r["timestamp"], r["message"]) for r in update["sessionResults"]]
        assert all(r["timestamp"] <= clock.now * 1000 for r in update["sessionResults"])
    assert got == demo.events(NOW + 0.001, NOW + 120.001)  # every record, once, in order
    assert len(got) > 20
    clock.now += 2 * 3600  # the demo clock jumps: too many for one update
    update = next(events)["sessionUpdate"]
    assert update["sessionMetadata"] == {"sampled": True}
    assert len(update["sessionResults"]) == 500
    clock.now += 3600  # three hours open
    with pytest.raises(EventStreamError, match="SessionTimeoutException"):
        next(events)


def test_the_demo_live_tail_stops_when_closed() -> None:
    demo = DemoLogs(clock=ManualClock(NOW))  # a clock that never moves: no update comes
    stream = demo.start_live_tail(logGroupIdentifiers=[demo.log_group_arn])["responseStream"]
    seen: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: seen.extend(stream))
    reader.start()
    time.sleep(0.1)
    stream.close()
    reader.join(0.5)
    assert not reader.is_alive()
    assert [next(iter(event)) for event in seen] == ["sessionStart"]
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        demo.start_live_tail(logGroupIdentifiers=["arn:aws:logs:us-east-1:1:log-group:x"])


def test_live_tail_on_the_demo_passes_records_on_and_logs_none(
    caplog: pytest.LogCaptureFixture,
) -> None:
    began = time.monotonic()
    demo = DemoLogs(clock=lambda: NOW + (time.monotonic() - began) * 600)  # 10 min a second
    seen = Recorder()
    tail = LiveTail()
    with caplog.at_level(logging.DEBUG):
        tail.start(demo, demo.log_group_arn, seen.on_events, seen.on_status)
        seen.wait(lambda r: sum(map(len, r.batches)) >= 20)
        tail.stop()
    messages = [m for batch in seen.batches for m in batch]
    assert all(json.loads(m)["schemaType"] == "ModelInvocationLog" for m in messages)
    assert any(PROMPT_MARKER in m for m in messages)
    assert seen.statuses == ["connecting", "live", "stopped"]
    assert PROMPT_MARKER not in caplog.text
    assert "Live Tail: live" in caplog.text
