"""Every CloudWatch operation the product sends, with its parameters: the clients
``services.aws`` makes are wrapped so a test can count and inspect the calls."""

from __future__ import annotations

from typing import Any

import pytest

from bedrock_top.services import aws


class CallRecorder:
    """Every CloudWatch operation the product sends, with its parameters."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append((model.name, params))

    def named(self, name: str) -> list[dict[str, Any]]:
        return [p for n, p in self.calls if n == name]


def record_cloudwatch_calls(monkeypatch: pytest.MonkeyPatch) -> CallRecorder:
    """A recorder registered on every CloudWatch client made from now on (in this test)."""
    record = CallRecorder()
    original = aws.make_cloudwatch_clients

    def recording(*args: Any, **kwargs: Any) -> dict[str, Any]:
        clients = original(*args, **kwargs)
        for client in clients.values():
            client.meta.events.register("provide-client-params.cloudwatch", record)
        return clients

    monkeypatch.setattr(aws, "make_cloudwatch_clients", recording)
    return record
