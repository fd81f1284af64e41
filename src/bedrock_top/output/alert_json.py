"""Alert events, health events and active alerts as JSON records: the ``watch`` JSON-lines
contract and the ``alerts`` of ``--once --format json``.

Every record names its row the way that view's ``--once`` JSON does: ``model_id`` in the
models view, the view's dimensions under snake_case keys in the others (null where the row
has none), then ``account`` when the row has one. A rule's total over rows is no row: its
``model_id`` (or every dimension) is null, and so is its ``region`` (a total may span
regions). Numbers are JSON-safe (NaN and infinities become null) and keep the decimals
``--once`` keeps for their kind of figure: money 6 (1e-6 USD), milliseconds 1, percentages
(0-100), counts, per-minute rates and scores 3.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any, Final

from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, HealthEvent, Subject
from bedrock_top.figures.alert_state import Incident
from bedrock_top.figures.callers_spec import spec_of
from bedrock_top.figures.surfaces import MODELS_VIEW, snake
from bedrock_top.output.render import MONEY_DECIMALS, MS_DECIMALS, PCT_DECIMALS
from bedrock_top.output.render import iso as iso_precise
from bedrock_top.views.alert_figures import describe


def iso(epoch: float) -> str:
    """A moment to the second ("2026-11-30T18:31:50Z"): alerts are judged once a poll."""
    return iso_precise(int(epoch))


# Decimals kept per kind of figure (output.render's: MONEY_DECIMALS, MS_DECIMALS, PCT_DECIMALS)
DECIMALS: Final = {"usd": MONEY_DECIMALS, "latency": MS_DECIMALS}
OTHER_DECIMALS: Final = PCT_DECIMALS
# The contract's keys, in order (the row keys between region and figure vary by view).
EVENT_HEAD: Final = ("at", "event", "rule", "severity", "view", "region")
EVENT_TAIL: Final = ("figure", "value", "threshold", "message", "peak", "started")
HEALTH_KEYS: Final = ("at", "event", "region", "message")
ACTIVE_HEAD: Final = ("rule", "severity", "view", "region")
ACTIVE_TAIL: Final = ("figure", "value", "peak", "threshold", "since", "message")


def number(value: float | None, kind: str = "usd") -> float | None:
    """A figure as JSON allows it: finite, rounded for its ``kind`` (binary noise means
    nothing)."""
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), DECIMALS.get(kind, OTHER_DECIMALS))


def _numbers(rule: AlertRule, **values: float | None) -> dict[str, float | None]:
    kind = describe(rule.view, rule.figure)[1]
    return {key: number(value, kind) for key, value in values.items()}


def row_keys(subject: Subject) -> dict[str, str | None]:
    """The subject's row keys in the view's ``--once`` JSON order (see the module docstring)."""
    total = not subject.row_key and not subject.keys
    if subject.view == MODELS_VIEW:
        names: tuple[str, ...] = ("model_id",)
    else:
        try:
            names = tuple(snake(d) for d in spec_of(subject.view).dimensions)
        except KeyError:  # not a view this release knows: the keys as the subject has them
            names = tuple(k for k in subject.keys if k != "account")
    out: dict[str, str | None] = {}
    for name in names:
        found = subject.keys.get(name)
        if found is None and subject.view == MODELS_VIEW and not total:
            found = subject.row_id
        out[name] = None if total else found
    if "account" in subject.keys:
        out["account"] = subject.keys["account"]
    return out


def _head(rule: AlertRule, subject: Subject) -> dict[str, Any]:
    return {
        "rule": rule.name,
        "severity": rule.severity,
        "view": subject.view,
        "region": subject.region or None,
        **row_keys(subject),
    }


def event_record(event: AlertEvent) -> dict[str, object]:
    """One ``watch`` line: at, event, rule, severity, view, region, the row keys, figure,
    value, threshold, message, then peak and started."""
    found = _numbers(event.rule, value=event.value, threshold=event.rule.threshold)
    return {
        "at": iso(event.at),
        "event": event.kind,
        **_head(event.rule, event.subject),
        "figure": event.rule.figure,
        **found,
        "message": event.message,
        **_numbers(event.rule, peak=event.peak),
        "started": iso(event.started),
    }


def health_record(event: HealthEvent) -> dict[str, object]:
    """One ``watch`` line about the monitor itself: polls failing (``poll_failed``) and
    working again (``recovered``)."""
    return {
        "at": iso(event.at),
        "event": event.kind,
        "region": event.region,
        "message": event.message,
    }


def active_records(incidents: Iterable[Incident]) -> list[dict[str, object]]:
    """The alerts active at one moment (``AlertBook.active()``), for ``--once`` JSON:
    rule, severity, view, region, the row keys, figure, value (the newest), peak,
    threshold, since (when it fired) and the message of its newest event."""
    return [
        {
            **_head(incident.rule, incident.subject),
            "figure": incident.rule.figure,
            **_numbers(
                incident.rule,
                value=incident.value,
                peak=incident.peak,
                threshold=incident.rule.threshold,
            ),
            "since": iso(incident.started),
            "message": incident.message,
        }
        for incident in incidents
    ]
