"""gRPC edge of the contact RPCs: validate, call the service, commit, map."""

from __future__ import annotations

from crm.customer.v1 import customer_pb2 as pb
from crm_customer.contacts import service, validation
from crm_customer.contacts.models import contact_to_proto
from crm_customer.servicer_base import CustomerServicerBase
from crmkit.grpc_server import RpcContext
from crmkit.identity import current_identity
from crmkit.validate import identifier


class ContactRpcs(CustomerServicerBase):
    """ListContacts, CreateContact, UpdateContact, DeleteContact."""

    async def ListContacts(self, request: pb.ListContactsRequest, context: RpcContext) -> pb.ListContactsResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        async with self._reads() as session:
            contacts = await service.list_contacts(
                session, identity=current_identity(), customer_id=customer_id, now=self._clock()
            )
            return pb.ListContactsResponse(contacts=[contact_to_proto(c, self._personal) for c in contacts])

    async def CreateContact(self, request: pb.CreateContactRequest, context: RpcContext) -> pb.CreateContactResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        data = validation.contact_input(request.contact, "contact")
        async with self._writes.transaction() as session:
            contact = await service.create_contact(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                data=data,
                events=self._events,
                personal=self._personal,
                now=self._clock(),
            )
            response = pb.CreateContactResponse(contact=contact_to_proto(contact, self._personal))
        return response

    async def UpdateContact(self, request: pb.UpdateContactRequest, context: RpcContext) -> pb.UpdateContactResponse:
        customer_id = identifier(request.contact.customer_id, "contact.customer_id")
        contact_id = identifier(request.contact.id, "contact.id")
        changes = validation.contact_changes(request.contact, list(request.update_mask.paths))
        async with self._writes.transaction() as session:
            contact = await service.update_contact(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                contact_id=contact_id,
                changes=changes,
                events=self._events,
                personal=self._personal,
                now=self._clock(),
            )
            response = pb.UpdateContactResponse(contact=contact_to_proto(contact, self._personal))
        return response

    async def DeleteContact(self, request: pb.DeleteContactRequest, context: RpcContext) -> pb.DeleteContactResponse:
        customer_id = identifier(request.customer_id, "customer_id")
        contact_id = identifier(request.contact_id, "contact_id")
        async with self._writes.transaction() as session:
            await service.delete_contact(
                session,
                identity=current_identity(),
                customer_id=customer_id,
                contact_id=contact_id,
                events=self._events,
                personal=self._personal,
                now=self._clock(),
            )
        return pb.DeleteContactResponse()
