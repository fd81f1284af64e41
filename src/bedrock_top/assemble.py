"""What a run is built from, given its settings: the CloudWatch clients (or the demo
backend), the poller with its prices, and the quota sources. Shared by ``--once``, the TUI and
the ``quotas`` subcommand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast

from bedrock_top.cloudwatch.discovery import CloudWatchClient
from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.config import Settings
from bedrock_top.figures.pricing import PriceTable, cost_function

if TYPE_CHECKING:
    from bedrock_top.cloudwatch.alarms import AlarmClient
    from bedrock_top.services.alarm_keeper import AlarmKeeper
    from bedrock_top.services.callers_source import CallersSource
    from bedrock_top.services.quota_keeper import QuotaKeeper

DEMO_REGION = "us-east-1"


def poll_settings(settings: Settings) -> PollSettings:
    # One-shot output reports every figure; the live monitor asks only for what it shows.
    return PollSettings(
        window_s=settings.window_s,
        period_s=settings.period_s,
        all_models=settings.all_models,
        include_linked_accounts=settings.all_accounts,
        cost_aware=not settings.once,
        # One view first (--once prints only it; the live monitor adds the heartbeat of
        # every other view once the first rows are on screen).
        views=(settings.view,),
        visible=settings.view,
        end=settings.end,  # a past window (--end); None: live
        period_note=settings.period_note,
    )


def make_clients(settings: Settings) -> dict[str, CloudWatchClient]:
    """One CloudWatch client (or demo backend) per region."""
    if settings.demo:
        from bedrock_top.demo.cloudwatch import DemoCloudWatch

        regions = settings.regions or (DEMO_REGION,)
        return {r: DemoCloudWatch(seed=settings.seed, region=r) for r in regions}
    from bedrock_top.services.aws import make_cloudwatch_clients

    return make_cloudwatch_clients(settings.profile, settings.regions, settings.endpoint_url)


def make_poller(settings: Settings) -> Poller:
    """The poller for these settings: clients, prices, and (for AWS) a way to rebuild a
    region's client when its credentials change while running."""
    reconnect = None
    if not settings.demo:
        from bedrock_top.services.aws import make_cloudwatch_client

        def reconnect(region: str) -> CloudWatchClient:
            client: CloudWatchClient = make_cloudwatch_client(
                settings.profile, region, settings.endpoint_url
            )
            return client

    poller = Poller(
        make_clients(settings),
        poll_settings(settings),
        cost_of=cost_function(price_table(settings)),
        reconnect=reconnect,
    )
    poller.profile = settings.profile
    return poller


def make_quota_keeper(
    settings: Settings,
    regions: Sequence[str],
    clients: Mapping[str, CloudWatchClient] | None = None,
) -> QuotaKeeper:
    """Quota sources for the regions polled: the demo account's, or Service Quotas and the
    Bedrock API through boto3 (endpoints the standard botocore way, never --endpoint-url,
    which is CloudWatch's), cached on disk for 12 h per account and region. The demo sizes
    its quotas from the demo backend in ``clients`` (the poller's: their caches are shared)."""
    from bedrock_top.services.quota_fetch import QuotaCache, QuotaSource, default_cache_dir
    from bedrock_top.services.quota_keeper import QuotaKeeper

    sources: dict[str, QuotaSource] = {}
    for region in regions:
        if settings.demo:
            from bedrock_top.demo.cloudwatch import DemoCloudWatch
            from bedrock_top.demo.quotas import DemoQuotaClients

            backend = (clients or {}).get(region)
            demo = DemoQuotaClients(
                seed=settings.seed,
                region=region,
                cloudwatch=backend if isinstance(backend, DemoCloudWatch) else None,
            )

            def demo_clients(demo: DemoQuotaClients = demo) -> tuple[Any, Any, Any]:
                return demo, demo, demo

            sources[region] = QuotaSource(region, demo_clients, None)
        else:
            from bedrock_top.services.aws import make_quota_clients

            def aws_clients(region: str = region) -> tuple[Any, Any, Any]:
                return make_quota_clients(settings.profile, region)

            cache = QuotaCache(default_cache_dir())
            sources[region] = QuotaSource(region, aws_clients, cache, profile=settings.profile)
    return QuotaKeeper(sources, settings.quota_overrides, settings.burndown_overrides)


def price_table(settings: Settings) -> PriceTable:
    """Prices with the configured overrides and application-profile aliases on top."""
    return PriceTable.load(overrides=settings.price_overrides, aliases=settings.price_aliases)


def make_callers_source(
    settings: Settings,
    region: str,
    clock: Callable[[], float] = time.time,
    prices: PriceTable | None = None,
) -> CallersSource:
    """The callers view's source for ``region``: the demo account's invocation logs, or the
    region's through boto3. Nothing is read until the view opens."""
    from bedrock_top.figures.callers import parse_group_by
    from bedrock_top.figures.pricing import token_prices
    from bedrock_top.services.callers_source import CallersSource

    if settings.demo:
        from bedrock_top.demo.invocation_logs import ACCOUNT_ID, DemoBedrockLogging, DemoLogs

        logs = DemoLogs(seed=settings.seed, clock=clock, region=region)
        sts = SimpleNamespace(get_caller_identity=lambda: {"Account": ACCOUNT_ID})

        def clients() -> tuple[Any, Any, Any]:
            return DemoBedrockLogging(region), logs, sts

    else:
        from bedrock_top.services.aws import make_log_clients

        def clients() -> tuple[Any, Any, Any]:
            return make_log_clients(settings.profile, region)

    return CallersSource(
        region,
        clients,
        settings.window_s,
        settings.period_s,
        parse_group_by(settings.group_by),
        token_prices(prices or price_table(settings)),
        clock=clock,
    )


def make_alarm_keeper(poller: Poller) -> AlarmKeeper:
    """The CloudWatch alarms of the regions polled, read through the poller's own clients
    (the demo backend has a few); a region whose credentials were renewed is read with a
    new client, as the poller does."""
    from bedrock_top.services.alarm_keeper import AlarmKeeper

    clients = cast("dict[str, AlarmClient]", poller.clients())
    reconnect = cast("Callable[[str], AlarmClient] | None", poller.reconnect)
    return AlarmKeeper(clients, reconnect=reconnect)
