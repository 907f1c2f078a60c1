"""Partner systems on the services' gRPC: the scopes a client may hold, the scope each method
needs (declared in its contract, `crm.partner.v1.partner_scope`), a token bucket per client and
the audit line of every partner call.

A partner's token is an API client's identity (`PARTNER_PERMISSION`) minted by the gateway's
client-credentials endpoint, marked `PARTNER_TOKEN` and carrying the scopes an admin granted the
client as `scope:<name>` permissions. Only such tokens are scope-checked: a user's call, or a
partner's REST call the gateway forwards, is governed by its role and data scope there.
"""

from __future__ import annotations

import enum
import logging
import time
from dataclasses import dataclass
from functools import cache

from google.protobuf import descriptor_pool

from crm.partner.v1 import access_pb2
from crmkit.errors import PermissionDenied, ResourceExhausted
from crmkit.identity import PARTNER_PERMISSION, Identity

SCOPE_PREFIX = "scope:"
PARTNER_TOKEN = "partner-token"

audit_log = logging.getLogger("crm.audit.partner")


class PartnerScope(enum.StrEnum):
    CUSTOMERS_READ = "customers:read"
    CUSTOMERS_WRITE = "customers:write"
    CATALOGUE_WRITE = "catalogue:write"
    ORDERS_READ = "orders:read"
    ORDERS_WRITE = "orders:write"
    DELIVERIES_WRITE = "deliveries:write"


def token_permissions(scopes: frozenset[PartnerScope]) -> frozenset[str]:
    """The permissions of a partner's client-credentials token."""
    return frozenset({PARTNER_PERMISSION, PARTNER_TOKEN, *(SCOPE_PREFIX + scope.value for scope in scopes)})


def is_partner_token(identity: Identity) -> bool:
    return PARTNER_TOKEN in identity.permissions


def has_scope(identity: Identity, scope: str) -> bool:
    return SCOPE_PREFIX + scope in identity.permissions


@cache
def admitting_scopes(method: str) -> tuple[str, ...]:
    """The scopes any one of which admits a partner to `/package.Service/Method`, from the
    method's contract; none: the method is closed to partners. The service's generated module is
    imported by then (its servicer is registered), so its descriptor is in the default pool."""
    try:
        descriptor = descriptor_pool.Default().FindMethodByName(method.lstrip("/").replace("/", "."))
    except KeyError:
        return ()
    return tuple(descriptor.GetOptions().Extensions[access_pb2.partner_scope])


def require_scope(identity: Identity, *scopes: PartnerScope) -> None:
    """Inside a method several scopes admit: this action needs one of `scopes` when the caller is a
    partner's token (users and forwarded REST calls are governed by their role)."""
    if is_partner_token(identity) and not any(has_scope(identity, scope) for scope in scopes):
        needed = " / ".join(scopes)
        raise PermissionDenied(f"the client's token lacks the scope {needed} / 接口客户端缺少权限范围 {needed}")


@dataclass
class _Bucket:
    tokens: float
    refilled_at: float


class PartnerCalls:
    """Admits partner calls: the method must be open to partners, the token must carry its scope,
    and the client's bucket (per replica) must hold a token."""

    CLIENTS_KEPT = 10_000

    def __init__(self, *, burst: int, per_minute: float) -> None:
        self._burst = burst
        self._per_second = per_minute / 60.0
        self._buckets: dict[str, _Bucket] = {}

    def admit(self, identity: Identity, method: str) -> None:
        scopes = admitting_scopes(method)
        if not scopes:
            raise PermissionDenied("this method is not open to partner systems / 此接口不对接口客户端开放")
        if not any(has_scope(identity, scope) for scope in scopes):
            needed = " / ".join(scopes)
            raise PermissionDenied(f"the client's token lacks the scope {needed} / 接口客户端缺少权限范围 {needed}")
        self._take(identity.principal_id)

    def _take(self, client_id: str) -> None:
        now = time.monotonic()
        bucket = self._buckets.get(client_id)
        if bucket is None:
            if len(self._buckets) >= self.CLIENTS_KEPT:
                self._buckets.clear()
            bucket = self._buckets[client_id] = _Bucket(float(self._burst), now)
        bucket.tokens = min(float(self._burst), bucket.tokens + (now - bucket.refilled_at) * self._per_second)
        bucket.refilled_at = now
        if bucket.tokens < 1.0:
            raise ResourceExhausted("too many calls from this partner system / 接口调用过于频繁，请稍后再试")
        bucket.tokens -= 1.0


def audit_partner_call(service: str, identity: Identity, method: str, code: str, seconds: float) -> None:
    """One structured line per partner call: which client, of which tenant, called what, and how
    it ended. Partner calls bypass the gateway, so this is their audit trail."""
    audit_log.info(
        "partner call %s %s",
        method,
        code,
        extra={
            "audit": {
                "kind": "partner_call",
                "service": service,
                "client_id": identity.principal_id,
                "client_name": identity.display_name,
                "tenant_id": identity.tenant_id,
                "method": method,
                "code": code,
                "duration_ms": round(seconds * 1000, 1),
            }
        },
    )
