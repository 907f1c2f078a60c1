"""Ownership: the history every owner change writes, and the caps on how many active customers
a user may own. Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from collections.abc import Sequence

from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.customers.models import Customer
from crm_customer.ownership.models import CustomerCap, OwnerChange
from crmkit.errors import FailedPrecondition
from crmkit.identity import Identity, Role
from crmkit.paging import KeysetOrder

TENANT_DEFAULT = ""
MAX_CAP = 100_000
CAP_EDITORS = (Role.ADMIN, Role.BOSS)
NEWEST_FIRST = KeysetOrder("changed_desc", OwnerChange.occurred_at, OwnerChange.id, descending=True, value_kind="time")


class CustomerCapReached(FailedPrecondition):
    code = "customer_cap_reached"

    def __init__(self, cap: int, field: str) -> None:
        super().__init__(
            f"客户保有量已达上限（{cap}个） / the owner already holds the most customers allowed ({cap})",
            field=field,
            details={"cap": str(cap)},
        )
        self.cap = cap


def record_owner_change(
    session: AsyncSession,
    customer: Customer,
    *,
    from_owner_id: str,
    kind: str,
    reason: str,
    actor_id: str,
    now: dt.datetime,
    rule_id: str | None = None,
    pool_id: str | None = None,
    pool_rule: str = "",
) -> OwnerChange:
    change = owner_change(
        customer,
        from_owner_id=from_owner_id,
        kind=kind,
        reason=reason,
        actor_id=actor_id,
        now=now,
        rule_id=rule_id,
        pool_id=pool_id,
        pool_rule=pool_rule,
    )
    session.add(change)
    return change


def owner_change(
    customer: Customer,
    *,
    from_owner_id: str,
    kind: str,
    reason: str,
    actor_id: str,
    now: dt.datetime,
    rule_id: str | None = None,
    pool_id: str | None = None,
    pool_rule: str = "",
) -> OwnerChange:
    """The history row of an owner change (a batch writes many at once)."""
    return OwnerChange(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        from_owner_id=from_owner_id,
        to_owner_id=customer.owner_id,
        kind=kind,
        reason=reason,
        actor_id=actor_id,
        rule_id=rule_id,
        pool_id=pool_id,
        pool_rule=pool_rule,
        occurred_at=now,
    )


async def record_owner_changes(
    session: AsyncSession,
    customers: Sequence[Customer],
    from_owner_ids: Sequence[str],
    *,
    kind: str,
    reason: str,
    actor_id: str,
    now: dt.datetime,
    pool_id: str | None = None,
    pool_rule: str = "",
) -> None:
    """`record_owner_change` for a batch job's customers, in one INSERT (no ORM objects)."""
    rows = [
        {
            "id": str(uuid.uuid4()),
            "tenant_id": customer.tenant_id,
            "customer_id": customer.id,
            "from_owner_id": from_owner_id,
            "to_owner_id": customer.owner_id,
            "kind": kind,
            "reason": reason,
            "actor_id": actor_id,
            "rule_id": None,
            "pool_id": pool_id,
            "pool_rule": pool_rule,
            "occurred_at": now,
        }
        for customer, from_owner_id in zip(customers, from_owner_ids, strict=True)
    ]
    if rows:
        await session.execute(insert(OwnerChange), rows)


async def caps_of(session: AsyncSession, tenant_id: str, user_ids: Sequence[str]) -> tuple[int, dict[str, int]]:
    """The tenant's default cap (0: none) and the users' own caps, where they have one."""
    rows = (
        await session.execute(
            select(CustomerCap.user_id, CustomerCap.cap).where(
                CustomerCap.tenant_id == tenant_id, CustomerCap.user_id.in_([TENANT_DEFAULT, *user_ids])
            )
        )
    ).all()
    found = {user_id: cap for user_id, cap in rows}
    return found.pop(TENANT_DEFAULT, 0), found


async def held_by(session: AsyncSession, tenant_id: str, user_ids: Sequence[str]) -> dict[str, int]:
    """Active customers each user owns now."""
    if not user_ids:
        return {}
    rows = (
        await session.execute(
            select(Customer.owner_id, func.count())
            .where(Customer.tenant_id == tenant_id, Customer.owner_id.in_(user_ids), Customer.archived.is_(False))
            .group_by(Customer.owner_id)
        )
    ).all()
    counts = {owner_id: int(count) for owner_id, count in rows}
    return {user_id: counts.get(user_id, 0) for user_id in user_ids}


async def _serialise_owner(session: AsyncSession, tenant_id: str, user_id: str) -> None:
    """Make a second transaction adding to the same owner's book wait for this one, so two
    claims cannot both pass the cap. PostgreSQL: an advisory lock until commit. SQLite has one
    writer: a transaction that read a book another then changed cannot commit its write."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = zlib.crc32(f"customer-book:{tenant_id}:{user_id}".encode())
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def hold_books(session: AsyncSession, tenant_id: str, user_ids: Sequence[str]) -> None:
    """Hold several owners' books for this transaction (in one order, so two holders of the same
    books cannot deadlock), before reading how many customers they hold."""
    for user_id in sorted(set(user_ids)):
        await _serialise_owner(session, tenant_id, user_id)


async def check_room(session: AsyncSession, *, tenant_id: str, owner_id: str, field: str) -> None:
    """Refuse to give `owner_id` one more customer past their cap (theirs, else the tenant's)."""
    await _serialise_owner(session, tenant_id, owner_id)
    default, own = await caps_of(session, tenant_id, [owner_id])
    cap = own.get(owner_id) or default
    if not cap:
        return
    held = (await held_by(session, tenant_id, [owner_id]))[owner_id]
    if held >= cap:
        raise CustomerCapReached(cap, field)


async def list_owner_changes(
    session: AsyncSession, *, customer_id: str, page_size: int, page_token: str
) -> tuple[list[OwnerChange], str]:
    """A customer's ownership history, newest first (the caller has checked the customer is
    theirs to see)."""
    query = NEWEST_FIRST.apply(select(OwnerChange).where(OwnerChange.customer_id == customer_id), page_token)
    rows = (await session.scalars(query.limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda row: (row.occurred_at, row.id))


async def set_caps(
    session: AsyncSession, *, identity: Identity, default_cap: int | None, users: dict[str, int]
) -> None:
    """Set the tenant's default (None: unchanged) and users' own caps (0 removes one)."""
    identity.require_role(*CAP_EDITORS)
    tenant_id = identity.tenant_id
    changes = dict(users)
    if default_cap is not None:
        changes[TENANT_DEFAULT] = default_cap
    for user_id, cap in changes.items():
        row = await session.get(CustomerCap, (tenant_id, user_id), with_for_update=True)
        if cap == 0 and user_id != TENANT_DEFAULT:
            if row is not None:
                await session.delete(row)
        elif row is None:
            session.add(CustomerCap(tenant_id=tenant_id, user_id=user_id, cap=cap))
        else:
            row.cap = cap
