"""Every table of the order service, so migrations and schema checks see the whole schema."""

from __future__ import annotations

from crm_order import Base
from crm_order.batches.models import OrderLineBatch
from crm_order.catalogue.models import Product
from crm_order.customer_facts.models import CustomerClosure, CustomerFact, CustomerLicence, CustomerShare
from crm_order.deliveries.models import DeliveryPhoto, OrderDelivery
from crm_order.orders.models import Order, OrderLine, OrderRevision
from crm_order.quotes.models import Quote, QuoteLine, QuoteNumber
from crmkit.idempotency import request_table

# Creates made idempotent by request id (crmkit.writes.Writes.create_once).
CREATE_REQUESTS = request_table(Base.metadata)

__all__ = [
    "CREATE_REQUESTS",
    "Base",
    "CustomerClosure",
    "CustomerFact",
    "CustomerLicence",
    "CustomerShare",
    "DeliveryPhoto",
    "Order",
    "OrderDelivery",
    "OrderLine",
    "OrderLineBatch",
    "OrderRevision",
    "Product",
    "Quote",
    "QuoteLine",
    "QuoteNumber",
]
