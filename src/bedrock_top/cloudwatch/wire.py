"""Fast decoding of CloudWatch's bulk answers (GetMetricData, ListMetrics) for botocore.

botocore walks every response in pure Python and turns each timestamp into a datetime: one
GetMetricData answer of 500 series x 5 points takes it ~22 ms in awsJson1_0, the protocol
botocore 1.44 speaks to CloudWatch, and a poll at 1,000 models makes 18 such calls. A
``before-parse`` handler decodes the JSON body in C (``json``) instead, keeps timestamps as
epoch seconds (``source.epochs`` takes both) and leaves botocore an empty body, from which
botocore only builds ``ResponseMetadata``.

The result is what botocore gives, timestamps aside: the output shape's members, nulls dropped
from structures and kept in lists. A GetMetricData answer as CloudWatch sends it (only the
model's members, no nulls, numeric timestamps) already is that, and is handed over as ``json``
decoded it (``as_sent``); anything unusual goes through ``shaper``. An error status, a body that
does not decode, and every other protocol (query/XML, what older botocore speaks to
CloudWatch; Smithy RPCv2 CBOR, should a later botocore prefer it) are left to botocore, which
parses them as usual.

A session-wide numeric timestamp parser (``set_parser_defaults(timestamp_parser=...)``, as the
AWS CLI does) is deliberately not installed: botocore's assume-role and web-identity credential
providers create their STS clients from the same session and expect datetimes or strings for
``Expiration`` (``credentials._parse_if_needed``), so a number there breaks credential refresh.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from itertools import chain, repeat
from typing import Any, Final

from botocore.model import ListShape, OperationModel, Shape, StructureShape
from botocore.utils import parse_timestamp

__all__ = [
    "EMPTY_BODY",
    "GET_METRIC_DATA",
    "OPERATIONS",
    "PROTOCOL",
    "FastDecoder",
    "as_sent",
    "decoder",
    "epoch_seconds",
    "install",
    "layout",
    "shaper",
]

OPERATIONS = ("GetMetricData", "ListMetrics")
PROTOCOL = "json"  # awsJson1_0; other protocols are botocore's job
EMPTY_BODY = b"{}"  # a body botocore parses into an empty output
_SCALARS = frozenset({"string", "boolean", "integer", "long", "float", "double", "timestamp"})
_NUMBERS = frozenset({int, float})
logger = logging.getLogger(__name__)

Convert = Callable[[Any], Any]


def epoch_seconds(value: Any) -> Any:
    """A timestamp as epoch seconds: numbers unchanged, strings parsed the way botocore does."""
    if isinstance(value, int | float):
        return value
    return parse_timestamp(value).timestamp()


def shaper(shape: Shape) -> Convert | None:
    """A function giving a decoded ``shape`` value the form botocore's parser gives it (None:
    as it is). Only plain structures, lists and scalars: anything else raises ValueError."""
    if shape.serialization.get("name"):  # a renamed member: not a plain ``node.get(name)``
        raise ValueError(f"{shape.name}: serialized under another name")
    kind = shape.type_name
    if isinstance(shape, StructureShape) and not (shape.is_tagged_union or shape.is_document_type):
        members = [(name, shaper(member)) for name, member in shape.members.items()]

        def structure(node: Any) -> dict[str, Any]:
            out = {}
            for name, convert in members:
                value = node.get(name)
                if value is not None:
                    out[name] = value if convert is None else convert(value)
            return out

        return structure
    if isinstance(shape, ListShape):
        member = shape.member
        inner = shaper(member)
        if member.type_name not in _SCALARS:
            assert inner is not None
            return lambda node: [None if x is None else inner(x) for x in node]

        def scalars(node: Any) -> list[Any]:
            items = list(node)
            if inner is not None and not _NUMBERS.issuperset(map(type, items)):
                items = [None if x is None else inner(x) for x in items]
            return items

        return scalars
    if kind == "timestamp":
        return epoch_seconds
    if kind in _SCALARS:
        return None
    raise ValueError(f"{shape.name}: {kind} is left to botocore")


def layout(shape: Shape) -> Any:
    """A shape's members and types as plain data: a structure as a dict, a list as a
    one-element list, a scalar as its type name."""
    if isinstance(shape, StructureShape):
        return {name: layout(member) for name, member in shape.members.items()}
    if isinstance(shape, ListShape):
        return [layout(shape.member)]
    return shape.type_name


_MESSAGE = {"Code": "string", "Value": "string"}
# The GetMetricData output shape ``as_sent`` is written for (botocore 1.44's model).
GET_METRIC_DATA = {
    "MetricDataResults": [
        {
            "Id": "string",
            "Label": "string",
            "Timestamps": ["timestamp"],
            "Values": ["double"],
            "StatusCode": "string",
            "Messages": [_MESSAGE],
        }
    ],
    "NextToken": "string",
    "Messages": [_MESSAGE],
}
_TOP = frozenset(GET_METRIC_DATA)
_RESULT = frozenset(GET_METRIC_DATA["MetricDataResults"][0])
_MESSAGE_KEYS = frozenset(_MESSAGE)
_DICT = frozenset({dict})
_LIST = frozenset({list})
_NO_LIST: list[Any] = []


def _member(items: list[dict[str, Any]], key: str) -> map[Any]:
    """``item.get(key, [])`` of every item, in C (no Python frame per item)."""
    return map(dict.get, items, repeat(key), repeat(_NO_LIST))


def as_sent(doc: Any) -> bool:
    """Whether a decoded GetMetricData answer already is what botocore's parser gives,
    timestamps aside: structures that are objects with only the model's members and no
    nulls (botocore drops those), list members that are lists (botocore copies them item by
    item, keeping nulls and, a DatapointValue being a plain double, every value as it is),
    and timestamps that are numbers (botocore turns each into a datetime, which a string
    would change). Each check is one pass over all results at once, in C."""
    if type(doc) is not dict or not _TOP.issuperset(doc) or None in doc.values():
        return False
    results = doc.get("MetricDataResults", _NO_LIST)
    messages = doc.get("Messages", _NO_LIST)
    if type(results) is not list or type(messages) is not list:
        return False
    if not (
        _DICT.issuperset(map(type, results))
        and all(map(_RESULT.issuperset, results))
        and None not in chain.from_iterable(map(dict.values, results))
    ):
        return False
    lists = chain(
        _member(results, "Timestamps"), _member(results, "Values"), _member(results, "Messages")
    )
    if not _LIST.issuperset(map(type, lists)):
        return False
    if not _NUMBERS.issuperset(map(type, chain.from_iterable(_member(results, "Timestamps")))):
        return False
    messages = [*messages, *chain.from_iterable(_member(results, "Messages"))]
    return not messages or (
        _DICT.issuperset(map(type, messages))
        and all(map(_MESSAGE_KEYS.issuperset, messages))
        and None not in chain.from_iterable(map(dict.values, messages))
    )


def _fast_or(slow: Convert) -> Convert:
    def convert(doc: Any) -> Any:
        return doc if as_sent(doc) else slow(doc)

    return convert


def _loads(body: bytes) -> Any:
    return json.loads(body.decode("utf-8"))


class FastDecoder:
    """The ``before-parse`` handler of one operation: decodes a 2xx JSON answer into
    ``customized_response_dict`` (which botocore merges into its result) and leaves botocore
    an empty body; does nothing to any other answer."""

    def __init__(self, shape: Convert) -> None:
        self.shape = shape

    def __call__(
        self,
        response_dict: dict[str, Any],
        customized_response_dict: dict[str, Any],
        **kwargs: Any,
    ) -> None:
        if not 200 <= response_dict["status_code"] < 300:
            return
        try:
            parsed = self.shape(_loads(response_dict["body"]))
        except Exception as exc:  # botocore parses it, and says what is wrong with it
            logger.debug("fast decoding skipped: %r", exc)
            return
        customized_response_dict.update(parsed)
        response_dict["body"] = EMPTY_BODY


def decoder(operation: OperationModel) -> FastDecoder | None:
    """The ``before-parse`` handler for ``operation``, or None where its protocol (anything
    but JSON) or its output shapes are botocore's job."""
    output = operation.output_shape
    if operation.service_model.resolved_protocol != PROTOCOL or output is None:
        return None
    try:
        shape = shaper(output)
        if shape is not None and layout(output) == GET_METRIC_DATA:
            shape = _fast_or(shape)
    except (ValueError, RecursionError):  # shapes we do not mirror
        return None
    return FastDecoder(shape) if shape else None


# "0", "false", "no" or "off": botocore parses every answer (to rule the fast path out when
# something looks wrong; the figures are the same either way, only slower to get).
DISABLE_VARIABLE: Final = "BEDROCK_TOP_FAST_DECODE"
_told: set[str] = set()  # what was logged already: once per process is enough


def _tell(what: str) -> None:
    if what not in _told:
        _told.add(what)
        logger.info(what)


def install(client: Any) -> None:
    """Decode this CloudWatch client's GetMetricData and ListMetrics answers in C, where
    ``decoder`` can (else botocore does it all, as before, and the log says so once)."""
    if os.environ.get(DISABLE_VARIABLE, "").strip().lower() in ("0", "false", "no", "off"):
        _tell(f"fast decoding off ({DISABLE_VARIABLE}): botocore parses every answer")
        return
    service = client.meta.service_model
    for name in OPERATIONS:
        handler = decoder(service.operation_model(name))
        if handler is None:
            _tell(f"fast decoding not in use for {name}: botocore parses its answers")
            continue
        event = f"before-parse.{service.service_id.hyphenize()}.{name}"
        client.meta.events.register(event, handler, unique_id=f"bedrock-top.wire.{name}")
