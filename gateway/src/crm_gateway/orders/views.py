"""Role views of the catalogue and orders: which money fields a caller sees, from one policy table
applied in one place (sales never see cost or margin)."""

from __future__ import annotations

from collections.abc import Mapping

from crmkit.identity import Identity, Role

# Fields some roles do not see; anything not listed is shown to whoever may see the record.
COST_FIELDS = ("product.cost", "order.lines.unit_cost", "order.margin", "quote.lines.unit_cost", "quote.margin")

POLICY: Mapping[Role, frozenset[str]] = {
    Role.SALES: frozenset(COST_FIELDS),
}


def sees(identity: Identity, field: str) -> bool:
    return field not in POLICY.get(identity.role, frozenset())
