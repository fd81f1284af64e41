"""The alert rule engine: observations in, events out. Pure: no I/O, and no clock (``now`` is
passed in), so the TUI, ``watch``, ``--once`` (``views.alert_figures.replay``) and the tests
drive it the same way.

Per rule and subject (a row: view, region, row key) the book keeps a small state machine::

    idle --holds--> pending --held for_s--> firing --false clear_s--> idle (resolved)
                      |                       ^  |
                      +--one false--> idle    |  +--holds again before clear_s: same incident

A pending streak ends at the first false; a firing incident ends only after ``clear_s`` of
continuous false (a subject missing from a step counts as false), so a flapping figure gives
one "fired", not one per flap. Subjects neither pending nor firing keep no state, and the
history is bounded, so memory stays flat however many rows come and go over days.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from bedrock_top.figures.alert_rules import AlertEvent, AlertRule, EventKind, Observation, Subject
from bedrock_top.format import fmt_count, fmt_usd

SubjectId = tuple[str, str, str]  # (view, region, row key or row id)
StateKey = tuple[str, SubjectId]  # (rule name, subject)
# (view, figure) -> (label, kind) of the figure, for messages; kind as the column registry's
# ("count", "rate", "latency", "pct", "usd", "score")
Describe = Callable[[str, str], tuple[str, str]]
DEFAULT_MAX_HISTORY: Final = 500


def subject_id(subject: Subject) -> SubjectId:
    """A subject's identity: its row key where it has one (stable across polls)."""
    return (subject.view, subject.region, subject.row_key or subject.row_id)


def condition(rule: AlertRule) -> tuple[object, ...]:
    """What decides whether and when a rule holds: a reload that keeps these keeps its state
    (severity, actions, repeat, clear, command and webhook may change freely)."""
    return (rule.figure, rule.op, rule.threshold, rule.for_s, rule.filter, rule.view, rule.total)


@dataclass(frozen=True, slots=True)
class Incident:
    """One alert of one subject, from firing to resolving (``ended`` None: still active)."""

    rule: AlertRule
    subject: Subject
    since: float  # when the condition started holding
    started: float  # when it fired
    ended: float | None
    peak: float | None  # the worst value since it fired
    value: float | None  # the newest value observed
    message: str  # the newest event's message


@dataclass(slots=True)
class _Track:
    """The mutable state behind one pending or firing (rule, subject)."""

    rule: AlertRule
    subject: Subject
    since: float
    firing: bool = False
    started: float = 0.0
    last_sent: float = 0.0
    false_since: float | None = None
    ended: float | None = None
    peak: float | None = None
    value: float | None = None
    message: str = ""

    def incident(self) -> Incident:
        return Incident(
            self.rule,
            self.subject,
            self.since,
            self.started,
            self.ended,
            self.peak,
            self.value,
            self.message,
        )


def worse(rule: AlertRule, a: float | None, b: float | None) -> float | None:
    """The worse of two values for ``rule``: the larger for > and >=, the smaller for < and <=."""
    if a is None:
        return b
    if b is None:
        return a
    return max(a, b) if rule.op.startswith(">") else min(a, b)


def default_describe(view: str, figure: str) -> tuple[str, str]:
    """Without a registry: the figure's key as its label, written as a plain number."""
    del view
    return figure, "count"


class AlertBook:
    """The state of every rule for every subject, stepped once per evaluation.

    ``describe`` names a figure and its kind for messages (``views.alert_figures.new_book``
    passes the column registry's); without it messages use the figure's key. One thread
    steps a book; ``active()`` and ``history`` hand out frozen copies, safe to pass on.
    """

    def __init__(
        self,
        rules: Sequence[AlertRule],
        max_history: int = DEFAULT_MAX_HISTORY,
        *,
        describe: Describe = default_describe,
    ) -> None:
        self.rules: tuple[AlertRule, ...] = tuple(rules)
        self.describe = describe
        self._tracks: dict[StateKey, _Track] = {}
        self._history: deque[_Track] = deque(maxlen=max_history)
        self._last_now: float | None = None

    def step(
        self,
        now: float,
        observations: Iterable[Observation],
        judged: Collection[str] | None = None,
    ) -> list[AlertEvent]:
        """Judge one moment: ``observations`` are every rule's figures at ``now`` (a subject
        a rule does not observe counts as false for it). ``judged`` names the rules this
        moment can judge (None: all); the others keep their state untouched, as when their
        view is not polled in full. Events come in rule order, then subject order (view,
        region, row key)."""
        self._last_now = now
        enabled = {
            rule.name: rule
            for rule in self.rules
            if rule.enabled and (judged is None or rule.name in judged)
        }
        seen: dict[str, dict[SubjectId, Observation]] = {name: {} for name in enabled}
        for obs in observations:
            if obs.rule.name in enabled:
                seen[obs.rule.name][subject_id(obs.subject)] = obs
        events: list[AlertEvent] = []
        for name, rule in enabled.items():
            observed = seen[name]
            tracked = {sid for rname, sid in self._tracks if rname == name}
            for sid in sorted(observed.keys() | tracked):
                event = self._judge(rule, sid, observed.get(sid), now)
                if event is not None:
                    events.append(event)
        return events

    def _judge(
        self, rule: AlertRule, sid: SubjectId, obs: Observation | None, now: float
    ) -> AlertEvent | None:
        key = (rule.name, sid)
        track = self._tracks.get(key)
        value = obs.value if obs is not None else None
        holds = rule.holds(value)
        if track is None:
            if not holds or obs is None:
                return None
            track = self._tracks[key] = _Track(rule, obs.subject, since=now)
        track.rule = rule  # a reload may have changed its actions or repeat
        if obs is not None:
            track.subject = obs.subject
        if not track.firing:
            if not holds:
                del self._tracks[key]  # one false ends a pending streak
                return None
            track.value = value
            if now - track.since < rule.for_s:
                return None
            track.firing, track.started, track.last_sent = True, now, now
            track.peak = value
            self._history.append(track)
            return self._event("fired", track, now)
        track.value = value
        track.peak = worse(rule, track.peak, value)
        if holds:
            track.false_since = None
            if rule.repeat_s > 0 and now - track.last_sent >= rule.repeat_s:
                track.last_sent = now
                return self._event("repeat", track, now)
            return None
        if track.false_since is None:
            track.false_since = now
        if now - track.false_since < rule.clear_s:
            return None
        return self._end(key, track, now)

    def _end(self, key: StateKey, track: _Track, now: float, why: str = "") -> AlertEvent:
        del self._tracks[key]
        track.ended = now
        return self._event("resolved", track, now, why)

    def _event(self, kind: EventKind, track: _Track, now: float, why: str = "") -> AlertEvent:
        track.message = self.message(kind, track, now) + why
        return AlertEvent(
            kind,
            now,
            track.rule,
            track.subject,
            track.value,
            track.peak,
            track.started,
            track.message,
        )

    def active(self) -> list[Incident]:
        """The incidents firing now (those in their clear time included), in rule order,
        then subject order."""
        order = {rule.name: i for i, rule in enumerate(self.rules)}
        found = [t for t in self._tracks.values() if t.firing]
        found.sort(key=lambda t: (order.get(t.rule.name, len(order)), subject_id(t.subject)))
        return [t.incident() for t in found]

    @property
    def history(self) -> tuple[Incident, ...]:
        """The newest ``max_history`` incidents, active and ended, oldest first."""
        return tuple(t.incident() for t in self._history)

    def replace_rules(self, rules: Sequence[AlertRule]) -> list[AlertEvent]:
        """A config reload: a rule whose name and ``condition`` are unchanged (and still
        enabled) keeps its pending streaks and incidents (and takes the new severity,
        actions and repeat); every other incident ends now, with a "resolved" event the
        caller may send (so every "fired" gets its "resolved"), dated at the last step;
        pending streaks of those rules are dropped."""
        self.rules = tuple(rules)
        kept = {r.name: r for r in self.rules if r.enabled}
        now = self._last_now or 0.0
        events: list[AlertEvent] = []
        for key, track in list(self._tracks.items()):
            new = kept.get(key[0])
            if new is not None and condition(new) == condition(track.rule):
                track.rule = new
                continue
            if not track.firing:
                del self._tracks[key]
                continue
            events.append(self._end(key, track, now, " (rule changed or removed by a reload)"))
        order = {rule.name: i for i, rule in enumerate(self.rules)}
        events.sort(key=lambda e: (order.get(e.rule.name, len(order)), subject_id(e.subject)))
        return events

    @property
    def tracked(self) -> int:
        """How many (rule, subject) states the book holds (pending or firing)."""
        return len(self._tracks)

    # --- messages ---------------------------------------------------------------------

    def message(self, kind: EventKind, track: _Track, now: float) -> str:
        """One line for a person: "Throttled: claude-3-haiku (us-east-1) throttles 12/min > 0
        for 3m"; "Resolved: Throttled: ... (peak 40/min, lasted 7m)"."""
        rule = track.rule
        label, unit = self.describe(rule.view, rule.figure)
        who = who_of(rule, track.subject)
        shown = fmt_value(track.value, unit)
        if kind == "resolved":
            peak = fmt_value(track.peak, unit)
            lasted = fmt_duration(now - track.started)
            return f"Resolved: {title(rule)}: {who} {label} {shown} (peak {peak}, lasted {lasted})"
        held = f" for {fmt_duration(now - track.since)}" if now > track.since else ""
        head = title(rule) if kind == "fired" else f"Still {title(rule).lower()}"
        return f"{head}: {who} {label} {shown} {rule.op} {fmt_value(rule.threshold, unit)}{held}"


def title(rule: AlertRule) -> str:
    """A rule's name as words: "quota-high" -> "Quota high"."""
    words = rule.name.replace("-", " ").replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def who_of(rule: AlertRule, subject: Subject) -> str:
    """The subject in a message: the row ("model (region)"), or the total it is."""
    if rule.total:
        return f"total of /{rule.filter}/" if rule.filter else "total"
    return f"{subject.row_id} ({subject.region})" if subject.region else subject.row_id


def fmt_value(value: float | None, kind: str) -> str:
    """A figure in a message by its kind: 85% (percent, 0-100), $52.10, 1.2s, 12/min, 1,234."""
    if value is None:
        return "-"
    if kind == "pct":
        return f"{value:.1f}".removesuffix(".0") + "%"
    if kind == "usd":
        return fmt_usd(value)
    if kind == "latency":
        return f"{value:.0f}ms" if abs(value) < 1000 else f"{value / 1000:.1f}s"
    if kind == "rate":
        return f"{fmt_count(round(value, 1))}/min"
    if kind == "score":
        return f"{value:.1f}".removesuffix(".0") + "x"
    return fmt_count(round(value, 1))


def fmt_duration(seconds: float) -> str:
    """90 -> '1m30s', 180 -> '3m', 3900 -> '1h5m'; whole seconds."""
    s = max(0, round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        m, rest = divmod(s, 60)
        return f"{m}m{rest}s" if rest else f"{m}m"
    h, rest = divmod(s, 3600)
    if h < 48:
        return f"{h}h{rest // 60}m" if rest // 60 else f"{h}h"
    return f"{h // 24}d{h % 24}h" if h % 24 else f"{h // 24}d"
