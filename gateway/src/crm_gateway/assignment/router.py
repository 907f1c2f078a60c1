"""/api/v1/assignment-rules: the tenant's assignment rules (自动分配) and their dry run, forwarded to
the customer service; the gateway adds people's names."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal, cast

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, model_validator

from crm.customer.v1 import assignment_pb2 as apb
from crm_gateway.customers.schemas import Source, shanghai
from crm_gateway.inputs import MAX_VERSION, ApiModel
from crm_gateway.web import Caller, GatewayState, State
from crmkit.enums import ProtoEnum
from crmkit.identity import Identity, Role

router = APIRouter(prefix="/api/v1", tags=["assignment"])

Strategy = Literal["round_robin", "least_loaded", "fixed"]
STRATEGIES = ProtoEnum(apb.AssignmentStrategy)
RULE_EDITORS = (Role.ADMIN, Role.BOSS)
RULE_READERS = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR)
Word = Annotated[str, Field(min_length=1, max_length=30)]
Words = Annotated[list[Word], Field(max_length=50)]
UserId = Annotated[str, Field(min_length=1, max_length=36)]


class ConditionsModel(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    provinces: Words = Field(default_factory=list, description="Any of the customer's addresses, e.g. 浙江")
    cities: Words = Field(default_factory=list)
    districts: Words = Field(default_factory=list)
    customer_types: Words = Field(default_factory=list)
    product_lines: Words = Field(default_factory=list, description="Any overlap with the customer's product lines")
    sources: list[Source] = Field(default_factory=list, max_length=5)


class RuleIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    id: str | None = Field(None, max_length=36, description="Keep a rule's id (and its round-robin turn) when editing")
    name: str = Field(min_length=1, max_length=50, description="e.g. 浙江客户分给杭州销售")
    enabled: bool = True
    conditions: ConditionsModel = Field(default_factory=ConditionsModel, description="All must hold; empty: any")
    user_ids: list[UserId] = Field(default_factory=list, max_length=200, description="Listed users, in order")
    org_unit_id: str | None = Field(
        None, max_length=36, description="Or: the active sales reps of this org unit's subtree"
    )
    strategy: Strategy

    @model_validator(mode="after")
    def _one_target(self) -> RuleIn:
        if bool(self.user_ids) == bool(self.org_unit_id):
            raise ValueError("name either user_ids or org_unit_id / 须指定分配给哪些用户或哪个组织（二选一）")
        return self


class RulesIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    rules: list[RuleIn] = Field(max_length=100, description="The whole list, in the order rules are tried")
    expected_version: int | None = Field(None, ge=1, le=MAX_VERSION, description="409 if the rules changed meanwhile")


class RuleOut(BaseModel):
    id: str
    name: str
    enabled: bool
    conditions: ConditionsModel
    user_ids: list[str]
    user_names: list[str]
    org_unit_id: str | None
    strategy: Strategy


class RulesOut(BaseModel):
    items: list[RuleOut]
    version: int = Field(description="0 while the tenant has never set rules")
    updated_at: dt.datetime | None = Field(description="Asia/Shanghai")
    updated_by: str | None


class FactsIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    provinces: Words = Field(default_factory=list)
    cities: Words = Field(default_factory=list)
    districts: Words = Field(default_factory=list)
    customer_type: str = Field("", max_length=30)
    product_lines: Words = Field(default_factory=list)
    source: Source | None = None


class DryRunIn(ApiModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    customer_id: str | None = Field(None, max_length=36, description="A customer you may see; or give `facts`")
    facts: FactsIn | None = None
    org_unit_id: str | None = Field(
        None, max_length=36, description="Whose pool takes it when no rule places it; default yours"
    )

    @model_validator(mode="after")
    def _customer_or_facts(self) -> DryRunIn:
        if bool(self.customer_id) == (self.facts is not None):
            raise ValueError("give customer_id or facts / 须提供客户或客户信息（二选一）")
        return self


class SkippedUserOut(BaseModel):
    user_id: str
    user_name: str
    reason: str = Field(description="unknown, inactive, not_owner_role, at_cap or departing")


class RuleCheckOut(BaseModel):
    rule_id: str
    rule_name: str
    matched: bool
    reason: str = Field(description="Why it did not match; empty when it did")
    skipped: list[SkippedUserOut]


class DryRunOut(BaseModel):
    rule_id: str | None = Field(description="The rule that decided; null: none matched")
    owner_id: str | None = Field(description="Who would own it; null: the pool would take it")
    owner_name: str
    pool_id: str | None
    explanation: str
    checks: list[RuleCheckOut] = Field(description="The rules tried, in order, up to the one that decided")


def _conditions(c: apb.AssignmentConditions) -> ConditionsModel:
    return ConditionsModel(
        provinces=list(c.provinces),
        cities=list(c.cities),
        districts=list(c.districts),
        customer_types=list(c.customer_types),
        product_lines=list(c.product_lines),
        sources=cast(list[Source], list(c.sources)),
    )


async def _rules_out(state: GatewayState, identity: Identity, rules: list[apb.AssignmentRule]) -> list[RuleOut]:
    names = await state.display_names.lookup(
        tenant_id=identity.tenant_id, user_ids={u for r in rules for u in r.target.user_ids}
    )
    return [
        RuleOut(
            id=r.id,
            name=r.name,
            enabled=r.enabled,
            conditions=_conditions(r.conditions),
            user_ids=list(r.target.user_ids),
            user_names=[names.get(u, "") for u in r.target.user_ids],
            org_unit_id=r.target.org_unit_id or None,
            strategy=cast(Strategy, STRATEGIES.from_proto(r.strategy)),
        )
        for r in rules
    ]


def _rule_to_proto(rule: RuleIn) -> apb.AssignmentRule:
    return apb.AssignmentRule(
        id=rule.id or "",
        name=rule.name,
        enabled=rule.enabled,
        strategy=STRATEGIES.to_proto(rule.strategy),  # type: ignore[arg-type]
        conditions=apb.AssignmentConditions(**rule.conditions.model_dump()),
        target=apb.AssignmentTarget(user_ids=rule.user_ids, org_unit_id=rule.org_unit_id or ""),
    )


@router.get("/assignment-rules", summary="The tenant's assignment rules, in order 自动分配规则")
async def list_rules(state: State, identity: Caller) -> RulesOut:
    identity.require_role(*RULE_READERS)
    found = await state.customers.ListAssignmentRules(
        apb.ListAssignmentRulesRequest(), metadata=state.identity_metadata.for_caller(identity)
    )
    return RulesOut(
        items=await _rules_out(state, identity, list(found.rules)),
        version=found.version,
        updated_at=shanghai(found.update_time) if found.HasField("update_time") else None,
        updated_by=found.updated_by or None,
    )


@router.put(
    "/assignment-rules",
    summary="Replace the assignment rules (admin, boss) 设置自动分配规则",
    description="A customer created without an owner by an admin, boss, supervisor or partner goes to the first "
    "enabled rule it meets; users who left, are unknown or at their cap are passed over; no rule or nobody "
    "eligible: the pool of the rule's org unit (or the creator's). Listed users must be known to the customer "
    "service's directory copy (400 naming `rules[i].target.user_ids[j]`).",
)
async def put_rules(body: RulesIn, state: State, identity: Caller) -> RulesOut:
    identity.require_role(*RULE_EDITORS)
    saved = await state.customers.SetAssignmentRules(
        apb.SetAssignmentRulesRequest(
            rules=[_rule_to_proto(r) for r in body.rules], expected_version=body.expected_version or 0
        ),
        metadata=state.identity_metadata.for_caller(identity),
    )
    return RulesOut(
        items=await _rules_out(state, identity, list(saved.rules)),
        version=saved.version,
        updated_at=None,
        updated_by=identity.principal_id,
    )


@router.post(
    "/assignment-rules/dry-run",
    summary="Which rule would assign a customer, to whom, and why 分配规则试算",
    description="Takes no round-robin turn and changes nothing.",
)
async def dry_run(body: DryRunIn, state: State, identity: Caller) -> DryRunOut:
    identity.require_role(*RULE_READERS)
    request = apb.DryRunAssignmentRequest(customer_id=body.customer_id or "", org_unit_id=body.org_unit_id or "")
    if body.facts is not None:
        facts = body.facts
        request.facts.CopyFrom(
            apb.AssignmentFacts(
                provinces=facts.provinces,
                cities=facts.cities,
                districts=facts.districts,
                customer_type=facts.customer_type,
                product_lines=facts.product_lines,
                source=facts.source or "",
            )
        )
    answer = await state.customers.DryRunAssignment(request, metadata=state.identity_metadata.for_caller(identity))
    people = {answer.owner_id} | {s.user_id for c in answer.checks for s in c.skipped}
    names = await state.display_names.lookup(tenant_id=identity.tenant_id, user_ids=people - {""})
    return DryRunOut(
        rule_id=answer.rule_id or None,
        owner_id=answer.owner_id or None,
        owner_name=names.get(answer.owner_id, ""),
        pool_id=answer.pool_id or None,
        explanation=answer.explanation,
        checks=[
            RuleCheckOut(
                rule_id=c.rule_id,
                rule_name=c.rule_name,
                matched=c.matched,
                reason=c.reason,
                skipped=[
                    SkippedUserOut(user_id=s.user_id, user_name=names.get(s.user_id, ""), reason=s.reason)
                    for s in c.skipped
                ],
            )
            for c in answer.checks
        ],
    )
