"""Caller identity: the gateway signs it (Ed25519), services verify it and derive the data scope."""

from __future__ import annotations

import contextvars
import datetime as dt
import enum
import time
from dataclasses import dataclass, field
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from crmkit.errors import PermissionDenied, Unauthenticated

METADATA_KEY = "x-crm-identity"
ISSUER = "crm-gateway"
AUDIENCE = "crm-services"
TOKEN_TTL = dt.timedelta(minutes=5)


class Role(enum.StrEnum):
    ADMIN = "admin"
    BOSS = "boss"
    SUPERVISOR = "supervisor"
    SALES = "sales"
    SERVICE = "service"
    FINANCE = "finance"


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
class Identity:
    """Who is calling. `org_path` is the caller's org unit and its ancestors, "/hq/sub/shop/"."""

    principal_id: str
    tenant_id: str
    org_unit_id: str
    org_path: str
    role: Role
    display_name: str = ""
    permissions: frozenset[str] = field(default_factory=frozenset)

    @property
    def scope(self) -> DataScope:
        return ROLE_SCOPE[self.role]

    def can_see(self, *, owner_id: str, org_path: str) -> bool:
        """The one rule for reading a record that has an owner and an org unit."""
        if self.scope is DataScope.TENANT:
            return True
        if self.scope is DataScope.SUBTREE:
            return org_path.startswith(self.org_path)
        return owner_id == self.principal_id

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


class IdentitySigner:
    """Mints identity tokens; only the gateway holds the private key."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key

    @property
    def private_key(self) -> Ed25519PrivateKey:
        return self._key

    @classmethod
    def from_file(cls, path: Path) -> IdentitySigner:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return cls(key)

    def sign(self, identity: Identity, *, now: dt.datetime | None = None) -> str:
        issued = now or dt.datetime.now(dt.UTC)
        claims = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": identity.principal_id,
            "tid": identity.tenant_id,
            "org": identity.org_unit_id,
            "path": identity.org_path,
            "role": identity.role.value,
            "name": identity.display_name,
            "perm": sorted(identity.permissions),
            "iat": int(issued.timestamp()),
            "exp": int((issued + TOKEN_TTL).timestamp()),
        }
        return jwt.encode(claims, self._key, algorithm="EdDSA")


class IdentityVerifier:
    """Checks identity tokens with the public key; cannot mint them.

    The gateway reuses a caller's token for a couple of minutes, so a verified token is kept
    (until its own expiry) and the signature check is not repeated on every call.
    """

    CACHE_SIZE = 10_000

    def __init__(self, public_key: Ed25519PublicKey) -> None:
        self._key = public_key
        self._verified: dict[str, tuple[float, Identity]] = {}

    @classmethod
    def from_file(cls, path: Path) -> IdentityVerifier:
        key = serialization.load_pem_public_key(path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError(f"{path} is not an Ed25519 public key")
        return cls(key)

    def verify(self, token: str) -> Identity:
        cached = self._verified.get(token)
        if cached is not None and cached[0] > time.time():
            return cached[1]
        identity, expires = self._verify_signature(token)
        if len(self._verified) >= self.CACHE_SIZE:
            self._verified.clear()
        self._verified[token] = (expires, identity)
        return identity

    def _verify_signature(self, token: str) -> tuple[Identity, float]:
        try:
            claims = jwt.decode(token, self._key, algorithms=["EdDSA"], audience=AUDIENCE, issuer=ISSUER, leeway=10)
            identity = Identity(
                principal_id=str(claims["sub"]),
                tenant_id=str(claims["tid"]),
                org_unit_id=str(claims["org"]),
                org_path=str(claims["path"]),
                role=Role(claims["role"]),
                display_name=str(claims.get("name", "")),
                permissions=frozenset(str(p) for p in claims.get("perm", [])),
            )
            return identity, float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthenticated(f"invalid identity token: {exc}") from exc


def generate_keypair(private_path: Path, public_path: Path) -> None:
    """Create an Ed25519 key pair for a local stack, unless one is already there."""
    if private_path.exists() and public_path.exists():
        return
    private_path.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    private_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
