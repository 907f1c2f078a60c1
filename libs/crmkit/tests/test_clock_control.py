"""A service's periodic jobs and its test clock, through the kit: a throwaway service with one job,
its first migration asking the kit for the event and job tables, started on PostgreSQL and NATS."""

from __future__ import annotations

import asyncio
import datetime as dt
import textwrap
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from sqlalchemy import MetaData

from crm.testing.v1 import clock_control_pb2, clock_control_pb2_grpc
from crmkit.clock import MovableClock
from crmkit.components import REGISTRY_ENV, REGISTRY_FILE
from crmkit.identity import Role
from crmkit.jobs import JobContext, PeriodicJob
from crmkit.service import ServiceSpec
from crmkit.settings import ServiceSettings
from crmkit.testing.clock import advance_service_clock, advance_service_clock_sync
from crmkit.testing.events import eventually
from crmkit.testing.harness import OrgTree, TestKeys, make_keys
from crmkit.testing.migrations import schema_drift
from crmkit.testing.rpc import refusal
from crmkit.testing.services import running_service

SERVICE = "jobprobe"
INTERVAL = dt.timedelta(hours=1)
KIT = Path(__file__).resolve().parents[1] / "src" / "crmkit"
FIRST_MIGRATION = '''
    """kit tables

    Revision ID: 0001
    Revises:
    """

    from crmkit.migration_ops import create_event_tables, create_job_tables

    revision = "0001"
    down_revision = None
    branch_labels = None
    depends_on = None


    def upgrade() -> None:
        create_event_tables()
        create_job_tables()
'''


@pytest.fixture(scope="module")
def probe_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The folder holding `crm_jobprobe`: a package with nothing but its first migration."""
    root = tmp_path_factory.mktemp("jobprobe")
    versions = root / "crm_jobprobe" / "migrations" / "versions"
    versions.mkdir(parents=True)
    (root / "crm_jobprobe" / "__init__.py").write_text('"""A throwaway service with one periodic job."""\n')
    (versions / "0001_kit_tables.py").write_text(textwrap.dedent(FIRST_MIGRATION))
    registry = (KIT / REGISTRY_FILE).read_text(encoding="utf-8")
    registry += f'\n[components.{SERVICE}]\npackage = "crm_jobprobe"\npath = "services/{SERVICE}"\nkind = "grpc"\n'
    registry += "grpc_port = 50999\n"
    (root / REGISTRY_FILE).write_text(registry, encoding="utf-8")
    return root


@pytest.fixture
def probe_registered(probe_package: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The probe in this test's registry (only), importable."""
    monkeypatch.setenv(REGISTRY_ENV, str(probe_package / REGISTRY_FILE))
    monkeypatch.syspath_prepend(str(probe_package))


@pytest.fixture
def keys(tmp_path: Path) -> TestKeys:
    return make_keys(tmp_path)


class Reminders:
    """The job: remembers the service time of each run."""

    def __init__(self) -> None:
        self.times: list[dt.datetime] = []

    async def __call__(self, context: JobContext) -> None:
        self.times.append(context.now)

    async def runs(self) -> int:
        return len(self.times)


def probe_spec(job: Reminders) -> ServiceSpec:
    return ServiceSpec(
        name=SERVICE,
        metadata=MetaData(),
        servicers=[],
        jobs=[PeriodicJob(name="revisit-reminders", interval=INTERVAL, run=job)],
    )


def admin_metadata(keys: TestKeys) -> tuple[tuple[str, str], ...]:
    tree = OrgTree.create()
    return keys.metadata(tree.person(Role.ADMIN, tree.hq))


def duration(value: dt.timedelta) -> Duration:
    found = Duration()
    found.FromTimedelta(value)
    return found


async def test_the_clock_cannot_be_moved_unless_the_services_settings_allow_it(
    probe_registered: None, pg_database_url: str, nats_url: str, stream_prefix: str, nats_cleanup: None, keys: TestKeys
) -> None:
    async with running_service(
        probe_spec(Reminders()),
        database_url=pg_database_url,
        nats_url=nats_url,
        namespace=f"{stream_prefix}.",
        keys=keys,
    ) as (running, channel):
        clock = clock_control_pb2_grpc.ClockControlServiceStub(channel)
        metadata = admin_metadata(keys)

        advance = clock.Advance(clock_control_pb2.AdvanceRequest(duration=duration(INTERVAL)), metadata=metadata)
        assert (await refusal(advance)).code == grpc.StatusCode.UNIMPLEMENTED
        assert (await refusal(clock.Get(clock_control_pb2.GetRequest(), metadata=metadata))).code == (
            grpc.StatusCode.UNIMPLEMENTED
        )
        assert not isinstance(running.runtime.clock, MovableClock)


async def test_moving_a_services_clock_over_grpc_runs_the_job_that_fell_due(
    probe_registered: None, pg_database_url: str, nats_url: str, stream_prefix: str, nats_cleanup: None, keys: TestKeys
) -> None:
    reminders = Reminders()
    async with running_service(
        probe_spec(reminders),
        database_url=pg_database_url,
        nats_url=nats_url,
        namespace=f"{stream_prefix}.",
        keys=keys,
        test_clock_control=True,
    ) as (running, channel):
        clock = clock_control_pb2_grpc.ClockControlServiceStub(channel)
        metadata = admin_metadata(keys)
        # Due at start: it never ran.
        await eventually(reminders.runs)
        jobs = running.jobs
        assert jobs is not None
        await eventually(lambda: _idle(jobs.running))

        moved = await advance_service_clock(channel, INTERVAL, metadata=metadata)

        await eventually(reminders.runs, lambda runs: runs == 2)
        assert reminders.times[1] >= moved >= reminders.times[0] + INTERVAL
        await eventually(lambda: _idle(jobs.running))
        # As an end-to-end test does it: a blocking call from outside the service's loop.
        address = f"127.0.0.1:{running.port}"
        await asyncio.to_thread(advance_service_clock_sync, address, INTERVAL, metadata=metadata)
        await eventually(reminders.runs, lambda runs: runs == 3)
        now = await clock.Get(clock_control_pb2.GetRequest(), metadata=metadata)
        assert now.offset.ToTimedelta() == 2 * INTERVAL
        assert now.now.ToDatetime(tzinfo=dt.UTC) >= reminders.times[2]


async def test_the_test_clock_moves_only_forward_and_only_for_a_signed_caller(
    probe_registered: None, pg_database_url: str, nats_url: str, stream_prefix: str, nats_cleanup: None, keys: TestKeys
) -> None:
    async with running_service(
        probe_spec(Reminders()),
        database_url=pg_database_url,
        nats_url=nats_url,
        namespace=f"{stream_prefix}.",
        keys=keys,
        test_clock_control=True,
    ) as (running, channel):
        clock = clock_control_pb2_grpc.ClockControlServiceStub(channel)
        back = clock_control_pb2.AdvanceRequest(duration=duration(-INTERVAL))

        backwards = await refusal(clock.Advance(back, metadata=admin_metadata(keys)))
        anonymous = await refusal(clock.Advance(clock_control_pb2.AdvanceRequest(duration=duration(INTERVAL))))

        assert (backwards.code, backwards.field) == (grpc.StatusCode.INVALID_ARGUMENT, "duration")
        assert anonymous.code == grpc.StatusCode.UNAUTHENTICATED
        assert isinstance(running.runtime.clock, MovableClock)
        assert running.runtime.clock.offset == dt.timedelta(0)


async def test_the_kits_job_table_migration_makes_the_table_the_spec_declares(
    probe_registered: None, pg_database_url: str
) -> None:
    spec = probe_spec(Reminders())
    assert await schema_drift(pg_database_url, spec.migrations, spec.metadata) == []


def test_clock_control_is_a_setting_of_each_service_off_unless_its_own_variable_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert ServiceSettings.load("customer").test_clock_control is False
    monkeypatch.setenv("CRM_TEST_CLOCK_CONTROL", "true")
    monkeypatch.setenv("CRM_ANALYTICS_TEST_CLOCK_CONTROL", "true")
    assert ServiceSettings.load("customer").test_clock_control is False
    monkeypatch.setenv("CRM_CUSTOMER_TEST_CLOCK_CONTROL", "true")
    assert ServiceSettings.load("customer").test_clock_control is True


async def _idle(running: frozenset[str]) -> bool:
    return not running
