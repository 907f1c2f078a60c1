"""The gRPC edge: identity check and error mapping on the server, deadlines and retries on the client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry.sdk.trace import TracerProvider

from crmkit.errors import AlreadyExists, InvalidArgument, NotFound
from crmkit.grpc_client import open_channel
from crmkit.grpc_server import GrpcServer
from crmkit.identity import Identity, Role, current_identity
from crmkit.testing import harness
from crmkit.testing.harness import OrgTree

PROBE = "crm.test.v1.ProbeService"

Behaviour = Callable[[bytes, grpc.aio.ServicerContext], Awaitable[bytes]]


class Probe:
    """A servicer whose methods misbehave on request, speaking raw bytes (no generated code needed)."""

    def __init__(self) -> None:
        self.calls: dict[str, int] = {}
        self.release = asyncio.Event()

    def count(self, method: str) -> int:
        self.calls[method] = self.calls.get(method, 0) + 1
        return self.calls[method]

    async def whoami(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return current_identity().principal_id.encode()

    async def fail_with(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        failures: dict[bytes, Exception] = {
            b"NotFound": NotFound("customer", "c-404"),
            b"InvalidArgument": InvalidArgument("phone", "not a mobile number / 手机号格式不正确"),
            b"AlreadyExists": AlreadyExists("duplicate customer", field="name", details={"existing-id": "c-1"}),
            b"RuntimeError": RuntimeError("database exploded"),
        }
        raise failures[request]

    async def slow(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        await self.release.wait()
        return b"late"

    def unavailable_once(self, method: str) -> Behaviour:
        async def behaviour(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
            if self.count(method) == 1:
                await context.abort(grpc.StatusCode.UNAVAILABLE, "warming up")
            return b"ok"

        return behaviour

    async def echo_traceparent(self, request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        metadata = dict(context.invocation_metadata() or ())
        return str(metadata.get("traceparent", "")).encode()

    def register(self, server: grpc.aio.Server) -> None:
        methods: dict[str, Behaviour] = {
            "WhoAmI": self.whoami,
            "FailWith": self.fail_with,
            "Slow": self.slow,
            "GetFlaky": self.unavailable_once("GetFlaky"),
            "CreateFlaky": self.unavailable_once("CreateFlaky"),
            "EchoTraceparent": self.echo_traceparent,
        }
        handlers = {name: grpc.unary_unary_rpc_method_handler(fn) for name, fn in methods.items()}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(PROBE, handlers),))


@pytest.fixture
def keys(tmp_path: Path) -> harness.TestKeys:
    return harness.make_keys(tmp_path)


@pytest.fixture
def caller() -> Identity:
    org = OrgTree.create()
    return org.person(Role.SALES, org.shop_a, principal_id="rep-7")


@pytest.fixture
def probe() -> Probe:
    return Probe()


@pytest_asyncio.fixture
async def server(keys: harness.TestKeys, probe: Probe) -> AsyncIterator[GrpcServer]:
    server = await harness.start_grpc(
        service="probe", verifier=keys.verifier, registrars=[probe.register], service_names=[PROBE]
    )
    try:
        yield server
    finally:
        probe.release.set()
        await server.stop(grace=0)


@pytest_asyncio.fixture
async def channel(server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with harness.channel_to(server) as channel:
        yield channel


def call(channel: grpc.aio.Channel, method: str) -> grpc.aio.UnaryUnaryMultiCallable:
    return channel.unary_unary(f"/{PROBE}/{method}")


async def rpc_error(pending: Awaitable[object]) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await pending
    return raised.value


def trailers_of(error: grpc.aio.AioRpcError) -> dict[str, str]:
    return {str(key): str(value) for key, value in error.trailing_metadata() or ()}


# --------------------------------------------------------------------------- server call guard


async def test_handler_sees_the_verified_caller(
    channel: grpc.aio.Channel, keys: harness.TestKeys, caller: Identity
) -> None:
    assert await call(channel, "WhoAmI")(b"", metadata=keys.metadata(caller)) == b"rep-7"


async def test_call_without_identity_is_unauthenticated(channel: grpc.aio.Channel) -> None:
    error = await rpc_error(call(channel, "WhoAmI")(b""))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED


async def test_call_with_identity_from_another_signer_is_unauthenticated(
    channel: grpc.aio.Channel, tmp_path: Path, caller: Identity
) -> None:
    forger = harness.make_keys(tmp_path / "forger")
    error = await rpc_error(call(channel, "WhoAmI")(b"", metadata=forger.metadata(caller)))
    assert error.code() is grpc.StatusCode.UNAUTHENTICATED
    assert trailers_of(error)["crm-error-code"] == "unauthenticated"


async def test_not_found_becomes_not_found_with_its_error_code(
    channel: grpc.aio.Channel, keys: harness.TestKeys, caller: Identity
) -> None:
    error = await rpc_error(call(channel, "FailWith")(b"NotFound", metadata=keys.metadata(caller)))
    assert error.code() is grpc.StatusCode.NOT_FOUND
    assert "c-404" in (error.details() or "")
    assert trailers_of(error)["crm-error-code"] == "not_found"


async def test_invalid_argument_names_the_field(
    channel: grpc.aio.Channel, keys: harness.TestKeys, caller: Identity
) -> None:
    error = await rpc_error(call(channel, "FailWith")(b"InvalidArgument", metadata=keys.metadata(caller)))
    trailers = trailers_of(error)
    assert error.code() is grpc.StatusCode.INVALID_ARGUMENT
    assert error.details() == "phone: not a mobile number / 手机号格式不正确"
    assert trailers["crm-error-code"] == "invalid_argument"
    assert trailers["crm-error-field"] == "phone"


async def test_already_exists_points_at_the_existing_record(
    channel: grpc.aio.Channel, keys: harness.TestKeys, caller: Identity
) -> None:
    error = await rpc_error(call(channel, "FailWith")(b"AlreadyExists", metadata=keys.metadata(caller)))
    trailers = trailers_of(error)
    assert error.code() is grpc.StatusCode.ALREADY_EXISTS
    assert trailers["crm-error-existing-id"] == "c-1"


async def test_unexpected_exception_is_internal_with_a_trace_reference(
    channel: grpc.aio.Channel, keys: harness.TestKeys, caller: Identity
) -> None:
    error = await rpc_error(call(channel, "FailWith")(b"RuntimeError", metadata=keys.metadata(caller)))
    assert error.code() is grpc.StatusCode.INTERNAL
    assert "trace" in (error.details() or "")
    assert "database exploded" not in (error.details() or "")


async def test_health_is_serving_without_identity_and_not_serving_once_stopping(
    server: GrpcServer, channel: grpc.aio.Channel
) -> None:
    health = health_pb2_grpc.HealthStub(channel)
    for service in ("", PROBE):
        answer = await health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING

    watch = health.Watch(health_pb2.HealthCheckRequest(service=PROBE))
    assert (await watch.read()).status == health_pb2.HealthCheckResponse.SERVING
    stopping = asyncio.create_task(server.stop(grace=5))
    assert (await watch.read()).status == health_pb2.HealthCheckResponse.NOT_SERVING
    watch.cancel()
    await stopping


# --------------------------------------------------------------------------- client channel


async def test_default_deadline_ends_a_call_to_a_slow_handler(
    server: GrpcServer, keys: harness.TestKeys, caller: Identity
) -> None:
    async with open_channel(f"127.0.0.1:{server.port}", default_deadline=0.2) as channel:
        error = await rpc_error(call(channel, "Slow")(b"", metadata=keys.metadata(caller)))
    assert error.code() is grpc.StatusCode.DEADLINE_EXCEEDED


async def test_idempotent_method_is_retried_when_unavailable(
    server: GrpcServer, probe: Probe, keys: harness.TestKeys, caller: Identity
) -> None:
    async with open_channel(f"127.0.0.1:{server.port}", idempotent_methods=[(PROBE, "GetFlaky")]) as channel:
        assert await call(channel, "GetFlaky")(b"", metadata=keys.metadata(caller)) == b"ok"
    assert probe.calls == {"GetFlaky": 2}


async def test_other_method_is_not_retried_when_unavailable(
    server: GrpcServer, probe: Probe, keys: harness.TestKeys, caller: Identity
) -> None:
    async with open_channel(f"127.0.0.1:{server.port}", idempotent_methods=[(PROBE, "GetFlaky")]) as channel:
        error = await rpc_error(call(channel, "CreateFlaky")(b"", metadata=keys.metadata(caller)))
    assert error.code() is grpc.StatusCode.UNAVAILABLE
    assert probe.calls == {"CreateFlaky": 1}


async def test_client_call_carries_the_callers_trace_context(
    server: GrpcServer, keys: harness.TestKeys, caller: Identity
) -> None:
    tracer = TracerProvider().get_tracer("test")
    async with open_channel(f"127.0.0.1:{server.port}") as channel:
        with tracer.start_as_current_span("gateway request") as span:
            traceparent = await call(channel, "EchoTraceparent")(b"", metadata=keys.metadata(caller))
    assert format(span.get_span_context().trace_id, "032x") in traceparent.decode()


GENERATED = "crm.test.v1.GeneratedStyleService"


async def test_methods_registered_the_way_generated_code_does_are_guarded(
    keys: harness.TestKeys, caller: Identity
) -> None:
    # Generated add_*Servicer_to_server registers both a generic handler and registered methods;
    # grpc serves registered methods without asking the generic handler, so both must be guarded.
    async def whoami(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return current_identity().principal_id.encode()

    def register(server: grpc.aio.Server) -> None:
        handlers = {"WhoAmI": grpc.unary_unary_rpc_method_handler(whoami)}
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(GENERATED, handlers),))
        server.add_registered_method_handlers(GENERATED, handlers)

    server = await harness.start_grpc(
        service="generated", verifier=keys.verifier, registrars=[register], service_names=[GENERATED]
    )
    try:
        async with harness.channel_to(server) as channel:
            method = channel.unary_unary(f"/{GENERATED}/WhoAmI", _registered_method=True)
            anonymous = await rpc_error(method(b""))
            answer = await method(b"", metadata=keys.metadata(caller))
    finally:
        await server.stop(grace=0)

    assert anonymous.code() == grpc.StatusCode.UNAUTHENTICATED
    assert answer == b"rep-7"


async def test_a_server_streaming_method_is_guarded_like_a_unary_one(keys: harness.TestKeys, caller: Identity) -> None:
    async def feed(request: bytes, context: grpc.aio.ServicerContext) -> AsyncIterator[bytes]:
        yield current_identity().principal_id.encode()
        yield b"tick"

    def register(server: grpc.aio.Server) -> None:
        handlers = {"Feed": grpc.unary_stream_rpc_method_handler(feed)}
        server.add_registered_method_handlers(GENERATED, handlers)

    server = await harness.start_grpc(
        service="generated", verifier=keys.verifier, registrars=[register], service_names=[GENERATED]
    )
    try:
        async with harness.channel_to(server) as channel:
            method = channel.unary_stream(f"/{GENERATED}/Feed", _registered_method=True)
            anonymous = await rpc_error(_drain(method(b"")))
            answers = [answer async for answer in method(b"", metadata=keys.metadata(caller))]
    finally:
        await server.stop(grace=0)

    assert anonymous.code() == grpc.StatusCode.UNAUTHENTICATED
    assert answers == [caller.principal_id.encode(), b"tick"]


async def _drain(call: Any) -> list[Any]:
    return [answer async for answer in call]


async def test_a_client_streaming_method_cannot_be_registered_unguarded(keys: harness.TestKeys) -> None:
    async def gather(requests: AsyncIterator[bytes], context: grpc.aio.ServicerContext) -> bytes:
        return b"done"

    def register(server: grpc.aio.Server) -> None:
        handlers = {"Gather": grpc.stream_unary_rpc_method_handler(gather)}
        server.add_registered_method_handlers(GENERATED, handlers)

    with pytest.raises(TypeError, match="only unary and server-streaming"):
        await harness.start_grpc(
            service="generated", verifier=keys.verifier, registrars=[register], service_names=[GENERATED]
        )
