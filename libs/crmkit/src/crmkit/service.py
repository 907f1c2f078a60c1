"""A service is a spec (what it serves, consumes and runs on a schedule); the kit runs it.

A service's `__main__.py` is `main(SPEC)`. The kit does what every service does: settings from
the registry and the environment, migrations, the database, the outbox relay, the consumers of
its subscriptions, its periodic jobs, the gRPC server with the call guard, health (its own
database and broker) and reflection, metrics, telemetry, and a graceful stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import importlib.util
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import uvloop
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import Message
from sqlalchemy import MetaData, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncSession

from crm.events.v1.envelope_pb2 import Envelope
from crmkit.clock import Clock, MovableClock, utcnow
from crmkit.clock_control import ClockControlServicer
from crmkit.components import component
from crmkit.consumer import EventConsumer, EventHandler, PermanentEventError
from crmkit.db import new_revision, upgrade_database
from crmkit.events import EventTables, event_tables, event_type_of, producer_of, stream_name, subject_for
from crmkit.grpc_server import GrpcServer
from crmkit.heap import freeze_startup_heap
from crmkit.identity import IdentityVerifier
from crmkit.jobs import JobRunner, PeriodicJob, job_lease_table
from crmkit.partners import PartnerCalls
from crmkit.runtime import (
    BackgroundTask,
    ServiceRuntime,
    load_keyring,
    load_verifier,
    migration_attributes,
    prepare_process,
    start_runtime,
)
from crmkit.settings import ServiceSettings
from crmkit.telemetry import setup_logging

log = logging.getLogger(__name__)

# An operator command: the service's settings and the command's arguments.
ServiceCommand = Callable[[ServiceSettings, Sequence[str]], Coroutine[Any, Any, None]]

# A handler of one event type: the session of the inbox transaction, the unpacked payload and
# the envelope (tenant, aggregate, business time).
TypedHandler = Callable[[AsyncSession, Any, Envelope], Awaitable[None]]


@dataclass(frozen=True)
class Subscription:
    """One durable consumer of one producer's events, handlers keyed by the event's message
    class (`{CustomerCreated: on_customer_created}`): the subject, stream and durable name
    follow from the classes, and each handler gets its payload already unpacked."""

    name: str
    handlers: Mapping[type[Message], TypedHandler]

    def __post_init__(self) -> None:
        producers = {producer_of(message_type) for message_type in self.handlers}
        if len(producers) != 1:
            # A JetStream consumer reads one stream: one subscription per producer.
            raise ValueError(f"subscription {self.name} must handle events of one producer, not {sorted(producers)}")

    @property
    def producer(self) -> str:
        return producer_of(next(iter(self.handlers)))

    def durable_name(self, service: str, namespace: str = "") -> str:
        """Namespaced like the streams, so environments can share one NATS."""
        return f"{namespace.replace('.', '-')}{service}-{self.name}"

    def envelope_handlers(self) -> dict[str, EventHandler]:
        return {
            event_type_of(message_type): _unpacking(message_type, handler)
            for message_type, handler in self.handlers.items()
        }


def _unpacking(message_type: type[Message], handler: TypedHandler) -> EventHandler:
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        message = message_type()
        if not envelope.payload.Unpack(message):
            raise PermanentEventError(f"event {envelope.id} payload is not {message_type.DESCRIPTOR.full_name}")
        await handler(session, message, envelope)

    return handle


@dataclass(frozen=True)
class GeneratedService:
    """What the generated code says of the gRPC service a servicer implements."""

    descriptor: ServiceDescriptor
    add_to_server: Callable[[Any, grpc.aio.Server], None]


def generated_service(servicer: object) -> GeneratedService:
    """The service a servicer serves, from the generated `<Name>Servicer` base it subclasses
    (in `<x>_pb2_grpc`, beside `<x>_pb2` which holds the descriptor)."""
    for base in type(servicer).__mro__:
        module_name = base.__module__
        if module_name.endswith("_pb2_grpc") and base.__name__.endswith("Servicer"):
            service_name = base.__name__.removesuffix("Servicer")
            messages = importlib.import_module(module_name.removesuffix("_grpc"))
            return GeneratedService(
                descriptor=messages.DESCRIPTOR.services_by_name[service_name],
                add_to_server=getattr(importlib.import_module(module_name), f"add_{base.__name__}_to_server"),
            )
    raise TypeError(f"{type(servicer).__name__} does not subclass a generated gRPC servicer")


@dataclass(frozen=True)
class ServiceSpec:
    """A service: `name` (its registry entry), its tables, and how to build each of its gRPC
    servicers from the running service; optionally the events it consumes and its periodic
    jobs (`crmkit.jobs.PeriodicJob`). Its migrations are the revisions in
    `<package>/migrations/versions`."""

    name: str
    # The service's tables; the kit adds the event tables (and, with jobs, the job lease table).
    metadata: MetaData
    servicers: Sequence[Callable[[ServiceRuntime], object]]
    subscriptions: Sequence[Subscription] = ()
    # Each a job, or a function building it from the running service (for a job that needs its
    # event tables or settings).
    jobs: Sequence[PeriodicJob | Callable[[ServiceRuntime], PeriodicJob]] = ()
    settings: type[ServiceSettings] = ServiceSettings
    # Operator commands beside serve and migrate (`python -m crm_<name> <command> ARGS...`).
    commands: Mapping[str, ServiceCommand] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # The metadata is whole from the start: migrations and schema checks see the event tables
        # and, for a service with jobs, their lease table (migration_ops.create_job_tables()).
        event_tables(self.metadata)
        if self.jobs:
            job_lease_table(self.metadata)

    @property
    def migrations(self) -> Path:
        """The folder of its Alembic revisions; the environment is the kit's."""
        package = importlib.util.find_spec(component(self.name).package)
        if package is None or not package.submodule_search_locations:
            raise RuntimeError(f"package of {self.name} not found")
        return Path(next(iter(package.submodule_search_locations))) / "migrations" / "versions"

    @property
    def tables(self) -> EventTables:
        return event_tables(self.metadata)

    def load_settings(self, **values: Any) -> ServiceSettings:
        return self.settings.load(self.name, **values)


@dataclass
class RunningService:
    """A started service: its runtime (database, broker, background work) and gRPC server."""

    spec: ServiceSpec
    runtime: ServiceRuntime
    server: GrpcServer

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def jobs(self) -> JobRunner | None:
        return self.runtime.jobs

    async def stop(self, grace: float = 10.0) -> None:
        await self.server.stop(grace)
        await self.runtime.close()


async def start_service(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    verifier: IdentityVerifier | None = None,
    migrate: bool = True,
    clock: Clock = utcnow,
) -> RunningService:
    test_clock: MovableClock | None = None
    if settings.test_clock_control:
        test_clock = MovableClock(clock)
        clock = test_clock
        log.warning("crm-%s runs on a movable test clock (test_clock_control): never in production", spec.name)
    runtime = await start_runtime(
        name=spec.name,
        settings=settings,
        database_url=settings.database_url,
        migrations_dir=spec.migrations,
        tables=spec.tables,
        namespace=settings.event_namespace,
        migrate=migrate,
        clock=clock,
    )
    try:
        for subscription in spec.subscriptions:
            start_consumer(runtime, spec.name, subscription)
        if spec.jobs:
            await start_jobs(
                runtime,
                spec.name,
                [job if isinstance(job, PeriodicJob) else job(runtime) for job in spec.jobs],
                test_clock,
            )
        servicers = [build(runtime) for build in spec.servicers]
        if test_clock is not None:
            servicers.append(ClockControlServicer(spec.name, test_clock))
        services = [generated_service(servicer) for servicer in servicers]
        registrars = [
            _registrar(service.add_to_server, servicer) for service, servicer in zip(services, servicers, strict=True)
        ]
        server = GrpcServer(
            service=spec.name,
            verifier=verifier or load_verifier(settings),
            registrars=registrars,
            service_names=[service.descriptor.full_name for service in services],
            host=settings.grpc_host,
            port=settings.grpc_port,
            max_receive_bytes=settings.grpc_max_receive_bytes,
            partners=PartnerCalls(burst=settings.partner_rate_burst, per_minute=settings.partner_rate_per_minute),
        )
        await server.start()
    except BaseException:
        await runtime.close()
        raise
    runtime.spawn(_health_loop(runtime, server))
    return RunningService(spec=spec, runtime=runtime, server=server)


def _registrar(add_to_server: Callable[[Any, grpc.aio.Server], None], servicer: object) -> Callable[[Any], None]:
    return lambda server: add_to_server(servicer, server)


def start_consumer(runtime: ServiceRuntime, service: str, subscription: Subscription) -> None:
    """Run `subscription`'s durable consumer in the runtime's background (the gateway, which is
    no ServiceSpec, starts its own this way)."""
    producer = subscription.producer
    # The producer's stream is the producer's to create: the consumer waits for it if this
    # service starts first (its NATS user may not create it).
    consumer = EventConsumer(
        name=subscription.durable_name(service, runtime.namespace),
        js=runtime.js,
        stream=stream_name(producer, runtime.namespace),
        filter_subject=subject_for(producer, ">", runtime.namespace),
        namespace=runtime.namespace,
        sessions=runtime.sessions,
        tables=runtime.tables,
        handlers=subscription.envelope_handlers(),
        clock=runtime.clock,
    )
    runtime.spawn(consumer.run)


async def start_jobs(
    runtime: ServiceRuntime, service: str, jobs: Sequence[PeriodicJob], test_clock: MovableClock | None = None
) -> None:
    """Run `jobs` on the runtime (needs the lease table in the database)."""
    runner = JobRunner(
        service=service,
        jobs=jobs,
        sessions=runtime.sessions,
        clock=runtime.clock,
        # A job's events go out as soon as its batch commits.
        after_commit=runtime.relay.wake,
    )
    # Stops the start when the migrations lack the lease table, rather than failing every round.
    await runner.prepare()
    if test_clock is not None:
        # What fell due when a test moved the clock runs now, not at the next poll.
        test_clock.on_advance(runner.wake)
    runtime.jobs = runner
    runtime.spawn(runner.run)


HEALTH_INTERVAL = 5.0


def _health_loop(runtime: ServiceRuntime, server: GrpcServer) -> BackgroundTask:
    """Serving means this process can do its own work: its database answers and its broker
    connection is up. Other services being down is their health, not ours."""

    async def loop(stop: asyncio.Event) -> None:
        serving = True
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=HEALTH_INTERVAL)
            if stop.is_set():
                return
            healthy = runtime.nats.is_connected and await _database_answers(runtime)
            if healthy != serving:
                serving = healthy
                log.warning("crm-%s is %s", runtime.name, "serving again" if healthy else "not serving")
                await server.set_serving(healthy)

    return loop


async def _database_answers(runtime: ServiceRuntime) -> bool:
    try:
        async with asyncio.timeout(2.0), runtime.read_sessions() as session:
            await session.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        log.warning("crm-%s database check failed: %s", runtime.name, exc)
        return False


async def serve(spec: ServiceSpec, settings: ServiceSettings, *, grace: float = 10.0) -> None:
    """Serve until SIGINT/SIGTERM, then drain calls and background work."""
    running = await start_service(spec, settings)
    freeze_startup_heap()
    log.info("crm-%s serving gRPC on %s:%d", spec.name, settings.grpc_host, running.port)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, running.runtime.stop.set)
    await running.runtime.stop.wait()
    log.info("crm-%s stopping", spec.name)
    await running.stop(grace)


USAGE = "usage: python -m crm_<service> [serve | migrate | revision MESSAGE{commands}]"


def main(spec: ServiceSpec, argv: Sequence[str] | None = None) -> None:
    """`python -m crm_<name> [serve|migrate|revision MESSAGE]`: migrate is what the Kubernetes
    Job runs; revision writes a migration autogenerated from the models."""
    args = list(sys.argv[1:] if argv is None else argv)
    command = args[0] if args else "serve"
    settings = spec.load_settings()
    if command == "migrate":
        attributes = migration_attributes(load_keyring(settings))
        asyncio.run(upgrade_database(spec.migrations, settings.database_url, spec.metadata, attributes=attributes))
    elif command == "revision" and len(args) == 2:
        spec.migrations.mkdir(parents=True, exist_ok=True)
        new_revision(spec.migrations, settings.database_url, spec.metadata, args[1])
    elif command == "serve":
        prepare_process(settings, spec.name)
        if make_url(settings.database_url).get_backend_name() == "postgresql":
            # uvloop, as uvicorn gives the gateway: asyncpg's socket writes on the default loop
            # were a sixth of the customer service's time under load.
            uvloop.run(serve(spec, settings))
        else:
            # On the embedded SQLite default, uvloop with aiosqlite's worker thread stalled the
            # demo load (creates ran past their deadline); the standard loop serves it well.
            asyncio.run(serve(spec, settings))
    elif command in spec.commands:
        # Logging only: the serving process may be running beside it, on the metrics port.
        setup_logging(f"crm-{spec.name}", json_logs=settings.log_json, level=settings.log_level)
        asyncio.run(spec.commands[command](settings, args[1:]))
    else:
        raise SystemExit(USAGE.format(commands="".join(f" | {name} ..." for name in spec.commands)))
