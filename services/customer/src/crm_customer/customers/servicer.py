"""gRPC edge of crm.customer.v1.CustomerService: validate, call the service, commit, map."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from crm.customer.v1 import customer_pb2 as pb
from crm.customer.v1 import customer_pb2_grpc
from crm_customer.customers import service, validation
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crm_customer.customers.models import contact_to_proto, customer_to_proto, definition_to_proto
from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.direct_reads import SessionReader
from crmkit.errors import Aborted, AlreadyExists
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.paging import page_size
from crmkit.relay import OutboxRelay


class CustomerServicer(customer_pb2_grpc.CustomerServiceServicer):
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        events: CustomerEvents,
        relay: OutboxRelay | None,
        read_sessions: SessionFactory | None = None,
        fast_reads: FastCustomerReads | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._fast_reads = fast_reads
        self._sessions = sessions
        self._reads = read_sessions or sessions
        self._events = events
        self._relay = relay
        self._clock = clock

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """One transaction per write RPC; the relay is nudged once the events are committed."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except IntegrityError as exc:
            # Two concurrent writes raced past the duplicate check; the unique index caught it.
            raise AlreadyExists("duplicate customer data / 客户信息重复") from exc
        except StaleDataError as exc:
            raise Aborted("customer was changed by someone else / 客户已被他人修改，请刷新后重试") from exc
        if self._relay is not None:
            self._relay.wake()

    async def GetCustomer(self, request: pb.GetCustomerRequest, context: RpcContext) -> pb.GetCustomerResponse:
        customer_id = validation.identifier(request.id, "id")
        if self._fast_reads is not None:
            return pb.GetCustomerResponse(customer=await self._fast_reads.get(current_identity(), customer_id))
        async with self._reads() as session:
            customer = await service.get_customer(session, identity=current_identity(), customer_id=customer_id)
            return pb.GetCustomerResponse(customer=customer_to_proto(customer))

    async def ListCustomers(self, request: pb.ListCustomersRequest, context: RpcContext) -> pb.ListCustomersResponse:
        size = page_size(request.page_size)
        filters = service.ListFilter(
            lifecycle_stage=validation.lifecycle_stage(request.lifecycle_stage, default="") or None,
            type=validation.text(request.type, "type", max_len=30) or None,
            owner_id=validation.identifier(request.owner_id, "owner_id", required=False) or None,
            org_unit_id=validation.identifier(request.org_unit_id, "org_unit_id", required=False) or None,
            tag=validation.text(request.tag, "tag", max_len=20) or None,
            include_archived=request.include_archived,
        )
        async with self._reads() as session:
            customers, token = await service.list_customers(
                session, identity=current_identity(), filters=filters, page_size=size, page_token=request.page_token
            )
            return pb.ListCustomersResponse(customers=[customer_to_proto(c) for c in customers], next_page_token=token)

    async def SearchCustomers(
        self, request: pb.SearchCustomersRequest, context: RpcContext
    ) -> pb.SearchCustomersResponse:
        size = page_size(request.page_size, default=20)
        identity = current_identity()
        if self._fast_reads is not None:
            ids, token = await service.search_customer_ids(
                self._fast_reads.direct,
                identity=identity,
                query_text=request.query,
                page_size=size,
                page_token=request.page_token,
            )
            customers = await self._fast_reads.get_many(identity, ids)
            return pb.SearchCustomersResponse(customers=customers, next_page_token=token)
        async with self._reads() as session:
            ids, token = await service.search_customer_ids(
                SessionReader(session),
                identity=identity,
                query_text=request.query,
                page_size=size,
                page_token=request.page_token,
            )
            found = await service.customers_in_order(session, identity=identity, customer_ids=ids)
            return pb.SearchCustomersResponse(customers=[customer_to_proto(c) for c in found], next_page_token=token)

    async def CreateCustomer(self, request: pb.CreateCustomerRequest, context: RpcContext) -> pb.CreateCustomerResponse:
        request_id = validation.text(request.request_id, "request_id", max_len=64)
        data = validation.customer_input(request.customer)
        identity = current_identity()
        try:
            async with self._write() as session:
                customer = await service.create_customer(
                    session,
                    identity=identity,
                    data=data,
                    request_id=request_id,
                    events=self._events,
                    now=self._clock(),
                )
                response = pb.CreateCustomerResponse(customer=customer_to_proto(customer))
        except AlreadyExists as refusal:
            # A retry that overlapped the first attempt loses the race on the unique indexes once
            # the first commits; the client asked for one customer, so answer with that one.
            if not request_id or not isinstance(refusal.__cause__, IntegrityError):
                raise
            async with self._reads() as session:
                earlier = await service.customer_created_by_request(session, identity=identity, request_id=request_id)
                if earlier is None:
                    raise
                response = pb.CreateCustomerResponse(customer=customer_to_proto(earlier))
        return response

    async def UpdateCustomer(self, request: pb.UpdateCustomerRequest, context: RpcContext) -> pb.UpdateCustomerResponse:
        customer_id = validation.identifier(request.customer.id, "customer.id")
        changes = validation.customer_changes(request.customer, list(request.update_mask.paths))
        async with self._write() as session:
            customer = await service.update_customer(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                changes=changes,
                expected_version=request.expected_version,
                events=self._events,
                now=self._clock(),
            )
            response = pb.UpdateCustomerResponse(customer=customer_to_proto(customer))
        return response

    async def ArchiveCustomer(
        self, request: pb.ArchiveCustomerRequest, context: RpcContext
    ) -> pb.ArchiveCustomerResponse:
        customer_id = validation.identifier(request.id, "id")
        async with self._write() as session:
            customer = await service.archive_customer(
                session, identity=current_identity(), customer_id=customer_id, events=self._events, now=self._clock()
            )
            response = pb.ArchiveCustomerResponse(customer=customer_to_proto(customer))
        return response

    async def ListContacts(self, request: pb.ListContactsRequest, context: RpcContext) -> pb.ListContactsResponse:
        customer_id = validation.identifier(request.customer_id, "customer_id")
        async with self._reads() as session:
            contacts = await service.list_contacts(session, identity=current_identity(), customer_id=customer_id)
            return pb.ListContactsResponse(contacts=[contact_to_proto(c) for c in contacts])

    async def CreateContact(self, request: pb.CreateContactRequest, context: RpcContext) -> pb.CreateContactResponse:
        customer_id = validation.identifier(request.customer_id, "customer_id")
        data = validation.contact_input(request.contact, "contact")
        async with self._write() as session:
            contact = await service.create_contact(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                data=data,
                events=self._events,
                now=self._clock(),
            )
            response = pb.CreateContactResponse(contact=contact_to_proto(contact))
        return response

    async def UpdateContact(self, request: pb.UpdateContactRequest, context: RpcContext) -> pb.UpdateContactResponse:
        customer_id = validation.identifier(request.contact.customer_id, "contact.customer_id")
        contact_id = validation.identifier(request.contact.id, "contact.id")
        changes = validation.contact_changes(request.contact, list(request.update_mask.paths))
        async with self._write() as session:
            contact = await service.update_contact(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                contact_id=contact_id,
                changes=changes,
                events=self._events,
                now=self._clock(),
            )
            response = pb.UpdateContactResponse(contact=contact_to_proto(contact))
        return response

    async def DeleteContact(self, request: pb.DeleteContactRequest, context: RpcContext) -> pb.DeleteContactResponse:
        customer_id = validation.identifier(request.customer_id, "customer_id")
        contact_id = validation.identifier(request.contact_id, "contact_id")
        async with self._write() as session:
            await service.delete_contact(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                contact_id=contact_id,
                events=self._events,
                now=self._clock(),
            )
        return pb.DeleteContactResponse()

    async def ListCustomerTypes(
        self, request: pb.ListCustomerTypesRequest, context: RpcContext
    ) -> pb.ListCustomerTypesResponse:
        async with self._reads() as session:
            types = await service.customer_types(session, tenant_id=current_identity().tenant_id)
            return pb.ListCustomerTypesResponse(types=types)

    async def SetCustomerTypes(
        self, request: pb.SetCustomerTypesRequest, context: RpcContext
    ) -> pb.SetCustomerTypesResponse:
        names = validation.customer_type_names(list(request.types))
        async with self._write() as session:
            types = await service.set_customer_types(session, identity=current_identity(), types=names)
        return pb.SetCustomerTypesResponse(types=types)

    async def ListCustomFieldDefinitions(
        self, request: pb.ListCustomFieldDefinitionsRequest, context: RpcContext
    ) -> pb.ListCustomFieldDefinitionsResponse:
        async with self._reads() as session:
            found = await service.custom_field_definitions(session, tenant_id=current_identity().tenant_id)
            return pb.ListCustomFieldDefinitionsResponse(definitions=[definition_to_proto(d) for d in found])

    async def SetCustomFieldDefinitions(
        self, request: pb.SetCustomFieldDefinitionsRequest, context: RpcContext
    ) -> pb.SetCustomFieldDefinitionsResponse:
        definitions = validation.custom_field_definitions(request.definitions)
        async with self._write() as session:
            saved = await service.set_custom_field_definitions(
                session, identity=current_identity(), definitions=definitions
            )
        return pb.SetCustomFieldDefinitionsResponse(definitions=[definition_to_proto(d) for d in saved])
