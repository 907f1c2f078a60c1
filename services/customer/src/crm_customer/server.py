"""What the customer service serves; the kit runs it."""

from __future__ import annotations

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crm_customer.customers.servicer import CustomerServicer
from crm_customer.database import EVENT_TABLES, Base
from crmkit.runtime import ServiceRuntime
from crmkit.service import ServiceSpec


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


SPEC = ServiceSpec(name="customer", metadata=Base.metadata, servicers=[servicer_for])
