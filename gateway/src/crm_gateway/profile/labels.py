"""A tenant's profile names (special-requirement kinds, tier and grade labels), as every customer
view needs them for its alerts: asked of the customer service at most every 30 seconds per
tenant and replica, and forgotten at once when this replica changes them."""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

from crm.customer.v1 import profile_pb2 as prpb
from crm_gateway.profile.schemas import ProfileLabels
from crmkit.identity import Identity

if TYPE_CHECKING:
    from crm_gateway.web import GatewayState

DIMENSION_WORDS = {prpb.TIER_DIMENSION_VALUE: "value", prpb.TIER_DIMENSION_GRADE: "grade"}


class ProfileLabelCache:
    def __init__(self, ttl: float = 30.0) -> None:
        self._ttl = ttl
        self._labels: dict[str, tuple[float, ProfileLabels]] = {}

    async def for_caller(self, state: GatewayState, identity: Identity) -> ProfileLabels:
        cached = self._labels.get(identity.tenant_id)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        metadata = state.identity_metadata.for_caller(identity)
        kinds, tiers = await asyncio.gather(
            state.customers.ListSpecialRequirementKinds(prpb.ListSpecialRequirementKindsRequest(), metadata=metadata),
            state.customers.ListTierLabels(prpb.ListTierLabelsRequest(), metadata=metadata),
        )
        labels = ProfileLabels(
            kinds={k.key: (k.label, k.details_label, k.description) for k in kinds.kinds},
            tiers={(DIMENSION_WORDS[t.dimension], t.value): t.label for t in tiers.labels},
        )
        if len(self._labels) > 10_000:
            self._labels.clear()
        self._labels[identity.tenant_id] = (time.monotonic(), labels)
        return labels

    def forget(self, tenant_id: str) -> None:
        self._labels.pop(tenant_id, None)
