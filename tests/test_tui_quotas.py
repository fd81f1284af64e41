"""Quota headroom in the TUI: the Quota % column and its colours, the fullest quota in the
header, the detail view's quota charts and throttle reasons, the refresh key, and what a
denied quota API looks like (the rest keeps working)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from botocore.exceptions import ClientError
from textual.widgets import Static

from bedrock_top.demo.quotas import DemoQuotaClients
from bedrock_top.services.quota_keeper import RETRY_S as QUOTA_RETRY_S
from bedrock_top.tui.app import BedrockTopApp
from bedrock_top.tui.charts import ChartBox
from bedrock_top.tui.screens import DetailScreen
from bedrock_top.views.cells import level
from bedrock_top.views.columns import COLUMNS_BY_KEY
from bedrock_top.views.view import is_problem
from support.tui import FakeClock, make_app, poll_now, settle

SONNET = "us.anthropic.claude-sonnet-4-20250514-v1:0"


def row_of(app: BedrockTopApp, model_id: str) -> Any:
    assert app.snapshot is not None
    return next(r for r in app.snapshot.rows if r.model_id == model_id)


async def test_quota_column_shows_the_peak_with_its_level() -> None:
    app = make_app()
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        sonnet = row_of(app, SONNET)
        assert sonnet.quota is not None
        assert sonnet.quota.tpm is not None
        peak = sonnet.quota.peak_pct
        assert peak is not None
        assert 85 <= peak <= 100  # the demo's model near its quota
        text = app.table.get_cell(sonnet.key, "quota")
        assert text.plain.strip() == f"{peak:.1f}"
        column = COLUMNS_BY_KEY["quota"]
        assert level(column, column.value(sonnet)) == 2
        assert any(span.style for span in text.spans)  # coloured critical
        # The fullest quota of the account is in the header, with its kind and model.
        header = str(app.query_one("#header").render())
        assert app.snapshot is not None
        found = [w for r in app.snapshot.rows if r.quota and (w := r.quota.worst())]
        kind, pct = max(found, key=lambda w: w[1])
        assert f"quota {pct:.0f}% {kind.upper()}" in header


async def test_detail_draws_quota_lines_and_explains_throttles() -> None:
    app = make_app()
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot)
        sonnet = row_of(app, SONNET)
        app.table.cursor_row = app.table.row_keys.index(sonnet.key)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        charts = {b.data.title: b.data for b in app.screen.query(ChartBox) if b.data}
        tpm = next(c for t, c in charts.items() if t.startswith("TPM used vs quota"))
        assert tpm.threshold == sonnet.quota.tpm.limit
        assert tpm.period == 60
        assert len(tpm.values) == 60
        assert tpm.markers == tuple(i for i, v in enumerate(sonnet.quota.minutes.throttles) if v)
        assert tpm.markers  # the demo throttles this model
        words = str(app.screen.query_one("#detail-quota", Static).render())
        assert "TPM quota" in words
        assert "throttled: TPM at" in words


class DeniedQuotas(DemoQuotaClients):
    """The demo account, for an identity without servicequotas:ListServiceQuotas (until
    ``denied`` is cleared: the policy was fixed)."""

    denied = True

    def list_service_quotas(self, **kwargs: Any) -> dict[str, Any]:
        if not self.denied:
            return super().list_service_quotas(**kwargs)
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDeniedException",
                    "Message": "User: arn:aws:iam::123456789012:user/x is not authorized to "
                    "perform: servicequotas:ListServiceQuotas",
                }
            },
            "ListServiceQuotas",
        )


async def test_denied_quotas_show_question_marks_and_one_status_line() -> None:
    clock = FakeClock()
    denied = DeniedQuotas(seed=1, clock=clock)
    app = make_app(clock=clock, quota_clients=denied)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert app.snapshot is not None
        assert app.snapshot.rows
        key = row_of(app, SONNET).key
        assert app.table.get_cell(key, "quota").plain.strip() == "?"
        assert app.table.get_cell(key, "invocations").plain.strip() != "?"
        status = str(app.query_one("#status", Static).render())
        assert "servicequotas:ListServiceQuotas" in status
        assert "quota ?" in str(app.query_one("#header").render())


class CountingQuotas(DemoQuotaClients):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.reads = 0

    def list_aws_default_service_quotas(self, **kwargs: Any) -> dict[str, Any]:
        self.reads += 1
        return super().list_aws_default_service_quotas(**kwargs)


async def test_u_reads_the_quotas_again() -> None:
    clock = FakeClock()
    demo = CountingQuotas(seed=1, clock=clock)
    app = make_app(clock=clock, quota_clients=demo)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        assert demo.reads == 1  # before the app started
        await poll_now(pilot)
        assert demo.reads == 1  # not every poll
        await pilot.press("u")
        await settle(pilot)
        assert demo.reads == 2
        assert row_of(app, SONNET).quota is not None


async def test_quotas_come_back_after_access_is_granted() -> None:
    """A denied read is retried every five minutes; once it works the '?' turns into
    figures and the status line clears, without a restart."""
    clock = FakeClock()
    denied = DeniedQuotas(seed=1, clock=clock)
    app = make_app(clock=clock, quota_clients=denied)
    async with app.run_test(size=(200, 50)) as pilot:
        await settle(pilot)
        await poll_now(pilot)
        assert row_of(app, SONNET).quota_unknown
        denied.denied = False  # the policy was fixed
        clock.advance(QUOTA_RETRY_S)
        await poll_now(pilot)
        await poll_now(pilot)
        sonnet = row_of(app, SONNET)
        assert sonnet.quota is not None
        assert not sonnet.quota_unknown
        assert "servicequotas" not in str(app.query_one("#status", Static).render())


def test_a_model_near_its_quota_is_a_problem() -> None:
    """'e' (problems only) keeps a model at 90 % of a quota even without throttles."""
    app = make_app()
    assert app.poller.regions
    snapshot = app.poller.poll()
    sonnet = next(r for r in snapshot.rows if r.model_id == SONNET)
    assert sonnet.quota is not None
    calm = replace(sonnet, window=replace(sonnet.window, throttles=0, throttle_rate=0.0))
    assert is_problem(calm, 0.05)
    assert not is_problem(replace(calm, quota=None), 0.05)
