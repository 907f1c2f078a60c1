"""Order functions: take the session and keyword arguments, never commit. The caller (the
servicer) owns the transaction, so a change and its events commit together."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, insert, select
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order import Base
from crm_order.catalogue.models import Product
from crm_order.catalogue.service import products_by_id
from crm_order.customer_facts.models import (
    READ_SHARES,
    WRITE_SHARES,
    CustomerClosure,
    CustomerFact,
    CustomerLicence,
)
from crm_order.money import line_amount_fen, quantity_text, yuan
from crm_order.orders import checks
from crm_order.orders.events import OrderEvents
from crm_order.orders.models import Order, OrderLine, OrderRevision
from crm_order.orders.states import ACTION_ROLES, EDITABLE, SELLING, next_state
from crm_order.orders.validation import LineInput
from crm_order.pricing.resolution import resolve_prices
from crmkit.clock import shanghai_date
from crmkit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import Identity, Role
from crmkit.paging import decode_token, encode_token
from crmkit.scope import scope_clause

ORDERS, ORDER_LINES = cast(Table, Order.__table__), cast(Table, OrderLine.__table__)

# Who may let a line through that conflicts with the customer's requirements.
OVERRIDERS = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR})


class CustomerArchived(FailedPrecondition):
    code = "customer_archived"


def _customer_scope(identity: Identity, now: dt.datetime, write: bool) -> ColumnElement[bool]:
    """The customers the caller may see (or, with `write`, change): owned by them or in their
    subtree, as the customer service's rule, or shared with them by a collaborator grant."""
    return scope_clause(
        identity,
        tenant=CustomerFact.tenant_id,
        org_path=CustomerFact.org_path,
        owner=CustomerFact.owner_id,
        shares=WRITE_SHARES if write else READ_SHARES,
        now=now,
    )


def _scoped_orders(identity: Identity, now: dt.datetime, write: bool = False) -> Select[Order]:
    """Orders of the customers the caller may see, by the customers' current owner and unit."""
    facts = and_(CustomerFact.tenant_id == Order.tenant_id, CustomerFact.customer_id == Order.customer_id)
    return select(Order).join(CustomerFact, facts).where(_customer_scope(identity, now, write))


async def visible_customer(
    session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime, write: bool = False
) -> CustomerFact:
    fact = await session.scalar(
        select(CustomerFact).where(CustomerFact.customer_id == customer_id, _customer_scope(identity, now, write))
    )
    if fact is None:
        raise NotFound("customer", customer_id)
    return fact


async def visible_order(
    session: AsyncSession,
    *,
    identity: Identity,
    order_id: str,
    now: dt.datetime,
    lock: bool = False,
    write: bool = False,
) -> Order:
    order, _ = await visible_order_and_customer(
        session, identity=identity, order_id=order_id, now=now, lock=lock, write=write
    )
    return order


async def visible_order_and_customer(
    session: AsyncSession,
    *,
    identity: Identity,
    order_id: str,
    now: dt.datetime,
    lock: bool = False,
    write: bool = False,
) -> tuple[Order, CustomerFact]:
    """The order and its customer's facts (one statement): the scope that lets the caller see
    (or change) the order is the one that lets them see (or change) its customer."""
    statement = _scoped_orders(identity, now, write).add_columns(CustomerFact).where(Order.id == order_id)
    if lock:
        statement = statement.with_for_update(of=Order)
    found = (await session.execute(statement)).first()
    if found is None:
        raise NotFound("order", order_id)
    return found[0], found[1]


def _require_seller(identity: Identity) -> None:
    if identity.role not in SELLING:
        raise PermissionDenied(f"role {identity.role} may not place or change orders / 当前角色不能下单或修改订单")


async def _lines(
    session: AsyncSession, *, identity: Identity, customer: CustomerFact, inputs: list[LineInput], now: dt.datetime
) -> tuple[list[OrderLine], dict[str, Product]]:
    """The order's lines at their prices, and the products they name (read once)."""
    products = await products_by_id(session, identity=identity, ids=[i.product_id for i in inputs])
    # A line given no price takes the customer's agreement price (own, else its group's), else the list price.
    prices = await resolve_prices(
        session, tenant_id=identity.tenant_id, customer=customer, products=products, on_date=shanghai_date(now)
    )
    lines: list[OrderLine] = []
    for index, given in enumerate(inputs):
        product = products.get(given.product_id)
        if product is None:
            raise InvalidArgument(f"lines[{index}].product_id", "unknown product / 商品不存在")
        if not product.active:
            raise InvalidArgument(f"lines[{index}].product_id", "product is no longer sold / 商品已停售")
        price = prices[product.id].price_fen if given.unit_price_fen is None else given.unit_price_fen
        lines.append(
            OrderLine(
                line_no=index + 1,
                product_id=product.id,
                sku=product.sku,
                product_name=product.name,
                unit=product.unit,
                quantity_milli=given.quantity_milli,
                unit_price_fen=price,
                amount_fen=line_amount_fen(given.quantity_milli, price),
                tax_rate=product.tax_rate,
                unit_cost_fen=product.cost_fen,
            )
        )
    return lines, products


@dataclass(frozen=True)
class Checked:
    warnings: list[dict[str, str]]
    overrides: list[dict[str, Any]]


async def check_against_facts(
    session: AsyncSession,
    *,
    identity: Identity,
    fact: CustomerFact,
    lines: list[OrderLine],
    delivery_date: dt.date,
    payment_mode: str,
    today: dt.date,
    overrides: list[dict[str, Any]],
    override_reason: str,
    confirming: bool,
    products: dict[str, Product] | None = None,
) -> Checked:
    """The order against its customer's facts: refuse what must not go through, and return the
    warnings and the requirement overrides (those already recorded, and new ones). `products`:
    the lines' products when the caller has just read them."""
    if fact.archived:
        raise CustomerArchived("customer is archived / 客户已归档，不能下单")
    if products is None:
        products = await products_by_id(session, identity=identity, ids=[line.product_id for line in lines])
    goods = [
        checks.LineGoods(
            line_no=line.line_no,
            sku=line.sku,
            halal=products[line.product_id].halal,
            organic=products[line.product_id].organic,
            contains_pork=products[line.product_id].contains_pork,
            allergens=products[line.product_id].allergens,
        )
        for line in lines
        if line.product_id in products
    ]
    already = {(o["sku"], o["requirement"]) for o in overrides}
    kept = list(overrides)
    new = [c for c in checks.requirement_conflicts(fact.requirements, goods) if (c.sku, c.requirement) not in already]
    if new:
        if not override_reason or identity.role not in OVERRIDERS:
            first = new[0]
            needs = "a supervisor may override with a reason / 需主管填写原因后放行"
            raise checks.RequirementConflict(
                "; ".join(c.message for c in new) + f" — {needs}", field=f"lines[{first.line_no - 1}].product_id"
            )
        kept += [
            {
                "line_no": c.line_no,
                "sku": c.sku,
                "requirement": c.requirement,
                "overridden_by": identity.principal_id,
                "reason": override_reason,
            }
            for c in new
        ]
    closures = await session.execute(
        select(CustomerClosure.start_date, CustomerClosure.end_date).where(
            CustomerClosure.tenant_id == fact.tenant_id,
            CustomerClosure.customer_id == fact.customer_id,
            CustomerClosure.removed.is_(False),
        )
    )
    closed = checks.closure_covering([(s, e) for s, e in closures], delivery_date)
    if closed is not None:
        raise checks.DeliveryDateClosed(
            f"the customer is closed from {closed[0]} to {closed[1]} / "
            f"客户在{closed[0]}至{closed[1]}停工放假，不能送货",
            field="delivery_date",
        )
    warnings: list[dict[str, str]] = []
    if checks.outside_delivery_windows(fact.delivery_windows, delivery_date):
        warnings.append(
            {
                "code": "outside_delivery_window",
                "message": "送货日期不在客户的收货时段内 / "
                "the delivery date is outside the customer's delivery windows",
            }
        )
    licences = await session.execute(
        select(CustomerLicence.kind, CustomerLicence.valid_until).where(
            CustomerLicence.tenant_id == fact.tenant_id,
            CustomerLicence.customer_id == fact.customer_id,
            CustomerLicence.removed.is_(False),
        )
    )
    expired = checks.expired_kinds([(k, v) for k, v in licences], today)
    if expired:
        kinds = ", ".join(expired)
        if payment_mode == "credit" and confirming:
            raise checks.LicenceExpired(
                f"licence expired ({kinds}): credit orders are refused / 客户证照已过期（{kinds}），不能欠款交货",
                field="payment_mode",
            )
        warnings.append(
            {
                "code": "licence_expired",
                "message": f"客户证照已过期：{kinds} / the customer's licence has expired: {kinds}",
            }
        )
    if kept:
        warnings.append(
            {
                "code": "requirement_overridden",
                "message": "有商品与客户特殊要求冲突，已由主管放行 / "
                "lines conflicting with the customer's requirements were let through by a supervisor",
            }
        )
    return Checked(warnings=warnings, overrides=kept)


async def create_order(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    customer_id: str,
    payment_mode: str,
    lines: list[LineInput],
    delivery_date: dt.date,
    delivery_address: str,
    notes: str,
    urgent: bool,
    override_reason: str,
    now: dt.datetime,
) -> Order:
    _require_seller(identity)
    fact = await visible_customer(session, identity=identity, customer_id=customer_id, now=now, write=True)
    order_lines, products = await _lines(session, identity=identity, customer=fact, inputs=lines, now=now)
    checked = await check_against_facts(
        session,
        identity=identity,
        fact=fact,
        lines=order_lines,
        delivery_date=delivery_date,
        payment_mode=payment_mode,
        today=shanghai_date(now),
        overrides=[],
        override_reason=override_reason,
        confirming=False,
        products=products,
    )
    order = Order(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        customer_id=fact.customer_id,
        customer_name=fact.name,
        owner_id=fact.owner_id,
        org_unit_id=fact.org_unit_id,
        payment_mode=payment_mode,
        state="draft",
        total_fen=sum(line.amount_fen for line in order_lines),
        delivery_date=delivery_date,
        delivery_address=delivery_address,
        notes=notes,
        urgent=urgent,
        warnings=checked.warnings,
        overrides=checked.overrides,
        cancel_reason="",
        paid_at=None,
        created_by=identity.principal_id,
        created_at=now,
        updated_at=now,
        version=1,
        lines=order_lines,
    )
    await insert_order(session, order)
    await events.created(session, order, identity.principal_id, now)
    return order


def _column_values(record: Base) -> dict[str, Any]:
    return {column.key: getattr(record, column.key) for column in sa_inspect(type(record)).column_attrs}


async def insert_order(session: AsyncSession, order: Order) -> None:
    """Write a new order and its lines with two plain statements (the busiest write there is);
    the objects stay outside the session, as the answer and the events read them."""
    for line in order.lines:
        line.order_id = order.id
    await session.execute(insert(ORDERS), [_column_values(order)])
    await session.execute(insert(ORDER_LINES), [_column_values(line) for line in order.lines])


def _content(order: Order) -> dict[str, Any]:
    """What a revision compares: the order's content as a reader of the history sees it."""
    return {
        "lines": [
            {
                "sku": line.sku,
                "product_name": line.product_name,
                "quantity": quantity_text(line.quantity_milli),
                "unit_price": yuan(line.unit_price_fen),
                "amount": yuan(line.amount_fen),
            }
            for line in order.lines
        ],
        "delivery_date": order.delivery_date.isoformat(),
        "delivery_address": order.delivery_address,
        "notes": order.notes,
        "urgent": order.urgent,
        "total_amount": yuan(order.total_fen),
    }


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    return {key: {"before": before[key], "after": after[key]} for key in before if before[key] != after[key]}


def check_version(order: Order, expected_version: int) -> None:
    if expected_version and order.version != expected_version:
        raise Aborted("order was changed by someone else / 订单已被他人修改，请刷新后重试")


async def update_order(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    order_id: str,
    expected_version: int,
    fields: set[str],
    lines: list[LineInput] | None,
    delivery_date: dt.date | None,
    delivery_address: str,
    notes: str,
    urgent: bool,
    reason: str,
    override_reason: str,
    now: dt.datetime,
) -> tuple[Order, OrderRevision | None]:
    """Change a draft freely; after confirmation every change is a revision with a reason."""
    _require_seller(identity)
    order = await visible_order(session, identity=identity, order_id=order_id, now=now, lock=True, write=True)
    check_version(order, expected_version)
    if order.state not in EDITABLE:
        raise FailedPrecondition(
            f"order is {order.state}; it no longer changes / 订单已{order.state}，不能再修改", field="id"
        )
    revising = order.state != "draft"
    if revising and not reason:
        raise InvalidArgument("reason", "a change after confirmation needs a reason / 确认后修改订单须填写原因")
    before = _content(order)
    if "lines" in fields and lines is not None:
        customer = await visible_customer(session, identity=identity, customer_id=order.customer_id, now=now)
        order.lines, _ = await _lines(session, identity=identity, customer=customer, inputs=lines, now=now)
        order.total_fen = sum(line.amount_fen for line in order.lines)
    if "delivery_date" in fields and delivery_date is not None:
        order.delivery_date = delivery_date
    if "delivery_address" in fields:
        order.delivery_address = delivery_address
    if "notes" in fields:
        order.notes = notes
    if "urgent" in fields:
        order.urgent = urgent
    diff = _diff(before, _content(order))
    if not diff:
        return order, None
    fact = await visible_customer(session, identity=identity, customer_id=order.customer_id, now=now, write=True)
    checked = await check_against_facts(
        session,
        identity=identity,
        fact=fact,
        lines=order.lines,
        delivery_date=order.delivery_date,
        payment_mode=order.payment_mode,
        today=shanghai_date(now),
        overrides=order.overrides,
        override_reason=override_reason,
        confirming=False,
    )
    order.warnings = checked.warnings
    order.overrides = checked.overrides
    order.owner_id, order.org_unit_id, order.customer_name = fact.owner_id, fact.org_unit_id, fact.name
    order.updated_at = now
    order.version += 1
    await session.flush()
    if not revising:
        return order, None
    revision = OrderRevision(
        id=str(uuid.uuid4()),
        tenant_id=order.tenant_id,
        order_id=order.id,
        version=order.version,
        actor_id=identity.principal_id,
        reason=reason,
        diff_json=json.dumps(diff, ensure_ascii=False, sort_keys=True),
        created_at=now,
    )
    session.add(revision)
    await session.flush()
    await events.revised(session, order, revision, identity.principal_id, now)
    return order, revision


async def transition_order(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    order_id: str,
    action: str,
    expected_version: int,
    reason: str,
    now: dt.datetime,
) -> Order:
    """One move of the state table (`crm_order.orders.states`)."""
    if identity.role not in ACTION_ROLES[action]:
        raise PermissionDenied(f"role {identity.role} may not {action} orders / 当前角色无此操作权限")
    order, fact = await visible_order_and_customer(
        session, identity=identity, order_id=order_id, now=now, lock=True, write=True
    )
    check_version(order, expected_version)
    target = next_state(order.state, action, order.payment_mode)
    if action == "cancel" and not reason:
        raise InvalidArgument("reason", "a cancellation needs a reason / 取消订单须填写原因")
    if action == "confirm":
        checked = await check_against_facts(
            session,
            identity=identity,
            fact=fact,
            lines=order.lines,
            delivery_date=order.delivery_date,
            payment_mode=order.payment_mode,
            today=shanghai_date(now),
            overrides=order.overrides,
            override_reason="",
            confirming=True,
        )
        if order.payment_mode == "credit":
            # The credit service (ReserveCredit) is a later issue: until it exists, and whenever
            # it is down, credit orders are refused and cash on delivery goes on.
            raise checks.CreditUnavailable(
                "credit is unavailable; cash on delivery still works / "
                "信用服务暂不可用，不能欠款交货；货到付款仍可下单",
                field="payment_mode",
            )
        order.warnings = checked.warnings
    if action == "record_payment":
        order.paid_at = now
    if action == "cancel":
        order.cancel_reason = reason
    previous = order.state
    order.state = target
    order.updated_at = now
    order.version += 1
    await session.flush()
    await events.moved(session, order, previous_state=previous, action=action, actor_id=identity.principal_id, at=now)
    return order


async def order_revisions(session: AsyncSession, *, order: Order) -> list[OrderRevision]:
    rows = await session.scalars(
        select(OrderRevision).where(OrderRevision.order_id == order.id).order_by(OrderRevision.version)
    )
    return list(rows)


async def list_orders(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    state: str,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[Order], str]:
    """Urgent first, then newest first; a page continues after the token's (urgent, time, id)."""
    statement = _scoped_orders(identity, now)
    if customer_id:
        statement = statement.where(Order.customer_id == customer_id)
    if state:
        statement = statement.where(Order.state == state)
    after = decode_token(page_token, length=3)
    if after:
        try:
            urgent, created, last_id = bool(after[0]), dt.datetime.fromisoformat(str(after[1])), str(after[2])
        except ValueError as exc:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效") from exc
        if created.tzinfo is None:
            # Our tokens carry the offset; a naive time cannot be compared with stored ones.
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效")
        statement = statement.where(
            (Order.urgent < urgent)
            | ((Order.urgent == urgent) & (Order.created_at < created))
            | ((Order.urgent == urgent) & (Order.created_at == created) & (Order.id < last_id))
        )
    statement = statement.order_by(Order.urgent.desc(), Order.created_at.desc(), Order.id.desc()).limit(page_size + 1)
    rows = list(await session.scalars(statement))
    if len(rows) > page_size:
        last = rows[page_size - 1]
        return rows[:page_size], encode_token([last.urgent, last.created_at.isoformat(), last.id])
    return rows, ""
