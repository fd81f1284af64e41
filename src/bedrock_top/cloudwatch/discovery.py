"""Which Bedrock models CloudWatch lists, and the metric names each publishes (ListMetrics,
followed page by page). Works against a boto3 client or the demo backend alike.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from bedrock_top.cloudwatch.settings import PollSettings, UsageCounter
from bedrock_top.figures.catalog import MODEL_DIMENSION, NAMESPACE, choose_metric_names

ModelKey = tuple[str | None, str]  # (account, model id) within one region


class CloudWatchClient(Protocol):
    """The two read-only CloudWatch operations bedrock-top uses."""

    def list_metrics(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def get_metric_data(self, **kwargs: Any) -> Mapping[str, Any]: ...


def pages(call: Callable[..., Mapping[str, Any]], **kwargs: Any) -> Iterator[Mapping[str, Any]]:
    """Follow NextToken until the last page."""
    token: str | None = None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        yield page
        token = page.get("NextToken")
        if not token:
            return


def discover(
    client: CloudWatchClient, settings: PollSettings, usage: UsageCounter
) -> dict[ModelKey, dict[str, str]]:
    """List Bedrock models and the metric names each publishes with only a ModelId dimension."""
    kwargs: dict[str, Any] = {"Namespace": NAMESPACE}
    if settings.recently_active_only:
        kwargs["RecentlyActive"] = "PT3H"
    if settings.include_linked_accounts:
        kwargs["IncludeLinkedAccounts"] = True
    listed: dict[ModelKey, set[str]] = {}
    for page in pages(client.list_metrics, **kwargs):
        usage.list_metrics_calls += 1
        owners = page.get("OwningAccounts") or []
        for i, metric in enumerate(page.get("Metrics", [])):
            if metric.get("Namespace", NAMESPACE) != NAMESPACE:
                continue
            dims = metric.get("Dimensions") or []
            if len(dims) != 1 or dims[0].get("Name") != MODEL_DIMENSION:
                continue
            account = owners[i] if settings.include_linked_accounts and i < len(owners) else None
            key = (account, dims[0]["Value"])
            listed.setdefault(key, set()).add(metric["MetricName"])
    chosen = {key: choose_metric_names(names) for key, names in listed.items()}
    return {key: names for key, names in chosen.items() if names}
