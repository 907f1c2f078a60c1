"""A tenant's special-requirement kinds, the check of a customer's requirements against them, and
the requirements every row naming a customer shows as alerts. Functions take the session and
never commit: the caller does."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.customers.models import Customer
from crm_customer.preferences.models import (
    DEFAULT_REQUIREMENT_KINDS,
    RequirementKind,
    SpecialRequirementKindRow,
    kind_of_row,
    requirements_to_proto,
)
from crmkit.errors import InvalidArgument
from crmkit.identity import Identity, Role


async def requirement_kinds(session: AsyncSession, *, tenant_id: str) -> list[RequirementKind]:
    rows = (
        await session.scalars(
            select(SpecialRequirementKindRow)
            .where(SpecialRequirementKindRow.tenant_id == tenant_id)
            .order_by(SpecialRequirementKindRow.position)
        )
    ).all()
    return [kind_of_row(row) for row in rows] or list(DEFAULT_REQUIREMENT_KINDS)


async def set_requirement_kinds(
    session: AsyncSession, *, identity: Identity, kinds: Sequence[RequirementKind]
) -> list[RequirementKind]:
    """Replace the tenant's kinds; customers keep requirements of a removed kind."""
    identity.require_role(Role.ADMIN, Role.BOSS)
    await session.execute(
        delete(SpecialRequirementKindRow).where(SpecialRequirementKindRow.tenant_id == identity.tenant_id)
    )
    session.add_all(
        SpecialRequirementKindRow(
            tenant_id=identity.tenant_id,
            key=kind.key,
            label=kind.label,
            description=kind.description,
            takes_details=kind.takes_details,
            details_label=kind.details_label,
            position=index,
        )
        for index, kind in enumerate(kinds)
    )
    return list(kinds)


async def check_requirements(
    session: AsyncSession,
    *,
    tenant_id: str,
    values: Sequence[dict[str, Any]],
    kept: Sequence[dict[str, Any]] = (),
    field: str = "customer.special_requirements",
) -> None:
    """Refuse a requirement of a kind the tenant does not list, a kind that takes details (the
    allergens) without any, or details on a kind that takes none. A requirement the customer
    already has (`kept`) passes even if its kind was removed since, so removing a kind never
    blocks editing a customer."""
    if not values:
        return
    kinds = {kind.key: kind for kind in await requirement_kinds(session, tenant_id=tenant_id)}
    already = {value["kind"] for value in kept}
    for index, value in enumerate(values):
        at = f"{field}[{index}]"
        kind = kinds.get(value["kind"])
        if kind is None:
            if value["kind"] in already:
                continue
            raise InvalidArgument(f"{at}.kind", f"unknown special requirement {value['kind']!r} / 未知的特殊要求类型")
        if kind.takes_details and not value["details"]:
            raise InvalidArgument(
                f"{at}.details", f"list the {kind.details_label or '明细'} / 请填写{kind.details_label or '明细'}"
            )
        if not kind.takes_details and value["details"]:
            raise InvalidArgument(f"{at}.details", f"{kind.label} takes no details / “{kind.label}”无需填写明细")


async def requirements_by_customer(
    session: AsyncSession, *, tenant_id: str, customer_ids: Iterable[str]
) -> dict[str, list[prpb.SpecialRequirement]]:
    """The special requirements of these customers (a page of rows: at most a few hundred ids),
    for the alerts shown wherever a customer appears; customers without any are left out."""
    ids = sorted(set(customer_ids) - {""})
    if not ids:
        return {}
    rows = await session.execute(
        select(Customer.id, Customer.special_requirements).where(Customer.tenant_id == tenant_id, Customer.id.in_(ids))
    )
    return {customer_id: requirements_to_proto(values) for customer_id, values in rows if values}


async def add_requirements(
    session: AsyncSession, *, tenant_id: str, rows: Sequence[Any], customer_id: Callable[[Any], str]
) -> None:
    """Fills `special_requirements` of each proto row (a pool customer, a claim, a task, a
    transfer's skip) from its customer, read now: the alert follows the customer's latest."""
    found = await requirements_by_customer(session, tenant_id=tenant_id, customer_ids=map(customer_id, rows))
    for row in rows:
        row.special_requirements.extend(found.get(customer_id(row), []))
