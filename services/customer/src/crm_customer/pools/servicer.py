"""gRPC edge of the public pool: validate, call the service, commit, map."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import pools_pb2 as ppb
from crm_customer.pools import service, validation
from crm_customer.pools.models import CLAIM_STATUSES, PoolClaim, claim_to_proto, pool_customer_to_proto, pool_to_proto
from crm_customer.preferences.models import requirements_to_proto
from crm_customer.preferences.service import add_requirements
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.enums import ProtoEnum
from crmkit.errors import NotFound
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text

CLAIM_VIEWS = ProtoEnum(ppb.ClaimView)


class PoolRpcs(CustomerServicerBase):
    """ListPools, CreatePool, UpdatePool, ListPoolCustomers, ReleaseToPool, ClaimCustomer,
    DecideClaim, WithdrawClaim, ListClaims."""

    async def ListPools(self, request: ppb.ListPoolsRequest, context: RpcContext) -> ppb.ListPoolsResponse:
        async with self._reads() as session:
            pools = await service.list_pools(session, identity=current_identity())
            return ppb.ListPoolsResponse(pools=[pool_to_proto(p, count) for p, count in pools])

    async def CreatePool(self, request: ppb.CreatePoolRequest, context: RpcContext) -> ppb.CreatePoolResponse:
        data = validation.pool_input(request.pool)
        async with self._writes.transaction() as session:
            pool = await service.create_pool(session, identity=current_identity(), data=data, now=self._clock())
            await session.flush()
            response = ppb.CreatePoolResponse(pool=pool_to_proto(pool))
        return response

    async def UpdatePool(self, request: ppb.UpdatePoolRequest, context: RpcContext) -> ppb.UpdatePoolResponse:
        pool_id = identifier(request.pool.id, "pool.id")
        name = text(request.pool.name, "pool.name", max_len=50, required=True)
        rules = validation.rules(request.pool.rules, request.pool.HasField("rules"))
        async with self._writes.transaction() as session:
            pool = await service.update_pool(
                session,
                identity=current_identity(),
                pool_id=pool_id,
                name=name,
                requires_approval=request.pool.requires_approval,
                rules=rules,
                expected_version=request.expected_version,
                now=self._clock(),
            )
            response = ppb.UpdatePoolResponse(pool=pool_to_proto(pool))
        return response

    async def ListPoolCustomers(
        self, request: ppb.ListPoolCustomersRequest, context: RpcContext
    ) -> ppb.ListPoolCustomersResponse:
        pool_id = identifier(request.pool_id, "pool_id")
        size = page_size(request.page_size)
        identity = current_identity()
        async with self._reads() as session:
            rows, token = await service.list_pool_customers(
                session, identity=identity, pool_id=pool_id, page_size=size, page_token=request.page_token
            )
            response = ppb.ListPoolCustomersResponse(
                customers=[pool_customer_to_proto(c, pending) for c, pending in rows], next_page_token=token
            )
            await add_requirements(
                session, tenant_id=identity.tenant_id, rows=response.customers, customer_id=lambda row: row.id
            )
            return response

    async def ReleaseToPool(self, request: ppb.ReleaseToPoolRequest, context: RpcContext) -> ppb.ReleaseToPoolResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        reason = validation.reason(request.reason)
        pool_id = identifier(request.pool_id, "pool_id", required=False)
        async with self._writes.transaction() as session:
            customer, _ = await service.release_to_pool(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                reason=reason,
                pool_id=pool_id,
                events=self._events,
                now=self._clock(),
            )
            response = ppb.ReleaseToPoolResponse(customer=pool_customer_to_proto(customer, False))
            response.customer.special_requirements.extend(requirements_to_proto(customer.special_requirements))
        return response

    async def ClaimCustomer(self, request: ppb.ClaimCustomerRequest, context: RpcContext) -> ppb.ClaimCustomerResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        pool_id = identifier(request.pool_id, "pool_id")
        customer_id = identifier(request.customer_id, "customer_id")
        reason = validation.reason(request.reason)
        identity = current_identity()

        async def claim(session: AsyncSession) -> tuple[str, ppb.ClaimCustomerResponse]:
            made, name = await service.claim_customer(
                session,
                identity=identity,
                pool_id=pool_id,
                customer_id=customer_id,
                reason=reason,
                events=self._events,
                now=self._clock(),
            )
            answer = ppb.ClaimCustomerResponse(claim=claim_to_proto(made, name))
            await _add_claim_requirements(session, identity.tenant_id, [answer.claim])
            return made.id, answer

        async def replay(session: AsyncSession, claim_id: str) -> ppb.ClaimCustomerResponse:
            earlier = await session.get(PoolClaim, claim_id)
            if earlier is None:
                raise NotFound("claim", claim_id)
            answer = ppb.ClaimCustomerResponse(claim=claim_to_proto(earlier, ""))
            await _add_claim_requirements(session, identity.tenant_id, [answer.claim])
            return answer

        return await self._writes.create_once(identity=identity, request_id=request_id, create=claim, replay=replay)

    async def DecideClaim(self, request: ppb.DecideClaimRequest, context: RpcContext) -> ppb.DecideClaimResponse:
        claim_id = identifier(request.claim_id, "claim_id")
        comment = text(request.comment, "comment", max_len=200)
        async with self._writes.transaction() as session:
            claim, name = await service.decide_claim(
                session,
                identity=current_identity(),
                claim_id=claim_id,
                approve=request.approve,
                comment=comment,
                events=self._events,
                now=self._clock(),
            )
            response = ppb.DecideClaimResponse(claim=claim_to_proto(claim, name))
            await _add_claim_requirements(session, claim.tenant_id, [response.claim])
        return response

    async def WithdrawClaim(self, request: ppb.WithdrawClaimRequest, context: RpcContext) -> ppb.WithdrawClaimResponse:
        claim_id = identifier(request.claim_id, "claim_id")
        async with self._writes.transaction() as session:
            claim, name = await service.withdraw_claim(
                session, identity=current_identity(), claim_id=claim_id, events=self._events, now=self._clock()
            )
            response = ppb.WithdrawClaimResponse(claim=claim_to_proto(claim, name))
            await _add_claim_requirements(session, claim.tenant_id, [response.claim])
        return response

    async def ListClaims(self, request: ppb.ListClaimsRequest, context: RpcContext) -> ppb.ListClaimsResponse:
        view = CLAIM_VIEWS.parse(request.view, "view", unknown="unknown view / 未知的视图")
        status = CLAIM_STATUSES.parse(request.status, "status", default="", unknown="unknown status / 未知的状态")
        size = page_size(request.page_size)
        identity = current_identity()
        async with self._reads() as session:
            rows, token = await service.list_claims(
                session,
                identity=identity,
                mine=view == "mine",
                status=status,
                page_size=size,
                page_token=request.page_token,
            )
            response = ppb.ListClaimsResponse(
                claims=[claim_to_proto(c, name) for c, name in rows], next_page_token=token
            )
            await _add_claim_requirements(session, identity.tenant_id, response.claims)
            return response


async def _add_claim_requirements(session: AsyncSession, tenant_id: str, claims: Sequence[ppb.PoolClaim]) -> None:
    await add_requirements(session, tenant_id=tenant_id, rows=claims, customer_id=lambda claim: claim.customer_id)
