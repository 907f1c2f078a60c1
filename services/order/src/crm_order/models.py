"""Every table of the order service, so migrations and schema checks see the whole schema."""

from __future__ import annotations

from crm_order import Base
from crm_order.after_sales.models import AfterSale, AfterSaleLine, AfterSaleNumber
from crm_order.batches.models import OrderLineBatch
from crm_order.batches.recall_models import BatchRecall, RecallCustomer
from crm_order.catalogue.models import Product
from crm_order.customer_facts.models import CustomerClosure, CustomerFact, CustomerLicence, CustomerShare
from crm_order.deliveries.models import DeliveryPhoto, OrderDelivery
from crm_order.orders.models import Order, OrderLine, OrderRevision
from crm_order.partner_orders.models import OrderChange, OrderImport
from crm_order.pricing.models import AgreementPrice, PricingSettings
from crm_order.quotes.models import Quote, QuoteLine, QuoteNumber
from crmkit.idempotency import request_table

# Creates made idempotent by request id (crmkit.writes.Writes.create_once).
CREATE_REQUESTS = request_table(Base.metadata)

__all__ = [
    "CREATE_REQUESTS",
    "AfterSale",
    "AfterSaleLine",
    "AfterSaleNumber",
    "AgreementPrice",
    "Base",
    "BatchRecall",
    "CustomerClosure",
    "CustomerFact",
    "CustomerLicence",
    "CustomerShare",
    "DeliveryPhoto",
    "Order",
    "OrderChange",
    "OrderDelivery",
    "OrderImport",
    "OrderLine",
    "OrderLineBatch",
    "OrderRevision",
    "PricingSettings",
    "Product",
    "Quote",
    "QuoteLine",
    "QuoteNumber",
    "RecallCustomer",
]
