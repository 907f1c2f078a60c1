"""Customer search: the term index written with each customer, and ranked lookups in it.
Functions take the session (or a statement reader) and never commit: the caller does."""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

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
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.expression import Executable

from crm_customer.collaborators.models import READ_SHARES
from crm_customer.contacts.models import Contact
from crm_customer.contacts.personal import ENDINGS_PER_BUCKET, PersonalData
from crm_customer.customers.models import Customer, ListFilter
from crm_customer.search.models import SearchTerm
from crm_customer.search.terms import (
    RANK_EXACT,
    RANK_MOBILE_TAIL,
    SearchQuery,
    parse_search_query,
    search_terms,
    verify_candidate,
)
from crmkit.cn import pinyin_full, pinyin_initials
from crmkit.direct_reads import StatementReader
from crmkit.errors import InvalidArgument
from crmkit.identity import DataScope, Identity
from crmkit.paging import decode_token, encode_token
from crmkit.scope import NOW_PARAM, PRINCIPAL_PARAM, bound_scope_clause, scope_values

# Searching deeper than this is a sign the query should be narrower, not a reason to scan.
MAX_SEARCH_OFFSET = 1000
VERIFY_FIRST_BATCH = 20
VERIFY_MAX_BATCH = 1000
NO_FILTER = ListFilter()


async def index_for_search(
    session: AsyncSession, customer: Customer, mobiles: Sequence[str], personal: PersonalData
) -> None:
    """(Re)write the customer's search terms, and its pinyin columns, from its names, credit code
    and (as blind terms) its contacts' mobiles."""
    await session.execute(delete(SearchTerm).where(SearchTerm.customer_id == customer.id))
    rows = search_term_rows(customer, mobiles, personal)
    if rows:
        await session.execute(insert(SearchTerm), rows)


def search_term_rows(customer: Customer, mobiles: Sequence[str], personal: PersonalData) -> list[dict[str, Any]]:
    """A new customer's search terms as rows (a batch inserts many customers' at once), and its
    pinyin columns set."""
    records = search_term_records(customer, customer_terms(customer.tenant_id, customer, mobiles, personal))
    return [dict(zip(SEARCH_TERM_COLUMNS, record, strict=True)) for record in records]


# The search-term table's columns in the order of `search_term_records`: the primary key's first,
# so the records sort into the key's order as plain tuples.
SEARCH_TERM_COLUMNS = ("tenant_id", "term", "rank", "customer_id", "owner_id")
SearchTermRecord = tuple[str, str, int, str, str]


class Named(Protocol):
    """A customer, or the input for one."""

    @property
    def name(self) -> str: ...
    @property
    def short_name(self) -> str: ...
    @property
    def credit_code(self) -> str | None: ...


@dataclass(frozen=True)
class CustomerTerms:
    """What a customer is indexed under (term: rank) and its pinyin columns: all of it follows
    from its names, credit code and mobiles, so a batch may work it out before it knows the
    customer's id and owner (an import does, while the database writes the batch before)."""

    terms: dict[str, int]
    pinyin_full: str
    pinyin_initials: str


def customer_terms(tenant_id: str, names: Named, mobiles: Sequence[str], personal: PersonalData) -> CustomerTerms:
    terms = search_terms(names.name, names.short_name, names.credit_code or "")
    terms.update(personal.mobile_search_terms(tenant_id, mobiles))
    return CustomerTerms(terms, pinyin_full(names.name)[:600], pinyin_initials(names.name)[:200])


def search_term_records(customer: Customer, found: CustomerTerms) -> list[SearchTermRecord]:
    """The customer's terms as tuples of `SEARCH_TERM_COLUMNS`, for a batch that sorts and COPYs
    hundreds of thousands of them (a tuple sorts and copies without a dict per row), and its
    pinyin columns set."""
    customer.pinyin_full, customer.pinyin_initials = found.pinyin_full, found.pinyin_initials
    tenant_id, customer_id, owner_id = customer.tenant_id, customer.id, customer.owner_id
    return [(tenant_id, term, rank, customer_id, owner_id) for term, rank in found.terms.items()]


async def move_search_terms_to_owner(session: AsyncSession, customer: Customer) -> None:
    """Carry a transfer into the customer's search terms, which hold the owner for sales scope."""
    await move_search_terms(session, [customer.id], customer.owner_id)


async def move_search_terms(session: AsyncSession, customer_ids: Sequence[str], owner_id: str) -> None:
    """`move_search_terms_to_owner` for customers that all went to `owner_id`, in one statement."""
    await session.execute(update(SearchTerm).where(SearchTerm.customer_id.in_(customer_ids)).values(owner_id=owner_id))


def _prefix_upper_bound(prefix: str) -> str:
    return prefix + "\U0010ffff"


async def search_customer_ids(
    reader: StatementReader,
    *,
    identity: Identity,
    query_text: str,
    page_size: int,
    page_token: str,
    personal: PersonalData,
    now: dt.datetime,
    filters: ListFilter = NO_FILTER,
) -> tuple[list[str], str]:
    """Ids of one page of a ranked search over our own term index, best first, and the next
    page's token. Every branch is an index lookup, never a scan; the caller loads the page
    (`customers.service.customers_in_order`, or the PostgreSQL fast path). The statements are
    built once per shape and scope, so `reader` may run them straight on asyncpg."""
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
    narrowing = _narrowing(filters)
    statement: Executable = _search_statement(identity.scope, len(terms), tuple(sorted(narrowing)))
    needs_verify = query.needs_verify
    if query.kind == "mobile":
        terms = (personal.mobile_term(identity.tenant_id, query.text),)
    elif query.kind == "mobile_tail":
        # The bucket holds other endings too: keep the customers a mobile of which really ends so.
        terms = (personal.tail_term(identity.tenant_id, query.text),)
        statement = _mobile_tail_statement(identity.scope, tuple(sorted(narrowing)))
        needs_verify = True
    elif len(terms) > 1:
        terms = await _rarest_first(reader, identity.tenant_id, terms)
    values: dict[str, Any] = {"tenant_id": identity.tenant_id, **scope_values(identity, now=now), **narrowing}
    if query.prefix is not None:
        values.update(prefix=query.prefix, prefix_upper=_prefix_upper_bound(query.prefix))
    values.update((f"term_{index}", term) for index, term in enumerate(terms))
    if not needs_verify and query.prefix is None:
        rows = await reader.fetch(statement, {**values, "offset": offset, "limit": page_size + 1})
        ids = [row[0] for row in rows]
    else:
        # Candidates are necessary, not sufficient: a phrase's terms may stand apart in the
        # name (check the real substring), and a prefix walks terms, so a customer with two
        # terms under it (食品 and 食堂) comes twice. Page in Python. Almost every candidate
        # passes, so the first batch asks for little more than the page and later ones double:
        # a fixed batch of 500 made every phrase search probe thousands of index entries.
        verify = _verifier(query, personal)
        wanted = offset + page_size + 1
        matched: list[str] = []
        seen: set[str] = set()
        batch_offset, batch_size = 0, max(wanted + wanted // 2, VERIFY_FIRST_BATCH)
        if query.kind == "mobile_tail":
            # About one candidate in ENDINGS_PER_BUCKET ends in the digits asked for: read enough
            # for a page in the first round trip instead of doubling up to it.
            batch_size = min(wanted * ENDINGS_PER_BUCKET, VERIFY_MAX_BATCH)
        while len(matched) < wanted:
            batch = await reader.fetch(statement, {**values, "offset": batch_offset, "limit": batch_size})
            for row in batch:
                customer_id = row[0]
                if customer_id not in seen and verify(row):
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


def _verifier(query: SearchQuery, personal: PersonalData) -> Callable[[Sequence[Any]], bool]:
    """Whether a candidate row really matches: its names hold the phrase, or (last four digits)
    one of its contacts' opened mobiles ends in them."""
    if query.kind == "mobile_tail":
        return lambda row: personal.open_mobile(row[1], row[2]).endswith(query.text)
    return lambda row: verify_candidate(query, row[1], row[2])


def _drivers(scope: DataScope) -> list[tuple[Any, ColumnElement[bool]]]:
    """The search terms a lookup walks (columns tenant_id, term, rank, customer_id), each with
    the rule a customer found through them must pass. Sales scope walks two: the rep's own terms
    (served by ix_search_terms_owner) and the terms of the customers shared with them (their
    collaborations, a short list, each probed through the (customer_id, term) index). Each gets a
    statement of its own, ordered and limited (`_rep_pages`): one OR, or one join over their
    union, let the planner read every match of a common term, or scan the customers."""
    terms = SearchTerm.__table__
    if scope is not DataScope.OWN:
        return [(terms.alias("driver"), _in_scope(scope))]
    tenant: BindParameter[str] = bindparam("tenant_id")
    principal: BindParameter[str] = bindparam(PRINCIPAL_PARAM)
    own = select(terms).where(terms.c.tenant_id == tenant, terms.c.owner_id == principal).subquery("own_terms")
    shared_terms = terms.alias("shared_terms")
    granted = READ_SHARES.granted(tenant, principal, bindparam(NOW_PARAM)).subquery("granted")
    shared = (
        select(shared_terms)
        .join(granted, granted.c.customer_id == shared_terms.c.customer_id)
        # The owner column of a term is its customer's: shared and someone else's, never in a pool.
        .where(shared_terms.c.owner_id != principal, shared_terms.c.owner_id != "")
        .subquery("shared_terms")
    )
    # The customer row is checked again: owned by the rep, or owned by someone and shared (the
    # driver says so already, as of the term rows; the customer row is the truth).
    shared_customer = and_(Customer.owner_id != principal, Customer.owner_id != "")
    return [(own, Customer.owner_id == principal), (shared, shared_customer)]


def _page(parts: Sequence[tuple[Any, list[Any]]]) -> Select[Any]:
    """A page at :offset of :limit rows of the matches, each part given with its order. One
    part is ordered and cut as it is; several are each cut at offset + limit in their own order
    (a short range of their own index) and merged in that order. The order's columns ride along
    (k_0, k_1, ...) after the columns callers read."""
    offset, limit = bindparam("offset", type_=Integer), bindparam("limit", type_=Integer)
    keyed = [
        (statement.add_columns(*(column.label(f"k_{i}") for i, column in enumerate(order))), order)
        for statement, order in parts
    ]
    if len(keyed) == 1:
        ((statement, order),) = keyed
        single: Select[Any] = statement.order_by(*order).offset(offset).limit(limit)
        return single
    cut = [statement.order_by(*order).limit(offset + limit).subquery() for statement, order in keyed]
    merged = union_all(*(select(*part.c) for part in cut)).subquery("merged")
    keys = [merged.c[f"k_{i}"] for i in range(len(keyed[0][1]))]
    return select(*merged.c).order_by(*keys).offset(offset).limit(limit)


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


def _in_scope(scope: DataScope) -> ColumnElement[bool]:
    return bound_scope_clause(
        scope, tenant=Customer.tenant_id, org_path=Customer.org_path, owner=Customer.owner_id, shares=READ_SHARES
    )


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _narrowing(filters: ListFilter) -> dict[str, str]:
    """The filters a search narrows by, as the values of `_filter_clauses`' parameters."""
    values = {
        "filter_stage": filters.lifecycle_stage,
        "filter_type": filters.type,
        "filter_owner": filters.owner_id,
        # The same tests as a list's filters (customers.service.filter_conditions), as patterns.
        "filter_org": f"%/{_like_escaped(filters.org_unit_id)}/%" if filters.org_unit_id else None,
        "filter_tag": f"%{_like_escaped(json.dumps(filters.tag))}%" if filters.tag else None,
    }
    return {name: value for name, value in values.items() if value}


def _filter_clause(name: str) -> ColumnElement[bool]:
    value: BindParameter[str] = bindparam(name)
    if name == "filter_stage":
        return Customer.lifecycle_stage == value
    if name == "filter_type":
        return Customer.type == value
    if name == "filter_owner":
        return Customer.owner_id == value
    if name == "filter_org":
        return Customer.org_path.like(value, escape="\\")
    return cast(Customer.tags, Text).like(value, escape="\\")


def _filter_clauses(names: tuple[str, ...]) -> list[ColumnElement[bool]]:
    return [_filter_clause(name) for name in names]


@functools.cache
def _mobile_tail_statement(scope: DataScope, narrowing: tuple[str, ...] = ()) -> Select[Any]:
    """(customer id, contact id, sealed mobile) of the customers in :term_0's last-four bucket,
    a row per mobile, in rank and customer order; a page at :offset of :limit rows."""
    parts: list[tuple[Any, list[Any]]] = []
    for driver, rule in _drivers(scope):
        statement = (
            select(Customer.id, Contact.id.label("contact_id"), Contact.mobile_sealed)
            .join(driver, driver.c.customer_id == Customer.id)
            .join(Contact, Contact.customer_id == Customer.id)
            .where(
                driver.c.tenant_id == bindparam("tenant_id"),
                driver.c.term == bindparam("term_0"),
                Contact.mobile_sealed.is_not(None),
                rule,
                Customer.archived.is_(False),
                *_filter_clauses(narrowing),
            )
        )
        parts.append((statement, [driver.c.rank, driver.c.customer_id, Contact.id]))
    return _page(parts)


@functools.cache
def _search_statement(scope: DataScope, term_count: int, narrowing: tuple[str, ...] = ()) -> Select[Any]:
    """(id, name, short name) of the customers matching `term_count` terms, best rank first, or
    with none, having a term that starts with :prefix, in term order; a page at :offset of
    :limit rows, built once per scope, term count and the filters it narrows by (the filters
    test the customer row the page joins anyway, so they cost only the rows they drop).

    One term: the (tenant, term, rank, customer) primary key yields rows already in order, so
    a page costs a short index range even when the term matches half the tenant. Further
    terms are checked per candidate through the (customer_id, term) index.
    """
    tenant: BindParameter[str] = bindparam("tenant_id")
    parts: list[tuple[Any, list[Any]]] = []
    for driver, rule in _drivers(scope):
        order = [driver.c.rank, driver.c.customer_id]
        if term_count == 0:
            # One character: every term starting with it, in the key's own order (term, rank,
            # customer), so a page is a short index range even for 食 on a million customers.
            # Ranking all matches by their best rank first meant aggregating hundreds of
            # thousands of entries (3.4 s for 食 on a million customers). A customer may come
            # once per term.
            order = [driver.c.term, *order]
        matches = (
            select(Customer.id, Customer.name, Customer.short_name)
            .join(driver, driver.c.customer_id == Customer.id)
            .where(driver.c.tenant_id == tenant, rule, Customer.archived.is_(False), *_filter_clauses(narrowing))
        )
        if term_count == 0:
            matches = matches.where(driver.c.term >= bindparam("prefix"), driver.c.term < bindparam("prefix_upper"))
        else:
            matches = matches.where(driver.c.term == bindparam("term_0"))
            for index in range(1, term_count):
                other = aliased(SearchTerm)
                matches = matches.where(
                    select(other.customer_id)
                    .where(other.customer_id == driver.c.customer_id, other.term == bindparam(f"term_{index}"))
                    .exists()
                )
        parts.append((matches, order))
    return _page(parts)
