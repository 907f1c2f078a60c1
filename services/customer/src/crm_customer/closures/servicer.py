"""gRPC edge of closures and their templates: validate, call the service, commit, map."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import calendar_pb2 as cpb
from crm_customer.closures import service, validation
from crm_customer.closures.events import ClosureEvents
from crm_customer.closures.models import (
    ClosureTemplate,
    CustomerClosure,
    closure_to_proto,
    overlaps_to_proto,
    template_to_proto,
)
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.clock import as_utc
from crmkit.errors import NotFound
from crmkit.events import timestamp_of
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, iso_date, text


class ClosureRpcs(CustomerServicerBase):
    """ListClosures, CreateClosure, UpdateClosure, DeleteClosure, and the templates' RPCs."""

    @property
    def _closure_events(self) -> ClosureEvents:
        return ClosureEvents(self._events)

    async def ListClosures(self, request: cpb.ListClosuresRequest, context: RpcContext) -> cpb.ListClosuresResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        from_date = iso_date(request.from_date, "from_date")
        async with self._reads() as session:
            found = await service.list_closures(
                session, identity=current_identity(), customer_id=customer_id, from_date=from_date, now=self._clock()
            )
        names = found.template_names
        current = found.current
        return cpb.ListClosuresResponse(
            closures=[closure_to_proto(c, names.get(c.template_id or "", "")) for c in found.closures],
            current=closure_to_proto(current, names.get(current.template_id or "", "")) if current else None,
        )

    async def CreateClosure(self, request: cpb.CreateClosureRequest, context: RpcContext) -> cpb.CreateClosureResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        customer_id, data = validation.new_closure(request.closure)
        identity = current_identity()

        async def create(session: AsyncSession) -> tuple[str, cpb.CreateClosureResponse]:
            closure = await service.create_closure(
                session,
                identity=identity,
                customer_id=customer_id,
                data=data,
                events=self._closure_events,
                now=self._clock(),
            )
            return closure.id, cpb.CreateClosureResponse(closure=closure_to_proto(closure))

        async def replay(session: AsyncSession, closure_id: str) -> cpb.CreateClosureResponse:
            closure = await session.get(CustomerClosure, closure_id)
            if closure is None or closure.customer_id != customer_id:
                raise NotFound("closure", closure_id)
            return cpb.CreateClosureResponse(closure=closure_to_proto(closure))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)

    async def UpdateClosure(self, request: cpb.UpdateClosureRequest, context: RpcContext) -> cpb.UpdateClosureResponse:
        customer_id = identifier(request.closure.customer_id, "closure.customer_id")
        closure_id = identifier(request.closure.id, "closure.id")
        changes = validation.closure_changes(request.closure, list(request.update_mask.paths))
        async with self._writes.transaction() as session:
            closure = await service.update_closure(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                closure_id=closure_id,
                changes=changes,
                expected_version=request.expected_version,
                events=self._closure_events,
                now=self._clock(),
            )
            response = cpb.UpdateClosureResponse(closure=closure_to_proto(closure))
        return response

    async def DeleteClosure(self, request: cpb.DeleteClosureRequest, context: RpcContext) -> cpb.DeleteClosureResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        closure_id = identifier(request.closure_id, "closure_id")
        async with self._writes.transaction() as session:
            await service.delete_closure(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                closure_id=closure_id,
                events=self._closure_events,
                now=self._clock(),
            )
        return cpb.DeleteClosureResponse()

    async def ListClosureTemplates(
        self, request: cpb.ListClosureTemplatesRequest, context: RpcContext
    ) -> cpb.ListClosureTemplatesResponse:
        async with self._reads() as session:
            found = await service.list_templates(session, identity=current_identity())
            return cpb.ListClosureTemplatesResponse(templates=[template_to_proto(t, n) for t, n in found])

    async def GetClosureTemplate(
        self, request: cpb.GetClosureTemplateRequest, context: RpcContext
    ) -> cpb.GetClosureTemplateResponse:
        template_id = identifier(request.id, "id")
        async with self._reads() as session:
            template, count = await service.get_template(session, identity=current_identity(), template_id=template_id)
            return cpb.GetClosureTemplateResponse(template=template_to_proto(template, count))

    async def CreateClosureTemplate(
        self, request: cpb.CreateClosureTemplateRequest, context: RpcContext
    ) -> cpb.CreateClosureTemplateResponse:
        request_id = text(request.request_id, "request_id", max_len=64)
        name = validation.template_name(request.template.name)
        ranges = validation.template_ranges(request.template.ranges, "template.ranges", keep_ids=False)
        identity = current_identity()

        async def create(session: AsyncSession) -> tuple[str, cpb.CreateClosureTemplateResponse]:
            template = await service.create_template(
                session, identity=identity, name=name, ranges=ranges, now=self._clock()
            )
            return template.id, cpb.CreateClosureTemplateResponse(template=template_to_proto(template))

        async def replay(session: AsyncSession, template_id: str) -> cpb.CreateClosureTemplateResponse:
            template = await session.get(ClosureTemplate, template_id)
            if template is None or template.tenant_id != identity.tenant_id:
                raise NotFound("closure template", template_id)
            counts = await service.member_counts(session, [template.id])
            return cpb.CreateClosureTemplateResponse(template=template_to_proto(template, counts.get(template.id, 0)))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=create, replay=replay)

    async def UpdateClosureTemplate(
        self, request: cpb.UpdateClosureTemplateRequest, context: RpcContext
    ) -> cpb.UpdateClosureTemplateResponse:
        template_id = identifier(request.template.id, "template.id")
        changes = validation.template_changes(request.template, list(request.update_mask.paths))
        async with self._writes.transaction() as session:
            changed = await service.update_template(
                session,
                identity=current_identity(),
                template_id=template_id,
                changes=changes,
                expected_version=request.expected_version,
                events=self._closure_events,
                now=self._clock(),
            )
            counts = await service.member_counts(session, [template_id])
            response = cpb.UpdateClosureTemplateResponse(
                template=template_to_proto(changed.template, counts.get(template_id, 0)),
                closures_changed=changed.closures_changed,
            )
        return response

    async def DeleteClosureTemplate(
        self, request: cpb.DeleteClosureTemplateRequest, context: RpcContext
    ) -> cpb.DeleteClosureTemplateResponse:
        template_id = identifier(request.id, "id")
        async with self._writes.transaction() as session:
            removed = await service.delete_template(
                session,
                identity=current_identity(),
                template_id=template_id,
                events=self._closure_events,
                now=self._clock(),
            )
        return cpb.DeleteClosureTemplateResponse(closures_removed=removed)

    async def ApplyClosureTemplate(
        self, request: cpb.ApplyClosureTemplateRequest, context: RpcContext
    ) -> cpb.ApplyClosureTemplateResponse:
        template_id = identifier(request.template_id, "template_id")
        customer_ids = validation.customer_ids(list(request.customer_ids))
        filters = validation.customer_filter(request.filter, request.HasField("filter"))
        async with self._writes.transaction() as session:
            result = await service.apply_template(
                session,
                identity=current_identity(),
                template_id=template_id,
                customer_ids=customer_ids,
                filters=filters,
                events=self._closure_events,
                now=self._clock(),
            )
            response = cpb.ApplyClosureTemplateResponse(
                applied_customer_ids=result.applied,
                already_applied_customer_ids=result.already_applied,
                not_found_customer_ids=result.not_found,
                conflicts=[
                    cpb.ClosureConflict(
                        customer_id=c.id,
                        customer_name=c.name,
                        closure=closure_to_proto(closures[0]),
                        overlaps=overlaps_to_proto(closures, result.template_ranges),
                    )
                    for c, closures in result.conflicts
                ],
            )
        return response

    async def RemoveClosureTemplateCustomers(
        self, request: cpb.RemoveClosureTemplateCustomersRequest, context: RpcContext
    ) -> cpb.RemoveClosureTemplateCustomersResponse:
        template_id = identifier(request.template_id, "template_id")
        customer_ids = validation.customer_ids(list(request.customer_ids))
        async with self._writes.transaction() as session:
            removed, missing = await service.remove_customers(
                session,
                identity=current_identity(),
                template_id=template_id,
                customer_ids=customer_ids,
                events=self._closure_events,
                now=self._clock(),
            )
        return cpb.RemoveClosureTemplateCustomersResponse(removed_customer_ids=removed, not_found_customer_ids=missing)

    async def ListClosureTemplateCustomers(
        self, request: cpb.ListClosureTemplateCustomersRequest, context: RpcContext
    ) -> cpb.ListClosureTemplateCustomersResponse:
        template_id = identifier(request.template_id, "template_id")
        size = page_size(request.page_size)
        async with self._reads() as session:
            rows, token = await service.list_template_customers(
                session,
                identity=current_identity(),
                template_id=template_id,
                page_size=size,
                page_token=request.page_token,
                now=self._clock(),
            )
        return cpb.ListClosureTemplateCustomersResponse(
            customers=[
                cpb.ClosureTemplateCustomer(
                    customer_id=row.customer_id,
                    customer_name=row.name,
                    owner_id=row.owner_id,
                    apply_time=timestamp_of(as_utc(row.applied_at)),
                )
                for row in rows
            ],
            next_page_token=token,
        )
