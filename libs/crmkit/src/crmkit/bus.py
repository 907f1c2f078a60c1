"""NATS JetStream connection and the stream each service publishes to."""

from __future__ import annotations

import logging
from pathlib import Path

import nats
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from nats.js.api import StreamConfig
from nats.js.errors import NotFoundError

from crmkit.events import stream_name, subject_for
from crmkit.natsauth import inbox_prefix

log = logging.getLogger(__name__)

# Long enough that a relay restarting after a crash re-publishes inside the broker's dedup window.
DUPLICATE_WINDOW_SECONDS = 600.0


async def connect(
    url: str,
    *,
    name: str,
    nkey_seed_file: Path | None = None,
    creds_file: Path | None = None,
    inbox_prefix: str = "_INBOX",
) -> NATS:
    """Connect and keep reconnecting forever: the relay and consumers outlive broker restarts.

    As the service's own NATS user when given its nkey seed or JWT credentials file, with its
    own inbox prefix (`crmkit.natsauth.inbox_prefix`), the only replies its user may read."""

    async def _on_error(exc: Exception) -> None:
        # A permissions violation lands here too (the publish itself then times out).
        log.warning("nats error: %s", exc)

    return await nats.connect(
        url,
        name=name,
        max_reconnect_attempts=-1,
        reconnect_time_wait=1,
        error_cb=_on_error,
        nkeys_seed=str(nkey_seed_file) if nkey_seed_file is not None else None,
        user_credentials=str(creds_file) if creds_file is not None else None,
        inbox_prefix=inbox_prefix,
    )


async def connect_service(
    url: str,
    service: str,
    *,
    namespace: str = "",
    nkey_seed_file: Path | None = None,
    creds_file: Path | None = None,
) -> NATS:
    """Connect as service `service` does: its name, its NATS user and its own inbox prefix."""
    return await connect(
        url,
        name=f"crm-{service}",
        nkey_seed_file=nkey_seed_file,
        creds_file=creds_file,
        inbox_prefix=inbox_prefix(service, namespace),
    )


async def ensure_stream(js: JetStreamContext, service: str, *, namespace: str = "", replicas: int = 1) -> str:
    """Create (or leave alone) the stream holding crm.<service>.v1.* events."""
    name = stream_name(service, namespace)
    config = StreamConfig(
        name=name,
        subjects=[subject_for(service, ">", namespace)],
        num_replicas=replicas,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
    )
    try:
        await js.stream_info(name)
    except NotFoundError:
        await js.add_stream(config)
        log.info("created stream %s", name)
    return name
