"""What every feature's RPCs share: the service's sessions, events, clock and fast reads, and the
one transaction each write RPC runs in. Each feature's `servicer.py` holds a mixin of its RPCs on
this base; `crm_customer.servicer.CustomerServicer` composes them into the one gRPC service."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.errors import Aborted, AlreadyExists
from crmkit.relay import OutboxRelay


class CustomerServicerBase:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        events: CustomerEvents,
        relay: OutboxRelay | None,
        read_sessions: SessionFactory | None = None,
        fast_reads: FastCustomerReads | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self._fast_reads = fast_reads
        self._sessions = sessions
        self._reads = read_sessions or sessions
        self._events = events
        self._relay = relay
        self._clock = clock

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[AsyncSession]:
        """One transaction per write RPC; the relay is nudged once the events are committed."""
        try:
            async with self._sessions() as session, session.begin():
                yield session
        except IntegrityError as exc:
            # Two concurrent writes raced past the duplicate check; the unique index caught it.
            raise AlreadyExists("duplicate customer data / 客户信息重复") from exc
        except StaleDataError as exc:
            raise Aborted("customer was changed by someone else / 客户已被他人修改，请刷新后重试") from exc
        if self._relay is not None:
            self._relay.wake()
