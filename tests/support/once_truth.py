"""`--once --format json` checked against the truth computed from the published requests
(``bedrock_truth``): the figures every moto test of the models view compares."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bedrock_top.figures.catalog import COUNTER_KEYS
from support.bedrock_truth import SCENARIO_MODELS, Request, expected

# The counters (summed into the totals), then the means, percentiles and rates.
FIGURE_KEYS = (
    *COUNTER_KEYS,
    "latency_avg_ms",
    "latency_p50_ms",
    "latency_p90_ms",
    "latency_p99_ms",
    "ttft_avg_ms",
    "ttft_p90_ms",
    "error_rate",
    "throttle_rate",
)


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def as_shown(key: str, value: Any) -> Any:
    """A truth figure as ``--once`` writes it (README): milliseconds to 0.1 ms, rates to 1e-6."""
    if not isinstance(value, float):
        return value
    return round(value, 1 if key.endswith("_ms") else 6)


def assert_matches_truth(output: dict[str, Any], requests: list[Request]) -> None:
    """Every figure and total of the window the output names equals the truth for it."""
    start = parse_time(output["window"]["start"])
    end = parse_time(output["window"]["end"])
    truth = expected(requests, start, end, output["window"]["period_s"])
    shown = {m["model_id"]: m for m in output["models"]}
    assert set(shown) == set(truth) == set(SCENARIO_MODELS)
    for model_id, figures in truth.items():
        for key in FIGURE_KEYS:
            want = as_shown(key, figures[key])  # type: ignore[literal-required]
            assert shown[model_id][key] == want, (model_id, key)
    for key in COUNTER_KEYS:
        assert output["totals"][key] == sum(f[key] for f in truth.values())  # type: ignore[literal-required]
