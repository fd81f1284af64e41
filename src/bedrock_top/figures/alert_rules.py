"""Alert rules and the events they produce: the shared vocabulary of the rule engine
(``alert_state``), the figures it reads (``views.alert_figures``), the config parser, the
actions, ``watch`` and the TUI. Pure data: no I/O.

A rule reads one figure of every row of one view (a registry column key, or one of the alert
figures such as ``thr_min``), compares it with a threshold and, once the comparison has held
for ``for_s`` seconds, fires; it repeats at most every ``repeat_s`` while it holds, and
resolves only after the comparison has been false for ``clear_s`` (flap damping).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final, Literal

Op = Literal[">", ">=", "<", "<="]
Severity = Literal["info", "warning", "critical"]
EventKind = Literal["fired", "repeat", "resolved"]
HealthKind = Literal["poll_failed", "recovered"]

OPS: Final[Mapping[str, Callable[[float, float], bool]]] = MappingProxyType(
    {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
)
SEVERITIES: Final = ("info", "warning", "critical")
# notice: the in-app notice line and the events screen (watch: the JSON line itself)
ACTIONS: Final = ("notice", "bell", "desktop", "command", "webhook")
DEFAULT_CLEAR_S: Final = 120  # a condition false this long resolves; shorter dips are flaps


@dataclass(frozen=True, slots=True)
class AlertRule:
    """One ``[[alerts]]`` entry (or a built-in), validated."""

    name: str
    figure: str  # a registry column key of ``view``, or an alert figure (``alert_figures``)
    op: Op
    threshold: float  # pct figures in percent (80 = 80 %), money in USD, latency in ms
    for_s: int = 0  # the comparison must hold this long before the rule fires
    filter: str | None = None  # regex over the row id, the same syntax as --filter
    view: str = "models"
    severity: Severity = "warning"
    actions: tuple[str, ...] = ("notice",)
    repeat_s: int = 0  # 0: never repeat while it holds
    clear_s: int = DEFAULT_CLEAR_S
    total: bool = False  # compare the figure summed over the rows the filter keeps
    command: tuple[str, ...] = ()  # argv of the command action (alert JSON on stdin)
    # URL of the webhook action: a secret, so never printed (not even in a repr)
    webhook: str | None = field(default=None, repr=False)
    enabled: bool = True
    source: str = "built-in"  # where it came from, for --print-config

    def holds(self, value: float | None) -> bool:
        """The comparison; an unknown figure never holds (no data is not an alert)."""
        return value is not None and OPS[self.op](value, self.threshold)


@dataclass(frozen=True, slots=True)
class Subject:
    """What a rule judged: one row of a view (or the total over the rows it keeps)."""

    view: str
    region: str  # "" for a total over several regions
    row_id: str  # model id for the models view; the dimension values for the others
    row_key: str  # the table's row key (jumps to the row); "" for a total
    keys: Mapping[str, str] = field(default_factory=dict)  # the view's row keys (snake case)


@dataclass(frozen=True, slots=True)
class Observation:
    """One rule's figure of one subject at one moment."""

    rule: AlertRule
    subject: Subject
    value: float | None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A change worth telling: a rule started, still holds (repeat) or ended for a subject."""

    kind: EventKind
    at: float  # epoch seconds of the evaluation that produced it
    rule: AlertRule
    subject: Subject
    value: float | None  # the newest value
    peak: float | None  # the worst value since it started
    started: float  # when it fired
    message: str  # one line a person reads ("Throttled: claude-3-haiku 12/min > 0 for 3m")


@dataclass(frozen=True, slots=True)
class HealthEvent:
    """The monitor's own health: polls failing, and coming back."""

    kind: HealthKind
    at: float
    region: str
    message: str


def redact_url(url: str) -> str:
    """A webhook URL as it may be shown or logged: scheme and host only.

    Slack, Teams and most receivers put the secret in the path or the query, and some in
    user:password@host, so all three go; the host alone still tells which webhook it is.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return "…"
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}/…" if host else f"{scheme}://…"
