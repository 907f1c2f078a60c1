"""Adding a service is its folder plus one registry entry.

The test writes a throwaway service the way docs/architecture.md tells a newcomer to ("Adding a
service"): a proto with one RPC and one event, a feature folder, a spec, a two-line
`__main__.py` and a first migration that asks the kit for its event tables. It names the
service in a copy of the registry and nowhere else, starts it under the devstack on PostgreSQL
and the devstack's own NATS (where it is a user of its own, with the permissions its entry
gives), calls it over gRPC and waits for the event it published to come back through its own
subscription.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import grpc_tools
import pytest
from grpc_tools import protoc

from crm_devstack.stack import Stack, StackConfig
from crmkit.identity import METADATA_KEY, Identity, IdentitySigner, Role
from crmkit.testing.events import eventually
from crmkit.testing.infra import PostgresServer

pytestmark = pytest.mark.e2e

REGISTRY = Path(__file__).resolve().parents[2] / "libs" / "crmkit" / "src" / "crmkit" / "components.toml"

FILES = {
    "proto/probe_api/v1/probe.proto": """
syntax = "proto3";
package crm.probe.v1;

service ProbeService {
  rpc Ping(PingRequest) returns (PingResponse);
  rpc CountPongs(CountPongsRequest) returns (CountPongsResponse) {
    option idempotency_level = NO_SIDE_EFFECTS;
  }
}
message PingRequest { string note = 1; }
message PingResponse { string id = 1; }
message CountPongsRequest {}
message CountPongsResponse { int64 count = 1; }
// The event: crm.probe.v1.pinged.
message Pinged { string id = 1; string note = 2; }
""",
    "src/crm_probe/__init__.py": '''
"""A throwaway service."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    """Its tables."""
''',
    "src/crm_probe/__main__.py": """
from crm_probe.spec import SPEC
from crmkit.service import main

if __name__ == "__main__":
    main(SPEC)
""",
    "src/crm_probe/spec.py": """
from crm_probe import Base
from crm_probe.pings.events import PONGS
from crm_probe.pings.servicer import ProbeServicer
from crmkit.service import ServiceSpec

SPEC = ServiceSpec(name="probe", metadata=Base.metadata, servicers=[ProbeServicer], subscriptions=[PONGS])
""",
    "src/crm_probe/pings/models.py": """
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from crm_probe import Base


class Ping(Base):
    __tablename__ = "pings"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(String(36))
    note: Mapped[str] = mapped_column(String(50))


class Pong(Base):
    __tablename__ = "pongs"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ping_id: Mapped[str] = mapped_column(String(36))
""",
    "src/crm_probe/pings/events.py": """
from crm_probe.pings.models import Pong
from crmkit.service import Subscription
from probe_api.v1.probe_pb2 import Pinged


async def on_pinged(session, event: Pinged, envelope) -> None:
    session.add(Pong(event_id=envelope.id, ping_id=event.id))


PONGS = Subscription("pongs", {Pinged: on_pinged})
""",
    "src/crm_probe/pings/servicer.py": """
import uuid

from sqlalchemy import func, select

from crm_probe.pings.models import Ping, Pong
from crmkit.clock import utcnow
from crmkit.events import add_event
from crmkit.identity import current_identity
from crmkit.validate import text
from crmkit.writes import Writes
from probe_api.v1 import probe_pb2, probe_pb2_grpc


class ProbeServicer(probe_pb2_grpc.ProbeServiceServicer):
    def __init__(self, runtime) -> None:
        self._runtime = runtime
        self._writes = Writes(sessions=runtime.sessions, relay=runtime.relay)

    async def Ping(self, request, context):
        identity = current_identity()
        note = text(request.note, "note", max_len=50, required=True)
        ping = Ping(id=str(uuid.uuid4()), tenant_id=identity.tenant_id, note=note)
        async with self._writes.transaction() as session:
            session.add(ping)
            await add_event(
                session,
                self._runtime.tables,
                message=probe_pb2.Pinged(id=ping.id, note=note),
                tenant_id=identity.tenant_id,
                org_unit_id=identity.org_unit_id,
                aggregate_id=ping.id,
                aggregate_version=1,
                occurred_at=utcnow(),
                actor_id=identity.principal_id,
                namespace=self._runtime.namespace,
            )
        return probe_pb2.PingResponse(id=ping.id)

    async def CountPongs(self, request, context):
        async with self._runtime.read_sessions() as session:
            count = await session.scalar(select(func.count()).select_from(Pong))
        return probe_pb2.CountPongsResponse(count=count or 0)
""",
    "src/crm_probe/migrations/versions/0001_pings.py": '''
"""pings, pongs and the event tables"""

import sqlalchemy as sa
from alembic import op

from crmkit.migration_ops import create_event_tables

revision = "0001"
down_revision = None


def upgrade() -> None:
    create_event_tables()
    op.create_table(
        "pings",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("tenant_id", sa.String(36), nullable=False),
        sa.Column("note", sa.String(50), nullable=False),
    )
    op.create_table(
        "pongs",
        sa.Column("event_id", sa.String(36), primary_key=True),
        sa.Column("ping_id", sa.String(36), nullable=False),
    )
''',
}


def write_service(root: Path) -> None:
    for relative, content in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content.lstrip())
    include = Path(grpc_tools.__file__).parent / "_proto"
    status = protoc.main(
        [
            "protoc",
            f"-I{root / 'proto'}",
            f"-I{include}",
            f"--python_out={root / 'src'}",
            f"--grpc_python_out={root / 'src'}",
            "probe_api/v1/probe.proto",
        ]
    )
    assert status == 0


@pytest.fixture
def probe_service(tmp_path: Path, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[Stack]:
    service_dir = tmp_path / "services" / "probe"
    write_service(service_dir)
    # The one registry entry; its path is absolute because the folder is not in this checkout.
    registry = tmp_path / "components.toml"
    registry.write_text(
        REGISTRY.read_text()
        + f"""
[components.probe]
package = "crm_probe"
path = "{service_dir}"
kind = "grpc"
grpc_port = 50099
metrics_port = 9199
calls = []
consumes = ["probe"]
"""
    )
    monkeypatch.setenv("CRM_COMPONENTS_FILE", str(registry))
    monkeypatch.syspath_prepend(str(service_dir / "src"))
    state_dir = tmp_path / "state"
    stack = Stack(
        StackConfig(
            state_dir=state_dir,
            # The devstack's own NATS: the probe's user may publish its events and read them
            # back only because its entry says it consumes them.
            database_urls={"probe": asyncio.run(postgres_server.create_database("e2e_probe"))},
            event_namespace=f"probe{uuid.uuid4().hex[:8]}.",
            log_dir=state_dir / "logs",
        )
    )
    try:
        stack.start(components=["probe"], timeout=90)
        yield stack
    finally:
        stack.stop()
        log = state_dir / "logs" / "probe.log"
        if log.exists() and "Traceback" in log.read_text(errors="replace"):
            print(log.read_text(errors="replace")[-4000:])
        for module in [m for m in sys.modules if m.startswith(("crm_probe", "probe_api"))]:
            del sys.modules[module]


async def _ping_and_count(stack: Stack) -> tuple[grpc.StatusCode, int]:
    probe_pb2: Any = importlib.import_module("probe_api.v1.probe_pb2")
    probe_pb2_grpc: Any = importlib.import_module("probe_api.v1.probe_pb2_grpc")
    signer = IdentitySigner.from_file(stack.config.state_dir / "keys" / "identity_private.pem")
    caller = Identity(
        principal_id=str(uuid.uuid4()),
        tenant_id=str(uuid.uuid4()),
        org_unit_id="hq",
        org_path="/hq/",
        role=Role.ADMIN,
    )
    metadata = ((METADATA_KEY, signer.sign(caller)),)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{stack.port('probe')}") as channel:
        stub = probe_pb2_grpc.ProbeServiceStub(channel)
        try:
            await stub.Ping(probe_pb2.PingRequest(note=""), metadata=metadata)
            refused = grpc.StatusCode.OK
        except grpc.aio.AioRpcError as error:
            refused = error.code()
        await stub.Ping(probe_pb2.PingRequest(note="你好"), metadata=metadata)

        async def pongs() -> int:
            reply = await stub.CountPongs(probe_pb2.CountPongsRequest(), metadata=metadata)
            return int(reply.count)

        consumed = await eventually(pongs, lambda count: count >= 1, within=15.0)
    return refused, consumed


def test_a_service_added_by_folder_and_registry_entry_serves_and_consumes_its_event(probe_service: Stack) -> None:
    refused, pongs = asyncio.run(_ping_and_count(probe_service))

    assert refused == grpc.StatusCode.INVALID_ARGUMENT
    assert pongs == 1
