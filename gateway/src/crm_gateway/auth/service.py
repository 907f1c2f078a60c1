"""Logins: password checks, short-lived access tokens and rotating refresh tokens."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.models import RefreshToken
from crm_gateway.auth.passwords import PasswordHashing
from crm_gateway.directory.models import OrgUnit, User
from crm_gateway.two_factor.service import MfaEnrolmentRequired, must_enrol
from crmkit.clock import as_utc
from crmkit.errors import Unauthenticated
from crmkit.identity import Identity, IdentityTokens, Role, TokenExpired

ACCESS_AUDIENCE = "crm-web"
PII_ROLES = frozenset({Role.ADMIN, Role.BOSS, Role.SUPERVISOR, Role.SALES})


def permissions_for(role: Role) -> frozenset[str]:
    return frozenset({"pii"}) if role in PII_ROLES else frozenset()


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int


class AccessTokens:
    """Signs and checks the bearer tokens web and mobile clients send (audience crm-web).

    Permissions are not trusted from the token: they follow from the role, so changing the
    policy takes effect without waiting for tokens to expire.
    """

    def __init__(self, key: Ed25519PrivateKey, ttl: dt.timedelta) -> None:
        self.ttl = ttl
        self._tokens = IdentityTokens(
            audience=ACCESS_AUDIENCE,
            ttl=ttl,
            public_key=key.public_key(),
            private_key=key,
            leeway=0,
            label="access token",
        )

    def issue(self, identity: Identity, now: dt.datetime) -> str:
        return self._tokens.sign(identity, now=now)

    def identity_of(self, token: str) -> Identity:
        try:
            identity = self._tokens.verify(token)
        except TokenExpired as exc:
            raise Unauthenticated("access token expired / 登录已过期") from exc
        except Unauthenticated as exc:
            raise Unauthenticated("invalid access token / 访问令牌无效") from exc
        return dataclasses.replace(identity, permissions=permissions_for(identity.role))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


async def identity_for_user(session: AsyncSession, user: User) -> Identity:
    unit = await session.get(OrgUnit, user.org_unit_id)
    if unit is None:
        raise Unauthenticated("user has no org unit / 用户未分配组织")
    return identity_in(unit, principal_id=user.id, role=Role(user.role), display_name=user.display_name)


def identity_in(
    unit: OrgUnit, *, principal_id: str, role: Role, display_name: str, extra: frozenset[str] = frozenset()
) -> Identity:
    """A caller of `role` placed in `unit`, with the role's permissions (and `extra`)."""
    return Identity(
        principal_id=principal_id,
        tenant_id=unit.tenant_id,
        org_unit_id=unit.id,
        org_path=unit.path,
        role=role,
        display_name=display_name,
        permissions=permissions_for(role) | extra,
    )


async def authenticate(
    session: AsyncSession, *, username: str, password: str, passwords: PasswordHashing
) -> tuple[User | None, bool]:
    """The user with this username, if any, and whether the password is theirs and they are
    active; an unknown username costs the same argon2 work as a wrong password."""
    user = await session.scalar(select(User).where(User.username == username))
    matches = await passwords.matches(user.password_hash if user is not None else None, password)
    return user, matches and user is not None and user.active


async def _issue_refresh(
    session: AsyncSession, *, user_id: str, family_id: str, now: dt.datetime, ttl: dt.timedelta
) -> str:
    raw = secrets.token_urlsafe(32)
    session.add(
        RefreshToken(
            id=str(uuid.uuid4()),
            family_id=family_id,
            user_id=user_id,
            token_hash=_digest(raw),
            issued_at=now,
            expires_at=now + ttl,
        )
    )
    return raw


async def start_session(
    session: AsyncSession, *, user: User, tokens: AccessTokens, refresh_ttl: dt.timedelta, now: dt.datetime
) -> TokenPair:
    identity = await identity_for_user(session, user)
    refresh = await _issue_refresh(session, user_id=user.id, family_id=str(uuid.uuid4()), now=now, ttl=refresh_ttl)
    return TokenPair(tokens.issue(identity, now), refresh, int(tokens.ttl.total_seconds()))


async def rotate_refresh_token(
    session: AsyncSession, *, raw: str, tokens: AccessTokens, refresh_ttl: dt.timedelta, now: dt.datetime
) -> TokenPair:
    """Trade a refresh token for a new pair. Presenting a used token revokes its family.

    Returns normally only on success; a reuse is recorded (family revoked) and then reported
    by raising after the caller commits, see `RefreshTokenReused`.
    """
    stored = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(raw)))
    if stored is None or stored.revoked_at is not None:
        raise Unauthenticated("invalid refresh token / 刷新令牌无效")
    if stored.used_at is not None:
        await _revoke_family(session, stored.family_id, now)
        raise RefreshTokenReused(stored.family_id)
    if as_utc(stored.expires_at) <= now:
        raise Unauthenticated("refresh token expired / 刷新令牌已过期")
    user = await session.get(User, stored.user_id)
    if user is None or not user.active:
        raise Unauthenticated("invalid refresh token / 刷新令牌无效")
    if await must_enrol(session, user):
        # The tenant turned the policy on after this login: enrol first, at the next login.
        raise MfaEnrolmentRequired("two-factor login required, log in again to set it up / 需启用两步验证，请重新登录")
    # Claim the token with a conditional update: two requests presenting it at once both read
    # it as unused, but only one can claim it; the other is a replay like any other.
    claimed = await session.execute(
        update(RefreshToken)
        .where(RefreshToken.id == stored.id, RefreshToken.used_at.is_(None), RefreshToken.revoked_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        await _revoke_family(session, stored.family_id, now)
        raise RefreshTokenReused(stored.family_id)
    identity = await identity_for_user(session, user)
    refresh = await _issue_refresh(session, user_id=user.id, family_id=stored.family_id, now=now, ttl=refresh_ttl)
    return TokenPair(tokens.issue(identity, now), refresh, int(tokens.ttl.total_seconds()))


async def _revoke_family(session: AsyncSession, family_id: str, now: dt.datetime) -> None:
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


async def revoke_family_of(session: AsyncSession, *, raw: str, now: dt.datetime) -> None:
    stored = await session.scalar(select(RefreshToken).where(RefreshToken.token_hash == _digest(raw)))
    if stored is not None:
        await _revoke_family(session, stored.family_id, now)


class RefreshTokenReused(Unauthenticated):
    """A refresh token came back after it was rotated: someone else may hold the family."""

    def __init__(self, family_id: str) -> None:
        super().__init__("refresh token reused; all sessions of this login revoked / 刷新令牌被重复使用，已注销")
        self.family_id = family_id
