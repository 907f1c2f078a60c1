"""gRPC channels to other services: deadlines on every call, retries only for idempotent ones."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import grpc
from opentelemetry import propagate

DEFAULT_DEADLINE = 5.0


def retry_service_config(idempotent_methods: Sequence[tuple[str, str]]) -> str:
    """Service config retrying UNAVAILABLE for (service, method) pairs that are safe to repeat."""
    return json.dumps(
        {
            "methodConfig": [
                {
                    "name": [{"service": service, "method": method} for service, method in idempotent_methods],
                    "retryPolicy": {
                        "maxAttempts": 4,
                        "initialBackoff": "0.1s",
                        "maxBackoff": "1s",
                        "backoffMultiplier": 2,
                        "retryableStatusCodes": ["UNAVAILABLE"],
                    },
                }
            ]
        }
        if idempotent_methods
        else {}
    )


class _ContextInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[type-arg]
    """Adds the W3C trace context and a default deadline to every outgoing call."""

    def __init__(self, default_deadline: float) -> None:
        self._deadline = default_deadline

    async def intercept_unary_unary(
        self, continuation: Callable[..., Any], details: grpc.aio.ClientCallDetails, request: Any
    ) -> Any:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        metadata = list(details.metadata or ())
        metadata.extend(carrier.items())
        details = grpc.aio.ClientCallDetails(
            method=details.method,
            timeout=details.timeout if details.timeout is not None else self._deadline,
            metadata=grpc.aio.Metadata(*metadata),
            credentials=details.credentials,
            wait_for_ready=details.wait_for_ready,
        )
        return await continuation(details, request)


def open_channel(
    target: str,
    *,
    idempotent_methods: Sequence[tuple[str, str]] = (),
    default_deadline: float = DEFAULT_DEADLINE,
) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", retry_service_config(idempotent_methods)),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30000),
        ],
        interceptors=[_ContextInterceptor(default_deadline)],  # type: ignore[list-item]
    )
