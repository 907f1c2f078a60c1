"""Partner systems on a service's gRPC: scopes from the contract, a bucket per client, an audit line."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

import crm.customer.v1.customer_pb2  # noqa: F401  (puts CustomerService's contract in the descriptor pool)
from crmkit.errors import PermissionDenied
from crmkit.grpc_server import GrpcServer
from crmkit.identity import PARTNER_PERMISSION, Identity, Role, current_identity
from crmkit.partners import PartnerCalls, PartnerScope, admitting_scopes, require_scope, token_permissions
from crmkit.testing import harness
from crmkit.testing.harness import OrgTree

# A stand-in registered under the real service's name, so the guard reads the real contract's
# partner scopes: GetCustomer needs customers:read, CreateCustomer customers:write, and
# ArchiveCustomer names none (closed to partners).
CUSTOMER_SERVICE = "crm.customer.v1.CustomerService"


def register_stand_in(server: grpc.aio.Server) -> None:
    async def whoami(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return current_identity().principal_id.encode()

    handlers = {
        name: grpc.unary_unary_rpc_method_handler(whoami)
        for name in ("GetCustomer", "CreateCustomer", "ArchiveCustomer")
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(CUSTOMER_SERVICE, handlers),))


@pytest.fixture
def keys(tmp_path: Path) -> harness.TestKeys:
    return harness.make_keys(tmp_path)


@pytest_asyncio.fixture
async def server(keys: harness.TestKeys) -> AsyncIterator[GrpcServer]:
    server = await harness.start_grpc(
        service="customer",
        verifier=keys.verifier,
        registrars=[register_stand_in],
        service_names=[CUSTOMER_SERVICE],
        partners=PartnerCalls(burst=3, per_minute=0.001),
    )
    try:
        yield server
    finally:
        await server.stop(grace=0)


@pytest_asyncio.fixture
async def channel(server: GrpcServer) -> AsyncIterator[grpc.aio.Channel]:
    async with harness.channel_to(server) as channel:
        yield channel


def partner(*scopes: PartnerScope, client_id: str = "client-erp") -> Identity:
    org = OrgTree.create()
    identity = org.person(Role.ADMIN, org.hq, principal_id=client_id)
    return dataclasses.replace(identity, permissions=token_permissions(frozenset(scopes)))


async def call(
    channel: grpc.aio.Channel, keys: harness.TestKeys, method: str, identity: Identity, *, bearer: bool = False
) -> bytes:
    token = keys.signer.sign(identity)
    metadata = (("authorization", f"Bearer {token}"),) if bearer else keys.metadata(identity)
    answer: bytes = await channel.unary_unary(f"/{CUSTOMER_SERVICE}/{method}")(b"", metadata=metadata)
    return answer


async def refused(
    channel: grpc.aio.Channel, keys: harness.TestKeys, method: str, identity: Identity
) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await call(channel, keys, method, identity)
    return raised.value


def test_the_contract_names_each_methods_scope() -> None:
    assert admitting_scopes(f"/{CUSTOMER_SERVICE}/GetCustomer") == ("customers:read",)
    assert admitting_scopes(f"/{CUSTOMER_SERVICE}/CreateCustomer") == ("customers:write",)
    assert admitting_scopes(f"/{CUSTOMER_SERVICE}/ArchiveCustomer") == ()
    assert admitting_scopes("/crm.nowhere.v1.NoService/Nothing") == ()


def test_an_action_needing_its_own_scope_refuses_only_partner_tokens() -> None:
    dispatcher = partner(PartnerScope.DELIVERIES_WRITE)
    require_scope(dispatcher, PartnerScope.DELIVERIES_WRITE, PartnerScope.ORDERS_WRITE)
    with pytest.raises(PermissionDenied, match="orders:write"):
        require_scope(dispatcher, PartnerScope.ORDERS_WRITE)
    org = OrgTree.create()
    require_scope(org.person(Role.SUPERVISOR, org.hq), PartnerScope.ORDERS_WRITE)


async def test_a_partner_with_the_scope_is_admitted_with_a_bearer_token(
    channel: grpc.aio.Channel, keys: harness.TestKeys
) -> None:
    answer = await call(channel, keys, "GetCustomer", partner(PartnerScope.CUSTOMERS_READ), bearer=True)
    assert answer == b"client-erp"


async def test_a_partner_without_the_scope_is_refused_naming_it(
    channel: grpc.aio.Channel, keys: harness.TestKeys
) -> None:
    error = await refused(channel, keys, "CreateCustomer", partner(PartnerScope.CUSTOMERS_READ))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED
    assert "customers:write" in (error.details() or "")


async def test_a_method_without_a_partner_scope_is_closed_to_every_partner(
    channel: grpc.aio.Channel, keys: harness.TestKeys
) -> None:
    error = await refused(channel, keys, "ArchiveCustomer", partner(*PartnerScope))
    assert error.code() is grpc.StatusCode.PERMISSION_DENIED


async def test_users_and_forwarded_rest_partners_are_governed_by_their_role_not_by_scopes(
    channel: grpc.aio.Channel, keys: harness.TestKeys
) -> None:
    org = OrgTree.create()
    admin = org.person(Role.ADMIN, org.hq, principal_id="admin-1")
    assert await call(channel, keys, "ArchiveCustomer", admin) == b"admin-1"
    # A partner's REST call by API key, which the gateway checked and forwards for it.
    forwarded = dataclasses.replace(admin, principal_id="client-rest", permissions=frozenset({PARTNER_PERMISSION}))
    assert await call(channel, keys, "ArchiveCustomer", forwarded) == b"client-rest"


async def test_each_client_has_its_own_bucket(channel: grpc.aio.Channel, keys: harness.TestKeys) -> None:
    flooding = partner(PartnerScope.CUSTOMERS_READ, client_id="client-flood")
    for _ in range(3):
        await call(channel, keys, "GetCustomer", flooding)
    error = await refused(channel, keys, "GetCustomer", flooding)
    assert error.code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    calm = partner(PartnerScope.CUSTOMERS_READ, client_id="client-calm")
    assert await call(channel, keys, "GetCustomer", calm) == b"client-calm"


async def test_every_partner_call_leaves_an_audit_line(
    channel: grpc.aio.Channel, keys: harness.TestKeys, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="crm.audit.partner"):
        await call(channel, keys, "GetCustomer", partner(PartnerScope.CUSTOMERS_READ))
        await refused(channel, keys, "CreateCustomer", partner(PartnerScope.CUSTOMERS_READ))
    audits = [record.audit for record in caplog.records if hasattr(record, "audit")]
    assert [(a["method"], a["code"], a["client_id"]) for a in audits] == [
        (f"/{CUSTOMER_SERVICE}/GetCustomer", "OK", "client-erp"),
        (f"/{CUSTOMER_SERVICE}/CreateCustomer", "PERMISSION_DENIED", "client-erp"),
    ]
