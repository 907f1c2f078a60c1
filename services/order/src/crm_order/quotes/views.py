"""Quotes as the contract describes them, their sums from crm_order.quotes.pricing, and as the
PDF renders them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from crm.order.v1 import quotes_pb2 as pb
from crm_order.money import quantity_text, yuan
from crm_order.quotes.document import Letterhead, QuoteLineView, QuoteView
from crm_order.quotes.models import Quote, QuoteLine
from crm_order.quotes.pricing import PricedLine, QuoteTotals, quote_totals
from crm_order.quotes.validation import QUOTE_DECISIONS, QUOTE_STATES
from crmkit.clock import as_utc
from crmkit.events import timestamp_of

# States a quote leaves for "expired" once its last valid day is behind it.
EXPIRING = frozenset({"draft", "pending_approval", "approved", "rejected"})


def priced(line: QuoteLine) -> PricedLine:
    return PricedLine(
        quantity=Decimal(line.quantity_milli) / 1000,
        list_price=Decimal(line.list_price_fen) / 100,
        quoted_price=Decimal(line.quoted_price_fen) / 100,
    )


def totals(quote: Quote) -> QuoteTotals:
    return quote_totals([priced(line) for line in quote.lines])


def threshold(quote: Quote) -> Decimal:
    return Decimal(quote.threshold_bp) / 100


def effective_state(quote: Quote, today: dt.date) -> str:
    if quote.state in EXPIRING and quote.valid_until < today:
        return "expired"
    return quote.state


def _percent(rate: Decimal | None) -> str:
    return "" if rate is None else f"{rate:.2f}"


def quote_message(quote: Quote, today: dt.date) -> pb.Quote:
    sums = totals(quote)
    message = pb.Quote(
        id=quote.id,
        tenant_id=quote.tenant_id,
        number=quote.number,
        customer_id=quote.customer_id,
        customer_name=quote.customer_name,
        owner_id=quote.owner_id,
        org_unit_id=quote.org_unit_id,
        state=QUOTE_STATES.to_proto(effective_state(quote, today)),  # type: ignore[arg-type]
        lines=[
            pb.QuoteLine(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                specification=line.specification,
                unit=line.unit,
                quantity=quantity_text(line.quantity_milli),
                list_price=yuan(line.list_price_fen),
                quoted_price=yuan(line.quoted_price_fen),
                amount=f"{priced(line).amount:.2f}",
                discount_rate=_percent(priced(line).discount_rate),
                unit_cost=yuan(line.unit_cost_fen),
            )
            for line in quote.lines
        ],
        list_total=f"{sums.list_total:.2f}",
        total_amount=f"{sums.total:.2f}",
        discount_rate=_percent(sums.discount_rate),
        lowest_line_rate=_percent(sums.lowest_line_rate),
        approval_threshold=f"{threshold(quote):.2f}",
        needs_approval=sums.needs_approval(threshold(quote)),
        valid_until=quote.valid_until.isoformat(),
        notes=quote.notes,
        submitted_by=quote.submitted_by,
        order_id=quote.order_id,
        version=quote.version,
        created_by=quote.created_by,
        create_time=timestamp_of(as_utc(quote.created_at)),
        update_time=timestamp_of(as_utc(quote.updated_at)),
    )
    if quote.submitted_at is not None:
        message.submit_time.CopyFrom(timestamp_of(as_utc(quote.submitted_at)))
    if quote.decision:
        message.approval.CopyFrom(
            pb.QuoteApproval(
                decision=QUOTE_DECISIONS.to_proto(quote.decision),  # type: ignore[arg-type]
                decided_by=quote.decided_by,
                comment=quote.decision_comment,
            )
        )
        if quote.decided_at is not None:
            message.approval.decided_time.CopyFrom(timestamp_of(as_utc(quote.decided_at)))
    return message


def document_of(
    quote: Quote, letterhead: Letterhead, *, salesperson: str = "", salesperson_phone: str = ""
) -> QuoteView:
    return QuoteView(
        letterhead=letterhead,
        number=quote.number,
        issued_at=as_utc(quote.submitted_at or quote.created_at),
        valid_until=quote.valid_until,
        customer_name=quote.customer_name,
        lines=[
            QuoteLineView(
                product_name=line.product_name,
                specification=line.specification,
                unit=line.unit,
                quantity=Decimal(line.quantity_milli) / 1000,
                list_price=Decimal(line.list_price_fen) / 100,
                quoted_price=Decimal(line.quoted_price_fen) / 100,
            )
            for line in quote.lines
        ],
        notes=quote.notes,
        salesperson=salesperson,
        salesperson_phone=salesperson_phone,
    )
