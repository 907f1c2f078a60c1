"""What every route needs: the app state, the authenticated caller and the gRPC metadata."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import grpc
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncSession

from crm.analytics.v1.analytics_pb2_grpc import AnalyticsServiceStub
from crm.customer.v1.customer_pb2_grpc import CustomerServiceStub
from crm.order.v1.order_pb2_grpc import OrderServiceStub
from crm_gateway.api_clients.service import PARTNER_GROUP, ApiClientKeys, is_api_key
from crm_gateway.attachments.links import AttachmentLinks
from crm_gateway.auth.passwords import PasswordHashing
from crm_gateway.auth.service import AccessTokens
from crm_gateway.directory.service import DisplayNames
from crm_gateway.login_protection.service import LoginPolicy
from crm_gateway.notifications.feed import NotificationFeed
from crm_gateway.problems import document_problems
from crm_gateway.profile.labels import ProfileLabelCache
from crm_gateway.rate_limits.service import RateLimiter, route_group
from crm_gateway.settings import GatewaySettings
from crm_gateway.two_factor.service import MfaTokens
from crmkit.clock import Clock
from crmkit.db import SessionFactory
from crmkit.errors import Unauthenticated
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner
from crmkit.runtime import ServiceRuntime
from crmkit.secretbox import SecretBox
from crmkit.storage import ObjectStorage

if TYPE_CHECKING:
    # The async stub types exist only in the generated .pyi files.
    from crm.analytics.v1.analytics_pb2_grpc import AnalyticsServiceAsyncStub
    from crm.customer.v1.customer_pb2_grpc import CustomerServiceAsyncStub
    from crm.order.v1.order_pb2_grpc import OrderServiceAsyncStub


Stub = TypeVar("Stub")


@dataclass
class GatewayState:
    settings: GatewaySettings
    sessions: SessionFactory
    tokens: AccessTokens
    signer: IdentitySigner
    # One channel per component the registry says the gateway calls, by component name.
    channels: dict[str, grpc.aio.Channel]
    clock: Clock
    identity_metadata: IdentityMetadata
    display_names: DisplayNames
    passwords: PasswordHashing
    login_policy: LoginPolicy
    limiter: RateLimiter
    mfa_tokens: MfaTokens
    # Seals secrets the gateway stores (TOTP secrets).
    secret_box: SecretBox
    # Partner systems' API keys (`api_clients`).
    api_keys: ApiClientKeys
    # New notifications pushed to this replica's open SSE streams (`notifications/feed.py`).
    notification_feed: NotificationFeed
    # The kit's runtime: NATS, the outbox relay, the customer-event consumer, periodic jobs.
    runtime: ServiceRuntime
    # Object storage the attachments are streamed from, and their signed links (attachments/).
    storage: ObjectStorage
    attachment_links: AttachmentLinks
    # Requirement kinds and tier names for customer views (`profile/labels.py`).
    profile_labels: ProfileLabelCache = field(default_factory=ProfileLabelCache)
    _stubs: dict[tuple[object, str], object] = field(default_factory=dict)

    def now(self) -> dt.datetime:
        return self.clock()

    def stub(self, make: Callable[[grpc.aio.Channel], Stub], component: str) -> Stub:
        """The client of `component` built by the generated stub class `make`, made once."""
        key = (make, component)
        found = self._stubs.get(key)
        if found is None:
            found = self._stubs[key] = make(self.channels[component])
        return found  # type: ignore[return-value]

    @property
    def customers(self) -> CustomerServiceAsyncStub:
        return self.stub(CustomerServiceStub, "customer")

    @property
    def analytics(self) -> AnalyticsServiceAsyncStub:
        return self.stub(AnalyticsServiceStub, "analytics")

    @property
    def orders(self) -> OrderServiceAsyncStub:
        return self.stub(OrderServiceStub, "order")


def gateway_state(request: Request) -> GatewayState:
    value: GatewayState = request.app.state.gateway
    return value


# Dependencies are coroutines on purpose: FastAPI runs a plain `def` dependency in a worker
# thread, a thread hop per request for a dictionary lookup.
async def state(request: Request) -> GatewayState:
    return gateway_state(request)


State = Annotated[GatewayState, Depends(state)]
BEARER_SCHEME = "bearer"


def bearer_token(request: Request) -> str:
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    if scheme.lower() != BEARER_SCHEME or not token.strip():
        raise Unauthenticated("missing bearer token / 缺少访问令牌")
    return token.strip()


# The header is read here rather than through fastapi.security.HTTPBearer: a security
# dependency makes FastAPI work out OAuth scopes for the dependency tree on every request
# (~5% of the gateway's time). The scheme is documented in OpenAPI by `document_bearer_auth`.
async def caller(request: Request) -> Identity:
    """The signed-in caller, admitted by their rate limit for the route's group (reads or writes);
    or a partner system by its API key, admitted by its own bucket."""
    state = gateway_state(request)
    token = bearer_token(request)
    if is_api_key(token):
        client = await state.api_keys.caller_of(token)
        request.state.identity = client.identity
        await state.limiter.admit(PARTNER_GROUP, f"client:{client.identity.principal_id}", limit=client.limit)
        return client.identity
    identity = state.tokens.identity_of(token)
    request.state.identity = identity
    await state.limiter.admit(route_group(request.method), f"user:{identity.principal_id}")
    return identity


def client_address(request: Request) -> str:
    """The client's address as uvicorn reports it (behind a proxy, from X-Forwarded-For when
    the proxy is in FORWARDED_ALLOW_IPS)."""
    return request.client.host if request.client else "unknown"


async def anonymous_client(request: Request) -> str:
    """For routes without a signed-in caller (login, refresh, two-factor): the client's address,
    admitted by the "auth" rate limit of that address."""
    address = client_address(request)
    await gateway_state(request).limiter.admit("auth", f"address:{address}")
    return address


# Dependencies that read a bearer token: `caller`, and any a feature adds (two-factor enrolment).
BEARER_DEPENDENCIES: list[Callable[..., Any]] = [caller]


def _depends_on_caller(dependant: Dependant) -> bool:
    return any(sub.call in BEARER_DEPENDENCIES or _depends_on_caller(sub) for sub in dependant.dependencies)


def document_bearer_auth(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Mark every operation of `routers` that needs a signed-in caller with the bearer scheme
    in OpenAPI, and declare every operation's error answers (`problems.document_problems`)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        first_build = app.openapi_schema is None
        schema = build()  # FastAPI's own, cached on the app after the first call
        if first_build:
            schema.setdefault("components", {}).setdefault("securitySchemes", {})[BEARER_SCHEME] = {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
            }
            routes = [route for router in routers for route in router.routes if isinstance(route, APIRoute)]
            for route in routes:
                if _depends_on_caller(route.dependant):
                    operations = schema["paths"].get(route.path_format, {})
                    for method in route.methods or ():
                        if method.lower() in operations:
                            operations[method.lower()]["security"] = [{BEARER_SCHEME: []}]
            document_problems(schema)
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


Caller = Annotated[Identity, Depends(caller)]
AnonymousClient = Annotated[str, Depends(anonymous_client)]


async def db_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session for a route's reads, on autocommit connections: on SQLite a transaction takes
    the one write lock as it begins (crmkit.db), and a read held across a call to a service, or
    beside a second session, would then stall every writer. Writes open their own transaction
    (`state.sessions()` with `session.begin()`)."""
    async with gateway_state(request).runtime.read_sessions() as session:
        yield session


DbSession = Annotated[AsyncSession, Depends(db_session)]


class IdentityMetadata:
    """Signs the caller's identity for services, reusing a token while it is fresh."""

    def __init__(self, signer: IdentitySigner, clock: Clock) -> None:
        self._signer = signer
        self._clock = clock
        self._cache: dict[Identity, tuple[dt.datetime, str]] = {}

    def for_caller(self, identity: Identity) -> tuple[tuple[str, str], ...]:
        now = self._clock()
        cached = self._cache.get(identity)
        if cached is None or now - cached[0] > dt.timedelta(minutes=2):
            if len(self._cache) > 10_000:
                self._cache.clear()
            cached = (now, self._signer.sign(identity, now=now))
            self._cache[identity] = cached
        return ((METADATA_KEY, cached[1]),)
