"""Fixtures: the gateway in-process in front of real customer and analytics services.

Each test module gets one stack (three PostgreSQL databases, one JetStream namespace, both
services served over gRPC on loopback, the gateway app behind an httpx client) and one org
tree built through the public API. The async tests of a module run on that module's event
loop, because the stack's channels and pools belong to the loop that created them.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import nats
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pytest_asyncio import is_async_test
from sqlalchemy.engine import make_url

from crm_analytics.spec import SPEC as ANALYTICS
from crm_customer.spec import SPEC as CUSTOMER
from crm_gateway.app import create_app
from crm_gateway.settings import GatewaySettings, get_settings
from crmkit.cn import make_credit_code
from crmkit.service import ServiceSpec
from crmkit.storage import StorageSettings
from crmkit.telemetry import setup_tracing
from crmkit.testing.events import eventually
from crmkit.testing.harness import TestKeys, make_keys
from crmkit.testing.infra import NatsServer, PostgresServer
from crmkit.testing.services import start_test_service

ADMIN_PASSWORD = "admin-Passw0rd-测试"
USER_PASSWORD = "user-Passw0rd-2026"
PROBLEM_JSON = "application/problem+json"

T = TypeVar("T")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The module-scoped stack lives on the module's loop; a test on another loop could not use it.
    module_loop = pytest.mark.asyncio(loop_scope="module")
    for item in items:
        if is_async_test(item) and HERE in item.path.parents:
            item.add_marker(module_loop, append=False)


# --------------------------------------------------------------------------- the stack


class GatewayClock:
    """The gateway's clock: real time, shifted while a test needs tokens issued in the past, or
    frozen while a test steps through lock and refill times without sleeping."""

    def __init__(self) -> None:
        self._offset = dt.timedelta(0)
        self._frozen_at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        base = self._frozen_at if self._frozen_at is not None else dt.datetime.now(dt.UTC)
        return base + self._offset

    @contextmanager
    def shifted(self, offset: dt.timedelta) -> Iterator[None]:
        self._offset = offset
        try:
            yield
        finally:
            self._offset = dt.timedelta(0)

    @contextmanager
    def frozen(self, offset: dt.timedelta = dt.timedelta(0)) -> Iterator[None]:
        """Time stands still at now + `offset` (and moves only by `advance`) until the block
        ends, then it is real time again. Access tokens are checked against real time, so a test
        that uses tokens issued after advancing starts in the past (a negative `offset`)."""
        self._frozen_at, self._offset = dt.datetime.now(dt.UTC), offset
        try:
            yield
        finally:
            self._frozen_at, self._offset = None, dt.timedelta(0)

    def advance(self, delta: dt.timedelta) -> None:
        assert self._frozen_at is not None, "advance the clock inside frozen()"
        self._offset += delta


# Test modules drive hundreds of requests a second from one user and one address: budgets a
# person never meets, so only the modules about limits (which set their own) see a 429.
ROOMY_RATE_LIMITS = {group: {"burst": 100_000, "per_minute": 1_000_000} for group in ("auth", "reads", "writes")}


def gateway_settings(**values: Any) -> GatewaySettings:
    """The gateway's settings as the tests run it: the test admin password, roomy rate limits."""
    return get_settings(
        **{"bootstrap_admin_password": ADMIN_PASSWORD, "rate_limits": ROOMY_RATE_LIMITS, **values},
    )


@dataclass(frozen=True)
class Stack:
    client: httpx.AsyncClient
    app: FastAPI
    clock: GatewayClock
    gateway_database_url: str
    settings: GatewaySettings
    # Where the services' events go: a test may publish what the gateway will publish.
    nats_url: str = ""
    namespace: str = ""


async def _delete_streams_named(nats_url: str, fragment: str) -> None:
    """Remove this stack's streams (their consumers go with them) from a possibly shared NATS."""
    nc = await nats.connect(nats_url, connect_timeout=5, allow_reconnect=False)
    try:
        js = nc.jetstream()
        names: list[str] = []
        while page := await js.streams_info(len(names)):
            names.extend(info.config.name or "" for info in page)
        for name in names:
            if fragment.lower() in name.lower():
                await js.delete_stream(name)
    finally:
        await nc.close()


async def _database(postgres_server: PostgresServer, exits: AsyncExitStack, hint: str) -> str:
    url = await postgres_server.create_database(hint)
    name = make_url(url).database
    assert name
    exits.push_async_callback(postgres_server.drop_database, name)
    return url


async def _serve(
    exits: AsyncExitStack,
    spec: ServiceSpec,
    *,
    database_url: str,
    nats_url: str,
    namespace: str,
    keys: TestKeys,
    **settings: Any,
) -> str:
    running = await start_test_service(
        spec, database_url=database_url, nats_url=nats_url, namespace=namespace, keys=keys, **settings
    )
    exits.push_async_callback(running.stop, 1)
    return f"127.0.0.1:{running.port}"


async def _refuse_server_errors(response: httpx.Response) -> None:
    # Whatever a test sends, the gateway must answer it without a 5xx while the stack is up.
    if response.status_code >= 500:
        await response.aread()
        request = response.request
        raise AssertionError(f"{request.method} {request.url} answered {response.status_code}: {response.text}")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def stack(
    postgres_server: PostgresServer,
    nats_server: NatsServer,
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> AsyncIterator[Stack]:
    # Spans make trace ids appear in problem bodies, as they do in a running gateway.
    setup_tracing("crm-gateway-tests")
    module = request.module.__name__.rsplit(".", 1)[-1]
    keys = make_keys(tmp_path_factory.mktemp(f"{module}_keys"))
    prefix = f"G{secrets.token_hex(5)}"
    namespace = f"{prefix}."
    async with AsyncExitStack() as exits:
        exits.push_async_callback(_delete_streams_named, nats_server.url, prefix)

        upstreams = {
            spec.name: await _serve(
                exits,
                spec,
                database_url=await _database(postgres_server, exits, f"gw_{spec.name}_{module}"),
                nats_url=nats_server.url,
                namespace=namespace,
                keys=keys,
                # A module may set the services' own (e.g. test_clock_control, to move their time).
                **getattr(request.module, "SERVICE_SETTINGS", {}),
            )
            for spec in (CUSTOMER, ANALYTICS)
        }

        gateway_database_url = await _database(postgres_server, exits, f"gw_gateway_{module}")
        clock = GatewayClock()
        settings = gateway_settings(
            database_url=gateway_database_url,
            upstreams=upstreams,
            identity_private_key_file=keys.private_path,
            secret_key_file=keys.private_path.parent / "gateway_secrets.key",
            # The objects the customer service stored (crmkit.testing.services puts them beside the keys).
            storage=StorageSettings(backend="local", local_dir=keys.private_path.parent / "files"),
            nats_url=nats_server.url,
            event_namespace=namespace,
            # The webhook tests' robot listens on 127.0.0.1.
            webhook_allow_loopback_http=True,
            # A module may set its own (tight rate limits, a small password queue, ...).
            **getattr(request.module, "GATEWAY_SETTINGS", {}),
        )
        app = create_app(settings, clock=clock)
        await exits.enter_async_context(app.router.lifespan_context(app))
        client = await exits.enter_async_context(
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app),
                base_url="http://gw",
                event_hooks={"response": [_refuse_server_errors]},
            )
        )
        yield Stack(
            client=client,
            app=app,
            clock=clock,
            gateway_database_url=gateway_database_url,
            settings=settings,
            nats_url=nats_server.url,
            namespace=namespace,
        )


@pytest.fixture
def client(stack: Stack) -> httpx.AsyncClient:
    return stack.client


def client_for(app: FastAPI, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """A client of `app` whose requests come from `address` (login protection and the auth
    rate limit count per client address)."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 50000)),
        base_url="http://gw",
        event_hooks={"response": [_refuse_server_errors]},
    )


@pytest_asyncio.fixture(loop_scope="module")
async def from_address(stack: Stack) -> AsyncIterator[Callable[[str], httpx.AsyncClient]]:
    """`from_address("10.0.0.7")`: a client of the test stack's gateway at that address."""
    clients: list[httpx.AsyncClient] = []

    def make(address: str) -> httpx.AsyncClient:
        clients.append(client_for(stack.app, address))
        return clients[-1]

    yield make
    for made in clients:
        await made.aclose()


# --------------------------------------------------------------------------- people and org tree


async def login(client: httpx.AsyncClient, username: str, password: str) -> dict[str, str]:
    """Log in through the API and return the Authorization header for the access token."""
    response = await client.post("/api/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass(frozen=True)
class Person:
    id: str
    username: str
    role: str
    org_unit_id: str
    headers: dict[str, str]


@dataclass(frozen=True)
class Org:
    """HQ → subsidiary 1 → shop 1, HQ → subsidiary 2 → shop 2, and one person per seat."""

    hq: str
    sub1: str
    shop1: str
    sub2: str
    shop2: str
    admin: Person
    boss: Person
    supervisor: Person
    sales_a: Person
    sales_b: Person
    service: Person
    finance: Person
    sales_c: Person

    def by_role(self, role: str) -> Person:
        """The person whose data scope covers shop 1, where the reps keep their customers."""
        return {
            "admin": self.admin,
            "boss": self.boss,
            "supervisor": self.supervisor,
            "sales": self.sales_a,
            "service": self.service,
            "finance": self.finance,
        }[role]


async def _create_unit(client: httpx.AsyncClient, admin: dict[str, str], name: str, parent_id: str) -> dict[str, Any]:
    response = await client.post("/api/v1/org-units", json={"name": name, "parent_id": parent_id}, headers=admin)
    assert response.status_code == 201, response.text
    unit: dict[str, Any] = response.json()
    return unit


async def _create_person(
    client: httpx.AsyncClient, admin: dict[str, str], *, username: str, display_name: str, role: str, unit: str
) -> Person:
    response = await client.post(
        "/api/v1/users",
        json={
            "username": username,
            "display_name": display_name,
            "password": USER_PASSWORD,
            "role": role,
            "org_unit_id": unit,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    user = response.json()
    return Person(user["id"], username, role, unit, await login(client, username, USER_PASSWORD))


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def org(stack: Stack) -> Org:
    client = stack.client
    admin_headers = await login(client, "admin", ADMIN_PASSWORD)
    me = (await client.get("/api/v1/auth/me", headers=admin_headers)).json()
    hq = me["org_unit"]["id"]
    sub1 = await _create_unit(client, admin_headers, "华东分公司", hq)
    sub2 = await _create_unit(client, admin_headers, "华南分公司", hq)
    shop1 = await _create_unit(client, admin_headers, "杭州门店", sub1["id"])
    shop2 = await _create_unit(client, admin_headers, "广州门店", sub2["id"])
    assert (sub1["kind"], shop1["kind"]) == ("subsidiary", "shop")

    async def person(username: str, display_name: str, role: str, unit: str) -> Person:
        return await _create_person(
            client, admin_headers, username=username, display_name=display_name, role=role, unit=unit
        )

    return Org(
        hq=hq,
        sub1=sub1["id"],
        shop1=shop1["id"],
        sub2=sub2["id"],
        shop2=shop2["id"],
        admin=Person(me["id"], "admin", "admin", hq, admin_headers),
        boss=await person("boss", "王总", "boss", hq),
        supervisor=await person("supervisor1", "李主管", "supervisor", sub1["id"]),
        sales_a=await person("sales.a", "张三", "sales", shop1["id"]),
        sales_b=await person("sales.b", "李四", "sales", shop1["id"]),
        service=await person("service1", "赵客服", "service", sub1["id"]),
        finance=await person("finance1", "钱会计", "finance", sub1["id"]),
        sales_c=await person("sales.c", "王五", "sales", shop2["id"]),
    )


# --------------------------------------------------------------------------- helpers
# Test modules cannot import each other under --import-mode=importlib, so helpers reach them
# through the `api` fixture.


def unique_mobile() -> str:
    return "139" + "".join(secrets.choice("0123456789") for _ in range(8))


def unique_credit_code() -> str:
    body = "91330106" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return make_credit_code(body)


def assert_problem(
    response: httpx.Response, status: int, *, code: str | None = None, field: str | None = None
) -> dict[str, Any]:
    """The response is application/problem+json with this status (and code and field, if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON), response.headers["content-type"]
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["title"] and body["detail"] and body["code"]
    assert len(body.get("trace_id", "")) == 32, body
    if code is not None:
        assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field, body
    return body


@dataclass(frozen=True)
class Api:
    """The gateway's REST API as these tests speak it, plus the shared assertions."""

    client: httpx.AsyncClient

    problem = staticmethod(assert_problem)
    eventually = staticmethod(eventually)
    mobile = staticmethod(unique_mobile)
    credit_code = staticmethod(unique_credit_code)

    admin_password = ADMIN_PASSWORD
    user_password = USER_PASSWORD

    async def login(self, username: str, password: str) -> dict[str, str]:
        return await login(self.client, username, password)

    async def hire(self, admin: dict[str, str], username: str, role: str) -> dict[str, Any]:
        """A new user (password `user_password`) at the admin's own org unit."""
        me = (await self.client.get("/api/v1/auth/me", headers=admin)).json()
        response = await self.client.post(
            "/api/v1/users",
            json={
                "username": username,
                "display_name": username,
                "password": USER_PASSWORD,
                "role": role,
                "org_unit_id": me["org_unit"]["id"],
            },
            headers=admin,
        )
        assert response.status_code == 201, response.text
        user: dict[str, Any] = response.json()
        return user

    @staticmethod
    def customer_body(**overrides: Any) -> dict[str, Any]:
        """A valid new customer with a fresh credit code and contact mobile."""
        body: dict[str, Any] = {
            "name": "杭州市西湖区实验小学食堂",
            "type": "学校食堂",
            "credit_code": unique_credit_code(),
            "contacts": [{"name": "张伟", "mobile": unique_mobile(), "title": "后勤主任", "primary": True}],
        }
        body.update(overrides)
        return body

    async def create_customer(self, person: Person, **overrides: Any) -> dict[str, Any]:
        response = await self.client.post(
            "/api/v1/customers", json=self.customer_body(**overrides), headers=person.headers
        )
        assert response.status_code == 201, response.text
        customer: dict[str, Any] = response.json()
        return customer

    async def customer_ids(self, person: Person, **params: Any) -> set[str]:
        """Ids a person sees on the first (largest) page of the customer list, or of results with `q`."""
        params = {"page_size": 200, **params}
        response = await self.client.get("/api/v1/customers", params=params, headers=person.headers)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}


@pytest.fixture
def api(stack: Stack) -> Api:
    return Api(stack.client)
