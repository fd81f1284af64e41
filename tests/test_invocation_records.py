"""Parsing Bedrock model invocation log messages: what is kept, what is skipped and why, and
that the prompt and completion never survive the parse."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bedrock_top.figures.invocation_records import (
    MAX_RECORD_BYTES,
    InvocationRecord,
    Skip,
    SkipCounter,
    parse_record,
)

ARN = "arn:aws:sts::123456789012:assumed-role/AppRole/worker-7"
MODEL = "us.anthropic.claude-sonnet-4-20250514-v1:0"
PROMPT = "SECRET-PROMPT: the quarterly numbers are"
COMPLETION = "SECRET-COMPLETION: up 12%"


def log(**changes: Any) -> dict[str, Any]:
    """A record as Bedrock writes it (Converse), with ``changes`` applied at the top level."""
    data: dict[str, Any] = {
        "schemaType": "ModelInvocationLog",
        "schemaVersion": "1.0",
        "timestamp": "2025-03-11T00:38:02Z",
        "accountId": "123456789012",
        "identity": {"arn": ARN},
        "region": "us-east-1",
        "requestId": "ff4b6c63-5561-4431-93b8-06a817275900",
        "operation": "Converse",
        "modelId": MODEL,
        "input": {
            "inputContentType": "application/json",
            "inputBodyJson": {"messages": [{"role": "user", "content": [{"text": PROMPT}]}]},
            "inputTokenCount": 35,
            "cacheReadInputTokenCount": 1200,
            "cacheWriteInputTokenCount": 7,
        },
        "output": {
            "outputContentType": "application/json",
            "outputBodyJson": {
                "output": {"message": {"role": "assistant", "content": [{"text": COMPLETION}]}},
                "usage": {"inputTokens": 35, "outputTokens": 446},
            },
            "outputTokenCount": 446,
        },
        "requestMetadata": {"team": "search", "env": "prod"},
    }
    data.update(changes)
    return data


def parsed(data: Any) -> InvocationRecord | Skip:
    return parse_record(json.dumps(data))


def record(data: Any) -> InvocationRecord:
    result = parsed(data)
    assert isinstance(result, InvocationRecord), result
    return result


def test_a_record_keeps_the_counted_fields() -> None:
    r = record(log())
    assert r == InvocationRecord(
        request_id="ff4b6c63-5561-4431-93b8-06a817275900",
        at=datetime(2025, 3, 11, 0, 38, 2, tzinfo=UTC).timestamp(),
        caller=ARN,
        model_id=MODEL,
        input_tokens=35,
        output_tokens=446,
        cache_read_tokens=1200,
        cache_write_tokens=7,
        metadata=(("env", "prod"), ("team", "search")),
    )


def test_bytes_parse_as_text_does() -> None:
    assert parse_record(json.dumps(log()).encode()) == parsed(log())


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2025-03-11T00:38:02.250Z", datetime(2025, 3, 11, 0, 38, 2, 250000, tzinfo=UTC)),
        ("2025-03-11T02:38:02+02:00", datetime(2025, 3, 11, 0, 38, 2, tzinfo=UTC)),
        ("2025-03-11T00:38:02", datetime(2025, 3, 11, 0, 38, 2, tzinfo=UTC)),  # naive: UTC
    ],
)
def test_timestamps_in_any_iso_form(stamp: str, expected: datetime) -> None:
    assert record(log(timestamp=stamp)).at == expected.timestamp()


def test_absent_or_null_counts_are_zero() -> None:
    """An image model's record may carry no token counts at all; a model without prompt
    caching has no cache counts."""
    image = record(log(input={"inputContentType": "application/json"}, output=None))
    assert image[4:8] == (0, 0, 0, 0)
    no_cache = record(log(input={"inputTokenCount": 9, "cacheReadInputTokenCount": None}))
    assert (no_cache.input_tokens, no_cache.cache_read_tokens, no_cache.cache_write_tokens) == (
        9,
        0,
        0,
    )
    bare = log()
    del bare["input"], bare["output"]
    assert record(bare).output_tokens == 0


def test_metadata_keeps_string_pairs_only() -> None:
    r = record(log(requestMetadata={"b": "2", "a": "1", "n": 3, "x": None, "o": {"k": "v"}}))
    assert r.metadata == (("a", "1"), ("b", "2"))
    assert record(log(requestMetadata="team=search")).metadata == ()
    without = log()
    del without["requestMetadata"]
    assert record(without).metadata == ()


@pytest.mark.parametrize(
    "text",
    [
        json.dumps(log())[:-40],  # truncated
        "",
        "not json",
        "[1, 2]",
        '"a string"',
        "null",
        "[" * 200_000 + "]" * 200_000,  # nested past the decoder's recursion limit
    ],
)
def test_malformed(text: str) -> None:
    assert parse_record(text) is Skip.MALFORMED


def test_invalid_utf8_is_malformed() -> None:
    assert parse_record(b'{"schemaType": "\xff\xfe"}') is Skip.MALFORMED


@pytest.mark.parametrize("schema", ["ModelInvocationLogV2", "", None, 1])
def test_other_schemas_are_skipped(schema: object) -> None:
    assert parsed(log(schemaType=schema)) is Skip.UNKNOWN_SCHEMA
    missing = log()
    del missing["schemaType"]
    assert parsed(missing) is Skip.UNKNOWN_SCHEMA


@pytest.mark.parametrize(
    "changes",
    [
        {"identity": None},
        {"identity": {}},
        {"identity": {"arn": ""}},
        {"identity": "arn:aws:iam::1:user/a"},
        {"requestId": None},
        {"requestId": 7},
        {"modelId": ""},
        {"timestamp": None},
        {"timestamp": "yesterday"},
        {"timestamp": 1741653482},
        {"input": "35 tokens"},
        {"output": []},
    ],
)
def test_missing_fields(changes: dict[str, Any]) -> None:
    assert parsed(log(**changes)) is Skip.MISSING_FIELDS


@pytest.mark.parametrize("count", ["35", 35.0, 3.5, True, -1, [35], {"n": 35}])
@pytest.mark.parametrize(
    ("part", "field"),
    [
        ("input", "inputTokenCount"),
        ("input", "cacheReadInputTokenCount"),
        ("input", "cacheWriteInputTokenCount"),
        ("output", "outputTokenCount"),
    ],
)
def test_a_count_of_the_wrong_type_is_missing(part: str, field: str, count: object) -> None:
    data = log()
    data[part][field] = count
    assert parsed(data) is Skip.MISSING_FIELDS


def test_too_large_is_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    data = log()
    base = len(json.dumps(data))
    data["input"]["inputBodyJson"]["pad"] = "x" * (MAX_RECORD_BYTES - base - len(', "pad": ""'))
    exact = json.dumps(data)
    assert len(exact) == MAX_RECORD_BYTES
    assert isinstance(parse_record(exact), InvocationRecord)
    assert isinstance(parse_record(exact.encode()), InvocationRecord)
    over = exact.replace('"pad": "', '"pad": "x')

    def explode(*args: object, **kwargs: object) -> object:
        raise AssertionError("a message over the limit was handed to the decoder")

    monkeypatch.setattr(json, "loads", explode)  # the module the parser calls
    assert parse_record(over) is Skip.TOO_LARGE
    assert parse_record(over.encode()) is Skip.TOO_LARGE
    # Fewer characters than the limit, more bytes: the limit is on bytes.
    wide = "é" * (MAX_RECORD_BYTES // 2 + 1)
    assert len(wide) < MAX_RECORD_BYTES < len(wide.encode())
    assert parse_record(wide) is Skip.TOO_LARGE


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, tuple):
        return [s for item in value for s in _strings(item)]
    return [repr(value)]


def test_the_prompt_and_completion_are_not_kept(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    data = log(requestMetadata={"team": "search"})
    # Bodies also sneak in as text, and in fields Bedrock may add later.
    data["input"]["inputBodyText"] = PROMPT
    data["output"]["outputBodyJson"]["echo"] = PROMPT
    data["promptCopy"] = PROMPT
    r = record(data)
    for secret in ("SECRET-PROMPT", "SECRET-COMPLETION"):
        assert secret not in repr(r)
        assert not any(secret in s for s in _strings(tuple(r)))
    broken = json.dumps(data)[:-3]
    assert "SECRET-PROMPT" not in repr(parse_record(broken))
    assert not caplog.records


def test_skip_reasons_are_their_plain_strings() -> None:
    assert Skip("malformed") is Skip.MALFORMED
    assert f"{Skip.TOO_LARGE}" == "too_large"
    assert {s.value for s in Skip} == {"malformed", "unknown_schema", "missing_fields", "too_large"}


def test_skip_counter() -> None:
    counter = SkipCounter()
    assert counter.total == 0
    assert counter.describe() == ""
    good = record(log())
    assert counter.take(good) is good
    for message in ("{", "[]", json.dumps(log(schemaType="Other"))):
        assert counter.take(parse_record(message)) is None
    assert counter.total == 3
    assert counter[Skip.MALFORMED] == 2
    assert counter.describe() == "3 records skipped (2 malformed, 1 unknown schema)"
    counter.add(Skip.TOO_LARGE, 1000)
    assert (
        counter.describe()
        == "1,003 records skipped (2 malformed, 1 unknown schema, 1,000 too large)"
    )
    one = SkipCounter()
    one.add(Skip.MISSING_FIELDS)
    assert one.describe() == "1 record skipped (1 missing fields)"
