"""The live table against CloudWatch over HTTP: what is on screen equals the seeded truth."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from rich.console import Console

from bedrock_top.format import fmt_count, fmt_ms, fmt_pct
from bedrock_top.tui.screens import DetailScreen, detail_summary
from support.bedrock_truth import expected, publish, scenario
from support.tui import make_app, settle

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient as Boto3CloudWatch


async def test_screen_matches_seeded_cloudwatch(
    cloudwatch_client: Boto3CloudWatch, cloudwatch_endpoint: str
) -> None:
    requests = scenario(datetime.now(UTC), seed=11)
    publish(cloudwatch_client, requests)
    client: Any = boto3.client(
        "cloudwatch", region_name="us-east-1", endpoint_url=cloudwatch_endpoint
    )
    app = make_app(clients={"us-east-1": client}, clock=time.time)  # data is seeded at "now"
    async with app.run_test(size=(240, 40)) as pilot:
        await settle(pilot)
        snapshot = app.snapshot
        assert snapshot is not None
        start = datetime.fromtimestamp(snapshot.window_start, UTC)
        end = datetime.fromtimestamp(snapshot.window_end, UTC)
        truth = expected(requests, start, end, snapshot.period)
        assert app.table.row_count == len(truth)
        for row in snapshot.rows:
            figures = truth[row.model_id]
            shown = {
                c: app.table.cell_text(row.key, c)
                for c in (
                    "invocations",
                    "client_errors",
                    "server_errors",
                    "throttles",
                    "error_rate",
                )
            }
            assert shown["invocations"] == fmt_count(figures["invocations"])
            assert shown["client_errors"] == fmt_count(figures["client_errors"])
            assert shown["server_errors"] == fmt_count(figures["server_errors"])
            assert shown["throttles"] == fmt_count(figures["throttles"])
            assert shown["error_rate"] == fmt_pct(figures["error_rate"]).removesuffix("%")
            # The table does not pay for window percentiles; the detail screen does.
            assert row.window.latency_p90_ms is None
        # Open the detail of the busiest model: its window percentiles arrive with the next
        # poll and equal CloudWatch's for that poll's window.
        await pilot.press("home", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        detailed = app.snapshot
        assert detailed is not None
        row = next(r for r in detailed.rows if r.key == app.screen.row_key)
        start = datetime.fromtimestamp(detailed.window_start, UTC)
        end = datetime.fromtimestamp(detailed.window_end, UTC)
        figures = expected(requests, start, end, detailed.period)[row.model_id]
        for key in ("latency_avg_ms", "latency_p50_ms", "latency_p90_ms", "latency_p99_ms",
                    "ttft_avg_ms", "ttft_p90_ms"):  # fmt: skip
            assert getattr(row.window, key) == figures[key], key
        console = Console(width=200, record=True, file=io.StringIO())
        console.print(detail_summary(row))
        assert fmt_ms(figures["latency_p90_ms"]) in console.export_text()
        await pilot.press("escape")
        assert not any(r.focus for r in app.poller.regions.values())
