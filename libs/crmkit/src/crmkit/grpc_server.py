"""grpc.aio server with health, reflection, graceful shutdown and the one CRM call guard."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, unquote

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import propagate, trace

from crmkit.errors import TAXONOMY, DomainError, Unauthenticated
from crmkit.identity import (
    METADATA_KEY,
    Identity,
    IdentityVerifier,
    reset_current_identity,
    set_current_identity,
)
from crmkit.metrics import GRPC_LATENCY, GRPC_REQUESTS, PARTNER_CALLS
from crmkit.partners import PartnerCalls, audit_partner_call, is_partner_token
from crmkit.telemetry import current_trace_id

log = logging.getLogger(__name__)
tracer = trace.get_tracer("crmkit.grpc")

# Each kind's status is declared on the kind itself (crmkit.errors).
STATUS_OF: dict[type[DomainError], grpc.StatusCode] = {kind: kind.grpc_status for kind in TAXONOMY}

# Trailing metadata that carries the machine-readable part of an error to the gateway: the
# code, the field, and each of the error's details as `crm-error-<key>`.
ERROR_PREFIX = "crm-error-"
ERROR_CODE_KEY = f"{ERROR_PREFIX}code"
ERROR_FIELD_KEY = f"{ERROR_PREFIX}field"


def error_trailers(error: DomainError) -> tuple[tuple[str, str], ...]:
    trailers = [(ERROR_CODE_KEY, error.code)]
    if error.field:
        trailers.append((ERROR_FIELD_KEY, encode_field(error.field)))
    trailers.extend((f"{ERROR_PREFIX}{key}", encode_field(value)) for key, value in error.details.items() if value)
    return tuple(trailers)


def error_details(trailers: dict[str, str]) -> dict[str, str]:
    """The details of an error as the caller received them (the inverse of `error_trailers`)."""
    return {
        key.removeprefix(ERROR_PREFIX): decode_field(value)
        for key, value in trailers.items()
        if key.startswith(ERROR_PREFIX) and key not in (ERROR_CODE_KEY, ERROR_FIELD_KEY)
    }


# Metadata values must be ASCII, and a field can be named by a tenant's own key
# ("customer.custom_fields.结算方式"): it travels percent-encoded, plain ASCII names unchanged.
def encode_field(field: str) -> str:
    return quote(field, safe="[]")


def decode_field(value: str) -> str:
    return unquote(value)


if TYPE_CHECKING:
    RpcContext = grpc.aio.ServicerContext[Any, Any]
else:
    RpcContext = grpc.aio.ServicerContext


def status_for(error: DomainError) -> grpc.StatusCode:
    return error.grpc_status


if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]
else:
    Handler = grpc.RpcMethodHandler


# A partner system sends its token the standard way; the gateway sends `x-crm-identity`.
AUTHORIZATION_KEY = "authorization"
BEARER = "Bearer "


def caller_token(metadata: dict[str, Any]) -> str:
    raw = metadata.get(METADATA_KEY)
    if isinstance(raw, str) and raw:
        return raw
    authorization = metadata.get(AUTHORIZATION_KEY)
    if isinstance(authorization, str) and authorization.startswith(BEARER) and len(authorization) > len(BEARER):
        return authorization[len(BEARER) :]
    raise Unauthenticated("missing caller identity / 缺少调用者身份")


class CallGuard:
    """Identity check, partner admission, error → status mapping, RED metrics and a server span
    around each RPC of our services. It wraps their handlers once, when they are registered
    (`GuardedServer`), rather than as a grpc.aio server interceptor, which runs an interceptor
    coroutine and builds a new handler on every call."""

    def __init__(self, service: str, verifier: IdentityVerifier, partners: PartnerCalls | None = None) -> None:
        self._service = service
        self._verifier = verifier
        self._partners = partners or PartnerCalls(burst=120, per_minute=600)

    def wrap(self, method: str, handler: Handler) -> Handler:
        inner = handler.unary_unary
        if inner is None and handler.unary_stream is not None:
            return self._wrap_server_stream(method, handler)
        if inner is None:
            # A client-streaming method would otherwise be served with no identity check at all.
            raise TypeError(f"{method}: only unary and server-streaming RPCs can be guarded")

        async def guarded(request: Any, context: RpcContext) -> Any:
            metadata = {key: value for key, value in context.invocation_metadata() or ()}
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            parent = propagate.extract(metadata)
            with tracer.start_as_current_span(method, context=parent, kind=trace.SpanKind.SERVER):
                token = None
                partner: Identity | None = None
                try:
                    identity = self._verifier.verify(caller_token(metadata))
                    if is_partner_token(identity):
                        partner = identity
                        self._partners.admit(identity, method)
                    token = set_current_identity(identity)
                    return await inner(request, context)  # type: ignore[arg-type]
                except DomainError as error:
                    code = error.grpc_status
                    context.set_trailing_metadata(error_trailers(error))
                    await context.abort(code, error.message)
                except grpc.aio.AbortError:
                    code = context.code() or grpc.StatusCode.UNKNOWN
                    raise
                except Exception:
                    code = grpc.StatusCode.INTERNAL
                    trace_id = current_trace_id()
                    log.exception("unhandled error in %s", method)
                    await context.abort(code, f"internal error / 内部错误 (trace {trace_id})")
                finally:
                    if token is not None:
                        reset_current_identity(token)
                    seconds = time.perf_counter() - started
                    GRPC_REQUESTS.labels(self._service, method, code.name).inc()
                    GRPC_LATENCY.labels(self._service, method).observe(seconds)
                    if partner is not None:
                        PARTNER_CALLS.labels(self._service, partner.principal_id, method, code.name).inc()
                        audit_partner_call(self._service, partner, method, code.name, seconds)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )

    # Server-streaming RPCs (crm.order.v1.PartnerOrderService.WatchOrderChanges): the same
    # identity check, partner admission, error mapping and metrics around the whole stream.
    def _wrap_server_stream(self, method: str, handler: Handler) -> Handler:
        inner = handler.unary_stream
        assert inner is not None

        async def guarded(request: Any, context: RpcContext) -> AsyncIterator[Any]:
            metadata = {key: value for key, value in context.invocation_metadata() or ()}
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            partner: Identity | None = None
            token = None
            try:
                identity = self._verifier.verify(caller_token(metadata))
                if is_partner_token(identity):
                    partner = identity
                    self._partners.admit(identity, method)
                token = set_current_identity(identity)
                async for answer in inner(request, context):  # type: ignore[arg-type,attr-defined]
                    yield answer
            except DomainError as error:
                code = error.grpc_status
                context.set_trailing_metadata(error_trailers(error))
                await context.abort(code, error.message)
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except grpc.aio.AbortError:
                code = context.code() or grpc.StatusCode.UNKNOWN
                raise
            except Exception:
                code = grpc.StatusCode.INTERNAL
                log.exception("unhandled error in %s", method)
                await context.abort(code, f"internal error / 内部错误 (trace {current_trace_id()})")
            finally:
                if token is not None:
                    with contextlib.suppress(ValueError):  # the stream may end in another context
                        reset_current_identity(token)
                seconds = time.perf_counter() - started
                GRPC_REQUESTS.labels(self._service, method, code.name).inc()
                if partner is not None:
                    PARTNER_CALLS.labels(self._service, partner.principal_id, method, code.name).inc()
                    audit_partner_call(self._service, partner, method, code.name, seconds)

        return grpc.unary_stream_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class _GuardedGenericHandler(grpc.GenericRpcHandler):  # type: ignore[type-arg]
    """A generic handler whose method handlers are guarded, each wrapped on its first call."""

    def __init__(self, inner: grpc.GenericRpcHandler[Any, Any], guard: CallGuard) -> None:
        self._inner = inner
        self._guard = guard
        self._wrapped: dict[str, Handler | None] = {}

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> Handler | None:
        method: str = handler_call_details.method
        if method not in self._wrapped:
            handler = self._inner.service(handler_call_details)
            self._wrapped[method] = None if handler is None else self._guard.wrap(method, handler)
        return self._wrapped[method]


class GuardedServer:
    """What a servicer registers with: the server, with every handler guarded on the way in.
    Health and reflection register on the server itself and stay open to anyone."""

    def __init__(self, server: grpc.aio.Server, guard: CallGuard) -> None:
        self._server = server
        self._guard = guard

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Sequence[grpc.GenericRpcHandler[Any, Any]]) -> None:
        self._server.add_generic_rpc_handlers([_GuardedGenericHandler(h, self._guard) for h in generic_rpc_handlers])

    def add_registered_method_handlers(self, service_name: str, method_handlers: dict[str, Handler]) -> None:
        wrapped = {
            name: self._guard.wrap(f"/{service_name}/{name}", handler) for name, handler in method_handlers.items()
        }
        self._server.add_registered_method_handlers(service_name, wrapped)  # type: ignore[attr-defined]


Registrar = Callable[[grpc.aio.Server], None]


class GrpcServer:
    """A started-on-demand grpc.aio server; `stop` drains in-flight calls within a grace period."""

    def __init__(
        self,
        *,
        service: str,
        verifier: IdentityVerifier,
        registrars: Sequence[Registrar],
        service_names: Sequence[str],
        host: str,
        port: int,
        max_receive_bytes: int = 4 * 1024 * 1024,
        partners: PartnerCalls | None = None,
    ) -> None:
        self.server = grpc.aio.server(
            options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", max_receive_bytes)]
        )
        guarded = GuardedServer(self.server, CallGuard(service, verifier, partners))
        for register in registrars:
            register(cast(grpc.aio.Server, guarded))
        self.health = health.aio.HealthServicer()  # type: ignore[attr-defined]
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self._service_names = list(service_names)
        reflection.enable_server_reflection(
            [*service_names, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME],
            self.server,
        )
        self.port = self.server.add_insecure_port(f"{host}:{port}")
        if self.port == 0:
            raise RuntimeError(f"could not bind gRPC on {host}:{port}")

    async def start(self) -> None:
        await self.server.start()
        await self.set_serving(True)

    async def set_serving(self, serving: bool) -> None:
        status = health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        for name in ["", *self._service_names]:
            await self.health.set(name, status)

    async def stop(self, grace: float = 10.0) -> None:
        await self.set_serving(False)
        await self.server.stop(grace)
