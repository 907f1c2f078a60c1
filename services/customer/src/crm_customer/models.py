"""Every feature's tables, imported together so the service's metadata holds its whole schema
(migrations and the schema-drift test read it from here)."""

from __future__ import annotations

from crm_customer.assignment.models import AssignmentCursor, AssignmentRuleSet
from crm_customer.attachments.models import Attachment
from crm_customer.closures.models import ClosureTemplate, ClosureTemplateMember, CustomerClosure
from crm_customer.collaborators.models import Collaborator
from crm_customer.contacts.models import Contact
from crm_customer.customers.models import Customer
from crm_customer.database import Base
from crm_customer.directory.models import DirectoryUser
from crm_customer.follow_ups.models import Interaction
from crm_customer.groups.models import CustomerRelationRow
from crm_customer.imports.models import (
    CustomerImport,
    ImportFileChunk,
    ImportMark,
    ImportProblemRow,
    RejectedRow,
    StagedRow,
)
from crm_customer.licences.models import Licence, LicenceKindRow
from crm_customer.ownership.models import CustomerCap, OwnerChange
from crm_customer.pools.models import Pool, PoolClaim
from crm_customer.preferences.models import SpecialRequirementKindRow
from crm_customer.revisits.models import RevisitPlanRow, RevisitTask
from crm_customer.search.models import SearchTerm
from crm_customer.stages.models import StageChangeRow
from crm_customer.tenant_settings.models import CustomerType, CustomFieldDefinitionRow, ProductLine
from crm_customer.tiers.models import TierChangeRow, TierLabelRow
from crm_customer.transfers.models import Transfer
from crm_customer.visits.models import VisitRecord
from crmkit.idempotency import request_table

# Create request ids, remembered by the kit (crmkit.writes.Writes.create_once).
CREATE_REQUESTS = request_table(Base.metadata)

__all__ = [
    "CREATE_REQUESTS",
    "AssignmentCursor",
    "AssignmentRuleSet",
    "Attachment",
    "Base",
    "ClosureTemplate",
    "ClosureTemplateMember",
    "Collaborator",
    "Contact",
    "CustomFieldDefinitionRow",
    "Customer",
    "CustomerCap",
    "CustomerClosure",
    "CustomerImport",
    "CustomerRelationRow",
    "CustomerType",
    "DirectoryUser",
    "ImportFileChunk",
    "ImportMark",
    "ImportProblemRow",
    "Interaction",
    "Licence",
    "LicenceKindRow",
    "OwnerChange",
    "Pool",
    "PoolClaim",
    "ProductLine",
    "RejectedRow",
    "RevisitPlanRow",
    "RevisitTask",
    "SearchTerm",
    "SpecialRequirementKindRow",
    "StageChangeRow",
    "StagedRow",
    "TierChangeRow",
    "TierLabelRow",
    "Transfer",
    "VisitRecord",
]
