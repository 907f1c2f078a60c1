"""gRPC edge of imports and exports: validate, call the service, commit, map."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import imports_pb2 as ipb
from crm_customer.customers import service as customers
from crm_customer.customers import validation as customer_validation
from crm_customer.customers.models import customer_to_proto
from crm_customer.imports import service, validation
from crm_customer.imports.models import CustomerImport, import_to_proto, problem_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.errors import InvalidArgument
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.validate import identifier, text

EXPORT_PAGE_MAX = 1000


class ImportRpcs(CustomerServicerBase):
    """Customer imports (the file in chunks, the dry-run report, confirm, cancel, the rejected
    rows) and ExportCustomers."""

    async def _answer(self, session: AsyncSession, row: CustomerImport) -> ipb.CustomerImport:
        return import_to_proto(row, has_rejects=await service.has_rejects(session, row))

    async def GetCustomerImportTemplate(
        self, request: ipb.GetCustomerImportTemplateRequest, context: RpcContext
    ) -> ipb.GetCustomerImportTemplateResponse:
        file_format = validation.template_format(request.format)
        async with self._reads() as session:
            name, content = await service.template(session, identity=current_identity(), file_format=file_format)
        return ipb.GetCustomerImportTemplateResponse(file_name=name, content=content)

    async def StartCustomerImport(
        self, request: ipb.StartCustomerImportRequest, context: RpcContext
    ) -> ipb.StartCustomerImportResponse:
        identity = current_identity()
        identity.require_role(*service.IMPORTERS)
        request_id = text(request.request_id, "request_id", max_len=64)
        data = validation.import_input(request)

        async def start(session: AsyncSession) -> tuple[str, ipb.StartCustomerImportResponse]:
            row = await service.start_import(session, identity=identity, data=data, now=self._clock())
            await session.flush()
            return row.id, ipb.StartCustomerImportResponse(customer_import=import_to_proto(row))

        async def replay(session: AsyncSession, import_id: str) -> ipb.StartCustomerImportResponse:
            earlier = await service.get_import(session, identity=identity, import_id=import_id)
            return ipb.StartCustomerImportResponse(customer_import=await self._answer(session, earlier))

        return await self._writes.create_once(identity=identity, request_id=request_id, create=start, replay=replay)

    async def AppendCustomerImportChunk(
        self, request: ipb.AppendCustomerImportChunkRequest, context: RpcContext
    ) -> ipb.AppendCustomerImportChunkResponse:
        import_id = identifier(request.import_id, "import_id")
        offset, data = validation.chunk(request)
        async with self._writes.transaction() as session:
            received = await service.append_chunk(
                session, identity=current_identity(), import_id=import_id, offset=offset, data=data
            )
        return ipb.AppendCustomerImportChunkResponse(received_bytes=received)

    async def FinishCustomerImportUpload(
        self, request: ipb.FinishCustomerImportUploadRequest, context: RpcContext
    ) -> ipb.FinishCustomerImportUploadResponse:
        import_id = identifier(request.import_id, "import_id")
        digest = validation.sha256(request.sha256)
        async with self._writes.transaction() as session:
            row = await service.finish_upload(session, identity=current_identity(), import_id=import_id, sha256=digest)
            answer = import_to_proto(row)
        return ipb.FinishCustomerImportUploadResponse(customer_import=answer)

    async def GetCustomerImport(
        self, request: ipb.GetCustomerImportRequest, context: RpcContext
    ) -> ipb.GetCustomerImportResponse:
        import_id = identifier(request.id, "id")
        async with self._reads() as session:
            row = await service.get_import(session, identity=current_identity(), import_id=import_id)
            return ipb.GetCustomerImportResponse(customer_import=await self._answer(session, row))

    async def ListCustomerImports(
        self, request: ipb.ListCustomerImportsRequest, context: RpcContext
    ) -> ipb.ListCustomerImportsResponse:
        size = page_size(request.page_size)
        async with self._reads() as session:
            rows, token = await service.list_imports(
                session, identity=current_identity(), page_size=size, page_token=request.page_token
            )
            return ipb.ListCustomerImportsResponse(
                customer_imports=[await self._answer(session, r) for r in rows], next_page_token=token
            )

    async def ListCustomerImportProblems(
        self, request: ipb.ListCustomerImportProblemsRequest, context: RpcContext
    ) -> ipb.ListCustomerImportProblemsResponse:
        import_id = identifier(request.import_id, "import_id")
        pass_ = validation.import_pass(getattr(request, "pass"))
        size = page_size(request.page_size, maximum=1000)
        async with self._reads() as session:
            rows, token = await service.list_problems(
                session,
                identity=current_identity(),
                import_id=import_id,
                pass_=pass_,
                page_size=size,
                page_token=request.page_token,
            )
            return ipb.ListCustomerImportProblemsResponse(
                problems=[problem_to_proto(r) for r in rows], next_page_token=token
            )

    async def ConfirmCustomerImport(
        self, request: ipb.ConfirmCustomerImportRequest, context: RpcContext
    ) -> ipb.ConfirmCustomerImportResponse:
        import_id = identifier(request.import_id, "import_id")
        async with self._writes.transaction() as session:
            row = await service.confirm_import(
                session, identity=current_identity(), import_id=import_id, now=self._clock()
            )
            answer = await self._answer(session, row)
        return ipb.ConfirmCustomerImportResponse(customer_import=answer)

    async def CancelCustomerImport(
        self, request: ipb.CancelCustomerImportRequest, context: RpcContext
    ) -> ipb.CancelCustomerImportResponse:
        import_id = identifier(request.import_id, "import_id")
        async with self._writes.transaction() as session:
            row = await service.cancel_import(
                session, identity=current_identity(), import_id=import_id, now=self._clock()
            )
            answer = await self._answer(session, row)
        return ipb.CancelCustomerImportResponse(customer_import=answer)

    async def ReadCustomerImportFile(
        self, request: ipb.ReadCustomerImportFileRequest, context: RpcContext
    ) -> ipb.ReadCustomerImportFileResponse:
        import_id = identifier(request.import_id, "import_id")
        pass_ = validation.import_pass(getattr(request, "pass"))
        if request.offset < 0:
            raise InvalidArgument("offset", "cannot be negative / 不能为负")
        async with self._reads() as session:
            name, data, total = await service.read_rejects(
                session, identity=current_identity(), import_id=import_id, pass_=pass_, offset=request.offset
            )
        return ipb.ReadCustomerImportFileResponse(file_name=name, data=data, total_bytes=total)

    async def ExportCustomers(
        self, request: pb.ExportCustomersRequest, context: RpcContext
    ) -> pb.ExportCustomersResponse:
        """A page of the list (its filters, order and scope) with contacts opened; up to 1000 at a time."""
        listed = request.list
        size = page_size(listed.page_size, default=500, maximum=EXPORT_PAGE_MAX)
        filters = replace(
            customer_validation.list_filter(
                lifecycle_stage=listed.lifecycle_stage,
                type=listed.type,
                owner_id=listed.owner_id,
                org_unit_id=listed.org_unit_id,
                tag=listed.tag,
                prefix="list.",
            ),
            include_archived=listed.include_archived,
        )
        order = customer_validation.list_order(listed.order_by)
        async with self._reads() as session:
            rows, token = await customers.list_customers(
                session,
                identity=current_identity(),
                filters=filters,
                page_size=size,
                page_token=listed.page_token,
                now=self._clock(),
                order=order,
            )
            return pb.ExportCustomersResponse(
                customers=[customer_to_proto(c, self._personal) for c in rows], next_page_token=token
            )
