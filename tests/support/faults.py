"""A fault-injecting HTTP proxy in front of the moto server, toggled while a test runs.

``FaultProxy`` is a small WSGI app served by werkzeug on 127.0.0.1 (a free port). Each request
is forwarded unchanged to the moto endpoint and moto's answer is returned, unless a fault is
armed: then the proxy answers for CloudWatch, the way CloudWatch fails.

- ``throttle`` / ``unavailable`` / ``access_denied`` / ``expired_token`` / ``error``: an AWS
  error response (status, code, message) encoded in the protocol of the request, so that
  botocore parses it into a ``ClientError`` with that code and status, and its standard
  retry mode treats it as the real one (retries throttling and 5xx, not the others).
- ``drop``: the connection is accepted, the request read, then closed without a response.
- ``refuse``: the proxy stops listening, so connections are refused, until ``clear``.

A fault lasts for the next ``times`` requests (counted per HTTP request, so botocore's own
retries use them up) or until ``clear``; ``operation`` limits it to one API operation and
``signed_with`` to requests signed with one access key id (old credentials rejected, new ones
accepted). Arming a fault replaces the one armed before. Each ``Fault`` counts the requests it
affected (``hits``); a refused connection never reaches the proxy, so ``refuse`` cannot count.
The proxy is thread-safe: the app's poll worker sends requests while the test arms and clears
faults.

Error bodies: botocore picks the first protocol of CloudWatch's ``protocols`` list it
supports, which in botocore 1.44 is awsJson1_0 in query-compatible mode
(``application/x-amz-json-1.0`` with ``x-amzn-query-mode: true``); the error code then comes
from the ``x-amzn-query-error`` header ("Throttling;Sender"). JSON and query (form) requests
get their error from moto's own response serializer, given CloudWatch's model plus a shape for
the code (status, sender or receiver fault); Smithy RPCv2 CBOR (``application/cbor``, next
in CloudWatch's list), which moto does not speak, gets the same fields as a CBOR map. A bare
status (``unavailable(bare=True)``) has an empty body, like a load balancer's 503.
"""

from __future__ import annotations

import copy
import functools
import http.client
import logging
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs, urlsplit
from wsgiref.types import StartResponse, WSGIEnvironment

from botocore.loaders import create_loader
from moto.core.exceptions import ServiceException
from moto.core.model import ServiceModel
from moto.core.request import determine_request_protocol
from moto.core.serialize import get_serializer_class
from werkzeug.serving import BaseWSGIServer, make_server

__all__ = ["ErrorReply", "Fault", "FaultProxy", "access_key_of", "error_reply", "operation_of"]

SERVICE = "cloudwatch"
CBOR_NAMESPACE = "com.amazonaws.cloudwatch"
# Not forwarded: the proxy's server writes its own framing and identity headers.
_HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "server", "date"}
)

FaultKind = Literal["error", "drop", "refuse"]


class InjectedError(ServiceException):
    """An AWS error for moto's serializer to encode (its code is set per instance)."""


@dataclass
class Fault:
    """One armed fault. ``times=None`` lasts until cleared; ``hits`` counts affected requests."""

    kind: FaultKind
    status: int = 0
    code: str = ""
    message: str = ""
    times: int | None = None
    operation: str | None = None
    signed_with: str | None = None  # only requests signed with this access key id
    hits: int = 0

    @property
    def active(self) -> bool:
        return self.times is None or self.hits < self.times

    def matches(self, operation: str | None, access_key: str | None) -> bool:
        return (
            self.active
            and self.operation in (None, operation)
            and self.signed_with in (None, access_key)
        )


@dataclass(frozen=True)
class ErrorReply:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def operation_of(environ: WSGIEnvironment, body: bytes) -> str | None:
    """The API operation of a request in any of CloudWatch's protocols."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:  # awsJson1_0: "GraniteServiceVersion20100801.GetMetricData"
        return str(target).rsplit(".", 1)[-1]
    path = str(environ.get("PATH_INFO", ""))
    if "/operation/" in path:  # RPCv2 CBOR: /service/<name>/operation/<Operation>
        return path.rsplit("/operation/", 1)[-1]
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        return parse_qs(body.decode("utf-8", "replace")).get("Action", [None])[0]
    return None


def access_key_of(environ: WSGIEnvironment) -> str | None:
    """The access key id a SigV4-signed request names (``Credential=AKID/date/...``)."""
    auth = str(environ.get("HTTP_AUTHORIZATION", ""))
    _, found, rest = auth.partition("Credential=")
    return rest.split("/", 1)[0] if found else None


def _cbor_head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 0x100:
        return bytes([major << 5 | 24, n])
    if n < 0x10000:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + n.to_bytes(4, "big")


def _cbor_text_map(items: dict[str, str]) -> bytes:
    """A CBOR map of text strings (major types 5 and 3): all an error body needs."""
    out = bytearray(_cbor_head(5, len(items)))
    for key, value in items.items():
        for text in (key, value):
            data = text.encode("utf-8")
            out += _cbor_head(3, len(data)) + data
    return bytes(out)


@functools.cache
def _cloudwatch_with_error(code: str, status: int) -> ServiceModel:
    """CloudWatch's service model plus an error shape for ``code``.

    Throttling, AccessDenied, ExpiredToken and ServiceUnavailable are common AWS errors that
    CloudWatch's model does not list; with the shape, moto's serializer gives them their
    status and sender/receiver fault (and does not warn about an unknown code).
    """
    description = copy.deepcopy(create_loader().load_service_model(SERVICE, "service-2"))
    description["shapes"][code] = {
        "type": "structure",
        "members": {},
        "exception": True,
        "fault": status >= 500,  # a server-side error: "Receiver" in x-amzn-query-error
        "error": {"code": code, "httpStatusCode": status, "senderFault": status < 500},
    }
    return ServiceModel(description, SERVICE)


def error_reply(
    content_type: str, operation: str | None, status: int, code: str, message: str
) -> ErrorReply:
    """An AWS error response for ``operation``, in the protocol the request was sent in.

    ``code=""`` gives a bare status with an empty body, as a load balancer in front of an
    AWS endpoint answers (botocore then reports the status number as the code).
    """
    request_id = str(uuid.uuid4())
    if not code:
        return ErrorReply(status, [("x-amzn-RequestId", request_id)], b"")
    if content_type.startswith("application/cbor"):
        body = _cbor_text_map({"__type": f"{CBOR_NAMESPACE}#{code}", "message": message})
        fault = "Receiver" if status >= 500 else "Sender"
        return ErrorReply(
            status,
            [
                ("Content-Type", "application/cbor"),
                ("smithy-protocol", "rpc-v2-cbor"),
                ("x-amzn-query-error", f"{code};{fault}"),
                ("x-amzn-RequestId", request_id),
            ],
            body,
        )
    service = _cloudwatch_with_error(code, status)
    protocol = determine_request_protocol(service, content_type)
    serializer = get_serializer_class(SERVICE, protocol)(
        service.operation_model(operation or "ListMetrics")
    )
    error = InjectedError(code, message)
    serialized = serializer.serialize(error)
    body_text = serialized["body"]
    body = body_text.encode("utf-8") if isinstance(body_text, str) else bytes(body_text)
    headers = {k: str(v) for k, v in serialized["headers"].items()}
    if protocol == "json":  # moto labels it "text"; CloudWatch answers in the request's type
        headers["Content-Type"] = content_type
    headers["x-amzn-RequestId"] = request_id
    return ErrorReply(serialized["status_code"], list(headers.items()), body)


class FaultProxy:
    """The moto endpoint behind a switchable fault layer; ``url`` goes to ``endpoint_url=``."""

    def __init__(self, target_url: str) -> None:
        target = urlsplit(target_url)
        if target.hostname is None or target.port is None:
            raise ValueError(f"need http://host:port, got {target_url!r}")
        self._target = (target.hostname, target.port)
        self._lock = threading.Lock()
        self._fault: Fault | None = None
        self._refusing: Fault | None = None
        self.forwarded = 0  # requests that reached moto
        self.port = 0
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        # werkzeug logs a line per request; the moto server module quietens it too.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._listen()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # --- arming faults (from the test thread) ----------------------------------------------

    def error(
        self,
        status: int,
        code: str,
        message: str,
        times: int | None = None,
        operation: str | None = None,
        signed_with: str | None = None,
    ) -> Fault:
        return self._arm(Fault("error", status, code, message, times, operation, signed_with))

    def throttle(self, times: int | None = None, operation: str | None = None) -> Fault:
        return self.error(400, "Throttling", "Rate exceeded", times, operation)

    def unavailable(
        self, times: int | None = None, operation: str | None = None, *, bare: bool = False
    ) -> Fault:
        """HTTP 503: CloudWatch's ``ServiceUnavailable`` body, or ``bare`` (empty body)."""
        code = "" if bare else "ServiceUnavailable"
        return self.error(503, code, "Service is unavailable", times, operation)

    def access_denied(
        self,
        action: str = "cloudwatch:GetMetricData",
        times: int | None = None,
        operation: str | None = None,
    ) -> Fault:
        message = (
            "User: arn:aws:iam::123456789012:user/monitor is not authorized to perform: "
            f"{action} because no identity-based policy allows the {action} action"
        )
        return self.error(403, "AccessDenied", message, times, operation)

    def expired_token(
        self,
        times: int | None = None,
        operation: str | None = None,
        signed_with: str | None = None,
    ) -> Fault:
        """``ExpiredToken``; with ``signed_with``, only for requests signed with that key, as
        AWS rejects old credentials and accepts refreshed ones."""
        message = "The security token included in the request is expired"
        return self.error(400, "ExpiredToken", message, times, operation, signed_with)

    def drop(self, times: int | None = None, operation: str | None = None) -> Fault:
        """Accept, read the request, close without a response."""
        return self._arm(Fault("drop", times=times, operation=operation))

    def refuse(self) -> Fault:
        """Stop listening: every connection is refused until ``clear``."""
        fault = Fault("refuse")
        with self._lock:
            self._fault = None
            self._refusing = fault
        self._close()
        return fault

    def clear(self) -> None:
        """Disarm any fault; listen again (on the same port) if connections were refused."""
        with self._lock:
            self._fault = None
            refusing, self._refusing = self._refusing, None
        if refusing is not None:
            self._listen(self.port)

    def stop(self) -> None:
        with self._lock:
            self._fault = None
            self._refusing = None
        self._close()

    def _arm(self, fault: Fault) -> Fault:
        with self._lock:
            if self._refusing is not None:
                raise RuntimeError("clear() the refused connections first")
            self._fault = fault
        return fault

    # --- serving ---------------------------------------------------------------------------

    def _listen(self, port: int = 0) -> None:
        server = make_server("127.0.0.1", port, self, threaded=True)
        self._server = server
        self.port = server.server_port
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name=f"fault-proxy-{self.port}", daemon=True
        )
        self._thread.start()

    def _close(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is not None:
            server.shutdown()  # serve_forever returns and closes the listening socket
        if thread is not None:
            thread.join(timeout=10)

    def _take(self, operation: str | None, access_key: str | None) -> Fault | None:
        with self._lock:
            fault = self._fault
            if fault is None or not fault.matches(operation, access_key):
                return None
            fault.hits += 1
            return fault

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        content_type = str(environ.get("CONTENT_TYPE", ""))
        operation = operation_of(environ, body)
        fault = self._take(operation, access_key_of(environ))
        if fault is not None and fault.kind == "drop":
            connection: socket.socket = environ["werkzeug.socket"]
            connection.shutdown(socket.SHUT_RDWR)
            # werkzeug treats a ConnectionError as a client that went away: no reply, no log.
            raise ConnectionAbortedError("fault proxy: connection dropped")
        if fault is not None:
            reply = error_reply(content_type, operation, fault.status, fault.code, fault.message)
            status, headers, data = reply.status, reply.headers, reply.body
        else:
            status, headers, data = self._forward(environ, body)
        headers = [*headers, ("Content-Length", str(len(data)))]
        start_response(f"{status} {http.client.responses.get(status, 'Unknown')}", headers)
        return [data]

    def _forward(
        self, environ: WSGIEnvironment, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        path = str(environ.get("PATH_INFO", "/"))
        if environ.get("QUERY_STRING"):
            path += f"?{environ['QUERY_STRING']}"
        headers = {
            key[5:].replace("_", "-").title(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = str(environ["CONTENT_TYPE"])
        headers["Content-Length"] = str(len(body))
        connection = http.client.HTTPConnection(*self._target, timeout=30)
        try:
            connection.request(str(environ["REQUEST_METHOD"]), path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            kept = [
                (k, v)
                for k, v in response.getheaders()
                if k.lower() not in _HOP_BY_HOP and k.lower() != "content-length"
            ]
        finally:
            connection.close()
        with self._lock:
            self.forwarded += 1
        return response.status, kept, data
