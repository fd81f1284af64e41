"""The config file, environment variables and flags: precedence, provenance, errors, wiring."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bedrock_top import arguments, settings_file
from bedrock_top.arguments import parse_settings
from bedrock_top.cli import main
from bedrock_top.config import Settings
from bedrock_top.errors import ConfigError
from bedrock_top.figures.pricing import DEFAULT_API_USD_PER_1000
from bedrock_top.figures.row_figures import WindowFigures
from bedrock_top.figures.spikes import DEFAULT_MIN_CHANGE, SpikeRules
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.views.view import fit_columns
from support.config_run import isolate_config, run
from support.tui import make_app, settle

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"
APP_PROFILE = "x7k2p9q4m1z8"  # the demo's application inference profile


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    isolate_config(tmp_path, monkeypatch)


def default_file(text: str) -> Path:
    path = settings_file.default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "custom.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_line_error(code: int, out: str, err: str) -> str:
    assert code == 2
    assert out == ""
    assert err.startswith("bedrock-top: error: ")
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


# --- precedence ---------------------------------------------------------------------------

# key, file line, env value, flag argv, then the Settings attribute and its value per layer
Layer = tuple[str, str, str, list[str], str, tuple[object, object, object, object]]
LAYERS: list[Layer] = [
    ("window", 'window = "3h"', "12h", ["--window", "1d"], "window_s",
     (3600, 10_800, 43_200, 86_400)),
    ("interval", "interval = 30", "15", ["--interval", "10"], "interval_s", (60, 30, 15, 10)),
    ("format", 'format = "csv"', "json", ["--format", "table"], "format",
     ("table", "csv", "json", "table")),
    ("region", 'region = ["eu-west-1", "eu-central-1"]', "us-west-2", ["--region", "ap-south-1"],
     "regions", ((), ("eu-west-1", "eu-central-1"), ("us-west-2",), ("ap-south-1",))),
    ("reverse", "reverse = true", "false", ["--reverse"], "reverse", (False, True, False, True)),
    ("seed", "seed = 7", "8", ["--seed", "9"], "seed", (0, 7, 8, 9)),
    ("sparkline", 'sparkline = "tokens"', "latency", [], "spark_metric",
     ("invocations", "tokens", "latency", "latency")),
]  # fmt: skip


@pytest.mark.parametrize(("key", "line", "env", "flag", "attr", "expect"), LAYERS)
def test_each_layer_overrides_the_one_below(
    monkeypatch: pytest.MonkeyPatch,
    key: str,
    line: str,
    env: str,
    flag: list[str],
    attr: str,
    expect: tuple[object, object, object, object],
) -> None:
    assert getattr(parse_settings([]), attr) == expect[0]
    default_file(line + "\n")
    assert getattr(parse_settings([]), attr) == expect[1]
    monkeypatch.setenv(f"BEDROCK_TOP_{key.upper()}", env)
    assert getattr(parse_settings([]), attr) == expect[2]
    assert getattr(parse_settings(flag), attr) == expect[3]


def test_no_reverse_flag_beats_the_file() -> None:
    default_file("reverse = true\nall_models = true\n")
    settings = parse_settings(["--no-reverse", "--no-all-models"])
    assert (settings.reverse, settings.all_models) == (False, False)


def test_period_from_the_file_is_checked_against_the_window_from_a_flag() -> None:
    path = default_file("period = 300\n")
    assert parse_settings(["--window", "3h"]).period_s == 300
    with pytest.raises(ConfigError) as info:
        parse_settings(["--window", "15m", "--period", "420"])
    assert str(info.value).startswith("--period")
    with pytest.raises(ConfigError) as info:
        parse_settings(["--window", "7m"])
    assert str(info.value).startswith(f"period = 300 in {path}: 300s does not divide")


def test_an_empty_environment_variable_counts_as_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    default_file("interval = 30\n")
    monkeypatch.setenv("BEDROCK_TOP_INTERVAL", "")
    assert parse_settings([]).interval_s == 30


def test_config_flag_reads_another_file_and_skips_the_default(tmp_path: Path) -> None:
    default_file("interval = 30\n")
    path = config_file(tmp_path, "interval = 120\n")
    assert parse_settings(["--config", str(path)]).interval_s == 120


# --- errors name the key and the source ---------------------------------------------------


def test_bad_value_in_the_file_names_key_and_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = default_file("interval = 2\n")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert err == (f"bedrock-top: error: interval = 2 in {path}: 2s is out of range (5 to 600 s)\n")


def test_bad_value_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEDROCK_TOP_INTERVAL", "2")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert err == "bedrock-top: error: BEDROCK_TOP_INTERVAL=2: 2s is out of range (5 to 600 s)\n"


def test_a_flag_still_wins_over_a_bad_file_value_and_reports_as_before(
    capsys: pytest.CaptureFixture[str],
) -> None:
    default_file("interval = 2\n")
    assert parse_settings(["--interval", "30"]).interval_s == 30
    err = one_line_error(*run(["--interval", "4"], capsys))
    assert err.startswith("bedrock-top: error: --interval: 4s is out of range")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ('window = "2m"', 'window = "2m" in'),
        ('filter = "(("', 'filter = "((" in'),
        ('region = "us-east"', 'region = "us-east" in'),
        ('region = ["us-east-1", "nowhere"]', "region = "),
        ('sort = "bogus"', 'sort = "bogus" in'),
        ('format = "xml"', 'format = "xml" in'),
        ('sparkline = "cpu"', 'sparkline = "cpu" in'),
        ('columns = { show = ["model", "bogus"] }', "columns.show = "),
        ('columns = { show = ["inv_rate", "model"] }', "columns.show = "),
        ('columns = { show = ["model", "spark", "spark"] }', "columns.show = "),
        ("spikes = { k = 0 }", "spikes.k = 0 in"),
        ("spikes = { error_rate = 1.5 }", "spikes.error_rate = 1.5 in"),
        ("spikes = { min_baseline_points = 0 }", "spikes.min_baseline_points = 0 in"),
        ("spikes.min_change = { errors = -1 }", "spikes.min_change.errors = -1 in"),
        (
            "prices = { get_metric_data_usd_per_1000 = -0.01 }",
            "prices.get_metric_data_usd_per_1000",
        ),
        (f'prices.overrides."{HAIKU}" = {{ input = 1 }}', f'prices.overrides."{HAIKU}" in'),
        (f'prices.overrides."{HAIKU}" = {{ input = 1, output = -2 }}', "output"),
        (f'prices.aliases.{APP_PROFILE} = ""', f'prices.aliases.{APP_PROFILE} = "" in'),
    ],
)
def test_bad_values_in_the_file(text: str, names: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = default_file(text + "\n")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert names in err
    assert str(path) in err


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("colour = 1", "'colour'"),
        ("[spikes]\nkk = 1", "'spikes.kk'"),
        ("[spikes.min_change]\nlatency = 1", "'spikes.min_change.latency'"),
        ("[columns]\nhide = []", "'columns.hide'"),
        (f'[prices.overrides."{HAIKU}"]\ninput = 1\noutput = 2\ninptu = 3', "'inptu'"),
    ],
)
def test_unknown_keys_are_errors_naming_key_and_file(
    text: str, key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = default_file(text + "\n")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert "unknown key" in err
    assert key in err
    assert str(path) in err


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("interval = true", "interval = true in {path}: expected a number of seconds, got a bool"),
        ('reverse = "yes"', 'reverse = "yes" in {path}: expected true or false, got a string'),
        ("seed = 1.5", "seed = 1.5 in {path}: expected an integer, got a number"),
        ("profile = 3", "profile = 3 in {path}: expected a string, got an integer"),
        ('columns = { show = "model" }', 'columns.show = "model" in {path}: expected a list'),
        ("region = [1]", "region = [1] in {path}: expected a list of region names"),
        ("spikes = 3", "spikes in {path}: expected a table"),
        ('spikes = { throttles = "no" }', 'spikes.throttles = "no" in {path}: expected true or'),
        ('spikes = { k = "5" }', 'spikes.k = "5" in {path}: expected a number > 0, got a string'),
        (f'prices.overrides."{HAIKU}" = 3', f'prices.overrides."{HAIKU}" = 3 in {{path}}: exp'),
    ],
)  # fmt: skip
def test_wrong_types_name_key_and_file(
    text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = default_file(text + "\n")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert expected.format(path=path) in err


def test_an_unknown_profile_names_its_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws_config = tmp_path / "aws-config"
    aws_config.write_text("[profile dev]\nregion = us-east-1\n", encoding="utf-8")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(aws_config))
    path = default_file('profile = "prod"\n')
    err = one_line_error(*run(["--once"], capsys))
    assert err == (
        f'bedrock-top: error: profile = "prod" in {path}: unknown profile (available: dev)\n'
    )
    assert parse_settings(["--profile", "dev"]).profile == "dev"
    assert parse_settings(["--demo"]).profile == "prod"  # the demo never uses a profile


def test_a_bad_boolean_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("BEDROCK_TOP_REVERSE", "maybe")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert "BEDROCK_TOP_REVERSE=maybe: expected true or false" in err
    monkeypatch.setenv("BEDROCK_TOP_REVERSE", "yes")
    assert parse_settings([]).reverse


def test_invalid_toml_names_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = default_file("window = \n")
    err = one_line_error(*run(["--once", "--demo"], capsys))
    assert f"{path}: not valid TOML" in err


def test_a_missing_config_path_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.toml"
    err = one_line_error(*run(["--config", str(missing), "--once", "--demo"], capsys))
    assert err == f"bedrock-top: error: --config: {missing}: no such file\n"


def test_a_missing_default_file_is_fine() -> None:
    assert not settings_file.default_path().exists()
    assert parse_settings([]) == Settings()


def test_force_without_write_config(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(*run(["--force"], capsys))
    assert "--force" in err


# --- --print-config -----------------------------------------------------------------------


def test_print_config_shows_every_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = default_file('window = "3h"\ninterval = 30\n[spikes.min_change]\nerrors = 2\n')
    monkeypatch.setenv("BEDROCK_TOP_INTERVAL", "15")
    code, out, err = run(["--print-config", "--format", "json"], capsys)
    assert (code, err) == (0, "")
    lines = {line.split()[0]: line.split(maxsplit=2)[1:] for line in out.splitlines()[1:]}
    assert out.splitlines()[0] == f"config file: {path} (found)"
    assert lines["window"] == [str(path), '"3h"']
    assert lines["period"] == ["default", "auto (60)"]
    assert lines["interval"] == ["BEDROCK_TOP_INTERVAL", "15"]
    assert lines["format"] == ["--format", '"json"']
    assert lines["profile"] == ["default", "(not set)"]
    assert lines["spikes.min_change.errors"] == [str(path), "2"]
    assert lines["spikes.min_change.tokens"] == ["default", "20000.0"]


def test_print_config_stops_at_a_bad_value(capsys: pytest.CaptureFixture[str]) -> None:
    default_file("interval = 2\n")
    one_line_error(*run(["--print-config"], capsys))


# --- --write-config -----------------------------------------------------------------------


def test_write_config_round_trips_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["--write-config"], capsys)
    path = settings_file.default_path()
    assert (code, out, err) == (0, f"wrote {path}\n", "")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# bedrock-top configuration")
    assert parse_settings([]) == Settings()
    # Everything it sets comes from the file, and equals the built-in default.
    values = settings_file.load({})
    builtin = settings_file.defaults()
    from_file = {k for k, s in values.items() if s.source == str(path)}
    assert len(from_file) > 20
    assert all(values[k].value == builtin[k].value for k in from_file)


def test_write_config_refuses_to_overwrite_without_force(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = default_file("interval = 30\n")
    err = one_line_error(*run(["--write-config"], capsys))
    assert str(path) in err
    assert "--force" in err
    assert path.read_text(encoding="utf-8") == "interval = 30\n"
    assert run(["--write-config", "--force"], capsys)[0] == 0
    assert parse_settings([]).interval_s == 60


def test_write_config_at_config_path(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "sub" / "bt.toml"
    code, out, _ = run(["--write-config", "--config", str(path)], capsys)
    assert (code, out) == (0, f"wrote {path}\n")
    assert parse_settings(["--config", str(path)]) == Settings()
    assert not settings_file.default_path().exists()


# --- the values reach what uses them ------------------------------------------------------


def once_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert main(["--demo", "--once", "--format", "json", *argv]) == 0
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def model(data: dict[str, Any], model_id: str) -> dict[str, Any]:
    row: dict[str, Any] = next(m for m in data["models"] if m["model_id"] == model_id)
    return row


def test_price_override_and_alias_change_the_cost(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert model(once_json([], capsys), APP_PROFILE)["cost_usd"] is None
    path = config_file(
        tmp_path,
        f'[prices.overrides."{HAIKU}"]\ninput = 1000.0\noutput = 0.0\n'
        f'[prices.aliases]\n{APP_PROFILE} = "{HAIKU}"\n',
    )
    data = once_json(["--config", str(path)], capsys)
    for model_id in (HAIKU, APP_PROFILE):
        row = model(data, model_id)
        assert row["input_tokens"] > 0
        # Only input tokens cost anything, at USD 1000 per 1M: USD 0.001 per token.
        assert row["cost_usd"] == pytest.approx(row["input_tokens"] / 1000)


def test_spike_rules_columns_and_sparkline_reach_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = config_file(
        tmp_path,
        'sparkline = "latency"\n'
        '[columns]\nshow = ["model", "throttles", "inv_rate"]\n'
        "[spikes]\nk = 3.5\nthrottles = false\n[spikes.min_change]\nerrors = 2\n"
        f'[prices.aliases]\n{APP_PROFILE} = "{HAIKU}"\n',
    )
    built: list[BedrockTopApp] = []
    monkeypatch.setattr(BedrockTopApp, "run", lambda self, *a, **k: built.append(self))
    assert main(["--demo", "--config", str(path)]) == 0
    app = built[0]
    rules = app.spikes.rules
    assert (rules.k, rules.throttles) == (3.5, False)
    assert rules.min_change == {**DEFAULT_MIN_CHANGE, "errors": 2.0}
    assert app.view.spark_metric == "latency"
    assert app.settings.columns == ("model", "throttles", "inv_rate")
    cost_of = app.poller.cost_of
    assert cost_of is not None
    figures = WindowFigures(invocations=1, input_tokens=1000, output_tokens=500)
    priced = cost_of(APP_PROFILE, figures, {})
    assert priced is not None
    assert priced == cost_of(HAIKU, figures, {})


async def test_the_table_shows_the_configured_columns_in_order() -> None:
    rules = SpikeRules(k=2.0)
    app = make_app(columns=("model", "throttles", "spark", "inv_rate"), spike_rules=rules)
    async with app.run_test(size=(160, 30)) as pilot:
        await settle(pilot)
        assert [c.key for c in app.table.shown_columns] == [
            "model",
            "throttles",
            "spark",
            "inv_rate",
        ]
        await pilot.press("right_square_bracket")  # zooming restarts spike tracking
        assert app.spikes.rules is rules


def test_fit_columns_keeps_the_configured_order_and_drops_by_priority() -> None:
    allowed = ["model", "cache_hit", "provider", "inv_rate", "throttles"]
    assert [c.key for c in fit_columns(200, allowed, 3600)] == allowed
    narrow = [c.key for c in fit_columns(60, allowed, 3600)]
    assert narrow == ["model", "inv_rate", "throttles"]
    single = fit_columns(200, ["model", "region"], 3600, hidden={"region"})
    assert [c.key for c in single] == ["model"]
    assert [c.key for c in fit_columns(200, ["model", "region"], 3600)] == ["model", "region"]


def test_api_price_is_read_and_used_by_once(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_settings([]).api_usd_per_1000 == DEFAULT_API_USD_PER_1000
    default_file("[prices]\nget_metric_data_usd_per_1000 = 0.012\n")
    assert parse_settings([]).api_usd_per_1000 == 0.012
    assert main(["--demo", "--once", "--format", "json"]) == 0
    api = json.loads(capsys.readouterr().out)["api"]
    assert api["cost_usd"] == pytest.approx(api["metrics_requested"] * 0.012 / 1000)


def test_region_all_in_the_file_expands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(arguments, "_bedrock_regions", lambda: ["eu-west-1", "us-east-1"])
    default_file('region = "all"\n')
    assert parse_settings([]).regions == ("eu-west-1", "us-east-1")
