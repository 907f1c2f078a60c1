"""The data-scope rule as SQL, one definition for every service's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_

from crmkit.identity import DataScope, Identity


def scope_clause(identity: Identity, *, tenant: Any, org_path: Any, owner: Any) -> ColumnElement[bool]:
    """Rows the caller may see: the same rule as `Identity.can_see`, inside the caller's tenant.

    `org_path` must be a byte-ordered (C-collated) column so the prefix match uses its index.
    """
    in_tenant: ColumnElement[bool] = tenant == identity.tenant_id
    if identity.scope is DataScope.TENANT:
        return in_tenant
    if identity.scope is DataScope.SUBTREE:
        return and_(in_tenant, org_path.startswith(identity.org_path, autoescape=True))
    return and_(in_tenant, owner == identity.principal_id)
