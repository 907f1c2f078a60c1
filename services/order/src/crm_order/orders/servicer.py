"""gRPC edge of orders: validation, then one transaction per write (a mixin of OrderServicer)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import order_pb2 as pb
from crm_order.metrics import ORDERS_CREATED, count_move
from crm_order.orders import service, validation
from crm_order.orders.views import order_message, revision_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.clock import shanghai_date
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.partners import PartnerScope, require_scope
from crmkit.validate import identifier, text

DELIVERY_ACTIONS = frozenset({"dispatch", "deliver"})


def _version(value: int) -> int:
    if value < 0:
        raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
    return value


class OrderRpcs(OrderServicerBase):
    async def CreateOrder(self, request: pb.CreateOrderRequest, context: RpcContext) -> pb.CreateOrderResponse:
        identity = current_identity()
        now = self._clock()
        customer_id = identifier(request.customer_id, "customer_id")
        mode = validation.PAYMENT_MODES.parse(request.payment_mode, "payment_mode")
        lines = validation.line_inputs(request.lines)
        delivery_date = validation.delivery_date(request.delivery_date, shanghai_date(now))
        address = validation.address(request.delivery_address)
        notes = validation.notes(request.notes)
        override_reason = validation.reason(request.override_reason, "override_reason")
        request_id = text(request.request_id, "request_id", max_len=64)

        async def create(session: AsyncSession) -> tuple[str, pb.CreateOrderResponse]:
            order = await service.create_order(
                session,
                identity=identity,
                events=self._events,
                customer_id=customer_id,
                payment_mode=mode,
                lines=lines,
                delivery_date=delivery_date,
                delivery_address=address,
                notes=notes,
                urgent=request.urgent,
                override_reason=override_reason,
                now=now,
            )
            return order.id, pb.CreateOrderResponse(order=order_message(order))

        async def replay(session: AsyncSession, order_id: str) -> pb.CreateOrderResponse:
            order = await service.visible_order(session, identity=identity, order_id=order_id, now=now)
            return pb.CreateOrderResponse(order=order_message(order))

        answer = await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)
        ORDERS_CREATED.labels(mode).inc()
        return answer

    async def GetOrder(self, request: pb.GetOrderRequest, context: RpcContext) -> pb.GetOrderResponse:
        identity = current_identity()
        order_id = identifier(request.id, "id")
        async with self._reads() as session:
            order = await service.visible_order(session, identity=identity, order_id=order_id, now=self._clock())
            revisions = await service.order_revisions(session, order=order)
            return pb.GetOrderResponse(order=order_message(order), revisions=[revision_message(r) for r in revisions])

    async def ListOrders(self, request: pb.ListOrdersRequest, context: RpcContext) -> pb.ListOrdersResponse:
        identity = current_identity()
        size = page_size(request.page_size)
        customer_id = identifier(request.customer_id, "customer_id", required=False)
        state = validation.ORDER_STATES.parse(request.state, "state", default="")
        async with self._reads() as session:
            orders, token = await service.list_orders(
                session,
                identity=identity,
                customer_id=customer_id,
                state=state,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
            )
            return pb.ListOrdersResponse(orders=[order_message(o) for o in orders], next_page_token=token)

    async def UpdateOrder(self, request: pb.UpdateOrderRequest, context: RpcContext) -> pb.UpdateOrderResponse:
        identity = current_identity()
        now = self._clock()
        order_id = identifier(request.id, "id")
        fields = validation.update_fields(request.update_fields)
        lines = validation.line_inputs(request.lines) if "lines" in fields else None
        delivery_date = (
            validation.delivery_date(request.delivery_date, shanghai_date(now)) if "delivery_date" in fields else None
        )
        async with self._writes.transaction() as session:
            order, revision = await service.update_order(
                session,
                identity=identity,
                events=self._events,
                order_id=order_id,
                expected_version=_version(request.expected_version),
                fields=fields,
                lines=lines,
                delivery_date=delivery_date,
                delivery_address=validation.address(request.delivery_address),
                notes=validation.notes(request.notes),
                urgent=request.urgent,
                reason=validation.reason(request.reason),
                override_reason=validation.reason(request.override_reason, "override_reason"),
                now=now,
            )
            answer = pb.UpdateOrderResponse(order=order_message(order))
            if revision is not None:
                answer.revision.CopyFrom(revision_message(revision))
        return answer

    async def TransitionOrder(
        self, request: pb.TransitionOrderRequest, context: RpcContext
    ) -> pb.TransitionOrderResponse:
        identity = current_identity()
        order_id = identifier(request.id, "id")
        action = validation.ORDER_ACTIONS.parse(request.action, "action")
        # A dispatch system (deliveries:write) moves an order on the road, nothing else.
        if action in DELIVERY_ACTIONS:
            require_scope(identity, PartnerScope.DELIVERIES_WRITE, PartnerScope.ORDERS_WRITE)
        else:
            require_scope(identity, PartnerScope.ORDERS_WRITE)
        reason = validation.reason(request.reason)
        now = self._clock()
        async with self._writes.transaction() as session:
            order = await service.transition_order(
                session,
                identity=identity,
                events=self._events,
                order_id=order_id,
                action=action,
                expected_version=_version(request.expected_version),
                reason=reason,
                now=now,
            )
            answer = pb.TransitionOrderResponse(order=order_message(order))
        count_move(action, order, now)
        return answer
