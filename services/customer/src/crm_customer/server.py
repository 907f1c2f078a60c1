"""What the customer service serves; the kit runs it."""

from __future__ import annotations

from pathlib import Path

from crm.customer.v1 import customer_pb2, customer_pb2_grpc
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crm_customer.customers.servicer import CustomerServicer
from crm_customer.database import EVENT_TABLES, Base
from crmkit.runtime import ServiceRuntime
from crmkit.service import GrpcService, ServiceSpec


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
        clock=runtime.clock,
    )


SPEC = ServiceSpec(
    name="customer",
    metadata=Base.metadata,
    migrations=Path(__file__).resolve().parent / "migrations" / "versions",
    grpc=[
        GrpcService(
            descriptor=customer_pb2.DESCRIPTOR.services_by_name["CustomerService"],
            add_to_server=customer_pb2_grpc.add_CustomerServiceServicer_to_server,
            build=servicer_for,
        )
    ],
)
