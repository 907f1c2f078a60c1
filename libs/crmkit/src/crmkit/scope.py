"""The data-scope rule as SQL, one definition for every service's tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import BindParameter, ColumnElement, Select, and_, bindparam, or_, select

from crmkit.identity import DataScope, Identity, Role

LIKE_ESCAPE = "/"
# The name the caller's id is bound under, for statements that also narrow other tables to it.
PRINCIPAL_PARAM = "scope_principal_id"
# The moment shares are judged at (a share past its expiry grants nothing), bound like the rest.
NOW_PARAM = "scope_now"


@dataclass(frozen=True)
class Shares:
    """Records shared with users who do not own them (a customer's collaborators): rows of
    (tenant, record, user, expiry). A caller whose scope is their own records also sees the
    owned records shared with them, until the share expires. `only` narrows the shares that
    count (e.g. those granting write access), `record_id` is the scoped table's id column and
    `owned` says the record has an owner at all (a record in a pool is nobody's to share)."""

    record_id: Any
    tenant: Any
    record: Any
    user: Any
    expires_at: Any
    owned: ColumnElement[bool] | None = None
    only: ColumnElement[bool] | None = None

    def granted(self, tenant: Any, principal: Any, now: Any) -> Select[Any]:
        """Ids of the records shared with `principal` at `now`, inside `tenant`."""
        live = or_(self.expires_at.is_(None), self.expires_at > now)
        narrowed = [self.only] if self.only is not None else []
        return select(self.record).where(self.tenant == tenant, self.user == principal, live, *narrowed)


def scope_clause(
    identity: Identity,
    *,
    tenant: Any,
    org_path: Any,
    owner: Any,
    shares: Shares | None = None,
    now: dt.datetime | None = None,
) -> ColumnElement[bool]:
    """Rows the caller may see: the same rule as `Identity.can_see`, inside the caller's tenant.

    `org_path` must be a byte-ordered (C-collated) column so the prefix match uses its index.
    With `shares`, `now` is the moment their expiry is judged at.
    """
    return _scope_rule(identity.scope, tenant, org_path, owner, scope_values(identity, now=now), shares)


def bound_scope_clause(
    scope: DataScope, *, tenant: Any, org_path: Any, owner: Any, shares: Shares | None = None
) -> ColumnElement[bool]:
    """`scope_clause` for statements built once per kind of scope and reused: the caller's
    tenant, org path and id are bound at execution from `scope_values(identity)`."""
    return _scope_rule(scope, tenant, org_path, owner, None, shares)


def _scope_rule(
    scope: DataScope,
    tenant: Any,
    org_path: Any,
    owner: Any,
    values: dict[str, Any] | None,
    shares: Shares | None,
) -> ColumnElement[bool]:
    """The one rule; with `values`, each parameter carries its value (under a unique name, so a
    statement may apply the rule more than once), without, it is bound at execution."""

    def param(name: str) -> BindParameter[Any]:
        return bindparam(name) if values is None else bindparam(name, values[name], unique=True)

    in_tenant: ColumnElement[bool] = tenant == param("scope_tenant_id")
    if scope is DataScope.TENANT:
        return in_tenant
    if scope is DataScope.SUBTREE:
        return and_(in_tenant, org_path.like(param("scope_org_path_pattern"), escape=LIKE_ESCAPE))
    own: ColumnElement[bool] = owner == param(PRINCIPAL_PARAM)
    if shares is None:
        return and_(in_tenant, own)
    if values is not None and values.get(NOW_PARAM) is None:
        raise ValueError("shared records need the moment their shares are judged at (now)")
    return and_(in_tenant, or_(own, _shared(shares, param)))


def _shared(shares: Shares, param: Callable[[str], BindParameter[Any]]) -> ColumnElement[bool]:
    shared = shares.record_id.in_(shares.granted(param("scope_tenant_id"), param(PRINCIPAL_PARAM), param(NOW_PARAM)))
    return and_(shares.owned, shared) if shares.owned is not None else shared


def shared_clause(
    identity: Identity, *, tenant: Any, owner: Any, shares: Shares, now: dt.datetime
) -> ColumnElement[bool]:
    """Only the records shared with the caller that someone else owns: with the caller's own
    records (`scope_clause` without shares), the rows a sales rep sees. Reading the two apart
    lets each use its own index, where one OR across them would walk the tenant's."""
    values = scope_values(replace(identity, role=Role.SALES), now=now)

    def param(name: str) -> BindParameter[Any]:
        return bindparam(name, values[name], unique=True)

    in_tenant: ColumnElement[bool] = tenant == param("scope_tenant_id")
    return and_(in_tenant, owner != param(PRINCIPAL_PARAM), _shared(shares, param))


def scope_values(identity: Identity, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """The values `bound_scope_clause(identity.scope, ...)` binds; `now` for rules with shares."""
    values: dict[str, Any] = {"scope_tenant_id": identity.tenant_id}
    if identity.scope is DataScope.SUBTREE:
        escaped = "".join(LIKE_ESCAPE + ch if ch in (LIKE_ESCAPE, "%", "_") else ch for ch in identity.org_path)
        values["scope_org_path_pattern"] = escaped + "%"
    elif identity.scope is DataScope.OWN:
        values[PRINCIPAL_PARAM] = identity.principal_id
        if now is not None:
            values[NOW_PARAM] = now
    return values
