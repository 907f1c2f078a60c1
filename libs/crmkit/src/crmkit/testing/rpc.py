"""Helpers for tests that call a service over gRPC: what a caller sees of a refused call."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any, cast

import grpc

from crmkit.grpc_server import ERROR_FIELD_KEY, decode_field


@dataclass(frozen=True)
class Refusal:
    """What a caller sees of a failed RPC: status, message and the machine-readable trailers."""

    code: grpc.StatusCode
    message: str
    trailers: dict[str, str]

    @property
    def field(self) -> str | None:
        value = self.trailers.get(ERROR_FIELD_KEY)
        return decode_field(value) if value is not None else None


async def refusal(call: Awaitable[Any]) -> Refusal:
    """Await an RPC that must fail and return what the caller saw."""
    try:
        await call
    except grpc.aio.AioRpcError as error:
        # grpc.aio gives (key, value) pairs; the stubs type them as the sync API's metadata objects.
        pairs: tuple[tuple[str, str | bytes], ...] = tuple(cast(Any, error.trailing_metadata() or ()))
        trailers = {key: value for key, value in pairs if isinstance(value, str)}
        return Refusal(error.code(), error.details() or "", trailers)
    raise AssertionError("the call succeeded but was expected to be refused")
