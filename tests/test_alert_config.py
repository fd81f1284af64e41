"""The alert rules in effect: built-ins, ``[[alerts]]`` in the config file (changes, new rules,
every kind of mistake as one line naming the rule), ``--print-config``, and the alerts of
``--once --format json``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bedrock_top import settings_file
from bedrock_top.alert_config import BUILTIN_RULES, parse_alerts
from bedrock_top.arguments import parse_settings
from bedrock_top.config import Settings
from bedrock_top.errors import ConfigError
from bedrock_top.figures.alert_rules import AlertRule
from support.config_run import isolate_config, run

SECRET = "T000/B000/XXXXsecretXXXX"
HOOK = f"https://hooks.slack.com/services/{SECRET}"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_config(tmp_path, monkeypatch)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def rules_of(tmp_path: Path, text: str) -> tuple[AlertRule, ...]:
    return parse_settings(["--config", str(write(tmp_path, text))]).alert_rules


# --- built-ins and changes ----------------------------------------------------------------


def test_the_built_in_rules() -> None:
    assert Settings().alert_rules == BUILTIN_RULES == parse_settings([]).alert_rules
    shown = [
        (r.name, r.figure, r.op, r.threshold, r.for_s, r.total, r.severity, r.repeat_s)
        for r in BUILTIN_RULES
    ]
    assert shown == [
        ("quota-high", "quota", ">=", 80, 0, False, "warning", 1800),
        ("throttled", "thr_min", ">", 0, 180, False, "warning", 900),
        ("error-rate", "err_rate_min", ">=", 5, 120, False, "warning", 900),
        ("spend-rate", "usd_per_hour", ">", 50, 0, True, "warning", 3600),
        ("spike", "spike", ">", 1, 0, False, "info", 0),
    ]
    for r in BUILTIN_RULES:
        assert (r.actions, r.enabled, r.view, r.source) == (("notice",), True, "models", "built-in")
        assert (r.filter, r.command, r.webhook, r.clear_s) == (None, (), None, 120)


def test_a_table_named_like_a_built_in_changes_only_its_keys(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[[alerts]]\nname = "spend-rate"\nthreshold = 120\nrepeat = "2h"\n'
        '[[alerts]]\nname = "throttled"\nenabled = false\n',
    )
    rules = {r.name: r for r in parse_settings(["--config", str(path)]).alert_rules}
    builtin = {r.name: r for r in BUILTIN_RULES}
    assert list(rules) == list(builtin)  # same rules, same order
    changed = f"built-in, changed in {path}"
    assert rules["spend-rate"] == AlertRule(
        "spend-rate", "usd_per_hour", ">", 120.0, total=True, repeat_s=7200, source=changed
    )
    assert rules["throttled"].enabled is False
    assert rules["throttled"].source == changed
    assert rules["quota-high"] == builtin["quota-high"]


def test_a_new_rule_with_every_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"""
[[alerts]]
name = "haiku-slow"
figure = "lat_p90"
op = "<="
threshold = 2500.5
for = "90s"
filter = "!haiku"
view = "models"
severity = "critical"
actions = ["notice", "bell", "desktop", "command", "webhook"]
repeat = 600
clear = "5m"
total = false
command = "notify-team --channel 'ops room'"
webhook = "{HOOK}"
enabled = true

[[alerts]]
name = "guardrail-blocks"
figure = "intervened"
op = ">"
threshold = 100
view = "guardrails"
total = true
command = ["/usr/bin/logger", "-t", "bedrock"]
""",
    )
    rules = parse_settings(["--config", str(path)]).alert_rules
    assert rules[: len(BUILTIN_RULES)] == BUILTIN_RULES
    slow, blocks = rules[len(BUILTIN_RULES) :]
    assert slow == AlertRule(
        name="haiku-slow",
        figure="lat_p90",
        op="<=",
        threshold=2500.5,
        for_s=90,
        filter="!haiku",
        view="models",
        severity="critical",
        actions=("notice", "bell", "desktop", "command", "webhook"),
        repeat_s=600,
        clear_s=300,
        total=False,
        command=("notify-team", "--channel", "ops room"),
        webhook=HOOK,
        enabled=True,
        source=str(path),
    )
    assert (blocks.view, blocks.total, blocks.clear_s) == ("guardrails", True, 120)
    assert blocks.command == ("/usr/bin/logger", "-t", "bedrock")
    assert blocks.actions == ("notice",)


# --- mistakes -----------------------------------------------------------------------------

NEW = 'name = "mine"\nfigure = "thr_min"\nop = ">"\nthreshold = 0\n'
# (the table's body, a fragment the one-line error must hold)
MISTAKES = [
    (NEW + "colour = 1\n", "unknown key 'colour' (known: name, figure"),
    ('name = "mine"\nfigure = "thr_min"\nop = ">"\n', "'threshold' is missing"),
    ('name = "mine"\nop = ">"\nthreshold = 1\n', "'figure' is missing"),
    (NEW.replace('">"', '"=>"'), "op '=>' is not one of"),
    (NEW.replace("threshold = 0", 'threshold = "high"'), "threshold must be a number"),
    (NEW.replace("threshold = 0", "threshold = nan"), "threshold must be a finite number"),
    (NEW + 'for = "3 minutes"\n', "for: cannot parse '3 minutes' as a duration"),
    (NEW + "repeat = -5\n", "repeat: -5 must not be negative"),
    (NEW + "clear = true\n", 'clear must be a duration such as "3m"'),
    (NEW + 'filter = "claude("\n', "filter: invalid regular expression 'claude('"),
    (NEW + 'view = "nope"\n', "unknown view 'nope' (choose from models, mantle"),
    (NEW + 'view = "callers"\n', "view 'callers' cannot carry rules"),
    (NEW.replace("thr_min", "thr"), "unknown figure 'thr' in the models view (choose from "),
    (NEW.replace("thr_min", "provider"), "'provider' is text, not a figure"),
    (NEW + 'view = "agents"\n', "unknown figure 'thr_min' in the agents view"),
    (NEW.replace("thr_min", "quota") + "total = true\n", "'quota' is a percentage"),
    (NEW.replace("thr_min", "lat_p90") + "total = true\n", "'lat_p90' is a latency"),
    (NEW + 'actions = ["notice", "pager"]\n', "unknown action 'pager' (choose from notice"),
    (NEW + "actions = []\n", "actions is empty"),
    (NEW + 'actions = ["command"]\n', 'the "command" action needs command = "..."'),
    (NEW + 'actions = ["webhook"]\n', 'the "webhook" action needs webhook = "https://..."'),
    (NEW + 'command = "run \'unclosed"\n', "command: cannot split it into words"),
    (NEW + "command = []\n", "command is empty"),
    (NEW + 'webhook = "ftp://u:pw@example.com/x?sig=S3CR3T"\n', "'ftp://example.com/…'"),
    (NEW + 'severity = "fatal"\n', "severity 'fatal' is not one of info, warning, critical"),
    (NEW + 'enabled = "no"\n', "enabled must be true or false"),
    ('name = "throttled"\nfigure = "nope"\n', "unknown figure 'nope'"),
]


@pytest.mark.parametrize(("body", "fragment"), MISTAKES)
def test_a_bad_rule_is_one_line_naming_the_rule_and_the_file(
    tmp_path: Path, body: str, fragment: str
) -> None:
    path = write(tmp_path, f"[[alerts]]\n{body}")
    with pytest.raises(ConfigError) as caught:
        parse_settings(["--config", str(path)])
    message = str(caught.value)
    name = re.search(r'name = "([^"]+)"', body)
    assert name is not None
    assert message.startswith(f'[[alerts]] "{name.group(1)}" in {path}: '), message
    assert fragment in message
    assert "\n" not in message
    assert "pw" not in message
    assert "S3CR3T" not in message


def test_mistakes_before_a_name_is_known(tmp_path: Path) -> None:
    cases = [
        ('[[alerts]]\nfigure = "thr_min"\n', '[[alerts]] #1 in {p}: "name" is missing'),
        (f"[[alerts]]\n{NEW}[[alerts]]\n{NEW}", '[[alerts]] "mine" in {p}: duplicate name (also'),
        ("alerts = 3\n", "alerts in {p}: expected [[alerts]] tables (an array of tables), got"),
        ("[alerts]\nname = 1\n", "alerts in {p}: expected [[alerts]] tables"),
        ("alerts = [1]\n", "[[alerts]] #1 in {p}: expected a table"),
    ]
    for text, expected in cases:
        path = write(tmp_path, text)
        with pytest.raises(ConfigError) as caught:
            parse_settings(["--config", str(path)])
        assert str(caught.value).startswith(expected.format(p=path)), str(caught.value)


def test_a_webhook_secret_is_never_in_an_error(tmp_path: Path) -> None:
    """Whatever is wrong beside it, the URL's path and query stay out of the message."""
    bad = [
        f'webhook = "{HOOK}"\nop = "!"\n',
        f'webhook = "{HOOK.replace("https", "gopher")}"\n',
        f'webhook = " {HOOK}"\n',
        f'threshold = "{HOOK}"\n',
        f'op = "{HOOK}"\n',  # pasted into the wrong key
        f'actions = ["{HOOK}"]\n',
    ]
    for extra in bad:
        body = NEW.replace('op = ">"\n', "").replace("threshold = 0\n", "")
        text = f"[[alerts]]\n{body}{extra}"
        if "op =" not in extra:
            text += 'op = ">"\n'
        if "threshold =" not in extra:
            text += "threshold = 0\n"
        with pytest.raises(ConfigError) as caught:
            parse_settings(["--config", str(write(tmp_path, text))])
        assert SECRET not in str(caught.value)
        assert "services" not in str(caught.value)


def test_parse_alerts_without_a_file_is_the_built_ins() -> None:
    assert parse_alerts(None, "") == BUILTIN_RULES


# --- the config file and --print-config ---------------------------------------------------


def test_the_default_file_documents_a_working_example(tmp_path: Path) -> None:
    """The commented [[alerts]] block of --write-config, uncommented, is a valid config."""
    text = settings_file.default_file_text()
    block = text[text.index("# [[alerts]]") :]
    uncommented = "\n".join(
        line.removeprefix("# ").removeprefix("#") for line in block.splitlines()
    )
    rules = {r.name: r for r in rules_of(tmp_path, uncommented)}
    assert rules["throttled"].enabled is False
    slow = rules["haiku-slow"]
    assert (slow.figure, slow.op, slow.threshold, slow.for_s, slow.severity) == (
        "lat_p90",
        ">",
        5000,
        300,
        "critical",
    )
    assert slow.command[0] == "notify-team"


def test_print_config_lists_the_rules_in_effect(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        '[[alerts]]\nname = "throttled"\nenabled = false\n'
        f'[[alerts]]\nname = "hook"\nfigure = "err_min"\nop = ">="\nthreshold = 3\n'
        f'filter = "claude"\nactions = ["notice", "webhook"]\nwebhook = "{HOOK}"\n'
        'repeat = "10m"\nfor = "90s"\n',
    )
    code, out, err = run(["--print-config", "--config", str(path)], capsys)
    assert (code, err) == (0, "")
    assert SECRET not in out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("alert rule"))
    rows = {line.split()[0]: re.split(r"\s{2,}", line) for line in lines[header + 1 :]}
    assert list(rows) == ["quota-high", "throttled", "error-rate", "spend-rate", "spike", "hook"]
    assert rows["quota-high"] == [
        "quota-high", "built-in", "on", "quota >= 80", "models", "warning", "every 30m", "notice",
    ]  # fmt: skip
    assert rows["throttled"][1:4] == [f"built-in, changed in {path}", "off", "thr_min > 0 for 3m"]
    assert rows["spend-rate"][3] == "usd_per_hour (total) > 50"
    assert rows["spike"][5:] == ["info", "never", "notice"]
    assert rows["hook"] == [
        "hook", str(path), "on", "err_min >= 3 for 1m30s", "models matching 'claude'",
        "warning", "every 10m", "notice, webhook (https://hooks.slack.com/…)",
    ]  # fmt: skip
    # the settings above it are still one per line, the file's alerts not among them
    assert not any(line.startswith("alerts") for line in lines[:header])


def test_print_config_stops_at_a_bad_rule_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, '[[alerts]]\nname = "oops"\nfigure = "thr"\nop = ">"\nthreshold = 1\n')
    code, out, err = run(["--print-config", "--config", str(path)], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f'bedrock-top: error: [[alerts]] "oops" in {path}: unknown figure')
    assert err.count("\n") == 1


# --- --once --format json -----------------------------------------------------------------


def test_once_json_lists_the_alerts_active_now(capsys: pytest.CaptureFixture[str]) -> None:
    """The built-ins over the demo account: quota-high for exactly the models whose fuller
    quota is at 80 % or more, spend-rate exactly when the total $/h is over 50."""
    code, out, err = run(["--once", "--demo", "--format", "json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    assert list(data)[-1] == "alerts"
    alerts = data["alerts"]
    for alert in alerts:
        assert list(alert) == [
            "rule", "severity", "view", "region", "model_id",
            "figure", "value", "peak", "threshold", "since", "message",
        ]  # fmt: skip
    quota_high = set()
    for model in data["models"]:
        quota = model["quota"] or {}
        peaks = [q["peak_pct"] for q in (quota.get("tpm"), quota.get("rpm")) if q]
        if peaks and max(peaks) >= 80:
            quota_high.add(model["model_id"])
    assert quota_high  # the demo has a model near its quota: the check means something
    assert {a["model_id"] for a in alerts if a["rule"] == "quota-high"} == quota_high
    spend = [a for a in alerts if a["rule"] == "spend-rate"]
    assert bool(spend) == (data["totals"]["usd_per_hour"] > 50)
    for alert in spend:
        assert (alert["model_id"], alert["region"]) == (None, None)
        assert alert["value"] == pytest.approx(data["totals"]["usd_per_hour"], abs=1e-5)
