"""gRPC edge of the customer RPCs: validate, call the service, commit, map."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.customers import service, validation
from crm_customer.customers.models import customer_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


class CustomerRpcs(CustomerServicerBase):
    """GetCustomer, ListCustomers, CreateCustomer, UpdateCustomer, ArchiveCustomer."""

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: RpcContext) -> pb.GetCustomerResponse:
        customer_id = identifier(request.id, "id")
        if self._fast_reads is not None:
            return pb.GetCustomerResponse(
                customer=await self._fast_reads.get(current_identity(), customer_id, self._clock())
            )
        async with self._reads() as session:
            customer = await service.get_customer(
                session, identity=current_identity(), customer_id=customer_id, now=self._clock()
            )
            return pb.GetCustomerResponse(customer=customer_to_proto(customer, self._personal))

    async def ListCustomers(self, request: pb.ListCustomersRequest, context: RpcContext) -> pb.ListCustomersResponse:
        size = page_size(request.page_size)
        filters = replace(
            validation.list_filter(
                lifecycle_stage=request.lifecycle_stage,
                type=request.type,
                owner_id=request.owner_id,
                org_unit_id=request.org_unit_id,
                tag=request.tag,
            ),
            include_archived=request.include_archived,
        )
        order = validation.list_order(request.order_by)
        async with self._reads() as session:
            customers, token = await service.list_customers(
                session,
                identity=current_identity(),
                filters=filters,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
                order=order,
            )
            return pb.ListCustomersResponse(
                customers=[customer_to_proto(c, self._personal) for c in customers], next_page_token=token
            )

    async def CreateCustomer(self, request: pb.CreateCustomerRequest, context: RpcContext) -> pb.CreateCustomerResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        data = validation.customer_input(request.customer)
        identity = current_identity()

        async def create(session: AsyncSession) -> tuple[str, pb.CreateCustomerResponse]:
            customer = await service.create_customer(
                session,
                identity=identity,
                data=data,
                events=self._events,
                personal=self._personal,
                now=self._clock(),
            )
            return customer.id, pb.CreateCustomerResponse(customer=customer_to_proto(customer, self._personal))

        async def replay(session: AsyncSession, customer_id: str) -> pb.CreateCustomerResponse:
            earlier = await service.get_customer(session, identity=identity, customer_id=customer_id, now=self._clock())
            return pb.CreateCustomerResponse(customer=customer_to_proto(earlier, self._personal))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)

    async def UpdateCustomer(self, request: pb.UpdateCustomerRequest, context: RpcContext) -> pb.UpdateCustomerResponse:
        customer_id = identifier(request.customer.id, "customer.id")
        changes = validation.customer_changes(request.customer, list(request.update_mask.paths))
        reason = text(request.reason, "reason", max_len=200)
        async with self._writes.transaction() as session:
            customer = await service.update_customer(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                changes=changes,
                expected_version=request.expected_version,
                events=self._events,
                personal=self._personal,
                now=self._clock(),
                reason=reason,
            )
            response = pb.UpdateCustomerResponse(customer=customer_to_proto(customer, self._personal))
        return response

    async def ArchiveCustomer(
        self, request: pb.ArchiveCustomerRequest, context: RpcContext
    ) -> pb.ArchiveCustomerResponse:
        customer_id = identifier(request.id, "id")
        async with self._writes.transaction() as session:
            customer = await service.archive_customer(
                session, identity=current_identity(), customer_id=customer_id, events=self._events, now=self._clock()
            )
            response = pb.ArchiveCustomerResponse(customer=customer_to_proto(customer, self._personal))
        return response
