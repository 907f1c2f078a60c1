"""Customers: create (one profile per credit code, mobile or WeChat id), placement, update and
transfer, archive, keyset lists. Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, Text, cast, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from crm_customer.assignment.rules import facts_of_customer
from crm_customer.assignment.service import Decision, decide
from crm_customer.collaborators.endings import end_collaborations_on_owner_change
from crm_customer.collaborators.models import READ_SHARES, WRITE_SHARES
from crm_customer.contacts.models import Contact, new_contact
from crm_customer.contacts.personal import PersonalData
from crm_customer.contacts.validation import refuse_repeats_within
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import Customer, CustomerInput, ListFilter
from crm_customer.customers.validation import contract_dates
from crm_customer.ownership.service import check_room, record_owner_change
from crm_customer.preferences.service import check_requirements
from crm_customer.revisits.owner_changes import follow_customers
from crm_customer.search.service import index_for_search, move_search_terms_to_owner
from crm_customer.stages.models import stage_change_to_proto
from crm_customer.stages.service import record_stage_change
from crm_customer.tenant_settings.service import check_customer_type, check_product_lines, checked_custom_fields
from crm_customer.tiers.models import GRADE, MANUAL, VALUE, tier_change_to_proto
from crm_customer.tiers.rules import TierMove, change_value, record_tier_change
from crmkit.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import PARTNER_PERMISSION, DataScope, Identity, Placement, Role
from crmkit.paging import KeysetOrder
from crmkit.scope import Shares, scope_clause, shared_clause

WRITER_ROLES = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)
# The history's reason for a tier or grade given when the customer was created.
SET_AT_CREATION = "新建客户时设定 / set when the customer was created"


# What a caller needs from a customer: to see it, to change it (collaborators with read-write
# access may), or to hold it (owner actions: release, archive; collaborators may not).
Access = Literal["read", "write", "own"]
_SHARES: dict[Access, Shares | None] = {"read": READ_SHARES, "write": WRITE_SHARES, "own": None}


def scope_condition(
    identity: Identity, *, now: dt.datetime | None = None, access: Access = "read"
) -> ColumnElement[bool]:
    """The customers the caller may see (`read`), change (`write`) or act on as their holder
    (`own`): a sales rep's own, plus for reading and writing those shared with them (`now`
    judges the shares' expiry); a wider scope is the same for all three."""
    return scope_clause(
        identity,
        tenant=Customer.tenant_id,
        org_path=Customer.org_path,
        owner=Customer.owner_id,
        shares=_SHARES[access],
        now=now,
    )


def visible(identity: Identity, customer: Customer, *, shared: bool = False) -> bool:
    return customer.tenant_id == identity.tenant_id and identity.can_see(
        owner_id=customer.owner_id, org_path=customer.org_path, shared=shared
    )


async def get_customer(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    now: dt.datetime,
    access: Access = "read",
    for_update: bool = False,
) -> Customer:
    query = select(Customer).where(Customer.id == customer_id, scope_condition(identity, now=now, access=access))
    # Reads load the contacts in the same round trip; writes lock the row (contacts load after).
    query = query.with_for_update(of=Customer) if for_update else query.options(joinedload(Customer.contacts))
    customer = await session.scalar(query)
    if customer is None:
        if access != "read" and await session.scalar(
            select(Customer.id).where(Customer.id == customer_id, scope_condition(identity, now=now))
        ):
            # Shared with the caller, read only (or, for an owner's action, shared at all).
            raise PermissionDenied("you collaborate on this customer without that right / 你是该客户的协作人，无此权限")
        raise NotFound("customer", customer_id)
    return customer


def _placement(identity: Identity, data: CustomerInput) -> tuple[str, str, str]:
    """Owner, org unit and org path of a new customer; sales reps always own what they create."""
    if identity.role is Role.SALES or not data.owner_id:
        return identity.principal_id, identity.org_unit_id, identity.org_path
    if not data.org_unit_id or not data.org_path:
        raise InvalidArgument("customer.org_unit_id", "required with owner_id / 指定负责人时须指定组织")
    check_placement(identity, data.owner_id, data.org_unit_id, data.org_path)
    return data.owner_id, data.org_unit_id, data.org_path


def check_placement(identity: Identity, owner_id: str, org_unit_id: str, org_path: str) -> None:
    """The service knows no directory: an owner other than the caller must come vouched for
    (`Placement`, signed by the gateway after checking the user, their unit and their role), so a
    caller with a valid identity still cannot hand a customer to a user who does not exist, has
    left, sits elsewhere or may not own customers."""
    if not org_path.endswith(f"/{org_unit_id}/"):
        raise InvalidArgument("customer.org_path", "does not end with org_unit_id / 组织路径与组织不符")
    if identity.scope is DataScope.SUBTREE and not org_path.startswith(identity.org_path):
        raise PermissionDenied("cannot place a customer outside your org unit / 不能分配到本组织以外")
    if Placement(owner_id, org_unit_id, org_path) in (
        identity.placement,
        Placement(identity.principal_id, identity.org_unit_id, identity.org_path),
    ):
        return
    raise InvalidArgument(
        "customer.owner_id",
        "owner and org unit are not vouched for by the directory; assign owners through the gateway"
        " / 负责人及组织未经核实，请通过网关分配",
    )


def placement_by_rule(identity: Identity, decision: Decision) -> tuple[str, str, str]:
    """Owner, org unit and org path the rules chose: the owner where the directory copy says
    they sit, else the pool's unit with no owner. A tenant with neither a rule that fits nor a
    pool keeps the old way: the creator owns it — unless the creator is a partner system."""
    if decision.owner is not None:
        return decision.owner.user_id, decision.owner.org_unit_id, decision.owner.org_path
    if decision.pool is not None:
        return "", decision.pool.org_unit_id, decision.pool.org_path
    if PARTNER_PERMISSION not in identity.permissions:
        return identity.principal_id, identity.org_unit_id, identity.org_path
    raise NoAssignee(
        "没有匹配的分配规则或可分配的人，也没有覆盖该组织的公海；接口客户端须指定负责人 / "
        "no assignment rule found an owner and no pool covers the org unit; a partner system must name the owner"
    )


class NoAssignee(FailedPrecondition):
    code = "no_assignee"


async def refuse_duplicates(
    session: AsyncSession,
    identity: Identity,
    *,
    credit_code: str | None,
    mobiles: Sequence[str],
    wechat_ids: Sequence[str],
    personal: PersonalData,
    exclude_customer_id: str | None = None,
    exclude_contact_id: str | None = None,
) -> None:
    """A customer is one profile: a credit code, mobile or WeChat id belongs to one customer.
    Mobiles and WeChat ids are found by their blind indexes: the stored values are sealed."""
    checks: list[tuple[str, Select[Customer]]] = []
    tenant = identity.tenant_id
    if credit_code:
        checks.append(
            ("credit_code", select(Customer).where(Customer.tenant_id == tenant, Customer.credit_code == credit_code))
        )
    for field_name, column, indexes in (
        ("mobile", Contact.mobile_index, [personal.mobile_index(tenant, v) for v in mobiles if v]),
        ("wechat_id", Contact.wechat_id_index, [personal.wechat_index(tenant, v) for v in wechat_ids if v]),
    ):
        if indexes:
            query = (
                select(Customer)
                .join(Contact, Contact.customer_id == Customer.id)
                .where(Contact.tenant_id == tenant, column.in_(indexes))
            )
            if exclude_contact_id:
                query = query.where(Contact.id != exclude_contact_id)
            checks.append((field_name, query))
    for field_name, query in checks:
        if exclude_customer_id and field_name == "credit_code":
            query = query.where(Customer.id != exclude_customer_id)
        existing = (await session.scalars(query.limit(1))).first()
        if existing is not None:
            raise duplicate_refusal(identity, existing, field_name)


DUPLICATE_LABELS = {"credit_code": "统一社会信用代码", "mobile": "手机号", "wechat_id": "微信号", "name": "客户名称"}


def duplicate_refusal(
    identity: Identity, existing: Customer, field_name: str, *, seen: bool | None = None
) -> AlreadyExists:
    """The refusal of a value another customer holds: naming it, with its id and owner, only
    when the caller may see it (`seen`, when the caller already knows, shares included)."""
    label = DUPLICATE_LABELS[field_name]
    if visible(identity, existing) if seen is None else seen:
        return AlreadyExists(
            f"{label}已被客户“{existing.name}”使用 / {field_name} already belongs to customer {existing.name!r}",
            field=field_name,
            details={"existing-id": existing.id, "existing-owner-id": existing.owner_id},
        )
    # The caller may not open that customer, so its name is not theirs to learn: a mobile or a
    # credit code must not be a way to look up who the company serves.
    return AlreadyExists(
        f"{label}已被同事负责的客户使用 / {field_name} already belongs to a customer a colleague serves",
        field=field_name,
    )


def new_customer(
    identity: Identity,
    data: CustomerInput,
    *,
    custom_fields: dict[str, Any],
    placement: tuple[str, str, str],
    personal: PersonalData,
    now: dt.datetime,
    customer_id: str | None = None,
) -> Customer:
    """A new customer and its contacts as `create_customer` (and an import's batch) writes them,
    at its placement (owner, org unit, org path), checks done. `customer_id`: a batch's own id
    (an import's ids are time-ordered, `crmkit.ids`); a random UUID otherwise."""
    owner_id, org_unit_id, org_path = placement
    customer = Customer(
        id=customer_id or str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        org_unit_id=org_unit_id,
        org_path=org_path,
        owner_id=owner_id,
        name=data.name,
        short_name=data.short_name,
        type=data.type,
        credit_code=data.credit_code,
        addresses=data.addresses,
        contract_start=data.contract_start,
        contract_end=data.contract_end,
        tags=data.tags,
        custom_fields=custom_fields,
        lifecycle_stage=data.lifecycle_stage,
        tier="normal",
        grade="",
        preferences=data.preferences,
        special_requirements=data.special_requirements,
        product_lines=data.product_lines,
        source=data.source,
        latitude=data.latitude,
        longitude=data.longitude,
        owned_since=now if owner_id else None,
        archived=False,
        version=1,
        created_at=now,
        updated_at=now,
        assigned_rule_id="",
    )
    customer.contacts = [
        new_contact(identity.tenant_id, customer.id, c, now, position, personal)
        for position, c in enumerate(data.contacts)
    ]
    return customer


def initial_tiers(customer: Customer, data: CustomerInput) -> list[Any]:
    """A tier other than the default, or a grade, given at creation is a manual value: set it on
    the new customer and return the moves for its history (`record_tier_change`)."""
    return [
        move
        for dimension, value in ((VALUE, data.tier if data.tier != "normal" else ""), (GRADE, data.grade))
        if (move := change_value(customer, dimension, source=MANUAL, value=value))
    ]


def placed_by_rule(customer: Customer, decision: Decision, now: dt.datetime) -> tuple[str, str | None]:
    """Record the rules' decision on a new customer: the owner change's kind and the pool it
    entered (when no one was found)."""
    kind, pool_id = "created", None
    customer.assigned_rule_id = decision.rule.id if decision.rule else ""
    if decision.owner is not None:
        kind = "assigned_by_rule"
    elif decision.pool is not None:
        pool_id = customer.pool_id = decision.pool.id
        customer.pool_entered_at, customer.pool_enter_kind = now, "created"
        customer.pool_enter_reason = "无可分配的负责人 / no rule found an owner"
    return kind, pool_id


async def create_customer(
    session: AsyncSession,
    *,
    identity: Identity,
    data: CustomerInput,
    events: CustomerEvents,
    personal: PersonalData,
    now: dt.datetime,
    by_rule: bool = False,
) -> Customer:
    """`by_rule`: without a named owner the tenant's assignment rules place the customer (a rep
    always owns what they create)."""
    identity.require_role(*WRITER_ROLES)
    await check_customer_type(session, tenant_id=identity.tenant_id, value=data.type)
    await check_product_lines(session, tenant_id=identity.tenant_id, values=data.product_lines)
    custom_fields = await checked_custom_fields(session, tenant_id=identity.tenant_id, values=data.custom_fields)
    await check_requirements(session, tenant_id=identity.tenant_id, values=data.special_requirements)
    refuse_repeats_within(data.contacts)
    mobiles = [c.mobile for c in data.contacts if c.mobile]
    await refuse_duplicates(
        session,
        identity,
        credit_code=data.credit_code,
        mobiles=mobiles,
        wechat_ids=[c.wechat_id for c in data.contacts if c.wechat_id],
        personal=personal,
    )
    decision: Decision | None = None
    if by_rule and not data.owner_id and identity.role is not Role.SALES:
        decision = await decide(
            session,
            tenant_id=identity.tenant_id,
            facts=facts_of_customer(data),
            fallback_org_path=identity.org_path,
            take_turn=True,
        )
        owner_id, org_unit_id, org_path = placement_by_rule(identity, decision)
        if owner_id == identity.principal_id:
            await check_room(session, tenant_id=identity.tenant_id, owner_id=owner_id, field="customer.owner_id")
    else:
        owner_id, org_unit_id, org_path = _placement(identity, data)
        await check_room(session, tenant_id=identity.tenant_id, owner_id=owner_id, field="customer.owner_id")
    customer = new_customer(
        identity,
        data,
        custom_fields=custom_fields,
        placement=(owner_id, org_unit_id, org_path),
        personal=personal,
        now=now,
    )
    moves = initial_tiers(customer, data)
    kind, pool_id = ("created", None) if decision is None else placed_by_rule(customer, decision, now)
    session.add(customer)
    await session.flush()
    record_owner_change(
        session,
        customer,
        from_owner_id="",
        kind=kind,
        reason="",
        actor_id=identity.principal_id,
        now=now,
        rule_id=customer.assigned_rule_id or None,
        pool_id=pool_id,
    )
    await index_for_search(session, customer, mobiles, personal)
    await events.created(session, customer, identity.principal_id, now)
    for move in moves:
        record_tier_change(session, customer, move, reason=SET_AT_CREATION, actor_id=identity.principal_id, now=now)
    # The first stage goes into the history; customer_created itself announces it.
    record_stage_change(session, customer, from_stage="", actor_id=identity.principal_id, now=now)
    return customer


async def _record_stage(
    session: AsyncSession, customer: Customer, from_stage: str, actor_id: str, events: CustomerEvents, now: dt.datetime
) -> None:
    """Keep the stage the customer entered in its history and announce it (the funnel)."""
    row = record_stage_change(session, customer, from_stage=from_stage, actor_id=actor_id, now=now)
    await events.stage_changed(session, customer, stage_change_to_proto(row), actor_id, now)


async def _record_tier_moves(
    session: AsyncSession,
    customer: Customer,
    moves: Sequence[TierMove],
    *,
    reason: str,
    actor_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> None:
    for move in moves:
        row = record_tier_change(session, customer, move, reason=reason, actor_id=actor_id, now=now)
        await events.tier_changed(session, customer, tier_change_to_proto(row), actor_id, now)


def contact_mobiles(customer: Customer, personal: PersonalData) -> list[str]:
    """The customer's contacts' mobiles, opened (to index them for search)."""
    return [mobile for mobile in map(personal.mobile_of, customer.contacts) if mobile]


async def write_locked(
    session: AsyncSession, customers: Sequence[Customer], values: dict[str, Any], *, bump_version: bool = True
) -> None:
    """Write the same `values` to these customers (locked by the caller) in one UPDATE, the
    version bumped, and make the session's copies say what the rows say without counting as
    changed (events then carry them, and nothing is flushed twice). The ORM would update
    versioned rows one by one on PostgreSQL, whose driver reports no rowcount for a batch."""
    written = {**values, "version": Customer.version + 1} if bump_version else values
    await session.execute(
        update(Customer)
        .where(Customer.id.in_([customer.id for customer in customers]))
        .values(**written)
        .execution_options(synchronize_session=False)
    )
    for customer in customers:
        for key, value in values.items():
            set_committed_value(customer, key, value)
        if bump_version:
            set_committed_value(customer, "version", customer.version + 1)


def refuse_if_archived(customer: Customer) -> None:
    if customer.archived:
        raise FailedPrecondition("customer is archived / 客户已归档，不能修改")


def check_version(customer: Customer, expected_version: int) -> None:
    if expected_version and customer.version != expected_version:
        raise Aborted(
            f"customer was changed by someone else (version {customer.version}) / 客户已被他人修改，请刷新后重试"
        )


async def update_customer(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    changes: dict[str, Any],
    expected_version: int,
    events: CustomerEvents,
    personal: PersonalData,
    now: dt.datetime,
    reason: str = "",
) -> Customer:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="write", for_update=True
    )
    check_version(customer, expected_version)
    refuse_if_archived(customer)
    if "type" in changes:
        await check_customer_type(session, tenant_id=identity.tenant_id, value=changes["type"])
    if "product_lines" in changes:
        await check_product_lines(session, tenant_id=identity.tenant_id, values=changes["product_lines"])
    if "custom_fields" in changes:
        changes["custom_fields"] = await checked_custom_fields(
            session, tenant_id=identity.tenant_id, values=changes["custom_fields"]
        )
    if "special_requirements" in changes:
        await check_requirements(
            session,
            tenant_id=identity.tenant_id,
            values=changes["special_requirements"],
            kept=customer.special_requirements or [],
        )
    # Tier and grade through PATCH are manual values, which need a reason (kept in their history).
    ranks = {dimension: changes.pop(key) for key, dimension in (("tier", VALUE), ("grade", GRADE)) if key in changes}
    previous_stage = customer.lifecycle_stage
    if changes.get("credit_code"):
        await refuse_duplicates(
            session,
            identity,
            credit_code=changes["credit_code"],
            mobiles=(),
            wechat_ids=(),
            personal=personal,
            exclude_customer_id=customer.id,
        )
    contract_dates(
        changes.get("contract_start", customer.contract_start), changes.get("contract_end", customer.contract_end)
    )
    previous_owner, previous_org_unit = customer.owner_id, customer.org_unit_id
    owner_moves = "owner_id" in changes and (
        changes["owner_id"] != customer.owner_id or changes["org_unit_id"] != customer.org_unit_id
    )
    if "owner_id" in changes:
        if owner_moves:
            if identity.role is Role.SALES:
                raise PermissionDenied("sales reps cannot transfer customers / 销售不能转移客户")
            check_placement(identity, changes["owner_id"], changes["org_unit_id"], changes["org_path"])
            if changes["owner_id"] != customer.owner_id:
                await check_room(
                    session, tenant_id=identity.tenant_id, owner_id=changes["owner_id"], field="customer.owner_id"
                )
        else:
            for key in ("owner_id", "org_unit_id", "org_path"):
                changes.pop(key)
    changed = [key for key, value in changes.items() if getattr(customer, key) != value]
    moves = [
        move
        for dimension, value in ranks.items()
        if (move := change_value(customer, dimension, source=MANUAL, value=value))
    ]
    if moves and not reason:
        raise InvalidArgument("reason", "required to change the tier or grade / 修改客户等级须填写原因")
    if not changed and not moves:
        return customer
    for key in changed:
        setattr(customer, key, changes[key])
    if owner_moves and "owner_id" in changed:
        customer.owned_since, customer.first_visit_due = now, None
    customer.version += 1
    customer.updated_at = now
    if {"name", "short_name", "credit_code"} & set(changed):
        await index_for_search(session, customer, contact_mobiles(customer, personal), personal)
    elif owner_moves:
        await move_search_terms_to_owner(session, customer)
    other = [key for key in changed if key not in ("owner_id", "org_unit_id", "org_path")]
    other += [{VALUE: "tier", GRADE: "grade"}[move.dimension] for move in moves if move.before != move.after]
    if "lifecycle_stage" in changed:
        await _record_stage(session, customer, previous_stage, identity.principal_id, events, now)
    if other:
        await events.updated(session, customer, other, identity.principal_id, now)
    await _record_tier_moves(
        session, customer, moves, reason=reason, actor_id=identity.principal_id, events=events, now=now
    )
    if owner_moves:
        record_owner_change(
            session,
            customer,
            from_owner_id=previous_owner,
            kind="transferred",
            reason=reason,
            actor_id=identity.principal_id,
            now=now,
        )
        await events.owner_changed(
            session,
            customer,
            previous_owner,
            previous_org_unit,
            identity.principal_id,
            now,
            kind="transferred",
            reason=reason,
        )
        await end_collaborations_on_owner_change(
            session, [customer], actor_id=identity.principal_id, events=events, now=now
        )
        await follow_customers(session, [customer], actor_id=identity.principal_id, events=events, now=now)
    return customer


async def archive_customer(
    session: AsyncSession, *, identity: Identity, customer_id: str, events: CustomerEvents, now: dt.datetime
) -> Customer:
    identity.require_role(Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)
    customer = await get_customer(
        session, identity=identity, customer_id=customer_id, now=now, access="own", for_update=True
    )
    if customer.archived:
        return customer
    customer.archived = True
    customer.version += 1
    customer.updated_at = now
    await events.archived(session, customer, identity.principal_id, now)
    await follow_customers(session, [customer], actor_id=identity.principal_id, events=events, now=now)
    return customer


# The orders a list can be read in, by name; each has its (tenant, value, id) index.
ORDERS = {
    order.name: order
    for order in (
        KeysetOrder("created_desc", Customer.created_at, Customer.id, descending=True, value_kind="time"),
        KeysetOrder("created_asc", Customer.created_at, Customer.id, descending=False, value_kind="time"),
        KeysetOrder("updated_desc", Customer.updated_at, Customer.id, descending=True, value_kind="time"),
        KeysetOrder("updated_asc", Customer.updated_at, Customer.id, descending=False, value_kind="time"),
        # Chinese names sort by their pinyin, as a Chinese reader expects (阿 … 张).
        KeysetOrder("name_asc", Customer.pinyin_full, Customer.id, descending=False),
        KeysetOrder("name_desc", Customer.pinyin_full, Customer.id, descending=True),
    )
}
_ORDER_VALUES = {"created": "created_at", "updated": "updated_at", "name": "pinyin_full"}


async def list_customers(
    session: AsyncSession,
    *,
    identity: Identity,
    filters: ListFilter,
    page_size: int,
    page_token: str,
    now: dt.datetime,
    order: str = "created_desc",
) -> tuple[list[Customer], str]:
    """Keyset-paginated in `order` (one of ORDERS), on (value, id). A sales rep's page merges
    their own customers and those shared with them, each read as its own short index range."""
    keyset = ORDERS[order]
    attribute = _ORDER_VALUES[order.split("_", 1)[0]]

    def key(customer: Customer) -> tuple[Any, str]:
        return getattr(customer, attribute), customer.id

    statements = list_statements(identity, filters, now=now)
    if len(statements) == 1:
        rows = (await session.scalars(keyset.apply(statements[0], page_token).limit(page_size + 1))).all()
        return keyset.page(rows, page_size, key)
    # Each range's ids and order values (index reads), merged; then the page's customers once.
    found: list[tuple[Any, str]] = []
    for statement in statements:
        light = statement.with_only_columns(getattr(Customer, attribute), Customer.id)
        found.extend(
            tuple(row) for row in (await session.execute(keyset.apply(light, page_token).limit(page_size + 1)))
        )
    chosen = [customer_id for _, customer_id in sorted(found, reverse=keyset.descending)[: page_size + 1]]
    loaded = {c.id: c for c in (await session.scalars(select(Customer).where(Customer.id.in_(chosen)))).all()}
    return keyset.page([loaded[customer_id] for customer_id in chosen if customer_id in loaded], page_size, key)


def list_statements(identity: Identity, filters: ListFilter, *, now: dt.datetime) -> list[Select[Customer]]:
    """The caller's customers matching the filters, in no order yet: for a sales rep, their own
    and (apart) those shared with them. A filter on stage or type has its own (tenant, value,
    created_at, id) index, so a rare value is a short range rather than a walk through the
    whole tenant."""
    conditions = [scope_condition(identity, now=now, access="own")]
    if identity.scope is DataScope.OWN:
        conditions.append(
            shared_clause(identity, tenant=Customer.tenant_id, owner=Customer.owner_id, shares=READ_SHARES, now=now)
        )
    return [select(Customer).where(condition, *filter_conditions(filters)) for condition in conditions]


def filter_conditions(filters: ListFilter) -> list[ColumnElement[bool]]:
    """The filters as conditions on the customers table (lists, and searches that narrow)."""
    conditions: list[ColumnElement[bool]] = []
    if not filters.include_archived:
        conditions.append(Customer.archived.is_(False))
    if filters.lifecycle_stage:
        conditions.append(Customer.lifecycle_stage == filters.lifecycle_stage)
    if filters.type:
        conditions.append(Customer.type == filters.type)
    if filters.owner_id:
        conditions.append(Customer.owner_id == filters.owner_id)
    if filters.org_unit_id:
        conditions.append(Customer.org_path.contains(f"/{filters.org_unit_id}/", autoescape=True))
    if filters.tag:
        # Tags are a JSON list; its text holds the tag exactly as json.dumps writes it (the JSON
        # column serialises with ASCII escapes on both backends), quotes included.
        conditions.append(cast(Customer.tags, Text).contains(json.dumps(filters.tag), autoescape=True))
    return conditions


async def customers_in_order(
    session: AsyncSession, *, identity: Identity, customer_ids: Sequence[str], now: dt.datetime
) -> list[Customer]:
    """The caller's unarchived customers among these ids, in the given order. The scope is
    applied again: a customer transferred or archived since the ids were found must not show."""
    query = select(Customer).where(
        Customer.id.in_(customer_ids), scope_condition(identity, now=now), Customer.archived.is_(False)
    )
    loaded = {c.id: c for c in (await session.scalars(query)).all()}
    return [loaded[customer_id] for customer_id in customer_ids if customer_id in loaded]
