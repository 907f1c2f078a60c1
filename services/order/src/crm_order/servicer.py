"""crm.order.v1.OrderService: the features' RPC mixins composed into one servicer."""

from __future__ import annotations

from crm.order.v1 import order_pb2_grpc
from crm_order.catalogue.servicer import CatalogueRpcs
from crm_order.orders.servicer import OrderRpcs


class OrderServicer(CatalogueRpcs, OrderRpcs, order_pb2_grpc.OrderServiceServicer):
    pass
