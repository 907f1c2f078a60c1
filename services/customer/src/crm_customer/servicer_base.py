"""What every feature's RPCs share: the service's sessions, events, personal-data keys, clock and
fast reads, and the kit's write transactions (`crmkit.writes.Writes`). Each feature's
`servicer.py` holds a mixin of its RPCs on this base; `crm_customer.servicer.CustomerServicer`
composes them into the one gRPC service."""

from __future__ import annotations

from crm_customer.attachments.service import UploadPolicy
from crm_customer.contacts.personal import PersonalData
from crm_customer.customers.events import CustomerEvents
from crm_customer.customers.fast_reads import FastCustomerReads
from crm_customer.models import CREATE_REQUESTS
from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory
from crmkit.relay import OutboxRelay
from crmkit.storage import ObjectStorage
from crmkit.writes import Writes


class CustomerServicerBase:
    def __init__(
        self,
        *,
        sessions: SessionFactory,
        events: CustomerEvents,
        personal: PersonalData,
        relay: OutboxRelay | None,
        read_sessions: SessionFactory | None = None,
        fast_reads: FastCustomerReads | None = None,
        clock: Clock = utcnow,
        storage: ObjectStorage | None = None,
        upload_policy: UploadPolicy | None = None,
    ) -> None:
        self._fast_reads = fast_reads
        # Object storage for attachments (crmkit.storage) and what uploads may be.
        self._storage = storage
        self._upload_policy = upload_policy or UploadPolicy(max_bytes={})
        self._reads = read_sessions or sessions
        self._events = events
        self._personal = personal
        self._clock = clock
        self._writes = Writes(
            sessions=sessions,
            relay=relay,
            noun=("customer", "客户"),
            read_sessions=read_sessions,
            requests=CREATE_REQUESTS,
            clock=clock,
        )

    def _object_storage(self) -> ObjectStorage:
        if self._storage is None:
            raise RuntimeError("this customer servicer was built without object storage")
        return self._storage
