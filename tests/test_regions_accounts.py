"""Several regions polled at once, a failing region that keeps its last good rows, linked
accounts of a cross-account monitoring account, and the log file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from bedrock_top.cli import main
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.logs import setup_file_logging
from bedrock_top.services import aws
from bedrock_top.tui.header import HeaderBar
from support.tui import FakeClock, FlakyBackend, make_app, poll_now, settle

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"
ACCOUNTS = ("111111111111", "222222222222")


class SlowDemo(DemoCloudWatch):
    def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
        time.sleep(0.4)
        return super().get_metric_data(**kwargs)


def test_regions_are_polled_at_the_same_time() -> None:
    clock = FakeClock()
    regions = ("us-east-1", "eu-west-1", "ap-northeast-1")
    poller = Poller(
        {r: SlowDemo(seed=1, clock=clock, region=r) for r in regions}, PollSettings(), clock
    )
    started = time.perf_counter()
    snapshot = poller.poll()
    elapsed = time.perf_counter() - started
    poller.close()
    assert {r.region for r in snapshot.rows} == set(regions)
    assert elapsed < 0.4 * len(regions) * 0.8  # not one after the other


async def test_a_failing_region_keeps_its_rows_marked_stale_and_recovers() -> None:
    clock = FakeClock()
    good = DemoCloudWatch(seed=1, clock=clock, region="us-east-1")
    flaky = FlakyBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": good, "eu-west-1": flaky})
    async with app.run_test(size=(220, 40)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        before = {r.key: r.window for r in app.snapshot.rows if r.region == "eu-west-1"}
        assert before
        flaky.down = True
        clock.advance(60)
        await poll_now(pilot)
        snap = app.snapshot
        assert snap is not None
        assert "eu-west-1" in snap.region_errors
        after = {r.key: r.window for r in snap.rows if r.region == "eu-west-1"}
        assert after == before  # last good rows kept, not zeros
        status = str(app.query_one("#status").render())
        assert "eu-west-1" in status
        assert "cannot reach CloudWatch" in status
        assert "LIVE" in str(app.query_one(HeaderBar).render())  # the other region is live
        key = next(iter(before))
        assert "dim" in str(app.table.get_cell(key, "inv_rate").spans)
        flaky.down = False
        clock.advance(60)
        await poll_now(pilot)
        assert app.snapshot is not None
        assert not app.snapshot.region_errors


async def test_failures_go_to_the_log_file_with_details(tmp_path: Path) -> None:
    log = setup_file_logging(tmp_path / "bedrock-top.log")
    clock = FakeClock()
    flaky = FlakyBackend(clock)
    app = make_app(clock=clock, clients={"us-east-1": flaky})
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        flaky.down = True
        clock.advance(60)
        await poll_now(pilot)
        screen_text = str(app.query_one("#status").render())
        assert "Traceback" not in screen_text
    text = log.read_text()
    assert "poll failed: network: cannot reach CloudWatch" in text
    assert "Traceback" in text  # the details are in the file, not on screen
    assert "EndpointConnectionError" in text


# --- linked accounts (CloudWatch cross-account observability), through Stubber -------------


class Scripted:
    """A real client under Stubber: each GetMetricData is answered for the Ids the planner
    chose, with per-account values, after Stubber checks the exact request."""

    def __init__(self, client: Any, stubber: Stubber, values: Mapping[str, float]) -> None:
        self.client, self.stubber, self.values = client, stubber, values
        self.requests: list[dict[str, Any]] = []

    def list_metrics(self, **kwargs: Any) -> Any:
        return self.client.list_metrics(**kwargs)

    def get_metric_data(self, **kwargs: Any) -> Any:
        self.requests.append(kwargs)
        results = []
        for q in kwargs["MetricDataQueries"]:
            stat = q["MetricStat"]
            value = self.values[q["AccountId"]]
            if stat["Metric"]["MetricName"] != "Invocations" or stat["Stat"] != "Sum":
                value = 1.0
            results.append(
                {
                    "Id": q["Id"],
                    "Label": stat["Metric"]["MetricName"],
                    "Timestamps": [kwargs["StartTime"]],
                    "Values": [value],
                    "StatusCode": "Complete",
                }
            )
        self.stubber.add_response("get_metric_data", {"MetricDataResults": results}, kwargs)
        return self.client.get_metric_data(**kwargs)


@pytest.fixture
def stubbed() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cloudwatch",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with Stubber(client) as stubber:
        yield client, stubber


def test_all_accounts_lists_linked_accounts_and_asks_with_account_ids(
    stubbed: tuple[Any, Stubber],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, stubber = stubbed
    metrics = [
        {
            "Namespace": "AWS/Bedrock",
            "MetricName": name,
            "Dimensions": [{"Name": "ModelId", "Value": SONNET}],
        }
        for _ in ACCOUNTS
        for name in ("Invocations", "InvocationThrottles")
    ]
    owners = [a for a in ACCOUNTS for _ in range(2)]
    stubber.add_response(
        "list_metrics",
        {"Metrics": metrics, "OwningAccounts": owners},
        {"Namespace": "AWS/Bedrock", "RecentlyActive": "PT3H", "IncludeLinkedAccounts": True},
    )
    scripted = Scripted(client, stubber, {ACCOUNTS[0]: 7.0, ACCOUNTS[1]: 42.0})
    monkeypatch.setattr(aws, "make_cloudwatch_clients", lambda *a, **k: {"us-east-1": scripted})
    assert main(["--once", "--all-accounts", "--region", "us-east-1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    by_account = {m["account"]: m for m in out["models"]}
    assert set(by_account) == set(ACCOUNTS)
    assert by_account[ACCOUNTS[0]]["invocations"] == 7
    assert by_account[ACCOUNTS[1]]["invocations"] == 42
    assert out["totals"]["invocations"] == 49
    queries = [q for r in scripted.requests for q in r["MetricDataQueries"]]
    assert {q["AccountId"] for q in queries} == set(ACCOUNTS)
    stubber.assert_no_pending_responses()


async def test_account_column_appears_for_linked_accounts() -> None:
    class TwoAccounts(DemoCloudWatch):
        """The demo's models, as seen from a monitoring account with one linked account."""

        def list_metrics(self, **kwargs: Any) -> dict[str, Any]:
            page = super().list_metrics(
                **{k: v for k, v in kwargs.items() if k != "IncludeLinkedAccounts"}
            )
            page["OwningAccounts"] = [ACCOUNTS[0]] * len(page["Metrics"])
            return page

        def get_metric_data(self, **kwargs: Any) -> dict[str, Any]:
            for q in kwargs["MetricDataQueries"]:
                assert q.pop("AccountId") == ACCOUNTS[0]
            return super().get_metric_data(**kwargs)

    clock = FakeClock()
    app = make_app(clock=clock, clients={"us-east-1": TwoAccounts(seed=1, clock=clock)})
    app.poller.settings = replace(app.poller.settings, include_linked_accounts=True)
    async with app.run_test(size=(240, 40)) as pilot:
        await settle(pilot)
        assert "account" in [c.key for c in app.table.shown_columns]
        key = app.table.row_keys[0]
        assert app.table.get_cell(key, "account").plain == ACCOUNTS[0]
