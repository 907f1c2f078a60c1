"""Quote functions: take the session and keyword arguments, never commit. The caller (the
servicer) owns the transaction, so a change and its events commit together."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.catalogue.service import products_by_id
from crm_order.customer_facts.models import READ_SHARES, WRITE_SHARES, CustomerFact
from crm_order.orders import service as orders
from crm_order.orders.events import OrderEvents
from crm_order.orders.models import Order
from crm_order.orders.states import SELLING
from crm_order.orders.validation import LineInput
from crm_order.pricing.resolution import resolve_prices
from crm_order.pricing.service import approval_threshold_bp
from crm_order.quotes.events import QuoteEvents
from crm_order.quotes.models import Quote, QuoteLine, QuoteNumber
from crm_order.quotes.validation import QuoteLineInput, check_unit_precision
from crm_order.quotes.views import effective_state, threshold, totals
from crmkit.clock import shanghai_date
from crmkit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import Identity, Role
from crmkit.paging import decode_token, encode_token
from crmkit.scope import scope_clause

# Who decides a quote that needs approval (a supervisor only within their subtree: the data scope).
APPROVERS = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR})
STATE_LABELS = {
    "draft": "草稿",
    "pending_approval": "待审批",
    "approved": "已批准",
    "rejected": "已驳回",
    "converted": "已转订单",
    "expired": "已过期",
}


class QuoteStateConflict(FailedPrecondition):
    """The quote's state does not allow the step (HTTP 409, like an illegal order move)."""

    code = "illegal_quote_state"

    def __init__(self, state: str, step: str) -> None:
        super().__init__(
            f"quote is {state}; cannot {step} / 报价单当前状态为{STATE_LABELS.get(state, state)}，不能{step}",
            field="id",
            details={"current-state": state},
        )


def _scoped_quotes(identity: Identity, now: dt.datetime, write: bool = False) -> Select[Quote]:
    """Quotes of the customers the caller may see (or change), by the customers' current owner
    and unit: the orders' rule, so a rep's quotes and orders cover the same customers."""
    facts = and_(CustomerFact.tenant_id == Quote.tenant_id, CustomerFact.customer_id == Quote.customer_id)
    scope = scope_clause(
        identity,
        tenant=CustomerFact.tenant_id,
        org_path=CustomerFact.org_path,
        owner=CustomerFact.owner_id,
        shares=WRITE_SHARES if write else READ_SHARES,
        now=now,
    )
    return select(Quote).join(CustomerFact, facts).where(scope)


async def visible_quote(
    session: AsyncSession,
    *,
    identity: Identity,
    quote_id: str,
    now: dt.datetime,
    lock: bool = False,
    write: bool = False,
) -> Quote:
    statement = _scoped_quotes(identity, now, write).where(Quote.id == quote_id)
    if lock:
        statement = statement.with_for_update(of=Quote)
    quote = await session.scalar(statement)
    if quote is None:
        raise NotFound("quote", quote_id)
    return quote


def _require_seller(identity: Identity) -> None:
    if identity.role not in SELLING:
        raise PermissionDenied(f"role {identity.role} may not quote / 当前角色不能报价")


def _check_version(quote: Quote, expected_version: int) -> None:
    if expected_version and quote.version != expected_version:
        raise Aborted("quote was changed by someone else / 报价单已被他人修改，请刷新后重试")


async def next_number(session: AsyncSession, *, tenant_id: str, day: dt.date) -> str:
    """BJ-YYYYMMDD-NNNN: the tenant's next number of the day, counted under a row lock."""
    counter = await session.scalar(
        select(QuoteNumber).where(QuoteNumber.tenant_id == tenant_id, QuoteNumber.day == day).with_for_update()
    )
    if counter is None:
        try:
            async with session.begin_nested():
                counter = QuoteNumber(tenant_id=tenant_id, day=day, last=0)
                session.add(counter)
        except IntegrityError:
            # Another quote of the same day created the row first: count under its lock.
            counter = await session.scalar(
                select(QuoteNumber).where(QuoteNumber.tenant_id == tenant_id, QuoteNumber.day == day).with_for_update()
            )
            assert counter is not None
    counter.last += 1
    await session.flush()
    return f"BJ-{day:%Y%m%d}-{counter.last:04d}"


async def _quote_lines(
    session: AsyncSession, *, identity: Identity, customer: CustomerFact, inputs: list[QuoteLineInput], now: dt.datetime
) -> list[QuoteLine]:
    products = await products_by_id(session, identity=identity, ids=[given.product_id for given in inputs])
    prices = await resolve_prices(
        session, tenant_id=identity.tenant_id, customer=customer, products=products, on_date=shanghai_date(now)
    )
    lines: list[QuoteLine] = []
    for index, given in enumerate(inputs):
        product = products.get(given.product_id)
        if product is None:
            raise InvalidArgument(f"lines[{index}].product_id", "unknown product / 商品不存在")
        if not product.active:
            raise InvalidArgument(f"lines[{index}].product_id", "product is no longer sold / 商品已停售")
        check_unit_precision(product.unit, given.quantity_milli, f"lines[{index}].quantity")
        lines.append(
            QuoteLine(
                line_no=index + 1,
                product_id=product.id,
                sku=product.sku,
                product_name=product.name,
                specification=product.specification,
                unit=product.unit,
                quantity_milli=given.quantity_milli,
                list_price_fen=product.list_price_fen,
                quoted_price_fen=(
                    prices[product.id].price_fen if given.quoted_price_fen is None else given.quoted_price_fen
                ),
                unit_cost_fen=product.cost_fen,
            )
        )
    return lines


async def tenant_threshold_bp(session: AsyncSession, identity: Identity) -> int:
    """The tenant's approval threshold in hundredths of a percent (an admin's setting, kept by
    the pricing feature); each quote keeps the one it was priced under."""
    return await approval_threshold_bp(session, tenant_id=identity.tenant_id)


async def create_quote(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    lines: list[QuoteLineInput],
    valid_until: dt.date,
    notes: str,
    now: dt.datetime,
) -> Quote:
    _require_seller(identity)
    fact = await orders.visible_customer(session, identity=identity, customer_id=customer_id, now=now, write=True)
    if fact.archived:
        raise orders.CustomerArchived("customer is archived / 客户已归档，不能报价")
    quote_lines = await _quote_lines(session, identity=identity, customer=fact, inputs=lines, now=now)
    quote = Quote(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        number=await next_number(session, tenant_id=identity.tenant_id, day=shanghai_date(now)),
        customer_id=fact.customer_id,
        customer_name=fact.name,
        owner_id=fact.owner_id,
        org_unit_id=fact.org_unit_id,
        state="draft",
        valid_until=valid_until,
        notes=notes,
        threshold_bp=await tenant_threshold_bp(session, identity),
        submitted_by="",
        submitted_at=None,
        decision="",
        decided_by="",
        decision_comment="",
        decided_at=None,
        order_id="",
        created_by=identity.principal_id,
        created_at=now,
        updated_at=now,
        version=1,
        lines=quote_lines,
    )
    session.add(quote)
    await session.flush()
    return quote


async def update_quote(
    session: AsyncSession,
    *,
    identity: Identity,
    quote_id: str,
    expected_version: int,
    fields: set[str],
    lines: list[QuoteLineInput] | None,
    valid_until: dt.date | None,
    notes: str,
    now: dt.datetime,
) -> Quote:
    """Change a draft, or a rejected quote, which goes back to draft to be submitted again."""
    _require_seller(identity)
    quote = await visible_quote(session, identity=identity, quote_id=quote_id, now=now, lock=True, write=True)
    _check_version(quote, expected_version)
    if quote.state not in ("draft", "rejected"):
        raise QuoteStateConflict(effective_state(quote, shanghai_date(now)), "修改 / change")
    if "lines" in fields and lines is not None:
        customer = await orders.visible_customer(session, identity=identity, customer_id=quote.customer_id, now=now)
        quote.lines = await _quote_lines(session, identity=identity, customer=customer, inputs=lines, now=now)
    if "valid_until" in fields and valid_until is not None:
        quote.valid_until = valid_until
    if "notes" in fields:
        quote.notes = notes
    quote.state = "draft"
    quote.threshold_bp = await tenant_threshold_bp(session, identity)
    quote.updated_at = now
    quote.version += 1
    await session.flush()
    return quote


async def submit_quote(
    session: AsyncSession,
    *,
    identity: Identity,
    events: QuoteEvents,
    quote_id: str,
    expected_version: int,
    now: dt.datetime,
) -> Quote:
    """Approved at once when no line and not the overall rate is below the threshold; else it
    waits for an approver."""
    _require_seller(identity)
    quote = await visible_quote(session, identity=identity, quote_id=quote_id, now=now, lock=True, write=True)
    _check_version(quote, expected_version)
    state = effective_state(quote, shanghai_date(now))
    if state != "draft":
        raise QuoteStateConflict(state, "提交 / submit")
    quote.threshold_bp = await tenant_threshold_bp(session, identity)
    automatic = not totals(quote).needs_approval(threshold(quote))
    quote.submitted_by = identity.principal_id
    quote.submitted_at = now
    quote.decided_by, quote.decision_comment, quote.decided_at = "", "", None
    quote.decision = "approve" if automatic else ""
    if automatic:
        quote.decided_at = now
    quote.state = "approved" if automatic else "pending_approval"
    quote.updated_at = now
    quote.version += 1
    await session.flush()
    await events.submitted(session, quote, identity.principal_id, now)
    if automatic:
        await events.decided(session, quote, identity.principal_id, now, automatic=True)
    return quote


async def decide_quote(
    session: AsyncSession,
    *,
    identity: Identity,
    events: QuoteEvents,
    quote_id: str,
    decision: str,
    comment: str,
    expected_version: int,
    now: dt.datetime,
) -> Quote:
    if identity.role not in APPROVERS:
        raise PermissionDenied(f"role {identity.role} may not approve quotes / 当前角色不能审批报价单")
    quote = await visible_quote(session, identity=identity, quote_id=quote_id, now=now, lock=True)
    _check_version(quote, expected_version)
    state = effective_state(quote, shanghai_date(now))
    if state != "pending_approval":
        raise QuoteStateConflict(state, "审批 / decide")
    if quote.submitted_by == identity.principal_id:
        raise PermissionDenied("nobody approves their own quote / 不能审批自己提交的报价单")
    quote.decision = decision
    quote.decided_by = identity.principal_id
    quote.decision_comment = comment
    quote.decided_at = now
    quote.state = "approved" if decision == "approve" else "rejected"
    quote.updated_at = now
    quote.version += 1
    await session.flush()
    await events.decided(session, quote, identity.principal_id, now, automatic=False)
    return quote


async def convert_quote(
    session: AsyncSession,
    *,
    identity: Identity,
    order_events: OrderEvents,
    quote_id: str,
    expected_version: int,
    payment_mode: str,
    delivery_date: dt.date,
    delivery_address: str,
    notes: str,
    urgent: bool,
    override_reason: str,
    now: dt.datetime,
) -> tuple[Quote, Order]:
    """An approved quote still valid becomes a draft order with the quoted prices, through the
    orders' own function (so the checks against the customer's facts apply)."""
    _require_seller(identity)
    quote = await visible_quote(session, identity=identity, quote_id=quote_id, now=now, lock=True, write=True)
    _check_version(quote, expected_version)
    state = effective_state(quote, shanghai_date(now))
    if state != "approved":
        raise QuoteStateConflict(state, "转为订单 / convert")
    order = await orders.create_order(
        session,
        identity=identity,
        events=order_events,
        customer_id=quote.customer_id,
        payment_mode=payment_mode,
        lines=[
            LineInput(
                product_id=line.product_id, quantity_milli=line.quantity_milli, unit_price_fen=line.quoted_price_fen
            )
            for line in quote.lines
        ],
        delivery_date=delivery_date,
        delivery_address=delivery_address,
        notes=notes or f"报价单 {quote.number}",
        urgent=urgent,
        override_reason=override_reason,
        now=now,
    )
    quote.state = "converted"
    quote.order_id = order.id
    quote.updated_at = now
    quote.version += 1
    await session.flush()
    return quote, order


async def list_quotes(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    state: str,
    awaiting_my_decision: bool,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[Quote], str]:
    """Newest first; a page continues after the token's (time, id)."""
    today = shanghai_date(now)
    statement = _scoped_quotes(identity, now)
    if customer_id:
        statement = statement.where(Quote.customer_id == customer_id)
    if awaiting_my_decision:
        if identity.role not in APPROVERS:
            return [], ""
        statement = statement.where(
            Quote.state == "pending_approval", Quote.valid_until >= today, Quote.submitted_by != identity.principal_id
        )
    if state == "expired":
        statement = statement.where(Quote.state.in_(("draft", "pending_approval", "approved", "rejected")))
        statement = statement.where(Quote.valid_until < today)
    elif state in ("draft", "pending_approval", "approved", "rejected"):
        statement = statement.where(Quote.state == state, Quote.valid_until >= today)
    elif state:
        statement = statement.where(Quote.state == state)
    after = decode_token(page_token, length=2)
    if after:
        try:
            created, last_id = dt.datetime.fromisoformat(str(after[0])), str(after[1])
        except ValueError as exc:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效") from exc
        if created.tzinfo is None:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效")
        statement = statement.where(
            (Quote.created_at < created) | ((Quote.created_at == created) & (Quote.id < last_id))
        )
    statement = statement.order_by(Quote.created_at.desc(), Quote.id.desc()).limit(page_size + 1)
    rows = list(await session.scalars(statement))
    if len(rows) > page_size:
        last = rows[page_size - 1]
        return rows[:page_size], encode_token([last.created_at.isoformat(), last.id])
    return rows, ""
