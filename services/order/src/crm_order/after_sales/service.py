"""After-sale functions: take the session and keyword arguments, never commit. The caller (the
servicer) owns the transaction, so a change, its events and the shipment order an approval
creates commit together."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import Select, and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.after_sales.events import AfterSaleEvents
from crm_order.after_sales.models import AfterSale, AfterSaleLine, AfterSaleNumber
from crm_order.after_sales.validation import SHIPPING, AfterSaleLineInput
from crm_order.customer_facts.models import READ_SHARES, WRITE_SHARES, CustomerFact
from crm_order.deliveries.models import OrderDelivery
from crm_order.money import line_amount_fen, quantity_text, yuan
from crm_order.orders import service as orders
from crm_order.orders.events import OrderEvents
from crm_order.orders.models import Order, OrderLine
from crm_order.orders.states import SELLING
from crmkit.clock import shanghai_date
from crmkit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import Identity, Role
from crmkit.paging import keyset_page, newest_first
from crmkit.scope import scope_clause

# Who asks for an after-sale: the sellers and customer service (客服).
REQUESTERS = SELLING | {Role.SERVICE}
# Who decides one (a supervisor only within their subtree: the data scope).
APPROVERS = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR})
# Order states whose goods have reached the customer.
AFTER_DELIVERY = frozenset({"delivered", "completed"})
# After-sales that hold their quantities: a rejected one gives them back.
HOLDING = ("requested", "approved")
STATE_LABELS = {"requested": "待审批", "approved": "已批准", "rejected": "已驳回"}
TYPE_LABELS = {"return_refund": "退货退款", "refund_only": "仅退款", "exchange": "退货换货", "reissue": "补发"}


class AfterSaleStateConflict(FailedPrecondition):
    """The after-sale's state does not allow the step (HTTP 409, like an illegal order move)."""

    code = "illegal_after_sale_state"

    def __init__(self, state: str, step: str) -> None:
        super().__init__(
            f"after-sale is {state}; cannot {step} / 售后单当前状态为{STATE_LABELS.get(state, state)}，不能{step}",
            field="id",
            details={"current-state": state},
        )


class OrderNotDelivered(FailedPrecondition):
    """After-sales are for goods the customer has received (HTTP 409)."""

    code = "order_not_delivered"


def deliverable_quantity(order: Order, delivery: OrderDelivery | None, line_no: int) -> int:
    """How much of an order line has reached the customer, in thousandths: the one place that
    answers it, from the delivery's confirmation. Nothing before the order is delivered; a
    refused delivery delivered nothing; a partial one what it lists for the line (a line it does
    not list came in full); a damaged one everything, since damaged goods were received and are
    exactly what an after-sale is for. An order delivered by a bare move has no confirmation and
    counts as delivered in full."""
    if order.state not in AFTER_DELIVERY:
        return 0
    line = next((line for line in order.lines if line.line_no == line_no), None)
    if line is None:
        return 0
    if delivery is None:
        return line.quantity_milli
    if delivery.exception == "refused":
        return 0
    if delivery.exception == "partial":
        for given in delivery.exception_lines:
            if given["line_no"] == line_no:
                return int(given["quantity_milli"])
    return line.quantity_milli


async def held_quantities(session: AsyncSession, *, order_id: str) -> dict[int, int]:
    """Per order line, what requested and approved after-sales already ask for (thousandths)."""
    rows = await session.execute(
        select(AfterSaleLine.line_no, func.sum(AfterSaleLine.quantity_milli))
        .join(AfterSale, AfterSale.id == AfterSaleLine.after_sale_id)
        .where(AfterSale.order_id == order_id, AfterSale.state.in_(HOLDING))
        .group_by(AfterSaleLine.line_no)
    )
    return {line_no: int(total) for line_no, total in rows}


def _scoped_after_sales(identity: Identity, now: dt.datetime, write: bool = False) -> Select[AfterSale]:
    """After-sales of the orders the caller may see: the order's customer's current owner and
    unit decide, exactly as for the order itself."""
    order = Order.id == AfterSale.order_id
    facts = and_(CustomerFact.tenant_id == Order.tenant_id, CustomerFact.customer_id == Order.customer_id)
    scope = scope_clause(
        identity,
        tenant=CustomerFact.tenant_id,
        org_path=CustomerFact.org_path,
        owner=CustomerFact.owner_id,
        shares=WRITE_SHARES if write else READ_SHARES,
        now=now,
    )
    return select(AfterSale).join(Order, order).join(CustomerFact, facts).where(scope)


async def visible_after_sale(
    session: AsyncSession,
    *,
    identity: Identity,
    after_sale_id: str,
    now: dt.datetime,
    lock: bool = False,
) -> AfterSale:
    statement = _scoped_after_sales(identity, now).where(AfterSale.id == after_sale_id)
    if lock:
        statement = statement.with_for_update(of=AfterSale)
    after_sale = await session.scalar(statement)
    if after_sale is None:
        raise NotFound("after-sale", after_sale_id)
    return after_sale


async def next_number(session: AsyncSession, *, tenant_id: str, day: dt.date) -> str:
    """SH-YYYYMMDD-NNNN: the tenant's next number of the day, counted under a row lock."""
    where = (AfterSaleNumber.tenant_id == tenant_id, AfterSaleNumber.day == day)
    counter = await session.scalar(select(AfterSaleNumber).where(*where).with_for_update())
    if counter is None:
        try:
            async with session.begin_nested():
                counter = AfterSaleNumber(tenant_id=tenant_id, day=day, last=0)
                session.add(counter)
        except IntegrityError:
            # Another after-sale of the same day created the row first: count under its lock.
            counter = await session.scalar(select(AfterSaleNumber).where(*where).with_for_update())
            assert counter is not None
    counter.last += 1
    await session.flush()
    return f"SH-{day:%Y%m%d}-{counter.last:04d}"


def _after_sale_lines(
    order: Order, delivery: OrderDelivery | None, inputs: list[AfterSaleLineInput], held: dict[int, int]
) -> list[AfterSaleLine]:
    by_no = {line.line_no: line for line in order.lines}
    lines: list[AfterSaleLine] = []
    for index, given in enumerate(inputs):
        line = by_no.get(given.line_no)
        if line is None:
            raise InvalidArgument(f"lines[{index}].line_no", "no such order line / 订单无此行")
        room = deliverable_quantity(order, delivery, line.line_no) - held.get(line.line_no, 0)
        if given.quantity_milli > room:
            most = quantity_text(max(room, 0))
            # Every type, refund-only included, is limited by what was received: the money for
            # goods refused or short at the door is settled from the delivery exception (on
            # `order_delivered`), and an after-sale for it as well would refund them twice.
            refused = delivery is not None and delivery.exception == "refused"
            raise InvalidArgument(
                f"lines[{index}].quantity",
                "the delivery was refused: nothing was received / 该订单已拒收，没有签收的商品"
                if refused
                else f"at most {most} {line.unit} (delivered less earlier after-sales) / "
                f"最多{most}{line.unit}（已签收数量减去已申请售后的数量）",
            )
        lines.append(
            AfterSaleLine(
                line_no=line.line_no,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                unit=line.unit,
                quantity_milli=given.quantity_milli,
                unit_price_fen=line.unit_price_fen,
                amount_fen=line_amount_fen(given.quantity_milli, line.unit_price_fen),
                unit_cost_fen=line.unit_cost_fen,
            )
        )
    return lines


def _refund_fen(kind: str, lines: list[AfterSaleLine], given: int | None) -> int:
    value = sum(line.amount_fen for line in lines)
    if kind in SHIPPING:
        # The goods are shipped again instead: nothing is refunded.
        if given:
            raise InvalidArgument("refund_amount", "an exchange or reissue refunds nothing / 换货、补发不退款")
        return 0
    if given is None:
        return value
    if given > value:
        raise InvalidArgument(
            "refund_amount", f"more than the lines' value {yuan(value)} / 退款金额超过所选商品金额{yuan(value)}"
        )
    return given


async def request_after_sale(
    session: AsyncSession,
    *,
    identity: Identity,
    events: AfterSaleEvents,
    order_id: str,
    kind: str,
    lines: list[AfterSaleLineInput],
    reason: str,
    refund_fen: int | None,
    photo_ids: list[str],
    reissue_invoice: bool,
    now: dt.datetime,
) -> AfterSale:
    if identity.role not in REQUESTERS:
        raise PermissionDenied(f"role {identity.role} may not request after-sales / 当前角色不能申请售后")
    # The order's row lock serialises requests on one order, so two cannot both take the last unit.
    order = await orders.visible_order(session, identity=identity, order_id=order_id, now=now, lock=True, write=True)
    if order.state not in AFTER_DELIVERY:
        raise OrderNotDelivered(
            f"order is {order.state}; after-sales need a delivered or completed order / 订单尚未签收，不能申请售后",
            field="order_id",
            details={"current-state": order.state},
        )
    delivery = await session.get(OrderDelivery, order.id)
    held = await held_quantities(session, order_id=order.id)
    after_sale_lines = _after_sale_lines(order, delivery, lines, held)
    refund = _refund_fen(kind, after_sale_lines, refund_fen)
    after_sale = AfterSale(
        id=str(uuid.uuid4()),
        tenant_id=order.tenant_id,
        number=await next_number(session, tenant_id=order.tenant_id, day=shanghai_date(now)),
        order_id=order.id,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        owner_id=order.owner_id,
        org_unit_id=order.org_unit_id,
        type=kind,
        state="requested",
        reason=reason,
        refund_fen=refund,
        photo_ids=photo_ids,
        reissue_invoice=reissue_invoice,
        requested_by=identity.principal_id,
        decision="",
        decided_by="",
        decision_comment="",
        decided_at=None,
        shipment_order_id="",
        created_at=now,
        updated_at=now,
        version=1,
        lines=after_sale_lines,
    )
    session.add(after_sale)
    await session.flush()
    await events.requested(session, after_sale, identity.principal_id, now)
    return after_sale


async def _create_shipment_order(
    session: AsyncSession,
    *,
    order_events: OrderEvents,
    after_sale: AfterSale,
    order: Order,
    actor_id: str,
    now: dt.datetime,
) -> Order:
    """The goods of an approved exchange or reissue shipped again: a new order of the same
    customer with the after-sale's lines at price 0 (the customer paid for them on the first
    order), ready to ship at once — nothing to confirm or pay — to the first order's address."""
    label = TYPE_LABELS[after_sale.type]
    shipment = Order(
        id=str(uuid.uuid4()),
        tenant_id=order.tenant_id,
        customer_id=order.customer_id,
        customer_name=order.customer_name,
        owner_id=order.owner_id,
        org_unit_id=order.org_unit_id,
        payment_mode="cod",
        state="ready_to_ship",
        total_fen=0,
        delivery_date=shanghai_date(now),
        delivery_address=order.delivery_address,
        notes=f"售后{label} {after_sale.number} / after-sale {after_sale.type}",
        urgent=False,
        warnings=[],
        overrides=[],
        cancel_reason="",
        paid_at=None,
        created_by=actor_id,
        created_at=now,
        updated_at=now,
        version=1,
        lines=[
            OrderLine(
                line_no=index + 1,
                product_id=line.product_id,
                sku=line.sku,
                product_name=line.product_name,
                unit=line.unit,
                quantity_milli=line.quantity_milli,
                unit_price_fen=0,
                amount_fen=0,
                tax_rate=_tax_rate(order, line.line_no),
                unit_cost_fen=line.unit_cost_fen,
            )
            for index, line in enumerate(after_sale.lines)
        ],
    )
    session.add(shipment)
    await session.flush()
    await order_events.created(session, shipment, actor_id, now)
    return shipment


def _tax_rate(order: Order, line_no: int) -> int:
    return next((line.tax_rate for line in order.lines if line.line_no == line_no), 0)


async def decide_after_sale(
    session: AsyncSession,
    *,
    identity: Identity,
    events: AfterSaleEvents,
    order_events: OrderEvents,
    after_sale_id: str,
    decision: str,
    comment: str,
    expected_version: int,
    now: dt.datetime,
) -> AfterSale:
    if identity.role not in APPROVERS:
        raise PermissionDenied(f"role {identity.role} may not decide after-sales / 当前角色不能审批售后")
    after_sale = await visible_after_sale(session, identity=identity, after_sale_id=after_sale_id, now=now, lock=True)
    if expected_version and after_sale.version != expected_version:
        raise Aborted("after-sale was changed by someone else / 售后单已被他人修改，请刷新后重试")
    if after_sale.state != "requested":
        raise AfterSaleStateConflict(after_sale.state, "审批 / decide")
    if after_sale.requested_by == identity.principal_id:
        raise PermissionDenied("nobody decides their own after-sale / 不能审批自己提交的售后申请")
    after_sale.decision = decision
    after_sale.decided_by = identity.principal_id
    after_sale.decision_comment = comment
    after_sale.decided_at = now
    after_sale.state = "approved" if decision == "approve" else "rejected"
    if decision == "approve" and after_sale.type in SHIPPING:
        order = await session.get(Order, after_sale.order_id)
        assert order is not None  # the scope query joined it
        shipment = await _create_shipment_order(
            session,
            order_events=order_events,
            after_sale=after_sale,
            order=order,
            actor_id=identity.principal_id,
            now=now,
        )
        after_sale.shipment_order_id = shipment.id
    after_sale.updated_at = now
    after_sale.version += 1
    await session.flush()
    await events.decided(session, after_sale, identity.principal_id, now)
    return after_sale


async def list_after_sales(
    session: AsyncSession,
    *,
    identity: Identity,
    order_id: str,
    customer_id: str,
    state: str,
    kind: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    awaiting_my_decision: bool,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[AfterSale], str]:
    """Newest first; a page continues after the token's (time, id)."""
    statement = _scoped_after_sales(identity, now)
    if order_id:
        statement = statement.where(AfterSale.order_id == order_id)
    if customer_id:
        statement = statement.where(AfterSale.customer_id == customer_id)
    if awaiting_my_decision:
        if identity.role not in APPROVERS:
            return [], ""
        statement = statement.where(AfterSale.state == "requested", AfterSale.requested_by != identity.principal_id)
    if state:
        statement = statement.where(AfterSale.state == state)
    if kind:
        statement = statement.where(AfterSale.type == kind)
    if since is not None:
        statement = statement.where(AfterSale.created_at >= since)
    if until is not None:
        statement = statement.where(AfterSale.created_at < until)
    statement = newest_first(statement, created=AfterSale.created_at, key=AfterSale.id, page_token=page_token)
    rows = list(await session.scalars(statement.limit(page_size + 1)))
    return keyset_page(rows, page_size, lambda row: (row.created_at, row.id))
