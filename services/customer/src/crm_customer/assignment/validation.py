"""Assignment validation at the gRPC edge: a rule list, and the facts a dry run is given."""

from __future__ import annotations

from collections.abc import Sequence

from crm.customer.v1 import assignment_pb2 as apb
from crm_customer.assignment.rules import CONDITIONS, STRATEGIES, Facts, Rule, facts_of_proto
from crmkit.errors import InvalidArgument
from crmkit.validate import identifier, text

MAX_RULES = 100
MAX_VALUES = 50
MAX_USERS = 200


def _values(values: Sequence[str], field: str, *, max_len: int = 30, limit: int = MAX_VALUES) -> list[str]:
    if len(values) > limit:
        raise InvalidArgument(field, f"at most {limit} values / 最多{limit}个")
    cleaned = [text(v, f"{field}[{i}]", max_len=max_len, required=True) for i, v in enumerate(values)]
    if len(set(cleaned)) != len(cleaned):
        raise InvalidArgument(field, "a value is listed twice / 有重复的取值")
    return cleaned


def rule(message: apb.AssignmentRule, field: str) -> Rule:
    strategy = STRATEGIES.parse(message.strategy, f"{field}.strategy", unknown="unknown strategy / 未知的分配方式")
    user_ids = [identifier(v, f"{field}.target.user_ids[{i}]") for i, v in enumerate(message.target.user_ids)]
    _values(user_ids, f"{field}.target.user_ids", max_len=36, limit=MAX_USERS)
    org_unit_id = identifier(message.target.org_unit_id, f"{field}.target.org_unit_id", required=False)
    if bool(user_ids) == bool(org_unit_id):
        raise InvalidArgument(
            f"{field}.target", "name either users or an org unit / 须指定分配给哪些用户或哪个组织（二选一）"
        )
    conditions = {name: _values(getattr(message.conditions, name), f"{field}.conditions.{name}") for name in CONDITIONS}
    return Rule(
        id=identifier(message.id, f"{field}.id", required=False),
        name=text(message.name, f"{field}.name", max_len=50, required=True),
        enabled=message.enabled,
        strategy=strategy,
        conditions={name: values for name, values in conditions.items() if values},
        user_ids=user_ids,
        org_unit_id=org_unit_id,
    )


def rule_list(messages: Sequence[apb.AssignmentRule]) -> list[Rule]:
    if len(messages) > MAX_RULES:
        raise InvalidArgument("rules", f"at most {MAX_RULES} rules / 最多{MAX_RULES}条规则")
    rules = [rule(m, f"rules[{i}]") for i, m in enumerate(messages)]
    seen: set[str] = set()
    for index, r in enumerate(rules):
        if r.id and r.id in seen:
            raise InvalidArgument(f"rules[{index}].id", "named twice / 重复")
        seen.add(r.id)
    return rules


def facts(message: apb.AssignmentFacts) -> Facts:
    for name in ("provinces", "cities", "districts", "product_lines"):
        _values(getattr(message, name), f"facts.{name}")
    text(message.customer_type, "facts.customer_type", max_len=30)
    text(message.source, "facts.source", max_len=20)
    return facts_of_proto(message)
