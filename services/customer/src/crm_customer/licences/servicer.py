"""gRPC edge of licences and their kinds: validate, call the service, commit, map."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.customers.models import Customer
from crm_customer.customers.service import scope_condition
from crm_customer.licences import service, validation
from crm_customer.licences.events import LicenceEvents
from crm_customer.licences.models import Licence, kind_to_proto, licence_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.clock import shanghai_date
from crmkit.errors import NotFound
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text


class LicenceRpcs(CustomerServicerBase):
    """ListLicenceKinds, SetLicenceKinds, ListCustomerLicences, CreateLicence, UpdateLicence,
    DeleteLicence, ListExpiringLicences."""

    @property
    def _licence_events(self) -> LicenceEvents:
        return LicenceEvents(self._events)

    async def ListLicenceKinds(
        self, request: cpb.ListLicenceKindsRequest, context: RpcContext
    ) -> cpb.ListLicenceKindsResponse:
        async with self._reads() as session:
            kinds = await service.licence_kinds(session, tenant_id=current_identity().tenant_id)
            return cpb.ListLicenceKindsResponse(kinds=[kind_to_proto(k) for k in kinds])

    async def SetLicenceKinds(
        self, request: cpb.SetLicenceKindsRequest, context: RpcContext
    ) -> cpb.SetLicenceKindsResponse:
        kinds = validation.kinds(request.kinds)
        async with self._writes.transaction() as session:
            saved = await service.set_licence_kinds(session, identity=current_identity(), kinds=kinds)
        return cpb.SetLicenceKindsResponse(kinds=[kind_to_proto(k) for k in saved])

    async def ListCustomerLicences(
        self, request: cpb.ListCustomerLicencesRequest, context: RpcContext
    ) -> cpb.ListCustomerLicencesResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        now = self._clock()
        async with self._reads() as session:
            found = await service.list_customer_licences(
                session, identity=current_identity(), customer_id=customer_id, now=now
            )
        today = shanghai_date(now)
        return cpb.ListCustomerLicencesResponse(
            licences=[licence_to_proto(lic, today) for lic in found.licences], summary=found.summary
        )

    async def CreateLicence(self, request: cpb.CreateLicenceRequest, context: RpcContext) -> cpb.CreateLicenceResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        customer_id = identifier(request.licence.customer_id, "licence.customer_id")
        data = validation.licence_input(request.licence)
        identity = current_identity()

        async def create(session: AsyncSession) -> tuple[str, cpb.CreateLicenceResponse]:
            now = self._clock()
            licence = await service.create_licence(
                session, identity=identity, customer_id=customer_id, data=data, events=self._licence_events, now=now
            )
            return licence.id, cpb.CreateLicenceResponse(licence=licence_to_proto(licence, shanghai_date(now)))

        async def replay(session: AsyncSession, licence_id: str) -> cpb.CreateLicenceResponse:
            found = await session.scalar(
                select(Licence)
                .join(Customer, Customer.id == Licence.customer_id)
                .where(
                    Licence.id == licence_id,
                    Licence.customer_id == customer_id,
                    scope_condition(identity, now=self._clock()),
                )
            )
            if found is None:
                raise NotFound("licence", licence_id)
            return cpb.CreateLicenceResponse(licence=licence_to_proto(found, shanghai_date(self._clock())))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)

    async def UpdateLicence(self, request: cpb.UpdateLicenceRequest, context: RpcContext) -> cpb.UpdateLicenceResponse:
        customer_id = identifier(request.licence.customer_id, "licence.customer_id")
        licence_id = identifier(request.licence.id, "licence.id")
        changes = validation.licence_changes(request.licence, list(request.update_mask.paths))
        now = self._clock()
        async with self._writes.transaction() as session:
            licence = await service.update_licence(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                licence_id=licence_id,
                changes=changes,
                expected_version=request.expected_version,
                events=self._licence_events,
                now=now,
            )
            response = cpb.UpdateLicenceResponse(licence=licence_to_proto(licence, shanghai_date(now)))
        return response

    async def DeleteLicence(self, request: cpb.DeleteLicenceRequest, context: RpcContext) -> cpb.DeleteLicenceResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        licence_id = identifier(request.licence_id, "licence_id")
        async with self._writes.transaction() as session:
            await service.delete_licence(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                licence_id=licence_id,
                events=self._licence_events,
                now=self._clock(),
            )
        return cpb.DeleteLicenceResponse()

    async def ListExpiringLicences(
        self, request: cpb.ListExpiringLicencesRequest, context: RpcContext
    ) -> cpb.ListExpiringLicencesResponse:
        query = service.ExpiringQuery(
            status=validation.expiring_status(request.status),
            owner_id=identifier(request.owner_id, "owner_id", required=False) or None,
            org_unit_id=identifier(request.org_unit_id, "org_unit_id", required=False) or None,
        )
        size = page_size(request.page_size)
        now = self._clock()
        async with self._reads() as session:
            rows, token = await service.list_expiring(
                session,
                identity=current_identity(),
                query=query,
                page_size=size,
                page_token=request.page_token,
                now=now,
            )
            today = shanghai_date(now)
            return cpb.ListExpiringLicencesResponse(
                licences=[
                    cpb.ExpiringLicence(
                        licence=licence_to_proto(licence, today),
                        customer_name=name,
                        owner_id=owner_id,
                        org_unit_id=org_unit_id,
                    )
                    for licence, name, owner_id, org_unit_id in rows
                ],
                next_page_token=token,
            )
