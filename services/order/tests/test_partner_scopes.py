"""Partner systems on the order service's gRPC: each method's scopes, and TransitionOrder's per action."""

from __future__ import annotations

import dataclasses

import grpc

from crm.order.v1 import order_pb2 as pb
from crmkit.identity import Identity, Role
from crmkit.partners import PartnerScope, token_permissions
from crmkit.testing.rpc import refusal

from .conftest import OrderHarness


def partner_token(identity: Identity, *scopes: PartnerScope) -> Identity:
    """The identity a client-credentials token carries for a client of this role and unit."""
    return dataclasses.replace(identity, permissions=identity.permissions | token_permissions(frozenset(scopes)))


async def test_a_dispatch_system_moves_orders_on_the_road_and_nothing_else(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    finance = org.person(Role.FINANCE, org.sub_a)
    dispatch_system = partner_token(org.person(Role.SERVICE, org.sub_a), PartnerScope.DELIVERIES_WRITE)
    erp = partner_token(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_WRITE)
    customer = await order_service.customer(rep)
    order = await order_service.order(rep, customer, [await order_service.product("NR-001", "冷冻牛腩")])

    not_its_move = await refusal(order_service.move(dispatch_system, order.id, pb.ORDER_ACTION_CONFIRM))
    confirmed = await order_service.move(erp, order.id, pb.ORDER_ACTION_CONFIRM)
    await order_service.move(rep, order.id, pb.ORDER_ACTION_RELEASE)
    await order_service.move(finance, order.id, pb.ORDER_ACTION_RECORD_PAYMENT)
    dispatched = await order_service.move(dispatch_system, order.id, pb.ORDER_ACTION_DISPATCH)
    delivered = await order_service.move(dispatch_system, order.id, pb.ORDER_ACTION_DELIVER)
    chicken = await order_service.product("NR-002", "鸡腿")
    no_create = await refusal(order_service.order(dispatch_system, customer, [chicken]))

    assert not_its_move.code == grpc.StatusCode.PERMISSION_DENIED and "orders:write" in not_its_move.message
    assert confirmed.state == pb.ORDER_STATE_CONFIRMED
    assert (dispatched.state, delivered.state) == (pb.ORDER_STATE_DISPATCHED, pb.ORDER_STATE_DELIVERED)
    assert no_create.code == grpc.StatusCode.PERMISSION_DENIED


async def test_a_reading_partner_may_read_orders_but_not_place_them(order_service: OrderHarness) -> None:
    org = order_service.org
    rep = org.person(Role.SALES, org.shop_a)
    reader = partner_token(org.person(Role.SUPERVISOR, org.sub_a), PartnerScope.ORDERS_READ)
    customer = await order_service.customer(rep)
    beef = await order_service.product("NR-001", "冷冻牛腩")
    order = await order_service.order(rep, customer, [beef])

    seen = await order_service.stub.GetOrder(pb.GetOrderRequest(id=order.id), metadata=order_service.md(reader))
    refused = await refusal(order_service.order(reader, customer, [beef]))

    assert seen.order.id == order.id
    assert refused.code == grpc.StatusCode.PERMISSION_DENIED
