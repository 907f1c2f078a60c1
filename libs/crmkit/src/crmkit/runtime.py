"""The life of one service process: migrate, connect, serve gRPC, run relay, consumers and jobs, stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncEngine

from crmkit import bus
from crmkit.clock import Clock, utcnow
from crmkit.db import SessionFactory, create_engine, session_factory, upgrade_database
from crmkit.events import EventTables
from crmkit.identity import IdentityVerifier
from crmkit.jobs import JobRunner
from crmkit.metrics import serve_metrics
from crmkit.pii import Keyring
from crmkit.relay import OutboxRelay
from crmkit.settings import ServiceSettings
from crmkit.telemetry import setup_logging, setup_tracing

log = logging.getLogger(__name__)

BackgroundTask = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


@dataclass
class ServiceRuntime:
    """What a running service holds. Built by `start_runtime`, closed by `close`."""

    name: str
    settings: ServiceSettings
    engine: AsyncEngine
    sessions: SessionFactory
    # Autocommit sessions for read-only RPCs: no BEGIN/ROLLBACK round trips around one SELECT.
    read_sessions: SessionFactory
    nats: NATS
    js: JetStreamContext
    tables: EventTables
    namespace: str
    relay: OutboxRelay
    clock: Clock = utcnow
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    # The personal-data keys of a component the registry marks `personal_data` (crmkit.pii).
    keyring: Keyring | None = None
    # The runner of the service's periodic jobs, when its spec declares any (crmkit.jobs).
    jobs: JobRunner | None = None
    # Extra resources a service opened (e.g. a driver pool); closed before the engine.
    on_close: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def spawn(self, task: BackgroundTask) -> None:
        running = asyncio.create_task(task(self.stop))
        running.add_done_callback(self._report_crash)
        self.tasks.append(running)

    def _report_crash(self, task: asyncio.Task[None]) -> None:
        """A background loop (relay, consumer, jobs) must not die silently: log it and stop the process,
        so the supervisor (Kubernetes, `make run`) restarts it."""
        if task.cancelled() or task.exception() is None or self.stop.is_set():
            return
        log.error("background task of crm-%s crashed; stopping", self.name, exc_info=task.exception())
        self.stop.set()

    async def close(self) -> None:
        self.stop.set()
        if self.tasks:
            await asyncio.gather(*self.tasks, return_exceptions=True)
        # The relay and consumers have finished their last message, so nothing is in flight;
        # drain() would wait out its timeout on the idle pull subscriptions.
        await self.nats.close()
        for close in self.on_close:
            await close()
        await self.engine.dispose()


async def start_runtime(
    *,
    name: str,
    settings: ServiceSettings,
    database_url: str,
    migrations_dir: Path,
    tables: EventTables,
    namespace: str = "",
    migrate: bool = True,
    clock: Clock = utcnow,
) -> ServiceRuntime:
    """`migrations_dir` is the service's folder of revisions; its tables are the metadata the
    event tables were declared in."""
    keyring = load_keyring(settings)
    if migrate:
        await upgrade_database(
            migrations_dir, database_url, tables.outbox.metadata, attributes=migration_attributes(keyring)
        )
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    nc = await bus.connect_service(
        settings.nats_url,
        name,
        namespace=namespace,
        nkey_seed_file=settings.nats_nkey_seed_file,
        creds_file=settings.nats_creds_file,
    )
    js = nc.jetstream()
    await bus.ensure_stream(js, name, namespace=namespace, replicas=settings.stream_replicas)
    relay = OutboxRelay(service=name, sessions=sessions, tables=tables, js=js)
    runtime = ServiceRuntime(
        name=name,
        settings=settings,
        engine=engine,
        sessions=sessions,
        read_sessions=session_factory(engine.execution_options(isolation_level="AUTOCOMMIT")),
        nats=nc,
        js=js,
        tables=tables,
        namespace=namespace,
        relay=relay,
        clock=clock,
        keyring=keyring,
    )
    runtime.spawn(relay.run)
    return runtime


def load_keyring(settings: ServiceSettings) -> Keyring | None:
    """The keyring, for a component that keeps personal data; never created here (see crmkit.pii)."""
    path = settings.personal_data_keys_file
    return None if path is None else Keyring.from_file(path)


def migration_attributes(keyring: Keyring | None) -> dict[str, Any]:
    """What a service's migrations may read from `alembic.context.config.attributes`."""
    return {} if keyring is None else {"keyring": keyring}


def load_verifier(settings: ServiceSettings) -> IdentityVerifier:
    path = settings.identity_public_key_file
    if not path.exists():
        raise SystemExit(
            f"identity public key {path} not found: set CRM_IDENTITY_PUBLIC_KEY_FILE "
            "(make run generates one under .crm/keys)"
        )
    return IdentityVerifier.from_file(path)


def prepare_process(settings: ServiceSettings, name: str) -> None:
    setup_logging(f"crm-{name}", json_logs=settings.log_json, level=settings.log_level)
    setup_tracing(f"crm-{name}")
    serve_metrics(settings.metrics_port, host=settings.grpc_host)
