"""crm.customer.v1.CustomerService: one gRPC service, each feature's RPCs from its own folder."""

from __future__ import annotations

from crm.customer.v1 import customer_pb2_grpc
from crm_customer.assignment.servicer import AssignmentRpcs
from crm_customer.collaborators.servicer import CollaboratorRpcs
from crm_customer.contacts.servicer import ContactRpcs
from crm_customer.customers.servicer import CustomerRpcs
from crm_customer.follow_ups.servicer import FollowUpRpcs
from crm_customer.imports.servicer import ImportRpcs
from crm_customer.ownership.servicer import OwnershipRpcs
from crm_customer.pools.servicer import PoolRpcs
from crm_customer.search.servicer import SearchRpcs
from crm_customer.tenant_settings.servicer import TenantSettingsRpcs
from crm_customer.transfers.servicer import TransferRpcs


class CustomerServicer(
    CustomerRpcs,
    ContactRpcs,
    SearchRpcs,
    TenantSettingsRpcs,
    FollowUpRpcs,
    OwnershipRpcs,
    CollaboratorRpcs,
    PoolRpcs,
    AssignmentRpcs,
    TransferRpcs,
    ImportRpcs,
    customer_pb2_grpc.CustomerServiceServicer,
):
    """The generated servicer comes last, so an RPC no feature serves still answers UNIMPLEMENTED."""
