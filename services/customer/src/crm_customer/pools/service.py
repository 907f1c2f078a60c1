"""The public pool (公海): pools bound to org units, releasing customers into them, and reps'
claims, approved by a supervisor where the pool asks for it. Exactly one claim wins a customer:
the customer's row is locked (PostgreSQL FOR UPDATE; SQLite's one writer) while a claim or a
decision reads and changes it, and a unique index allows one pending claim per customer.
Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2
from crm_customer.collaborators.endings import end_collaborations_on_owner_change
from crm_customer.customers.events import CustomerEvents, event_snapshot
from crm_customer.customers.models import Customer
from crm_customer.customers.service import WRITER_ROLES, get_customer, refuse_if_archived, write_locked
from crm_customer.ownership.models import OwnerChange
from crm_customer.ownership.service import check_room, record_owner_change, record_owner_changes
from crm_customer.pools.models import DEFAULT_RULES, Pool, PoolClaim, claim_to_proto
from crm_customer.revisits.owner_changes import follow_customers
from crm_customer.search.service import move_search_terms_to_owner
from crmkit.clock import SHANGHAI, as_utc
from crmkit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.events import batched_events
from crmkit.identity import DataScope, Identity, Role
from crmkit.paging import KeysetOrder

POOL_EDITORS = (Role.ADMIN, Role.BOSS)
CLAIMANTS = (Role.SALES, Role.SUPERVISOR)
LEAVING_KINDS = ("released", "returned_by_rule")
LONGEST_IN_POOL_FIRST = KeysetOrder(
    "entered_asc", Customer.pool_entered_at, Customer.id, descending=False, value_kind="time"
)
NEWEST_CLAIM_FIRST = KeysetOrder("claimed_desc", PoolClaim.created_at, PoolClaim.id, descending=True, value_kind="time")


class ClaimCooldown(FailedPrecondition):
    code = "claim_cooldown"


class ClaimLimitReached(FailedPrecondition):
    code = "claim_limit_reached"


@dataclass(frozen=True)
class PoolInput:
    name: str
    org_unit_id: str
    org_path: str
    requires_approval: bool
    rules: dict[str, Any]


def rules_of(pool: Pool) -> dict[str, Any]:
    return {**DEFAULT_RULES, **(pool.rules or {})}


def _tenant_wide(identity: Identity) -> bool:
    return identity.scope is DataScope.TENANT


def may_claim_from(identity: Identity, pool: Pool) -> bool:
    """Users of the pool's subtree may browse it and claim from it."""
    return pool.tenant_id == identity.tenant_id and (
        _tenant_wide(identity) or identity.org_path.startswith(pool.org_path)
    )


def may_decide(identity: Identity, pool: Pool) -> bool:
    """Supervisors of the pool's org unit or above it, admins and bosses."""
    if pool.tenant_id != identity.tenant_id:
        return False
    if _tenant_wide(identity):
        return True
    return identity.role is Role.SUPERVISOR and pool.org_path.startswith(identity.org_path)


async def _pool(session: AsyncSession, identity: Identity, pool_id: str) -> Pool:
    pool = await session.get(Pool, pool_id)
    if pool is None or not (may_claim_from(identity, pool) or may_decide(identity, pool)):
        raise NotFound("pool", pool_id)
    return pool


async def list_pools(session: AsyncSession, *, identity: Identity) -> list[tuple[Pool, int]]:
    pools = (
        await session.scalars(select(Pool).where(Pool.tenant_id == identity.tenant_id).order_by(Pool.org_path))
    ).all()
    shown = [p for p in pools if may_claim_from(identity, p) or may_decide(identity, p)]
    counts = dict(
        (
            await session.execute(
                select(Customer.pool_id, func.count())
                .where(Customer.pool_id.in_([p.id for p in shown]), Customer.archived.is_(False))
                .group_by(Customer.pool_id)
            )
        ).all()
    )
    return [(p, int(counts.get(p.id, 0))) for p in shown]


async def create_pool(session: AsyncSession, *, identity: Identity, data: PoolInput, now: dt.datetime) -> Pool:
    identity.require_role(*POOL_EDITORS)
    if not data.org_path.endswith(f"/{data.org_unit_id}/"):
        raise InvalidArgument("pool.org_path", "does not end with org_unit_id / 组织路径与组织不符")
    existing = await session.scalar(
        select(Pool.id).where(Pool.tenant_id == identity.tenant_id, Pool.org_unit_id == data.org_unit_id)
    )
    if existing:
        raise InvalidArgument("pool.org_unit_id", "this org unit has a pool already / 该组织已有公海")
    pool = Pool(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        name=data.name,
        org_unit_id=data.org_unit_id,
        org_path=data.org_path,
        requires_approval=data.requires_approval,
        rules=data.rules,
        version=1,
        created_at=now,
        updated_at=now,
    )
    session.add(pool)
    return pool


async def update_pool(
    session: AsyncSession,
    *,
    identity: Identity,
    pool_id: str,
    name: str,
    requires_approval: bool,
    rules: dict[str, Any],
    expected_version: int,
    now: dt.datetime,
) -> Pool:
    identity.require_role(*POOL_EDITORS)
    pool = await session.get(Pool, pool_id, with_for_update=True)
    if pool is None or pool.tenant_id != identity.tenant_id:
        raise NotFound("pool", pool_id)
    if expected_version and pool.version != expected_version:
        raise Aborted("pool was changed by someone else / 公海规则已被他人修改，请刷新后重试")
    pool.name, pool.requires_approval, pool.rules = name, requires_approval, rules
    pool.version += 1
    pool.updated_at = now
    return pool


async def _pool_for_release(session: AsyncSession, identity: Identity, customer: Customer, pool_id: str) -> Pool:
    """The named pool, which must hold the customer's org unit in its subtree; else the pool of
    the customer's org unit or of the nearest unit above it."""
    pools = (await session.scalars(select(Pool).where(Pool.tenant_id == identity.tenant_id))).all()
    enclosing = [p for p in pools if customer.org_path.startswith(p.org_path)]
    if pool_id:
        chosen = next((p for p in enclosing if p.id == pool_id), None)
        if chosen is None:
            raise InvalidArgument("pool_id", "no such pool above this customer / 没有覆盖该客户的公海")
        return chosen
    if not enclosing:
        raise FailedPrecondition("no pool covers this customer's org unit / 该客户所在组织没有公海")
    return max(enclosing, key=lambda p: len(p.org_path))


async def move_into_pool(
    session: AsyncSession,
    customer: Customer,
    pool: Pool,
    *,
    kind: str,
    reason: str,
    actor_id: str,
    events: CustomerEvents,
    now: dt.datetime,
    pool_rule: str = "",
    transfer_id: str = "",
) -> str:
    """Take the customer from its owner into the pool (released, or returned by `pool_rule`):
    nobody's task any more, history written, owner change announced (naming `transfer_id` when
    a transfer moves it). Returns the old owner."""
    (move,) = await move_many_into_pool(
        session,
        [customer],
        pool,
        kind=kind,
        reason=reason,
        actor_id=actor_id,
        events=events,
        now=now,
        pool_rule=pool_rule,
        transfer_id=transfer_id,
    )
    return move.previous_owner


@dataclass(frozen=True)
class PoolMove:
    """A customer's move into a pool: whose it was, and its event snapshot after the move."""

    previous_owner: str
    snapshot: customer_pb2.Customer


async def move_many_into_pool(
    session: AsyncSession,
    customers: Sequence[Customer],
    pool: Pool,
    *,
    kind: str,
    reason: str,
    actor_id: str,
    events: CustomerEvents,
    now: dt.datetime,
    pool_rule: str = "",
    transfer_id: str = "",
) -> list[PoolMove]:
    """`move_into_pool` for a batch (the sweep's) in a fixed number of statements: one update of
    the customers (already locked by the caller), one insert of their history, one write of all
    their events.

    Their search terms keep the old owner: only a sales rep's search reads a term's owner, and it
    checks the customer row's owner before it cuts a page, so a stale term costs that check and
    no wrong result. Rewriting them was most of a return's cost (a customer has dozens of terms);
    the next owner's claim or assignment rewrites them anyway."""
    previous = [(customer.owner_id, customer.org_unit_id) for customer in customers]
    changes: dict[str, Any] = {
        "owner_id": "",
        "pool_id": pool.id,
        "org_unit_id": pool.org_unit_id,
        "org_path": pool.org_path,
        "pool_entered_at": now,
        "pool_enter_kind": kind,
        "pool_enter_reason": reason,
        "owned_since": None,
        "first_visit_due": None,
        "next_follow_up_date": None,
        "return_warned_for": None,
        "updated_at": now,
    }
    await write_locked(session, customers, changes)
    await record_owner_changes(
        session,
        customers,
        [owner for owner, _ in previous],
        kind=kind,
        reason=reason,
        actor_id=actor_id,
        now=now,
        pool_id=pool.id,
        pool_rule=pool_rule,
    )
    moves = [
        PoolMove(previous_owner, event_snapshot(customer))
        for customer, (previous_owner, _) in zip(customers, previous, strict=True)
    ]
    async with batched_events(session, events.tables):
        for customer, move, (_, previous_unit) in zip(customers, moves, previous, strict=True):
            await events.owner_changed(
                session,
                customer,
                move.previous_owner,
                previous_unit,
                actor_id,
                now,
                kind=kind,
                reason=reason,
                transfer_id=transfer_id,
                snapshot=move.snapshot,
            )
        await end_collaborations_on_owner_change(session, customers, actor_id=actor_id, events=events, now=now)
    await follow_customers(session, customers, actor_id=actor_id, events=events, now=now)
    return moves


async def release_to_pool(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    reason: str,
    pool_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> tuple[Customer, Pool]:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="own", for_update=True
    )
    refuse_if_archived(customer)
    if customer.pool_id:
        raise FailedPrecondition("the customer is in a pool already / 客户已在公海中")
    pool = await _pool_for_release(session, identity, customer, pool_id)
    previous_owner = await move_into_pool(
        session,
        customer,
        pool,
        kind="released",
        reason=reason,
        actor_id=identity.principal_id,
        events=events,
        now=now,
    )
    await events.released_to_pool(session, customer, previous_owner, pool.id, reason, identity.principal_id, now)
    return customer, pool


async def list_pool_customers(
    session: AsyncSession, *, identity: Identity, pool_id: str, page_size: int, page_token: str
) -> tuple[list[tuple[Customer, bool]], str]:
    """A pool's customers, longest in it first, each with whether a claim on it is pending."""
    pool = await _pool(session, identity, pool_id)
    query = select(Customer).where(
        Customer.tenant_id == identity.tenant_id, Customer.pool_id == pool.id, Customer.archived.is_(False)
    )
    rows = (await session.scalars(LONGEST_IN_POOL_FIRST.apply(query, page_token).limit(page_size + 1))).all()
    page, token = LONGEST_IN_POOL_FIRST.page(rows, page_size, lambda c: (c.pool_entered_at, c.id))
    pending = set(
        (
            await session.scalars(
                select(PoolClaim.customer_id).where(
                    PoolClaim.customer_id.in_([c.id for c in page]), PoolClaim.status == "pending"
                )
            )
        ).all()
    )
    return [(c, c.id in pending) for c in page], token


async def _pool_customer_for_claim(session: AsyncSession, identity: Identity, pool: Pool, customer_id: str) -> Customer:
    customer = await session.scalar(
        select(Customer).where(Customer.id == customer_id, Customer.tenant_id == identity.tenant_id).with_for_update()
    )
    if customer is not None and customer.pool_id == pool.id and not customer.archived:
        return customer
    if customer is not None:
        left_this_pool = await session.scalar(
            select(OwnerChange.id)
            .where(OwnerChange.customer_id == customer.id, OwnerChange.pool_id == pool.id)
            .limit(1)
        )
        if left_this_pool:
            raise Aborted("someone else claimed this customer first / 客户已被他人领取")
    raise NotFound("customer", customer_id)


async def _refuse_cooldown(
    session: AsyncSession, customer: Customer, identity: Identity, days: int, now: dt.datetime
) -> None:
    if days <= 0:
        return
    # A rep who let the customer go, or neglected it until a rule took it back, waits; a
    # claimant who missed the first visit may claim it again at once (they never served it).
    left = await session.scalar(
        select(func.max(OwnerChange.occurred_at)).where(
            OwnerChange.customer_id == customer.id,
            OwnerChange.from_owner_id == identity.principal_id,
            OwnerChange.kind.in_(LEAVING_KINDS),
            OwnerChange.pool_rule != "first_visit_missed",
        )
    )
    if left is None:
        return
    until = as_utc(left) + dt.timedelta(days=days)
    if now < until:
        day = until.astimezone(SHANGHAI).date().isoformat()
        raise ClaimCooldown(
            f"这个客户刚离开你，{day}后才能再次领取 / "
            f"this customer left you recently; you may claim it again from {day}",
            details={"until": until.isoformat()},
        )


async def _refuse_past_daily_limit(
    session: AsyncSession, pool: Pool, identity: Identity, limit: int, now: dt.datetime
) -> None:
    if limit <= 0:
        return
    local = now.astimezone(SHANGHAI)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)
    made = await session.scalar(
        select(func.count()).where(
            PoolClaim.tenant_id == identity.tenant_id,
            PoolClaim.claimant_id == identity.principal_id,
            PoolClaim.pool_id == pool.id,
            PoolClaim.created_at >= day_start,
            PoolClaim.status != "withdrawn",
        )
    )
    if int(made or 0) >= limit:
        raise ClaimLimitReached(
            f"今天已领取{limit}个客户，达到上限 / you have made the {limit} claims this pool allows a day",
            details={"limit": str(limit)},
        )


async def _assign(
    session: AsyncSession,
    customer: Customer,
    claim: PoolClaim,
    pool: Pool,
    *,
    kind: str,
    actor_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> None:
    """The claimant owns the customer from now, where they sit, and must visit or call it
    within the pool's first-visit days."""
    await check_room(session, tenant_id=customer.tenant_id, owner_id=claim.claimant_id, field="customer_id")
    previous_unit = customer.org_unit_id
    customer.owner_id = claim.claimant_id
    customer.org_unit_id, customer.org_path = claim.claimant_org_unit_id, claim.claimant_org_path
    customer.pool_id = customer.pool_entered_at = None
    customer.pool_enter_kind = customer.pool_enter_reason = ""
    customer.owned_since = now
    first_visit_days = int(rules_of(pool)["first_visit_days"])
    customer.first_visit_due = now + dt.timedelta(days=first_visit_days) if first_visit_days > 0 else None
    customer.version += 1
    customer.updated_at = now
    await session.flush()
    await session.refresh(customer, attribute_names=["contacts"])
    await move_search_terms_to_owner(session, customer)
    record_owner_change(
        session, customer, from_owner_id="", kind=kind, reason=claim.reason, actor_id=actor_id, now=now, pool_id=pool.id
    )
    await events.owner_changed(session, customer, "", previous_unit, actor_id, now, kind=kind, reason=claim.reason)
    await end_collaborations_on_owner_change(session, [customer], actor_id=actor_id, events=events, now=now)
    await follow_customers(session, [customer], actor_id=actor_id, events=events, now=now)


async def claim_customer(
    session: AsyncSession,
    *,
    identity: Identity,
    pool_id: str,
    customer_id: str,
    reason: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> tuple[PoolClaim, str]:
    identity.require_role(*CLAIMANTS)
    pool = await session.get(Pool, pool_id)
    if pool is None or not may_claim_from(identity, pool):
        raise NotFound("pool", pool_id)
    customer = await _pool_customer_for_claim(session, identity, pool, customer_id)
    pending = await session.scalar(
        select(PoolClaim.id).where(PoolClaim.customer_id == customer.id, PoolClaim.status == "pending")
    )
    if pending:
        raise Aborted("another claim on this customer awaits approval / 该客户已有待审批的领取申请")
    rules = rules_of(pool)
    await _refuse_cooldown(session, customer, identity, int(rules["cooldown_days"]), now)
    await _refuse_past_daily_limit(session, pool, identity, int(rules["claims_per_day"]), now)
    await check_room(session, tenant_id=identity.tenant_id, owner_id=identity.principal_id, field="customer_id")
    claim = PoolClaim(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        pool_id=pool.id,
        customer_id=customer.id,
        claimant_id=identity.principal_id,
        claimant_org_unit_id=identity.org_unit_id,
        claimant_org_path=identity.org_path,
        reason=reason,
        status="pending",
        decider_id="",
        comment="",
        created_at=now,
    )
    session.add(claim)
    if pool.requires_approval:
        await session.flush()
        await events.claim_submitted(
            session, customer, claim_to_proto(claim, customer.name), pool, identity.principal_id, now
        )
        return claim, customer.name
    claim.status, claim.decided_at = "approved", now
    await session.flush()
    await _assign(
        session, customer, claim, pool, kind="claimed", actor_id=identity.principal_id, events=events, now=now
    )
    return claim, customer.name


async def _claim_for_update(session: AsyncSession, identity: Identity, claim_id: str) -> tuple[PoolClaim, Pool]:
    claim = await session.scalar(
        select(PoolClaim).where(PoolClaim.id == claim_id, PoolClaim.tenant_id == identity.tenant_id).with_for_update()
    )
    if claim is None:
        raise NotFound("claim", claim_id)
    pool = await session.get(Pool, claim.pool_id)
    if pool is None:
        raise NotFound("claim", claim_id)
    return claim, pool


async def decide_claim(
    session: AsyncSession,
    *,
    identity: Identity,
    claim_id: str,
    approve: bool,
    comment: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> tuple[PoolClaim, str]:
    claim, pool = await _claim_for_update(session, identity, claim_id)
    if not may_decide(identity, pool):
        if claim.claimant_id == identity.principal_id:
            raise PermissionDenied("a supervisor of the pool decides / 须由公海所属组织的主管审批")
        raise NotFound("claim", claim_id)
    if claim.status != "pending":
        raise Aborted("this claim was decided already / 该申请已处理")
    if not approve and not comment:
        raise InvalidArgument("comment", "say why the claim is rejected / 驳回须填写意见")
    customer = await session.scalar(select(Customer).where(Customer.id == claim.customer_id).with_for_update())
    if customer is None:
        raise NotFound("claim", claim_id)
    claim.decider_id, claim.comment, claim.decided_at = identity.principal_id, comment, now
    if not approve:
        claim.status = "rejected"
    elif customer.pool_id != pool.id or customer.archived:
        claim.status = "expired"
    else:
        claim.status = "approved"
        await _assign(
            session, customer, claim, pool, kind="approved", actor_id=identity.principal_id, events=events, now=now
        )
    await events.claim_decided(
        session, customer, claim_to_proto(claim, customer.name), pool, identity.principal_id, now
    )
    return claim, customer.name


async def withdraw_claim(
    session: AsyncSession, *, identity: Identity, claim_id: str, events: CustomerEvents, now: dt.datetime
) -> tuple[PoolClaim, str]:
    claim, pool = await _claim_for_update(session, identity, claim_id)
    if claim.claimant_id != identity.principal_id:
        raise NotFound("claim", claim_id)
    if claim.status != "pending":
        raise Aborted("this claim was decided already / 该申请已处理")
    claim.status, claim.decided_at = "withdrawn", now
    customer = await session.get(Customer, claim.customer_id)
    assert customer is not None
    await session.refresh(customer, attribute_names=["contacts"])
    await events.claim_decided(
        session, customer, claim_to_proto(claim, customer.name), pool, identity.principal_id, now
    )
    return claim, customer.name


async def list_claims(
    session: AsyncSession, *, identity: Identity, mine: bool, status: str, page_size: int, page_token: str
) -> tuple[list[tuple[PoolClaim, str]], str]:
    query = (
        select(PoolClaim, Customer.name)
        .join(Customer, Customer.id == PoolClaim.customer_id)
        .where(PoolClaim.tenant_id == identity.tenant_id)
    )
    if mine:
        query = query.where(PoolClaim.claimant_id == identity.principal_id)
    else:
        if identity.role not in (Role.ADMIN, Role.BOSS, Role.SUPERVISOR):
            raise PermissionDenied("supervisors decide claims / 主管才能审批领取申请")
        if not _tenant_wide(identity):
            query = query.join(Pool, Pool.id == PoolClaim.pool_id).where(
                Pool.org_path.startswith(identity.org_path, autoescape=True)
            )
    if status:
        query = query.where(PoolClaim.status == status)
    rows = (await session.execute(NEWEST_CLAIM_FIRST.apply(query, page_token).limit(page_size + 1))).all()
    page, token = NEWEST_CLAIM_FIRST.page(rows, page_size, lambda row: (row[0].created_at, row[0].id))
    return [(row[0], row[1]) for row in page], token
