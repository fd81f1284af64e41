"""A tiny local fake of Service Quotas, the Bedrock control plane and STS, over HTTP.

moto 5.2 has no ListServiceQuotas / ListAWSDefaultServiceQuotas for ``bedrock`` and no
ListFoundationModels / ListInferenceProfiles, so the quota fetcher is tested against this
server through real boto3 clients. It speaks each service's wire protocol as botocore's
models describe it (Service Quotas: JSON 1.1 with ``X-Amz-Target:
ServiceQuotasV20190624.<Op>``; Bedrock: rest-json ``GET /foundation-models`` and ``GET
/inference-profiles?maxResults&nextToken&type``; STS: query protocol, XML), including error
shapes, so botocore raises the ``ClientError`` a real service would cause.

Usage::

    with QuotaFake(default_quotas=[quota("L-1", "On-demand ... for X", 1e6)]) as fake:
        monkeypatch.setenv(...) for each item of fake.env()   # endpoints of all three services
        fake.fail("ListServiceQuotas", "deny")                # or throttle / http500 / close
        ...
        assert fake.operations() == [...]                     # what was asked, in order
"""

from __future__ import annotations

import json
import re
import socket
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

__all__ = [
    "ACCOUNT",
    "FaultKind",
    "QuotaFake",
    "RecordedRequest",
    "model",
    "profile",
    "quota",
    "raw_requests",
]

ACCOUNT: Final = "123456789012"
SQ_TARGET_PREFIX: Final = "ServiceQuotasV20190624."  # targetPrefix in botocore's model
SQ_OPERATIONS: Final = ("ListServiceQuotas", "ListAWSDefaultServiceQuotas")
IAM_PREFIX: Final = {
    "ListServiceQuotas": "servicequotas",
    "ListAWSDefaultServiceQuotas": "servicequotas",
    "ListFoundationModels": "bedrock",
    "ListInferenceProfiles": "bedrock",
    "GetCallerIdentity": "sts",
}
_DEFAULT_PAGE: Final = {
    "ListServiceQuotas": 100,
    "ListAWSDefaultServiceQuotas": 100,
    "ListInferenceProfiles": 1000,
}
_TOKEN = re.compile(r"page-(\d+)-at-(\d+)")

# deny: AccessDenied; throttle: the service's throttling error; http500: a bare 500 (as from a
# load balancer); close: the connection closes without an answer; loop: a next token forever;
# expired: the credentials' session token expired.
FaultKind = Literal["deny", "throttle", "http500", "close", "loop", "expired"]
_EXPIRED_MESSAGE: Final = "The security token included in the request is expired"


def quota(
    code: str,
    name: str,
    value: float,
    *,
    unit: str = "None",
    adjustable: bool = True,
    global_quota: bool = False,
) -> dict[str, Any]:
    """A ``ServiceQuota`` as Service Quotas returns it."""
    return {
        "ServiceCode": "bedrock",
        "ServiceName": "Amazon Bedrock",
        "QuotaArn": f"arn:aws:servicequotas:us-east-1:{ACCOUNT}:bedrock/{code}",
        "QuotaCode": code,
        "QuotaName": name,
        "Value": value,
        "Unit": unit,
        "Adjustable": adjustable,
        "GlobalQuota": global_quota,
    }


def model(model_id: str, name: str, provider: str, region: str = "us-east-1") -> dict[str, Any]:
    """A ``FoundationModelSummary``."""
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": name,
        "providerName": provider,
    }


def profile(
    profile_id: str,
    kind: Literal["SYSTEM_DEFINED", "APPLICATION"],
    model_arns: Iterable[str],
    region: str = "us-east-1",
) -> dict[str, Any]:
    """An ``InferenceProfileSummary`` (application profiles get an ARN of their own kind)."""
    resource = "inference-profile" if kind == "SYSTEM_DEFINED" else "application-inference-profile"
    return {
        "inferenceProfileName": profile_id.replace(".", "-")[:64],
        "inferenceProfileArn": f"arn:aws:bedrock:{region}:{ACCOUNT}:{resource}/{profile_id}",
        "inferenceProfileId": profile_id,
        "models": [{"modelArn": arn} for arn in model_arns],
        "status": "ACTIVE",
        "type": kind,
    }


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake understood it: ``params`` is the JSON body (Service Quotas),
    the query string (Bedrock) or the form (STS), one value per name."""

    operation: str
    params: dict[str, Any]


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int | None  # None: every time
    message: str | None


@dataclass
class QuotaFake:
    """The fake server and its state; the lists hold raw API dicts (see ``quota``, ``model``,
    ``profile``), so a test can also serve malformed entries.

    ``page_sizes[operation]``: the sizes of the successive pages (0: an empty page that still
    has a token; sizes beyond the items give trailing empty pages); after the list, pages hold
    the request's MaxResults.
    """

    default_quotas: list[dict[str, Any]] = field(default_factory=list)
    applied_quotas: list[dict[str, Any]] = field(default_factory=list)
    models: list[dict[str, Any]] = field(default_factory=list)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    page_sizes: dict[str, list[int]] = field(default_factory=dict)
    account: str = ACCOUNT
    _faults: dict[str, _Fault] = field(default_factory=dict, repr=False)
    _requests: list[RecordedRequest] = field(default_factory=list, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _server: ThreadingHTTPServer | None = field(default=None, repr=False)
    _thread: threading.Thread | None = field(default=None, repr=False)

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> QuotaFake:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        server.daemon_threads = True
        server.fake = self  # type: ignore[attr-defined]
        self._server = server
        # A short poll interval: shutdown() waits for it, at every test's teardown.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> QuotaFake:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not started")
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def env(self) -> dict[str, str]:
        """The standard botocore variables that send all three services here."""
        url = self.endpoint_url
        return {
            "AWS_ENDPOINT_URL_SERVICE_QUOTAS": url,
            "AWS_ENDPOINT_URL_BEDROCK": url,
            "AWS_ENDPOINT_URL_STS": url,
        }

    # --- faults and the request log ----------------------------------------------------

    def fail(
        self,
        operation: str,
        kind: FaultKind,
        times: int | None = None,
        message: str | None = None,
    ) -> None:
        """Make ``operation`` fail ``times`` times (None: until ``clear_faults``). A denial's
        default message names the IAM action, as AWS's do."""
        with self._lock:
            self._faults[operation] = _Fault(kind, times, message)

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    def operations(self) -> list[str]:
        return [r.operation for r in self.requests]

    def clear_requests(self) -> None:
        with self._lock:
            self._requests.clear()

    def _record(self, operation: str, params: dict[str, Any]) -> _Fault | None:
        with self._lock:
            self._requests.append(RecordedRequest(operation, params))
            fault = self._faults.get(operation)
            if fault is None:
                return None
            if fault.remaining is not None:
                fault.remaining -= 1
                if fault.remaining <= 0:
                    del self._faults[operation]
            return fault

    # --- answers -------------------------------------------------------------------------

    def _page(
        self, operation: str, items: list[dict[str, Any]], max_results: Any, token: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of ``items`` and the next token (None: the last page)."""
        page, offset = 0, 0
        if token is not None:
            match = _TOKEN.fullmatch(str(token))
            if match is None:
                raise _BadToken(str(token))
            page, offset = int(match.group(1)), int(match.group(2))
        sizes = self.page_sizes.get(operation, [])
        try:
            default = int(max_results)
        except (TypeError, ValueError):
            default = _DEFAULT_PAGE.get(operation, 100)
        size = sizes[page] if page < len(sizes) else max(default, 1)
        chunk = items[offset : offset + size]
        end = offset + len(chunk)
        more = end < len(items) or page + 1 < len(sizes)
        return chunk, (f"page-{page + 1}-at-{end}" if more else None)


class _BadToken(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "quota-fake"

    def setup(self) -> None:
        """No Nagle: headers and body go out in two writes, which would otherwise stall each
        answer on the client's delayed ACK (~40 ms a request)."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the tests assert on the request log instead."""

    @property
    def fake(self) -> QuotaFake:
        fake: QuotaFake = self.server.fake  # type: ignore[attr-defined]
        return fake

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    # --- routing -------------------------------------------------------------------------

    def do_POST(self) -> None:
        body = self._body()
        target = self.headers.get("X-Amz-Target")
        if target is not None:
            self._service_quotas(target, body)
        else:
            self._sts(body)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        if url.path == "/foundation-models":
            self._bedrock("ListFoundationModels", query)
        elif url.path == "/inference-profiles":
            self._bedrock("ListInferenceProfiles", query)
        else:
            self._send(
                404,
                json.dumps({"message": f"no route {url.path}"}).encode(),
                "application/json",
                x_amzn_ErrorType="UnknownOperationException",
            )

    def _fault(self, operation: str, params: dict[str, Any]) -> _Fault | None:
        """Record the request; apply a ``close`` or ``http500`` fault here."""
        fault = self.fake._record(operation, params)
        if fault is not None and fault.kind == "close":
            self.close_connection = True
            return fault
        if fault is not None and fault.kind == "http500":
            self._send(500, b"<html>Internal Server Error</html>", "text/html")
            return fault
        return fault

    @staticmethod
    def _denied(operation: str, fault: _Fault, account: str) -> str:
        action = f"{IAM_PREFIX.get(operation, 'unknown')}:{operation}"
        return fault.message or (
            f"User: arn:aws:sts::{account}:assumed-role/tester/session is not authorized to "
            f"perform: {action} because no identity-based policy allows the {action} action"
        )

    # --- Service Quotas (JSON 1.1) -------------------------------------------------------

    def _json_error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"__type": code, "Message": message}).encode()
        self._send(status, body, "application/x-amz-json-1.1")

    def _service_quotas(self, target: str, raw: bytes) -> None:
        operation = target.removeprefix(SQ_TARGET_PREFIX)
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            params = {"_unparsed": raw.decode(errors="replace")}
        fault = self._fault(operation, params)
        if fault is not None and fault.kind in ("close", "http500"):
            return
        if fault is not None and fault.kind == "deny":
            message = self._denied(operation, fault, self.fake.account)
            self._json_error(400, "AccessDeniedException", message)
            return
        if fault is not None and fault.kind == "throttle":
            self._json_error(400, "TooManyRequestsException", "Rate exceeded")
            return
        if fault is not None and fault.kind == "expired":
            self._json_error(400, "ExpiredTokenException", _EXPIRED_MESSAGE)
            return
        if not target.startswith(SQ_TARGET_PREFIX) or operation not in SQ_OPERATIONS:
            self._json_error(400, "UnknownOperationException", f"unknown target {target}")
            return
        if params.get("ServiceCode") != "bedrock":
            self._json_error(400, "NoSuchResourceException", "only bedrock is faked")
            return
        items = (
            self.fake.default_quotas
            if operation == "ListAWSDefaultServiceQuotas"
            else self.fake.applied_quotas
        )
        token = params.get("NextToken")
        try:
            chunk, next_token = self.fake._page(operation, items, params.get("MaxResults"), token)
        except _BadToken:
            self._json_error(400, "InvalidPaginationTokenException", "bad NextToken")
            return
        if fault is not None and fault.kind == "loop":
            next_token = token or "page-0-at-0"
        answer: dict[str, Any] = {"Quotas": chunk}
        if next_token is not None:
            answer["NextToken"] = next_token
        self._send(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")

    # --- Bedrock (rest-json) -------------------------------------------------------------

    def _rest_error(self, status: int, code: str, message: str) -> None:
        body = json.dumps({"message": message}).encode()
        # Real services append the Coral namespace after a colon; botocore drops it.
        error_type = f"{code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        self._send(status, body, "application/json", x_amzn_ErrorType=error_type)

    def _bedrock(self, operation: str, query: dict[str, str]) -> None:
        fault = self._fault(operation, dict(query))
        if fault is not None and fault.kind in ("close", "http500"):
            return
        if fault is not None and fault.kind == "deny":
            message = self._denied(operation, fault, self.fake.account)
            self._rest_error(403, "AccessDeniedException", message)
            return
        if fault is not None and fault.kind == "throttle":
            self._rest_error(429, "ThrottlingException", "Too many requests")
            return
        if fault is not None and fault.kind == "expired":
            self._rest_error(403, "ExpiredTokenException", _EXPIRED_MESSAGE)
            return
        answer: dict[str, Any]
        if operation == "ListFoundationModels":
            answer = {"modelSummaries": self.fake.models}
        else:
            wanted = query.get("type")
            items = [p for p in self.fake.profiles if wanted is None or p.get("type") == wanted]
            token = query.get("nextToken")
            try:
                chunk, next_token = self.fake._page(
                    operation, items, query.get("maxResults"), token
                )
            except _BadToken:
                self._rest_error(400, "ValidationException", "bad nextToken")
                return
            if fault is not None and fault.kind == "loop":
                next_token = token or "page-0-at-0"
            answer = {"inferenceProfileSummaries": chunk}
            if next_token is not None:
                answer["nextToken"] = next_token
        self._send(200, json.dumps(answer).encode(), "application/json")

    # --- STS (query protocol, XML) -------------------------------------------------------

    def _sts(self, raw: bytes) -> None:
        form = {k: v[-1] for k, v in parse_qs(raw.decode(errors="replace")).items()}
        operation = form.get("Action", "?")
        fault = self._fault(operation, form)
        if fault is not None and fault.kind in ("close", "http500"):
            return
        if fault is not None and fault.kind == "deny":
            message = self._denied(operation, fault, self.fake.account)
            self._xml(403, _sts_error("AccessDenied", message))
            return
        if fault is not None and fault.kind == "throttle":
            self._xml(400, _sts_error("Throttling", "Rate exceeded"))
            return
        if fault is not None and fault.kind == "expired":
            self._xml(403, _sts_error("ExpiredToken", _EXPIRED_MESSAGE))
            return
        if operation != "GetCallerIdentity":
            self._xml(400, _sts_error("InvalidAction", f"{operation} is not faked"))
            return
        account = escape(self.fake.account)
        self._xml(
            200,
            '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
            "<GetCallerIdentityResult>"
            f"<Arn>arn:aws:sts::{account}:assumed-role/tester/session</Arn>"
            "<UserId>AROATESTER:session</UserId>"
            f"<Account>{account}</Account>"
            "</GetCallerIdentityResult>"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata>"
            "</GetCallerIdentityResponse>",
        )

    def _xml(self, status: int, text: str) -> None:
        self._send(status, text.encode(), "text/xml")


def _sts_error(code: str, message: str) -> str:
    return (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
        f"<Error><Type>Sender</Type><Code>{escape(code)}</Code>"
        f"<Message>{escape(message)}</Message></Error>"
        f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    )


def raw_requests(fake: QuotaFake, operation: str) -> list[Mapping[str, Any]]:
    """The parameters of every ``operation`` request, in order."""
    return [r.params for r in fake.requests if r.operation == operation]


def realistic_fake(**kwargs: Any) -> QuotaFake:
    """A fake serving ``quota_data``'s realistic account (not started)."""
    from support import quota_data as qd

    def raw_quota(q: Any) -> dict[str, Any]:
        return quota(q.code, q.name, q.value, adjustable=q.adjustable)

    return QuotaFake(
        default_quotas=[raw_quota(q) for q in qd.DEFAULT_QUOTAS],
        applied_quotas=[raw_quota(q) for q in qd.APPLIED_QUOTAS],
        models=[model(m.model_id, m.model_name, m.provider_name) for m in qd.FOUNDATION_MODELS],
        profiles=[
            {
                "inferenceProfileName": p.profile_id.replace(".", "-")[:64],
                "inferenceProfileArn": p.profile_arn,
                "inferenceProfileId": p.profile_id,
                "models": [{"modelArn": arn} for arn in p.model_arns],
                "status": "ACTIVE",
                "type": p.kind,
            }
            for p in qd.INFERENCE_PROFILES
        ],
        **kwargs,
    )
