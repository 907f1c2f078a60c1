"""gRPC edge of quotes: validation, then one transaction per write (a mixin of OrderServicer)."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import order_pb2
from crm.order.v1 import quotes_pb2 as pb
from crm_order.orders import validation as order_validation
from crm_order.orders.views import order_message
from crm_order.quotes import service, validation
from crm_order.quotes.document import Letterhead, render_quote_pdf
from crm_order.quotes.events import QuoteEvents
from crm_order.quotes.views import document_of, quote_message
from crm_order.servicer_base import OrderServicerBase
from crmkit.clock import shanghai_date
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


def _version(value: int) -> int:
    if value < 0:
        raise InvalidArgument("expected_version", "must not be negative / 不能为负数")
    return value


class QuoteRpcs(OrderServicerBase):
    @property
    def _quote_events(self) -> QuoteEvents:
        return QuoteEvents(tables=self._tables, namespace=self._namespace)

    async def CreateQuote(self, request: pb.CreateQuoteRequest, context: RpcContext) -> pb.CreateQuoteResponse:
        identity = current_identity()
        now = self._clock()
        today = shanghai_date(now)
        customer_id = identifier(request.customer_id, "customer_id")
        lines = validation.line_inputs(request.lines)
        valid_until = validation.valid_until(request.valid_until, today)
        notes = validation.notes(request.notes)
        request_id = text(request.request_id, "request_id", max_len=64)

        async def create(session: AsyncSession) -> tuple[str, pb.CreateQuoteResponse]:
            quote = await service.create_quote(
                session,
                identity=identity,
                customer_id=customer_id,
                lines=lines,
                valid_until=valid_until,
                notes=notes,
                now=now,
            )
            return quote.id, pb.CreateQuoteResponse(quote=quote_message(quote, today))

        async def replay(session: AsyncSession, quote_id: str) -> pb.CreateQuoteResponse:
            quote = await service.visible_quote(session, identity=identity, quote_id=quote_id, now=now)
            return pb.CreateQuoteResponse(quote=quote_message(quote, today))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)

    async def GetQuote(self, request: pb.GetQuoteRequest, context: RpcContext) -> pb.GetQuoteResponse:
        identity = current_identity()
        quote_id = identifier(request.id, "id")
        now = self._clock()
        async with self._reads() as session:
            quote = await service.visible_quote(session, identity=identity, quote_id=quote_id, now=now)
            return pb.GetQuoteResponse(quote=quote_message(quote, shanghai_date(now)))

    async def ListQuotes(self, request: pb.ListQuotesRequest, context: RpcContext) -> pb.ListQuotesResponse:
        identity = current_identity()
        size = page_size(request.page_size)
        customer_id = identifier(request.customer_id, "customer_id", required=False)
        state = validation.QUOTE_STATES.parse(request.state, "state", default="")
        now = self._clock()
        async with self._reads() as session:
            quotes, token = await service.list_quotes(
                session,
                identity=identity,
                customer_id=customer_id,
                state=state,
                awaiting_my_decision=request.awaiting_my_decision,
                page_size=size,
                page_token=request.page_token,
                now=now,
            )
            today = shanghai_date(now)
            return pb.ListQuotesResponse(quotes=[quote_message(q, today) for q in quotes], next_page_token=token)

    async def UpdateQuote(self, request: pb.UpdateQuoteRequest, context: RpcContext) -> pb.UpdateQuoteResponse:
        identity = current_identity()
        now = self._clock()
        today = shanghai_date(now)
        quote_id = identifier(request.id, "id")
        fields = validation.update_fields(request.update_fields)
        lines = validation.line_inputs(request.lines) if "lines" in fields else None
        valid_until = validation.valid_until(request.valid_until, today) if "valid_until" in fields else None
        notes = validation.notes(request.notes)
        async with self._writes.transaction() as session:
            quote = await service.update_quote(
                session,
                identity=identity,
                quote_id=quote_id,
                expected_version=_version(request.expected_version),
                fields=fields,
                lines=lines,
                valid_until=valid_until,
                notes=notes,
                now=now,
            )
            return pb.UpdateQuoteResponse(quote=quote_message(quote, today))

    async def SubmitQuote(self, request: pb.SubmitQuoteRequest, context: RpcContext) -> pb.SubmitQuoteResponse:
        identity = current_identity()
        now = self._clock()
        quote_id = identifier(request.id, "id")
        async with self._writes.transaction() as session:
            quote = await service.submit_quote(
                session,
                identity=identity,
                events=self._quote_events,
                quote_id=quote_id,
                expected_version=_version(request.expected_version),
                now=now,
            )
            return pb.SubmitQuoteResponse(quote=quote_message(quote, shanghai_date(now)))

    async def DecideQuote(self, request: pb.DecideQuoteRequest, context: RpcContext) -> pb.DecideQuoteResponse:
        identity = current_identity()
        now = self._clock()
        quote_id = identifier(request.id, "id")
        decision = validation.QUOTE_DECISIONS.parse(request.decision, "decision")
        comment = validation.comment(request.comment, required=decision == "reject")
        async with self._writes.transaction() as session:
            quote = await service.decide_quote(
                session,
                identity=identity,
                events=self._quote_events,
                quote_id=quote_id,
                decision=decision,
                comment=comment,
                expected_version=_version(request.expected_version),
                now=now,
            )
            return pb.DecideQuoteResponse(quote=quote_message(quote, shanghai_date(now)))

    async def ConvertQuoteToOrder(
        self, request: order_pb2.ConvertQuoteToOrderRequest, context: RpcContext
    ) -> order_pb2.ConvertQuoteToOrderResponse:
        identity = current_identity()
        now = self._clock()
        today = shanghai_date(now)
        quote_id = identifier(request.id, "id")
        mode = order_validation.PAYMENT_MODES.parse(request.payment_mode, "payment_mode")
        delivery_date = order_validation.delivery_date(request.delivery_date, today)
        address = order_validation.address(request.delivery_address)
        notes = order_validation.notes(request.notes)
        override_reason = order_validation.reason(request.override_reason, "override_reason")
        async with self._writes.transaction() as session:
            quote, order = await service.convert_quote(
                session,
                identity=identity,
                order_events=self._events,
                quote_id=quote_id,
                expected_version=_version(request.expected_version),
                payment_mode=mode,
                delivery_date=delivery_date,
                delivery_address=address,
                notes=notes,
                urgent=request.urgent,
                override_reason=override_reason,
                now=now,
            )
            return order_pb2.ConvertQuoteToOrderResponse(quote=quote_message(quote, today), order=order_message(order))

    async def RenderQuotePdf(self, request: pb.RenderQuotePdfRequest, context: RpcContext) -> pb.RenderQuotePdfResponse:
        identity = current_identity()
        quote_id = identifier(request.id, "id")
        letterhead = Letterhead(
            company_name=validation.company(request.company_name, "company_name") or identity.tenant_id,
            address=validation.company(request.company_address, "company_address", max_len=200),
            phone=validation.company(request.company_phone, "company_phone", max_len=40),
        )
        salesperson = validation.company(request.salesperson, "salesperson", max_len=50)
        salesperson_phone = validation.company(request.salesperson_phone, "salesperson_phone", max_len=40)
        async with self._reads() as session:
            quote = await service.visible_quote(session, identity=identity, quote_id=quote_id, now=self._clock())
            view = document_of(quote, letterhead, salesperson=salesperson, salesperson_phone=salesperson_phone)
        # fpdf2 is pure Python and takes tens of milliseconds: off the event loop.
        pdf = await asyncio.to_thread(render_quote_pdf, view)
        return pb.RenderQuotePdfResponse(pdf=pdf, filename=f"报价单-{quote.number}.pdf")
