"""Role views of after-sales: which money fields a caller sees, from one policy table applied in
one place. Sales never see cost or margin; finance, who books the refund and re-issues the
invoice, sees every amount and the invoice flag, as every other role does."""

from __future__ import annotations

from collections.abc import Mapping

from crmkit.identity import Identity, Role

COST_FIELDS = ("after_sale.lines.unit_cost", "after_sale.cost_amount")

POLICY: Mapping[Role, frozenset[str]] = {
    Role.SALES: frozenset(COST_FIELDS),
}


def sees(identity: Identity, field: str) -> bool:
    return field not in POLICY.get(identity.role, frozenset())
