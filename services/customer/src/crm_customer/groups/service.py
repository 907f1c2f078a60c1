"""Group accounts (集团客户) and relations between customers. A branch has one parent; a group
is at most five levels deep and never a cycle. A parent's rollup counts and names only what the
caller may see. Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.contacts.models import Contact
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer
from crm_customer.customers.service import (
    WRITER_ROLES,
    check_version,
    get_customer,
    refuse_if_archived,
    scope_condition,
)
from crm_customer.groups.models import CustomerRelationRow, relation_to_proto, stored_form
from crmkit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from crmkit.identity import Identity

# Levels of a group, its top parent being the first.
MAX_GROUP_LEVELS = 5
# Relations a customer may have (either end), so listing them needs no pages.
MAX_RELATIONS = 200


async def _hold_groups(session: AsyncSession, tenant_id: str) -> None:
    """Make a second transaction changing the tenant's groups wait for this one, so two moves
    cannot together make a cycle that neither makes alone (A under B while B goes under A).
    PostgreSQL: an advisory lock until commit; SQLite has one writer anyway."""
    if session.get_bind().dialect.name != "postgresql":
        return
    key = zlib.crc32(f"customer-groups:{tenant_id}".encode())
    await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def ancestors_of(session: AsyncSession, tenant_id: str, customer_id: str) -> list[str]:
    """The customer and its parents up to the top, nearest first."""
    chain = [customer_id]
    while len(chain) <= MAX_GROUP_LEVELS:
        parent = await session.scalar(
            select(Customer.parent_customer_id).where(Customer.id == chain[-1], Customer.tenant_id == tenant_id)
        )
        if not parent or parent in chain:
            break
        chain.append(parent)
    return chain


async def branches_of(session: AsyncSession, tenant_id: str, customer_id: str) -> list[tuple[str, str, int]]:
    """Every branch under the customer, level by level, each level by name (pinyin): (id, parent
    id, depth from it)."""
    found: list[tuple[str, str, int]] = []
    frontier, seen = [customer_id], {customer_id}
    for depth in range(1, MAX_GROUP_LEVELS + 1):
        rows = (
            await session.execute(
                select(Customer.id, Customer.parent_customer_id)
                .where(Customer.tenant_id == tenant_id, Customer.parent_customer_id.in_(frontier))
                .order_by(Customer.pinyin_full, Customer.id)
            )
        ).all()
        level = [(branch_id, str(parent_id), depth) for branch_id, parent_id in rows if branch_id not in seen]
        if not level:
            break
        found.extend(level)
        frontier = [branch_id for branch_id, _, _ in level]
        seen.update(frontier)
    return found


async def set_parent(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    parent_id: str,
    expected_version: int,
    events: CustomerEvents,
    now: dt.datetime,
) -> Customer:
    """Put the branch under `parent_id` (a customer the caller may see), or with "" on its own."""
    identity.require_role(*WRITER_ROLES)
    await _hold_groups(session, identity.tenant_id)
    branch = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    check_version(branch, expected_version)
    refuse_if_archived(branch)
    previous = branch.parent_customer_id or ""
    if parent_id == previous:
        return branch
    if parent_id:
        if parent_id == branch.id:
            raise InvalidArgument(
                "parent_customer_id", "a customer cannot be its own parent / 不能将客户设为自己的上级"
            )
        parent = await session.scalar(
            select(Customer).where(Customer.id == parent_id, scope_condition(identity, now=now))
        )
        if parent is None:
            raise InvalidArgument("parent_customer_id", "no such customer / 上级客户不存在")
        if parent.archived:
            raise InvalidArgument("parent_customer_id", "the parent is archived / 上级客户已归档")
        above = await ancestors_of(session, identity.tenant_id, parent_id)
        if branch.id in above:
            raise InvalidArgument(
                "parent_customer_id",
                f"{parent.name} is a branch of this customer: that would be a cycle"
                f" / “{parent.name}”是本客户的下级，不能互为上下级",
            )
        below = await branches_of(session, identity.tenant_id, branch.id)
        levels = len(above) + 1 + max((depth for _, _, depth in below), default=0)
        if levels > MAX_GROUP_LEVELS:
            raise InvalidArgument(
                "parent_customer_id",
                f"the group would have {levels} levels, more than {MAX_GROUP_LEVELS}"
                f" / 集团层级将达{levels}级，最多{MAX_GROUP_LEVELS}级",
            )
    branch.parent_customer_id = parent_id or None
    branch.version += 1
    branch.updated_at = now
    await events.parent_changed(session, branch, previous, identity.principal_id, now)
    return branch


@dataclass
class _Member:
    customer: Customer
    parent_id: str
    depth: int
    contacts: list[Contact] = field(default_factory=list)


async def group_rollup(
    session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime
) -> prpb.GroupRollup:
    """The customer's group as the caller may see it: a branch outside the caller's data scope
    is neither counted nor named, and a visible branch under it hangs from its nearest visible
    ancestor."""
    root = await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    tree = await branches_of(session, identity.tenant_id, root.id)
    parents = {branch_id: parent_id for branch_id, parent_id, _ in tree}
    ancestors = (await ancestors_of(session, identity.tenant_id, root.id))[1:]
    visible_ids = {root.id}
    if tree or ancestors:
        rows = await session.scalars(
            select(Customer.id).where(
                Customer.id.in_([branch_id for branch_id, _, _ in tree] + ancestors),
                scope_condition(identity, now=now),
                Customer.archived.is_(False),
            )
        )
        visible_ids.update(rows.all())
    shown = [(branch_id, depth) for branch_id, _, depth in tree if branch_id in visible_ids]
    loaded = {
        c.id: c for c in (await session.scalars(select(Customer).where(Customer.id.in_([b for b, _ in shown])))).all()
    }
    members = [_Member(root, "", 0)]
    for branch_id, depth in shown:
        parent = parents[branch_id]
        while parent != root.id and parent not in visible_ids:
            parent = parents[parent]
        members.append(_Member(loaded[branch_id], parent, depth))
    by_customer = {member.customer.id: member for member in members}
    contacts = await session.scalars(
        select(Contact)
        .where(Contact.customer_id.in_(list(by_customer)))
        .order_by(Contact.created_at, Contact.position, Contact.id)
    )
    for contact in contacts.all():
        by_customer[contact.customer_id].contacts.append(contact)
    branches = members[1:]
    stages = Counter(member.customer.lifecycle_stage for member in branches)
    return prpb.GroupRollup(
        customer_id=root.id,
        ancestor_customer_ids=[a for a in ancestors if a in visible_ids],
        branches=[
            prpb.GroupBranch(
                customer_id=m.customer.id,
                name=m.customer.name,
                parent_customer_id=m.parent_id,
                depth=m.depth,
                lifecycle_stage=m.customer.lifecycle_stage,
                owner_id=m.customer.owner_id,
                contact_count=len(m.contacts),
            )
            for m in branches
        ],
        branch_count=len(branches),
        contact_count=sum(len(m.contacts) for m in members),
        stages=[prpb.GroupStageCount(lifecycle_stage=stage, count=count) for stage, count in sorted(stages.items())],
        contacts=[
            prpb.GroupContact(
                customer_id=m.customer.id,
                customer_name=m.customer.name,
                contact_id=c.id,
                name=c.name,
                title=c.title,
                decision_role=c.decision_role,
                primary=c.is_primary,
            )
            for m in members
            for c in m.contacts
        ],
    )


async def _names_visible(
    session: AsyncSession, identity: Identity, customer_ids: set[str], now: dt.datetime
) -> dict[str, str]:
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(Customer.id, Customer.name).where(Customer.id.in_(customer_ids), scope_condition(identity, now=now))
    )
    return {customer_id: name for customer_id, name in rows.all()}


async def list_relations(
    session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime
) -> list[prpb.CustomerRelation]:
    """The customer's relations whose other end the caller may also see, newest first."""
    await get_customer(session, identity=identity, customer_id=customer_id, now=now)
    rows = (
        await session.scalars(
            select(CustomerRelationRow)
            .where(
                or_(
                    CustomerRelationRow.customer_id == customer_id,
                    CustomerRelationRow.related_customer_id == customer_id,
                )
            )
            .order_by(CustomerRelationRow.created_at.desc(), CustomerRelationRow.id)
        )
    ).all()
    others = {r.related_customer_id if r.customer_id == customer_id else r.customer_id for r in rows}
    names = await _names_visible(session, identity, others, now)
    shown = []
    for row in rows:
        other = row.related_customer_id if row.customer_id == customer_id else row.customer_id
        if other in names:
            shown.append(relation_to_proto(row, seen_from=customer_id, related_name=names[other]))
    return shown


async def add_relation(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    related_id: str,
    kind: str,
    note: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> prpb.CustomerRelation:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    refuse_if_archived(customer)
    if related_id == customer.id:
        raise InvalidArgument("related_customer_id", "a customer cannot relate to itself / 不能与自己建立关系")
    names = await _names_visible(session, identity, {related_id}, now)
    if related_id not in names:
        raise InvalidArgument("related_customer_id", "no such customer / 关联客户不存在")
    held = await session.scalar(
        select(func.count()).where(
            or_(CustomerRelationRow.customer_id == customer.id, CustomerRelationRow.related_customer_id == customer.id)
        )
    )
    if (held or 0) >= MAX_RELATIONS:
        raise FailedPrecondition(f"a customer has at most {MAX_RELATIONS} relations / 客户关系最多{MAX_RELATIONS}个")
    first, second, stored_kind = stored_form(customer.id, related_id, kind)
    existing = await session.scalar(
        select(CustomerRelationRow.id).where(
            CustomerRelationRow.customer_id == first,
            CustomerRelationRow.related_customer_id == second,
            CustomerRelationRow.kind == stored_kind,
        )
    )
    if existing is not None:
        raise AlreadyExists(
            f"这两个客户已有该关系 / the customers already have this relation with {names[related_id]}",
            field="related_customer_id",
            details={"existing-id": existing},
        )
    row = CustomerRelationRow(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        customer_id=first,
        related_customer_id=second,
        kind=stored_kind,
        note=note,
        created_by=identity.principal_id,
        created_at=now,
    )
    session.add(row)
    relation = relation_to_proto(row, seen_from=customer.id, related_name=names[related_id])
    await events.relation_added(session, customer, relation, identity.principal_id, now)
    return relation


async def remove_relation(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    relation_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> None:
    """From either end the caller may change; the other end must be theirs to see too."""
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    row = await session.scalar(
        select(CustomerRelationRow).where(
            CustomerRelationRow.id == relation_id,
            or_(CustomerRelationRow.customer_id == customer.id, CustomerRelationRow.related_customer_id == customer.id),
        )
    )
    other = "" if row is None else (row.related_customer_id if row.customer_id == customer.id else row.customer_id)
    names = await _names_visible(session, identity, {other} if other else set(), now)
    if row is None or other not in names:
        raise NotFound("relation", relation_id)
    relation = relation_to_proto(row, seen_from=customer.id, related_name=names[other])
    await session.delete(row)
    await events.relation_removed(session, customer, relation, identity.principal_id, now)
