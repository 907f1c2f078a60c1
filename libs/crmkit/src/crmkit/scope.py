"""The data-scope rule as SQL, one definition for every service's tables."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam

from crmkit.identity import DataScope, Identity

LIKE_ESCAPE = "/"
# The name the caller's id is bound under, for statements that also narrow other tables to it.
PRINCIPAL_PARAM = "scope_principal_id"


def scope_clause(identity: Identity, *, tenant: Any, org_path: Any, owner: Any) -> ColumnElement[bool]:
    """Rows the caller may see: the same rule as `Identity.can_see`, inside the caller's tenant.

    `org_path` must be a byte-ordered (C-collated) column so the prefix match uses its index.
    """
    return _scope_rule(identity.scope, tenant, org_path, owner, scope_values(identity))


def bound_scope_clause(scope: DataScope, *, tenant: Any, org_path: Any, owner: Any) -> ColumnElement[bool]:
    """`scope_clause` for statements built once per kind of scope and reused: the caller's
    tenant, org path and id are bound at execution from `scope_values(identity)`."""
    return _scope_rule(scope, tenant, org_path, owner, None)


def _scope_rule(
    scope: DataScope, tenant: Any, org_path: Any, owner: Any, values: dict[str, str] | None
) -> ColumnElement[bool]:
    """The one rule; with `values`, each parameter carries its value (under a unique name, so a
    statement may apply the rule more than once), without, it is bound at execution."""

    def param(name: str) -> BindParameter[str]:
        return bindparam(name) if values is None else bindparam(name, values[name], unique=True)

    in_tenant: ColumnElement[bool] = tenant == param("scope_tenant_id")
    if scope is DataScope.TENANT:
        return in_tenant
    if scope is DataScope.SUBTREE:
        return and_(in_tenant, org_path.like(param("scope_org_path_pattern"), escape=LIKE_ESCAPE))
    return and_(in_tenant, owner == param(PRINCIPAL_PARAM))


def scope_values(identity: Identity) -> dict[str, str]:
    """The values `bound_scope_clause(identity.scope, ...)` binds."""
    values = {"scope_tenant_id": identity.tenant_id}
    if identity.scope is DataScope.SUBTREE:
        escaped = "".join(LIKE_ESCAPE + ch if ch in (LIKE_ESCAPE, "%", "_") else ch for ch in identity.org_path)
        values["scope_org_path_pattern"] = escaped + "%"
    elif identity.scope is DataScope.OWN:
        values[PRINCIPAL_PARAM] = identity.principal_id
    return values
