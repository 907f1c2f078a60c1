"""The FastAPI application: lifespan wiring, health, metrics and the routers."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import secrets
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crm_gateway import problems
from crm_gateway.after_sales.notifications import AfterSaleNotifications
from crm_gateway.after_sales.router import PHOTO_UPLOAD_PATH as AFTER_SALE_PHOTO_PATH
from crm_gateway.after_sales.router import router as after_sales_router
from crm_gateway.analytics.router import router as analytics_router
from crm_gateway.api_clients.router import router as api_clients_router
from crm_gateway.api_clients.service import ApiClientKeys
from crm_gateway.assignment.router import router as assignment_router
from crm_gateway.attachments.links import AttachmentLinks
from crm_gateway.attachments.router import UPLOAD_PATH
from crm_gateway.attachments.router import router as attachments_router
from crm_gateway.auth.passwords import PasswordHashing
from crm_gateway.auth.router import router as auth_router
from crm_gateway.auth.service import AccessTokens
from crm_gateway.batches.notifications import RecallNotifications
from crm_gateway.batches.router import router as batches_router
from crm_gateway.closures.router import router as closures_router
from crm_gateway.customers.router import router as customers_router
from crm_gateway.database import Base, gateway_event_tables
from crm_gateway.deliveries.notifications import UrgentOrderNotifications
from crm_gateway.deliveries.router import PHOTO_UPLOAD_PATH as DELIVERY_PHOTO_PATH
from crm_gateway.deliveries.router import router as deliveries_router
from crm_gateway.directory.events import announce_unannounced_users
from crm_gateway.directory.router import router as directory_router
from crm_gateway.directory.service import DisplayNames, bootstrap
from crm_gateway.edge import EdgeGuard
from crm_gateway.follow_ups.router import router as follow_ups_router
from crm_gateway.front_ends.serving import FrontEnds
from crm_gateway.groups.router import router as groups_router
from crm_gateway.imports.export import router as export_router
from crm_gateway.imports.router import IMPORT_UPLOAD_PATH
from crm_gateway.imports.router import router as imports_router
from crm_gateway.licences.router import router as licences_router
from crm_gateway.login_protection.router import router as login_protection_router
from crm_gateway.login_protection.service import LoginPolicy
from crm_gateway.notifications.events import NotificationEvents
from crm_gateway.notifications.feed import NotificationFeed
from crm_gateway.notifications.revisits import RevisitNotifications
from crm_gateway.notifications.router import router as notifications_router
from crm_gateway.notifications.service import retention_job
from crm_gateway.notifications.webhooks import webhook_delivery_job
from crm_gateway.order_imports.router import ORDER_IMPORT_PATH
from crm_gateway.order_imports.router import router as order_imports_router
from crm_gateway.orders.router import router as orders_router
from crm_gateway.ownership.router import router as ownership_router
from crm_gateway.pools.router import router as pools_router
from crm_gateway.prices.router import router as prices_router
from crm_gateway.products.router import router as products_router
from crm_gateway.profile.router import router as profile_router
from crm_gateway.quotes.notifications import QuoteNotifications
from crm_gateway.quotes.router import router as quotes_router
from crm_gateway.rate_limits.service import RateLimiter, SharedBuckets
from crm_gateway.revisits.router import router as revisits_router
from crm_gateway.settings import GatewaySettings
from crm_gateway.transfers.router import router as transfers_router
from crm_gateway.two_factor.router import router as two_factor_router
from crm_gateway.two_factor.service import MfaTokens
from crm_gateway.web import GatewayState, IdentityMetadata, document_bearer_auth
from crmkit.clock import Clock, utcnow
from crmkit.db import session_factory, upgrade_database
from crmkit.grpc_client import open_component_channel
from crmkit.heap import freeze_startup_heap
from crmkit.identity import IdentitySigner
from crmkit.metrics import HTTP_LATENCY, HTTP_REQUESTS
from crmkit.runtime import ServiceRuntime, start_runtime
from crmkit.secretbox import SecretBox
from crmkit.service import start_consumer, start_jobs
from crmkit.storage import open_object_storage

log = logging.getLogger(__name__)
tracer = trace.get_tracer("crm_gateway")
MIGRATIONS = Path(__file__).resolve().parent / "migrations" / "versions"


async def _bootstrap_admin(state: GatewayState) -> None:
    settings = state.settings
    password = settings.bootstrap_admin_password or secrets.token_urlsafe(12)
    async with state.sessions() as session, session.begin():
        admin = await bootstrap(
            session,
            tenant_name=settings.bootstrap_tenant_name,
            hq_name=settings.bootstrap_hq_name,
            admin_password=password,
            passwords=state.passwords,
            now=state.now(),
            namespace=settings.event_namespace,
        )
    if admin is not None and not settings.bootstrap_admin_password:
        # Shown once, on the first start only; it is not stored anywhere in clear.
        print(f"\n  管理员 admin 初始密码 / initial admin password: {password}\n", file=sys.stderr, flush=True)
    async with state.sessions() as session, session.begin():
        await announce_unannounced_users(session, now=state.now(), namespace=settings.event_namespace)
    state.runtime.relay.wake()


class ObserveRequests:
    """RED metrics and a server span per request, as plain ASGI (Starlette's BaseHTTPMiddleware
    costs a task and a stream per request)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        method = scope["method"]

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            with tracer.start_as_current_span(f"{method} {scope['path']}", kind=trace.SpanKind.SERVER):
                await self.app(scope, receive, record_status)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(method, path, str(status)).inc()
            HTTP_LATENCY.labels(method, path).observe(time.perf_counter() - started)


async def _stop_serving_when_background_work_dies(runtime: ServiceRuntime) -> None:
    """The runtime sets `stop` when its relay, consumer or jobs crash (and when it closes): a
    gateway that no longer consumes or publishes must be restarted, so it stops serving (SIGTERM
    to itself, which uvicorn answers with its graceful shutdown) and its supervisor starts it again."""
    await runtime.stop.wait()
    # The lifespan cancels this before it closes the runtime itself, so this is a crash.
    log.error("background work of the gateway stopped; shutting down so it is restarted")
    signal.raise_signal(signal.SIGTERM)


def create_app(
    settings: GatewaySettings, *, clock: Clock = utcnow, migrate: bool = True, exit_on_crash: bool = False
) -> FastAPI:
    """`exit_on_crash`: the served process (`python -m crm_gateway`) stops when its relay,
    consumer or jobs die; tests keep their process."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        url = settings.database_url
        if migrate:
            await upgrade_database(MIGRATIONS, url, Base.metadata)
        # The kit's runtime, as every service has: NATS as the gateway's own user, its stream,
        # the outbox relay (user_changed) with its gauges, and the engine the gateway shares.
        runtime = await start_runtime(
            name="gateway",
            settings=settings,
            database_url=url,
            migrations_dir=MIGRATIONS,
            tables=gateway_event_tables(),
            namespace=settings.event_namespace,
            migrate=False,
            clock=clock,
        )
        engine = runtime.engine
        feed = NotificationFeed(engine.url)
        signer = IdentitySigner.from_file(settings.identity_private_key_file)
        channels = {
            name: open_component_channel(name, address, default_deadline=settings.grpc_deadline)
            for name, address in settings.upstreams.items()
        }
        sessions = session_factory(engine)
        state = GatewayState(
            settings=settings,
            sessions=sessions,
            tokens=AccessTokens(signer.private_key, dt.timedelta(minutes=settings.access_token_minutes)),
            signer=signer,
            channels=dict(channels),
            clock=clock,
            identity_metadata=IdentityMetadata(signer, clock),
            display_names=DisplayNames(runtime.read_sessions),
            passwords=PasswordHashing(
                workers=settings.password_hash_concurrency, queue_limit=settings.password_queue_limit
            ),
            login_policy=LoginPolicy.from_settings(settings),
            limiter=RateLimiter(
                SharedBuckets(engine),
                limits=settings.rate_limits,
                lease=settings.rate_limit_lease,
                clock=clock,
                enabled=settings.rate_limits_enabled,
            ),
            mfa_tokens=MfaTokens(signer.private_key, dt.timedelta(minutes=settings.mfa_token_minutes), clock),
            secret_box=SecretBox.from_key_file(settings.secret_key_file),
            api_keys=ApiClientKeys(sessions),
            notification_feed=feed,
            runtime=runtime,
            storage=open_object_storage(settings.storage),
            attachment_links=AttachmentLinks.from_private_key(
                signer.private_key, clock=clock, lifetime=dt.timedelta(seconds=settings.attachment_link_seconds)
            ),
        )
        app.state.gateway = state
        try:
            await _bootstrap_admin(state)
            runtime.spawn(feed.listen)
            start_consumer(runtime, "gateway", NotificationEvents(feed, clock).subscription())
            start_consumer(runtime, "gateway", RevisitNotifications(feed, clock).subscription())
            start_consumer(runtime, "gateway", QuoteNotifications(feed, clock).subscription())
            start_consumer(runtime, "gateway", RecallNotifications(feed, clock).subscription())
            start_consumer(runtime, "gateway", AfterSaleNotifications(feed, clock).subscription())
            start_consumer(runtime, "gateway", UrgentOrderNotifications(feed, clock).subscription())
            await start_jobs(runtime, "gateway", [retention_job(), webhook_delivery_job()])
        except BaseException:
            await runtime.close()
            raise
        watch = asyncio.create_task(_stop_serving_when_background_work_dies(runtime)) if exit_on_crash else None
        freeze_startup_heap()
        yield
        if watch is not None:
            watch.cancel()
        for channel in channels.values():
            await channel.close(grace=None)
        state.passwords.close()
        await runtime.close()

    docs = settings.api_docs
    app = FastAPI(
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
        title="Keyuan 客源 CRM API",
        version="1.0.0",
        description="客户管理系统接口 / Customer-management API for B2B distributors. "
        "Authenticate with POST /api/v1/auth/login, then send `Authorization: Bearer <access_token>`; "
        "a partner system sends its API key (`ky_…`, from POST /api/v1/api-clients) the same way. "
        "Errors are application/problem+json with a stable `code`; send `Accept-Language: en` for English.",
        lifespan=lifespan,
        openapi_tags=[
            {"name": name}
            for name in (
                "auth",
                "directory",
                "customers",
                "follow-ups",
                "attachments",
                "ownership",
                "pools",
                "analytics",
                "products",
                "orders",
                "order-imports",
                "quotes",
                "batches",
                "prices",
                "after-sales",
                "deliveries",
                "api clients",
                "notifications",
            )
        ],
        # FastAPI's own OpenTelemetry layer would add a second server span and a span per
        # dependency to every request; ObserveRequests records the one span and the RED metrics.
        telemetry={"tracing": False, "metrics": False, "logs": False, "operation_spans": False},
    )
    problems.install(app)

    # Added first, so it sits inside ObserveRequests: a refused body is still counted.
    app.add_middleware(
        EdgeGuard,
        max_body_bytes=settings.max_body_bytes,
        hsts_seconds=settings.hsts_seconds,
        large_bodies=[
            ("POST", UPLOAD_PATH, settings.max_upload_bytes),
            ("POST", AFTER_SALE_PHOTO_PATH, settings.max_upload_bytes),
            ("POST", re.compile(re.escape(IMPORT_UPLOAD_PATH)), settings.import_max_bytes),
            ("POST", re.compile(re.escape(ORDER_IMPORT_PATH)), settings.import_max_bytes),
            ("POST", DELIVERY_PHOTO_PATH, settings.max_upload_bytes),
        ],
    )
    app.add_middleware(ObserveRequests)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> JSONResponse:
        """Ready means this process can do its own work: its database answers. The services it
        calls are reported, not required: with one of them down the gateway still serves every
        route that does not need it, and the others answer 503 (taking the whole API out of the
        load balancer for one missing service would be worse)."""
        checks: dict[str, str] = {}
        state: GatewayState = request.app.state.gateway
        try:
            async with state.sessions() as session:
                await session.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"error: {type(exc).__name__}"
        # Reported, not required: user changes wait in the outbox and customer events in the
        # stream until the connection is back.
        checks["nats"] = "ok" if state.runtime.nats.is_connected else "disconnected"
        for name, channel in state.channels.items():
            try:
                reply = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=1.0)
                checks[name] = "ok" if reply.status == health_pb2.HealthCheckResponse.SERVING else "not serving"
            except Exception as exc:
                checks[name] = f"error: {type(exc).__name__}"
        ready = checks["database"] == "ok"
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
        )

    # Routes are matched in order, one regex each, and most requests are customer reads: their
    # router goes first (matching cost ~3.5% of the gateway's time with it third). The docs
    # keep their own order through `openapi_tags`.
    routers = [
        customers_router,
        follow_ups_router,
        revisits_router,
        attachments_router,
        ownership_router,
        pools_router,
        assignment_router,
        transfers_router,
        closures_router,
        licences_router,
        profile_router,
        groups_router,
        imports_router,
        export_router,
        auth_router,
        two_factor_router,
        directory_router,
        login_protection_router,
        api_clients_router,
        analytics_router,
        notifications_router,
        # Before orders_router, whose POST /orders/{id}/{action} would take /orders/{id}/after-sales.
        after_sales_router,
        orders_router,
        order_imports_router,
        products_router,
        quotes_router,
        batches_router,
        prices_router,
        deliveries_router,
    ]
    for router in routers:
        app.include_router(router)
    document_bearer_auth(app, routers)
    # The console and the H5 answer whatever no route matched (the router's default): a catch-all
    # route would answer a wrong method on any unknown API path with 405, and a mount at "/" would
    # match before the router's trailing-slash redirects.
    app.router.default = FrontEnds(settings.web_dir)
    return app
