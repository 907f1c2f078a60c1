"""Login protection: failures counted per account and per client address, progressive delays,
temporary locks that double, an admin's unlock, every failure and lock audited.

Nothing here depends on whether the username exists: the account key is the typed username, so
a locked-out unknown username is answered exactly like a locked-out real one. Functions take the
session and never commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.database import insert_unless_present
from crm_gateway.directory.models import User
from crm_gateway.directory.service import audit, get_user, record_audit
from crm_gateway.login_protection.models import LoginThrottle
from crm_gateway.problems import RetryLater
from crm_gateway.settings import GatewaySettings
from crmkit.clock import as_utc
from crmkit.identity import Identity, Role

ACCOUNT = "account"
ADDRESS = "address"


class AccountLocked(RetryLater):
    code = "account_locked"


class LoginThrottled(RetryLater):
    """Too soon after the last failure, or the client address is locked."""

    code = "login_throttled"


@dataclass(frozen=True)
class LoginPolicy:
    account_failures: int
    address_failures: int
    window: dt.timedelta
    lock: dt.timedelta
    max_lock: dt.timedelta
    max_delay: dt.timedelta

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> LoginPolicy:
        return cls(
            account_failures=settings.login_account_failures,
            address_failures=settings.login_address_failures,
            window=dt.timedelta(minutes=settings.login_failure_window_minutes),
            lock=dt.timedelta(minutes=settings.login_lock_minutes),
            max_lock=dt.timedelta(minutes=settings.login_lock_max_minutes),
            max_delay=dt.timedelta(seconds=settings.login_delay_max_seconds),
        )

    def delay_after(self, failures: int, threshold: int) -> dt.timedelta:
        """The wait before the next attempt: none for the first half of the allowed failures
        (typos; an office behind one address), then 1, 2, 4 ... s until the lock."""
        free = threshold // 2
        if failures <= free or not self.max_delay:
            return dt.timedelta(0)
        delay = dt.timedelta(seconds=2 ** min(failures - free - 1, 20))
        return min(delay, self.max_delay)

    def lock_for(self, locks: int) -> dt.timedelta:
        lock: dt.timedelta = self.lock * 2 ** min(locks - 1, 20)
        return min(lock, self.max_lock)


def account_key(username: str) -> str:
    return f"{ACCOUNT}:{username.strip().lower()[:64]}"


def address_key(address: str) -> str:
    return f"{ADDRESS}:{address[:64]}"


def _seconds_until(moment: dt.datetime | None, now: dt.datetime) -> float:
    return (as_utc(moment) - now).total_seconds() if moment is not None else 0.0


async def check_login_allowed(session: AsyncSession, *, username: str, address: str, now: dt.datetime) -> None:
    """Refuse an attempt on a locked account or address, or one that comes before its delay is
    over, without checking the password (no argon2 work for it, and no guess is tested)."""
    rows = {
        row.key: row
        for row in await session.scalars(
            select(LoginThrottle).where(LoginThrottle.key.in_([account_key(username), address_key(address)]))
        )
    }
    account, client = rows.get(account_key(username)), rows.get(address_key(address))
    if account is not None and (wait := _seconds_until(account.locked_until, now)) > 0:
        raise AccountLocked("account temporarily locked / 账户已临时锁定，请稍后再试", retry_after=wait)
    if client is not None and (wait := _seconds_until(client.locked_until, now)) > 0:
        raise LoginThrottled(
            "too many failed logins from this address / 该地址登录失败过多，请稍后再试", retry_after=wait
        )
    waits = [_seconds_until(row.next_attempt_at, now) for row in (account, client) if row is not None]
    if waits and (wait := max(waits)) > 0:
        raise LoginThrottled("too many attempts, wait a moment / 尝试过于频繁，请稍候再试", retry_after=wait)


async def _count_failure(
    session: AsyncSession, *, key: str, threshold: int, policy: LoginPolicy, now: dt.datetime
) -> dt.timedelta | None:
    """Count one failure on `key`; the length of the lock it set, if it set one."""
    dialect = session.get_bind().dialect.name
    await session.execute(
        insert_unless_present(
            dialect,
            LoginThrottle,
            {"key": key, "failures": 0, "window_started_at": now, "last_failure_at": now, "locks": 0},
        )
    )
    # On PostgreSQL the row lock makes concurrent failures count one after another; on SQLite the
    # INSERT above already holds the database's write lock until commit.
    row = await session.scalar(
        select(LoginThrottle)
        .where(LoginThrottle.key == key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    assert row is not None
    if as_utc(row.window_started_at) + policy.window <= now:
        row.failures, row.window_started_at = 0, now
    if row.locks and as_utc(row.last_failure_at) + policy.max_lock <= now:
        row.locks = 0  # a quiet day forgives earlier locks
    row.failures += 1
    row.last_failure_at = now
    if row.failures >= threshold:
        row.locks += 1
        lock = policy.lock_for(row.locks)
        row.locked_until, row.next_attempt_at = now + lock, None
        row.failures, row.window_started_at = 0, now
        return lock
    delay = policy.delay_after(row.failures, threshold)
    row.next_attempt_at = now + delay if delay else None
    return None


async def record_login_failure(
    session: AsyncSession,
    *,
    policy: LoginPolicy,
    username: str,
    address: str,
    user: User | None,
    reason: str,
    now: dt.datetime,
) -> None:
    """Count a failed attempt (wrong password, unknown user, wrong second factor) against the
    account and the client address, lock either at its threshold, and audit what happened."""
    tenant_id, user_id = (user.tenant_id, user.id) if user is not None else ("", "")
    record_audit(
        session,
        tenant_id=tenant_id,
        actor_id=user_id,
        action="login.failed",
        target_id=user_id,
        detail=f"username={username[:64]} reason={reason}",
        client_address=address,
        now=now,
    )
    for kind, key, threshold in (
        (ACCOUNT, account_key(username), policy.account_failures),
        (ADDRESS, address_key(address), policy.address_failures),
    ):
        lock = await _count_failure(session, key=key, threshold=threshold, policy=policy, now=now)
        if lock is not None:
            record_audit(
                session,
                tenant_id=tenant_id,
                actor_id=user_id,
                action=f"login.{kind}_locked",
                target_id=user_id,
                detail=f"{key} locked for {int(lock.total_seconds())} s",
                client_address=address,
                now=now,
            )


async def forget_account_failures(session: AsyncSession, *, username: str) -> None:
    """A completed login clears its account's count. The address keeps its own: one good login
    from an address must not buy more guesses at other accounts."""
    await session.execute(delete(LoginThrottle).where(LoginThrottle.key == account_key(username)))


async def unlock_user(
    session: AsyncSession, *, identity: Identity, user_id: str, address: str, now: dt.datetime
) -> User:
    """An admin of the user's tenant lifts the account's lock and clears its failures."""
    identity.require_role(Role.ADMIN)
    user, _unit = await get_user(session, identity=identity, user_id=user_id)
    await forget_account_failures(session, username=user.username)
    audit(session, identity, "login.unlocked", user.id, f"username={user.username}", now, client_address=address)
    return user
