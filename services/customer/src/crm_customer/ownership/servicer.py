"""gRPC edge of ownership: history and caps."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import ownership_pb2 as opb
from crm_customer.customers.service import get_customer
from crm_customer.ownership import service
from crm_customer.ownership.models import owner_change_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import Identity, current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier

MAX_USERS = 500


def _user_ids(values: list[str], field: str) -> list[str]:
    if len(values) > MAX_USERS:
        raise InvalidArgument(field, f"at most {MAX_USERS} users / 最多{MAX_USERS}个用户")
    return [identifier(value, f"{field}[{index}]") for index, value in enumerate(values)]


async def _caps(session: AsyncSession, identity: Identity, user_ids: list[str]) -> opb.CustomerCaps:
    default, own = await service.caps_of(session, identity.tenant_id, user_ids)
    shown = user_ids or sorted(own)
    held = await service.held_by(session, identity.tenant_id, shown)
    return opb.CustomerCaps(
        default_cap=default,
        users=[opb.UserCustomerCap(user_id=u, cap=own.get(u, 0), held=held[u]) for u in shown],
    )


class OwnershipRpcs(CustomerServicerBase):
    """ListOwnerChanges, GetCustomerCaps, SetCustomerCaps."""

    async def ListOwnerChanges(
        self, request: opb.ListOwnerChangesRequest, context: RpcContext
    ) -> opb.ListOwnerChangesResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        size = page_size(request.page_size)
        async with self._reads() as session:
            await get_customer(session, identity=current_identity(), customer_id=customer_id, now=self._clock())
            rows, token = await service.list_owner_changes(
                session, customer_id=customer_id, page_size=size, page_token=request.page_token
            )
            return opb.ListOwnerChangesResponse(changes=[owner_change_to_proto(r) for r in rows], next_page_token=token)

    async def GetCustomerCaps(
        self, request: opb.GetCustomerCapsRequest, context: RpcContext
    ) -> opb.GetCustomerCapsResponse:
        user_ids = _user_ids(list(request.user_ids), "user_ids")
        async with self._reads() as session:
            return opb.GetCustomerCapsResponse(caps=await _caps(session, current_identity(), user_ids))

    async def SetCustomerCaps(
        self, request: opb.SetCustomerCapsRequest, context: RpcContext
    ) -> opb.SetCustomerCapsResponse:
        identity = current_identity()
        caps: dict[str, int] = {}
        for index, user in enumerate(request.users):
            user_id = identifier(user.user_id, f"users[{index}].user_id")
            if not 0 <= user.cap <= service.MAX_CAP:
                raise InvalidArgument(
                    f"users[{index}].cap", f"must be 0 to {service.MAX_CAP} / 须在0到{service.MAX_CAP}之间"
                )
            if user_id in caps:
                raise InvalidArgument(f"users[{index}].user_id", "named twice / 重复")
            caps[user_id] = user.cap
        if len(caps) > MAX_USERS:
            raise InvalidArgument("users", f"at most {MAX_USERS} users / 最多{MAX_USERS}个用户")
        if request.set_default and not 0 <= request.default_cap <= service.MAX_CAP:
            raise InvalidArgument("default_cap", f"must be 0 to {service.MAX_CAP} / 须在0到{service.MAX_CAP}之间")
        async with self._writes.transaction() as session:
            await service.set_caps(
                session,
                identity=identity,
                default_cap=request.default_cap if request.set_default else None,
                users=caps,
            )
            await session.flush()
            answer = await _caps(session, identity, sorted(caps))
        return opb.SetCustomerCapsResponse(caps=answer)
