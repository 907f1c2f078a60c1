"""Composes the customer service process: database, events, gRPC servicer."""

from __future__ import annotations

from pathlib import Path

import grpc

from crm.customer.v1 import customer_pb2, customer_pb2_grpc
from crm_customer.customers.events import SERVICE, CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crm_customer.database import EVENT_TABLES
from crm_customer.servicer import CustomerServicer
from crm_customer.settings import CustomerSettings
from crmkit.runtime import ServiceRuntime, serve_forever, start_runtime

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SERVICE_NAME = customer_pb2.DESCRIPTOR.services_by_name["CustomerService"].full_name


async def start(settings: CustomerSettings, *, migrate: bool = True) -> ServiceRuntime:
    return await start_runtime(
        name=SERVICE,
        settings=settings,
        database_url=settings.resolved_database_url(),
        migrations_dir=MIGRATIONS,
        tables=EVENT_TABLES,
        namespace=settings.event_namespace,
        migrate=migrate,
    )


def servicer_for(runtime: ServiceRuntime) -> CustomerServicer:
    events = CustomerEvents(tables=EVENT_TABLES, namespace=runtime.namespace)
    fast_reads = None
    if runtime.engine.url.get_backend_name() == "postgresql":
        fast_reads = FastCustomerReads(runtime.engine.url)
        runtime.on_close.append(fast_reads.close)
    return CustomerServicer(
        sessions=runtime.sessions,
        read_sessions=runtime.read_sessions,
        events=events,
        relay=runtime.relay,
        fast_reads=fast_reads,
    )


async def serve(settings: CustomerSettings) -> None:
    runtime = await start(settings)
    servicer = servicer_for(runtime)

    def register(server: grpc.aio.Server) -> None:
        customer_pb2_grpc.add_CustomerServiceServicer_to_server(servicer, server)

    await serve_forever(runtime, registrars=[register], service_names=[SERVICE_NAME])
