"""gRPC edge of tiers and grades: manual and automatic values, their history, the tenant's names."""

from __future__ import annotations

from crm.customer.v1 import profile_pb2 as prpb
from crm_customer.customers.service import get_customer
from crm_customer.servicer_base import CustomerServicerBase
from crm_customer.tiers import service, validation
from crm_customer.tiers.models import DIMENSIONS, tier_change_to_proto, tier_state
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier


def _labels(labels: list[tuple[str, str, str]]) -> list[prpb.TierLabel]:
    return [
        prpb.TierLabel(dimension=DIMENSIONS.to_proto(d), value=v, label=label)  # type: ignore[arg-type]
        for d, v, label in labels
    ]


class TierRpcs(CustomerServicerBase):
    """SetCustomerTier, SetAutomaticTier, ListTierChanges, ListTierLabels, SetTierLabels."""

    async def SetCustomerTier(
        self, request: prpb.SetCustomerTierRequest, context: RpcContext
    ) -> prpb.SetCustomerTierResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        dimension = validation.dimension(request.dimension)
        value = validation.tier_value(dimension, request.value)
        reason = validation.reason(request.reason, required=True)
        async with self._writes.transaction() as session:
            customer, row = await service.set_manual_tier(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                dimension=dimension,
                value=value,
                reason=reason,
                expected_version=request.expected_version,
                events=self._events,
                now=self._clock(),
            )
            response = prpb.SetCustomerTierResponse(
                state=tier_state(customer), change=tier_change_to_proto(row) if row is not None else None
            )
        return response

    async def SetAutomaticTier(
        self, request: prpb.SetAutomaticTierRequest, context: RpcContext
    ) -> prpb.SetAutomaticTierResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        dimension = validation.dimension(request.dimension)
        value = validation.tier_value(dimension, request.value)
        reason = validation.reason(request.reason, required=False)
        async with self._writes.transaction() as session:
            customer, changed = await service.set_automatic_tier(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                dimension=dimension,
                value=value,
                reason=reason,
                events=self._events,
                now=self._clock(),
            )
            response = prpb.SetAutomaticTierResponse(state=tier_state(customer), changed=changed)
        return response

    async def ListTierChanges(
        self, request: prpb.ListTierChangesRequest, context: RpcContext
    ) -> prpb.ListTierChangesResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        dimension = validation.dimension(request.dimension, default="")
        size = page_size(request.page_size)
        async with self._reads() as session:
            await get_customer(session, identity=current_identity(), customer_id=customer_id, now=self._clock())
            rows, token = await service.list_tier_changes(
                session, customer_id=customer_id, dimension=dimension, page_size=size, page_token=request.page_token
            )
            return prpb.ListTierChangesResponse(changes=[tier_change_to_proto(r) for r in rows], next_page_token=token)

    async def ListTierLabels(
        self, request: prpb.ListTierLabelsRequest, context: RpcContext
    ) -> prpb.ListTierLabelsResponse:
        async with self._reads() as session:
            labels = await service.tier_labels(session, tenant_id=current_identity().tenant_id)
            return prpb.ListTierLabelsResponse(labels=_labels(labels))

    async def SetTierLabels(
        self, request: prpb.SetTierLabelsRequest, context: RpcContext
    ) -> prpb.SetTierLabelsResponse:
        labels = validation.tier_labels(request.labels)
        async with self._writes.transaction() as session:
            saved = await service.set_tier_labels(session, identity=current_identity(), labels=labels)
        return prpb.SetTierLabelsResponse(labels=_labels(saved))
