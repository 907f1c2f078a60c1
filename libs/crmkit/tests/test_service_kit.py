"""The service kit's seams: registry, settings, event names from protos, typed subscriptions,
enum words, keyset tokens and retries declared in protos."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import tomllib
from pathlib import Path

import pytest
from prometheus_client import REGISTRY as METRICS
from sqlalchemy.engine import make_url

from crm.analytics.v1 import analytics_pb2
from crm.customer.v1 import customer_pb2, events_pb2
from crm.events.v1.envelope_pb2 import Envelope
from crm_gateway.notifications.events import NotificationEvents
from crm_gateway.notifications.feed import NotificationFeed
from crmkit.clock import utcnow
from crmkit.components import parse_registry, registry
from crmkit.consumer import EventConsumer, PermanentEventError
from crmkit.enums import ProtoEnum
from crmkit.errors import InvalidArgument
from crmkit.events import event_name_of, event_type_of, producer_of
from crmkit.grpc_client import retryable_methods
from crmkit.paging import decode_token, encode_token, keyset_page
from crmkit.service import ServiceSpec, Subscription
from crmkit.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[3]


def test_every_service_folder_is_in_the_registry_and_every_entry_has_its_folder() -> None:
    folders = {p.parent.relative_to(REPO).as_posix() for p in REPO.glob("services/*/pyproject.toml")}
    folders |= {"gateway"}
    assert {c.path for c in registry().values()} == folders
    for component in registry().values():
        assert (REPO / component.src_dir / component.package / "__main__.py").is_file(), component.name


def test_the_lock_holds_every_components_dependencies() -> None:
    lock = (REPO / "requirements" / "dev.txt").read_text()
    for component in registry().values():
        assert f"({component.path}/pyproject.toml)" in lock, f"run `make lock` after adding {component.name}"


def test_registry_refuses_a_typo_and_an_unknown_callee() -> None:
    with pytest.raises(ValueError, match="unknown keys"):
        parse_registry('[components.x]\npackage = "crm_x"\npath = "services/x"\nkind = "grpc"\ngrpc_prot = 1\n')
    with pytest.raises(ValueError, match="calls"):
        parse_registry(
            '[components.x]\npackage = "crm_x"\npath = "services/x"\nkind = "grpc"\ngrpc_port = 1\ncalls = ["y"]\n'
        )


@pytest.mark.parametrize(
    ("consumes", "refusal"),
    [
        ('["ledger"]', "consumes \\['ledger'\\], which are not components"),
        ('"customer"', "consumes must be a list of component names"),
    ],
    ids=["unknown-producer", "not-a-list"],
)
def test_registry_refuses_consuming_what_no_service_publishes(consumes: str, refusal: str) -> None:
    text = (
        '[components.customer]\npackage = "crm_customer"\npath = "services/customer"\nkind = "grpc"\n'
        'grpc_port = 1\n[components.gateway]\npackage = "crm_gateway"\npath = "gateway"\nkind = "http"\n'
        'http_port = 2\ncalls = ["customer"]\n'
        f'[components.analytics]\npackage = "crm_analytics"\npath = "services/analytics"\nkind = "grpc"\n'
        f"grpc_port = 3\nconsumes = {consumes}\n"
    )
    with pytest.raises(ValueError, match=refusal):
        parse_registry(text)


def test_each_service_consumes_exactly_the_producers_its_registry_entry_lists() -> None:
    # The registry's `consumes` is what its NATS user may read (crmkit.natsauth); the spec's
    # subscriptions are what it does read. The gateway has no spec: its one subscription is the
    # notification inbox's.
    for component in registry().values():
        if component.kind != "grpc":
            feed = NotificationFeed(make_url("sqlite+aiosqlite://"))
            subscription = NotificationEvents(feed, utcnow).subscription()
            assert (component.name, {subscription.producer}) == ("gateway", set(component.consumes))
            continue
        spec: ServiceSpec = importlib.import_module(f"{component.package}.spec").SPEC
        assert spec.name == component.name
        producers = {subscription.producer for subscription in spec.subscriptions}
        assert producers == set(component.consumes), f"{component.name}: set consumes = {sorted(producers)}"


def test_settings_take_ports_from_the_registry_unless_the_environment_sets_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CRM_ANALYTICS_GRPC_PORT", raising=False)
    assert ServiceSettings.load("analytics").grpc_port == registry()["analytics"].grpc_port
    monkeypatch.setenv("CRM_ANALYTICS_GRPC_PORT", "6001")
    settings = ServiceSettings.load("analytics")
    assert settings.grpc_port == 6001
    assert settings.database_url.endswith("analytics.db")


def test_a_caller_finds_each_callee_at_its_registry_port_or_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_GATEWAY_ANALYTICS_ADDR", "analytics.svc:50051")
    monkeypatch.delenv("CRM_GATEWAY_CUSTOMER_ADDR", raising=False)
    monkeypatch.delenv("CRM_GATEWAY_ORDER_ADDR", raising=False)
    upstreams = ServiceSettings.load("gateway").upstreams
    assert upstreams == {
        "customer": f"127.0.0.1:{registry()['customer'].grpc_port}",
        "analytics": "analytics.svc:50051",
        "order": f"127.0.0.1:{registry()['order'].grpc_port}",
    }


def test_event_name_producer_and_type_come_from_the_message() -> None:
    assert event_name_of(events_pb2.CustomerOwnerChanged) == "customer_owner_changed"
    assert producer_of(events_pb2.CustomerCreated) == "customer"
    assert event_type_of(events_pb2.CustomerArchived) == "crm.customer.v1.customer_archived"


def test_a_subscription_spans_one_producer_and_unpacks_for_its_handler() -> None:
    with pytest.raises(ValueError, match="one producer"):
        Subscription("mixed", {events_pb2.CustomerCreated: _ignore, Envelope: _ignore})
    seen: list[str] = []

    async def on_created(session: object, event: events_pb2.CustomerCreated, envelope: Envelope) -> None:
        seen.append(event.customer.name)

    subscription = Subscription("names", {events_pb2.CustomerCreated: on_created})
    assert subscription.producer == "customer"
    assert subscription.durable_name("analytics", "ns.") == "ns-analytics-names"
    handler = subscription.envelope_handlers()["crm.customer.v1.customer_created"]
    envelope = Envelope(id="e1", type="crm.customer.v1.customer_created")
    envelope.payload.Pack(events_pb2.CustomerCreated(customer=customer_pb2.Customer(name="杭州食堂")))
    _run(handler(None, envelope))  # type: ignore[arg-type]
    assert seen == ["杭州食堂"]
    wrong = Envelope(id="e2", type="crm.customer.v1.customer_created")
    wrong.payload.Pack(events_pb2.CustomerArchived())
    with pytest.raises(PermanentEventError):
        _run(handler(None, wrong))  # type: ignore[arg-type]


async def _ignore(session: object, event: object, envelope: Envelope) -> None:
    return None


def _run(coroutine: object) -> None:
    import asyncio

    asyncio.run(coroutine)  # type: ignore[arg-type]


def test_proto_enum_words_round_trip_and_refuse_unknown_values() -> None:
    stages = ProtoEnum(customer_pb2.LifecycleStage)
    assert stages.prefix == "LIFECYCLE_STAGE_"
    assert stages.to_proto("signed") == customer_pb2.LIFECYCLE_STAGE_SIGNED
    assert stages.from_proto(customer_pb2.LIFECYCLE_STAGE_DORMANT) == "dormant"
    assert stages.from_proto(0) == ""
    assert stages.parse(0, "stage", default="lead") == "lead"
    with pytest.raises(InvalidArgument) as refused:
        stages.parse(99, "customer.lifecycle_stage")
    assert refused.value.field == "customer.lifecycle_stage"
    with pytest.raises(InvalidArgument):
        stages.parse(0, "customer.lifecycle_stage")


def test_a_deeply_nested_page_token_is_refused_as_malformed() -> None:
    token = base64.urlsafe_b64encode(b"[" * 5000).decode()
    with pytest.raises(InvalidArgument) as refused:
        decode_token(token, length=2)
    assert refused.value.field == "page_token"


def test_keyset_page_gives_a_token_only_when_more_rows_follow() -> None:
    at = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    rows = [(at, "c"), (at, "b"), (at, "a")]
    page, token = keyset_page(rows, 2, lambda row: row)
    assert page == rows[:2]
    assert decode_token(token, length=2) == [at.isoformat(), "b"]
    assert keyset_page(rows[:2], 2, lambda row: row) == (rows[:2], "")
    assert encode_token([1]) != token


def test_retries_are_the_reads_the_protos_mark() -> None:
    customer_reads = set(retryable_methods("customer"))
    service = "crm.customer.v1.CustomerService"
    assert (service, "GetCustomer") in customer_reads
    assert (service, "ListCustomFieldDefinitions") in customer_reads
    assert not {m for s, m in customer_reads if m.startswith(("Create", "Update", "Set", "Archive", "Delete"))}
    analytics = analytics_pb2.DESCRIPTOR.services_by_name["AnalyticsService"].full_name
    assert sorted(retryable_methods("analytics")) == [
        (analytics, "GetCustomerSummary"),
        (analytics, "GetOwnershipSummary"),
        (analytics, "GetRevisitRate"),
    ]


def test_a_consumers_dead_letter_series_exists_before_its_first_dead_letter() -> None:
    EventConsumer(
        name="series-probe",
        js=None,  # type: ignore[arg-type]
        stream="S",
        filter_subject="s.>",
        namespace="",
        sessions=None,  # type: ignore[arg-type]
        tables=None,  # type: ignore[arg-type]
        handlers={},
    )
    assert METRICS.get_sample_value("crm_consumer_dead_letters_total", {"consumer": "series-probe"}) == 0.0


def test_the_registry_file_is_valid_toml_with_one_table_per_component() -> None:
    raw = tomllib.loads((REPO / "libs/crmkit/src/crmkit/components.toml").read_text())
    assert set(raw["components"]) == set(registry())


async def test_a_sqlite_database_and_its_write_ahead_log_are_readable_by_their_owner_only(tmp_path: Path) -> None:
    from sqlalchemy import text

    from crmkit.db import create_engine

    path = tmp_path / "state" / "customer.db"
    engine = create_engine(f"sqlite+aiosqlite:///{path}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE t (x INTEGER)"))
            await connection.execute(text("INSERT INTO t VALUES (1)"))
        files = [p for p in path.parent.iterdir() if p.name.startswith("customer.db")]
        assert any(p.name.endswith("-wal") for p in files)
        assert {p.name: p.stat().st_mode & 0o777 for p in files} == {p.name: 0o600 for p in files}
        assert path.parent.stat().st_mode & 0o777 == 0o700
    finally:
        await engine.dispose()


def test_a_generated_private_identity_key_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    from crmkit.identity import generate_keypair

    generate_keypair(tmp_path / "keys" / "private.pem", tmp_path / "keys" / "public.pem")

    assert (tmp_path / "keys" / "private.pem").stat().st_mode & 0o777 == 0o600
