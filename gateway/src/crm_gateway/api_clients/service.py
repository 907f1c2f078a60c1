"""API clients: create (the key is shown once), list, grant scopes, rotate, revoke; a key's
caller and rate limit; and the client-credentials token a partner calls the services' gRPC with.

A partner system sends its key as a bearer token (`Authorization: Bearer ky_…`). It acts as a user
of the client's role in the client's org unit (same data scope, same role views), and is admitted
by its own token bucket (`rate_burst`/`rate_per_minute`, else the "partners" group's), keyed by the
client, so one partner's flood never spends a user's or another partner's budget.

The same id and key buy a short-lived identity token (OAuth 2 client credentials,
`/api/v1/oauth/token`) for the services themselves: it carries the scopes an admin granted the
client, and each service's call guard checks them per method (crmkit.partners).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.api_clients.models import ApiClient
from crm_gateway.auth.service import identity_in
from crm_gateway.directory.models import OrgUnit
from crm_gateway.directory.service import audit
from crm_gateway.settings import RateLimit
from crmkit.db import SessionFactory
from crmkit.errors import InvalidArgument, NotFound, Unauthenticated
from crmkit.identity import PARTNER_PERMISSION, Identity, Role
from crmkit.partners import PartnerScope, token_permissions

KEY_PREFIX = "ky_"
PARTNER_GROUP = "partners"
# A partner owns no customers, so a sales rep's scope (their own customers) would show it nothing.
PARTNER_ROLES = (Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SERVICE, Role.FINANCE)
# How long a replica trusts what it read of a key: a revoke reaches other replicas within this.
KEY_CACHE_SECONDS = 30.0
KEY_CACHE_LIMIT = 10_000
# A client-credentials token lives longer than a forwarded call's (5 min): a partner reuses it for a
# batch of calls; a revoke stops new tokens at once and the last one within this.
PARTNER_TOKEN_TTL = dt.timedelta(minutes=15)


def is_partner(identity: Identity) -> bool:
    return PARTNER_PERMISSION in identity.permissions


def is_api_key(token: str) -> bool:
    return token.startswith(KEY_PREFIX)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def scopes_of(client: ApiClient) -> frozenset[PartnerScope]:
    return frozenset(PartnerScope(scope) for scope in client.scopes.split())


def scope_text(scopes: frozenset[PartnerScope]) -> str:
    return " ".join(sorted(scopes))


@dataclass(frozen=True)
class ClientCaller:
    identity: Identity
    limit: RateLimit | None


async def create_client(
    session: AsyncSession,
    *,
    identity: Identity,
    name: str,
    role: Role,
    org_unit_id: str | None,
    limit: RateLimit | None,
    now: dt.datetime,
    address: str,
    scopes: frozenset[PartnerScope] = frozenset(),
) -> tuple[ApiClient, str]:
    """A new client and its key (returned once: only its digest is kept)."""
    identity.require_role(Role.ADMIN)
    if role not in PARTNER_ROLES:
        raise InvalidArgument("role", "a partner system cannot be a sales rep / 接口客户端不能是销售角色")
    unit = await session.scalar(
        select(OrgUnit).where(
            OrgUnit.id == (org_unit_id or identity.org_unit_id), OrgUnit.tenant_id == identity.tenant_id
        )
    )
    if unit is None:
        raise InvalidArgument("org_unit_id", "unknown org unit / 组织不存在")
    key = new_key()
    client = ApiClient(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        name=name,
        role=role.value,
        org_unit_id=unit.id,
        key_digest=_digest(key),
        key_hint=key[: len(KEY_PREFIX) + 6],
        rate_burst=limit.burst if limit else None,
        rate_per_minute=limit.per_minute if limit else None,
        scopes=scope_text(scopes),
        active=True,
        created_by=identity.principal_id,
        created_at=now,
    )
    session.add(client)
    audit(session, identity, "api_client.create", client.id, f"{name} ({role.value})", now, client_address=address)
    return client, key


async def list_clients(session: AsyncSession, *, identity: Identity) -> list[ApiClient]:
    identity.require_role(Role.ADMIN)
    rows = await session.scalars(
        select(ApiClient).where(ApiClient.tenant_id == identity.tenant_id).order_by(ApiClient.created_at, ApiClient.id)
    )
    return list(rows.all())


async def _own_client(session: AsyncSession, identity: Identity, client_id: str) -> ApiClient:
    identity.require_role(Role.ADMIN)
    client = await session.scalar(
        select(ApiClient).where(ApiClient.id == client_id, ApiClient.tenant_id == identity.tenant_id)
    )
    if client is None:
        raise NotFound("api client", client_id)
    return client


async def grant_scopes(
    session: AsyncSession,
    *,
    identity: Identity,
    client_id: str,
    scopes: frozenset[PartnerScope],
    now: dt.datetime,
    address: str,
) -> ApiClient:
    """Replace what the client's tokens may call; tokens already issued keep theirs until they expire."""
    client = await _own_client(session, identity, client_id)
    client.scopes = scope_text(scopes)
    audit(session, identity, "api_client.scopes", client.id, client.scopes or "-", now, client_address=address)
    return client


async def rotate_key(
    session: AsyncSession, *, identity: Identity, client_id: str, now: dt.datetime, address: str
) -> tuple[ApiClient, str]:
    """A new key (shown once); the old one stops working (on other replicas within the key cache)."""
    client = await _own_client(session, identity, client_id)
    if not client.active:
        raise InvalidArgument("client_id", "a revoked client cannot get a new key / 已吊销的客户端不能更换密钥")
    key = new_key()
    client.key_digest = _digest(key)
    client.key_hint = key[: len(KEY_PREFIX) + 6]
    audit(session, identity, "api_client.rotate", client.id, client.name, now, client_address=address)
    return client, key


async def issue_token(
    session: AsyncSession,
    *,
    client_id: str,
    secret: str,
    requested: frozenset[PartnerScope] | None,
    now: dt.datetime,
    address: str,
) -> tuple[Identity, frozenset[PartnerScope]]:
    """The identity a partner's token carries, with the scopes it asked for (all it was granted if
    it asked for none). A wrong id or key, or a revoked client, is one and the same refusal."""
    row = (
        await session.execute(
            select(ApiClient, OrgUnit)
            .join(OrgUnit, OrgUnit.id == ApiClient.org_unit_id)
            .where(ApiClient.id == client_id, ApiClient.active.is_(True))
        )
    ).first()
    if row is None or not hmac.compare_digest(row[0].key_digest, _digest(secret)):
        raise Unauthenticated("invalid client / 客户端身份无效")
    client, unit = row
    granted = scopes_of(client)
    scopes = granted if requested is None else requested
    if not scopes or not scopes <= granted:
        raise InvalidArgument("scope", f"scopes granted to this client: {scope_text(granted) or '-'} / 超出授权范围")
    client.last_used_at = now
    identity = identity_in(
        unit,
        principal_id=client.id,
        role=Role(client.role),
        display_name=client.name,
        extra=token_permissions(scopes),
    )
    audit(session, identity, "api_client.token", client.id, scope_text(scopes), now, client_address=address)
    return identity, scopes


async def revoke_client(
    session: AsyncSession, *, identity: Identity, client_id: str, now: dt.datetime, address: str
) -> ApiClient:
    client = await _own_client(session, identity, client_id)
    if client.active:
        client.active = False
        client.revoked_at = now
        audit(session, identity, "api_client.revoke", client.id, client.name, now, client_address=address)
    return client


class ApiClientKeys:
    """Who a key is, read from the gateway's database and kept for `KEY_CACHE_SECONDS`."""

    def __init__(self, sessions: SessionFactory) -> None:
        self._sessions = sessions
        self._known: dict[str, tuple[float, ClientCaller | None]] = {}

    async def caller_of(self, key: str) -> ClientCaller:
        digest = _digest(key)
        cached = self._known.get(digest)
        if cached is None or cached[0] < time.monotonic():
            cached = (time.monotonic() + KEY_CACHE_SECONDS, await self._load(digest))
            if len(self._known) >= KEY_CACHE_LIMIT:
                self._known.clear()
            self._known[digest] = cached
        found = cached[1]
        if found is None:
            raise Unauthenticated("invalid API key / 接口密钥无效")
        return found

    def forget(self, client_id: str) -> None:
        """Drop a revoked client at once on this replica (the others within the cache time)."""
        self._known = {
            digest: entry
            for digest, entry in self._known.items()
            if entry[1] is None or entry[1].identity.principal_id != client_id
        }

    async def _load(self, digest: str) -> ClientCaller | None:
        async with self._sessions() as session:
            row = (
                await session.execute(
                    select(ApiClient, OrgUnit)
                    .join(OrgUnit, OrgUnit.id == ApiClient.org_unit_id)
                    .where(ApiClient.key_digest == digest, ApiClient.active.is_(True))
                )
            ).first()
        if row is None:
            return None
        client, unit = row
        identity = identity_in(
            unit,
            principal_id=client.id,
            role=Role(client.role),
            display_name=client.name,
            extra=frozenset({PARTNER_PERMISSION}),
        )
        limit = None
        if client.rate_burst is not None and client.rate_per_minute is not None:
            limit = RateLimit(burst=client.rate_burst, per_minute=client.rate_per_minute)
        return ClientCaller(identity, limit)
