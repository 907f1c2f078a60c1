"""A tenant's customer types and custom-field definitions, and the checks of a customer against them.
Functions take the session and never commit: the caller does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.tenant_settings.custom_fields import FieldDefinition, check_values
from crm_customer.tenant_settings.models import (
    DEFAULT_CUSTOMER_TYPES,
    CustomerType,
    CustomFieldDefinitionRow,
    ProductLine,
    definition_of,
)
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity, Role


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


async def product_lines(session: AsyncSession, *, tenant_id: str) -> list[str]:
    rows = await session.scalars(
        select(ProductLine.name).where(ProductLine.tenant_id == tenant_id).order_by(ProductLine.position)
    )
    return list(rows.all())


async def set_product_lines(session: AsyncSession, *, identity: Identity, names: Sequence[str]) -> list[str]:
    """Replace the tenant's product lines; existing customers keep theirs."""
    identity.require_role(Role.ADMIN, Role.BOSS)
    await session.execute(delete(ProductLine).where(ProductLine.tenant_id == identity.tenant_id))
    session.add_all(ProductLine(tenant_id=identity.tenant_id, name=name, position=i) for i, name in enumerate(names))
    return list(names)


async def check_product_lines(session: AsyncSession, *, tenant_id: str, values: Sequence[str]) -> None:
    """Refuse a product line the tenant has not listed."""
    if not values:
        return
    known = set(await product_lines(session, tenant_id=tenant_id))
    for index, value in enumerate(values):
        if value not in known:
            raise InvalidArgument(f"customer.product_lines[{index}]", f"unknown product line {value!r} / 未知的产品线")


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


async def checked_custom_fields(session: AsyncSession, *, tenant_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """A customer's custom-field values as they may be stored under the tenant's definitions."""
    return check_values(await custom_field_definitions(session, tenant_id=tenant_id), values)


async def check_customer_type(session: AsyncSession, *, tenant_id: str, value: str) -> None:
    """Refuse a customer type the tenant has not listed (no type at all is allowed)."""
    if value and value not in await customer_types(session, tenant_id=tenant_id):
        raise InvalidArgument("customer.type", f"unknown customer type {value!r} / 未知的客户类型")
