"""Service settings: own prefix per service, shared variables read by every service."""

from __future__ import annotations

import pytest
from pydantic_settings import SettingsConfigDict

from crmkit.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_LEDGER_")

    service_name: str = "ledger"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRM_NATS_URL", "CRM_LEDGER_NATS_URL", "CRM_DATABASE_URL", "CRM_LEDGER_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_service_reads_the_shared_nats_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NATS_URL", "nats://nats.crm.svc:4222")
    assert LedgerSettings().nats_url == "nats://nats.crm.svc:4222"


def test_service_reads_its_own_prefixed_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_LEDGER_DATABASE_URL", "postgresql+asyncpg://crm@db/ledger")
    assert LedgerSettings().database_url == "postgresql+asyncpg://crm@db/ledger"


def test_another_services_database_url_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_DATABASE_URL", "postgresql+asyncpg://crm@db/someone-else")
    assert LedgerSettings().database_url == ""


def test_prefixed_variable_is_read_as_well_as_the_shared_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_LEDGER_NATS_URL", "nats://ledger-only:4222")
    assert LedgerSettings().nats_url == "nats://ledger-only:4222"


def test_keyword_arguments_override_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NATS_URL", "nats://from-env:4222")
    assert LedgerSettings(nats_url="nats://from-test:4222").nats_url == "nats://from-test:4222"
