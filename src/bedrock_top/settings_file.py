"""The config file and the environment: read, flatten, merge, and remember where each value
came from.

Every layer becomes a flat mapping ``key path -> Sourced``; layers merge by key, later wins
(defaults < file < environment < flags), so a value keeps its source for error messages and
``--print-config``. Values are checked in ``config.resolve``, the same way whatever their source.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import platformdirs

from bedrock_top.config import (
    DEFAULT_COLUMNS,
    DEFAULT_INTERVAL_S,
    DEFAULT_WINDOW,
    Key,
    Settings,
    Sourced,
)
from bedrock_top.errors import ConfigError
from bedrock_top.figures.pricing import DEFAULT_API_USD_PER_1000
from bedrock_top.figures.spikes import DEFAULT_MIN_CHANGE, DEFAULT_RULES

APP_NAME: Final = "bedrock-top"
ENV_PREFIX: Final = "BEDROCK_TOP_"
DEFAULT_SOURCE: Final = "default"

# Top-level keys: the flags' names with "_", plus the sparkline metric. Each also has an
# environment variable (BEDROCK_TOP_ + the key in upper case).
SCALAR_KEYS: Final = (
    "profile",
    "region",
    "endpoint_url",
    "window",
    "period",
    "interval",
    "filter",
    "sort",
    "reverse",
    "all_models",
    "all_accounts",
    "format",
    "seed",
    "sparkline",
    "view",
    "group_by",
)
BOOL_KEYS: Final = frozenset({"reverse", "all_models", "all_accounts"})
NUMBER_TEXT_KEYS: Final = frozenset({("period",), ("interval",), ("seed",)})
SPIKE_KEYS: Final = (
    "k",
    "min_baseline_points",
    "error_rate",
    "min_requests",
    "latency_p90_ms",
    "throttles",
)

# The file's shape: a table maps names to sub-schemas; None is a value; "*" matches any name.
Schema = Mapping[str, "Schema"] | None
SCHEMA: Final[Mapping[str, Schema]] = {
    **dict.fromkeys(SCALAR_KEYS),
    "spikes": {**dict.fromkeys(SPIKE_KEYS), "min_change": dict.fromkeys(DEFAULT_MIN_CHANGE)},
    "columns": {"show": None},
    "prices": {
        "get_metric_data_usd_per_1000": None,
        "overrides": {"*": None},
        "aliases": {"*": None},
    },
    "quotas": {"*": None},
    "burndown": {"*": None},
}

Values = dict[Key, Sourced]
ALERTS_KEY: Final = ("alerts",)  # the [[alerts]] tables, as one list


def default_path() -> Path:
    return platformdirs.user_config_path(APP_NAME) / "config.toml"


def dotted(key: Key) -> str:
    """A key path as written in TOML: model ids with dots or colons get quotes."""
    return ".".join(
        p if p.replace("_", "").replace("-", "").isalnum() else json.dumps(p) for p in key
    )


def toml_value(value: object) -> str:
    """A value in TOML syntax (strings via JSON quoting, which TOML basic strings accept)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, Mapping):
        items = ", ".join(f"{dotted((str(k),))} = {toml_value(v)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return repr(value)


# --- layers -------------------------------------------------------------------------------


def defaults() -> Values:
    """Every fixed key with its built-in value (None: unset, e.g. period means "auto")."""
    raw: dict[Key, object] = {(key,): None for key in SCALAR_KEYS}
    raw.update(
        {
            ("window",): DEFAULT_WINDOW,
            ("interval",): DEFAULT_INTERVAL_S,
            ("reverse",): False,
            ("all_models",): False,
            ("all_accounts",): False,
            ("format",): "table",
            ("seed",): 0,
            ("sparkline",): "invocations",
            ("view",): "models",
            ("group_by",): "caller",
        }
    )
    for name in SPIKE_KEYS:
        raw["spikes", name] = getattr(DEFAULT_RULES, name)
    for signal, change in DEFAULT_MIN_CHANGE.items():
        raw["spikes", "min_change", signal] = change
    raw["columns", "show"] = list(DEFAULT_COLUMNS)
    raw["prices", "get_metric_data_usd_per_1000"] = DEFAULT_API_USD_PER_1000
    return {k: Sourced(v, DEFAULT_SOURCE, f"{dotted(k)} (default)") for k, v in raw.items()}


def read_file(path: Path, *, required: bool) -> Values:
    """The file's values; a missing file is empty unless the user named it (``--config``)."""
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except FileNotFoundError:
        if required:
            raise ConfigError(f"--config: {path}: no such file") from None
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except ValueError as exc:  # TOMLDecodeError, or bytes that are not UTF-8
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    out: Values = {}
    alerts = doc.pop("alerts", None)  # [[alerts]]: an array of tables, for alert_config
    _walk(doc, SCHEMA, (), path, out)
    if alerts is not None:
        out[ALERTS_KEY] = Sourced(alerts, str(path), f"[[alerts]] in {path}")
    return out


def _walk(
    table: Mapping[str, object], schema: Mapping[str, Schema], prefix: Key, path: Path, out: Values
) -> None:
    for name, value in table.items():
        key = (*prefix, name)
        if name not in schema and "*" not in schema:
            known = ", ".join(k for k in schema if k != "*")
            raise ConfigError(f"unknown key {dotted(key)!r} in {path} (known: {known})")
        sub = schema.get(name, schema.get("*"))
        if sub is None:
            shown = "" if isinstance(value, Mapping) else f" = {toml_value(value)}"
            out[key] = Sourced(value, str(path), f"{dotted(key)}{shown} in {path}")
        elif isinstance(value, Mapping):
            _walk(value, sub, key, path, out)
        else:
            raise ConfigError(f"{dotted(key)} in {path}: expected a table, got {toml_value(value)}")


def read_env(environ: Mapping[str, str]) -> Values:
    """BEDROCK_TOP_<KEY> for each top-level key; an empty variable counts as unset."""
    out: Values = {}
    for key in SCALAR_KEYS:
        var = ENV_PREFIX + key.upper()
        raw = environ.get(var, "")
        if not raw.strip():
            continue
        label = f"{var}={raw}"
        value: object = raw
        if key in BOOL_KEYS:
            value = _env_bool(raw, label)
        out[(key,)] = Sourced(value, var, label)
    return out


def _env_bool(raw: str, label: str) -> bool:
    word = raw.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{label}: expected true or false (or 1/0, yes/no, on/off)")


def merge(*layers: Values) -> Values:
    """Later layers win key by key; keys keep the order they first appeared in."""
    out: Values = {}
    for layer in layers:
        out.update(layer)
    return out


def load(
    flags: Values, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Values:
    """defaults < file (``path``, or the default path if it exists) < environment < flags."""
    file_path = default_path() if path is None else path
    file_values = read_file(file_path, required=path is not None)
    env = read_env(os.environ if environ is None else environ)
    return merge(defaults(), file_values, env, flags)


# --- --print-config and --write-config ----------------------------------------------------


def describe(values: Values, settings: Settings, path: Path) -> str:
    """The effective settings, one per line: name, where it came from, value (TOML syntax)."""
    state = "found" if path.is_file() else "not found"
    rows = [("setting", "from", "value")]
    for key, s in values.items():
        if key == ALERTS_KEY:
            continue  # the rules in effect follow, one line each
        if key == ("period",) and s.value is None:
            text = f"auto ({settings.period_s})"
        elif s.value is None:
            text = "(not set)"
        elif key in NUMBER_TEXT_KEYS and isinstance(s.value, str) and s.value.strip().isdigit():
            text = s.value.strip()  # typed as text on the command line: show it as a number
        else:
            text = toml_value(s.value)
        rows.append((dotted(key), s.source, text))
    width = [max(len(r[i]) for r in rows) for i in (0, 1)]
    lines = [f"config file: {path} ({state})"]
    lines += [f"{a:<{width[0]}}  {b:<{width[1]}}  {c}" for a, b, c in rows]
    from bedrock_top.alert_config import describe_rules

    return "\n".join(lines) + "\n" + describe_rules(settings.alert_rules)


def default_file_text() -> str:
    """A commented config file holding the built-in defaults (keys without one commented out)."""
    d = {key: s.value for key, s in defaults().items()}
    spikes = "\n".join(f"{k} = {toml_value(d['spikes', k])}" for k in SPIKE_KEYS)
    changes = "\n".join(f"{s} = {toml_value(v)}" for s, v in DEFAULT_MIN_CHANGE.items())
    columns = ",\n".join(f"  {toml_value(c)}" for c in DEFAULT_COLUMNS)
    return f"""\
# bedrock-top configuration. Precedence: defaults < this file < environment variables
# (BEDROCK_TOP_<KEY>, e.g. BEDROCK_TOP_INTERVAL=30) < command-line flags.
# `bedrock-top --print-config` shows the effective settings and where each came from.

# AWS profile and region(s): by default boto3's chain (AWS_PROFILE, AWS_REGION, ~/.aws/config).
# profile = "prod"
# region = ["us-east-1", "eu-west-1"]   # or "us-east-1,eu-west-1", or "all"
# endpoint_url = "https://monitoring.us-east-1.amazonaws.com"

# Time window (5m to 7d), seconds per datapoint (a multiple of 60; default: chosen from the
# window), and seconds between polls (5 to 600).
window = {toml_value(d["window",])}
# period = 60
interval = {toml_value(d["interval",])}

# Case-insensitive regex over model id and provider ("!" negates); sort column; --once format.
# filter = "claude"
# sort = "invocations"
reverse = {toml_value(d["reverse",])}
all_models = {toml_value(d["all_models",])}
# In a CloudWatch cross-account observability monitoring account: every linked account.
all_accounts = {toml_value(d["all_accounts",])}
format = {toml_value(d["format",])}
seed = {toml_value(d["seed",])}

# What the Trend column draws first: invocations, tokens, latency or problems.
sparkline = {toml_value(d["sparkline",])}

# The view on screen at start (and printed by --once): models, mantle, agents, guardrails,
# knowledge-bases or batch.
view = {toml_value(d["view",])}
# How the callers view groups the invocation logs: caller, caller+model or metadata.KEY (a
# requestMetadata tag, such as metadata.team).
group_by = {toml_value(d["group_by",])}

[columns]
# Live-table columns in display order ("model" first); narrow terminals still drop the least
# important ones.
show = [
{columns},
]

[spikes]
# A spike: the newest complete period > median + k * 1.4826 * MAD of its recent history,
# and higher than the median by at least min_change (per period). Absolute thresholds:
# error_rate (fraction) once a period has min_requests, latency_p90_ms, any throttle.
{spikes}

[spikes.min_change]
{changes}

[prices]
# USD per 1,000 metrics requested by GetMetricData (varies by region).
get_metric_data_usd_per_1000 = {toml_value(d["prices", "get_metric_data_usd_per_1000"])}

# USD per 1M tokens; these win over the bundled and refreshed price tables.
# [prices.overrides."anthropic.claude-3-haiku-20240307-v1:0"]
# input = 0.25
# output = 1.25
# cache_read = 0.03
# cache_write = 0.3

# Application inference profile id -> the model id it invokes, so its cost can be estimated.
# [prices.aliases]
# x7k2p9q4m1z8 = "anthropic.claude-3-haiku-20240307-v1:0"

# Model id -> the Service Quotas code of its TPM, RPM or TPD quota, where matching by name
# (`bedrock-top quotas` shows how each quota was matched) gets it wrong.
# [quotas]
# "us.anthropic.claude-sonnet-4-20250514-v1:0" = "L-59759B4A"

# Model-id prefix -> quota tokens per output token, where the bundled burndown table is out
# of date (used only for models that do not publish EstimatedTPMQuotaUsage).
# [burndown]
# "anthropic.claude-3-5-haiku" = 5

# Alert rules. Built in: quota-high (quota >= 80 %), throttled (thr_min > 0 for 3m),
# error-rate (err_rate_min >= 5 % for 2m), spend-rate (usd_per_hour, total over the models,
# > 50) and spike (spike > 1). An [[alerts]] table named like a built-in changes only the
# keys it gives ("enabled = false" switches it off); any other name adds a rule, which needs
# figure, op and threshold. `bedrock-top --print-config` lists the rules in effect.
# Figures: any numeric column (see --help), percentages in percent (80 = 80 %), plus
# thr_min, err_min, err_rate_min and spike. Durations: "90s", "3m", "1h" or seconds.
# [[alerts]]
# name = "throttled"
# enabled = false
#
# [[alerts]]
# name = "haiku-slow"
# figure = "lat_p90"              # p90 latency of the newest complete minute, in ms
# op = ">"                        # ">", ">=", "<" or "<="
# threshold = 5000
# for = "5m"                      # must hold this long before it fires
# filter = "haiku"                # regex over the model id and provider, as --filter
# view = "models"                 # or mantle, agents, guardrails, knowledge-bases, batch
# severity = "critical"           # info, warning or critical
# actions = ["notice", "bell", "desktop", "command", "webhook"]
# repeat = "30m"                  # again at most this often while it holds (default: never)
# clear = "2m"                    # false this long before "resolved" (flap damping)
# total = false                   # true: compare the sum over the rows the filter keeps
# command = "notify-team --channel ops"   # gets the alert as JSON on stdin
# webhook = "https://hooks.slack.com/services/T000/B000/XXXX"
"""


def write_default(path: Path, *, force: bool) -> None:
    """Write the default file; an existing file is kept unless ``force``."""
    if path.exists() and not force:
        raise ConfigError(f"--write-config: {path} already exists (add --force to overwrite it)")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(default_file_text(), encoding="utf-8")
