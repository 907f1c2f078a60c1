"""What the order service serves and consumes; the kit runs it."""

from __future__ import annotations

from crm_order.approvals import APPROVAL_GAUGES
from crm_order.customer_facts.events import CUSTOMER_FACTS
from crm_order.models import Base
from crm_order.partner_orders.servicer import PartnerOrderServicer
from crm_order.servicer import OrderServicer
from crm_order.settings import OrderSettings
from crmkit.runtime import ServiceRuntime
from crmkit.service import ServiceSpec
from crmkit.storage import open_object_storage


def servicer_for(runtime: ServiceRuntime) -> OrderServicer:
    settings = runtime.settings
    if not isinstance(settings, OrderSettings):
        raise RuntimeError("the order service runs on OrderSettings (SPEC.settings)")
    return OrderServicer(
        sessions=runtime.sessions,
        read_sessions=runtime.read_sessions,
        tables=runtime.tables,
        relay=runtime.relay,
        namespace=runtime.namespace,
        clock=runtime.clock,
        storage=open_object_storage(settings.storage),
        photo_max_bytes=settings.delivery_photo_max_bytes,
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
    settings=OrderSettings,
    subscriptions=[CUSTOMER_FACTS],
    jobs=[APPROVAL_GAUGES],
)
