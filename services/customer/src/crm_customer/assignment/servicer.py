"""gRPC edge of assignment rules: list, set, dry run."""

from __future__ import annotations

from crm.customer.v1 import assignment_pb2 as apb
from crm_customer.assignment import service, validation
from crm_customer.assignment.rules import Rule, facts_of_customer
from crm_customer.customers.service import get_customer
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.clock import as_utc
from crmkit.errors import InvalidArgument
from crmkit.events import timestamp_of
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.validate import identifier


class AssignmentRpcs(CustomerServicerBase):
    """ListAssignmentRules, SetAssignmentRules, DryRunAssignment."""

    async def ListAssignmentRules(
        self, request: apb.ListAssignmentRulesRequest, context: RpcContext
    ) -> apb.ListAssignmentRulesResponse:
        identity = current_identity()
        identity.require_role(*service.RULE_READERS)
        async with self._reads() as session:
            stored = await service.rule_set(session, identity.tenant_id)
            if stored is None:
                return apb.ListAssignmentRulesResponse()
            rules = await service.rules_of(session, identity.tenant_id)
            return apb.ListAssignmentRulesResponse(
                rules=[r.to_proto() for r in rules],
                version=stored.version,
                update_time=timestamp_of(as_utc(stored.updated_at)),
                updated_by=stored.updated_by,
            )

    async def SetAssignmentRules(
        self, request: apb.SetAssignmentRulesRequest, context: RpcContext
    ) -> apb.SetAssignmentRulesResponse:
        identity = current_identity()
        identity.require_role(*service.RULE_EDITORS)
        rules = validation.rule_list(request.rules)
        async with self._writes.transaction() as session:
            stored = await service.set_rules(
                session, identity=identity, rules=rules, expected_version=request.expected_version, now=self._clock()
            )
            answer = apb.SetAssignmentRulesResponse(
                rules=[Rule.stored(r).to_proto() for r in stored.rules], version=stored.version
            )
        return answer

    async def DryRunAssignment(
        self, request: apb.DryRunAssignmentRequest, context: RpcContext
    ) -> apb.DryRunAssignmentResponse:
        identity = current_identity()
        identity.require_role(*service.RULE_READERS)
        customer_id = identifier(request.customer_id, "customer_id", required=False)
        if customer_id and request.HasField("facts"):
            raise InvalidArgument("facts", "give a customer id or facts, not both / 客户与条件只能二选一")
        unit_path = identity.org_path
        org_unit_id = identifier(request.org_unit_id, "org_unit_id", required=False)
        async with self._reads() as session:
            if customer_id:
                customer = await get_customer(session, identity=identity, customer_id=customer_id, now=self._clock())
                facts = facts_of_customer(customer)
                unit_path = customer.org_path
            else:
                facts = validation.facts(request.facts)
            if org_unit_id:
                unit_path = await service.unit_path(session, identity, org_unit_id)
            decision = await service.decide(
                session, tenant_id=identity.tenant_id, facts=facts, fallback_org_path=unit_path, take_turn=False
            )
        return apb.DryRunAssignmentResponse(
            rule_id=decision.rule.id if decision.rule else "",
            owner_id=decision.owner.user_id if decision.owner else "",
            pool_id=decision.pool.id if decision.pool else "",
            checks=[
                apb.RuleCheck(
                    rule_id=check.rule.id,
                    rule_name=check.rule.name,
                    matched=check.matched,
                    reason=check.reason,
                    skipped=[apb.SkippedUser(user_id=u, reason=why) for u, why in check.skipped],
                )
                for check in decision.checks
            ],
            explanation=decision.explanation(),
        )
