"""The pool sweep: a periodic job that takes customers back from owners who neglect them, by
each pool's rules, and warns owners before it does.

A customer follows the rules of the nearest pool above it (its org unit's, or the closest
ancestor's). Rules, each skipped for a customer under contract today when the pool exempts them:
- first_visit_missed: a claimed customer whose owner logged no visit or call by first_visit_due;
- no_follow_up: no follow-up for the pool's days for its tier, counted from the later of its last
  follow-up and when its owner got it;
- no_deal: held for the pool's no-deal days while still a lead or prospect;
- no_order: no confirmed order for the pool's no-order days, counted from the later of its last
  order (pools.last_orders) and when its owner got it; closures pause it like no_follow_up.
Owners are warned `warn_days_before` a no_follow_up or no_deal return, once per return date.

Each batch is one transaction on the job's lease, reading candidates by id and locking them
(PostgreSQL: FOR UPDATE SKIP LOCKED, so a claim or edit in progress is left for the next run).
A candidate is checked again once locked, so a follow-up logged meanwhile saves it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.closures.days import Pause, pauses
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import write_locked
from crm_customer.pools.models import Pool, PoolClaim, claim_to_proto
from crm_customer.pools.service import move_many_into_pool, rules_of
from crmkit.clock import as_utc, shanghai_date
from crmkit.events import batched_events
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.runtime import ServiceRuntime

SWEEP_INTERVAL = dt.timedelta(minutes=10)
# A claim nobody approved or rejected within this lapses (expired).
CLAIM_EXPIRES_AFTER = dt.timedelta(days=7)
BATCH = 500
# A run that keeps finding locked rows gives up after this many batches per rule; the next run
# carries on.
MAX_BATCHES = 10_000
EARLY_STAGES = ("lead", "prospect")


@dataclass(frozen=True)
class Rule:
    name: str
    # Candidates, as SQL; `check` decides again for a locked row (and gives the return date).
    condition: ColumnElement[bool]
    deadline: Callable[[Customer], dt.datetime | None]
    reason: str
    # When its clock started, for the rules a closure pauses (closures.days.pauses); None: it never pauses.
    counted_from: Callable[[Customer], dt.datetime | None] | None = None


def _later(*moments: dt.datetime | None) -> dt.datetime | None:
    present = [as_utc(m) for m in moments if m is not None]
    return max(present) if present else None


def _first_visit_due(customer: Customer) -> dt.datetime | None:
    return as_utc(customer.first_visit_due) if customer.first_visit_due else None


def _no_follow_up_since(customer: Customer) -> dt.datetime | None:
    """Its last follow-up, or when its owner got it if that came later."""
    return _later(customer.last_interaction_at, customer.owned_since or customer.created_at)


def _no_follow_up_until(span: dt.timedelta, customer: Customer) -> dt.datetime | None:
    start = _no_follow_up_since(customer)
    return start + span if start else None


def _no_order_since(customer: Customer) -> dt.datetime | None:
    """Its last confirmed order, or when its owner got it if that came later."""
    return _later(customer.last_order_at, customer.owned_since or customer.created_at)


def _no_order_until(span: dt.timedelta, customer: Customer) -> dt.datetime | None:
    start = _no_order_since(customer)
    return start + span if start else None


def _owned_since(customer: Customer) -> dt.datetime | None:
    return as_utc(customer.owned_since) if customer.owned_since else None


def _no_deal_until(span: dt.timedelta, customer: Customer) -> dt.datetime | None:
    return as_utc(customer.owned_since or customer.created_at) + span


def _rules(pool: Pool, now: dt.datetime) -> list[Rule]:
    """The pool's rules; each one's SQL condition takes the customers due now or (for the
    rules that warn) within the warning days, so a run reads only those."""
    rules = rules_of(pool)
    warn = dt.timedelta(days=int(rules["warn_days_before"]))
    found = [
        Rule(
            "first_visit_missed",
            Customer.first_visit_due <= now,
            _first_visit_due,
            "未按期回访 / no visit or call by the first-visit deadline",
            _owned_since,
        )
    ]
    for tier, days in sorted(rules["no_follow_up_days"].items()):
        if int(days) <= 0:
            continue
        span = dt.timedelta(days=int(days))
        cutoff = now - span + warn
        found.append(
            Rule(
                "no_follow_up",
                and_(
                    Customer.tier == tier,
                    or_(Customer.last_interaction_at.is_(None), Customer.last_interaction_at <= cutoff),
                    func.coalesce(Customer.owned_since, Customer.created_at) <= cutoff,
                ),
                functools.partial(_no_follow_up_until, span),
                f"超过{days}天未跟进 / no follow-up for {days} days",
                _no_follow_up_since,
            )
        )
    no_deal = int(rules["no_deal_days"])
    if no_deal > 0:
        span = dt.timedelta(days=no_deal)
        found.append(
            Rule(
                "no_deal",
                and_(
                    Customer.lifecycle_stage.in_(EARLY_STAGES),
                    func.coalesce(Customer.owned_since, Customer.created_at) <= now - span + warn,
                ),
                functools.partial(_no_deal_until, span),
                f"超过{no_deal}天未签约 / not signed within {no_deal} days",
            )
        )
    no_order = int(rules["no_order_days"])
    if no_order > 0:
        span = dt.timedelta(days=no_order)
        cutoff = now - span + warn
        found.append(
            Rule(
                "no_order",
                and_(
                    or_(Customer.last_order_at.is_(None), Customer.last_order_at <= cutoff),
                    func.coalesce(Customer.owned_since, Customer.created_at) <= cutoff,
                ),
                functools.partial(_no_order_until, span),
                f"超过{no_order}天未下单 / no order for {no_order} days",
                _no_order_since,
            )
        )
    return found


def _under_contract(customer: Customer, today: dt.date) -> bool:
    return bool(
        customer.contract_start and customer.contract_end and customer.contract_start <= today <= customer.contract_end
    )


def _governed_by(pool: Pool, pools: list[Pool]) -> list[ColumnElement[bool]]:
    """The owned customers whose nearest pool is `pool`."""
    deeper = [
        other.org_path
        for other in pools
        if other.tenant_id == pool.tenant_id and other.id != pool.id and other.org_path.startswith(pool.org_path)
    ]
    return [
        Customer.tenant_id == pool.tenant_id,
        Customer.owner_id != "",
        Customer.archived.is_(False),
        Customer.org_path.startswith(pool.org_path, autoescape=True),
        *(not_(Customer.org_path.startswith(path, autoescape=True)) for path in deeper),
    ]


@dataclass(frozen=True)
class PoolSweep:
    events: CustomerEvents

    async def __call__(self, job: JobContext) -> None:
        async with job.transaction() as session:
            pools = list((await session.scalars(select(Pool))).all())
        for pool in pools:
            for rule in _rules(pool, job.now):
                await self._sweep(job, pool, pools, rule)
        await self._expire_claims(job)

    async def _expire_claims(self, job: JobContext) -> None:
        """Claims nobody decided within CLAIM_EXPIRES_AFTER lapse, so the customer is free again."""
        cutoff = job.now - CLAIM_EXPIRES_AFTER
        for _ in range(MAX_BATCHES):
            async with job.transaction() as session:
                query: Any = (
                    select(PoolClaim)
                    .where(PoolClaim.status == "pending", PoolClaim.created_at <= cutoff)
                    .order_by(PoolClaim.created_at, PoolClaim.id)
                    .limit(BATCH)
                )
                if session.get_bind().dialect.name == "postgresql":
                    query = query.with_for_update(skip_locked=True)
                claims = list((await session.scalars(query)).all())
                for claim in claims:
                    claim.status, claim.decided_at = "expired", job.now
                    customer = await session.get(Customer, claim.customer_id)
                    pool = await session.get(Pool, claim.pool_id)
                    if customer is None or pool is None:
                        continue
                    await session.refresh(customer, attribute_names=["contacts"])
                    await self.events.claim_decided(
                        session, customer, claim_to_proto(claim, customer.name), pool, "", job.now
                    )
            if len(claims) < BATCH:
                return

    async def _sweep(self, job: JobContext, pool: Pool, pools: list[Pool], rule: Rule) -> None:
        rules = rules_of(pool)
        warn = dt.timedelta(days=int(rules["warn_days_before"])) if rule.name != "first_visit_missed" else None
        exempt = bool(rules["exempt_active_contract"])
        after = ""
        for _ in range(MAX_BATCHES):
            async with job.transaction() as session:
                batch = await _candidates(session, pool, pools, rule, after)
                paused = (
                    await pauses(session, {c.id: rule.counted_from(c) for c in batch}, job.now)
                    if rule.counted_from
                    else {}
                )
                returns, warnings = self._judge(job.now, rule, batch, warn=warn, exempt=exempt, paused=paused)
                await self._return(session, job.now, pool, rule, returns)
                await self._warn(session, job.now, pool, rule, warnings)
            if len(batch) < BATCH:
                return
            after = batch[-1].id

    def _judge(
        self,
        now: dt.datetime,
        rule: Rule,
        batch: list[Customer],
        *,
        warn: dt.timedelta | None,
        exempt: bool,
        paused: Mapping[str, Pause] | None = None,
    ) -> tuple[list[Customer], list[tuple[Customer, dt.date]]]:
        """Which of the (locked) candidates go back now, and which owners to warn of which date.
        A closed customer's clock stands still (`paused`): nothing returns or warns while it is
        closed, and its deadline moves on by the closed days already passed."""
        today = shanghai_date(now)
        returns: list[Customer] = []
        warnings: list[tuple[Customer, dt.date]] = []
        for customer in batch:
            deadline = rule.deadline(customer)
            if deadline is None or (exempt and _under_contract(customer, today)):
                continue
            pause = (paused or {}).get(customer.id)
            if pause is not None:
                if pause.closed_today:
                    continue
                deadline += pause.extension
            if deadline <= now:
                returns.append(customer)
            elif warn is not None and deadline - warn <= now:
                return_date = shanghai_date(deadline)
                if customer.return_warned_for != return_date:
                    warnings.append((customer, return_date))
        return returns, warnings

    async def _return(
        self, session: AsyncSession, now: dt.datetime, pool: Pool, rule: Rule, customers: list[Customer]
    ) -> None:
        if not customers:
            return
        moves = await move_many_into_pool(
            session,
            customers,
            pool,
            kind="returned_by_rule",
            reason=rule.reason,
            actor_id="",
            events=self.events,
            now=now,
            pool_rule=rule.name,
        )
        async with batched_events(session, self.events.tables):
            for customer, move in zip(customers, moves, strict=True):
                await self.events.returned_to_pool(
                    session,
                    customer,
                    move.previous_owner,
                    pool.id,
                    rule.name,
                    rule.reason,
                    now,
                    snapshot=move.snapshot,
                )

    async def _warn(
        self, session: AsyncSession, now: dt.datetime, pool: Pool, rule: Rule, warnings: list[tuple[Customer, dt.date]]
    ) -> None:
        """Each warning once per return date: the date is remembered on the customer (one update
        per date, not per customer) and the owner told."""
        by_date: dict[dt.date, list[Customer]] = {}
        for customer, return_date in warnings:
            by_date.setdefault(return_date, []).append(customer)
        for return_date, customers in by_date.items():
            await write_locked(session, customers, {"return_warned_for": return_date}, bump_version=False)
        async with batched_events(session, self.events.tables):
            for customer, return_date in warnings:
                await self.events.return_warning(session, customer, pool.id, rule.name, return_date, now)


async def _candidates(session: AsyncSession, pool: Pool, pools: list[Pool], rule: Rule, after: str) -> list[Customer]:
    query: Any = (
        select(Customer)
        .where(*_governed_by(pool, pools), rule.condition, Customer.id > after)
        .order_by(Customer.id)
        .limit(BATCH)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Customer)
    return list((await session.scalars(query)).all())


def pool_sweep_job(runtime: ServiceRuntime) -> PeriodicJob:
    sweep = PoolSweep(CustomerEvents(tables=runtime.tables, namespace=runtime.namespace))
    return PeriodicJob(name="pool-sweep", interval=SWEEP_INTERVAL, run=sweep)
