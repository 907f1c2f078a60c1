"""Pool validation at the gRPC edge: a pool's settings, and the reasons claims and releases need."""

from __future__ import annotations

from typing import Any

from crm.customer.v1 import pools_pb2 as ppb
from crm_customer.customers.validation import TIERS
from crm_customer.pools.service import PoolInput
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, text

MAX_DAYS = 3650


def _days(value: int, field: str) -> int:
    if not 0 <= value <= MAX_DAYS:
        raise InvalidArgument(field, f"must be 0 to {MAX_DAYS} days / 须在0到{MAX_DAYS}天之间")
    return value


def rules(message: ppb.PoolRules, present: bool) -> dict[str, Any]:
    """The rules as stored; an unset message means the defaults."""
    if not present:
        return {}
    by_tier = {}
    for tier, days in message.no_follow_up_days.items():
        if tier not in TIERS:
            raise InvalidArgument("pool.rules.no_follow_up_days", f"unknown tier {tier!r} / 未知的客户等级")
        by_tier[tier] = _days(days, f"pool.rules.no_follow_up_days.{tier}")
    warn = _days(message.warn_days_before, "pool.rules.warn_days_before")
    if by_tier and warn >= min((d for d in by_tier.values() if d), default=MAX_DAYS + 1):
        raise InvalidArgument("pool.rules.warn_days_before", "must be shorter than the return limits / 须短于回收天数")
    return {
        "no_follow_up_days": by_tier,
        "no_deal_days": _days(message.no_deal_days, "pool.rules.no_deal_days"),
        "warn_days_before": warn,
        "cooldown_days": _days(message.cooldown_days, "pool.rules.cooldown_days"),
        "claims_per_day": _days(message.claims_per_day, "pool.rules.claims_per_day"),
        "first_visit_days": _days(message.first_visit_days, "pool.rules.first_visit_days"),
        "exempt_active_contract": message.exempt_active_contract,
        "no_order_days": _days(message.no_order_days, "pool.rules.no_order_days"),
    }


def pool_input(pool: ppb.Pool) -> PoolInput:
    return PoolInput(
        name=text(pool.name, "pool.name", max_len=50, required=True),
        org_unit_id=identifier(pool.org_unit_id, "pool.org_unit_id"),
        org_path=text(pool.org_path, "pool.org_path", max_len=400, required=True),
        requires_approval=pool.requires_approval,
        rules=rules(pool.rules, pool.HasField("rules")),
    )


def reason(value: str, field: str = "reason") -> str:
    return text(value, field, max_len=200, required=True)
