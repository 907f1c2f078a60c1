"""Catalogue functions: take the session and keyword arguments, never commit."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_order.catalogue.models import Product
from crm_order.catalogue.validation import ProductInput
from crmkit.cn import compact, pinyin_full, pinyin_initials
from crmkit.errors import Aborted, NotFound
from crmkit.identity import Identity
from crmkit.paging import decode_token, encode_token


async def upsert_product(
    session: AsyncSession, *, identity: Identity, data: ProductInput, expected_version: int, now: dt.datetime
) -> tuple[Product, bool]:
    """Create the product of this SKU, or change it. Returns it and whether it was created."""
    product = await session.scalar(
        select(Product).where(Product.tenant_id == identity.tenant_id, Product.sku == data.sku).with_for_update()
    )
    values = asdict(data)
    values.update(
        name_key=compact(data.name)[:100],
        name_pinyin=pinyin_full(data.name)[:600],
        name_initials=pinyin_initials(data.name)[:100],
        updated_at=now,
    )
    if product is None:
        product = Product(id=str(uuid.uuid4()), tenant_id=identity.tenant_id, version=1, created_at=now, **values)
        session.add(product)
        await session.flush()
        return product, True
    if expected_version and product.version != expected_version:
        raise Aborted("product was changed by someone else / 商品已被他人修改，请刷新后重试")
    for key, value in values.items():
        setattr(product, key, value)
    product.version += 1
    await session.flush()
    return product, False


async def get_product(session: AsyncSession, *, identity: Identity, product_id: str) -> Product:
    product = await session.get(Product, product_id)
    if product is None or product.tenant_id != identity.tenant_id:
        raise NotFound("product", product_id)
    return product


async def products_by_id(session: AsyncSession, *, identity: Identity, ids: list[str]) -> dict[str, Product]:
    if not ids:
        return {}
    rows = await session.scalars(select(Product).where(Product.tenant_id == identity.tenant_id, Product.id.in_(ids)))
    return {product.id: product for product in rows}


async def list_products(
    session: AsyncSession,
    *,
    identity: Identity,
    query: str,
    category: str,
    include_inactive: bool,
    page_size: int,
    page_token: str,
) -> tuple[list[Product], str]:
    """By SKU, a page after the token's SKU."""
    statement = select(Product).where(Product.tenant_id == identity.tenant_id)
    if not include_inactive:
        statement = statement.where(Product.active.is_(True))
    if category:
        statement = statement.where(
            or_(Product.category == category, Product.category.startswith(category + "/", autoescape=True))
        )
    key = compact(query)
    if key:
        statement = statement.where(
            or_(
                Product.name_key.contains(key, autoescape=True),
                Product.name_pinyin.contains(key, autoescape=True),
                Product.name_initials.startswith(key, autoescape=True),
                Product.sku.startswith(query.strip(), autoescape=True),
            )
        )
    after = decode_token(page_token, length=1)
    if after:
        statement = statement.where(Product.sku > str(after[0]))
    rows = list(await session.scalars(statement.order_by(Product.sku).limit(page_size + 1)))
    if len(rows) > page_size:
        return rows[:page_size], encode_token([rows[page_size - 1].sku])
    return rows, ""
