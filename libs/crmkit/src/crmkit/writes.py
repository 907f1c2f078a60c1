"""The write unit of work every servicer uses: one transaction per write RPC, database
conflicts mapped to domain errors, the relay nudged once the events are committed, and
creates made idempotent by request id."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.errors import Aborted, AlreadyExists, Unavailable
from crmkit.idempotency import earlier_resource, remember_request
from crmkit.identity import Identity
from crmkit.relay import OutboxRelay

T = TypeVar("T")


class Writes:
    """Transactions of one service's writes. `noun` names its records in refusals
    ("customer / 客户")."""

    def __init__(
        self,
        *,
        sessions: SessionFactory,
        relay: OutboxRelay | None,
        noun: tuple[str, str] = ("record", "记录"),
        read_sessions: SessionFactory | None = None,
        requests: Table | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._sessions = sessions
        self._reads = read_sessions or sessions
        self._relay = relay
        self._noun_en, self._noun_zh = noun
        self._requests = requests
        self._clock = clock

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One transaction; its events reach the broker as soon as it commits."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except IntegrityError as exc:
            # Two concurrent writes raced past the duplicate check; a unique index caught it.
            raise AlreadyExists(f"duplicate {self._noun_en} data / {self._noun_zh}信息重复") from exc
        except OperationalError as exc:
            if "database is locked" not in str(exc):
                raise
            # SQLite's one writer stayed busy past SQLITE_BUSY_SECONDS: nothing was written.
            raise Unavailable("busy, try again shortly / 系统繁忙，请稍后重试") from exc
        except StaleDataError as exc:
            raise Aborted(
                f"{self._noun_en} was changed by someone else / {self._noun_zh}已被他人修改，请刷新后重试"
            ) from exc
        if self._relay is not None:
            self._relay.wake()

    async def create_once(
        self,
        *,
        identity: Identity,
        request_id: str,
        create: Callable[[AsyncSession], Awaitable[tuple[str, T]]],
        replay: Callable[[AsyncSession, str], Awaitable[T]],
    ) -> T:
        """Run `create` (returning the new record's id and the answer) once per tenant, caller
        and request id; a repeated request gets `replay(id of the first record)`."""
        if not request_id:
            async with self.transaction() as session:
                _, answer = await create(session)
            return answer
        if self._requests is None:
            raise RuntimeError("create_once with a request id needs the service's request table")
        table = self._requests
        try:
            async with self.transaction() as session:
                earlier = await earlier_resource(session, table, identity, request_id)
                if earlier is not None:
                    answer = await replay(session, earlier)
                else:
                    resource_id, answer = await create(session)
                    await remember_request(session, table, identity, request_id, resource_id, self._clock())
            return answer
        except AlreadyExists as refusal:
            # A retry that overlapped the first attempt loses the race on the unique indexes once
            # the first commits; the client asked for one record, so answer with that one.
            if not isinstance(refusal.__cause__, IntegrityError):
                raise
            async with self._reads() as session:
                earlier = await earlier_resource(session, table, identity, request_id)
                if earlier is None:
                    raise
                return await replay(session, earlier)
