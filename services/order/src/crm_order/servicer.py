"""crm.order.v1.OrderService: the features' RPC mixins composed into one servicer."""

from __future__ import annotations

from crm.order.v1 import order_pb2_grpc
from crm_order.after_sales.servicer import AfterSaleRpcs
from crm_order.batches.servicer import BatchRpcs
from crm_order.catalogue.servicer import CatalogueRpcs
from crm_order.deliveries.servicer import DeliveryRpcs
from crm_order.orders.servicer import OrderRpcs
from crm_order.pricing.servicer import PricingRpcs
from crm_order.quotes.servicer import QuoteRpcs


class OrderServicer(
    CatalogueRpcs,
    OrderRpcs,
    QuoteRpcs,
    BatchRpcs,
    PricingRpcs,
    AfterSaleRpcs,
    DeliveryRpcs,
    order_pb2_grpc.OrderServiceServicer,
):
    pass
