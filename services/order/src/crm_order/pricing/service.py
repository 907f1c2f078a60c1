"""Pricing functions: agreement prices, the one price resolution orders and quotes share, past
prices, the tenant's approval threshold. They take the session and keyword arguments and never
commit: the servicer owns the transaction, so a change and its event commit together."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, func, literal, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.catalogue.models import Product
from crm_order.customer_facts.models import READ_SHARES, CustomerFact
from crm_order.orders import service as orders
from crm_order.orders.models import Order, OrderLine
from crm_order.pricing.models import AgreementPrice, PricingSettings
from crm_order.pricing.resolution import valid_on
from crm_order.quotes.models import Quote, QuoteLine
from crm_order.quotes.pricing import DEFAULT_APPROVAL_THRESHOLD
from crmkit.clock import as_utc, shanghai_date
from crmkit.errors import Aborted, InvalidArgument, NotFound, PermissionDenied
from crmkit.identity import Identity, Role
from crmkit.paging import decode_token, encode_token
from crmkit.scope import scope_clause

# Who agrees prices: a supervisor only for customers of their subtree (the write scope).
PRICE_WRITERS = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR})
# An order's price counts as one the customer got once the order was confirmed.
DEALT_STATES = ("confirmed", "awaiting_payment", "ready_to_ship", "dispatched", "delivered", "completed")
DEFAULT_THRESHOLD_BP = int(DEFAULT_APPROVAL_THRESHOLD * 100)


def _require_writer(identity: Identity) -> None:
    if identity.role not in PRICE_WRITERS:
        raise PermissionDenied(f"role {identity.role} may not set agreement prices / 当前角色不能设置协议价")


def _check_version(price: AgreementPrice, expected_version: int) -> None:
    if expected_version and price.version != expected_version:
        raise Aborted("agreement price was changed by someone else / 协议价已被他人修改，请刷新后重试")


async def _locked_customer(session: AsyncSession, *, identity: Identity, customer_id: str, now: dt.datetime) -> None:
    """The customer row locked, so two writers of one customer's prices check overlaps in turn."""
    await orders.visible_customer(session, identity=identity, customer_id=customer_id, now=now, write=True)
    await session.scalar(
        select(CustomerFact.customer_id)
        .where(CustomerFact.tenant_id == identity.tenant_id, CustomerFact.customer_id == customer_id)
        .with_for_update()
    )


async def _check_no_overlap(
    session: AsyncSession,
    *,
    tenant_id: str,
    price_id: str,
    customer_id: str,
    product_id: str,
    valid_from: dt.date,
    valid_until: dt.date | None,
) -> None:
    overlapping = await session.scalar(
        select(AgreementPrice)
        .where(
            AgreementPrice.tenant_id == tenant_id,
            AgreementPrice.customer_id == customer_id,
            AgreementPrice.product_id == product_id,
            AgreementPrice.id != price_id,
            or_(AgreementPrice.valid_until.is_(None), AgreementPrice.valid_until >= valid_from),
            *([AgreementPrice.valid_from <= valid_until] if valid_until is not None else []),
        )
        .limit(1)
    )
    if overlapping is not None:
        until = overlapping.valid_until.isoformat() if overlapping.valid_until else "长期 / open"
        raise InvalidArgument(
            "valid_from",
            f"overlaps the agreement price from {overlapping.valid_from} to {until} / "
            f"与已有协议价（{overlapping.valid_from}至{until}）的有效期重叠",
        )


async def upsert_agreement_price(
    session: AsyncSession,
    *,
    identity: Identity,
    price_id: str,
    customer_id: str,
    product_id: str,
    price_fen: int,
    valid_from: dt.date,
    valid_until: dt.date | None,
    expected_version: int,
    now: dt.datetime,
) -> tuple[AgreementPrice, bool]:
    """Create a price (no id) or change one; the customer of an existing price does not change."""
    _require_writer(identity)
    existing: AgreementPrice | None = None
    if price_id:
        existing = await visible_agreement_price(session, identity=identity, price_id=price_id, now=now, write=True)
        _check_version(existing, expected_version)
        if existing.customer_id != customer_id:
            raise InvalidArgument("customer_id", "a price stays with its customer / 协议价不能改到其他客户")
    await _locked_customer(session, identity=identity, customer_id=customer_id, now=now)
    product = await session.get(Product, product_id)
    if product is None or product.tenant_id != identity.tenant_id:
        raise InvalidArgument("product_id", "unknown product / 商品不存在")
    await _check_no_overlap(
        session,
        tenant_id=identity.tenant_id,
        price_id=price_id,
        customer_id=customer_id,
        product_id=product_id,
        valid_from=valid_from,
        valid_until=valid_until,
    )
    if existing is None:
        existing = AgreementPrice(
            id=str(uuid.uuid4()),
            tenant_id=identity.tenant_id,
            customer_id=customer_id,
            created_at=now,
            version=1,
        )
        session.add(existing)
        created = True
    else:
        existing.version += 1
        created = False
    existing.product_id = product_id
    existing.price_fen = price_fen
    existing.valid_from = valid_from
    existing.valid_until = valid_until
    existing.updated_by = identity.principal_id
    existing.updated_at = now
    await session.flush()
    return existing, created


async def visible_agreement_price(
    session: AsyncSession, *, identity: Identity, price_id: str, now: dt.datetime, write: bool = False
) -> AgreementPrice:
    """A price of a customer the caller may see (or change); any other looks missing."""
    price = await session.get(AgreementPrice, price_id)
    if price is None or price.tenant_id != identity.tenant_id:
        raise NotFound("agreement price", price_id)
    try:
        await orders.visible_customer(session, identity=identity, customer_id=price.customer_id, now=now, write=write)
    except NotFound:
        raise NotFound("agreement price", price_id) from None
    return price


async def delete_agreement_price(
    session: AsyncSession, *, identity: Identity, price_id: str, expected_version: int, now: dt.datetime
) -> AgreementPrice:
    """Removes the price; the returned row (detached, version moved on) is what the event tells."""
    _require_writer(identity)
    price = await visible_agreement_price(session, identity=identity, price_id=price_id, now=now, write=True)
    _check_version(price, expected_version)
    await session.delete(price)
    await session.flush()
    price.version += 1
    price.updated_by = identity.principal_id
    price.updated_at = now
    return price


def _scoped_prices(identity: Identity, now: dt.datetime) -> Select[AgreementPrice]:
    facts = and_(
        CustomerFact.tenant_id == AgreementPrice.tenant_id, CustomerFact.customer_id == AgreementPrice.customer_id
    )
    scope = scope_clause(
        identity,
        tenant=CustomerFact.tenant_id,
        org_path=CustomerFact.org_path,
        owner=CustomerFact.owner_id,
        shares=READ_SHARES,
        now=now,
    )
    return select(AgreementPrice).join(CustomerFact, facts).where(scope)


async def list_agreement_prices(
    session: AsyncSession,
    *,
    identity: Identity,
    customer_id: str,
    product_id: str,
    include_inherited: bool,
    current_only: bool,
    page_size: int,
    page_token: str,
    now: dt.datetime,
) -> tuple[list[AgreementPrice], str]:
    """By customer, product, start and id; a page continues after the token's key. A branch's
    inherited prices come from its parent whether or not the caller may see the parent: they are
    the branch's prices."""
    if customer_id:
        fact = await orders.visible_customer(session, identity=identity, customer_id=customer_id, now=now)
        customers = [customer_id]
        if include_inherited and fact.parent_customer_id:
            customers.append(fact.parent_customer_id)
        statement = select(AgreementPrice).where(
            AgreementPrice.tenant_id == identity.tenant_id, AgreementPrice.customer_id.in_(customers)
        )
    else:
        statement = _scoped_prices(identity, now)
    if product_id:
        statement = statement.where(AgreementPrice.product_id == product_id)
    if current_only:
        statement = statement.where(valid_on(shanghai_date(now)))
    after = decode_token(page_token, length=4)
    if after:
        try:
            key = (str(after[0]), str(after[1]), dt.date.fromisoformat(str(after[2])), str(after[3]))
        except ValueError as exc:
            raise InvalidArgument("page_token", "malformed page token / 分页标记无效") from exc
        statement = statement.where(_after(key))
    statement = statement.order_by(
        AgreementPrice.customer_id, AgreementPrice.product_id, AgreementPrice.valid_from, AgreementPrice.id
    ).limit(page_size + 1)
    rows = list(await session.scalars(statement))
    if len(rows) > page_size:
        last = rows[page_size - 1]
        token = encode_token([last.customer_id, last.product_id, last.valid_from.isoformat(), last.id])
        return rows[:page_size], token
    return rows, ""


def _after(key: tuple[str, str, dt.date, str]) -> ColumnElement[bool]:
    customer, product, start, last_id = key
    c, p, s, i = AgreementPrice.customer_id, AgreementPrice.product_id, AgreementPrice.valid_from, AgreementPrice.id
    return or_(
        c > customer,
        and_(c == customer, p > product),
        and_(c == customer, p == product, s > start),
        and_(c == customer, p == product, s == start, i > last_id),
    )


@dataclass(frozen=True)
class PastPrice:
    product_id: str
    source: str
    document_id: str
    number: str
    day: dt.date
    price_fen: int
    quantity_milli: int


async def past_prices(
    session: AsyncSession, *, tenant_id: str, customer_id: str, product_ids: list[str], limit: int
) -> dict[str, list[PastPrice]]:
    """Per product, the last `limit` prices the customer got, newest first: lines of its
    confirmed orders and of its approved quotes (a converted quote is counted by its order).
    One statement: both sources unioned, ranked per product by a window function."""
    if not product_ids:
        return {}
    wanted = set(product_ids)
    dealt = (
        select(
            OrderLine.product_id.label("product_id"),
            literal("order").label("source"),
            Order.id.label("document_id"),
            Order.id.label("number"),
            Order.created_at.label("at"),
            OrderLine.unit_price_fen.label("price_fen"),
            OrderLine.quantity_milli.label("quantity_milli"),
        )
        .join(OrderLine, OrderLine.order_id == Order.id)
        .where(
            Order.tenant_id == tenant_id,
            Order.customer_id == customer_id,
            Order.state.in_(DEALT_STATES),
            OrderLine.product_id.in_(wanted),
        )
    )
    quoted = (
        select(
            QuoteLine.product_id,
            literal("quote"),
            Quote.id,
            Quote.number,
            Quote.decided_at,
            QuoteLine.quoted_price_fen,
            QuoteLine.quantity_milli,
        )
        .join(QuoteLine, QuoteLine.quote_id == Quote.id)
        .where(
            Quote.tenant_id == tenant_id,
            Quote.customer_id == customer_id,
            Quote.state == "approved",
            QuoteLine.product_id.in_(wanted),
        )
    )
    both = union_all(dealt, quoted).subquery()
    rank = (
        func.row_number()
        .over(partition_by=both.c.product_id, order_by=(both.c.at.desc(), both.c.document_id.desc()))
        .label("rank")
    )
    ranked = select(both, rank).subquery()
    rows = await session.execute(
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.product_id, ranked.c.rank)
    )
    found: dict[str, list[PastPrice]] = {product_id: [] for product_id in product_ids}
    for row in rows:
        at = row.at if isinstance(row.at, dt.datetime) else dt.datetime.fromisoformat(str(row.at))
        found[row.product_id].append(
            PastPrice(
                product_id=row.product_id,
                source=row.source,
                document_id=row.document_id,
                number=row.number if row.source == "quote" else row.number[:8].upper(),
                day=shanghai_date(as_utc(at)),
                price_fen=row.price_fen,
                quantity_milli=row.quantity_milli,
            )
        )
    return found


async def approval_threshold_bp(session: AsyncSession, *, tenant_id: str) -> int:
    """The tenant's approval threshold in hundredths of a percent; the issue's default (90%)
    until an admin sets one."""
    settings = await session.get(PricingSettings, tenant_id)
    return DEFAULT_THRESHOLD_BP if settings is None else settings.approval_threshold_bp


async def pricing_settings(session: AsyncSession, *, tenant_id: str) -> PricingSettings | None:
    return await session.get(PricingSettings, tenant_id)


async def update_pricing_settings(
    session: AsyncSession, *, identity: Identity, threshold_bp: int, expected_version: int, now: dt.datetime
) -> PricingSettings:
    identity.require_role(Role.ADMIN)
    settings = await session.get(PricingSettings, identity.tenant_id, with_for_update=True)
    if settings is None:
        settings = PricingSettings(tenant_id=identity.tenant_id, version=0)
        session.add(settings)
    if expected_version and settings.version != expected_version:
        raise Aborted("settings were changed by someone else / 设置已被他人修改，请刷新后重试")
    settings.approval_threshold_bp = threshold_bp
    settings.updated_by = identity.principal_id
    settings.updated_at = now
    settings.version += 1
    await session.flush()
    return settings
