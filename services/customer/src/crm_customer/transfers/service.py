"""Transfers (离职交接): a departing rep's customers moved to other owners or a pool by a job.

StartTransfer records what to move and how; the `customer-transfers` job (transfers.job) moves
them in batches, each batch one transaction that also writes the transfer's progress and its
cursor (the last customer id looked at). Customers are taken in id order from the rep's current
book, so a batch that rolled back is done again and one that committed is never looked at
again: a crash or a lost lease moves nobody twice. Functions take the session and never commit.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Text, cast, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import events_pb2
from crm_customer.assignment.rules import facts_of_customer
from crm_customer.assignment.service import decide, nearest_pool
from crm_customer.collaborators.endings import end_collaborations_on_owner_change
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import write_locked
from crm_customer.directory.models import DirectoryUser
from crm_customer.directory.service import users_by_id, why_not_owner
from crm_customer.ownership.service import CustomerCapReached, caps_of, held_by, hold_books, record_owner_change
from crm_customer.pools.models import Pool, PoolClaim, claim_to_proto
from crm_customer.pools.service import move_into_pool
from crm_customer.revisits.owner_changes import follow_customers
from crm_customer.search.service import move_search_terms
from crm_customer.transfers.models import UNFINISHED, Transfer
from crmkit.errors import FailedPrecondition, InvalidArgument, NotFound
from crmkit.events import add_event, add_events
from crmkit.identity import DataScope, Identity, Role
from crmkit.paging import KeysetOrder

TRANSFER_STARTERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR)
BATCH = 200
SKIPS_KEPT = 100
NEWEST_FIRST = KeysetOrder("created_desc", Transfer.created_at, Transfer.id, descending=True, value_kind="time")
UNKNOWN_USER = {
    "unknown": "不是本企业的用户 / not a user of this tenant",
    "inactive": "已停用 / no longer active",
    "not_owner_role": "该角色不能负责客户 / this role cannot own customers",
}


class TransferRunning(FailedPrecondition):
    code = "transfer_running"


@dataclass(frozen=True)
class TransferInput:
    from_user_id: str
    filter: dict[str, str]
    mode: str
    to_user_ids: list[str]
    pool_id: str
    reason: str


def _oversees(identity: Identity, org_path: str) -> bool:
    return identity.scope is DataScope.TENANT or org_path.startswith(identity.org_path)


def _book(transfer: Transfer | TransferInput, tenant_id: str) -> list[ColumnElement[bool]]:
    """The rep's customers the transfer's filter takes, as SQL (regions are checked in Python:
    addresses are a JSON list)."""
    filters = transfer.filter or {}
    conditions = [
        Customer.tenant_id == tenant_id,
        Customer.owner_id == transfer.from_user_id,
        Customer.archived.is_(False),
    ]
    if filters.get("lifecycle_stage"):
        conditions.append(Customer.lifecycle_stage == filters["lifecycle_stage"])
    if filters.get("type"):
        conditions.append(Customer.type == filters["type"])
    if filters.get("tag"):
        conditions.append(cast(Customer.tags, Text).contains(json.dumps(filters["tag"]), autoescape=True))
    return conditions


def _in_region(filters: dict[str, str], addresses: list[dict[str, str]]) -> bool:
    wanted = [(key, filters[key]) for key in ("province", "city") if filters.get(key)]
    return not wanted or any(all(a.get(k) == v for k, v in wanted) for a in addresses or [])


async def _count_book(session: AsyncSession, data: TransferInput, tenant_id: str) -> int:
    rows = await session.execute(select(Customer.addresses).where(*_book(data, tenant_id)))
    return sum(1 for (addresses,) in rows if _in_region(data.filter, addresses))


async def start_transfer(
    session: AsyncSession, *, identity: Identity, data: TransferInput, now: dt.datetime
) -> Transfer:
    identity.require_role(*TRANSFER_STARTERS)
    tenant_id = identity.tenant_id
    departing = (await users_by_id(session, tenant_id, [data.from_user_id])).get(data.from_user_id)
    if departing is None or not _oversees(identity, departing.org_path):
        raise NotFound("user", data.from_user_id)
    targets = await users_by_id(session, tenant_id, data.to_user_ids)
    for index, user_id in enumerate(data.to_user_ids):
        field = f"to_user_ids[{index}]"
        if user_id == data.from_user_id:
            raise InvalidArgument(field, "is the departing user / 不能交接给本人")
        why = why_not_owner(targets.get(user_id))
        if why:
            raise InvalidArgument(field, UNKNOWN_USER[why])
        if not _oversees(identity, targets[user_id].org_path):
            raise InvalidArgument(field, "outside your org unit / 不在你的组织范围内")
    if data.pool_id:
        pool = await session.get(Pool, data.pool_id)
        if pool is None or pool.tenant_id != tenant_id or not _oversees(identity, pool.org_path):
            raise NotFound("pool", data.pool_id)
    running = await session.scalar(
        select(Transfer.id).where(
            Transfer.tenant_id == tenant_id,
            Transfer.from_user_id == data.from_user_id,
            Transfer.status.in_(UNFINISHED),
        )
    )
    if running:
        raise TransferRunning(
            "该员工的客户交接正在进行，请等待完成 / a transfer of this user's customers is under way",
            details={"transfer-id": running},
        )
    total = await _count_book(session, data, tenant_id)
    if data.mode == "one_user":
        # One receiver who cannot take the whole book: say so now, not half-way through.
        (target,) = data.to_user_ids
        await hold_books(session, tenant_id, [target])
        default, own = await caps_of(session, tenant_id, [target])
        cap = own.get(target) or default
        if cap and (await held_by(session, tenant_id, [target]))[target] + total > cap:
            raise CustomerCapReached(cap, "to_user_ids[0]")
    transfer = Transfer(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        from_user_id=data.from_user_id,
        from_org_unit_id=departing.org_unit_id,
        from_org_path=departing.org_path,
        filter=data.filter,
        mode=data.mode,
        to_user_ids=data.to_user_ids,
        pool_id=data.pool_id,
        reason=data.reason,
        status="pending",
        total=total,
        moved=0,
        skipped=0,
        skips=[],
        shares={},
        cursor="",
        error="",
        actor_id=identity.principal_id,
        created_at=now,
    )
    session.add(transfer)
    return transfer


async def get_transfer(session: AsyncSession, *, identity: Identity, transfer_id: str) -> Transfer:
    identity.require_role(*TRANSFER_STARTERS)
    transfer = await session.get(Transfer, transfer_id)
    if transfer is None or transfer.tenant_id != identity.tenant_id or not _oversees(identity, transfer.from_org_path):
        raise NotFound("transfer", transfer_id)
    return transfer


async def list_transfers(
    session: AsyncSession, *, identity: Identity, from_user_id: str, page_size: int, page_token: str
) -> tuple[list[Transfer], str]:
    identity.require_role(*TRANSFER_STARTERS)
    query = select(Transfer).where(Transfer.tenant_id == identity.tenant_id)
    if identity.scope is not DataScope.TENANT:
        query = query.where(Transfer.from_org_path.startswith(identity.org_path, autoescape=True))
    if from_user_id:
        query = query.where(Transfer.from_user_id == from_user_id)
    rows = (await session.scalars(NEWEST_FIRST.apply(query, page_token).limit(page_size + 1))).all()
    return NEWEST_FIRST.page(rows, page_size, lambda t: (t.created_at, t.id))


class TransferFailed(Exception):
    """The transfer cannot go on (e.g. every receiver has left); it ends as failed."""


@dataclass
class _Receivers:
    """The receiving users of a one-user or even transfer, with room left under their caps."""

    users: dict[str, DirectoryUser]
    room: dict[str, float]

    def pick(self, order: Sequence[str], received: dict[str, int]) -> str | None:
        """Of those with room, the one this transfer gave the fewest so far (ties: list order)."""
        open_ = [u for u in order if u in self.users and self.room[u] > 0]
        if not open_:
            return None
        chosen = min(open_, key=lambda u: (received.get(f"owner:{u}", 0), order.index(u)))
        self.room[chosen] -= 1
        return chosen


async def _receivers(session: AsyncSession, transfer: Transfer) -> _Receivers:
    found = await users_by_id(session, transfer.tenant_id, transfer.to_user_ids)
    active = {u: user for u, user in found.items() if not why_not_owner(user)}
    if not active:
        raise TransferFailed("接收人均已离职或停用 / every receiver has left or was deactivated")
    await hold_books(session, transfer.tenant_id, list(active))
    default, own = await caps_of(session, transfer.tenant_id, list(active))
    held = await held_by(session, transfer.tenant_id, list(active))
    room = {u: float((own.get(u) or default) - held[u]) if (own.get(u) or default) else float("inf") for u in active}
    return _Receivers(users=active, room=room)


class TransferMover:
    """Moves one batch of a transfer; the job calls it once per transaction."""

    def __init__(self, events: CustomerEvents) -> None:
        self.events = events

    async def batch(self, session: AsyncSession, transfer: Transfer, now: dt.datetime, limit: int = BATCH) -> bool:
        """Move the next batch; True when the transfer is finished."""
        transfer.status = "running"
        query = (
            select(Customer)
            .where(*_book(transfer, transfer.tenant_id), Customer.id > transfer.cursor)
            .order_by(Customer.id)
            .limit(limit)
        )
        if session.get_bind().dialect.name == "postgresql":
            # Wait for an edit in flight rather than skip it: the cursor must not pass a customer.
            query = query.with_for_update(of=Customer)
        customers = list((await session.scalars(query)).all())
        if not customers:
            await self._finish(session, transfer, now)
            return True
        receivers = await _receivers(session, transfer) if transfer.mode in ("one_user", "evenly") else None
        shares = dict(transfer.shares or {})
        handed: dict[str, list[Customer]] = {}
        for customer in customers:
            if not _in_region(transfer.filter or {}, customer.addresses):
                continue
            outcome = await self._move(session, transfer, customer, receivers, shares, handed, now)
            if outcome.startswith(("owner:", "pool:")):
                shares[outcome] = shares.get(outcome, 0) + 1
                transfer.moved += 1
            else:
                transfer.skipped += 1
                if len(transfer.skips) < SKIPS_KEPT:
                    transfer.skips = [*transfer.skips, {"customer_id": customer.id, "reason": outcome}]
        if receivers is not None:
            await self._hand_over_all(session, transfer, receivers, handed, now)
        else:
            for owner_id, moved in handed.items():
                await move_search_terms(session, [c.id for c in moved], owner_id)
        transfer.shares = shares
        transfer.cursor = customers[-1].id
        return False

    async def _move(
        self,
        session: AsyncSession,
        transfer: Transfer,
        customer: Customer,
        receivers: _Receivers | None,
        shares: dict[str, int],
        handed: dict[str, list[Customer]],
        now: dt.datetime,
    ) -> str:
        """Move one customer; the share key it went to ("owner:<id>", "pool:<id>") or why not."""
        if transfer.mode == "pool":
            pool = (await session.get(Pool, transfer.pool_id)) if transfer.pool_id else None
            pool = pool or await nearest_pool(session, transfer.tenant_id, customer.org_path)
            if pool is None:
                return "no_pool"
            await self._release(session, transfer, customer, pool, now)
            return f"pool:{pool.id}"
        if receivers is not None:
            chosen = receivers.pick(transfer.to_user_ids, shares)
            if chosen is None:
                return CustomerCapReached.code
            # Written for the whole batch at once (_hand_over_all).
            handed.setdefault(chosen, []).append(customer)
            return f"owner:{chosen}"
        decision = await decide(
            session,
            tenant_id=transfer.tenant_id,
            facts=facts_of_customer(customer),
            fallback_org_path=customer.org_path,
            take_turn=True,
            exclude={transfer.from_user_id},
        )
        rule_id = decision.rule.id if decision.rule else None
        if decision.owner is not None:
            self._hand_over(transfer, customer, decision.owner, "assigned_by_rule", rule_id, now)
            await self._announce(session, transfer, customer, "assigned_by_rule", rule_id, now)
            handed.setdefault(decision.owner.user_id, []).append(customer)
            return f"owner:{decision.owner.user_id}"
        if decision.pool is None:
            return "no_pool"
        await self._release(session, transfer, customer, decision.pool, now)
        return f"pool:{decision.pool.id}"

    async def _hand_over_all(
        self,
        session: AsyncSession,
        transfer: Transfer,
        receivers: _Receivers,
        handed: dict[str, list[Customer]],
        now: dt.datetime,
    ) -> None:
        """The batch's moves to users in a few statements: one UPDATE of the customers and one of
        their search terms per receiver, the history and the events each in one INSERT. The rows
        are locked (FOR UPDATE; SQLite's one writer), so the version needs no check here."""
        events = []
        for owner_id, moved in handed.items():
            owner = receivers.users[owner_id]
            values = {
                "owner_id": owner.user_id,
                "org_unit_id": owner.org_unit_id,
                "org_path": owner.org_path,
                "owned_since": now,
                "first_visit_due": None,
                "return_warned_for": None,
                "assigned_rule_id": "",
                "updated_at": now,
            }
            await write_locked(session, moved, values)
            await move_search_terms(session, [c.id for c in moved], owner_id)
            for customer in moved:
                record_owner_change(
                    session,
                    customer,
                    from_owner_id=transfer.from_user_id,
                    kind="transferred",
                    reason=transfer.reason,
                    actor_id=transfer.actor_id,
                    now=now,
                )
                events.append(
                    self.events.owner_changed_row(
                        customer,
                        transfer.from_user_id,
                        transfer.from_org_unit_id,
                        transfer.actor_id,
                        now,
                        kind="transferred",
                        reason=transfer.reason,
                        transfer_id=transfer.id,
                    )
                )
        await add_events(session, self.events.tables, events)
        moved_all = [customer for moved in handed.values() for customer in moved]
        await end_collaborations_on_owner_change(
            session, moved_all, actor_id=transfer.actor_id, events=self.events, now=now
        )
        await follow_customers(session, moved_all, actor_id=transfer.actor_id, events=self.events, now=now)

    @staticmethod
    def _hand_over(
        transfer: Transfer, customer: Customer, owner: DirectoryUser, kind: str, rule_id: str | None, now: dt.datetime
    ) -> None:
        """The new owner holds it where they sit; its next follow-up date stays, now theirs."""
        customer.owner_id = owner.user_id
        customer.org_unit_id, customer.org_path = owner.org_unit_id, owner.org_path
        customer.owned_since, customer.first_visit_due, customer.return_warned_for = now, None, None
        customer.assigned_rule_id = rule_id or ""
        customer.version += 1
        customer.updated_at = now

    async def _announce(
        self,
        session: AsyncSession,
        transfer: Transfer,
        customer: Customer,
        kind: str,
        rule_id: str | None,
        now: dt.datetime,
    ) -> None:
        previous_unit = transfer.from_org_unit_id
        record_owner_change(
            session,
            customer,
            from_owner_id=transfer.from_user_id,
            kind=kind,
            reason=transfer.reason,
            actor_id=transfer.actor_id,
            now=now,
            rule_id=rule_id,
        )
        await self.events.owner_changed(
            session,
            customer,
            transfer.from_user_id,
            previous_unit,
            transfer.actor_id,
            now,
            kind=kind,
            reason=transfer.reason,
            transfer_id=transfer.id,
        )
        await end_collaborations_on_owner_change(
            session, [customer], actor_id=transfer.actor_id, events=self.events, now=now
        )
        await follow_customers(session, [customer], actor_id=transfer.actor_id, events=self.events, now=now)

    async def _release(
        self, session: AsyncSession, transfer: Transfer, customer: Customer, pool: Pool, now: dt.datetime
    ) -> None:
        previous = await move_into_pool(
            session,
            customer,
            pool,
            kind="released",
            reason=transfer.reason,
            actor_id=transfer.actor_id,
            events=self.events,
            now=now,
            transfer_id=transfer.id,
        )
        await self.events.released_to_pool(
            session, customer, previous, pool.id, transfer.reason, transfer.actor_id, now
        )

    async def _finish(self, session: AsyncSession, transfer: Transfer, now: dt.datetime) -> None:
        """The book is moved: the rep's pending claims end (withdrawn), and the transfer is
        announced with each receiver's share."""
        claims = (
            await session.scalars(
                select(PoolClaim)
                .where(
                    PoolClaim.tenant_id == transfer.tenant_id,
                    PoolClaim.claimant_id == transfer.from_user_id,
                    PoolClaim.status == "pending",
                )
                .with_for_update()
            )
        ).all()
        for claim in claims:
            claim.status, claim.decided_at = "withdrawn", now
            claim.decider_id, claim.comment = transfer.actor_id, "离职交接 / the claimant's customers were transferred"
            customer = await session.get(Customer, claim.customer_id)
            pool = await session.get(Pool, claim.pool_id)
            assert customer is not None and pool is not None
            await self.events.claim_decided(
                session, customer, claim_to_proto(claim, customer.name), pool, transfer.actor_id, now
            )
        transfer.status, transfer.finished_at = "completed", now
        # Customers that left the rep's book meanwhile were moved by someone else: the total is
        # what this transfer dealt with.
        transfer.total = transfer.moved + transfer.skipped
        await _announce_completed(session, self.events, transfer, now)

    async def fail(self, session: AsyncSession, transfer: Transfer, error: str, now: dt.datetime) -> None:
        transfer.status, transfer.error, transfer.finished_at = "failed", error[:300], now


async def _announce_completed(
    session: AsyncSession, events: CustomerEvents, transfer: Transfer, now: dt.datetime
) -> None:
    shares = []
    for key, count in sorted((transfer.shares or {}).items()):
        kind, ident = key.split(":", 1)
        shares.append(
            events_pb2.TransferShare(
                owner_id=ident if kind == "owner" else "", pool_id=ident if kind == "pool" else "", customers=count
            )
        )
    await add_event(
        session,
        events.tables,
        message=events_pb2.TransferCompleted(
            transfer_id=transfer.id,
            from_owner_id=transfer.from_user_id,
            reason=transfer.reason,
            shares=shares,
            actor_id=transfer.actor_id,
        ),
        tenant_id=transfer.tenant_id,
        org_unit_id=transfer.from_org_unit_id,
        aggregate_id=transfer.id,
        aggregate_version=1,
        occurred_at=now,
        actor_id=transfer.actor_id,
        namespace=events.namespace,
    )


async def next_unfinished(session: AsyncSession) -> Transfer | None:
    """The oldest transfer not finished, of any tenant, locked for this batch."""
    query = select(Transfer).where(Transfer.status.in_(UNFINISHED)).order_by(Transfer.created_at, Transfer.id).limit(1)
    return (await session.scalars(query.with_for_update())).first()


async def count_unfinished(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).where(Transfer.status.in_(UNFINISHED))) or 0)
