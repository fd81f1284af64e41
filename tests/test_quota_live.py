"""The live monitor's quota figures stay exact poll after poll, and cost little.

The cost-aware poller reads quota minutes with the table's own queries at a 1-minute period
(only reaching a few minutes further back on a model's first read), and 24-hour totals every
few minutes. Over many polls of the demo account, every figure is compared with what the
demo backend says for the same minutes when asked directly.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.demo.quotas import DemoQuotaClients
from bedrock_top.figures.quota_usage import minute_starts
from bedrock_top.services.quota_fetch import QuotaSource
from bedrock_top.services.quota_keeper import QuotaKeeper
from support.tui import FakeClock

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"  # publishes the estimate, burndown 5
LLAMA = "us.meta.llama3-3-70b-instruct-v1:0"  # no estimate: computed, burndown 1


def direct_minutes(backend: DemoCloudWatch, model_id: str, metric: str, start: int) -> list[float]:
    """60 one-minute sums from ``start``, asked of the backend directly."""
    answer = backend.get_metric_data(
        MetricDataQueries=[
            {
                "Id": "q0",
                "MetricStat": {
                    "Metric": {
                        "Namespace": "AWS/Bedrock",
                        "MetricName": metric,
                        "Dimensions": [{"Name": "ModelId", "Value": model_id}],
                    },
                    "Period": 60,
                    "Stat": "Sum",
                },
            }
        ],
        StartTime=datetime.fromtimestamp(start, UTC),
        EndTime=datetime.fromtimestamp(start + 3600, UTC),
    )
    (result,) = answer["MetricDataResults"]
    found = {
        int(t.timestamp()): v for t, v in zip(result["Timestamps"], result["Values"], strict=True)
    }
    return [found.get(start + 60 * i, 0.0) for i in range(60)]


def make(window_s: int, period_s: int) -> tuple[Poller, DemoCloudWatch, FakeClock]:
    clock = FakeClock()
    backend = DemoCloudWatch(seed=3, clock=clock)
    poller = Poller({"us-east-1": backend}, PollSettings(window_s, period_s), clock=clock)
    demo = DemoQuotaClients(seed=3, clock=clock)
    keeper = QuotaKeeper(
        {"us-east-1": QuotaSource("us-east-1", lambda: (demo, demo, demo), None, clock)},
        clock=clock,
    )
    keeper.update(poller)
    return poller, backend, clock


@pytest.mark.parametrize(("window_s", "period_s"), [(3600, 60), (900, 60), (6 * 3600, 120)])
def test_live_quota_minutes_equal_the_backend(window_s: int, period_s: int) -> None:
    poller, backend, clock = make(window_s, period_s)
    for step in range(8):
        snapshot = poller.poll()
        rows = {r.model_id: r for r in snapshot.rows}
        start = minute_starts(snapshot.complete_until)[0]
        for model_id, burndown in ((SONNET, 5), (LLAMA, 1)):
            quota = rows[model_id].quota
            assert quota is not None, (step, model_id)
            assert quota.minutes.starts[0] == start
            if model_id == SONNET:
                want = direct_minutes(backend, model_id, "EstimatedTPMQuotaUsage", start)
            else:
                inputs = direct_minutes(backend, model_id, "InputTokenCount", start)
                outputs = direct_minutes(backend, model_id, "OutputTokenCount", start)
                want = [i + burndown * o for i, o in zip(inputs, outputs, strict=True)]
            assert list(quota.minutes.tpm_used) == want, (step, model_id)
            requests = direct_minutes(backend, model_id, "Invocations", start)
            assert list(quota.minutes.requests) == requests
            throttles = direct_minutes(backend, model_id, "InvocationThrottles", start)
            assert list(quota.minutes.throttles) == throttles
            assert quota.tpm is not None
            assert quota.tpm.peak == max(want)
            assert quota.tpm.last == want[-1]
        clock.advance(60 if step % 3 else 37)  # polls land anywhere in a minute


def test_quota_figures_cost_almost_nothing_at_a_one_minute_period() -> None:
    """After the first poll, quota models cost one metric more each (the estimate) and the
    daily totals come every five minutes, not every poll."""
    with_quotas, _, clock = make(3600, 60)
    clock_free = FakeClock()
    plain = Poller(
        {"us-east-1": DemoCloudWatch(seed=3, clock=clock_free)},
        PollSettings(3600, 60),
        clock=clock_free,
    )
    extra: list[int] = []
    for _ in range(10):
        with_quotas.poll()
        plain.poll()
        extra.append(with_quotas.usage().last_poll_metrics - plain.usage().last_poll_metrics)
        clock.advance(60)
        clock_free.advance(60)
    quota_models = len(with_quotas.regions["us-east-1"].quotas.minutes_now)
    estimates = sum(
        1
        for key in with_quotas.regions["us-east-1"].quotas.minutes_now
        if "tpm_quota" in with_quotas.regions["us-east-1"].models[key].metric_names
    )
    assert quota_models >= 5
    steady = extra[1:]
    # Polls without daily totals: just the estimate per quota model that publishes one.
    assert min(steady) == estimates
    # Daily totals (one or three series per model with a daily quota) once every 5 polls.
    assert sum(1 for e in steady if e > estimates) <= 2
