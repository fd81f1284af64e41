"""The alert rules judged on every live snapshot, and their actions: one piece shared by the
TUI and ``watch``, so a rule means the same thing on a screen and headless.

Only rules whose view the snapshot polled in full are judged (a view on heartbeat has no
figures to judge, and its alerts must neither resolve nor advance); a past window
(``--end``, the ``{``/``}`` keys) is never judged. The first judged snapshot replays its own
recent periods, so a condition that has held for minutes already fires at start rather than
minutes later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, Subject
from bedrock_top.figures.alert_state import AlertBook, Incident, SubjectId, subject_id
from bedrock_top.figures.snapshot import Snapshot
from bedrock_top.figures.spikes import SpikeRules
from bedrock_top.figures.surfaces import MODELS_VIEW
from bedrock_top.output.alert_json import event_record
from bedrock_top.views.alert_figures import new_book, observe, replay

if TYPE_CHECKING:
    from bedrock_top.services.alert_actions import ActionRunner

# Actions the caller performs itself (the notice line, the JSON line); the runner does the rest.
OWN_ACTIONS = frozenset({"notice"})


def polled_in_full(snapshot: Snapshot, view: str) -> bool:
    """Whether ``snapshot`` has every figure of ``view`` (the view on screen), not only
    the heartbeat that keeps the view bar counting."""
    if view == MODELS_VIEW:
        return snapshot.visible == MODELS_VIEW
    return snapshot.visible == view and view in snapshot.surfaces


class AlertCenter:
    """Judges rules on live snapshots and hands each event to its actions."""

    def __init__(
        self,
        rules: Sequence[AlertRule],
        spike_rules: SpikeRules,
        actions: ActionRunner | None = None,
    ) -> None:
        self.rules = tuple(rules)
        self.spike_rules = spike_rules
        self.actions = actions
        self.book: AlertBook = new_book(self.rules)
        self._primed = False
        # Incidents the look-back found in their clear time (no longer holding): told only
        # if they hold again, and their end is not told (nobody heard them start).
        self._untold: set[tuple[str, SubjectId]] = set()

    def judge(self, snapshot: Snapshot) -> list[AlertEvent]:
        """The events of this snapshot (actions dispatched, never waited for)."""
        if not snapshot.live or snapshot.latest_complete_index < 0:
            return []
        judged = {r.name for r in self.rules if r.enabled and polled_in_full(snapshot, r.view)}
        if not judged:
            return []
        min_requests = self.spike_rules.min_requests
        if not self._primed:
            self._primed = True
            self.book = replay(
                snapshot, self.rules, min_requests=min_requests, spike_rules=self.spike_rules
            )
            events = []
            for incident in self.book.active():
                if incident.rule.holds(incident.value):
                    events.append(_announce(incident, snapshot.taken_at))
                else:
                    self._untold.add(_key(incident.rule, incident.subject))
        else:
            found = observe(
                snapshot, self.rules, min_requests=min_requests, spike_rules=self.spike_rules
            )
            events = self._told(self.book.step(snapshot.taken_at, found, judged), snapshot)
        self._act(events)
        return events

    def _told(self, events: list[AlertEvent], snapshot: Snapshot) -> list[AlertEvent]:
        """The events worth telling, given what was never told (see ``_untold``)."""
        if not self._untold:
            return events
        out = []
        for event in events:
            key = _key(event.rule, event.subject)
            if key not in self._untold:
                out.append(event)
                continue
            self._untold.discard(key)
            if event.kind != "resolved":  # a repeat of an untold incident is its start
                out.append(replace(event, kind="fired"))
        for incident in self.book.active():  # holding again: told now
            key = _key(incident.rule, incident.subject)
            if key in self._untold and incident.rule.holds(incident.value):
                self._untold.discard(key)
                out.append(_announce(incident, snapshot.taken_at))
        return out

    def reload(self, rules: Sequence[AlertRule], spike_rules: SpikeRules) -> list[AlertEvent]:
        """New rules (SIGHUP, a config change): unchanged rules keep their incidents, the
        others end with a "resolved" event, which is returned (and acted on)."""
        self.rules = tuple(rules)
        self.spike_rules = spike_rules
        events = []
        for event in self.book.replace_rules(self.rules):
            key = _key(event.rule, event.subject)
            if key in self._untold:  # never told: its end is not told either
                self._untold.discard(key)
            else:
                events.append(event)
        self._act(events)
        return events

    def _act(self, events: Sequence[AlertEvent]) -> None:
        if self.actions is None:
            return
        for event in events:
            if set(event.rule.actions) - OWN_ACTIONS:
                self.actions.dispatch(event, event_record(event))

    def close(self, timeout_s: float = 1.0) -> None:
        if self.actions is not None:
            self.actions.close(timeout_s)


def _key(rule: AlertRule, subject: Subject) -> tuple[str, SubjectId]:
    return rule.name, subject_id(subject)


def _announce(incident: Incident, at: float) -> AlertEvent:
    """An incident found already firing by the first snapshot's look-back, told as fired."""
    return AlertEvent(
        "fired",
        at,
        incident.rule,
        incident.subject,
        incident.value,
        incident.peak,
        incident.started,
        incident.message,
    )
