"""bedrock-top's CloudWatch clients skip botocore's client-side parameter validation
(``aws.CLIENT_CONFIG``), so the tests must validate every request bedrock-top builds.

They do: the demo backend, which the Poller tests run against, calls botocore's own
``validate_parameters`` on each ListMetrics and GetMetricData request against the real service
model's input shapes (``DemoCloudWatch.parameter_validation``, on by default). This checks that
this path is on and is taken by every request of a sizeable workload: a first poll, a steady
one, and one with the detail focus set (the "full" tier, with whole-window percentiles).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ParamValidationError
from botocore.model import Shape
from botocore.validate import validate_parameters

from bedrock_top.cloudwatch.settings import PollSettings
from bedrock_top.cloudwatch.source import Poller
from bedrock_top.demo import cloudwatch as demo
from bedrock_top.demo.cloudwatch import DemoCloudWatch
from bedrock_top.services import aws
from support.demo_models import synthetic_profiles
from support.tui import FakeClock

ENDPOINT = "http://127.0.0.1:1"  # never contacted


class _Raw:
    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield b"{}"


def test_cloudwatch_clients_skip_botocore_parameter_validation() -> None:
    assert aws.CLOUDWATCH_CONFIG.parameter_validation is False  # type: ignore[attr-defined]
    clients = [
        aws.make_cloudwatch_client(None, "us-east-1", ENDPOINT),
        *aws.make_cloudwatch_clients(None, ("us-east-1", "eu-west-1"), ENDPOINT).values(),
    ]
    for cw in clients:  # (``meta.config`` does not show it: botocore keeps it elsewhere)
        sent: list[Any] = []

        def send(request: Any, sent: list[Any] = sent, **kwargs: Any) -> AWSResponse:
            sent.append(request)
            headers: Any = {"content-type": "application/x-amz-json-1.0"}
            return AWSResponse(request.url, 200, headers, _Raw())

        cw.meta.events.register("before-send.cloudwatch", send)
        # No EndTime, a string for MaxDatapoints: botocore would refuse to send it.
        cw.get_metric_data(MetricDataQueries=[], StartTime=0, MaxDatapoints="x")
        assert len(sent) == 1


def test_every_other_client_keeps_botocore_parameter_validation() -> None:
    """Service Quotas, Bedrock and STS: a handful of calls an hour, checked by botocore."""
    quotas, bedrock, sts = aws.make_quota_clients(None, "us-east-1")
    sent: list[Any] = []
    for client in (quotas, bedrock, sts):
        service = client.meta.service_model.service_name
        client.meta.events.register(f"before-send.{service}", lambda **kw: sent.append(kw))
    bad_calls: tuple[Callable[[], Any], ...] = (
        lambda: quotas.list_service_quotas(ServiceCode=3),
        lambda: bedrock.list_inference_profiles(maxResults="x"),
        lambda: sts.get_caller_identity(Unexpected=1),
    )
    for call in bad_calls:
        with pytest.raises(ParamValidationError):
            call()
    assert sent == []


def test_every_request_a_poller_builds_passes_botocore_validation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    validated: list[tuple[str, dict[str, Any]]] = []

    def recording(params: dict[str, Any], shape: Shape) -> None:
        validate_parameters(params, shape)  # raises ParamValidationError on a bad request
        validated.append((shape.name, params))

    monkeypatch.setattr(demo, "validate_parameters", recording)
    clock = FakeClock()
    backend = DemoCloudWatch(seed=1, clock=clock, profiles=synthetic_profiles(1, 300))
    assert backend.parameter_validation  # on by default: every call goes through botocore's
    poller = Poller({"us-east-1": backend}, PollSettings(), clock=clock)
    poller.poll()  # first: discovery and the whole window
    clock.advance(60)
    rows = poller.poll().rows  # steady
    busy = [row.key for row in rows if row.window.invocations]
    assert len(busy) >= 50
    poller.set_focus(busy[:50])  # the detail screen's "full" tier, for 50 models
    clock.advance(60)
    poller.poll()

    assert len(validated) == sum(backend.calls.values())  # each call, and each passed
    inputs = {name for name, _ in validated}
    assert inputs == {"ListMetricsInput", "GetMetricDataInput"}
    service = demo._service_model()
    for operation in ("ListMetrics", "GetMetricData"):
        assert demo._input_shape(operation) is service.operation_model(operation).input_shape
    queries = [p["MetricDataQueries"] for name, p in validated if name == "GetMetricDataInput"]
    assert max(map(len, queries)) == 500  # full calls
    window = [
        q
        for call in queries
        for q in call
        if q["MetricStat"]["Stat"].startswith("p") and q["MetricStat"]["Period"] == 3600
    ]
    assert len({q["MetricStat"]["Metric"]["Dimensions"][0]["Value"] for q in window}) >= 50
