"""Importing orders from a partner's system or an admin's history file: take the session and
keyword arguments, never commit (the servicer's transaction holds the orders, their external ids
and their events together).

Decisions (docs/architecture.md, "Partner order import"):
- per item: good items are written, bad ones answer their errors; nothing is written twice for
  one (tenant, source, external_id) — the second import answers already_imported with the first
  order's id and never overwrites it (a "content_differs" warning says when it came changed);
- imported orders are history: the checks that refuse new orders (special requirements,
  closures, expired licences, an archived customer) only record warnings on the order;
- one `order_imported` event per order, at the order time (business time), instead of
  order_created and the move events.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.order.v1 import events_pb2
from crm_order.catalogue.models import Product
from crm_order.customer_facts.models import CustomerClosure, CustomerFact, CustomerLicence
from crm_order.money import line_amount_fen
from crm_order.orders import checks
from crm_order.orders.events import OrderEvents
from crm_order.orders.models import Order, OrderLine
from crm_order.orders.service import _customer_scope
from crm_order.orders.states import SELLING
from crm_order.orders.views import order_message
from crm_order.partner_orders.models import OrderImport
from crm_order.partner_orders.validation import ImportItem, ItemErrors
from crmkit.clock import shanghai_date
from crmkit.errors import PermissionDenied
from crmkit.events import timestamp_of
from crmkit.identity import Identity
from crmkit.partners import is_partner_token

# An admin's history file (through the gateway) imports under this source, whoever uploads it.
CONSOLE_SOURCE = "console"


@dataclass
class ItemResult:
    index: int
    external_id: str
    outcome: str  # "created", "already_imported", "failed"
    order_id: str = ""
    errors: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[dict[str, str]] = field(default_factory=list)


def import_source(identity: Identity) -> str:
    """Whose external ids: a partner client's own, or the console's."""
    return identity.principal_id if is_partner_token(identity) else CONSOLE_SOURCE


def _warning(code: str, message: str) -> dict[str, str]:
    return {"code": code, "message": message}


async def _facts(session: AsyncSession, identity: Identity, ids: set[str], now: dt.datetime) -> dict[str, CustomerFact]:
    rows = await session.scalars(
        select(CustomerFact).where(CustomerFact.customer_id.in_(ids), _customer_scope(identity, now, True))
    )
    return {fact.customer_id: fact for fact in rows}


async def _products(
    session: AsyncSession, identity: Identity, items: list[ImportItem]
) -> tuple[dict[str, Product], dict[str, Product]]:
    ids = {line.product_id for item in items for line in item.lines if line.product_id}
    skus = {line.sku for item in items for line in item.lines if line.sku and not line.product_id}
    by_id: dict[str, Product] = {}
    by_sku: dict[str, Product] = {}
    if ids:
        rows = await session.scalars(
            select(Product).where(Product.tenant_id == identity.tenant_id, Product.id.in_(ids))
        )
        by_id = {p.id: p for p in rows}
    if skus:
        rows = await session.scalars(
            select(Product).where(Product.tenant_id == identity.tenant_id, Product.sku.in_(skus))
        )
        by_sku = {p.sku: p for p in rows}
    return by_id, by_sku


async def _history_warnings(
    session: AsyncSession, fact: CustomerFact, goods: list[checks.LineGoods], item: ImportItem
) -> list[dict[str, str]]:
    """What would have refused or warned a new order, as warnings on the imported one."""
    warnings: list[dict[str, str]] = []
    if fact.archived:
        warnings.append(_warning("customer_archived", "客户已归档 / the customer is archived"))
    for conflict in checks.requirement_conflicts(fact.requirements, goods):
        warnings.append(_warning("requirement_conflict", conflict.message))
    closures = await session.execute(
        select(CustomerClosure.start_date, CustomerClosure.end_date).where(
            CustomerClosure.tenant_id == fact.tenant_id,
            CustomerClosure.customer_id == fact.customer_id,
            CustomerClosure.removed.is_(False),
        )
    )
    closed = checks.closure_covering([(s, e) for s, e in closures], item.delivery_date)
    if closed is not None:
        warnings.append(
            _warning(
                "delivery_date_closed",
                f"送货日期在客户停工放假期间（{closed[0]}至{closed[1]}） / "
                f"the delivery date falls in the customer's closure {closed[0]} to {closed[1]}",
            )
        )
    licences = await session.execute(
        select(CustomerLicence.kind, CustomerLicence.valid_until).where(
            CustomerLicence.tenant_id == fact.tenant_id,
            CustomerLicence.customer_id == fact.customer_id,
            CustomerLicence.removed.is_(False),
        )
    )
    expired = checks.expired_kinds([(k, v) for k, v in licences], shanghai_date(item.order_time))
    if expired:
        kinds = ", ".join(expired)
        warnings.append(
            _warning("licence_expired", f"下单时客户证照已过期：{kinds} / the customer's licence had expired: {kinds}")
        )
    if item.payment_mode == "credit" and item.state not in {"delivered", "completed", "cancelled"}:
        warnings.append(
            _warning(
                "credit_not_reserved", "导入的欠款订单未占用信用额度 / no credit was reserved for this imported order"
            )
        )
    return warnings


async def import_orders(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    items: Sequence[ImportItem | ItemErrors],
    dry_run: bool,
    now: dt.datetime,
) -> list[ItemResult]:
    """One result per item, in order. Writes the good new ones unless `dry_run`."""
    if identity.role not in SELLING:
        raise PermissionDenied(f"role {identity.role} may not import orders / 当前角色不能导入订单")
    source = import_source(identity)
    valid = [item for item in items if isinstance(item, ImportItem)]
    known: dict[str, OrderImport] = {}
    if valid:
        rows = await session.scalars(
            select(OrderImport).where(
                OrderImport.tenant_id == identity.tenant_id,
                OrderImport.source == source,
                OrderImport.external_id.in_({item.external_id for item in valid}),
            )
        )
        known = {row.external_id: row for row in rows}
    facts = await _facts(session, identity, {item.customer_id for item in valid}, now) if valid else {}
    by_id, by_sku = await _products(session, identity, valid)
    results: list[ItemResult] = []
    # External ids written (or, in a dry run, to be written) by this call: (order id, hash).
    this_call: dict[str, tuple[str, str]] = {}
    for index, item in enumerate(items):
        if isinstance(item, ItemErrors):
            results.append(ItemResult(index=index, external_id="", outcome="failed", errors=item.errors))
            continue
        earlier = known.get(item.external_id)
        first = (earlier.order_id, earlier.content_hash) if earlier is not None else this_call.get(item.external_id)
        if first is not None:
            result = ItemResult(
                index=index, external_id=item.external_id, outcome="already_imported", order_id=first[0]
            )
            if first[1] != item.content_hash:
                result.warnings.append(
                    _warning(
                        "content_differs",
                        "该外部单号已导入，内容不同，未更新（请用修改订单） / "
                        "already imported with other content; not updated (use UpdateOrder)",
                    )
                )
            results.append(result)
            continue
        prefix = f"orders[{index}]"
        errors: list[tuple[str, str]] = []
        fact = facts.get(item.customer_id)
        if fact is None:
            errors.append((f"{prefix}.customer_id", f"customer {item.customer_id} not found / 客户未找到"))
        lines: list[OrderLine] = []
        goods: list[checks.LineGoods] = []
        for j, given in enumerate(item.lines):
            product = by_id.get(given.product_id) if given.product_id else by_sku.get(given.sku)
            name = "product_id" if given.product_id else "sku"
            if product is None:
                errors.append((f"{prefix}.lines[{j}].{name}", "unknown product / 商品不存在"))
                continue
            if given.product_id and given.sku and given.sku != product.sku:
                errors.append((f"{prefix}.lines[{j}].sku", f"is not the product's SKU {product.sku} / 与商品SKU不符"))
                continue
            lines.append(
                OrderLine(
                    line_no=j + 1,
                    product_id=product.id,
                    sku=product.sku,
                    product_name=product.name,
                    unit=product.unit,
                    quantity_milli=given.quantity_milli,
                    unit_price_fen=given.unit_price_fen,
                    amount_fen=line_amount_fen(given.quantity_milli, given.unit_price_fen),
                    tax_rate=product.tax_rate,
                    unit_cost_fen=product.cost_fen,
                )
            )
            goods.append(
                checks.LineGoods(
                    line_no=j + 1,
                    sku=product.sku,
                    halal=product.halal,
                    organic=product.organic,
                    contains_pork=product.contains_pork,
                    allergens=product.allergens,
                )
            )
        if errors or fact is None:
            results.append(ItemResult(index=index, external_id=item.external_id, outcome="failed", errors=errors))
            continue
        warnings = await _history_warnings(session, fact, goods, item)
        order_id = str(uuid.uuid4())
        this_call[item.external_id] = (order_id, item.content_hash)
        results.append(
            ItemResult(
                index=index,
                external_id=item.external_id,
                outcome="created",
                order_id="" if dry_run else order_id,
                warnings=warnings,
            )
        )
        if dry_run:
            continue
        await _write(
            session,
            identity=identity,
            events=events,
            item=item,
            fact=fact,
            lines=lines,
            warnings=warnings,
            order_id=order_id,
            source=source,
            now=now,
        )
    return results


async def _write(
    session: AsyncSession,
    *,
    identity: Identity,
    events: OrderEvents,
    item: ImportItem,
    fact: CustomerFact,
    lines: list[OrderLine],
    warnings: list[dict[str, str]],
    order_id: str,
    source: str,
    now: dt.datetime,
) -> None:
    last_time = max(t for t in (item.order_time, item.delivered_at, item.completed_at) if t is not None)
    order = Order(
        id=order_id,
        tenant_id=identity.tenant_id,
        customer_id=fact.customer_id,
        customer_name=fact.name,
        owner_id=fact.owner_id,
        org_unit_id=fact.org_unit_id,
        payment_mode=item.payment_mode,
        state=item.state,
        total_fen=sum(line.amount_fen for line in lines),
        delivery_date=item.delivery_date,
        delivery_address=item.delivery_address,
        notes=item.notes,
        urgent=False,
        warnings=warnings,
        overrides=[],
        cancel_reason=item.cancel_reason,
        paid_at=None,
        created_by=identity.principal_id,
        created_at=item.order_time,
        updated_at=last_time,
        version=1,
        lines=lines,
    )
    session.add(order)
    await session.flush()
    session.add(
        OrderImport(
            tenant_id=identity.tenant_id,
            source=source,
            external_id=item.external_id,
            order_id=order.id,
            content_hash=item.content_hash,
            order_time=item.order_time,
            delivered_at=item.delivered_at,
            completed_at=item.completed_at,
            imported_by=identity.principal_id,
            imported_at=now,
        )
    )
    await session.flush()
    message = events_pb2.OrderImported(
        order=order_message(order),
        external_id=item.external_id,
        source=source,
        order_time=timestamp_of(item.order_time),
    )
    if item.delivered_at is not None:
        message.delivered_time.CopyFrom(timestamp_of(item.delivered_at))
    if item.completed_at is not None:
        message.completed_time.CopyFrom(timestamp_of(item.completed_at))
    # The event's time is the business time: analytics counts the order when it was ordered.
    await events.emit(session, message, order, identity.principal_id, item.order_time)
