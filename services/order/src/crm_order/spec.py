"""What the order service serves and consumes; the kit runs it."""

from __future__ import annotations

from crm_order.approvals import APPROVAL_GAUGES
from crm_order.customer_facts.events import CUSTOMER_FACTS
from crm_order.models import Base
from crm_order.partner_orders.servicer import PartnerOrderServicer
from crm_order.servicer import OrderServicer
from crmkit.runtime import ServiceRuntime
from crmkit.service import ServiceSpec


def servicer_for(runtime: ServiceRuntime) -> OrderServicer:
    return OrderServicer(
        sessions=runtime.sessions,
        read_sessions=runtime.read_sessions,
        tables=runtime.tables,
        relay=runtime.relay,
        namespace=runtime.namespace,
        clock=runtime.clock,
    )


def partner_servicer_for(runtime: ServiceRuntime) -> PartnerOrderServicer:
    """crm.order.v1.PartnerOrderService: order import and the change log (partner_orders)."""
    return PartnerOrderServicer(
        sessions=runtime.sessions,
        read_sessions=runtime.read_sessions,
        tables=runtime.tables,
        relay=runtime.relay,
        namespace=runtime.namespace,
        clock=runtime.clock,
    )


SPEC = ServiceSpec(
    name="order",
    metadata=Base.metadata,
    servicers=[servicer_for, partner_servicer_for],
    subscriptions=[CUSTOMER_FACTS],
    jobs=[APPROVAL_GAUGES],
)
