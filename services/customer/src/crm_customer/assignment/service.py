"""Assignment rules (自动分配): each tenant's ordered rules, and deciding who gets a customer nobody
named an owner for — the first enabled rule the customer meets hands it to an eligible user of its
target by the rule's strategy; no rule, or nobody eligible, leaves it to a pool. A dry run decides
the same way without taking a round-robin turn, and says why. Functions take the session and
never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.assignment.models import AssignmentCursor, AssignmentRuleSet
from crm_customer.assignment.rules import Facts, Rule
from crm_customer.directory.models import DirectoryUser
from crm_customer.directory.service import reps_of_unit, users_by_id, why_not_owner
from crm_customer.ownership.service import CustomerCapReached, caps_of, check_room, held_by
from crm_customer.pools.models import Pool
from crmkit.errors import Aborted, InvalidArgument, NotFound
from crmkit.identity import DataScope, Identity, Role

RULE_EDITORS = (Role.ADMIN, Role.BOSS)
RULE_READERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR)


@dataclass
class RuleCheck:
    rule: Rule
    matched: bool
    reason: str = ""
    # (user id, why): unknown, inactive, not_owner_role, at_cap, departing.
    skipped: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Decision:
    """The rule that decided (None: none matched), and the owner it chose or the pool that takes
    the customer instead (None as well: no pool covers the unit)."""

    rule: Rule | None
    owner: DirectoryUser | None
    pool: Pool | None
    checks: list[RuleCheck]

    def explanation(self) -> str:
        if self.owner is not None and self.rule is not None:
            name = self.owner.display_name or self.owner.user_id
            return f"按规则“{self.rule.name}”分配给{name} / rule {self.rule.name!r} assigns it to {name}"
        why = (
            f"规则“{self.rule.name}”没有可分配的人 / rule {self.rule.name!r} has nobody eligible"
            if self.rule is not None
            else "没有匹配的规则 / no rule matches"
        )
        if self.pool is not None:
            return f"{why}；进入公海“{self.pool.name}” / it goes to the pool {self.pool.name!r}"
        return f"{why}；且没有覆盖该组织的公海 / and no pool covers the org unit"


async def rule_set(session: AsyncSession, tenant_id: str) -> AssignmentRuleSet | None:
    return await session.get(AssignmentRuleSet, tenant_id)


async def rules_of(session: AsyncSession, tenant_id: str) -> list[Rule]:
    stored = await rule_set(session, tenant_id)
    return [Rule.stored(row) for row in stored.rules] if stored else []


async def set_rules(
    session: AsyncSession, *, identity: Identity, rules: list[Rule], expected_version: int, now: dt.datetime
) -> AssignmentRuleSet:
    """Replace the tenant's rules. Listed users must be known to the directory copy (a user the
    gateway never announced cannot be given customers)."""
    identity.require_role(*RULE_EDITORS)
    tenant_id = identity.tenant_id
    known = await users_by_id(session, tenant_id, sorted({u for rule in rules for u in rule.user_ids}))
    for index, rule in enumerate(rules):
        for position, user_id in enumerate(rule.user_ids):
            if user_id not in known:
                raise InvalidArgument(
                    f"rules[{index}].target.user_ids[{position}]", "not a user of this tenant / 不是本企业的用户"
                )
    stored = await session.get(AssignmentRuleSet, tenant_id, with_for_update=True)
    if expected_version and (stored.version if stored else 0) != expected_version:
        raise Aborted("rules were changed by someone else / 分配规则已被他人修改，请刷新后重试")
    rules = [rule if rule.id else Rule(**{**rule.__dict__, "id": str(uuid.uuid4())}) for rule in rules]
    if stored is None:
        stored = AssignmentRuleSet(tenant_id=tenant_id, version=0)
        session.add(stored)
    stored.rules = [rule.to_stored() for rule in rules]
    stored.version += 1
    stored.updated_at, stored.updated_by = now, identity.principal_id
    existing = set(
        (await session.scalars(select(AssignmentCursor.rule_id).where(AssignmentCursor.tenant_id == tenant_id))).all()
    )
    # Every round-robin rule has its turn row from the start, so a create only ever locks one.
    for rule in rules:
        if rule.strategy == "round_robin" and rule.id not in existing:
            session.add(AssignmentCursor(tenant_id=tenant_id, rule_id=rule.id, next_index=0))
    return stored


async def nearest_pool(session: AsyncSession, tenant_id: str, org_path: str) -> Pool | None:
    """The pool of the unit at `org_path`, or of the closest unit above it."""
    pools = (await session.scalars(select(Pool).where(Pool.tenant_id == tenant_id))).all()
    enclosing = [p for p in pools if org_path.startswith(p.org_path)]
    return max(enclosing, key=lambda p: len(p.org_path)) if enclosing else None


async def _target(session: AsyncSession, tenant_id: str, rule: Rule) -> tuple[list[str], dict[str, DirectoryUser]]:
    """The rule's users in their order (listed, or the unit's reps by id) and what the directory
    copy knows of them."""
    if rule.user_ids:
        return rule.user_ids, await users_by_id(session, tenant_id, rule.user_ids)
    reps = await reps_of_unit(session, tenant_id, rule.org_unit_id)
    return [r.user_id for r in reps], {r.user_id: r for r in reps}


async def _eligible(
    session: AsyncSession,
    tenant_id: str,
    ordered: Sequence[str],
    users: dict[str, DirectoryUser],
    check: RuleCheck,
    exclude: Collection[str],
) -> tuple[list[str], dict[str, int]]:
    candidates = []
    for user_id in ordered:
        why = "departing" if user_id in exclude else why_not_owner(users.get(user_id))
        if why:
            check.skipped.append((user_id, why))
        else:
            candidates.append(user_id)
    default, own = await caps_of(session, tenant_id, candidates)
    held = await held_by(session, tenant_id, candidates)
    eligible = []
    for user_id in candidates:
        cap = own.get(user_id) or default
        if cap and held[user_id] >= cap:
            check.skipped.append((user_id, "at_cap"))
        else:
            eligible.append(user_id)
    return eligible, held


async def _choose(
    session: AsyncSession,
    tenant_id: str,
    rule: Rule,
    ordered: Sequence[str],
    eligible: list[str],
    held: dict[str, int],
    cursor: AssignmentCursor | None,
    take_turn: bool,
) -> str:
    if rule.strategy == "fixed":
        return eligible[0]
    if rule.strategy == "least_loaded":
        return min(eligible, key=lambda user_id: (held[user_id], eligible.index(user_id)))
    start = cursor.next_index % len(ordered) if cursor else 0
    index = next(i % len(ordered) for i in range(start, start + len(ordered)) if ordered[i % len(ordered)] in eligible)
    if take_turn:
        if cursor is None:
            session.add(AssignmentCursor(tenant_id=tenant_id, rule_id=rule.id, next_index=index + 1))
        else:
            cursor.next_index = index + 1
    return ordered[index]


async def decide(
    session: AsyncSession,
    *,
    tenant_id: str,
    facts: Facts,
    fallback_org_path: str,
    take_turn: bool,
    exclude: Collection[str] = (),
) -> Decision:
    """Who gets a customer with these facts. `take_turn`: this is the real assignment — it takes a
    round-robin turn (the rule's turn row stays locked until the caller commits, so concurrent
    creates take turns one after the other) and holds the chosen owner's book against the cap."""
    checks: list[RuleCheck] = []
    for rule in await rules_of(session, tenant_id):
        check = RuleCheck(rule=rule, matched=False, reason=rule.mismatch(facts))
        checks.append(check)
        if check.reason:
            continue
        check.matched = True
        cursor = None
        if rule.strategy == "round_robin":
            cursor = await session.get(AssignmentCursor, (tenant_id, rule.id), with_for_update=take_turn)
        ordered, users = await _target(session, tenant_id, rule)
        eligible, held = await _eligible(session, tenant_id, ordered, users, check, exclude)
        while eligible:
            chosen = await _choose(session, tenant_id, rule, ordered, eligible, held, cursor, take_turn)
            if take_turn:
                try:
                    # Read again under the owner's lock: a create racing for the last place loses.
                    await check_room(session, tenant_id=tenant_id, owner_id=chosen, field="customer.owner_id")
                except CustomerCapReached:
                    eligible.remove(chosen)
                    check.skipped.append((chosen, "at_cap"))
                    continue
            return Decision(rule=rule, owner=users[chosen], pool=None, checks=checks)
        unit_path = rule.org_unit_id and await path_of_unit(session, tenant_id, rule.org_unit_id)
        pool = await nearest_pool(session, tenant_id, unit_path or fallback_org_path)
        return Decision(rule=rule, owner=None, pool=pool, checks=checks)
    return Decision(
        rule=None, owner=None, pool=await nearest_pool(session, tenant_id, fallback_org_path), checks=checks
    )


async def path_of_unit(session: AsyncSession, tenant_id: str, org_unit_id: str) -> str:
    """The materialised path of an org unit, read off a user or a pool of its subtree (the
    service keeps no org tree); "" when neither knows the unit."""
    marker = f"/{org_unit_id}/"
    for column in (DirectoryUser.org_path, Pool.org_path):
        table_tenant = DirectoryUser.tenant_id if column is DirectoryUser.org_path else Pool.tenant_id
        path = await session.scalar(
            select(column).where(table_tenant == tenant_id, column.contains(marker, autoescape=True)).limit(1)
        )
        if path:
            return str(path)[: str(path).index(marker) + len(marker)]
    return ""


async def unit_path(session: AsyncSession, identity: Identity, org_unit_id: str) -> str:
    """A unit the caller may name: their own, or one inside their scope."""
    if org_unit_id == identity.org_unit_id:
        return identity.org_path
    path = await path_of_unit(session, identity.tenant_id, org_unit_id)
    if not path or (identity.scope is DataScope.SUBTREE and not path.startswith(identity.org_path)):
        raise NotFound("org unit", org_unit_id)
    return path
