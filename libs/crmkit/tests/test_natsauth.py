"""Each service is its own NATS user, allowed what the registry says: its own events, the streams
it consumes, its own replies. Checked on a NATS server that enforces it."""

from __future__ import annotations

import logging
import stat
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import grpc
import nats
import pytest
from nats.aio.client import Client as NATS

from crm.customer.v1 import customer_pb2 as cpb
from crm.customer.v1 import customer_pb2_grpc, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_analytics.customer_summary.models import CustomerFact
from crm_analytics.spec import SPEC as ANALYTICS
from crm_customer.spec import SPEC as CUSTOMER
from crmkit import bus, natsauth
from crmkit.components import registry
from crmkit.events import event_type_of, stream_name, subject_for
from crmkit.identity import Role
from crmkit.service import RunningService, ServiceSpec
from crmkit.testing.events import eventually, row_count
from crmkit.testing.harness import OrgTree, TestKeys, make_keys
from crmkit.testing.infra import SecuredNatsServer
from crmkit.testing.services import running_service

REFUSED_WITHIN = 1.0

# --------------------------------------------------------------------------- the rules (no I/O)


def test_a_service_may_publish_only_its_own_events_and_its_own_streams_requests() -> None:
    allowed = natsauth.permissions(registry()["customer"], "ns.")

    # Its own events and stream; beyond them only the consumer requests on the gateway's stream
    # (the directory copy), never a publish of another's subjects.
    assert allowed.publish[:3] == (
        "ns.crm.customer.v1.>",
        "$JS.API.STREAM.INFO.ns_CRM_CUSTOMER",
        "$JS.API.STREAM.CREATE.ns_CRM_CUSTOMER",
    )
    assert all("CONSUMER" in subject or subject.startswith("$JS.ACK.") for subject in allowed.publish[3:])
    assert allowed.subscribe == ("_INBOX.ns.crm-customer.>",)


def test_a_consumer_may_read_the_streams_of_what_it_consumes_and_nothing_more() -> None:
    allowed = natsauth.permissions(registry()["analytics"], "ns.")

    assert set(allowed.publish) == {
        "ns.crm.analytics.v1.>",
        "$JS.API.STREAM.INFO.ns_CRM_ANALYTICS",
        "$JS.API.STREAM.CREATE.ns_CRM_ANALYTICS",
        "$JS.API.CONSUMER.INFO.ns_CRM_CUSTOMER.*",
        "$JS.API.CONSUMER.CREATE.ns_CRM_CUSTOMER.*.ns.crm.customer.v1.>",
        "$JS.API.CONSUMER.MSG.NEXT.ns_CRM_CUSTOMER.*",
        "$JS.ACK.ns_CRM_CUSTOMER.*.>",
    }
    assert not any("customer.v1" in subject and "CONSUMER" not in subject for subject in allowed.publish)


def test_every_component_gets_a_nats_user() -> None:
    assert [entry.name for entry in natsauth.nats_users()] == ["customer", "analytics", "order", "gateway"]


def test_seeds_are_private_files_and_kept_once_written(tmp_path: Path) -> None:
    seeds = tmp_path / "nats"
    files = natsauth.ensure_seeds(seeds, ["customer", "analytics"])
    first = {name: path.read_bytes() for name, path in files.items()}

    assert stat.S_IMODE(seeds.stat().st_mode) == 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in files.values()} == {0o600}
    assert all(seed.startswith(b"SU") for seed in first.values())
    assert natsauth.public_key(first["customer"]).startswith("U")
    again = natsauth.ensure_seeds(seeds, ["customer", "analytics"])
    assert {name: path.read_bytes() for name, path in again.items()} == first


def test_the_operators_command_prints_a_block_nats_server_accepts(tmp_path: Path) -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "crmkit.natsauth", "--seeds", str(tmp_path / "seeds"), "--namespace", "prod."],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    config = tmp_path / "nats.conf"
    config.write_text(
        natsauth.server_config(host="127.0.0.1", port=4222, store_dir=tmp_path / "js", authorization=printed)
    )

    checked = subprocess.run(
        [Path(sys.executable).parent / "nats-server", "-c", config, "-t"], capture_output=True, text=True
    )

    assert checked.returncode == 0, checked.stderr
    for name in ("customer", "analytics", "gateway"):
        key = natsauth.public_key((tmp_path / "seeds" / f"{name}.nk").read_bytes())
        assert f'nkey: "{key}"' in printed
    assert '"prod.crm.customer.v1.>"' in printed
    assert '"prod.crm.gateway.v1.>"' in printed


# --------------------------------------------------------------------------- on a server that enforces them


async def connect_as(server: SecuredNatsServer, service: str) -> NATS:
    """A connection with `service`'s own credentials and inbox, as its runtime opens one."""
    return await bus.connect_service(
        server.url, service, namespace=server.namespace, nkey_seed_file=server.seed_files[service]
    )


def refused_publishes(caplog: pytest.LogCaptureFixture) -> list[str]:
    """Publishes the server refused: it answers a permissions violation (and no ack)."""
    return [r.getMessage() for r in caplog.records if "permissions violation for publish" in r.getMessage()]


async def test_a_connection_without_a_known_key_is_refused(secured_nats: SecuredNatsServer, tmp_path: Path) -> None:
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured_nats.url, allow_reconnect=False, connect_timeout=2)
    stranger = natsauth.ensure_seeds(tmp_path / "stranger", ["customer"])["customer"]
    with pytest.raises(nats.errors.Error, match="Authorization Violation"):
        await nats.connect(secured_nats.url, nkeys_seed=str(stranger), allow_reconnect=False, connect_timeout=2)


async def test_customer_cannot_publish_on_analytics_subjects_nor_touch_its_stream(
    secured_nats: SecuredNatsServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="crmkit.bus")
    namespace = secured_nats.namespace
    analytics_stream = stream_name("analytics", namespace)
    analytics, customer = await connect_as(secured_nats, "analytics"), await connect_as(secured_nats, "customer")
    try:
        await bus.ensure_stream(analytics.jetstream(), "analytics", namespace=namespace)
        forged_subject = subject_for("analytics", "x", namespace)

        with pytest.raises(nats.errors.TimeoutError):
            await customer.jetstream().publish(forged_subject, b"forged", timeout=REFUSED_WITHIN)
        with pytest.raises(nats.errors.TimeoutError):
            await customer.jetstream().delete_stream(analytics_stream)
        await customer.publish(forged_subject, b"forged without asking for an ack")
        await customer.flush()

        info = await analytics.jetstream().stream_info(analytics_stream)
    finally:
        await customer.close()
        await analytics.close()
    assert info.state.messages == 0
    refused = refused_publishes(caplog)
    assert sum(forged_subject.lower() in message for message in refused) == 2
    assert any(f"$js.api.stream.delete.{analytics_stream.lower()}" in message for message in refused)


@asynccontextmanager
async def both_services(
    server: SecuredNatsServer, tmp_path: Path, keys: TestKeys
) -> AsyncIterator[tuple[RunningService, RunningService, customer_pb2_grpc.CustomerServiceStub]]:
    """customer and analytics as `python -m` runs them, each as its own NATS user."""

    def run(spec: ServiceSpec) -> AbstractAsyncContextManager[tuple[RunningService, grpc.aio.Channel]]:
        return running_service(
            spec,
            database_url=f"sqlite+aiosqlite:///{tmp_path / (spec.name + '.db')}",
            nats_url=server.url,
            namespace=server.namespace,
            keys=keys,
            nats_nkey_seed_file=server.seed_files[spec.name],
        )

    async with AsyncExitStack() as stack:
        # analytics first: its consumer waits for the customer stream, which only customer creates.
        analytics, _ = await stack.enter_async_context(run(ANALYTICS))
        customer, channel = await stack.enter_async_context(run(CUSTOMER))
        yield customer, analytics, customer_pb2_grpc.CustomerServiceStub(channel)


async def create_customer(stub: customer_pb2_grpc.CustomerServiceStub, keys: TestKeys, org: OrgTree) -> str:
    request = cpb.CreateCustomerRequest(request_id=str(uuid.uuid4()), customer=cpb.Customer(name="太原迎泽区食堂"))
    reply = await stub.CreateCustomer(request, metadata=keys.metadata(org.person(Role.SALES, org.shop_a)))
    return reply.customer.id


async def created_events(customer: RunningService, server: SecuredNatsServer) -> int:
    """customer_created messages in the customer stream (its periodic jobs publish there too)."""
    subject = subject_for("customer", "customer_created", server.namespace)
    info = await customer.runtime.js.stream_info(stream_name("customer", server.namespace), subjects_filter=subject)
    return (info.state.subjects or {}).get(subject, 0)


async def facts(analytics: RunningService) -> int:
    return await row_count(analytics.runtime.sessions, CustomerFact.__table__)


async def test_each_service_does_its_work_as_its_own_user(secured_nats: SecuredNatsServer, tmp_path: Path) -> None:
    keys = make_keys(tmp_path)
    async with both_services(secured_nats, tmp_path, keys) as (customer, analytics, stub):
        await create_customer(stub, keys, OrgTree.create())

        # The customer relay published it, analytics' consumer read and acknowledged it.
        assert await eventually(lambda: facts(analytics), lambda n: n == 1, within=15.0) == 1
        assert await created_events(customer, secured_nats) == 1


async def test_analytics_cannot_forge_a_customer_event(
    secured_nats: SecuredNatsServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="crmkit.bus")
    keys = make_keys(tmp_path)
    org = OrgTree.create()
    async with both_services(secured_nats, tmp_path, keys) as (customer, analytics, stub):
        await create_customer(stub, keys, org)
        await eventually(lambda: facts(analytics), lambda n: n == 1, within=15.0)
        # A well-formed event analytics would count, for a customer that does not exist.
        ghost = cpb.Customer(
            id=str(uuid.uuid4()),
            tenant_id=org.tenant_id,
            org_unit_id=org.shop_a,
            org_path=org.path(org.shop_a),
            owner_id="rep-a",
            name="不存在的客户",
            lifecycle_stage=cpb.LIFECYCLE_STAGE_LEAD,
            version=1,
        )
        forged = Envelope(
            id=str(uuid.uuid4()),
            type=event_type_of(events_pb2.CustomerCreated),
            tenant_id=org.tenant_id,
            org_unit_id=org.shop_a,
            aggregate_id=ghost.id,
            aggregate_version=1,
        )
        forged.payload.Pack(events_pb2.CustomerCreated(customer=ghost))
        subject = subject_for("customer", "customer_created", secured_nats.namespace)
        forger = await connect_as(secured_nats, "analytics")
        try:
            with pytest.raises(nats.errors.TimeoutError):
                await forger.jetstream().publish(subject, forged.SerializeToString(), timeout=REFUSED_WITHIN)
        finally:
            await forger.close()

        assert await created_events(customer, secured_nats) == 1
        assert await facts(analytics) == 1
    assert any(subject.lower() in message for message in refused_publishes(caplog))
