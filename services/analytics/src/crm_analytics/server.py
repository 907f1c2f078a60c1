"""Composes the analytics service: its read-model database, event consumers and gRPC servicer."""

from __future__ import annotations

from pathlib import Path

import grpc

from crm.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from crm_analytics.customer_summary.events import CONSUMER_NAME, HANDLERS
from crm_analytics.customer_summary.servicer import AnalyticsServicer
from crm_analytics.database import EVENT_TABLES
from crm_analytics.settings import AnalyticsSettings
from crmkit.bus import ensure_stream
from crmkit.consumer import EventConsumer
from crmkit.events import subject_for
from crmkit.runtime import ServiceRuntime, serve_forever, start_runtime

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERVICE = "analytics"
SERVICE_NAME = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name


def consumer_name(namespace: str) -> str:
    """Durable consumer name; namespaced like the streams so environments can share a NATS."""
    return f"{namespace.replace('.', '-')}{CONSUMER_NAME}"


async def start(settings: AnalyticsSettings, *, migrate: bool = True) -> ServiceRuntime:
    runtime = await start_runtime(
        name=SERVICE,
        settings=settings,
        database_url=settings.resolved_database_url(),
        migrations_dir=MIGRATIONS,
        tables=EVENT_TABLES,
        namespace=settings.event_namespace,
        migrate=migrate,
    )
    # The customer stream may not exist yet if analytics starts first; its config is shared.
    customer_stream = await ensure_stream(
        runtime.js, "customer", namespace=runtime.namespace, replicas=settings.stream_replicas
    )
    consumer = EventConsumer(
        name=consumer_name(runtime.namespace),
        js=runtime.js,
        stream=customer_stream,
        filter_subject=subject_for("customer", ">", runtime.namespace),
        sessions=runtime.sessions,
        tables=EVENT_TABLES,
        handlers=HANDLERS,
    )
    runtime.spawn(consumer.run)
    return runtime


async def serve(settings: AnalyticsSettings) -> None:
    runtime = await start(settings)
    servicer = AnalyticsServicer(sessions=runtime.read_sessions)

    def register(server: grpc.aio.Server) -> None:
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server(servicer, server)

    await serve_forever(runtime, registrars=[register], service_names=[SERVICE_NAME])
