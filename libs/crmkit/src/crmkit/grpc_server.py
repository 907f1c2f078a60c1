"""grpc.aio server with health, reflection, graceful shutdown and the one CRM interceptor."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry import propagate, trace

from crmkit.errors import (
    Aborted,
    AlreadyExists,
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from crmkit.identity import METADATA_KEY, IdentityVerifier, reset_current_identity, set_current_identity
from crmkit.metrics import GRPC_LATENCY, GRPC_REQUESTS
from crmkit.telemetry import current_trace_id

log = logging.getLogger(__name__)
tracer = trace.get_tracer("crmkit.grpc")

STATUS_OF: dict[type[DomainError], grpc.StatusCode] = {
    InvalidArgument: grpc.StatusCode.INVALID_ARGUMENT,
    NotFound: grpc.StatusCode.NOT_FOUND,
    AlreadyExists: grpc.StatusCode.ALREADY_EXISTS,
    PermissionDenied: grpc.StatusCode.PERMISSION_DENIED,
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,
    FailedPrecondition: grpc.StatusCode.FAILED_PRECONDITION,
    Aborted: grpc.StatusCode.ABORTED,
}

# Trailing metadata keys that carry the machine-readable part of an error to the gateway.
ERROR_CODE_KEY = "crm-error-code"
ERROR_FIELD_KEY = "crm-error-field"
ERROR_EXISTING_KEY = "crm-error-existing-id"
ERROR_EXISTING_OWNER_KEY = "crm-error-existing-owner-id"


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

UNAUTHENTICATED_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def status_for(error: DomainError) -> grpc.StatusCode:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return grpc.StatusCode.UNKNOWN


class CrmServerInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Identity check, error → status mapping, RED metrics and a server span, for unary RPCs."""

    def __init__(self, service: str, verifier: IdentityVerifier) -> None:
        self._service = service
        self._verifier = verifier

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or handler.unary_unary is None or method.startswith(UNAUTHENTICATED_METHODS):
            return handler
        inner = handler.unary_unary

        async def guarded(request: Any, context: RpcContext) -> Any:
            metadata = {key: value for key, value in context.invocation_metadata() or ()}
            started = time.perf_counter()
            code = grpc.StatusCode.OK
            parent = propagate.extract(metadata)
            with tracer.start_as_current_span(method, context=parent, kind=trace.SpanKind.SERVER):
                token = None
                try:
                    raw = metadata.get(METADATA_KEY)
                    if not isinstance(raw, str) or not raw:
                        raise Unauthenticated("missing caller identity / 缺少调用者身份")
                    token = set_current_identity(self._verifier.verify(raw))
                    return await inner(request, context)  # type: ignore[arg-type]
                except DomainError as error:
                    code = status_for(error)
                    trailers = [(ERROR_CODE_KEY, error.code)]
                    if error.field:
                        trailers.append((ERROR_FIELD_KEY, encode_field(error.field)))
                    if isinstance(error, AlreadyExists) and error.existing_id:
                        trailers.append((ERROR_EXISTING_KEY, error.existing_id))
                    if isinstance(error, AlreadyExists) and error.existing_owner_id:
                        trailers.append((ERROR_EXISTING_OWNER_KEY, error.existing_owner_id))
                    context.set_trailing_metadata(tuple(trailers))
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
                    GRPC_REQUESTS.labels(self._service, method, code.name).inc()
                    GRPC_LATENCY.labels(self._service, method).observe(time.perf_counter() - started)

        return grpc.unary_unary_rpc_method_handler(
            guarded,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


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
    ) -> None:
        self.server = grpc.aio.server(
            interceptors=[CrmServerInterceptor(service, verifier)],
            options=[("grpc.so_reuseport", 0)],
        )
        for register in registrars:
            register(self.server)
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
        for name in ["", *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self, grace: float = 10.0) -> None:
        for name in ["", *self._service_names]:
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)
