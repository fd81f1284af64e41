"""The alert rules in effect: the built-in ones, changed or joined by the config file's
``[[alerts]]`` tables, each checked before anything runs; and their lines in
``--print-config``.

An ``[[alerts]]`` entry whose name is a built-in's changes only the keys it gives
(``enabled = false`` switches it off); any other name is a new rule and needs ``figure``,
``op`` and ``threshold``. A bad entry is a ``ConfigError`` of one line that names the rule
and the file; a webhook URL is never printed whole (``redact_url``).
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Final, cast

from bedrock_top.errors import ConfigError
from bedrock_top.figures.alert_rules import (
    ACTIONS,
    OPS,
    SEVERITIES,
    AlertRule,
    redact_url,
)
from bedrock_top.figures.alert_state import fmt_duration
from bedrock_top.figures.surfaces import CALLERS_VIEW, VIEW_NAMES
from bedrock_top.value_checks import compile_filter, parse_duration
from bedrock_top.views.alert_figures import figures_of, text_keys

BUILTIN_SOURCE: Final = "built-in"
BUILTIN_RULES: Final[tuple[AlertRule, ...]] = (
    AlertRule("quota-high", "quota", ">=", 80, severity="warning", repeat_s=1800),
    AlertRule("throttled", "thr_min", ">", 0, for_s=180, severity="warning", repeat_s=900),
    AlertRule("error-rate", "err_rate_min", ">=", 5, for_s=120, severity="warning", repeat_s=900),
    AlertRule("spend-rate", "usd_per_hour", ">", 50, total=True, severity="warning",
              repeat_s=3600),
    AlertRule("spike", "spike", ">", 1, severity="info"),
)  # fmt: skip
BUILTIN_BY_NAME: Final = {r.name: r for r in BUILTIN_RULES}
KEYS: Final = (
    "name",
    "figure",
    "op",
    "threshold",
    "for",
    "filter",
    "view",
    "severity",
    "actions",
    "repeat",
    "clear",
    "total",
    "command",
    "webhook",
    "enabled",
)
REQUIRED: Final = ("figure", "op", "threshold")
# Views a rule may read: the callers' rows come from invocation logs only while that view
# is on screen, so a rule there would silently never be judged by ``watch``.
RULE_VIEWS: Final = tuple(v for v in VIEW_NAMES if v != CALLERS_VIEW)


def parse_alerts(raw: object, path: str) -> tuple[AlertRule, ...]:
    """The rules in effect: the built-ins in their order (changed where the file says so,
    switched off ones kept with ``enabled=False``), then the file's new rules in its order.
    ``raw``: the file's ``alerts`` value (None: no ``[[alerts]]``)."""
    if raw is None:
        return BUILTIN_RULES
    if not isinstance(raw, list):
        raise ConfigError(
            f"alerts in {path}: expected [[alerts]] tables (an array of tables), "
            f"got {'a table' if isinstance(raw, Mapping) else type(raw).__name__}"
        )
    builtins = dict(BUILTIN_BY_NAME)
    added: list[AlertRule] = []
    seen: dict[str, int] = {}
    for number, entry in enumerate(raw, start=1):
        rule = _entry(entry, number, path, seen)
        if rule.name in builtins:
            builtins[rule.name] = rule
        else:
            added.append(rule)
    return (*builtins.values(), *added)


def _entry(entry: object, number: int, path: str, seen: dict[str, int]) -> AlertRule:
    where = f"[[alerts]] #{number} in {path}"
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{where}: expected a table, got {type(entry).__name__}")
    table = cast(Mapping[str, object], entry)
    name = table.get("name")
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise ConfigError(f'{where}: "name" is missing (every rule needs a name)')
    name = name.strip()
    where = f"[[alerts]] {_quote(name)} in {path}"
    if name in seen:
        raise ConfigError(f"{where}: duplicate name (also [[alerts]] #{seen[name]})")
    seen[name] = number
    unknown = [k for k in table if k not in KEYS]
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
    base = BUILTIN_BY_NAME.get(name)
    if base is None:
        missing = [k for k in REQUIRED if k not in table]
        if missing:
            raise ConfigError(
                f"{where}: {missing[0]!r} is missing (a new rule needs figure, op and threshold)"
            )
        base = AlertRule(name, "", ">", 0.0, source=path)
    else:
        base = replace(base, source=f"{BUILTIN_SOURCE}, changed in {path}")
    rule = _apply(base, table, where)
    _check(rule, where)
    return rule


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _apply(rule: AlertRule, table: Mapping[str, object], where: str) -> AlertRule:
    """``rule`` with the table's keys applied, each checked for its type."""
    changes: dict[str, object] = {}
    for key, value in table.items():
        if key == "name":
            continue
        if key == "figure":
            changes["figure"] = _string(value, where, key)
        elif key == "op":
            op = _string(value, where, key)
            if op not in OPS:
                raise ConfigError(f'{where}: op {_shown(op)} is not one of ">", ">=", "<", "<="')
            changes["op"] = op
        elif key == "threshold":
            changes["threshold"] = _threshold(value, where)
        elif key in ("for", "repeat", "clear"):
            changes[f"{key}_s"] = _duration(value, where, key)
        elif key == "filter":
            pattern = _string(value, where, key)
            compile_filter(pattern, f"{where}: filter")
            changes["filter"] = pattern or None
        elif key == "view":
            changes["view"] = _string(value, where, key)
        elif key == "severity":
            severity = _string(value, where, key)
            if severity not in SEVERITIES:
                raise ConfigError(
                    f"{where}: severity {_shown(severity)} is not one of {', '.join(SEVERITIES)}"
                )
            changes["severity"] = severity
        elif key == "actions":
            changes["actions"] = _actions(value, where)
        elif key in ("total", "enabled"):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: {key} must be true or false")
            changes[key] = value
        elif key == "command":
            changes["command"] = _command(value, where)
        elif key == "webhook":
            changes["webhook"] = _webhook(value, where)
    return replace(rule, **changes)  # type: ignore[arg-type]


def _string(value: object, where: str, key: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: {key} must be a string")
    return value


def _threshold(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{where}: threshold must be a number, got {_shown(value)}")
    if not math.isfinite(value):
        raise ConfigError(f"{where}: threshold must be a finite number")
    return float(value)


def _shown(value: object) -> str:
    """A value in an error: short, and never a whole URL."""
    text = repr(value)
    if isinstance(value, str) and "://" in value:
        text = repr(redact_url(value))
    return text if len(text) <= 40 else text[:37] + "..."


def _duration(value: object, where: str, key: str) -> int:
    """'3m', '90s', '1h' or an integer of seconds."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ConfigError(f"{where}: {key}: {value} must not be negative")
        return value
    if not isinstance(value, str):
        raise ConfigError(f'{where}: {key} must be a duration such as "3m" or seconds')
    return parse_duration(value, f"{where}: {key}")


def _actions(value: object, where: str) -> tuple[str, ...]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(a, str) for a in items):
        raise ConfigError(f"{where}: actions must be a list of names ({', '.join(ACTIONS)})")
    names = cast(list[str], items)
    if not names:
        raise ConfigError(f"{where}: actions is empty (enabled = false switches a rule off)")
    for action in names:
        if action not in ACTIONS:
            raise ConfigError(
                f"{where}: unknown action {_shown(action)} (choose from {', '.join(ACTIONS)})"
            )
    return tuple(dict.fromkeys(names))


def _command(value: object, where: str) -> tuple[str, ...]:
    """A command line (split like a shell would, without running one) or a list of words."""
    if isinstance(value, str):
        try:
            argv = shlex.split(value)
        except ValueError as exc:
            raise ConfigError(f"{where}: command: cannot split it into words: {exc}") from None
    elif isinstance(value, list) and all(isinstance(a, str) for a in value):
        argv = cast(list[str], value)
    else:
        raise ConfigError(f"{where}: command must be a string or a list of strings")
    if not argv or not argv[0]:
        raise ConfigError(f"{where}: command is empty")
    return tuple(argv)


def _webhook(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: webhook must be a string (an http or https URL)")
    scheme, sep, rest = value.partition("://")
    host = rest.split("/", 1)[0].split("?", 1)[0].rsplit("@", 1)[-1]
    if not sep or scheme.lower() not in ("http", "https") or not host or value != value.strip():
        raise ConfigError(
            f"{where}: webhook must be an http:// or https:// URL, got {redact_url(value)!r}"
        )
    return value


def _check(rule: AlertRule, where: str) -> None:
    """What holds between keys: the view, its figure, total, and the actions' settings."""
    if rule.view not in RULE_VIEWS:
        choices = ", ".join(RULE_VIEWS)
        if rule.view == CALLERS_VIEW:
            raise ConfigError(
                f"{where}: view 'callers' cannot carry rules (its rows come from invocation "
                f"logs only while it is on screen); choose from {choices}"
            )
        raise ConfigError(f"{where}: unknown view {_shown(rule.view)} (choose from {choices})")
    figures = figures_of(rule.view)
    figure = figures.get(rule.figure)
    if figure is None:
        choices = ", ".join(figures)
        if rule.figure in text_keys(rule.view):
            raise ConfigError(
                f"{where}: {rule.figure!r} is text, not a figure (choose from {choices})"
            )
        raise ConfigError(
            f"{where}: unknown figure {_shown(rule.figure)} in the {rule.view} view "
            f"(choose from {choices})"
        )
    if rule.total and not figure.additive:
        raise ConfigError(
            f"{where}: total = true needs a figure that adds up over rows (a count, a rate "
            f"or money); {rule.figure!r} is {_KIND_WORDS.get(figure.kind, figure.kind)}"
        )
    if "command" in rule.actions and not rule.command:
        raise ConfigError(f'{where}: the "command" action needs command = "..."')
    if "webhook" in rule.actions and not rule.webhook:
        raise ConfigError(f'{where}: the "webhook" action needs webhook = "https://..."')


_KIND_WORDS: Final = {
    "pct": "a percentage",
    "latency": "a latency",
    "score": "a score",
    "rate": "a quotient",
    "count": "a level",
}


# --- --print-config -----------------------------------------------------------------------


def condition_words(rule: AlertRule) -> str:
    """'thr_min > 0 for 3m', 'usd_per_hour (total) > 50', 'quota >= 80'."""
    total = " (total)" if rule.total else ""
    threshold = f"{rule.threshold:g}"
    held = f" for {fmt_duration(rule.for_s)}" if rule.for_s else ""
    return f"{rule.figure}{total} {rule.op} {threshold}{held}"


def actions_words(rule: AlertRule) -> str:
    """The actions, with the command's program and the webhook's host (never its secret)."""
    words = []
    for action in rule.actions:
        if action == "command" and rule.command:
            words.append(f"command ({rule.command[0]})")
        elif action == "webhook" and rule.webhook:
            words.append(f"webhook ({redact_url(rule.webhook)})")
        else:
            words.append(action)
    return ", ".join(words)


def describe_rules(rules: Sequence[AlertRule]) -> str:
    """The ``--print-config`` section: one line per rule in effect (no blank lines)."""
    rows = [("alert rule", "from", "on", "condition", "rows", "severity", "repeat", "actions")]
    for rule in rules:
        where = rule.view + (f" matching {rule.filter!r}" if rule.filter else "")
        repeat = f"every {fmt_duration(rule.repeat_s)}" if rule.repeat_s else "never"
        rows.append(
            (
                rule.name,
                rule.source,
                "on" if rule.enabled else "off",
                condition_words(rule),
                where,
                rule.severity,
                repeat,
                actions_words(rule),
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [f"{cell:<{w}}" for cell, w in zip(row, widths, strict=False)]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines) + "\n"
