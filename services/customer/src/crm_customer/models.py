"""Every feature's tables, imported together so the service's metadata holds its whole schema
(migrations and the schema-drift test read it from here)."""

from __future__ import annotations

from crm_customer.contacts.models import Contact
from crm_customer.customers.models import CreateRequest, Customer
from crm_customer.database import Base
from crm_customer.search.models import SearchTerm
from crm_customer.tenant_settings.models import CustomerType, CustomFieldDefinitionRow

__all__ = ["Base", "Contact", "CreateRequest", "CustomFieldDefinitionRow", "Customer", "CustomerType", "SearchTerm"]
