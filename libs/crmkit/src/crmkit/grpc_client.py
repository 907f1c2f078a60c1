"""gRPC channels to other services: deadlines on every call, retries only for idempotent ones."""

from __future__ import annotations

import importlib
import json
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf.descriptor_pb2 import MethodOptions
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


# A method declares whether it may be repeated once, in its proto (`option idempotency_level`).
RETRYABLE_LEVELS = (MethodOptions.NO_SIDE_EFFECTS, MethodOptions.IDEMPOTENT)


def retryable_methods(component: str) -> list[tuple[str, str]]:
    """(service, method) pairs of a component's API (`crm/<name>/v1/<name>.proto`) that are safe
    to repeat, as their protos declare."""
    module = importlib.import_module(f"crm.{component}.v1.{component}_pb2")
    return [
        (service.full_name, method.name)
        for service in module.DESCRIPTOR.services_by_name.values()
        for method in service.methods
        if method.GetOptions().idempotency_level in RETRYABLE_LEVELS
    ]


class _TracedUnaryUnary(grpc.aio.UnaryUnaryMultiCallable):  # type: ignore[type-arg]
    """A unary method that sends the W3C trace context and a deadline with every call."""

    def __init__(self, inner: grpc.aio.UnaryUnaryMultiCallable, default_deadline: float) -> None:  # type: ignore[type-arg]
        self._inner = inner
        self._deadline = default_deadline

    def __call__(  # type: ignore[override]
        self,
        request: Any,
        *,
        timeout: float | None = None,
        metadata: Sequence[tuple[str, str | bytes]] | None = None,
        credentials: grpc.CallCredentials | None = None,
        wait_for_ready: bool | None = None,
        compression: grpc.Compression | None = None,
    ) -> Any:
        carrier: dict[str, str] = {}
        propagate.inject(carrier)
        return self._inner(
            request,
            timeout=self._deadline if timeout is None else timeout,
            metadata=(*(metadata or ()), *carrier.items()),
            credentials=credentials,
            wait_for_ready=wait_for_ready,
            compression=compression,
        )


class ServiceChannel(grpc.aio.Channel):
    """A channel to another service whose unary calls carry the trace context and a deadline.

    A wrapper rather than a client interceptor: grpc.aio runs every intercepted call through an
    extra task and call object, which cost the gateway ~8% of each request (docs/performance.md).
    Everything else is the wrapped channel's.
    """

    def __init__(self, channel: grpc.aio.Channel, default_deadline: float) -> None:
        self._channel = channel
        self._deadline = default_deadline

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return _TracedUnaryUnary(self._channel.unary_unary(method, *args, **kwargs), self._deadline)

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._channel.unary_stream(method, *args, **kwargs)

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._channel.stream_unary(method, *args, **kwargs)

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._channel.stream_stream(method, *args, **kwargs)

    def get_state(self, try_to_connect: bool = False) -> grpc.ChannelConnectivity:
        return self._channel.get_state(try_to_connect)

    async def wait_for_state_change(self, last_observed_state: grpc.ChannelConnectivity) -> None:
        await self._channel.wait_for_state_change(last_observed_state)

    async def channel_ready(self) -> None:
        await self._channel.channel_ready()

    async def close(self, grace: float | None = None) -> None:
        await self._channel.close(grace)

    async def __aenter__(self) -> ServiceChannel:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._channel.close(None)


def open_channel(
    target: str,
    *,
    idempotent_methods: Sequence[tuple[str, str]] = (),
    default_deadline: float = DEFAULT_DEADLINE,
) -> ServiceChannel:
    channel = grpc.aio.insecure_channel(
        target,
        options=[
            ("grpc.service_config", retry_service_config(idempotent_methods)),
            ("grpc.enable_retries", 1),
            ("grpc.keepalive_time_ms", 30000),
            # A service that was down is tried again within 2 s: gRPC's own reconnect backoff
            # grows to 120 s, which kept routes answering 503 long after the service was back.
            ("grpc.initial_reconnect_backoff_ms", 200),
            ("grpc.max_reconnect_backoff_ms", 2000),
        ],
    )
    return ServiceChannel(channel, default_deadline)


def open_component_channel(
    component: str, target: str, *, default_deadline: float = DEFAULT_DEADLINE
) -> ServiceChannel:
    """A channel to a registry component, retrying the reads its protos mark."""
    return open_channel(target, idempotent_methods=retryable_methods(component), default_deadline=default_deadline)
