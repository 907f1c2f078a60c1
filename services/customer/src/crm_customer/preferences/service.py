"""A tenant's special-requirement kinds, and the check of a customer's requirements against them.
Functions take the session and never commit: the caller does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_customer.preferences.models import (
    DEFAULT_REQUIREMENT_KINDS,
    RequirementKind,
    SpecialRequirementKindRow,
    kind_of_row,
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
