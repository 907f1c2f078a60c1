"""Price resolution, the one rule orders and quotes share: a line given no price takes the
customer's valid agreement price (its own, else its group parent's) before the list price."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.catalogue.models import Product
from crm_order.customer_facts.models import CustomerFact
from crm_order.pricing.models import AgreementPrice


@dataclass(frozen=True)
class ResolvedPrice:
    """The price a line without one takes, and where it came from: "agreement" (the customer's
    own), "group_agreement" (its group parent's) or "list"."""

    price_fen: int
    source: str
    agreement: AgreementPrice | None = None


def valid_on(day: dt.date) -> ColumnElement[bool]:
    return and_(
        AgreementPrice.valid_from <= day, or_(AgreementPrice.valid_until.is_(None), AgreementPrice.valid_until >= day)
    )


async def valid_agreements(
    session: AsyncSession, *, tenant_id: str, customer: CustomerFact, product_ids: list[str], on_date: dt.date
) -> dict[str, AgreementPrice]:
    """Per product, the agreement price valid on the day: the customer's own, else its group
    parent's. One indexed query for both."""
    if not product_ids:
        return {}
    customers = [customer.customer_id] + ([customer.parent_customer_id] if customer.parent_customer_id else [])
    rows = await session.scalars(
        select(AgreementPrice).where(
            AgreementPrice.tenant_id == tenant_id,
            AgreementPrice.customer_id.in_(customers),
            AgreementPrice.product_id.in_(set(product_ids)),
            valid_on(on_date),
        )
    )
    found: dict[str, AgreementPrice] = {}
    for row in rows:
        # Periods of one customer × product never overlap: at most one own and one group row.
        if row.product_id not in found or row.customer_id == customer.customer_id:
            found[row.product_id] = row
    return found


async def resolve_prices(
    session: AsyncSession,
    *,
    tenant_id: str,
    customer: CustomerFact,
    products: dict[str, Product],
    on_date: dt.date,
) -> dict[str, ResolvedPrice]:
    """The price of each product for this customer on the day: its valid agreement price (own,
    else its group's) before the list price. Orders' and quotes' lines given no price take it."""
    agreements = await valid_agreements(
        session, tenant_id=tenant_id, customer=customer, product_ids=list(products), on_date=on_date
    )
    resolved: dict[str, ResolvedPrice] = {}
    for product_id, product in products.items():
        agreement = agreements.get(product_id)
        if agreement is None:
            resolved[product_id] = ResolvedPrice(product.list_price_fen, "list")
        else:
            source = "agreement" if agreement.customer_id == customer.customer_id else "group_agreement"
            resolved[product_id] = ResolvedPrice(agreement.price_fen, source, agreement)
    return resolved
