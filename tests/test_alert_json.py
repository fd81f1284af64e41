"""The JSON records of alerts (``output.alert_json``): the ``watch`` JSON-lines contract's
keys in order, row keys per view, JSON-safe numbers, and a round trip through json."""

from __future__ import annotations

import json
import math
from dataclasses import replace

from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, HealthEvent, Observation, Subject
from bedrock_top.figures.alert_state import AlertBook
from bedrock_top.output.alert_json import active_records, event_record, health_record

AT = 1_790_000_040.0  # 2026-09-21T14:14:00Z
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
THROTTLED = AlertRule("throttled", "thr_min", ">", 0.0, for_s=180, severity="warning")
MODEL = Subject("models", "us-east-1", HAIKU, f"us-east-1||{HAIKU}", {"model_id": HAIKU})
CONTRACT = ("at", "event", "rule", "severity", "view", "region")
TAIL = ("figure", "value", "threshold", "message", "peak", "started")


def event(subject: Subject, value: float | None = 12.0, kind: str = "fired") -> AlertEvent:
    return AlertEvent(kind, AT, THROTTLED, subject, value, 40.123456789, AT - 180, "msg")  # type: ignore[arg-type]


def round_trip(record: dict[str, object]) -> dict[str, object]:
    text = json.dumps(record, allow_nan=False)
    assert "\n" not in text  # one object per line
    loaded: dict[str, object] = json.loads(text)
    assert list(loaded) == list(record)
    return loaded


def test_a_models_event_has_the_contract_keys_in_order() -> None:
    record = round_trip(event_record(event(MODEL)))
    assert tuple(record) == (*CONTRACT, "model_id", *TAIL)
    assert record == {
        "at": "2026-09-21T14:14:00Z",
        "event": "fired",
        "rule": "throttled",
        "severity": "warning",
        "view": "models",
        "region": "us-east-1",
        "model_id": HAIKU,
        "figure": "thr_min",
        "value": 12.0,
        "threshold": 0.0,
        "message": "msg",
        "peak": 40.123,  # a per-minute rate: 3 decimals
        "started": "2026-09-21T14:11:00Z",
    }


def test_a_total_names_no_row_and_no_region() -> None:
    record = round_trip(event_record(event(Subject("models", "", "total", ""))))
    assert (record["model_id"], record["region"]) == (None, None)


def test_other_views_carry_their_dimensions_like_their_json() -> None:
    alias = "arn:aws:bedrock:us-east-1:123456789012:agent-alias/AGENT7K2Q9/ALIASPROD1"
    full = Subject(
        "agents",
        "us-east-1",
        f"InvokeAgent {alias} {HAIKU}",
        "k",
        {"operation": "InvokeAgent", "agent_alias_arn": alias, "model_id": HAIKU},
    )
    coarse = Subject(
        "agents", "us-east-1", "InvokeInlineAgent", "k2", {"operation": "InvokeInlineAgent"}
    )
    rows = [round_trip(event_record(event(s))) for s in (full, coarse)]
    keys = ("operation", "agent_alias_arn", "model_id")
    assert [tuple(r)[len(CONTRACT) : len(CONTRACT) + 3] for r in rows] == [keys, keys]
    assert [rows[0][k] for k in keys] == ["InvokeAgent", alias, HAIKU]
    assert [rows[1][k] for k in keys] == ["InvokeInlineAgent", None, None]
    total = round_trip(event_record(event(Subject("agents", "", "total", ""))))
    assert [total[k] for k in keys] == [None, None, None]


def test_an_account_follows_the_row_keys() -> None:
    linked = Subject("models", "us-east-1", HAIKU, "k", {"model_id": HAIKU, "account": "1111"})
    record = round_trip(event_record(event(linked)))
    assert tuple(record)[len(CONTRACT) : len(CONTRACT) + 2] == ("model_id", "account")


def test_numbers_are_json_safe() -> None:
    for bad in (math.nan, math.inf, -math.inf, None):
        record = round_trip(event_record(event(MODEL, bad)))
        assert record["value"] is None


def test_numbers_keep_the_decimals_of_their_kind() -> None:
    """As --once writes them: money to 1e-6 USD, milliseconds to 0.1, percentages 1e-3."""
    kinds = {"usd_per_hour": 1.234568, "lat_p90": 1.2, "quota": 1.235, "spike": 1.235}
    for figure, expected in kinds.items():
        rule = AlertRule("r", figure, ">", 1.23456789)
        record = event_record(replace(event(MODEL, 1.23456789), rule=rule))
        assert (record["value"], record["threshold"]) == (expected, expected), figure


def test_health_records() -> None:
    down = HealthEvent("poll_failed", AT, "eu-west-1", "cannot reach CloudWatch")
    assert round_trip(health_record(down)) == {
        "at": "2026-09-21T14:14:00Z",
        "event": "poll_failed",
        "region": "eu-west-1",
        "message": "cannot reach CloudWatch",
    }


def test_active_records_for_once() -> None:
    book = AlertBook([AlertRule("throttled", "thr_min", ">", 0.0)])
    book.step(AT, [Observation(book.rules[0], MODEL, 3.0)])
    book.step(AT + 60, [Observation(book.rules[0], MODEL, 7.5)])
    [record] = [round_trip(r) for r in active_records(book.active())]
    assert tuple(record) == (
        "rule", "severity", "view", "region", "model_id",
        "figure", "value", "peak", "threshold", "since", "message",
    )  # fmt: skip
    assert (record["value"], record["peak"], record["since"]) == (7.5, 7.5, "2026-09-21T14:14:00Z")
    assert record["message"] == f"Throttled: {HAIKU} (us-east-1) thr_min 3 > 0"
