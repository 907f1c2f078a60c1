"""crm.customer.v1.CustomerService: one gRPC service, each feature's RPCs from its own folder."""

from __future__ import annotations

from crm.customer.v1 import customer_pb2_grpc
from crm_customer.assignment.servicer import AssignmentRpcs
from crm_customer.attachments.servicer import AttachmentRpcs
from crm_customer.closures.servicer import ClosureRpcs
from crm_customer.collaborators.servicer import CollaboratorRpcs
from crm_customer.contacts.servicer import ContactRpcs
from crm_customer.customers.servicer import CustomerRpcs
from crm_customer.follow_ups.servicer import FollowUpRpcs
from crm_customer.groups.servicer import GroupRpcs
from crm_customer.imports.servicer import ImportRpcs
from crm_customer.licences.servicer import LicenceRpcs
from crm_customer.ownership.servicer import OwnershipRpcs
from crm_customer.pools.servicer import PoolRpcs
from crm_customer.preferences.servicer import PreferenceRpcs
from crm_customer.revisits.servicer import RevisitRpcs
from crm_customer.search.servicer import SearchRpcs
from crm_customer.stages.servicer import StageRpcs
from crm_customer.tenant_settings.servicer import TenantSettingsRpcs
from crm_customer.tiers.servicer import TierRpcs
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
    ClosureRpcs,
    LicenceRpcs,
    # profile (issue 12)
    PreferenceRpcs,
    TierRpcs,
    StageRpcs,
    GroupRpcs,
    RevisitRpcs,
    AttachmentRpcs,
    ImportRpcs,
    customer_pb2_grpc.CustomerServiceServicer,
):
    """The generated servicer comes last, so an RPC no feature serves still answers UNIMPLEMENTED."""
