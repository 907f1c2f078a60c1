"""What every feature's RPCs share: sessions, events, clock and the kit's write transactions.
Each feature's `servicer.py` holds a mixin of its RPCs on this base; `crm_order.servicer`
composes them into the one gRPC service."""

from __future__ import annotations

from crm_order.models import CREATE_REQUESTS
from crm_order.orders.events import OrderEvents
from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.events import EventTables
from crmkit.relay import OutboxRelay
from crmkit.storage import ObjectStorage
from crmkit.writes import Writes


class OrderServicerBase:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        tables: EventTables,
        relay: OutboxRelay | None,
        namespace: str = "",
        read_sessions: SessionFactory | None = None,
        clock: Clock = utcnow,
        storage: ObjectStorage | None = None,
        photo_max_bytes: int = 10 * 1024 * 1024,
    ) -> None:
        # Object storage for delivery photos (crmkit.storage) and their size limit.
        self._storage = storage
        self._photo_max_bytes = photo_max_bytes
        self._reads = read_sessions or sessions
        self._tables = tables
        self._namespace = namespace
        self._events = OrderEvents(tables=tables, namespace=namespace)
        self._clock = clock
        self._writes = Writes(
            sessions=sessions,
            relay=relay,
            noun=("order", "订单"),
            read_sessions=read_sessions,
            requests=CREATE_REQUESTS,
            clock=clock,
        )

    def _object_storage(self) -> ObjectStorage:
        if self._storage is None:
            raise RuntimeError("this order servicer was built without object storage")
        return self._storage
