"""Who is spending: Bedrock's model invocation logs, read from CloudWatch Logs.

Three calls feed the callers view: ``find_log_group`` (where the account's invocation logs
go, or why bedrock-top cannot read them), ``backfill`` (a Logs Insights query that totals
the window already past) and ``LiveTail`` (each record as it arrives). Records hold prompts
and answers: this module hands their text on untouched and never logs, keeps or describes it
(parsing and privacy are ``figures.invocation_records``' job).
"""

from __future__ import annotations

import json
import logging
import math
import re
import shlex
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from bedrock_top.errors import describe_error, is_access_denied

log = logging.getLogger(__name__)

# --- prices -------------------------------------------------------------------------------
# CloudWatch Logs list prices in us-east-1 (other regions cost up to ~25% more). Source: the
# pricing page https://aws.amazon.com/cloudwatch/pricing/ (its free tier: 5 GB a month of
# ingestion, storage and Insights scans, and 1,800 Live Tail minutes), with the per-GB
# figures as quoted from it by https://hykell.com/knowledge-base/aws-cloudwatch-logs-pricing
# ("$0.50 per GB of data collected", "$0.03 per GB per month", "$0.005 per GB of data
# scanned"). Live Tail "incur[s] charges by session usage time, per minute"
# (https://docs.aws.amazon.com/cli/latest/reference/logs/start-live-tail.html): $0.01 a
# minute on the pricing page. AWS bills a GB as 2**30 bytes.
INGEST_USD_PER_GB: Final = 0.50
STORAGE_USD_PER_GB_MONTH: Final = 0.03
INSIGHTS_USD_PER_GB: Final = 0.005
LIVE_TAIL_USD_PER_MINUTE: Final = 0.01
GB: Final = 2**30

# --- where the logs go --------------------------------------------------------------------
DEFAULT_LOG_GROUP: Final = "/aws/bedrock/model-invocations"
ROLE_PLACEHOLDER: Final = "arn:aws:iam::ACCOUNT:role/BedrockLogging"
GET_CONFIG_ACTION: Final = "bedrock:GetModelInvocationLoggingConfiguration"
COST_NOTE: Final = (
    f"CloudWatch Logs bills about ${INGEST_USD_PER_GB:.2f} per GB ingested and "
    f"${STORAGE_USD_PER_GB_MONTH:.2f} per GB-month kept (us-east-1 list prices; 5 GB a month "
    "free): every logged call carries its prompt and answer, so set a retention on the log "
    "group."
)


@dataclass(frozen=True)
class LoggingTarget:
    """Where Bedrock delivers invocation logs in a region. Without a log group, ``reason``
    says why in one sentence and, when logging is off or goes to S3 only, ``enable_command``
    is the AWS CLI command that adds the CloudWatch Logs destination (the role named in it
    is a placeholder: it must exist and let bedrock.amazonaws.com write to the log group)."""

    log_group: str | None
    reason: str = ""
    enable_command: str = ""
    cost_note: str = ""


def find_log_group(bedrock_client: Any) -> LoggingTarget:
    """The CloudWatch log group of the region's invocation logs, from
    GetModelInvocationLoggingConfiguration. Lacking the permission is an answer, not an
    error: the callers view says so and the rest of bedrock-top goes on."""
    region = getattr(getattr(bedrock_client, "meta", None), "region_name", None)
    where = f" in {region}" if region else ""
    try:
        response = bedrock_client.get_model_invocation_logging_configuration()
    except ClientError as exc:
        if not is_access_denied(exc):
            raise
        return LoggingTarget(
            None, f"{denied_text(exc, GET_CONFIG_ACTION)}: cannot tell where invocation logs go"
        )
    config: Mapping[str, Any] = response.get("loggingConfig") or {}
    log_group = (config.get("cloudWatchConfig") or {}).get("logGroupName")
    if log_group:
        return LoggingTarget(str(log_group))
    bucket = (config.get("s3Config") or {}).get("bucketName")
    if bucket:
        reason = (
            f"model invocation logs go to S3 only (s3://{bucket}){where}: bedrock-top reads "
            "them from CloudWatch Logs, so add a CloudWatch Logs destination"
        )
    else:
        reason = (
            f"model invocation logging is off{where}: turn it on, with CloudWatch Logs as a "
            "destination, to see who is calling"
        )
    return LoggingTarget(None, reason, enable_command(config, region), COST_NOTE)


def enable_command(current: Mapping[str, Any] | None = None, region: str | None = None) -> str:
    """``aws bedrock put-model-invocation-logging-configuration`` adding CloudWatch Logs.

    The call replaces the whole configuration, so an S3 destination and the data flags
    already set are kept; text delivery is switched on."""
    kept = {key: value for key, value in (current or {}).items() if key != "cloudWatchConfig"}
    config = {
        "cloudWatchConfig": {"logGroupName": DEFAULT_LOG_GROUP, "roleArn": ROLE_PLACEHOLDER},
        **kept,
        "textDataDeliveryEnabled": True,
    }
    command = (
        "aws bedrock put-model-invocation-logging-configuration --logging-config "
        + shlex.quote(json.dumps(config, separators=(",", ":")))
    )
    return f"{command} --region {shlex.quote(region)}" if region else command


def log_group_arn(region: str, account_id: str, log_group: str, partition: str = "aws") -> str:
    """The ARN StartLiveTail wants (it takes no names, and no trailing ``:*``)."""
    return f"arn:{partition}:logs:{region}:{account_id}:log-group:{log_group}"


# --- backfill: Logs Insights ---------------------------------------------------------------
# One row per period, caller (identity.arn) and model, with the five token figures summed
# over the records of that period: a day at 5-minute periods is one query. ``filter`` keeps
# other records that share the log group out; ``fields @timestamp`` adds nothing to a stats
# query but states what the records are binned on. Absent fields (no cache tokens) sum to
# nothing: Insights leaves them out of the row. ``{meta}`` adds ``requestMetadata.<key> as
# meta`` when the view groups by a request metadata key.
QUERY_TEMPLATE: Final = (
    'fields @timestamp | filter schemaType = "ModelInvocationLog" '
    "| stats count(*) as invocations, sum(input.inputTokenCount) as input_tokens, "
    "sum(output.outputTokenCount) as output_tokens, "
    "sum(input.cacheReadInputTokenCount) as cache_read_tokens, "
    "sum(input.cacheWriteInputTokenCount) as cache_write_tokens "
    "by bin({period}s) as period, identity.arn as caller, modelId as model_id{meta}"
)
MAX_ROWS: Final = 10_000  # StartQuery's largest ``limit``: more rows are cut off
QUERY_TIMEOUT_S: Final = 60.0
FIRST_POLL_S: Final = 0.5
MAX_POLL_S: Final = 4.0
_METADATA_KEY = re.compile(r"^[A-Za-z0-9_]{1,256}$")  # a plain Insights field name
_FAILED = {"Failed", "Cancelled", "Timeout", "Unknown"}


class InsightsError(RuntimeError):
    """A backfill that could not finish; the message is one line a person can act on."""


@dataclass(frozen=True)
class BackfillRow:
    """One period of one caller on one model (and metadata value), as Insights totals it."""

    period_start: int  # epoch seconds, UTC
    caller: str
    model_id: str
    meta: str | None
    invocations: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int


@dataclass(frozen=True)
class Backfill:
    """A backfill's rows and what the query cost (Insights bills the bytes scanned)."""

    rows: list[BackfillRow]
    bytes_scanned: float
    records_matched: float
    truncated: bool  # MAX_ROWS reached: older or smaller rows may be missing
    usd: float


def query_text(period_s: int, group_by_field: str | None = None) -> str:
    """The backfill's Insights query for ``period_s``-second periods, and a request metadata
    key to group by (plain keys only: letters, digits and ``_``)."""
    if period_s <= 0:
        raise ValueError(f"the period must be a positive number of seconds, not {period_s}")
    meta = ""
    if group_by_field is not None:
        if not _METADATA_KEY.match(group_by_field):
            raise ValueError(
                f"request metadata key {group_by_field!r}: only letters, digits and _ are supported"
            )
        meta = f", requestMetadata.{group_by_field} as meta"
    return QUERY_TEMPLATE.format(period=int(period_s), meta=meta)


def backfill(
    logs_client: Any,
    log_group: str,
    start: float,
    end: float,
    period_s: int,
    group_by_field: str | None,
    clock: Callable[[], float],
    sleep: Callable[[float], None],
) -> Backfill:
    """Totals of the invocation records in [start, end) by period, caller and model.

    Insights takes whole seconds and includes both ends of its range, so the query ends a
    second before ``end``. It runs asynchronously: GetQueryResults is polled (0.5 s, then
    doubling to 4 s) until Complete; after 60 s the query is stopped and InsightsError
    raised. Missing permissions raise InsightsError naming the IAM action; other AWS errors
    propagate for ``describe_error``.
    """
    query = query_text(period_s, group_by_field)
    first, last = math.floor(start), math.ceil(end) - 1
    if last < first:
        raise ValueError("the backfill window is empty")
    try:
        started = logs_client.start_query(
            logGroupName=log_group,
            startTime=first,
            endTime=last,
            queryString=query,
            limit=MAX_ROWS,
        )
    except ClientError as exc:
        _raise_if_denied(exc, "logs:StartQuery")
        raise
    response = _wait_for(logs_client, str(started["queryId"]), clock, sleep)
    rows = [row for row in map(_row, response.get("results", [])) if row is not None]
    statistics = response.get("statistics") or {}
    scanned = float(statistics.get("bytesScanned", 0.0))
    return Backfill(
        rows=rows,
        bytes_scanned=scanned,
        records_matched=float(statistics.get("recordsMatched", 0.0)),
        truncated=len(response.get("results", [])) >= MAX_ROWS,
        usd=scanned / GB * INSIGHTS_USD_PER_GB,
    )


def _wait_for(
    logs_client: Any, query_id: str, clock: Callable[[], float], sleep: Callable[[float], None]
) -> Mapping[str, Any]:
    deadline = clock() + QUERY_TIMEOUT_S
    delay = FIRST_POLL_S
    while True:
        try:
            response: Mapping[str, Any] = logs_client.get_query_results(queryId=query_id)
        except ClientError as exc:
            _raise_if_denied(exc, "logs:GetQueryResults")
            raise
        status = response.get("status")
        if status == "Complete":
            return response
        if status in _FAILED:
            raise InsightsError(f"the Logs Insights query ended with status {status}")
        remaining = deadline - clock()
        if remaining <= 0:
            _stop_query(logs_client, query_id)
            raise InsightsError(
                f"the Logs Insights query did not finish within {QUERY_TIMEOUT_S:.0f} s and was "
                "stopped: try a shorter window or a longer period"
            )
        sleep(min(delay, remaining))
        delay = min(delay * 2, MAX_POLL_S)


def _stop_query(logs_client: Any, query_id: str) -> None:
    """Stop a query that ran too long (it keeps scanning, and billing, otherwise); a query
    that ended meanwhile, or a refused StopQuery, changes nothing for the caller."""
    try:
        logs_client.stop_query(queryId=query_id)
    except ClientError as exc:
        log.info("StopQuery failed: %s", describe_error(exc))


def _row(fields: list[Mapping[str, Any]]) -> BackfillRow | None:
    """A result row as a BackfillRow; a row without a period (not from this query's
    ``stats``) is left out."""
    values = {str(f.get("field")): f.get("value") for f in fields}
    period = _epoch_seconds(values.get("period"))
    if period is None:
        return None
    meta = values.get("meta")
    return BackfillRow(
        period_start=period,
        caller=str(values.get("caller") or ""),
        model_id=str(values.get("model_id") or ""),
        meta=None if meta is None else str(meta),
        invocations=_count(values.get("invocations")),
        input_tokens=_count(values.get("input_tokens")),
        output_tokens=_count(values.get("output_tokens")),
        cache_read_tokens=_count(values.get("cache_read_tokens")),
        cache_write_tokens=_count(values.get("cache_write_tokens")),
    )


def _epoch_seconds(value: Any) -> int | None:
    """Insights prints bin() times as "2025-06-01 12:05:00.000" (UTC); epoch milliseconds
    are accepted too."""
    if value is None:
        return None
    text = str(value).strip()
    if text.isdigit():
        return int(text) // 1000
    for layout in ("%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return int(datetime.strptime(text, layout).replace(tzinfo=UTC).timestamp())
        except ValueError:
            continue
    return None


def _count(value: Any) -> int:
    """Insights returns every figure as a string ("1234", or "1.234E4" for big sums)."""
    if value is None or value == "":
        return 0
    try:
        return int(Decimal(str(value)))
    except (InvalidOperation, ValueError):
        return 0


# --- access denied --------------------------------------------------------------------------
_ACTION = re.compile(r"perform: ([a-z0-9-]+:[A-Za-z0-9]+)")


def denied_text(exc: ClientError, action: str) -> str:
    """The "access denied: the identity lacks <action>" line, with the action AWS named."""
    named = _ACTION.search(str(exc.response.get("Error", {}).get("Message", "")))
    return f"access denied: the identity lacks {named.group(1) if named else action}"


def _raise_if_denied(exc: ClientError, action: str) -> None:
    if is_access_denied(exc):
        raise InsightsError(f"{denied_text(exc, action)} (see the minimal IAM policy)") from exc


# --- Live Tail ----------------------------------------------------------------------------
FILTER_PATTERN: Final = '{ $.schemaType = "ModelInvocationLog" }'
STATUS_CONNECTING: Final = "connecting"
STATUS_LIVE: Final = "live"
STATUS_SAMPLED: Final = "sampled"  # over 500 records a second: Live Tail sends a sample
STATUS_STOPPED: Final = "stopped"
_HEALTHY_S: Final = 60.0  # a session that lasted this long resets the backoff
_RESTART_WAIT_S: Final = 2.0  # a stopped session ends with the next update (every second)
_STREAM_ENDS: Final = {
    "SessionTimeoutException": "the Live Tail session reached its 3-hour limit",
    "SessionStreamingException": "the Live Tail stream failed on the server",
}


class LiveTail:
    """The invocation records of a log group as they arrive, read on a background thread.

    ``on_events`` gets each update's messages as they came (from that thread: a UI must hand
    them over to its own), ``on_status`` every change of state: "connecting", "live",
    "sampled", or a sentence when a session ends or fails and when it is retried. Sessions
    end by themselves (after 3 hours, on throttling, on network loss): a new one opens with
    exponential backoff capped at ``max_backoff_s``; lacking logs:StartLiveTail is retried
    every ``denied_retry_s``. Live Tail bills every minute a session is open.
    """

    usd_per_minute: Final = LIVE_TAIL_USD_PER_MINUTE

    def __init__(
        self,
        *,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        denied_retry_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backoff_s = backoff_s
        self._max_backoff_s = max_backoff_s
        self._denied_retry_s = denied_retry_s
        self._clock = clock
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stream: Any = None
        self._opened_at: float | None = None
        self._closed_seconds = 0.0
        self._status = ""

    @property
    def minutes_open(self) -> float:
        """Minutes of session so far, over every session: what Live Tail bills."""
        with self._lock:
            seconds = self._closed_seconds
            if self._opened_at is not None:
                seconds += self._clock() - self._opened_at
        return seconds / 60

    @property
    def usd(self) -> float:
        return self.minutes_open * self.usd_per_minute

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(
        self,
        logs_client: Any,
        log_group_arn: str,
        on_events: Callable[[list[str]], None],
        on_status: Callable[[str], None],
    ) -> None:
        """Tail ``log_group_arn`` until ``stop()``; returns at once, or once the previous
        session has closed (within a second of its ``stop()``)."""
        if self.running and self._stopping.is_set() and self._thread is not None:
            self._thread.join(_RESTART_WAIT_S)
        if self.running:
            raise RuntimeError("this Live Tail is already running")
        self._stopping.clear()
        self._status = ""
        self._thread = threading.Thread(
            target=self._run,
            args=(logs_client, log_group_arn, on_events, on_status),
            name="live-tail",
            daemon=True,
        )
        self._thread.start()

    def stop(self, timeout: float = 1.0) -> None:
        """End the session. The stream is closed at once; the thread notices at the latest
        with the next update, which Live Tail sends every second."""
        self._stopping.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            _close(stream)
        if self._thread is not None:
            self._thread.join(timeout)

    # --- the thread ---------------------------------------------------------------------

    def _run(
        self,
        logs_client: Any,
        arn: str,
        on_events: Callable[[list[str]], None],
        on_status: Callable[[str], None],
    ) -> None:
        delay = self._backoff_s
        while not self._stopping.is_set():
            self._report(on_status, STATUS_CONNECTING)
            try:
                response = logs_client.start_live_tail(
                    logGroupIdentifiers=[arn], logEventFilterPattern=FILTER_PATTERN
                )
            except ClientError as exc:
                if is_access_denied(exc):
                    minutes = self._denied_retry_s / 60
                    self._report(
                        on_status,
                        f"{denied_text(exc, 'logs:StartLiveTail')}: retrying in {minutes:g} min",
                    )
                    self._stopping.wait(self._denied_retry_s)
                    continue
                delay = self._retry(on_status, describe_error(exc), delay)
                continue
            except Exception as exc:  # network loss, credentials: the thread must go on
                delay = self._retry(on_status, describe_error(exc), delay)
                continue
            opened = self._clock()
            reason = self._read(response["responseStream"], on_events, on_status)
            if self._clock() - opened >= _HEALTHY_S:
                delay = self._backoff_s
            if not self._stopping.is_set():
                delay = self._retry(on_status, reason, delay)
        self._report(on_status, STATUS_STOPPED)

    def _read(
        self,
        stream: Any,
        on_events: Callable[[list[str]], None],
        on_status: Callable[[str], None],
    ) -> str:
        """Read one session to its end; the sentence that says why it ended."""
        with self._lock:
            self._stream = stream
            self._opened_at = self._clock()
        try:
            if self._stopping.is_set():  # stop() came while the session was opening
                return STATUS_STOPPED
            for event in stream:
                if self._stopping.is_set():
                    break
                if "sessionStart" in event:
                    self._report(on_status, STATUS_LIVE)
                update = event.get("sessionUpdate")
                if update is None:
                    continue
                sampled = bool((update.get("sessionMetadata") or {}).get("sampled"))
                self._report(on_status, STATUS_SAMPLED if sampled else STATUS_LIVE)
                messages = [
                    result["message"]
                    for result in update.get("sessionResults") or ()
                    if "message" in result
                ]
                if messages:
                    _deliver(on_events, messages)
            return "the Live Tail session ended"
        except ClientError as exc:  # botocore's EventStreamError: the stream's own errors
            code = str(exc.response.get("Error", {}).get("Code", ""))
            return _STREAM_ENDS.get(code) or describe_error(exc)
        except (BotoCoreError, OSError) as exc:  # a dropped connection, a closed stream
            return describe_error(exc)
        except Exception as exc:  # its text could quote what was being read: the type only
            return f"the Live Tail stream failed ({type(exc).__name__})"
        finally:
            _close(stream)
            with self._lock:
                if self._opened_at is not None:
                    self._closed_seconds += self._clock() - self._opened_at
                self._opened_at = None
                self._stream = None

    def _retry(self, on_status: Callable[[str], None], reason: str, delay: float) -> float:
        """Say why and wait ``delay`` (or until stopped); the next delay."""
        if self._stopping.is_set():
            return delay
        self._report(on_status, f"{reason}; reconnecting in {delay:g} s")
        self._stopping.wait(delay)
        return min(delay * 2, self._max_backoff_s)

    def _report(self, on_status: Callable[[str], None], status: str) -> None:
        if status == self._status:
            return
        self._status = status
        log.info("Live Tail: %s", status)
        try:
            on_status(status)
        except Exception:  # the UI's problem; the tail goes on
            log.exception("Live Tail: on_status failed")


def _deliver(on_events: Callable[[list[str]], None], messages: list[str]) -> None:
    """Hand messages over; a failing consumer loses that update, not the session. Only the
    exception's type is logged: its text could quote a record."""
    try:
        on_events(messages)
    except Exception as exc:
        log.error("Live Tail: on_events failed (%s)", type(exc).__name__)


def _close(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception:  # closing a dropped connection may fail: it is closed either way
        log.debug("Live Tail: closing the stream failed", exc_info=True)
