"""Closures (停工/放假): a customer's own closures, and the tenant's templates (校历) applied to many
customers at once. A customer's closures never overlap, whatever their source. Applying a
template gives each customer one closure per range; changing the template's ranges changes those
closures on every customer it is applied to; taking a customer off it removes them. Every change
of a closure publishes closure_scheduled / closure_changed / closure_removed in the same
transaction. Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import raiseload

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.closures.events import ClosureEvents
from crm_customer.closures.models import (
    REASON_LABELS,
    ClosureRange,
    ClosureTemplate,
    ClosureTemplateMember,
    CustomerClosure,
    closure_to_proto,
    stored_range,
)
from crm_customer.closures.validation import checked_range
from crm_customer.customers.models import Customer, ListFilter
from crm_customer.customers.service import (
    WRITER_ROLES,
    filter_conditions,
    get_customer,
    refuse_if_archived,
    scope_condition,
)
from crmkit.clock import shanghai_date
from crmkit.errors import Aborted, FailedPrecondition, InvalidArgument, NotFound
from crmkit.events import batched_events, timestamp_of
from crmkit.identity import Identity, Role
from crmkit.paging import KeysetOrder

# Finance keeps the books, not the delivery calendar; everyone else who sees a customer sees
# when it is closed.
CLOSURE_READERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES, Role.SERVICE)
TEMPLATE_EDITORS = (Role.ADMIN, Role.BOSS)
# A customer keeps at most this many closures (a few a year for years).
MAX_CLOSURES = 200
# Customers a filter may take at once; more must be narrowed (or applied in parts).
MAX_FILTERED = 5000
# Rows per statement when a template touches many customers.
CHUNK = 500
BY_CUSTOMER = KeysetOrder("customer_asc", ClosureTemplateMember.customer_id, ClosureTemplateMember.customer_id, False)


class ClosureOverlaps(InvalidArgument):
    code = "closure_overlap"


class TooManyCustomers(FailedPrecondition):
    code = "too_many_customers"


def _chunks(values: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _overlaps(start: dt.date, end: dt.date) -> ColumnElement[bool]:
    return and_(CustomerClosure.start_date <= end, CustomerClosure.end_date >= start)


def _describe(closure: CustomerClosure) -> tuple[str, str]:
    label = REASON_LABELS.get(closure.reason, closure.reason)
    return (
        f"{closure.start_date}至{closure.end_date}（{label}）",
        f"{closure.start_date} to {closure.end_date} ({closure.reason})",
    )


def _refuse_overlap(found: CustomerClosure | None, field_name: str) -> None:
    if found is None:
        return
    zh, en = _describe(found)
    refusal = ClosureOverlaps(field_name, f"overlaps the closure {en} / 与已有的停工{zh}重叠")
    refusal.details = {"overlapping-id": found.id}
    raise refusal


def _as_removed(message: cpb.Closure, now: dt.datetime) -> cpb.Closure:
    """A removed closure as its event carries it: its last state, one version up."""
    message.version += 1
    message.update_time.CopyFrom(timestamp_of(now))
    return message


async def _template_names(session: AsyncSession, closures: Iterable[CustomerClosure]) -> dict[str, str]:
    ids = {c.template_id for c in closures if c.template_id}
    if not ids:
        return {}
    rows = await session.execute(select(ClosureTemplate.id, ClosureTemplate.name).where(ClosureTemplate.id.in_(ids)))
    return {template_id: name for template_id, name in rows.all()}


# --------------------------------------------------------------------------- a customer's own


async def _readable_customer(session: AsyncSession, identity: Identity, customer_id: str, now: dt.datetime) -> Customer:
    identity.require_role(*CLOSURE_READERS)
    return await get_customer(session, identity=identity, customer_id=customer_id, now=now)


async def _writable_customer(session: AsyncSession, identity: Identity, customer_id: str, now: dt.datetime) -> Customer:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    refuse_if_archived(customer)
    return customer


@dataclass(frozen=True)
class ClosureList:
    closures: list[CustomerClosure]
    template_names: dict[str, str]
    current: CustomerClosure | None


async def list_closures(
    session: AsyncSession, *, identity: Identity, customer_id: str, from_date: dt.date | None, now: dt.datetime
) -> ClosureList:
    await _readable_customer(session, identity, customer_id, now)
    query = select(CustomerClosure).where(CustomerClosure.customer_id == customer_id)
    if from_date is not None:
        query = query.where(CustomerClosure.end_date >= from_date)
    closures = list((await session.scalars(query.order_by(CustomerClosure.start_date))).all())
    today = shanghai_date(now)
    current = next((c for c in closures if c.start_date <= today <= c.end_date), None)
    return ClosureList(closures, await _template_names(session, closures), current)


async def create_closure(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    data: ClosureRange,
    events: ClosureEvents,
    now: dt.datetime,
) -> CustomerClosure:
    customer = await _writable_customer(session, identity, customer_id, now)
    count = await session.scalar(
        select(func.count()).select_from(CustomerClosure).where(CustomerClosure.customer_id == customer.id)
    )
    if int(count or 0) >= MAX_CLOSURES:
        raise FailedPrecondition(
            f"a customer keeps at most {MAX_CLOSURES} closures / 每个客户最多{MAX_CLOSURES}条停工记录"
        )
    _refuse_overlap(
        await session.scalar(
            select(CustomerClosure)
            .where(CustomerClosure.customer_id == customer.id, _overlaps(data.start_date, data.end_date))
            .limit(1)
        ),
        "closure.start_date",
    )
    closure = CustomerClosure(
        id=str(uuid.uuid4()),
        tenant_id=customer.tenant_id,
        customer_id=customer.id,
        start_date=data.start_date,
        end_date=data.end_date,
        reason=data.reason,
        note=data.note,
        template_id=None,
        template_range_id=None,
        version=1,
        created_by=identity.principal_id,
        created_at=now,
        updated_at=now,
    )
    session.add(closure)
    await session.flush()
    await events.scheduled(session, customer, closure_to_proto(closure), identity.principal_id, now)
    return closure


async def _own_closure(session: AsyncSession, customer: Customer, closure_id: str) -> CustomerClosure:
    closure = await session.get(CustomerClosure, closure_id, with_for_update=True)
    if closure is None or closure.customer_id != customer.id:
        raise NotFound("closure", closure_id)
    if closure.template_id:
        raise FailedPrecondition(
            "this closure comes from a template: change the template, or take the customer off it / "
            "该停工来自校历模板：请修改模板，或将客户移出模板"
        )
    return closure


async def update_closure(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    closure_id: str,
    changes: dict[str, Any],
    expected_version: int,
    events: ClosureEvents,
    now: dt.datetime,
) -> CustomerClosure:
    customer = await _writable_customer(session, identity, customer_id, now)
    closure = await _own_closure(session, customer, closure_id)
    if expected_version and closure.version != expected_version:
        raise Aborted("closure was changed by someone else / 停工记录已被他人修改，请刷新后重试")
    start = changes.get("start_date", closure.start_date)
    end = changes.get("end_date", closure.end_date)
    checked_range(start, end, changes.get("reason", closure.reason), changes.get("note", closure.note), "closure.")
    _refuse_overlap(
        await session.scalar(
            select(CustomerClosure)
            .where(
                CustomerClosure.customer_id == customer.id,
                CustomerClosure.id != closure.id,
                _overlaps(start, end),
            )
            .limit(1)
        ),
        "closure.start_date",
    )
    changed = [key for key, value in changes.items() if getattr(closure, key) != value]
    if not changed:
        return closure
    previous = (closure.start_date, closure.end_date)
    for key in changed:
        setattr(closure, key, changes[key])
    closure.version += 1
    closure.updated_at = now
    await session.flush()
    await events.changed(session, customer, closure_to_proto(closure), previous, identity.principal_id, now)
    return closure


async def delete_closure(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    closure_id: str,
    events: ClosureEvents,
    now: dt.datetime,
) -> None:
    customer = await _writable_customer(session, identity, customer_id, now)
    closure = await _own_closure(session, customer, closure_id)
    message = _as_removed(closure_to_proto(closure), now)
    await session.delete(closure)
    await events.removed(session, customer, message, identity.principal_id, now)


# --------------------------------------------------------------------------- templates


async def _template(
    session: AsyncSession, identity: Identity, template_id: str, *, for_update: bool = False
) -> ClosureTemplate:
    template = await session.get(ClosureTemplate, template_id, with_for_update=for_update)
    if template is None or template.tenant_id != identity.tenant_id:
        raise NotFound("closure template", template_id)
    return template


async def member_counts(session: AsyncSession, template_ids: Sequence[str]) -> dict[str, int]:
    if not template_ids:
        return {}
    rows = await session.execute(
        select(ClosureTemplateMember.template_id, func.count())
        .where(ClosureTemplateMember.template_id.in_(template_ids))
        .group_by(ClosureTemplateMember.template_id)
    )
    return {template_id: int(count) for template_id, count in rows.all()}


async def list_templates(session: AsyncSession, *, identity: Identity) -> list[tuple[ClosureTemplate, int]]:
    identity.require_role(*CLOSURE_READERS)
    templates = list(
        (
            await session.scalars(
                select(ClosureTemplate)
                .where(ClosureTemplate.tenant_id == identity.tenant_id)
                .order_by(ClosureTemplate.name)
            )
        ).all()
    )
    counts = await member_counts(session, [t.id for t in templates])
    return [(t, counts.get(t.id, 0)) for t in templates]


async def get_template(session: AsyncSession, *, identity: Identity, template_id: str) -> tuple[ClosureTemplate, int]:
    identity.require_role(*CLOSURE_READERS)
    template = await _template(session, identity, template_id)
    return template, (await member_counts(session, [template.id])).get(template.id, 0)


async def _refuse_taken_name(session: AsyncSession, identity: Identity, name: str, template_id: str = "") -> None:
    taken = await session.scalar(
        select(ClosureTemplate.id).where(
            ClosureTemplate.tenant_id == identity.tenant_id,
            ClosureTemplate.name == name,
            ClosureTemplate.id != template_id,
        )
    )
    if taken:
        raise InvalidArgument("template.name", "another template has this name / 已有同名的校历模板")


async def create_template(
    session: AsyncSession, *, identity: Identity, name: str, ranges: Sequence[ClosureRange], now: dt.datetime
) -> ClosureTemplate:
    identity.require_role(*TEMPLATE_EDITORS)
    await _refuse_taken_name(session, identity, name)
    template = ClosureTemplate(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        name=name,
        ranges=[r.as_stored(str(uuid.uuid4())) for r in sorted(ranges, key=lambda r: r.start_date)],
        version=1,
        created_by=identity.principal_id,
        created_at=now,
        updated_at=now,
    )
    session.add(template)
    await session.flush()
    return template


def _customers_query(ids: Sequence[str]) -> Any:
    return select(Customer).where(Customer.id.in_(ids)).options(raiseload(Customer.contacts)).order_by(Customer.id)


async def _load_customers(session: AsyncSession, ids: Sequence[str], *, lock: bool) -> dict[str, Customer]:
    """Customers by id, their contacts not loaded; locked (PostgreSQL) in id order when `lock`."""
    found: dict[str, Customer] = {}
    for chunk in _chunks(sorted(ids)):
        query = _customers_query(chunk)
        if lock:
            query = query.with_for_update(of=Customer)
        found.update({c.id: c for c in (await session.scalars(query)).all()})
    return found


def _template_closure(
    template: ClosureTemplate, stored: dict[str, Any], customer: Customer, actor_id: str, now: dt.datetime
) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "tenant_id": customer.tenant_id,
        "customer_id": customer.id,
        "start_date": dt.date.fromisoformat(stored["start_date"]),
        "end_date": dt.date.fromisoformat(stored["end_date"]),
        "reason": stored["reason"],
        "note": stored.get("note", ""),
        "template_id": template.id,
        "template_range_id": stored["id"],
        "version": 1,
        "created_by": actor_id,
        "created_at": now,
        "updated_at": now,
    }


async def _schedule(
    session: AsyncSession,
    template: ClosureTemplate,
    stored_ranges: Sequence[dict[str, Any]],
    customers: Sequence[Customer],
    *,
    events: ClosureEvents,
    actor_id: str,
    now: dt.datetime,
) -> int:
    """A closure for each customer and range, written in one statement, each announced."""
    rows = [_template_closure(template, r, c, actor_id, now) for c in customers for r in stored_ranges]
    if not rows:
        return 0
    await session.execute(insert(CustomerClosure), rows)
    by_id = {c.id: c for c in customers}
    async with batched_events(session, events.events.tables):
        for row in rows:
            closure = CustomerClosure(**row)
            await events.scheduled(
                session, by_id[row["customer_id"]], closure_to_proto(closure, template.name), actor_id, now
            )
    return len(rows)


async def _remove(
    session: AsyncSession,
    template: ClosureTemplate,
    condition: ColumnElement[bool],
    *,
    events: ClosureEvents,
    actor_id: str,
    now: dt.datetime,
) -> int:
    """The template's closures matching `condition`, deleted and each announced."""
    closures = list(
        (
            await session.scalars(select(CustomerClosure).where(CustomerClosure.template_id == template.id, condition))
        ).all()
    )
    if not closures:
        return 0
    customers = await _load_customers(session, [c.customer_id for c in closures], lock=False)
    async with batched_events(session, events.events.tables):
        for closure in closures:
            message = _as_removed(closure_to_proto(closure, template.name), now)
            await events.removed(session, customers[closure.customer_id], message, actor_id, now)
    for chunk in _chunks([c.id for c in closures]):
        await session.execute(
            delete(CustomerClosure).where(CustomerClosure.id.in_(chunk)).execution_options(synchronize_session=False)
        )
    for closure in closures:
        session.expunge(closure)
    return len(closures)


def _member_of(template: ClosureTemplate) -> Any:
    return select(ClosureTemplateMember.customer_id).where(ClosureTemplateMember.template_id == template.id)


async def _refuse_member_overlaps(
    session: AsyncSession, template: ClosureTemplate, ranges: Sequence[tuple[int, ClosureRange]]
) -> None:
    """No customer the template is applied to may hold another closure across a new or moved
    range: one query over its members."""
    if not ranges:
        return
    row = (
        await session.execute(
            select(CustomerClosure, Customer.name)
            .join(Customer, Customer.id == CustomerClosure.customer_id)
            .where(
                CustomerClosure.customer_id.in_(_member_of(template)),
                or_(CustomerClosure.template_id.is_(None), CustomerClosure.template_id != template.id),
                or_(*(_overlaps(r.start_date, r.end_date) for _, r in ranges)),
            )
            .limit(1)
        )
    ).first()
    if row is None:
        return
    closure, customer_name = row
    index = next(i for i, r in ranges if r.start_date <= closure.end_date and r.end_date >= closure.start_date)
    zh, en = _describe(closure)
    refusal = ClosureOverlaps(
        f"template.ranges[{index}]",
        f"customer {customer_name} is closed {en} already; take it off the template or change its closure / "
        f"客户「{customer_name}」已有停工{zh}，与该时段重叠：请先将其移出模板或修改其停工",
    )
    refusal.details = {"overlapping-id": closure.id, "customer-id": closure.customer_id}
    raise refusal


@dataclass
class TemplateChange:
    template: ClosureTemplate
    closures_changed: int = 0


async def update_template(
    session: AsyncSession,
    *,
    identity: Identity,
    template_id: str,
    changes: dict[str, Any],
    expected_version: int,
    events: ClosureEvents,
    now: dt.datetime,
) -> TemplateChange:
    """Rename it, or replace its ranges: every customer it is applied to follows, in this
    transaction (a range kept by id changes their closures, a new one schedules one for each, a
    range left out removes theirs)."""
    identity.require_role(*TEMPLATE_EDITORS)
    template = await _template(session, identity, template_id, for_update=True)
    if expected_version and template.version != expected_version:
        raise Aborted("template was changed by someone else / 校历模板已被他人修改，请刷新后重试")
    result = TemplateChange(template)
    if "name" in changes and changes["name"] != template.name:
        await _refuse_taken_name(session, identity, changes["name"], template.id)
        template.name = changes["name"]
    if "ranges" in changes:
        result.closures_changed = await _replace_ranges(
            session, template, changes["ranges"], identity=identity, events=events, now=now
        )
    template.version += 1
    template.updated_at = now
    await session.flush()
    return result


async def _replace_ranges(
    session: AsyncSession,
    template: ClosureTemplate,
    ranges: Sequence[ClosureRange],
    *,
    identity: Identity,
    events: ClosureEvents,
    now: dt.datetime,
) -> int:
    old = {r["id"]: stored_range(r) for r in template.ranges or []}
    for index, given in enumerate(ranges):
        if given.id and given.id not in old:
            raise InvalidArgument(f"template.ranges[{index}].id", "no such range in this template / 模板中没有该时段")
    kept = {r.id for r in ranges if r.id}
    moved = [
        (i, r)
        for i, r in enumerate(ranges)
        if not r.id or (old[r.id].start_date, old[r.id].end_date) != (r.start_date, r.end_date)
    ]
    await _refuse_member_overlaps(session, template, moved)
    stored = [r.as_stored(r.id or str(uuid.uuid4())) for r in ranges]
    actor = identity.principal_id
    touched = 0
    removed_ids = [range_id for range_id in old if range_id not in kept]
    if removed_ids:
        touched += await _remove(
            session,
            template,
            CustomerClosure.template_range_id.in_(removed_ids),
            events=events,
            actor_id=actor,
            now=now,
        )
    changed = [(r, s) for r, s in zip(ranges, stored, strict=True) if r.id and old[r.id] != r]
    for given, _ in changed:
        touched += await _change_range(session, template, old[given.id], given, events=events, actor_id=actor, now=now)
    added = [s for r, s in zip(ranges, stored, strict=True) if not r.id]
    template.ranges = sorted(stored, key=lambda r: r["start_date"])
    if added:
        member_ids = list((await session.scalars(_member_of(template))).all())
        for chunk in _chunks(member_ids):
            customers = await _load_customers(session, chunk, lock=False)
            touched += await _schedule(
                session, template, added, list(customers.values()), events=events, actor_id=actor, now=now
            )
    return touched


async def _change_range(
    session: AsyncSession,
    template: ClosureTemplate,
    before: ClosureRange,
    after: ClosureRange,
    *,
    events: ClosureEvents,
    actor_id: str,
    now: dt.datetime,
) -> int:
    """One range's closures on every member rewritten with one UPDATE, then each announced."""
    condition = and_(CustomerClosure.template_id == template.id, CustomerClosure.template_range_id == before.id)
    await session.execute(
        update(CustomerClosure)
        .where(condition)
        .values(
            start_date=after.start_date,
            end_date=after.end_date,
            reason=after.reason,
            note=after.note,
            version=CustomerClosure.version + 1,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    closures = list(
        (
            await session.scalars(select(CustomerClosure).where(condition).execution_options(populate_existing=True))
        ).all()
    )
    customers = await _load_customers(session, [c.customer_id for c in closures], lock=False)
    async with batched_events(session, events.events.tables):
        for closure in closures:
            await events.changed(
                session,
                customers[closure.customer_id],
                closure_to_proto(closure, template.name),
                (before.start_date, before.end_date),
                actor_id,
                now,
            )
    return len(closures)


async def delete_template(
    session: AsyncSession, *, identity: Identity, template_id: str, events: ClosureEvents, now: dt.datetime
) -> int:
    identity.require_role(*TEMPLATE_EDITORS)
    template = await _template(session, identity, template_id, for_update=True)
    removed = await _remove(
        session,
        template,
        CustomerClosure.template_id == template.id,
        events=events,
        actor_id=identity.principal_id,
        now=now,
    )
    await session.execute(delete(ClosureTemplateMember).where(ClosureTemplateMember.template_id == template.id))
    await session.delete(template)
    return removed


@dataclass
class ApplyResult:
    applied: list[str] = field(default_factory=list)
    already_applied: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    # (customer, its closures that overlap a range, earliest first)
    conflicts: list[tuple[Customer, list[CustomerClosure]]] = field(default_factory=list)
    # The template's ranges as stored, for the report of what overlapped what.
    template_ranges: list[dict[str, Any]] = field(default_factory=list)


async def _filtered_ids(
    session: AsyncSession, identity: Identity, filters: ListFilter, room: int, now: dt.datetime
) -> list[str]:
    conditions = [scope_condition(identity, now=now, access="write"), *filter_conditions(filters)]
    count = int(await session.scalar(select(func.count()).select_from(Customer).where(*conditions)) or 0)
    if count > room:
        raise TooManyCustomers(
            f"the filter takes {count} customers, more than {room} at once: narrow it / "
            f"筛选结果有{count}个客户，超过一次可处理的{room}个，请缩小范围"
        )
    return list((await session.scalars(select(Customer.id).where(*conditions).order_by(Customer.id))).all())


async def apply_template(
    session: AsyncSession,
    *,
    identity: Identity,
    template_id: str,
    customer_ids: Sequence[str],
    filters: ListFilter | None,
    events: ClosureEvents,
    now: dt.datetime,
) -> ApplyResult:
    """Apply the template to the listed customers and those the filter takes, among those the
    caller may change; a customer with a closure of its own across a range is left out and
    reported. Applying twice changes nothing."""
    identity.require_role(*WRITER_ROLES)
    template = await _template(session, identity, template_id)
    if not customer_ids and filters is None:
        raise InvalidArgument("customer_ids", "name customers or a filter / 请指定客户或筛选条件")
    wanted = list(customer_ids)
    if filters is not None:
        extra = await _filtered_ids(session, identity, filters, MAX_FILTERED, now)
        wanted = list(dict.fromkeys([*wanted, *extra]))
    result = ApplyResult(template_ranges=list(template.ranges or []))
    visible: list[Customer] = []
    for chunk in _chunks(sorted(wanted)):
        query = (
            select(Customer)
            .where(
                Customer.id.in_(chunk), scope_condition(identity, now=now, access="write"), Customer.archived.is_(False)
            )
            .options(raiseload(Customer.contacts))
            .order_by(Customer.id)
            .with_for_update(of=Customer)
        )
        visible.extend((await session.scalars(query)).all())
    seen = {c.id for c in visible}
    result.not_found = [customer_id for customer_id in wanted if customer_id not in seen]
    ranges = [stored_range(r) for r in template.ranges or []]
    fresh: list[Customer] = []
    for chunk_start in range(0, len(visible), CHUNK):
        batch = visible[chunk_start : chunk_start + CHUNK]
        ids = [c.id for c in batch]
        members = set(
            (
                await session.scalars(
                    select(ClosureTemplateMember.customer_id).where(
                        ClosureTemplateMember.template_id == template.id, ClosureTemplateMember.customer_id.in_(ids)
                    )
                )
            ).all()
        )
        blocking: dict[str, list[CustomerClosure]] = {}
        if ranges:
            for closure in (
                await session.scalars(
                    select(CustomerClosure)
                    .where(
                        CustomerClosure.customer_id.in_([i for i in ids if i not in members]),
                        or_(*(_overlaps(r.start_date, r.end_date) for r in ranges)),
                    )
                    .order_by(CustomerClosure.start_date)
                )
            ).all():
                blocking.setdefault(closure.customer_id, []).append(closure)
        for customer in batch:
            if customer.id in members:
                result.already_applied.append(customer.id)
            elif customer.id in blocking:
                result.conflicts.append((customer, blocking[customer.id]))
            else:
                fresh.append(customer)
    if fresh:
        await session.execute(
            insert(ClosureTemplateMember),
            [
                {
                    "template_id": template.id,
                    "customer_id": c.id,
                    "tenant_id": c.tenant_id,
                    "applied_by": identity.principal_id,
                    "applied_at": now,
                }
                for c in fresh
            ],
        )
        await _schedule(
            session, template, template.ranges or [], fresh, events=events, actor_id=identity.principal_id, now=now
        )
    result.applied = [c.id for c in fresh]
    return result


async def remove_customers(
    session: AsyncSession,
    *,
    identity: Identity,
    template_id: str,
    customer_ids: Sequence[str],
    events: ClosureEvents,
    now: dt.datetime,
) -> tuple[list[str], list[str]]:
    """Take these customers (those the caller may change) off the template: its closures leave
    them. Returns (removed, not found)."""
    identity.require_role(*WRITER_ROLES)
    template = await _template(session, identity, template_id)
    removed: list[str] = []
    for chunk in _chunks(sorted(customer_ids)):
        rows = (
            await session.scalars(
                select(Customer.id)
                .join(ClosureTemplateMember, ClosureTemplateMember.customer_id == Customer.id)
                .where(
                    ClosureTemplateMember.template_id == template.id,
                    Customer.id.in_(chunk),
                    scope_condition(identity, now=now, access="write"),
                )
                .order_by(Customer.id)
                .with_for_update(of=Customer)
            )
        ).all()
        removed.extend(rows)
    if removed:
        await _remove(
            session,
            template,
            CustomerClosure.customer_id.in_(removed),
            events=events,
            actor_id=identity.principal_id,
            now=now,
        )
        for chunk in _chunks(removed):
            await session.execute(
                delete(ClosureTemplateMember).where(
                    ClosureTemplateMember.template_id == template.id, ClosureTemplateMember.customer_id.in_(chunk)
                )
            )
    gone = set(removed)
    return removed, [customer_id for customer_id in customer_ids if customer_id not in gone]


async def list_template_customers(
    session: AsyncSession,
    *,
    identity: Identity,
    template_id: str,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[Any], str]:
    """The caller's customers the template is applied to, by customer id."""
    identity.require_role(*CLOSURE_READERS)
    template = await _template(session, identity, template_id)
    query = (
        select(ClosureTemplateMember.customer_id, Customer.name, Customer.owner_id, ClosureTemplateMember.applied_at)
        .join(Customer, Customer.id == ClosureTemplateMember.customer_id)
        .where(ClosureTemplateMember.template_id == template.id, scope_condition(identity, now=now))
    )
    rows = (await session.execute(BY_CUSTOMER.apply(query, page_token).limit(page_size + 1))).all()
    return BY_CUSTOMER.page(rows, page_size, lambda row: (row.customer_id, row.customer_id))
