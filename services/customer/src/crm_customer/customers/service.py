"""Customer business rules. Functions take the session and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import functools
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Integer,
    ScalarSelect,
    Select,
    Text,
    and_,
    bindparam,
    cast,
    delete,
    func,
    insert,
    literal_column,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, joinedload

from crm_customer.customers.custom_fields import FieldDefinition, check_values
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.models import (
    DEFAULT_CUSTOMER_TYPES,
    Contact,
    CreateRequest,
    Customer,
    CustomerType,
    CustomFieldDefinitionRow,
    SearchTerm,
    definition_of,
)
from crm_customer.customers.validation import ContactInput, CustomerInput, contract_dates
from crmkit.clock import as_utc
from crmkit.cn import (
    RANK_EXACT,
    RANK_MOBILE_TAIL,
    SearchQuery,
    parse_search_query,
    pinyin_full,
    pinyin_initials,
    search_terms,
    verify_candidate,
)
from crmkit.direct_reads import StatementReader
from crmkit.errors import Aborted, AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import DataScope, Identity, Role
from crmkit.paging import decode_token, encode_token
from crmkit.scope import PRINCIPAL_PARAM, bound_scope_clause, scope_clause, scope_values

WRITER_ROLES = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)
# Searching deeper than this is a sign the query should be narrower, not a reason to scan.
MAX_SEARCH_OFFSET = 1000
VERIFY_FIRST_BATCH = 20
VERIFY_MAX_BATCH = 1000


@dataclass(frozen=True)
class ListFilter:
    lifecycle_stage: str | None = None
    type: str | None = None
    owner_id: str | None = None
    org_unit_id: str | None = None
    tag: str | None = None
    include_archived: bool = False


def scope_condition(identity: Identity) -> ColumnElement[bool]:
    return scope_clause(identity, tenant=Customer.tenant_id, org_path=Customer.org_path, owner=Customer.owner_id)


def visible(identity: Identity, customer: Customer) -> bool:
    return customer.tenant_id == identity.tenant_id and identity.can_see(
        owner_id=customer.owner_id, org_path=customer.org_path
    )


async def get_customer(
    session: AsyncSession, *, identity: Identity, customer_id: str, for_update: bool = False
) -> Customer:
    query = select(Customer).where(Customer.id == customer_id, scope_condition(identity))
    # Reads load the contacts in the same round trip; writes lock the row (contacts load after).
    query = query.with_for_update() if for_update else query.options(joinedload(Customer.contacts))
    customer = await session.scalar(query)
    if customer is None:
        raise NotFound("customer", customer_id)
    return customer


async def customer_types(session: AsyncSession, *, tenant_id: str) -> list[str]:
    rows = (
        await session.scalars(
            select(CustomerType.name).where(CustomerType.tenant_id == tenant_id).order_by(CustomerType.position)
        )
    ).all()
    return list(rows) or list(DEFAULT_CUSTOMER_TYPES)


async def set_customer_types(session: AsyncSession, *, identity: Identity, types: Sequence[str]) -> list[str]:
    """Replace the tenant's list of customer types; existing customers keep theirs."""
    identity.require_role(Role.ADMIN, Role.BOSS)
    await session.execute(delete(CustomerType).where(CustomerType.tenant_id == identity.tenant_id))
    session.add_all(
        CustomerType(tenant_id=identity.tenant_id, name=name, position=index) for index, name in enumerate(types)
    )
    return list(types)


async def custom_field_definitions(session: AsyncSession, *, tenant_id: str) -> list[FieldDefinition]:
    rows = (
        await session.scalars(
            select(CustomFieldDefinitionRow)
            .where(CustomFieldDefinitionRow.tenant_id == tenant_id)
            .order_by(CustomFieldDefinitionRow.position)
        )
    ).all()
    return [definition_of(row) for row in rows]


async def set_custom_field_definitions(
    session: AsyncSession, *, identity: Identity, definitions: Sequence[FieldDefinition]
) -> list[FieldDefinition]:
    """Replace the tenant's custom fields; stored values are checked when next set."""
    identity.require_role(Role.ADMIN, Role.BOSS)
    await session.execute(
        delete(CustomFieldDefinitionRow).where(CustomFieldDefinitionRow.tenant_id == identity.tenant_id)
    )
    session.add_all(
        CustomFieldDefinitionRow(
            tenant_id=identity.tenant_id,
            key=d.key,
            label=d.label,
            type=d.type,
            options=list(d.options),
            required=d.required,
            position=index,
        )
        for index, d in enumerate(definitions)
    )
    return list(definitions)


async def _checked_custom_fields(session: AsyncSession, tenant_id: str, values: dict[str, Any]) -> dict[str, Any]:
    return check_values(await custom_field_definitions(session, tenant_id=tenant_id), values)


async def _check_type(session: AsyncSession, tenant_id: str, value: str) -> None:
    if value and value not in await customer_types(session, tenant_id=tenant_id):
        raise InvalidArgument("customer.type", f"unknown customer type {value!r} / 未知的客户类型")


def _placement(identity: Identity, data: CustomerInput) -> tuple[str, str, str]:
    """Owner, org unit and org path of a new customer; sales reps always own what they create."""
    if identity.role is Role.SALES or not data.owner_id:
        return identity.principal_id, identity.org_unit_id, identity.org_path
    if not data.org_unit_id or not data.org_path:
        raise InvalidArgument("customer.org_unit_id", "required with owner_id / 指定负责人时须指定组织")
    _check_placement(identity, data.org_unit_id, data.org_path)
    return data.owner_id, data.org_unit_id, data.org_path


def _check_placement(identity: Identity, org_unit_id: str, org_path: str) -> None:
    if not org_path.endswith(f"/{org_unit_id}/"):
        raise InvalidArgument("customer.org_path", "does not end with org_unit_id / 组织路径与组织不符")
    if identity.scope is DataScope.SUBTREE and not org_path.startswith(identity.org_path):
        raise PermissionDenied("cannot place a customer outside your org unit / 不能分配到本组织以外")


async def _refuse_duplicates(
    session: AsyncSession,
    identity: Identity,
    *,
    credit_code: str | None,
    mobiles: Sequence[str],
    wechat_ids: Sequence[str],
    exclude_customer_id: str | None = None,
    exclude_contact_id: str | None = None,
) -> None:
    """A customer is one profile: a credit code, mobile or WeChat id belongs to one customer."""
    checks: list[tuple[str, Select[Customer]]] = []
    tenant = identity.tenant_id
    if credit_code:
        checks.append(
            ("credit_code", select(Customer).where(Customer.tenant_id == tenant, Customer.credit_code == credit_code))
        )
    for field_name, column, values in (
        ("mobile", Contact.mobile, mobiles),
        ("wechat_id", Contact.wechat_id, wechat_ids),
    ):
        wanted = [v for v in values if v]
        if wanted:
            query = (
                select(Customer)
                .join(Contact, Contact.customer_id == Customer.id)
                .where(Contact.tenant_id == tenant, column.in_(wanted))
            )
            if exclude_contact_id:
                query = query.where(Contact.id != exclude_contact_id)
            checks.append((field_name, query))
    for field_name, query in checks:
        if exclude_customer_id and field_name == "credit_code":
            query = query.where(Customer.id != exclude_customer_id)
        existing = (await session.scalars(query.limit(1))).first()
        if existing is None:
            continue
        label = {"credit_code": "统一社会信用代码", "mobile": "手机号", "wechat_id": "微信号"}[field_name]
        if visible(identity, existing):
            raise AlreadyExists(
                f"{label}已被客户“{existing.name}”使用 / {field_name} already belongs to customer {existing.name!r}",
                field=field_name,
                details={"existing-id": existing.id, "existing-owner-id": existing.owner_id},
            )
        raise AlreadyExists(
            f"{label}已被客户“{existing.name}”使用，该客户由其他同事负责 / "
            f"{field_name} already belongs to customer {existing.name!r}, owned by a colleague",
            field=field_name,
        )


async def _index_for_search(session: AsyncSession, customer: Customer, mobiles: Sequence[str]) -> None:
    await session.execute(delete(SearchTerm).where(SearchTerm.customer_id == customer.id))
    terms = search_terms(customer.name, customer.short_name, mobiles, customer.credit_code or "")
    if terms:
        await session.execute(
            insert(SearchTerm),
            [
                {
                    "tenant_id": customer.tenant_id,
                    "term": term,
                    "rank": rank,
                    "customer_id": customer.id,
                    "owner_id": customer.owner_id,
                }
                for term, rank in terms.items()
            ],
        )
    customer.pinyin_full = pinyin_full(customer.name)[:600]
    customer.pinyin_initials = pinyin_initials(customer.name)[:200]


def _new_contact(tenant_id: str, customer_id: str, data: ContactInput, now: dt.datetime, position: int) -> Contact:
    return Contact(
        id=str(uuid.uuid4()),
        tenant_id=tenant_id,
        customer_id=customer_id,
        name=data.name,
        mobile=data.mobile,
        wechat_id=data.wechat_id,
        email=data.email,
        decision_role=data.decision_role,
        title=data.title,
        is_primary=data.primary,
        position=position,
        created_at=now,
        updated_at=now,
    )


def _refuse_repeats_within(contacts: Sequence[ContactInput]) -> None:
    for attribute in ("mobile", "wechat_id"):
        seen: set[str] = set()
        for index, contact in enumerate(contacts):
            value = getattr(contact, attribute)
            if value and value in seen:
                raise AlreadyExists(
                    f"联系人重复 / customer.contacts[{index}].{attribute} is repeated",
                    field=f"customer.contacts[{index}].{attribute}",
                )
            if value:
                seen.add(value)


async def customer_created_by_request(session: AsyncSession, *, identity: Identity, request_id: str) -> Customer | None:
    """The customer an earlier create with this request id made, if there was one."""
    earlier = await session.get(CreateRequest, (identity.tenant_id, identity.principal_id, request_id))
    if earlier is None:
        return None
    return await get_customer(session, identity=identity, customer_id=earlier.resource_id)


async def create_customer(
    session: AsyncSession,
    *,
    identity: Identity,
    data: CustomerInput,
    request_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> Customer:
    identity.require_role(*WRITER_ROLES)
    if request_id:
        earlier = await customer_created_by_request(session, identity=identity, request_id=request_id)
        if earlier is not None:
            return earlier
    await _check_type(session, identity.tenant_id, data.type)
    custom_fields = await _checked_custom_fields(session, identity.tenant_id, data.custom_fields)
    _refuse_repeats_within(data.contacts)
    mobiles = [c.mobile for c in data.contacts if c.mobile]
    await _refuse_duplicates(
        session,
        identity,
        credit_code=data.credit_code,
        mobiles=mobiles,
        wechat_ids=[c.wechat_id for c in data.contacts if c.wechat_id],
    )
    owner_id, org_unit_id, org_path = _placement(identity, data)
    customer = Customer(
        id=str(uuid.uuid4()),
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
        archived=False,
        version=1,
        created_at=now,
        updated_at=now,
    )
    customer.contacts = [
        _new_contact(identity.tenant_id, customer.id, c, now, position) for position, c in enumerate(data.contacts)
    ]
    session.add(customer)
    await session.flush()
    await _index_for_search(session, customer, mobiles)
    if request_id:
        session.add(
            CreateRequest(
                tenant_id=identity.tenant_id,
                principal_id=identity.principal_id,
                request_id=request_id,
                resource_id=customer.id,
                created_at=now,
            )
        )
    await events.created(session, customer, identity.principal_id, now)
    return customer


def _refuse_if_archived(customer: Customer) -> None:
    if customer.archived:
        raise FailedPrecondition("customer is archived / 客户已归档，不能修改")


def _check_version(customer: Customer, expected_version: int) -> None:
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
    now: dt.datetime,
) -> Customer:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(session, identity=identity, customer_id=customer_id, for_update=True)
    _check_version(customer, expected_version)
    _refuse_if_archived(customer)
    if "type" in changes:
        await _check_type(session, identity.tenant_id, changes["type"])
    if "custom_fields" in changes:
        changes["custom_fields"] = await _checked_custom_fields(session, identity.tenant_id, changes["custom_fields"])
    if changes.get("credit_code"):
        await _refuse_duplicates(
            session,
            identity,
            credit_code=changes["credit_code"],
            mobiles=(),
            wechat_ids=(),
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
            _check_placement(identity, changes["org_unit_id"], changes["org_path"])
        else:
            for key in ("owner_id", "org_unit_id", "org_path"):
                changes.pop(key)
    changed = [key for key, value in changes.items() if getattr(customer, key) != value]
    if not changed:
        return customer
    for key in changed:
        setattr(customer, key, changes[key])
    customer.version += 1
    customer.updated_at = now
    if {"name", "short_name", "credit_code"} & set(changed):
        await _index_for_search(session, customer, [c.mobile for c in customer.contacts if c.mobile])
    elif owner_moves:
        await session.execute(
            update(SearchTerm).where(SearchTerm.customer_id == customer.id).values(owner_id=customer.owner_id)
        )
    other = [key for key in changed if key not in ("owner_id", "org_unit_id", "org_path")]
    if other:
        await events.updated(session, customer, other, identity.principal_id, now)
    if owner_moves:
        await events.owner_changed(session, customer, previous_owner, previous_org_unit, identity.principal_id, now)
    return customer


async def archive_customer(
    session: AsyncSession, *, identity: Identity, customer_id: str, events: CustomerEvents, now: dt.datetime
) -> Customer:
    identity.require_role(Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES)
    customer = await get_customer(session, identity=identity, customer_id=customer_id, for_update=True)
    if customer.archived:
        return customer
    customer.archived = True
    customer.version += 1
    customer.updated_at = now
    await events.archived(session, customer, identity.principal_id, now)
    return customer


async def list_customers(
    session: AsyncSession, *, identity: Identity, filters: ListFilter, page_size: int, page_token: str
) -> tuple[list[Customer], str]:
    """Newest first, keyset-paginated on (created_at, id)."""
    query = _list_statement(identity, filters, decode_token(page_token, length=2))
    page = list((await session.scalars(query.limit(page_size + 1))).all())
    token = ""
    if len(page) > page_size:
        page = page[:page_size]
        last = page[-1]
        token = encode_token([as_utc(last.created_at).isoformat(), last.id])
    return page, token


def _list_statement(identity: Identity, filters: ListFilter, after: Sequence[Any]) -> Select[Customer]:
    """The caller's customers matching the filters, newest first, after the keyset `after`.
    A filter on stage or type has its own (tenant, value, created_at, id) index, so a rare value
    is a short range rather than a walk through the whole tenant."""
    query = select(Customer).where(scope_condition(identity))
    if not filters.include_archived:
        query = query.where(Customer.archived.is_(False))
    if filters.lifecycle_stage:
        query = query.where(Customer.lifecycle_stage == filters.lifecycle_stage)
    if filters.type:
        query = query.where(Customer.type == filters.type)
    if filters.owner_id:
        query = query.where(Customer.owner_id == filters.owner_id)
    if filters.org_unit_id:
        query = query.where(Customer.org_path.contains(f"/{filters.org_unit_id}/", autoescape=True))
    if after:
        try:
            # Tokens carry UTC; normalising here also rejects times that cannot be stored.
            created = as_utc(dt.datetime.fromisoformat(str(after[0])))
        except (ValueError, OverflowError) as exc:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效") from exc
        query = query.where(
            or_(Customer.created_at < created, and_(Customer.created_at == created, Customer.id < str(after[1])))
        )
    if filters.tag:
        # Tags are a JSON list; its text holds the tag exactly as json.dumps writes it (the JSON
        # column serialises with ASCII escapes on both backends), quotes included.
        query = query.where(cast(Customer.tags, Text).contains(json.dumps(filters.tag), autoescape=True))
    return query.order_by(Customer.created_at.desc(), Customer.id.desc())


def _prefix_upper_bound(prefix: str) -> str:
    return prefix + "\U0010ffff"


async def search_customer_ids(
    reader: StatementReader, *, identity: Identity, query_text: str, page_size: int, page_token: str
) -> tuple[list[str], str]:
    """Ids of one page of a ranked search over our own term index, best first, and the next
    page's token. Every branch is an index lookup, never a scan; the caller loads the page
    (`customers_in_order`, or the PostgreSQL fast path). The statements are built once per
    shape and scope, so `reader` may run them straight on asyncpg."""
    try:
        query: SearchQuery = parse_search_query(query_text)
    except ValueError as exc:
        raise InvalidArgument("query", str(exc)) from exc
    offset = 0
    if page_token:
        (offset,) = decode_token(page_token, length=1)
        # A token that silently meant "start again" would make a client page in circles.
        if type(offset) is not int or offset < 0:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效")
    if offset > MAX_SEARCH_OFFSET:
        raise InvalidArgument("page_token", "search too deep; narrow the query / 结果过多，请缩小搜索范围")

    terms = query.terms
    if len(terms) > 1:
        terms = await _rarest_first(reader, identity.tenant_id, terms)
    statement = _search_statement(identity.scope, len(terms))
    values: dict[str, Any] = {"tenant_id": identity.tenant_id, **scope_values(identity)}
    if query.prefix is not None:
        values.update(prefix=query.prefix, prefix_upper=_prefix_upper_bound(query.prefix))
    values.update((f"term_{index}", term) for index, term in enumerate(terms))
    if not query.needs_verify and query.prefix is None:
        rows = await reader.fetch(statement, {**values, "offset": offset, "limit": page_size + 1})
        ids = [row[0] for row in rows]
    else:
        # Candidates are necessary, not sufficient: a phrase's terms may stand apart in the
        # name (check the real substring), and a prefix walks terms, so a customer with two
        # terms under it (食品 and 食堂) comes twice. Page in Python. Almost every candidate
        # passes, so the first batch asks for little more than the page and later ones double:
        # a fixed batch of 500 made every phrase search probe thousands of index entries.
        wanted = offset + page_size + 1
        matched: list[str] = []
        seen: set[str] = set()
        batch_offset, batch_size = 0, max(wanted + wanted // 2, VERIFY_FIRST_BATCH)
        while len(matched) < wanted:
            batch = await reader.fetch(statement, {**values, "offset": batch_offset, "limit": batch_size})
            for customer_id, name, short_name in batch:
                if customer_id not in seen and verify_candidate(query, name, short_name):
                    seen.add(customer_id)
                    matched.append(customer_id)
            if len(batch) < batch_size:
                break
            batch_offset += batch_size
            batch_size = min(2 * batch_size, VERIFY_MAX_BATCH)
        ids = matched[offset:wanted]
    token = ""
    if len(ids) > page_size:
        ids = ids[:page_size]
        token = encode_token([offset + page_size])
    return ids, token


async def customers_in_order(
    session: AsyncSession, *, identity: Identity, customer_ids: Sequence[str]
) -> list[Customer]:
    """The caller's unarchived customers among these ids, in the given order. The scope is
    applied again: a customer transferred or archived since the ids were found must not show."""
    query = select(Customer).where(
        Customer.id.in_(customer_ids), scope_condition(identity), Customer.archived.is_(False)
    )
    loaded = {c.id: c for c in (await session.scalars(query)).all()}
    return [loaded[customer_id] for customer_id in customer_ids if customer_id in loaded]


def _own_terms(scope: DataScope, terms: Any) -> list[ColumnElement[bool]]:
    """For sales scope, stay inside the rep's own terms (served by ix_search_terms_owner)."""
    return [terms.owner_id == bindparam(PRINCIPAL_PARAM)] if scope is DataScope.OWN else []


# Rarity is estimated in one round trip from two capped index-only counts per term: a sample
# (customer ids are random UUIDs, so the entries whose id sorts below "04" are 1 in 64 of
# them) tells apart common terms of up to 64 × the cap customers, where an exact count of 实验
# on a million customers would read 71,000 entries; a small exact count orders the rare ones.
RARITY_SAMPLE_BELOW = "04"
RARITY_SAMPLE_CAP = 2000
RARITY_EXACT_CAP = 200
# Written out rather than bound: `rank IN (0, ..., 5)` lets the (tenant, term, rank, customer)
# key seek the sampled id range rank by rank, and a literal list needs no execution-time expansion.
TERM_RANKS: list[ColumnElement[int]] = [literal_column(str(rank)) for rank in range(RANK_EXACT, RANK_MOBILE_TAIL + 1)]


def _capped_count(tenant_id: Any, term: Any, cap: int, *extra: ColumnElement[bool]) -> ScalarSelect[int]:
    entries = (
        select(SearchTerm.customer_id)
        .where(SearchTerm.tenant_id == tenant_id, SearchTerm.term == term, *extra)
        .limit(cap)
        .subquery()
    )
    return select(func.count()).select_from(entries).scalar_subquery()


@functools.cache
def _rarity_probe(term_count: int) -> CompoundSelect[Any]:
    """The probe for `term_count` terms, built once: rows of (term index, sampled, exact)."""
    tenant_id: BindParameter[str] = bindparam("tenant_id")
    in_sample = (SearchTerm.rank.in_(TERM_RANKS), SearchTerm.customer_id < RARITY_SAMPLE_BELOW)
    return union_all(
        *(
            select(
                literal_column(str(index)).label("term_index"),
                _capped_count(tenant_id, bindparam(f"term_{index}"), RARITY_SAMPLE_CAP, *in_sample).label("sampled"),
                _capped_count(tenant_id, bindparam(f"term_{index}"), RARITY_EXACT_CAP).label("exact"),
            )
            for index in range(term_count)
        )
    )


async def _rarest_first(reader: StatementReader, tenant_id: str, terms: tuple[str, ...]) -> tuple[str, ...]:
    """Order terms so the rarest drives the lookup (`实验小学`: 验小 is far rarer than 实验 or 小学)."""
    values = {"tenant_id": tenant_id, **{f"term_{index}": term for index, term in enumerate(terms)}}
    rows = await reader.fetch(_rarity_probe(len(terms)), values)
    counts = {int(row[0]): (row[1], row[2]) for row in rows}
    return tuple(term for index, term in sorted(enumerate(terms), key=lambda item: counts[item[0]]))


@functools.cache
def _search_statement(scope: DataScope, term_count: int) -> Select[str, str, str]:
    """(id, name, short name) of the customers matching `term_count` terms, best rank first, or
    with none, having a term that starts with :prefix, in term order; a page at :offset of
    :limit rows, built once per scope and term count.

    One term: the (tenant, term, rank, customer) primary key yields rows already in order, so
    a page costs a short index range even when the term matches half the tenant. Further
    terms are checked per candidate through the (customer_id, term) index.
    """
    tenant: BindParameter[str] = bindparam("tenant_id")
    driver = aliased(SearchTerm)
    matches = (
        select(Customer.id, Customer.name, Customer.short_name)
        .join(driver, driver.customer_id == Customer.id)
        .where(driver.tenant_id == tenant, *_own_terms(scope, driver))
    )
    if term_count == 0:
        # One character: every term starting with it, in the key's own order (term, rank,
        # customer), so a page is a short index range even for 食 on a million customers.
        # Ranking all matches by their best rank first meant aggregating hundreds of thousands
        # of entries (3.4 s for 食 on a million customers). A customer may come once per term.
        matches = matches.where(driver.term >= bindparam("prefix"), driver.term < bindparam("prefix_upper"))
        order: tuple[Any, ...] = (driver.term, driver.rank, driver.customer_id)
    else:
        matches = matches.where(driver.term == bindparam("term_0"))
        for index in range(1, term_count):
            other = aliased(SearchTerm)
            matches = matches.where(
                select(other.customer_id)
                .where(other.customer_id == driver.customer_id, other.term == bindparam(f"term_{index}"))
                .exists()
            )
        order = (driver.rank, driver.customer_id)
    in_scope = bound_scope_clause(scope, tenant=Customer.tenant_id, org_path=Customer.org_path, owner=Customer.owner_id)
    return (
        matches.where(in_scope, Customer.archived.is_(False))
        .order_by(*order)
        .offset(bindparam("offset", type_=Integer))
        .limit(bindparam("limit", type_=Integer))
    )


async def list_contacts(session: AsyncSession, *, identity: Identity, customer_id: str) -> list[Contact]:
    customer = await get_customer(session, identity=identity, customer_id=customer_id)
    return list(customer.contacts)


async def _contact_in_scope(
    session: AsyncSession, identity: Identity, customer_id: str, contact_id: str
) -> tuple[Customer, Contact]:
    customer = await get_customer(session, identity=identity, customer_id=customer_id, for_update=True)
    _refuse_if_archived(customer)
    for contact in customer.contacts:
        if contact.id == contact_id:
            return customer, contact
    raise NotFound("contact", contact_id)


async def _touch(
    session: AsyncSession, customer: Customer, identity: Identity, events: CustomerEvents, now: dt.datetime
) -> None:
    customer.version += 1
    customer.updated_at = now
    await session.flush()
    await session.refresh(customer, attribute_names=["contacts"])
    await _index_for_search(session, customer, [c.mobile for c in customer.contacts if c.mobile])
    await events.updated(session, customer, ["contacts"], identity.principal_id, now)


async def create_contact(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    data: ContactInput,
    events: CustomerEvents,
    now: dt.datetime,
) -> Contact:
    identity.require_role(*WRITER_ROLES)
    customer = await get_customer(session, identity=identity, customer_id=customer_id, for_update=True)
    _refuse_if_archived(customer)
    await _refuse_duplicates(
        session,
        identity,
        credit_code=None,
        mobiles=[data.mobile] if data.mobile else [],
        wechat_ids=[data.wechat_id] if data.wechat_id else [],
    )
    # The customer row is locked, so no concurrent add can take the same place at the end.
    last = await session.scalar(select(func.max(Contact.position)).where(Contact.customer_id == customer.id))
    contact = _new_contact(identity.tenant_id, customer.id, data, now, position=0 if last is None else last + 1)
    session.add(contact)
    await _touch(session, customer, identity, events, now)
    return contact


async def update_contact(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    contact_id: str,
    changes: dict[str, Any],
    events: CustomerEvents,
    now: dt.datetime,
) -> Contact:
    identity.require_role(*WRITER_ROLES)
    customer, contact = await _contact_in_scope(session, identity, customer_id, contact_id)
    await _refuse_duplicates(
        session,
        identity,
        credit_code=None,
        mobiles=[changes["mobile"]] if changes.get("mobile") else [],
        wechat_ids=[changes["wechat_id"]] if changes.get("wechat_id") else [],
        exclude_contact_id=contact.id,
    )
    for key, value in changes.items():
        setattr(contact, key, value)
    contact.updated_at = now
    await _touch(session, customer, identity, events, now)
    return contact


async def delete_contact(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    contact_id: str,
    events: CustomerEvents,
    now: dt.datetime,
) -> None:
    identity.require_role(*WRITER_ROLES)
    customer, contact = await _contact_in_scope(session, identity, customer_id, contact_id)
    await session.delete(contact)
    await _touch(session, customer, identity, events, now)
