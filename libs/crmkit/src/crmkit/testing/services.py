"""Start a service from its spec inside a test: real database and broker, gRPC on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import grpc

from crmkit.clock import Clock, utcnow
from crmkit.components import component
from crmkit.service import RunningService, ServiceSpec, start_service
from crmkit.storage import StorageSettings
from crmkit.testing.harness import TestKeys


async def start_test_service(
    spec: ServiceSpec,
    *,
    database_url: str,
    nats_url: str,
    namespace: str,
    keys: TestKeys,
    clock: Clock = utcnow,
    **settings: Any,
) -> RunningService:
    """The service as `python -m` runs it, on loopback ports the OS picks, with the test's keys
    and event namespace. Stop it with `RunningService.stop`."""
    if component(spec.name).personal_data:
        settings.setdefault("personal_data_keys_file", keys.personal_data_path)
    if "storage" in spec.settings.model_fields:
        # Objects beside the test's keys, never in the checkout's .crm/files.
        settings.setdefault("storage", StorageSettings(backend="local", local_dir=keys.public_path.parent / "files"))
    loaded = spec.load_settings(
        database_url=database_url,
        nats_url=nats_url,
        event_namespace=namespace,
        identity_public_key_file=keys.public_path,
        grpc_host="127.0.0.1",
        grpc_port=0,
        metrics_port=0,
        **settings,
    )
    return await start_service(spec, loaded, verifier=keys.verifier, clock=clock)


@asynccontextmanager
async def running_service(spec: ServiceSpec, **options: Any) -> AsyncIterator[tuple[RunningService, grpc.aio.Channel]]:
    """A started service (with `start_test_service`'s options) and a channel to it, both closed
    at the end."""
    running = await start_test_service(spec, **options)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield running, channel
    finally:
        await channel.close(None)
        await running.stop(grace=1)
