"""``wire``: CloudWatch answers decoded in C give what botocore gives, timestamps as numbers.

Differential: the same JSON response bytes (awsJson1_0, what botocore 1.44 speaks to
CloudWatch) go through a real botocore client with and without the hook (a ``before-send``
handler answers instead of the network), or botocore's parser directly for generated answers
(hypothesis). GetMetricData answers as CloudWatch sends them take the fast path (``as_sent``:
json's result handed over as it is), unusual ones ``shaper``; both must match botocore. Then
over HTTP against moto, with a client from ``aws.make_cloudwatch_client``.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import boto3
import botocore.model
import botocore.session
import botocore.utils
import pytest
from botocore.awsrequest import AWSResponse
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.parsers import create_parser
from botocore.serialize import JSONSerializer
from hypothesis import given, settings
from hypothesis import strategies as st

from bedrock_top.cloudwatch import wire
from bedrock_top.services import aws

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

T0 = 1_790_000_040  # a whole minute
ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})
HEADERS = {"content-type": "application/x-amz-json-1.0", "x-amzn-requestid": "r-1"}


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **kwargs: Any) -> Iterator[bytes]:
        yield self.body


def _prefer(monkeypatch: pytest.MonkeyPatch, protocol: str) -> None:
    """Make botocore pick ``protocol`` for clients created from now on."""
    order = botocore.utils.PRIORITY_ORDERED_SUPPORTED_PROTOCOLS
    preferred = (protocol, *(p for p in order if p != protocol))
    monkeypatch.setattr(botocore.model, "PRIORITY_ORDERED_SUPPORTED_PROTOCOLS", preferred)


def client(hook: bool, config: Config | None = None) -> Any:
    made = boto3.session.Session().client(
        "cloudwatch", region_name="us-east-1", endpoint_url="http://127.0.0.1:1", config=config
    )
    return aws.fast_responses(made) if hook else made


def answer(cw: Any, status: int, body: bytes, headers: Mapping[str, str] = HEADERS) -> None:
    """Every request of ``cw`` gets this HTTP answer; nothing leaves the process."""

    def send(request: Any, **kwargs: Any) -> AWSResponse:
        return AWSResponse(request.url, status, cast(Any, dict(headers)), _Raw(body))

    cw.meta.events.register("before-send.cloudwatch", send)


def encode(doc: Any) -> bytes:
    return json.dumps(doc).encode()


def plain(value: Any) -> Any:
    """Datetimes as epoch seconds, every number as a float: the hook's only difference."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return value


def call(cw: Any, operation: str) -> Any:
    if operation == "GetMetricData":
        queries = [{"Id": "q", "Expression": "1"}]
        return cw.get_metric_data(MetricDataQueries=queries, StartTime=T0 - 300, EndTime=T0)
    return cw.list_metrics()


def both(operation: str, body: bytes) -> tuple[Any, Any]:
    """The parsed answer to ``body`` without and with the hook."""
    results = []
    for hook in (False, True):
        cw = client(hook)
        assert cw.meta.service_model.resolved_protocol == wire.PROTOCOL
        answer(cw, 200, body)
        results.append(call(cw, operation))
    return results[0], results[1]


def result(qid: str, points: int, **extra: Any) -> dict[str, Any]:
    stamps = [T0 - 60 * i for i in range(points)]
    return {"Id": qid, "Timestamps": stamps, "Values": [i + 0.25 for i in range(points)]} | extra


MESSAGE = {"Code": "MaxQueryTimeRangeExceed", "Value": "too long"}
# case -> (answer, whether ``as_sent`` takes it as it is)
GET_METRIC_DATA: dict[str, tuple[dict[str, Any], bool]] = {
    "complete page": (
        {
            "MetricDataResults": [
                result("a", 5, Label="Invocations", StatusCode="Complete"),
                result("b", 3, StatusCode="Complete"),  # no Label
            ],
            "NextToken": "page-2",
            "Messages": [MESSAGE, {"Code": "Other"}],
        },
        True,
    ),
    "statuses and empty results": (
        {
            "MetricDataResults": [
                result("p", 2, StatusCode="PartialData", Messages=[MESSAGE]),
                result("i", 0, StatusCode="InternalError", Messages=[{"Value": "oops"}]),
                result("f", 0, StatusCode="Forbidden", Label="x"),
                {"Id": "e", "Timestamps": [], "Values": [], "StatusCode": "Complete"},
                {"Id": "m"},  # no lists at all
            ],
            "Messages": [],
        },
        True,
    ),
    "integer and fractional timestamps and values": (
        {
            "MetricDataResults": [
                {
                    "Id": "n",
                    "Timestamps": [T0, T0 - 60.5, 0, T0 + 0.25],
                    "Values": [1.0, 65504.0, 3.4028234663852886e38, 0.1, 7, -3, 0.0],
                    "StatusCode": "Complete",
                }
            ]
        },
        True,
    ),
    "values botocore passes on as they are": (
        {
            "MetricDataResults": [
                {"Id": "v", "Timestamps": [T0, T0 + 60], "Values": [1.5, None, "2.5", True]},
                {"Id": 7, "Label": ["odd"], "StatusCode": {"k": 1}},
            ],
            "NextToken": 12,
        },
        True,
    ),
    "nulls, and members the model does not have": (
        {
            "MetricDataResults": [
                result("u", 2, Label=None, StatusCode="Complete", Extra={"k": 1}),
                {"Id": "v", "Timestamps": None, "Values": [1.5, None, 2.5], "Messages": [None]},
                None,
            ],
            "NextToken": None,
            "Unmodelled": [1, 2],
        },
        False,
    ),
    "a null in a result": ({"MetricDataResults": [result("u", 2, Label=None)]}, False),
    "a member the model does not have": (
        {"MetricDataResults": [result("u", 2, Extra=1)]},
        False,
    ),
    "a null at the top": ({"MetricDataResults": [result("u", 2)], "NextToken": None}, False),
    "a null in a message": (
        {"MetricDataResults": [result("u", 1, Messages=[{"Code": None, "Value": "x"}])]},
        False,
    ),
    "a message that is not an object": ({"Messages": [MESSAGE, None]}, False),
    "a message member the model does not have": (
        {"Messages": [MESSAGE | {"Detail": "x"}]},
        False,
    ),
    "a result that is not an object": ({"MetricDataResults": [result("u", 1), None]}, False),
    "a null timestamp": ({"MetricDataResults": [{"Id": "t", "Timestamps": [T0, None]}]}, False),
    "lists that are not lists": (
        {"MetricDataResults": [{"Id": "s", "Timestamps": {}, "Values": "", "Messages": ""}]},
        False,
    ),
    "empty": ({}, True),
}


def has_datetimes(value: Any) -> bool:
    if isinstance(value, dict):
        return any(has_datetimes(v) for v in value.values())
    if isinstance(value, list):
        return any(has_datetimes(v) for v in value)
    return isinstance(value, datetime)


def test_get_metric_data_fast_path_applies_to_this_botocore() -> None:
    """The output shape is the one ``as_sent`` was written for (else only ``shaper`` runs)."""
    shape = client(False).meta.service_model.operation_model("GetMetricData").output_shape
    assert wire.layout(shape) == wire.GET_METRIC_DATA


@pytest.mark.parametrize("case", list(GET_METRIC_DATA))
def test_get_metric_data_is_parsed_as_botocore_does(case: str) -> None:
    doc, fast = GET_METRIC_DATA[case]
    assert wire.as_sent(json.loads(encode(doc))) is fast
    without, with_hook = both("GetMetricData", encode(doc))
    assert plain(with_hook) == plain(without)
    assert not has_datetimes(with_hook)  # the hook ran: botocore would give datetimes


SERVICE = botocore.session.get_session().get_service_model("cloudwatch")
SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**40), 2**40), st.floats(-1e12, 1e12), st.text()
)
NUMERIC_STAMP = st.one_of(  # fractions in ms: botocore's datetimes keep only microseconds
    st.integers(0, 2**31), st.integers(0, 2**31 * 1000).map(lambda ms: ms / 1000)
)
STAMP = st.one_of(
    st.none(),
    NUMERIC_STAMP,
    st.sampled_from(["2026-09-21T14:09:00Z", "2026-09-21T14:09:00.5+00:00", "x"]),
)


def sometimes_not_a_list(items: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(items, max_size=4), st.none(), st.text(max_size=2), st.just({}))


MESSAGE_DOC = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"Code": SCALAR, "Value": SCALAR, "Other": SCALAR}),
)
RESULT_DOC = st.one_of(
    st.none(),
    st.fixed_dictionaries(
        {},
        optional={
            "Id": SCALAR,
            "Label": SCALAR,
            "Timestamps": sometimes_not_a_list(STAMP),
            "Values": sometimes_not_a_list(SCALAR),
            "StatusCode": SCALAR,
            "Messages": sometimes_not_a_list(MESSAGE_DOC),
            "Other": SCALAR,
        },
    ),
)
ANSWER_DOC = st.fixed_dictionaries(
    {},
    optional={
        "MetricDataResults": sometimes_not_a_list(RESULT_DOC),
        "NextToken": SCALAR,
        "Messages": sometimes_not_a_list(MESSAGE_DOC),
        "Other": SCALAR,
    },
)

# As CloudWatch sends them: the fast path.
NUMBER = st.one_of(st.integers(-(2**40), 2**40), st.floats(-1e12, 1e12))
CLEAN_MESSAGE = st.fixed_dictionaries({}, optional={"Code": st.text(), "Value": st.text()})
CLEAN_RESULT = st.fixed_dictionaries(
    {"Id": st.text(), "Timestamps": st.lists(NUMERIC_STAMP)},
    optional={
        "Label": st.text(),
        "Values": st.lists(NUMBER),
        "StatusCode": st.text(),
        "Messages": st.lists(CLEAN_MESSAGE, max_size=2),
    },
)
CLEAN_DOC = st.fixed_dictionaries(
    {"MetricDataResults": st.lists(CLEAN_RESULT, max_size=5)},
    optional={"NextToken": st.text(), "Messages": st.lists(CLEAN_MESSAGE, max_size=2)},
)


def parse(operation: str, body: bytes, hook: bool) -> Any:
    """botocore's JSON parser on ``body``, after ``wire``'s handler if ``hook``, as the client
    runs them: the parsed answer (timestamps as numbers), or the error raised."""
    model = SERVICE.operation_model(operation)
    assert model.output_shape is not None
    response = {"status_code": 200, "headers": HEADERS, "body": body}
    custom: dict[str, Any] = {}
    try:
        if hook:
            handler = wire.decoder(model)
            assert handler is not None
            handler(response_dict=response, customized_response_dict=custom)
        parsed = create_parser(wire.PROTOCOL).parse(response, model.output_shape)
    except Exception as exc:
        return (type(exc), str(exc))
    parsed.update(custom)
    return plain(parsed)


@settings(max_examples=300, deadline=None)
@given(st.one_of(CLEAN_DOC, ANSWER_DOC))
def test_any_get_metric_data_answer_is_parsed_as_botocore_does(doc: dict[str, Any]) -> None:
    """Answers as CloudWatch sends them (the fast path) and answers with nulls, unknown
    members, strings, lists that are not lists anywhere (mostly ``shaper``): the hook gives
    what botocore gives (or leaves botocore to fail as it does)."""
    body = encode(doc)
    assert parse("GetMetricData", body, hook=True) == parse("GetMetricData", body, hook=False)


def test_botocore_serializer_bodies_are_parsed_as_botocore_does() -> None:
    """A body written by botocore's own JSON serializer, as in the benchmarks: fast path."""
    doc = {
        "MetricDataResults": [
            {
                "Id": f"q{i}",
                "Label": "InvocationLatency",
                "Timestamps": [datetime.fromtimestamp(T0 - 60 * j, UTC) for j in range(5)],
                "Values": [i * 1.5 + j for j in range(5)],
                "StatusCode": "Complete",
            }
            for i in range(50)
        ],
        "Messages": [MESSAGE],
    }
    shape = client(False).meta.service_model.operation_model("GetMetricData").output_shape
    serialized: dict[str, Any] = {}
    JSONSerializer()._serialize(serialized, doc, shape)  # type: ignore[attr-defined]
    body = encode(serialized)
    assert wire.as_sent(json.loads(body))
    without, with_hook = both("GetMetricData", body)
    assert plain(with_hook) == plain(without)
    first = with_hook["MetricDataResults"][0]
    assert first["Timestamps"][0] == T0
    assert isinstance(first["Timestamps"][0], int)


def test_the_fast_path_hands_json_results_over_as_they_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No copy: the decoder's output holds the very lists ``json`` built."""
    operation = client(False).meta.service_model.operation_model("GetMetricData")
    handler = wire.decoder(operation)
    assert handler is not None
    seen: list[Any] = []
    loads = wire._loads

    def keep(body: bytes) -> Any:
        seen.append(loads(body))
        return seen[-1]

    monkeypatch.setattr(wire, "_loads", keep)
    custom: dict[str, Any] = {}
    body = encode(GET_METRIC_DATA["complete page"][0])
    handler({"status_code": 200, "headers": HEADERS, "body": body}, custom)
    (decoded,) = seen
    assert custom["MetricDataResults"] is decoded["MetricDataResults"]


def test_list_metrics_is_parsed_as_botocore_does() -> None:
    listing = {
        "Metrics": [
            {
                "Namespace": "AWS/Bedrock",
                "MetricName": "Invocations",
                "Dimensions": [{"Name": "ModelId", "Value": "amazon.nova-lite-v1:0"}],
            },
            {"Namespace": "AWS/Bedrock", "MetricName": "InvocationLatency", "Dimensions": []},
            {"Namespace": "AWS/Bedrock", "MetricName": "OutputTokenCount", "Extra": 1},
            {"Namespace": None, "MetricName": "Nulls", "Dimensions": [None]},
        ],
        "OwningAccounts": ["123456789012", "123456789012", "210987654321", None],
        "NextToken": "more",
    }
    without, with_hook = both("ListMetrics", encode(listing))
    assert with_hook == without


def test_botocore_parses_only_an_empty_body() -> None:
    cw = client(True)
    answer(cw, 200, encode(GET_METRIC_DATA["complete page"][0]))
    seen: list[bytes] = []
    cw.meta.events.register(  # runs after the hook: sees what botocore's parser will get
        "before-parse.cloudwatch.GetMetricData",
        lambda response_dict, **kwargs: seen.append(response_dict["body"]),
    )
    got = cw.get_metric_data(MetricDataQueries=[], StartTime=T0 - 60, EndTime=T0)
    assert seen == [wire.EMPTY_BODY]
    assert got["NextToken"] == "page-2"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_json_string_timestamps_become_epoch_seconds() -> None:
    iso = datetime.fromtimestamp(T0, UTC).isoformat()
    doc = {"MetricDataResults": [{"Id": "s", "Timestamps": [iso, T0 + 60], "Values": [1, 2]}]}
    assert not wire.as_sent(doc)
    without, with_hook = both("GetMetricData", encode(doc))
    assert with_hook["MetricDataResults"][0]["Timestamps"] == [T0, T0 + 60]
    assert plain(with_hook) == plain(without)


def outcome(operation: str, body: bytes, hook: bool) -> Any:
    """What the client gives for ``body``: the parsed answer, or the error it raises."""
    cw = client(hook)
    answer(cw, 200, body)
    try:
        return plain(call(cw, operation))
    except Exception as exc:
        return (type(exc), str(exc))


@pytest.mark.parametrize(
    "body",
    [b'{"NextToken": ', b"[]", b'"text"', b'{"MetricDataResults": 5}', b"\xff\xfe", b""],
    ids=["truncated", "a list", "a string", "results not a list", "not utf-8", "empty"],
)
@pytest.mark.parametrize("operation", wire.OPERATIONS)
def test_bodies_the_hook_cannot_take_are_left_to_botocore(operation: str, body: bytes) -> None:
    assert outcome(operation, body, hook=True) == outcome(operation, body, hook=False)


@pytest.mark.parametrize("status", [400, 500])
def test_an_error_answer_raises_the_same_client_error(status: int) -> None:
    error = {"__type": "com.amazonaws.cloudwatch#ThrottlingException", "message": "Rate exceeded"}
    headers = HEADERS | {"x-amzn-query-error": "Throttling;Sender"}
    errors = []
    for hook in (False, True):
        cw = client(hook, ONE_ATTEMPT)
        answer(cw, status, encode(error), headers)
        with pytest.raises(ClientError) as caught:
            cw.get_metric_data(MetricDataQueries=[], StartTime=T0 - 60, EndTime=T0)
        errors.append(caught.value.response)
    assert errors[0] == errors[1]
    assert errors[1]["Error"]["Code"] == "Throttling"
    assert errors[1]["ResponseMetadata"]["HTTPStatusCode"] == status


def test_other_protocols_are_left_to_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    """query (XML), what older botocore speaks to CloudWatch: no hook, botocore's datetimes."""
    _prefer(monkeypatch, "query")
    cw = client(True)
    assert cw.meta.service_model.resolved_protocol == "query"
    xml = (
        '<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/">'
        "<GetMetricDataResult><MetricDataResults><member><Id>a</Id>"
        "<Timestamps><member>2026-09-21T14:09:00Z</member></Timestamps>"
        "<Values><member>2.5</member></Values><StatusCode>Complete</StatusCode>"
        "</member></MetricDataResults></GetMetricDataResult></GetMetricDataResponse>"
    )
    answer(cw, 200, xml.encode(), {"content-type": "text/xml"})
    got = cw.get_metric_data(MetricDataQueries=[], StartTime=T0 - 60, EndTime=T0)
    stamps = got["MetricDataResults"][0]["Timestamps"]
    assert stamps == [datetime(2026, 9, 21, 14, 9, tzinfo=UTC)]


@pytest.mark.parametrize("protocol", ["query", "smithy-rpc-v2-cbor"])
def test_no_handler_for_other_protocols(monkeypatch: pytest.MonkeyPatch, protocol: str) -> None:
    """Smithy RPCv2 CBOR, next in botocore's list, should a later botocore prefer it."""
    _prefer(monkeypatch, protocol)
    service = client(False).meta.service_model
    assert service.resolved_protocol == protocol
    assert all(wire.decoder(service.operation_model(name)) is None for name in wire.OPERATIONS)


@pytest.mark.moto
def test_against_moto_over_http(
    cloudwatch_endpoint: str, cloudwatch_client: CloudWatchClient
) -> None:
    now = int(time.time()) // 60 * 60 - 600
    model = "amazon.nova-lite-v1:0"
    dims: Any = [{"Name": "ModelId", "Value": model}]
    cloudwatch_client.put_metric_data(
        Namespace="AWS/Bedrock",
        MetricData=[
            {
                "MetricName": "Invocations",
                "Dimensions": dims,
                "Timestamp": datetime.fromtimestamp(now + 60 * i, UTC),
                "Value": v,
            }
            for i, v in enumerate((3.0, 5.0, 8.0))
        ],
    )
    fast = aws.make_cloudwatch_client(None, "us-east-1", cloudwatch_endpoint)
    query = {
        "Id": "inv",
        "MetricStat": {
            "Metric": {"Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": dims},
            "Period": 60,
            "Stat": "Sum",
        },
    }
    params: dict[str, Any] = {
        "MetricDataQueries": [query],
        "StartTime": now,
        "EndTime": now + 180,
        "ScanBy": "TimestampAscending",
    }
    got = fast.get_metric_data(**params)
    (series,) = got["MetricDataResults"]
    assert series["Values"] == [3.0, 5.0, 8.0]
    assert series["Timestamps"] == [now, now + 60, now + 120]  # numbers: the hook ran
    assert all(type(t) in (int, float) for t in series["Timestamps"])
    assert plain(got["MetricDataResults"]) == plain(
        cloudwatch_client.get_metric_data(**params)["MetricDataResults"]
    )
    listed = fast.list_metrics(Namespace="AWS/Bedrock")["Metrics"]
    assert listed == [{"Namespace": "AWS/Bedrock", "MetricName": "Invocations", "Dimensions": dims}]


def test_install_covers_both_operations() -> None:
    cw = client(True)
    assert cw.meta.service_model.resolved_protocol == wire.PROTOCOL
    for name in wire.OPERATIONS:
        event = f"before-parse.cloudwatch.{name}"
        handlers = cw.meta.events._emitter._handlers.prefix_search(event)
        assert any(isinstance(h, wire.FastDecoder) for h in handlers)


@contextmanager
def wire_log() -> Iterator[list[str]]:
    """What the wire module logs at INFO (whatever another test did to logging)."""
    said: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            said.append(record.getMessage())

    logger = logging.getLogger("bedrock_top.cloudwatch.wire")
    handler, level = Keep(logging.INFO), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield said
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def fast_handlers(cw: Any) -> list[Any]:
    return [
        h
        for name in wire.OPERATIONS
        for h in cw.meta.events._emitter._handlers.prefix_search(f"before-parse.cloudwatch.{name}")
        if isinstance(h, wire.FastDecoder)
    ]


@pytest.mark.parametrize("value", ["0", "off", "false", "NO"])
def test_an_environment_variable_turns_the_fast_path_off(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(wire.DISABLE_VARIABLE, value)
    monkeypatch.setattr(wire, "_told", set())
    with wire_log() as said:
        cw = client(True)
        client(True)
    assert fast_handlers(cw) == []
    assert said == [f"fast decoding off ({wire.DISABLE_VARIABLE}): botocore parses every answer"]
    monkeypatch.setenv(wire.DISABLE_VARIABLE, "1")
    assert len(fast_handlers(client(True))) == len(wire.OPERATIONS)


def test_a_client_without_the_fast_path_is_logged_once(monkeypatch: pytest.MonkeyPatch) -> None:
    _prefer(monkeypatch, "query")
    monkeypatch.setattr(wire, "_told", set())
    with wire_log() as said:
        for _ in range(3):
            assert fast_handlers(client(True)) == []
    assert sorted(said) == sorted(
        f"fast decoding not in use for {name}: botocore parses its answers"
        for name in wire.OPERATIONS
    )
