"""The data-scope rule as SQL, one definition for every service's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam

from crmkit.identity import DataScope, Identity

LIKE_ESCAPE = "/"


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


def bound_scope_clause(scope: DataScope, *, tenant: Any, org_path: Any, owner: Any) -> ColumnElement[bool]:
    """`scope_clause` for statements built once per kind of scope and reused: the caller's
    tenant, org path and id are bound at execution from `scope_values(identity)`."""
    in_tenant: ColumnElement[bool] = tenant == bindparam("scope_tenant_id")
    if scope is DataScope.TENANT:
        return in_tenant
    if scope is DataScope.SUBTREE:
        return and_(in_tenant, org_path.like(bindparam("scope_org_path_pattern"), escape=LIKE_ESCAPE))
    return and_(in_tenant, owner == bindparam("scope_principal_id"))


def scope_values(identity: Identity) -> dict[str, str]:
    """The values `bound_scope_clause(identity.scope, ...)` binds."""
    values = {"scope_tenant_id": identity.tenant_id}
    if identity.scope is DataScope.SUBTREE:
        escaped = "".join(LIKE_ESCAPE + ch if ch in (LIKE_ESCAPE, "%", "_") else ch for ch in identity.org_path)
        values["scope_org_path_pattern"] = escaped + "%"
    elif identity.scope is DataScope.OWN:
        values["scope_principal_id"] = identity.principal_id
    return values
