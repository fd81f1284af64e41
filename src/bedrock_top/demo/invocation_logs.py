"""A synthetic account's Bedrock model invocation logs, for ``bedrock-top --demo``.

``DemoBedrockLogging`` says the logs go to CloudWatch Logs; ``DemoLogs`` answers the calls
``services.invocation_logs`` makes, with boto3's keyword arguments, shapes and errors:
StartQuery / GetQueryResults / StopQuery for the backfill query (totalled exactly from the
demo's own records) and StartLiveTail, whose stream yields the records of each second as the
demo clock passes it, like botocore's EventStream, until closed.

The records are a function of (seed, region, minute): a few callers (IAM roles with their
sessions, and two IAM users) with their ``requestMetadata`` tags, on three of the demo's
models. ``nightly-batch`` is a runaway job with most of the spend. About 1 record in 500 is
malformed (no caller, model or token counts) and 1 in 200 is delivered twice (the same
requestId): the view's skip and duplicate counters have something to count. Prompts and
answers are fake and carry the marker ``DEMO-PROMPT-TEXT``, so privacy tests can look for it.
"""

from __future__ import annotations

import json
import math
import random
import re
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from types import SimpleNamespace
from typing import Any, Final, NamedTuple

from botocore.exceptions import ClientError, EventStreamError
from botocore.model import Shape
from botocore.validate import validate_parameters

from bedrock_top.demo.data import stable_seed
from bedrock_top.services.invocation_logs import FILTER_PATTERN, MAX_ROWS, query_text

ACCOUNT_ID: Final = "123456789012"
DEMO_LOG_GROUP: Final = "/aws/bedrock/model-invocations"
LOG_STREAM: Final = "aws/bedrock/modelinvocations"  # where Bedrock writes its records
PROMPT_MARKER: Final = "DEMO-PROMPT-TEXT"
HAIKU: Final = "anthropic.claude-3-haiku-20240307-v1:0"
SONNET: Final = "us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA_PRO: Final = "us.amazon.nova-pro-v1:0"
MALFORMED_ONE_IN: Final = 500
DUPLICATE_ONE_IN: Final = 200
UPDATE_S: Final = 1.0  # Live Tail sends an update every second
SESSION_LIMIT_S: Final = 3 * 3600  # and ends a session after three hours
MAX_UPDATE_EVENTS: Final = 500  # more in a second are sampled down to 500
_POLL_S: Final = 0.05  # how often a stream looks at the demo clock (real seconds)
_ROLE = f"arn:aws:sts::{ACCOUNT_ID}:assumed-role"
_USER = f"arn:aws:iam::{ACCOUNT_ID}:user"
_QUERY = re.compile(r"bin\((\d+)s\) as period.*?(?:, requestMetadata\.(\w+) as meta)?$")


@dataclass(frozen=True)
class Caller:
    """Who calls, how often, on what, and how big their calls are."""

    arns: tuple[str, ...]  # one per session of a role; a user has one
    per_minute: float
    models: tuple[str, ...]
    input_tokens: tuple[int, int]
    output_tokens: tuple[int, int]
    metadata: tuple[tuple[str, str], ...]
    prompts: tuple[str, ...]
    operation: str = "Converse"
    cache_read: tuple[int, int] = (0, 0)  # prompt caching: tokens read per call
    cache_write_one_in: int = 0  # a cache write every n calls


CALLERS: Final = (
    Caller(
        (f"{_ROLE}/checkout-api/i-0abc1234def567890", f"{_ROLE}/checkout-api/i-0abc8e2f1c3d45a67"),
        6.0, (HAIKU,), (300, 1500), (80, 400), (("team", "payments"), ("app", "checkout")),
        ("Write a short confirmation for order #{n}.", "Is refund request #{n} eligible?"),
    ),
    Caller(
        (f"{_ROLE}/support-bot/support-bot-handler",),
        4.0, (SONNET,), (800, 3000), (150, 700), (("team", "support"), ("app", "helpdesk")),
        ("Answer ticket #{n} using the help-centre articles.",),
        operation="ConverseStream", cache_read=(2000, 6000), cache_write_one_in=10,
    ),
    Caller(
        (f"{_ROLE}/nightly-batch/batch-job-7f3a", f"{_ROLE}/nightly-batch/batch-job-9c1e"),
        14.0, (SONNET, NOVA_PRO), (12_000, 40_000), (1500, 4000),
        (("team", "data"), ("app", "nightly-summaries")),
        ("Summarise document {n} of the archive.",),
        operation="InvokeModel",
    ),
    Caller(
        (f"{_USER}/alice",), 0.6, (SONNET, HAIKU), (500, 5000), (200, 1500),
        (("team", "research"), ("app", "notebook")), ("Explain experiment {n} results.",),
    ),
    Caller((f"{_USER}/bob",), 0.3, (NOVA_PRO,), (200, 2000), (100, 800), (),
           ("Draft a reply to email {n}.",)),
)  # fmt: skip


class Call(NamedTuple):
    """One logged invocation (its event time may differ from the record's for a duplicate)."""

    event_ms: int
    record_ms: int
    request_id: str
    caller: str | None  # None: a malformed record
    model_id: str | None
    metadata: tuple[tuple[str, str], ...]
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    operation: str
    prompt: str
    latency_ms: int
    inference_region: str | None
    size: int  # bytes of the rendered message


def _error(operation: str, code: str, message: str) -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": message, "Type": "Sender"},
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
    return ClientError(response, operation)


@cache
def _input_shape(operation: str) -> Shape:
    import botocore.session

    model = botocore.session.get_session().get_service_model("logs")
    shape = model.operation_model(operation).input_shape
    assert shape is not None
    return shape


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the few calls a minute of a demo caller."""
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


class DemoBedrockLogging:
    """The Bedrock control plane's GetModelInvocationLoggingConfiguration: logging on, to
    CloudWatch Logs."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.meta = SimpleNamespace(region_name=region, partition="aws")

    def get_model_invocation_logging_configuration(self, **kwargs: Any) -> dict[str, Any]:
        return {
            "loggingConfig": {
                "cloudWatchConfig": {
                    "logGroupName": DEMO_LOG_GROUP,
                    "roleArn": f"arn:aws:iam::{ACCOUNT_ID}:role/BedrockLogging",
                },
                "textDataDeliveryEnabled": True,
                "imageDataDeliveryEnabled": False,
                "embeddingDataDeliveryEnabled": False,
            }
        }


class DemoLogs:
    """CloudWatch Logs for the demo's invocation log group: Insights and Live Tail."""

    def __init__(
        self, seed: int = 0, clock: Callable[[], float] = time.time, region: str = "us-east-1"
    ) -> None:
        self.seed = seed
        self.region = region
        self.clock = clock
        self.meta = SimpleNamespace(region_name=region, partition="aws")
        self.calls: Counter[str] = Counter()
        self.log_group_arn = f"arn:aws:logs:{region}:{ACCOUNT_ID}:log-group:{DEMO_LOG_GROUP}"
        self._seed = stable_seed("invocation-logs", seed, region)
        self._lock = threading.Lock()
        self._queries: dict[str, dict[str, Any]] = {}
        self._minute = lru_cache(maxsize=2048)(self._make_minute)  # ~1.5 days, a few MB

    def _count(self, operation: str) -> None:
        with self._lock:
            self.calls[operation] += 1

    # --- the records --------------------------------------------------------------------

    def records(self, start_ms: int, end_ms: int) -> list[Call]:
        """The records whose events fall in [start_ms, end_ms) and are visible now."""
        end_ms = min(end_ms, math.floor(self.clock() * 1000) + 1)
        found: list[Call] = []
        for minute in range(start_ms // 60_000, -(-end_ms // 60_000)):
            found += (c for c in self._minute(minute) if start_ms <= c.event_ms < end_ms)
        return found

    def events(self, start: float, end: float) -> list[tuple[int, str]]:
        """(timestamp ms, message) of the records in [start, end) seconds: the log events."""
        return [
            (call.event_ms, self.message(call))
            for call in self.records(math.ceil(start * 1000), math.ceil(end * 1000))
        ]

    def message(self, call: Call) -> str:
        """The record as Bedrock writes it: JSON, one line."""
        return json.dumps(self._record(call), separators=(",", ":"))

    def _make_minute(self, minute: int) -> tuple[Call, ...]:
        rng = random.Random(stable_seed(self._seed, minute))
        calls: list[Call] = []
        for caller in CALLERS:
            for _ in range(_poisson(rng, caller.per_minute)):
                call = self._draw(rng, minute, caller)
                calls.append(call)
                if rng.randrange(DUPLICATE_ONE_IN) == 0:  # delivered twice, a moment apart
                    later = min(call.event_ms + rng.randint(1, 900), minute * 60_000 + 59_999)
                    calls.append(call._replace(event_ms=later))
        calls.sort(key=lambda c: c.event_ms)
        return tuple(calls)

    def _draw(self, rng: random.Random, minute: int, caller: Caller) -> Call:
        at = minute * 60_000 + rng.randrange(60_000)
        model = rng.choice(caller.models)
        reads = rng.randint(*caller.cache_read) if caller.cache_read[1] else 0
        writes = 0
        if caller.cache_write_one_in and rng.randrange(caller.cache_write_one_in) == 0:
            writes = rng.randint(1000, 3000)
        call = Call(
            event_ms=at,
            record_ms=at,
            request_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            caller=rng.choice(caller.arns),
            model_id=model,
            metadata=caller.metadata,
            input_tokens=rng.randint(*caller.input_tokens),
            output_tokens=rng.randint(*caller.output_tokens),
            cache_read_tokens=reads,
            cache_write_tokens=writes,
            operation=caller.operation,
            prompt=rng.choice(caller.prompts).format(n=rng.randrange(10_000, 99_999)),
            latency_ms=rng.randint(400, 20_000),
            inference_region=rng.choice(("us-east-1", "us-east-2", "us-west-2"))
            if model.startswith("us.")
            else None,
            size=0,
        )
        if rng.randrange(MALFORMED_ONE_IN) == 0:
            call = call._replace(caller=None, model_id=None, metadata=(), input_tokens=0,
                                 output_tokens=0, cache_read_tokens=0,
                                 cache_write_tokens=0)  # fmt: skip
        return call._replace(size=len(self.message(call).encode()))

    def _record(self, call: Call) -> dict[str, Any]:
        record: dict[str, Any] = {
            "schemaType": "ModelInvocationLog",
            "schemaVersion": "1.0",
            "timestamp": datetime.fromtimestamp(call.record_ms / 1000, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "accountId": ACCOUNT_ID,
            "region": self.region,
            "requestId": call.request_id,
            "operation": call.operation,
        }
        if call.caller is None:  # malformed: the record names no one and counts nothing
            return record
        if call.inference_region:
            record["inferenceRegion"] = call.inference_region
        record["identity"] = {"arn": call.caller}
        record["modelId"] = call.model_id
        record["input"] = self._input(call)
        record["output"] = self._output(call)
        if call.metadata:
            record["requestMetadata"] = dict(call.metadata)
        return record

    @staticmethod
    def _input(call: Call) -> dict[str, Any]:
        body = {
            "messages": [{"role": "user", "content": [{"text": f"{PROMPT_MARKER} {call.prompt}"}]}],
            "inferenceConfig": {"maxTokens": 4096},
        }
        fields: dict[str, Any] = {
            "inputContentType": "application/json",
            "inputBodyJson": body,
            "inputTokenCount": call.input_tokens,
        }
        if call.cache_read_tokens:
            fields["cacheReadInputTokenCount"] = call.cache_read_tokens
        if call.cache_write_tokens:
            fields["cacheWriteInputTokenCount"] = call.cache_write_tokens
        return fields

    @staticmethod
    def _output(call: Call) -> dict[str, Any]:
        usage = {
            "inputTokens": call.input_tokens,
            "outputTokens": call.output_tokens,
            "totalTokens": call.input_tokens + call.output_tokens,
        }
        if call.cache_read_tokens:
            usage["cacheReadInputTokens"] = call.cache_read_tokens
        if call.cache_write_tokens:
            usage["cacheWriteInputTokens"] = call.cache_write_tokens
        answer = f"{PROMPT_MARKER} Here is the answer to: {call.prompt}"
        return {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": answer}]}},
                "stopReason": "end_turn",
                "metrics": {"latencyMs": call.latency_ms},
                "usage": usage,
            },
            "outputTokenCount": call.output_tokens,
        }

    # --- Logs Insights ------------------------------------------------------------------

    def start_query(self, **kwargs: Any) -> dict[str, Any]:
        """StartQuery for bedrock-top's backfill query, answered at once (and exactly)."""
        self._count("StartQuery")
        validate_parameters(kwargs, _input_shape("StartQuery"))
        groups = kwargs.get("logGroupNames") or kwargs.get("logGroupIdentifiers") or []
        if "logGroupName" in kwargs:
            groups = [kwargs["logGroupName"], *groups]
        if groups not in ([DEMO_LOG_GROUP], [self.log_group_arn]):
            raise _error("StartQuery", "ResourceNotFoundException",
                         "The specified log group does not exist.")  # fmt: skip
        start, end = kwargs["startTime"], kwargs["endTime"]
        if end < start:
            raise _error("StartQuery", "InvalidParameterException",
                         "endTime must be greater than or equal to startTime")  # fmt: skip
        period, key = self._parse(kwargs["queryString"])
        limit = kwargs.get("limit", MAX_ROWS)
        # Both ends are whole seconds, included: events of [start, end + 1) seconds.
        calls = self.records(start * 1000, (end + 1) * 1000)
        result = {
            "status": "Complete",
            "results": _aggregate(calls, period, key)[:limit],
            "statistics": {
                "recordsMatched": float(len(calls)),
                "recordsScanned": float(len(calls)),
                "bytesScanned": float(sum(call.size for call in calls)),
            },
        }
        with self._lock:
            query_id = str(uuid.UUID(int=stable_seed(self._seed, "query", len(self._queries))))
            self._queries[query_id] = result
        return {"queryId": query_id}

    @staticmethod
    def _parse(query: str) -> tuple[int, str | None]:
        match = _QUERY.search(query)
        if match and query == query_text(int(match.group(1)), match.group(2)):
            return int(match.group(1)), match.group(2)
        raise _error("StartQuery", "MalformedQueryException",
                     "The demo answers bedrock-top's invocation query only.")  # fmt: skip

    def get_query_results(self, **kwargs: Any) -> dict[str, Any]:
        self._count("GetQueryResults")
        validate_parameters(kwargs, _input_shape("GetQueryResults"))
        with self._lock:
            result = self._queries.get(kwargs["queryId"])
        if result is None:
            raise _error("GetQueryResults", "ResourceNotFoundException", "Query not found.")
        return dict(result)

    def stop_query(self, **kwargs: Any) -> dict[str, Any]:
        """StopQuery: every demo query is complete by then, so nothing stops."""
        self._count("StopQuery")
        validate_parameters(kwargs, _input_shape("StopQuery"))
        with self._lock:
            if kwargs["queryId"] not in self._queries:
                raise _error("StopQuery", "ResourceNotFoundException", "Query not found.")
        return {"success": False}

    # --- Live Tail ----------------------------------------------------------------------

    def start_live_tail(self, **kwargs: Any) -> dict[str, Any]:
        """StartLiveTail on the demo log group, with bedrock-top's filter pattern (or none)."""
        self._count("StartLiveTail")
        validate_parameters(kwargs, _input_shape("StartLiveTail"))
        if kwargs["logGroupIdentifiers"] != [self.log_group_arn]:
            raise _error("StartLiveTail", "ResourceNotFoundException",
                         "The specified log group does not exist.")  # fmt: skip
        pattern = kwargs.get("logEventFilterPattern", "")
        if pattern not in ("", FILTER_PATTERN):
            raise _error("StartLiveTail", "InvalidParameterException",
                         "The demo supports bedrock-top's filter pattern only.")  # fmt: skip
        return {"responseStream": DemoLiveTailStream(self, pattern)}


class DemoLiveTailStream:
    """Iterates like botocore's EventStream of StartLiveTail: a ``sessionStart``, then a
    ``sessionUpdate`` for each second of the demo clock with the records that arrived in it.
    ``close()`` (from any thread) ends the iteration within ``_POLL_S``; three hours of demo
    clock end it with SessionTimeoutException, as Live Tail does."""

    def __init__(self, logs: DemoLogs, pattern: str) -> None:
        self._logs = logs
        self._pattern = pattern
        self._closed = threading.Event()
        self._opened = logs.clock()  # the session starts with the call, not the first read

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return self._events()

    def close(self) -> None:
        self._closed.set()

    def _events(self) -> Iterator[dict[str, Any]]:
        logs = self._logs
        yield {
            "sessionStart": {
                "requestId": str(uuid.uuid4()),
                "sessionId": str(uuid.uuid4()),
                "logGroupIdentifiers": [logs.log_group_arn],
                "logStreamNames": [],
                "logStreamNamePrefixes": [],
                "logEventFilterPattern": self._pattern,
            }
        }
        opened = cut = self._opened
        while not self._closed.is_set():
            now = logs.clock()
            if now - opened >= SESSION_LIMIT_S:
                raise EventStreamError(
                    {"Error": {"Code": "SessionTimeoutException",
                               "Message": "Session timed out after 3 hours"}},
                    "StartLiveTail",
                )  # fmt: skip
            if now - cut < UPDATE_S:
                self._closed.wait(_POLL_S)
                continue
            yield {"sessionUpdate": self._update(cut, now)}
            cut = now

    def _update(self, cut: float, now: float) -> dict[str, Any]:
        """The records of (cut, now], sampled down to 500 as Live Tail does."""
        logs = self._logs
        calls = logs.records(math.floor(cut * 1000) + 1, math.floor(now * 1000) + 1)
        sampled = len(calls) > MAX_UPDATE_EVENTS
        if sampled:
            step = len(calls) / MAX_UPDATE_EVENTS
            calls = [calls[int(i * step)] for i in range(MAX_UPDATE_EVENTS)]
        return {
            "sessionMetadata": {"sampled": sampled},
            "sessionResults": [
                {
                    "logStreamName": LOG_STREAM,
                    "logGroupIdentifier": logs.log_group_arn,
                    "message": logs.message(call),
                    "timestamp": call.event_ms,
                    "ingestionTime": call.event_ms + 1500,
                }
                for call in calls
            ],
        }


def _aggregate(calls: list[Call], period: int, key: str | None) -> list[list[dict[str, str]]]:
    """What Insights returns for the backfill query over these records: a row per (bin,
    caller, model, meta) with count and sums, every value a string; a field no record of
    the group has is left out of its row."""
    groups: dict[tuple[int, str | None, str | None, str | None], list[int | None]] = {}
    for call in calls:
        meta = dict(call.metadata).get(key) if key else None
        bucket = call.event_ms // 1000 // period * period
        sums = groups.setdefault((bucket, call.caller, call.model_id, meta), [0] + [None] * 4)
        sums[0] = (sums[0] or 0) + 1
        if call.caller is not None:  # a malformed record counts, but has no tokens
            figures = (call.input_tokens, call.output_tokens,
                       call.cache_read_tokens or None, call.cache_write_tokens or None)  # fmt: skip
            for i, value in enumerate(figures, start=1):
                if value is not None:
                    sums[i] = (sums[i] or 0) + value
    rows = []
    names = ("invocations", "input_tokens", "output_tokens", "cache_read_tokens",
             "cache_write_tokens")  # fmt: skip
    for (bucket, caller, model, meta), sums in sorted(groups.items(), key=_group_order):
        stamp = datetime.fromtimestamp(bucket, UTC).strftime("%Y-%m-%d %H:%M:%S.000")
        row = [{"field": "period", "value": stamp}]
        labels = (("caller", caller), ("model_id", model), ("meta", meta if key else None))
        row += [{"field": name, "value": value} for name, value in labels if value is not None]
        row += [{"field": n, "value": str(v)} for n, v in zip(names, sums, strict=True)
                if v is not None]  # fmt: skip
        rows.append(row)
    return rows


def _group_order(
    item: tuple[tuple[int, str | None, str | None, str | None], Any],
) -> tuple[int, str, str, str]:
    bucket, caller, model, meta = item[0]
    return bucket, caller or "", model or "", meta or ""
