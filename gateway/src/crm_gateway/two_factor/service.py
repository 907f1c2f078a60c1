"""Two-factor login (TOTP, RFC 6238) for admins and bosses: enrolment with a QR code, ten
single-use recovery codes, the second step of a login, and the tenant's policy that requires it.
Functions take the session and never commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import uuid
from dataclasses import dataclass

import jwt
import pyotp
import segno
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.directory.models import Tenant, User
from crm_gateway.directory.service import audit, audit_own
from crm_gateway.two_factor.models import MfaEnrolment, RecoveryCode
from crmkit.clock import Clock
from crmkit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, Unauthenticated
from crmkit.identity import ISSUER, Identity, Role
from crmkit.secretbox import SecretBox

MFA_AUDIENCE = "crm-mfa"
MFA_ROLES = frozenset({Role.ADMIN, Role.BOSS})
RESETTERS = (Role.ADMIN,)
RECOVERY_CODE_COUNT = 10
TOTP_CODE = re.compile(r"^\d{6}$")
# 10 characters of base32 (50 bits), shown as "abcde-fghij".
_RECOVERY_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"


class MfaEnrolmentRequired(Unauthenticated):
    """The tenant requires two-factor login for this role and the user has not enrolled."""

    code = "mfa_enrolment_required"


class MfaTokens:
    """The short-lived ticket between a login's password step and its second step (audience
    crm-mfa, naming only the user): it is no access token, so no other route accepts it. Its
    expiry is read on the gateway's clock, like the lock and the TOTP step it goes with."""

    def __init__(self, key: Ed25519PrivateKey, ttl: dt.timedelta, clock: Clock) -> None:
        self.ttl = ttl
        self._private = key
        self._public = key.public_key()
        self._clock = clock

    def issue(self, user_id: str) -> str:
        issued = self._clock()
        claims = {
            "iss": ISSUER,
            "aud": MFA_AUDIENCE,
            "sub": user_id,
            "iat": int(issued.timestamp()),
            "exp": int((issued + self.ttl).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private, algorithm="EdDSA")

    def user_id_of(self, token: str) -> str:
        try:
            claims = jwt.decode(
                token,
                self._public,
                algorithms=["EdDSA"],
                audience=MFA_AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub"], "verify_exp": False, "verify_iat": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthenticated("invalid two-factor token / 二次验证令牌无效") from exc
        if int(claims["exp"]) <= self._clock().timestamp():
            raise Unauthenticated("two-factor step expired, log in again / 二次验证已过期，请重新登录")
        return str(claims["sub"])


@dataclass(frozen=True)
class EnrolmentStart:
    secret: str
    otpauth_uri: str
    qr_code: str  # an SVG data URL


def _associated(user_id: str) -> bytes:
    return f"mfa_enrolments.sealed_secret:{user_id}".encode()


def _recovery_digest(code: str) -> str:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").lower().encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def role_needs_mfa(role: str) -> bool:
    return role in MFA_ROLES


async def enrolment_of(session: AsyncSession, user_id: str) -> MfaEnrolment | None:
    return await session.get(MfaEnrolment, user_id, populate_existing=True)


async def is_enrolled(session: AsyncSession, user_id: str) -> bool:
    enrolment = await enrolment_of(session, user_id)
    return enrolment is not None and enrolment.confirmed_at is not None


async def must_enrol(session: AsyncSession, user: User) -> bool:
    """The tenant requires two-factor login for the user's role and the user has not enrolled."""
    if not role_needs_mfa(user.role):
        return False
    tenant = await session.get(Tenant, user.tenant_id)
    return tenant is not None and tenant.mfa_required and not await is_enrolled(session, user.id)


async def start_enrolment(
    session: AsyncSession, *, user: User, box: SecretBox, issuer: str, address: str, now: dt.datetime
) -> EnrolmentStart:
    """A new secret for the user's authenticator app; it counts only once a code confirms it."""
    existing = await enrolment_of(session, user.id)
    if existing is not None and existing.confirmed_at is not None:
        raise AlreadyExists("two-factor login is already on / 已启用两步验证")
    secret = pyotp.random_base32()
    sealed = box.seal(secret.encode(), _associated(user.id))
    if existing is None:
        session.add(MfaEnrolment(user_id=user.id, sealed_secret=sealed, created_at=now, last_used_step=0))
    else:
        existing.sealed_secret, existing.created_at, existing.last_used_step = sealed, now, 0
    uri = pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=issuer)
    audit_own(session, user, "mfa.enrolment_started", client_address=address, now=now)
    return EnrolmentStart(secret=secret, otpauth_uri=uri, qr_code=segno.make(uri, error="m").svg_data_uri(scale=4))


def _matching_step(box: SecretBox, enrolment: MfaEnrolment, code: str, now: dt.datetime) -> int | None:
    """The time step whose code this is (the current one, or one either side for clock drift)."""
    if not TOTP_CODE.match(code):
        return None
    secret = box.open(enrolment.sealed_secret, _associated(enrolment.user_id)).decode()
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, for_time=now, valid_window=1)
    except pyotp.exceptions.OTPVerificationError:
        return None


async def confirm_enrolment(
    session: AsyncSession, *, user: User, box: SecretBox, code: str, address: str, now: dt.datetime
) -> list[str]:
    """Turn two-factor login on with a code from the app; returns the recovery codes, shown once."""
    enrolment = await enrolment_of(session, user.id)
    if enrolment is None:
        raise FailedPrecondition("start the enrolment first / 请先开始绑定")
    if enrolment.confirmed_at is not None:
        raise AlreadyExists("two-factor login is already on / 已启用两步验证")
    step = _matching_step(box, enrolment, code, now)
    if step is None:
        raise InvalidArgument("code", "wrong code, check the app's clock / 验证码错误")
    enrolment.confirmed_at, enrolment.last_used_step = now, step
    codes = await _replace_recovery_codes(session, user_id=user.id, now=now)
    audit_own(session, user, "mfa.enrolled", client_address=address, now=now)
    return codes


async def _replace_recovery_codes(session: AsyncSession, *, user_id: str, now: dt.datetime) -> list[str]:
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(id=str(uuid.uuid4()), user_id=user_id, code_hash=_recovery_digest(c), created_at=now)
        for c in codes
    )
    return codes


async def passes_second_factor(
    session: AsyncSession, *, user: User, box: SecretBox, code: str, address: str, now: dt.datetime
) -> bool:
    """Whether `code` (a TOTP code not used before, or an unused recovery code) completes the
    user's login. Each is claimed with a conditional UPDATE: two requests with one code cannot
    both pass."""
    enrolment = await enrolment_of(session, user.id)
    if enrolment is None or enrolment.confirmed_at is None:
        return False
    step = _matching_step(box, enrolment, code, now)
    if step is not None:
        claimed = await session.execute(
            update(MfaEnrolment)
            .where(MfaEnrolment.user_id == user.id, MfaEnrolment.last_used_step < step)
            .values(last_used_step=step)
            .execution_options(synchronize_session=False)
        )
        return bool(claimed.rowcount)  # type: ignore[attr-defined]
    used = await session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if not used.rowcount:  # type: ignore[attr-defined]
        return False
    left = await session.scalar(
        select(func.count()).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    audit_own(session, user, "mfa.recovery_code_used", detail=f"{left} left", client_address=address, now=now)
    return True


@dataclass(frozen=True)
class SecurityPolicy:
    mfa_required: bool


async def get_policy(session: AsyncSession, *, identity: Identity) -> SecurityPolicy:
    identity.require_role(Role.ADMIN, Role.BOSS)
    tenant = await session.get(Tenant, identity.tenant_id)
    if tenant is None:
        raise NotFound("tenant", identity.tenant_id)
    return SecurityPolicy(mfa_required=tenant.mfa_required)


async def set_policy(
    session: AsyncSession, *, identity: Identity, mfa_required: bool, address: str, now: dt.datetime
) -> SecurityPolicy:
    identity.require_role(Role.ADMIN)
    tenant = await session.get(Tenant, identity.tenant_id)
    if tenant is None:
        raise NotFound("tenant", identity.tenant_id)
    if tenant.mfa_required != mfa_required:
        tenant.mfa_required = mfa_required
        audit(
            session,
            identity,
            "mfa.policy_changed",
            identity.tenant_id,
            f"mfa_required={mfa_required}",
            now,
            client_address=address,
        )
    return SecurityPolicy(mfa_required=tenant.mfa_required)


async def reset_enrolment(
    session: AsyncSession, *, identity: Identity, user: User, address: str, now: dt.datetime
) -> None:
    """An admin turns a user's two-factor login off (a lost phone and lost recovery codes); the
    user enrols again at the next login if the tenant requires it."""
    identity.require_role(*RESETTERS)
    await session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    await session.execute(delete(MfaEnrolment).where(MfaEnrolment.user_id == user.id))
    audit(session, identity, "mfa.reset", user.id, f"username={user.username}", now, client_address=address)
