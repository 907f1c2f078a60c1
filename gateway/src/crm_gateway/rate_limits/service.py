"""Rate limits: token buckets per route group and per user (or client address), shared by the
gateway's replicas through its database.

The shared bucket is a row refilled and drawn in one conditional UPDATE. A replica does not go
to it for every request: it takes a slice (`lease` tokens) at once and spends it locally, so
the hot path is a dictionary lookup and one statement is paid per `lease` requests. Tokens are
only ever taken from the shared row, so all replicas together never admit more than the bucket
allows; the price is that a slice one replica holds unspent is not available to the others
(at most replicas × (lease − 1) requests refused early).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, literal, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from crm_gateway.database import insert_unless_present
from crm_gateway.problems import RetryLater
from crm_gateway.rate_limits.models import RateBucket
from crm_gateway.settings import RateLimit
from crmkit.clock import Clock

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
LOCAL_KEYS_LIMIT = 100_000


class RateLimited(RetryLater):
    code = "rate_limited"


SLOW_DOWN = "too many requests, slow down / 请求过于频繁，请稍后再试"


def route_group(method: str) -> str:
    return "reads" if method in READ_METHODS else "writes"


def _least(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a < b, a), else_=b)


def _greatest(a: Any, b: Any) -> ColumnElement[Any]:
    return case((a > b, a), else_=b)


@dataclass(frozen=True)
class Claim:
    granted: int
    retry_after: float  # seconds until one token is back, when nothing was granted


class SharedBuckets:
    """The buckets in the gateway's database; each claim is one autocommit statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    async def claim(self, key: str, limit: RateLimit, *, want: int, now: float) -> Claim:
        rate = limit.per_minute / 60.0
        capacity = float(limit.burst)
        want = max(1, min(want, limit.burst))
        now_value = literal(now)
        elapsed = _greatest(now_value - RateBucket.refilled_at, 0.0)
        available = _least(literal(capacity), RateBucket.tokens + elapsed * rate)
        grant = case((available >= want, want), else_=1)
        draw = (
            update(RateBucket)
            .where(RateBucket.key == key, available >= 1)
            .values(
                tokens=available - grant,
                # Never backwards: replicas' clocks differ a little.
                refilled_at=_greatest(RateBucket.refilled_at, now_value),
                granted=grant,
            )
            .returning(RateBucket.granted)
        )
        async with self._engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            for _attempt in range(2):
                granted = (await connection.execute(draw)).scalar()
                if granted is not None:
                    return Claim(int(granted), 0.0)
                row = (
                    await connection.execute(
                        select(RateBucket.tokens, RateBucket.refilled_at).where(RateBucket.key == key)
                    )
                ).first()
                if row is not None:
                    tokens = min(capacity, row.tokens + max(0.0, now - row.refilled_at) * rate)
                    return Claim(0, (1.0 - tokens) / rate)
                created = await connection.execute(
                    insert_unless_present(
                        self._dialect,
                        RateBucket,
                        {"key": key, "tokens": capacity - want, "refilled_at": now, "granted": want},
                    )
                )
                if created.rowcount == 1:
                    return Claim(want, 0.0)
                # Another replica created it just now: draw from it.
        raise RuntimeError(f"rate bucket {key} could not be claimed")


class RateLimiter:
    """Admits a request or raises `RateLimited` (429 with Retry-After)."""

    def __init__(
        self, shared: SharedBuckets, *, limits: dict[str, RateLimit], lease: int, clock: Clock, enabled: bool = True
    ) -> None:
        self._shared = shared
        self._limits = limits if enabled else {}
        self._lease = lease
        self._clock = clock
        self._local: dict[str, int] = {}
        # One claim at a time per key: requests that find the slice spent while a claim is out
        # wait for it instead of all going to the row at once (32 concurrent requests of one
        # user had queued on its row lock).
        self._claiming: dict[str, asyncio.Lock] = {}
        # A refused key is refused here until a token is due, without a statement per request.
        self._refused_until: dict[str, dt.datetime] = {}

    def _take_local(self, key: str) -> bool:
        left = self._local.get(key, 0)
        if left > 0:
            self._local[key] = left - 1
            return True
        return False

    def _refuse_if_refused(self, key: str) -> None:
        refused_until = self._refused_until.get(key)
        if refused_until is not None and (now := self._clock()) < refused_until:
            raise RateLimited(SLOW_DOWN, retry_after=(refused_until - now).total_seconds())

    async def admit(self, group: str, subject: str, *, limit: RateLimit | None = None) -> None:
        """Admit one request of `subject` in `group`, by the group's limit or by `limit` (a
        partner's own). Nothing is limited when limits are off."""
        group_limit = self._limits.get(group)
        if group_limit is None:
            return
        limit = limit or group_limit
        key = f"{group}:{subject}"
        if self._take_local(key):
            return
        self._refuse_if_refused(key)
        lock = self._claiming.get(key) or self._claiming.setdefault(key, asyncio.Lock())
        async with lock:
            # The claim this request waited for may have brought a slice, or a refusal.
            if self._take_local(key):
                return
            self._refuse_if_refused(key)
            now = self._clock()
            claim = await self._shared.claim(key, limit, want=self._lease, now=now.timestamp())
            if not claim.granted:
                self._refused_until[key] = now + dt.timedelta(seconds=claim.retry_after)
                raise RateLimited(SLOW_DOWN, retry_after=claim.retry_after)
            if len(self._local) >= LOCAL_KEYS_LIMIT:
                # Unspent slices are dropped: callers lose a few requests, never gain any.
                self._local.clear()
                self._refused_until.clear()
                self._claiming = {key: lock}
            self._refused_until.pop(key, None)
            self._local[key] = self._local.get(key, 0) + claim.granted - 1
