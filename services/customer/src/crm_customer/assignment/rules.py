"""Assignment rules as plain values: what a rule asks of a customer and whether a customer's facts
meet it, with the reason when they do not. No I/O: the service decides who is eligible."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from crm.customer.v1 import assignment_pb2 as apb
from crm_customer.customers.models import Customer, CustomerInput
from crmkit.enums import ProtoEnum

STRATEGIES = ProtoEnum(apb.AssignmentStrategy)
# Condition name -> (the facts' attribute, the words a dry run explains it with).
CONDITIONS = {
    "provinces": ("provinces", "省份 / province"),
    "cities": ("cities", "城市 / city"),
    "districts": ("districts", "区县 / district"),
    "customer_types": ("customer_types", "客户类型 / customer type"),
    "product_lines": ("product_lines", "产品线 / product line"),
    "sources": ("sources", "来源 / source"),
}


@dataclass(frozen=True)
class Facts:
    """What rules look at in a customer; each a set, since a customer has several addresses and
    product lines (type and source: at most one value)."""

    provinces: frozenset[str] = frozenset()
    cities: frozenset[str] = frozenset()
    districts: frozenset[str] = frozenset()
    customer_types: frozenset[str] = frozenset()
    product_lines: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()


def _present(values: Iterable[str]) -> frozenset[str]:
    return frozenset(v for v in values if v)


def facts_of(addresses: list[dict[str, str]], customer_type: str, product_lines: list[str], source: str) -> Facts:
    return Facts(
        provinces=_present(a.get("province", "") for a in addresses),
        cities=_present(a.get("city", "") for a in addresses),
        districts=_present(a.get("district", "") for a in addresses),
        customer_types=_present([customer_type]),
        product_lines=_present(product_lines),
        sources=_present([source]),
    )


def facts_of_customer(customer: Customer | CustomerInput) -> Facts:
    return facts_of(customer.addresses or [], customer.type, list(customer.product_lines or []), customer.source)


def facts_of_proto(facts: apb.AssignmentFacts) -> Facts:
    return Facts(
        provinces=_present(facts.provinces),
        cities=_present(facts.cities),
        districts=_present(facts.districts),
        customer_types=_present([facts.customer_type]),
        product_lines=_present(facts.product_lines),
        sources=_present([facts.source]),
    )


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    enabled: bool
    strategy: str
    # Condition name (CONDITIONS) -> the values any of which will do.
    conditions: dict[str, list[str]] = field(default_factory=dict)
    user_ids: list[str] = field(default_factory=list)
    org_unit_id: str = ""

    @classmethod
    def stored(cls, row: dict[str, Any]) -> Rule:
        return cls(
            id=row["id"],
            name=row["name"],
            enabled=bool(row["enabled"]),
            strategy=row["strategy"],
            conditions={k: list(v) for k, v in row.get("conditions", {}).items() if v},
            user_ids=list(row.get("user_ids", [])),
            org_unit_id=row.get("org_unit_id", ""),
        )

    def to_stored(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "enabled": self.enabled,
            "strategy": self.strategy,
            "conditions": self.conditions,
            "user_ids": self.user_ids,
            "org_unit_id": self.org_unit_id,
        }

    def to_proto(self) -> apb.AssignmentRule:
        return apb.AssignmentRule(
            id=self.id,
            name=self.name,
            enabled=self.enabled,
            strategy=STRATEGIES.to_proto(self.strategy),  # type: ignore[arg-type]
            conditions=apb.AssignmentConditions(**self.conditions),
            target=apb.AssignmentTarget(user_ids=self.user_ids, org_unit_id=self.org_unit_id),
        )

    def mismatch(self, facts: Facts) -> str:
        """Why the customer does not meet this rule; "" when it does."""
        if not self.enabled:
            return "规则已停用 / the rule is disabled"
        for name, wanted in self.conditions.items():
            attribute, words = CONDITIONS[name]
            have: frozenset[str] = getattr(facts, attribute)
            if not have & set(wanted):
                shown = "、".join(sorted(have)) or "无 / none"
                return f"{words}: {shown} ∉ [{'、'.join(wanted)}]"
        return ""
