"""Bedrock model invocation log records, cut down to what the callers view counts.

Bedrock writes one JSON message per request to CloudWatch Logs when model invocation logging
is on. Fields read here (checked against the Bedrock user guide's examples and the request
metadata page)::

    schemaType    "ModelInvocationLog"      (anything else is skipped: not a record of ours)
    schemaVersion "1.0"                     (not checked: new versions keep these names)
    timestamp     "2025-03-11T00:38:02Z"    ISO 8601 (fractional seconds and offsets too)
    identity.arn  who called (IAM user, role, assumed-role session)
    requestId, modelId (the id or inference profile as called; operation is not kept)
    input.inputTokenCount, input.cacheReadInputTokenCount, input.cacheWriteInputTokenCount
    output.outputTokenCount
    requestMetadata  string -> string tags the caller set (Converse ``requestMetadata``, or
                     InvokeModel's ``X-Amzn-Bedrock-Request-Metadata`` header)

Uncertain, so handled leniently: the cache counts appear only on models with prompt
caching (absent = 0); operations that count no tokens (image, video, some embeddings)
may leave any count out (absent or null = 0); failed requests (``errorCode``) are records
like any other. A present count that is not a non-negative integer makes the message
unusable (``missing_fields``), since guessing would put wrong money on someone's row.

Privacy: ``inputBodyJson`` and ``outputBodyJson`` hold the prompt and the completion. The
stdlib decoder has to read them, but nothing here keeps a reference: a record holds only
the fields above, nothing is logged, and a message that fails to parse is not echoed
(the decoder's exception, which carries the whole document, is dropped on the spot).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final, NamedTuple, TypeGuard

# Bedrock sends bodies over ~100 KB to S3 (largeDataDeliveryS3Config) and CloudWatch Logs
# caps an event's size, so a message bigger than this is not a real record: it is never
# handed to the decoder (whose cost and memory grow with the input).
MAX_RECORD_BYTES: Final = 1_048_576
SCHEMA_TYPE: Final = "ModelInvocationLog"
_UTF8_MAX: Final = 4  # bytes per character at most, so short strings need no encoding


class Skip(StrEnum):
    """Why a message gave no record; each equals its plain string (``Skip.MALFORMED ==
    "malformed"``)."""

    MALFORMED = "malformed"  # not JSON, not an object, truncated
    UNKNOWN_SCHEMA = "unknown_schema"  # schemaType is not ModelInvocationLog
    MISSING_FIELDS = "missing_fields"  # no id/caller/model/time, or a count of a wrong type
    TOO_LARGE = "too_large"  # over MAX_RECORD_BYTES, never parsed


class InvocationRecord(NamedTuple):
    """The figures of one request; a tuple because the parser makes one per log event."""

    request_id: str
    at: float  # epoch seconds of the record's ``timestamp``
    caller: str  # identity.arn, in full (``callers.short_caller`` shortens it for display)
    model_id: str
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    metadata: tuple[tuple[str, str], ...]  # requestMetadata string pairs, sorted by key


def parse_record(message: str | bytes) -> InvocationRecord | Skip:
    """One CloudWatch Logs message as a record, or why it is skipped (never raises)."""
    if _size(message) > MAX_RECORD_BYTES:
        return Skip.TOO_LARGE
    try:
        data = json.loads(message)
    except (ValueError, RecursionError):  # JSONDecodeError, bad UTF-8, nesting too deep
        return Skip.MALFORMED
    if not isinstance(data, dict):
        return Skip.MALFORMED
    if data.get("schemaType") != SCHEMA_TYPE:
        return Skip.UNKNOWN_SCHEMA
    return _record(data)


def _size(message: str | bytes) -> int:
    """Bytes of the message as UTF-8, encoding only when the character count leaves doubt."""
    n = len(message)
    if isinstance(message, bytes) or n * _UTF8_MAX <= MAX_RECORD_BYTES or n > MAX_RECORD_BYTES:
        return n
    return len(message.encode("utf-8", "surrogatepass"))


def _record(data: Mapping[str, Any]) -> InvocationRecord | Skip:
    request_id, model_id = data.get("requestId"), data.get("modelId")
    identity = data.get("identity")
    caller = identity.get("arn") if isinstance(identity, dict) else None
    at = _epoch(data.get("timestamp"))
    if not (_text(request_id) and _text(model_id) and _text(caller)) or at is None:
        return Skip.MISSING_FIELDS
    given, made = data.get("input"), data.get("output")
    given = {} if given is None else given
    made = {} if made is None else made
    if not (isinstance(given, dict) and isinstance(made, dict)):
        return Skip.MISSING_FIELDS
    counts = (
        _count(given.get("inputTokenCount")),
        _count(made.get("outputTokenCount")),
        _count(given.get("cacheReadInputTokenCount")),
        _count(given.get("cacheWriteInputTokenCount")),
    )
    if -1 in counts:
        return Skip.MISSING_FIELDS
    return InvocationRecord(
        request_id, at, caller, model_id, *counts, _metadata(data.get("requestMetadata"))
    )


def _text(value: object) -> TypeGuard[str]:
    return isinstance(value, str) and value != ""


def _count(value: object) -> int:
    """A token count; absent or null is 0, anything but a non-negative int is -1."""
    if value is None:
        return 0
    if type(value) is int and value >= 0:  # bool is an int subclass: not a count
        return value
    return -1


def _epoch(value: object) -> float | None:
    """ISO 8601 to epoch seconds; a stamp without an offset is UTC (as Bedrock writes)."""
    if not isinstance(value, str):
        return None
    try:
        stamp = datetime.fromisoformat(value)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()


def _metadata(value: object) -> tuple[tuple[str, str], ...]:
    """requestMetadata's string pairs, sorted; anything else (not an object) is none."""
    if not isinstance(value, dict) or not value:
        return ()
    return tuple(
        sorted((k, v) for k, v in value.items() if isinstance(k, str) and isinstance(v, str))
    )


class SkipCounter:
    """Skipped messages by reason, so the view can say how much it could not read."""

    __slots__ = ("_counts",)

    def __init__(self) -> None:
        self._counts: dict[Skip, int] = dict.fromkeys(Skip, 0)

    def add(self, reason: Skip, n: int = 1) -> None:
        self._counts[reason] += n

    def take(self, result: InvocationRecord | Skip) -> InvocationRecord | None:
        """The record, or None after counting the skip: ``counter.take(parse_record(m))``."""
        if isinstance(result, Skip):
            self._counts[result] += 1
            return None
        return result

    def __getitem__(self, reason: Skip) -> int:
        return self._counts[reason]

    @property
    def total(self) -> int:
        return sum(self._counts.values())

    def describe(self) -> str:
        """'3 records skipped (2 malformed, 1 unknown schema)'; '' when none were."""
        total = self.total
        if not total:
            return ""
        parts = ", ".join(
            f"{n:,} {reason.value.replace('_', ' ')}" for reason, n in self._counts.items() if n
        )
        return f"{total:,} record{'s' if total != 1 else ''} skipped ({parts})"
