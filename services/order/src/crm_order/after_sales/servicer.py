"""gRPC edge of after-sales: validation, then one transaction per write (a mixin of OrderServicer)."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import after_sales_pb2 as pb
from crm_order.after_sales import service, validation
from crm_order.after_sales.events import AfterSaleEvents
from crm_order.after_sales.views import after_sale_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


def _time(value: Timestamp, field: str) -> dt.datetime:
    try:
        return value.ToDatetime(tzinfo=dt.UTC)
    except (ValueError, OverflowError) as exc:
        raise InvalidArgument(field, "not a valid time / 时间无效") from exc


class AfterSaleRpcs(OrderServicerBase):
    @property
    def _after_sale_events(self) -> AfterSaleEvents:
        return AfterSaleEvents(tables=self._tables, namespace=self._namespace)

    async def RequestAfterSale(
        self, request: pb.RequestAfterSaleRequest, context: RpcContext
    ) -> pb.RequestAfterSaleResponse:
        identity = current_identity()
        now = self._clock()
        order_id = identifier(request.order_id, "order_id")
        kind = validation.AFTER_SALE_TYPES.parse(request.type, "type")
        lines = validation.line_inputs(request.lines)
        reason = validation.reason(request.reason)
        refund = validation.refund_amount(request.refund_amount)
        photos = validation.photo_ids(request.photo_ids)
        request_id = text(request.request_id, "request_id", max_len=64)

        async def create(session: AsyncSession) -> tuple[str, pb.RequestAfterSaleResponse]:
            after_sale = await service.request_after_sale(
                session,
                identity=identity,
                events=self._after_sale_events,
                order_id=order_id,
                kind=kind,
                lines=lines,
                reason=reason,
                refund_fen=refund,
                photo_ids=photos,
                reissue_invoice=request.reissue_invoice,
                now=now,
            )
            return after_sale.id, pb.RequestAfterSaleResponse(after_sale=after_sale_message(after_sale))

        async def replay(session: AsyncSession, after_sale_id: str) -> pb.RequestAfterSaleResponse:
            after_sale = await service.visible_after_sale(
                session, identity=identity, after_sale_id=after_sale_id, now=now
            )
            return pb.RequestAfterSaleResponse(after_sale=after_sale_message(after_sale))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)

    async def GetAfterSale(self, request: pb.GetAfterSaleRequest, context: RpcContext) -> pb.GetAfterSaleResponse:
        identity = current_identity()
        after_sale_id = identifier(request.id, "id")
        async with self._reads() as session:
            after_sale = await service.visible_after_sale(
                session, identity=identity, after_sale_id=after_sale_id, now=self._clock()
            )
            return pb.GetAfterSaleResponse(after_sale=after_sale_message(after_sale))

    async def ListAfterSales(self, request: pb.ListAfterSalesRequest, context: RpcContext) -> pb.ListAfterSalesResponse:
        identity = current_identity()
        size = page_size(request.page_size)
        order_id = identifier(request.order_id, "order_id", required=False)
        customer_id = identifier(request.customer_id, "customer_id", required=False)
        state = validation.AFTER_SALE_STATES.parse(request.state, "state", default="")
        kind = validation.AFTER_SALE_TYPES.parse(request.type, "type", default="")
        since = _time(request.from_time, "from_time") if request.HasField("from_time") else None
        until = _time(request.to_time, "to_time") if request.HasField("to_time") else None
        if since is not None and until is not None and until < since:
            raise InvalidArgument("to_time", "before from_time / 结束时间早于开始时间")
        async with self._reads() as session:
            found, token = await service.list_after_sales(
                session,
                identity=identity,
                order_id=order_id,
                customer_id=customer_id,
                state=state,
                kind=kind,
                since=since,
                until=until,
                awaiting_my_decision=request.awaiting_my_decision,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
            )
            return pb.ListAfterSalesResponse(after_sales=[after_sale_message(a) for a in found], next_page_token=token)

    async def DecideAfterSale(
        self, request: pb.DecideAfterSaleRequest, context: RpcContext
    ) -> pb.DecideAfterSaleResponse:
        identity = current_identity()
        now = self._clock()
        after_sale_id = identifier(request.id, "id")
        decision = validation.AFTER_SALE_DECISIONS.parse(request.decision, "decision")
        comment = validation.comment(request.comment, required=decision == "reject")
        if request.expected_version < 0:
            raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
        async with self._writes.transaction() as session:
            after_sale = await service.decide_after_sale(
                session,
                identity=identity,
                events=self._after_sale_events,
                order_events=self._events,
                after_sale_id=after_sale_id,
                decision=decision,
                comment=comment,
                expected_version=request.expected_version,
                now=now,
            )
            return pb.DecideAfterSaleResponse(
                after_sale=after_sale_message(after_sale), shipment_order_id=after_sale.shipment_order_id
            )
