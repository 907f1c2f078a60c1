"""Batch numbers written at dispatch (`record_batches`); lookups and recalls read them. Functions
take the session and never commit: a recall and its event commit together in the caller's
transaction."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, Select, and_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.batches.events import RecallEvents
from crm_order.batches.models import OrderLineBatch
from crm_order.batches.recall_models import BatchRecall, RecallCustomer
from crm_order.customer_facts.models import CustomerFact
from crm_order.orders.models import Order
from crm_order.orders.service import _customer_scope as customer_scope
from crmkit.clock import as_utc
from crmkit.errors import FailedPrecondition, NotFound, PermissionDenied
from crmkit.identity import Identity, Role
from crmkit.paging import keyset_page, newest_first


async def record_batches(
    session: AsyncSession,
    *,
    order: Order,
    batches: Mapping[int, Sequence[tuple[str, int]]],
    now: dt.datetime,
) -> list[OrderLineBatch]:
    """Write the batches of a dispatched order: line number → [(batch number, quantity in
    thousandths)]. The caller has validated them against the order's lines."""
    lines = {line.line_no: line for line in order.lines}
    rows = [
        OrderLineBatch(
            order_id=order.id,
            line_no=line_no,
            batch_no=batch_no,
            tenant_id=order.tenant_id,
            customer_id=order.customer_id,
            customer_name=order.customer_name,
            product_id=lines[line_no].product_id,
            sku=lines[line_no].sku,
            product_name=lines[line_no].product_name,
            unit=lines[line_no].unit,
            quantity_milli=quantity,
            delivery_date=order.delivery_date,
            dispatched_at=now,
        )
        for line_no, given in sorted(batches.items())
        for batch_no, quantity in given
    ]
    session.add_all(rows)
    await session.flush()
    return rows


# A lookup answers at most this many lines (a batch reaches some hundred customers; a runaway
# batch number shared by years of lines must not build a reply of millions).
LOOKUP_LIMIT = 5000
# Who may raise a recall: those who answer for a whole unit or the company.
RECALLERS = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR})


class AlreadyRecalled(FailedPrecondition):
    code = "already_recalled"


@dataclass(frozen=True)
class ReceivedLine:
    """A batch line with its customer's owner and unit as the customer facts have them now.
    `line` is the table's row as read (its columns by name), not a mapped object: a lookup reads
    hundreds of lines only to answer them, and building ORM objects was most of its CPU."""

    line: Row[Any]
    owner_id: str
    org_unit_id: str


LINE_COLUMNS = tuple(OrderLineBatch.__table__.c)


def _lines_of(tenant_id: str, batch_no: str) -> Select[Any]:
    facts = and_(
        CustomerFact.tenant_id == OrderLineBatch.tenant_id, CustomerFact.customer_id == OrderLineBatch.customer_id
    )
    return (
        select(
            *LINE_COLUMNS, CustomerFact.owner_id.label("fact_owner_id"), CustomerFact.org_unit_id.label("fact_unit_id")
        )
        .outerjoin(CustomerFact, facts)
        .where(OrderLineBatch.tenant_id == tenant_id, OrderLineBatch.batch_no == batch_no)
        .order_by(OrderLineBatch.dispatched_at.desc(), OrderLineBatch.order_id, OrderLineBatch.line_no)
    )


def _received(row: Row[Any]) -> ReceivedLine:
    return ReceivedLine(row, row.fact_owner_id or "", row.fact_unit_id or "")


async def lookup_batch(
    session: AsyncSession, *, identity: Identity, batch_no: str, now: dt.datetime, limit: int = LOOKUP_LIMIT
) -> tuple[list[ReceivedLine], bool]:
    """The lines that received `batch_no`, of the customers the caller may see, newest dispatch
    first, and whether there were more than `limit`. NOT_FOUND when there is none: a batch that
    only reached other reps' customers looks like one that does not exist."""
    statement = (
        _lines_of(identity.tenant_id, batch_no).where(customer_scope(identity, now, write=False)).limit(limit + 1)
    )
    rows = [_received(row) for row in await session.execute(statement)]
    if not rows:
        raise NotFound("batch", batch_no)
    return rows[:limit], len(rows) > limit


@dataclass
class CustomerReceipt:
    """What one customer received of a batch, summed per product."""

    customer_id: str
    customer_name: str
    owner_id: str
    org_unit_id: str
    quantities: dict[str, dict[str, Any]] = field(default_factory=dict)
    orders: set[str] = field(default_factory=set)
    last_delivery_date: dt.date | None = None
    last_dispatched_at: dt.datetime | None = None


def by_customer(lines: Sequence[ReceivedLine]) -> list[CustomerReceipt]:
    """The lines grouped by customer, in the order of each customer's newest line (lines come
    newest dispatch first)."""
    customers: dict[str, CustomerReceipt] = {}
    for received in lines:
        line = received.line
        receipt = customers.get(line.customer_id)
        if receipt is None:
            receipt = customers[line.customer_id] = CustomerReceipt(
                customer_id=line.customer_id,
                customer_name=line.customer_name,
                owner_id=received.owner_id,
                org_unit_id=received.org_unit_id,
            )
        product = receipt.quantities.setdefault(
            line.product_id,
            {
                "product_id": line.product_id,
                "sku": line.sku,
                "product_name": line.product_name,
                "unit": line.unit,
                "quantity_milli": 0,
            },
        )
        product["quantity_milli"] += line.quantity_milli
        receipt.orders.add(line.order_id)
        if receipt.last_delivery_date is None or line.delivery_date > receipt.last_delivery_date:
            receipt.last_delivery_date = line.delivery_date
        if receipt.last_dispatched_at is None or as_utc(line.dispatched_at) > receipt.last_dispatched_at:
            receipt.last_dispatched_at = as_utc(line.dispatched_at)
    return list(customers.values())


async def recall_of_batch(session: AsyncSession, *, tenant_id: str, batch_no: str) -> BatchRecall | None:
    return await session.scalar(
        select(BatchRecall).where(BatchRecall.tenant_id == tenant_id, BatchRecall.batch_no == batch_no)
    )


async def raise_recall(
    session: AsyncSession,
    *,
    identity: Identity,
    events: RecallEvents,
    batch_no: str,
    reason: str,
    now: dt.datetime,
) -> BatchRecall:
    """Recall `batch_no`: every customer of the tenant that received it, whoever owns it (a
    recall is about the goods, not about whose customers they are), with its `batch_recalled`
    event in the caller's transaction. The caller must see at least one line of the batch."""
    if identity.role not in RECALLERS:
        raise PermissionDenied("only admins, bosses and supervisors raise recalls / 仅管理员、老板和主管可发起召回")
    await lookup_batch(session, identity=identity, batch_no=batch_no, now=now, limit=0)
    existing = await recall_of_batch(session, tenant_id=identity.tenant_id, batch_no=batch_no)
    if existing is not None:
        raise AlreadyRecalled(
            f"batch {batch_no} was already recalled at {as_utc(existing.raised_at).isoformat()} / 该批次已发起过召回",
            details={"recall_id": existing.id},
        )
    lines = [_received(row) for row in await session.execute(_lines_of(identity.tenant_id, batch_no))]
    receipts = by_customer(lines)
    recall = BatchRecall(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        batch_no=batch_no,
        reason=reason,
        raised_by=identity.principal_id,
        raised_at=now,
        customer_count=len(receipts),
        customers=[
            RecallCustomer(
                customer_id=r.customer_id,
                tenant_id=identity.tenant_id,
                position=position,
                customer_name=r.customer_name,
                owner_id=r.owner_id,
                org_unit_id=r.org_unit_id,
                quantities=list(r.quantities.values()),
                last_delivery_date=r.last_delivery_date.isoformat() if r.last_delivery_date else "",
                last_dispatched_at=r.last_dispatched_at or now,
                order_count=len(r.orders),
            )
            for position, r in enumerate(receipts)
        ],
    )
    session.add(recall)
    try:
        await session.flush()
    except IntegrityError as exc:
        # Raised twice at the same moment: the unique index keeps one.
        raise AlreadyRecalled(f"batch {batch_no} was already recalled / 该批次已发起过召回") from exc
    await events.recalled(session, recall, identity, now)
    return recall


def _visible_recall_customers(identity: Identity, now: dt.datetime) -> Select[str]:
    facts = and_(
        CustomerFact.tenant_id == RecallCustomer.tenant_id, CustomerFact.customer_id == RecallCustomer.customer_id
    )
    return select(RecallCustomer.recall_id).join(CustomerFact, facts).where(customer_scope(identity, now, write=False))


async def visible_customers_of(
    session: AsyncSession, *, identity: Identity, recalls: Sequence[BatchRecall], now: dt.datetime
) -> dict[str, set[str]]:
    """Per recall, the ids of its customers the caller may see now."""
    if not recalls:
        return {}
    statement = (
        select(RecallCustomer.recall_id, RecallCustomer.customer_id)
        .join(
            CustomerFact,
            and_(
                CustomerFact.tenant_id == RecallCustomer.tenant_id,
                CustomerFact.customer_id == RecallCustomer.customer_id,
            ),
        )
        .where(RecallCustomer.recall_id.in_([r.id for r in recalls]), customer_scope(identity, now, write=False))
    )
    seen: dict[str, set[str]] = {r.id: set() for r in recalls}
    for recall_id, customer_id in await session.execute(statement):
        seen[recall_id].add(customer_id)
    return seen


async def list_recalls(
    session: AsyncSession,
    *,
    identity: Identity,
    batch_no: str,
    recall_id: str,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[BatchRecall], str]:
    """Recalls that reached a customer the caller may see, newest first."""
    statement = select(BatchRecall).where(
        BatchRecall.tenant_id == identity.tenant_id,
        BatchRecall.id.in_(_visible_recall_customers(identity, now)),
    )
    if batch_no:
        statement = statement.where(BatchRecall.batch_no == batch_no)
    if recall_id:
        statement = statement.where(BatchRecall.id == recall_id)
    statement = newest_first(statement, created=BatchRecall.raised_at, key=BatchRecall.id, page_token=page_token)
    rows = list(await session.scalars(statement.limit(page_size + 1)))
    return keyset_page(rows, page_size, lambda r: (r.raised_at, r.id))
