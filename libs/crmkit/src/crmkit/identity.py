"""Caller identity: the gateway signs it (Ed25519), services verify it and derive the data scope."""

from __future__ import annotations

import contextvars
import datetime as dt
import enum
import logging
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crmkit.errors import PermissionDenied, Unauthenticated

METADATA_KEY = "x-crm-identity"
ISSUER = "crm-gateway"
AUDIENCE = "crm-services"
TOKEN_TTL = dt.timedelta(minutes=5)

log = logging.getLogger(__name__)


class Role(enum.StrEnum):
    ADMIN = "admin"
    BOSS = "boss"
    SUPERVISOR = "supervisor"
    SALES = "sales"
    SERVICE = "service"
    FINANCE = "finance"


# In a partner system's identity (an API client): it is no user, so it owns no customers.
PARTNER_PERMISSION = "api-client"


class DataScope(enum.StrEnum):
    OWN = "own"
    SUBTREE = "subtree"
    TENANT = "tenant"


ROLE_SCOPE: dict[Role, DataScope] = {
    Role.ADMIN: DataScope.TENANT,
    Role.BOSS: DataScope.TENANT,
    Role.SUPERVISOR: DataScope.SUBTREE,
    Role.SALES: DataScope.OWN,
    Role.SERVICE: DataScope.SUBTREE,
    Role.FINANCE: DataScope.SUBTREE,
}


@dataclass(frozen=True)
class Placement:
    """Where a record is to be placed (its owner, the owner's org unit and that unit's path), as
    the directory vouched for it: the owner is an active user of the tenant, in that unit, whose
    role may own such records. The gateway, which keeps the directory, signs it into the identity
    of the one call that assigns the owner; a service takes no other owner than its caller's."""

    owner_id: str
    org_unit_id: str
    org_path: str


@dataclass(frozen=True)
class Identity:
    """Who is calling. `org_path` is the caller's org unit and its ancestors, "/hq/sub/shop/"."""

    principal_id: str
    tenant_id: str
    org_unit_id: str
    org_path: str
    role: Role
    display_name: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)
    placement: Placement | None = None

    @property
    def scope(self) -> DataScope:
        return ROLE_SCOPE[self.role]

    def can_see(self, *, owner_id: str, org_path: str, shared: bool = False) -> bool:
        """The one rule for reading a record that has an owner and an org unit; `shared`: the
        record is shared with the caller (they collaborate on it), which counts for own scope."""
        if self.scope is DataScope.TENANT:
            return True
        if self.scope is DataScope.SUBTREE:
            return org_path.startswith(self.org_path)
        return owner_id == self.principal_id or (shared and bool(owner_id))

    def require_role(self, *roles: Role) -> None:
        if self.role not in roles:
            raise PermissionDenied(f"role {self.role} may not do this / 当前角色无此权限")


def org_path_of(ancestor_ids: list[str]) -> str:
    """The materialised path of an org unit from the root down to itself."""
    return "/" + "".join(f"{unit_id}/" for unit_id in ancestor_ids)


_current: contextvars.ContextVar[Identity | None] = contextvars.ContextVar("crm_identity", default=None)


def current_identity() -> Identity:
    identity = _current.get()
    if identity is None:
        raise Unauthenticated("no caller identity / 未认证")
    return identity


def set_current_identity(identity: Identity | None) -> contextvars.Token[Identity | None]:
    return _current.set(identity)


def reset_current_identity(token: contextvars.Token[Identity | None]) -> None:
    _current.reset(token)


def claims_of(identity: Identity) -> dict[str, object]:
    claims: dict[str, object] = {
        "sub": identity.principal_id,
        "tid": identity.tenant_id,
        "org": identity.org_unit_id,
        "path": identity.org_path,
        "role": identity.role.value,
        "name": identity.display_name,
        "perm": sorted(identity.permissions),
    }
    if identity.placement is not None:
        placement = identity.placement
        claims["plc"] = [placement.owner_id, placement.org_unit_id, placement.org_path]
    return claims


def identity_from(claims: dict[str, Any]) -> Identity:
    return Identity(
        principal_id=str(claims["sub"]),
        tenant_id=str(claims["tid"]),
        org_unit_id=str(claims["org"]),
        org_path=str(claims["path"]),
        role=Role(claims["role"]),
        display_name=str(claims.get("name", "")),
        permissions=frozenset(str(p) for p in claims.get("perm", [])),
        placement=_placement_of(claims.get("plc")),
    )


def _placement_of(claim: object) -> Placement | None:
    if claim is None:
        return None
    if not isinstance(claim, list) or len(claim) != 3 or not all(isinstance(part, str) for part in claim):
        raise ValueError("malformed placement claim")
    return Placement(*claim)


class IdentityTokens:
    """Ed25519 JWTs carrying an Identity for one audience.

    Verified tokens are kept until their own expiry: callers resend the same token for minutes,
    and the signature check is the most expensive part of an authenticated call.
    """

    CACHE_SIZE = 10_000

    def __init__(
        self,
        *,
        audience: str,
        ttl: dt.timedelta,
        public_key: Ed25519PublicKey,
        private_key: Ed25519PrivateKey | None = None,
        leeway: int = 10,
        label: str = "identity token",
    ) -> None:
        self.audience = audience
        self.ttl = ttl
        self._public = public_key
        self._private = private_key
        self._leeway = leeway
        self._label = label
        self._verified: dict[str, tuple[float, Identity]] = {}

    def sign(self, identity: Identity, *, now: dt.datetime | None = None, ttl: dt.timedelta | None = None) -> str:
        if self._private is None:
            raise RuntimeError("this process holds no private key and cannot mint tokens")
        issued = now or dt.datetime.now(dt.UTC)
        claims = {
            "iss": ISSUER,
            "aud": self.audience,
            **claims_of(identity),
            "iat": int(issued.timestamp()),
            "exp": int((issued + (ttl or self.ttl)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private, algorithm="EdDSA")

    def verify(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=self.audience,
                issuer=ISSUER,
                leeway=self._leeway,
                options={"require": ["exp", "sub"]},
            )
            identity, expires = identity_from(claims), float(claims["exp"])
        except jwt.ExpiredSignatureError as exc:
            raise TokenExpired(f"{self._label} expired / 令牌已过期") from exc
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            # The reason is for our logs; a caller probing tokens learns only that this one failed.
            log.info("refused %s: %s", self._label, exc)
            raise Unauthenticated(f"invalid {self._label} / 令牌无效") from exc
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (expires, identity)
        return identity


class TokenExpired(Unauthenticated):
    pass


class IdentitySigner:
    """Mints identity tokens for services; only the gateway holds the private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self._tokens = IdentityTokens(
            audience=AUDIENCE, ttl=TOKEN_TTL, public_key=private_key.public_key(), private_key=private_key
        )

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return self._key

    @classmethod
    def from_file(cls, path: Path) -> IdentitySigner:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)

    def sign(self, identity: Identity, *, now: dt.datetime | None = None, ttl: dt.timedelta | None = None) -> str:
        """A token for the services; `ttl` longer than the default only for a partner's
        client-credentials token, which the partner reuses across many calls."""
        return self._tokens.sign(identity, now=now, ttl=ttl)


class IdentityVerifier:
    """Checks identity tokens with the public key; cannot mint them."""

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._tokens = IdentityTokens(audience=AUDIENCE, ttl=TOKEN_TTL, public_key=public_key)

    @classmethod
    def from_file(cls, path: Path) -> IdentityVerifier:
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} is not an Ed25519 public key")
        return cls(key)

    def verify(self, token: str) -> Identity:
        return self._tokens.verify(token)


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """Create an Ed25519 key pair for a local stack, unless one is already there."""
    if private_path.exists() and public_path.exists():
        return
    private_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # Created 0600 in one step: never readable by others, not even between write and chmod.
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(private_pem)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
