"""The views' engine: discovery (which dimension set makes a row, spellings, unknown names)
and what a poll asks for (the view on screen in full, the others one heartbeat metric per
row, the models a heartbeat while hidden), counted on the requests the demo backend gets."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.cloudwatch.surface_poll import discover_view
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.figures.surfaces import AGENTS, MODELS_VIEW, SURFACES, VIEW_NAMES
from support.tui import FakeClock


class Listing:
    """A ListMetrics that returns fixed metrics (one page)."""

    def __init__(self, namespace: str, metrics: list[tuple[str, dict[str, str]]]) -> None:
        self.namespace = namespace
        self.metrics = metrics

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        assert kwargs["Namespace"] == self.namespace
        return {
            "Metrics": [
                {
                    "Namespace": self.namespace,
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in dims.items()],
                }
                for name, dims in self.metrics
            ]
        }

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        raise AssertionError("not called")


ALIAS = "arn:aws:bedrock:us-east-1:1:agent-alias/A/B"
HAIKU = "anthropic.claude-3-haiku-20240307-v1:0"


def test_finest_rows_and_coarser_ones_only_where_uncovered() -> None:
    invoke = {"Operation": "InvokeAgent"}
    inline = {"Operation": "InvokeInlineAgent"}
    full = {**invoke, "AgentAliasArn": ALIAS, "ModelId": HAIKU}
    client = Listing(
        AGENTS.namespace,
        [
            ("InvocationCount", full),
            ("outputTokenCount", full),  # the lowercase spelling AWS's page prints
            ("InvocationCount", invoke),  # covered by the alias row: not a row
            ("InvocationCount", inline),  # no finer row: a row of its own
            ("OutputTokenCount", inline),
            ("outputTokenCount", inline),  # both spellings: the first listed wins, once
            ("ModelLatency", {**invoke, "ModelId": HAIKU}),  # a set that makes no row
            ("SomethingNew", invoke),
        ],
    )
    found = discover_view(client, AGENTS, PollSettings(), UsageCounter())
    rows = {s.dims: s.stored.metric_names for s in found.rows.values()}
    assert rows == {
        tuple(full.items()): {
            "invocations": "InvocationCount",
            "output_tokens": "outputTokenCount",
        },
        tuple(inline.items()): {
            "invocations": "InvocationCount",
            "output_tokens": "OutputTokenCount",
        },
    }
    assert found.unknown == ("SomethingNew",)


class Counting:
    """The demo backend, counting the queries of each namespace."""

    def __init__(self, inner: DemoCloudWatch) -> None:
        self.inner = inner
        self.queries: Counter[str] = Counter()
        self.calls = 0

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]:
        return self.inner.list_metrics(**kwargs)

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]:
        self.calls += 1
        for query in kwargs["MetricDataQueries"]:
            self.queries[query["MetricStat"]["Metric"]["Namespace"]] += 1
        return self.inner.get_metric_data(**kwargs)


def _steady(visible: str) -> tuple[Counting, Poller]:
    clock = FakeClock()
    backend = Counting(DemoCloudWatch(seed=1, clock=clock))
    poller = Poller({"us-east-1": backend}, PollSettings(views=VIEW_NAMES, visible=visible), clock)
    poller.poll()
    clock.advance(60)
    backend.queries.clear()
    backend.calls = 0
    poller.poll()
    return backend, poller


def test_hidden_views_cost_one_metric_per_row() -> None:
    backend, poller = _steady(MODELS_VIEW)
    snapshot = poller.snapshot()
    for spec in SURFACES:
        rows = len(snapshot.surfaces[spec.name].rows)
        assert rows > 0
        assert backend.queries[spec.namespace] == rows, spec.name
    assert backend.calls == math.ceil(sum(backend.queries.values()) / 500)


def test_the_view_on_screen_in_full_and_the_models_as_a_heartbeat() -> None:
    backend, poller = _steady("mantle")
    snapshot = poller.snapshot()
    region = poller.regions["us-east-1"]
    mantle = snapshot.surfaces["mantle"]
    # Every measure of every row (Sum each: all counters), plus the roll-up series.
    listing = region.surfaces.listings["mantle"]
    wanted = sum(len(s.stored.metric_names) for s in listing.rows.values()) + len(listing.rollups)
    assert backend.queries["AWS/BedrockMantle"] == wanted
    assert all(r.full for r in mantle.rows)
    # Models: Invocations and InvocationThrottles only (Sum), whatever they publish.
    heartbeat = sum(
        1
        for stored in region.models.values()
        for key in ("invocations", "throttles")
        if key in stored.metric_names
    )
    assert backend.queries["AWS/Bedrock"] == heartbeat
    assert snapshot.visible == "mantle"


def test_a_switch_during_a_poll_applies_from_the_next_one() -> None:
    """The app switches views from its thread while a poll runs in a worker: that poll's
    snapshot stays the one it planned (never a view marked full with heartbeat data)."""
    clock = FakeClock()
    backend = Counting(DemoCloudWatch(seed=1, clock=clock))
    poller = Poller({"us-east-1": backend}, PollSettings(views=VIEW_NAMES), clock)

    def switching(**kwargs: Any) -> Mapping[str, Any]:
        poller.set_view("mantle")
        return backend.inner.get_metric_data(**kwargs)

    backend.get_metric_data = switching  # type: ignore[method-assign]
    snapshot = poller.poll()
    assert snapshot.visible == MODELS_VIEW
    assert not any(r.full for r in snapshot.surfaces["mantle"].rows)
    snapshot = poller.poll()
    assert snapshot.visible == "mantle"
    mantle = snapshot.surfaces["mantle"].rows
    assert mantle
    assert all(r.full and r.values["input_tokens"] is not None for r in mantle)
