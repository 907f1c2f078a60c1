"""Service settings: own prefix per service, shared variables read by every service."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from pydantic_settings import SettingsConfigDict

from crmkit.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_LEDGER_")

    service_name: str = "ledger"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "CRM_NATS_URL",
        "CRM_LEDGER_NATS_URL",
        "CRM_DATABASE_URL",
        "CRM_LEDGER_DATABASE_URL",
        "CRM_NATS_NKEY_SEED_FILE",
        "CRM_LEDGER_NATS_NKEY_SEED_FILE",
        "CRM_NATS_CREDS_FILE",
    ):
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


def test_a_process_reads_its_own_nats_credentials_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert (LedgerSettings().nats_nkey_seed_file, LedgerSettings().nats_creds_file) == (None, None)
    monkeypatch.setenv("CRM_LEDGER_NATS_NKEY_SEED_FILE", "/etc/keyuan/nats/ledger.nk")
    assert LedgerSettings().nats_nkey_seed_file == Path("/etc/keyuan/nats/ledger.nk")
    monkeypatch.delenv("CRM_LEDGER_NATS_NKEY_SEED_FILE")
    monkeypatch.setenv("CRM_NATS_CREDS_FILE", "/etc/keyuan/nats/ledger.creds")
    assert LedgerSettings().nats_creds_file == Path("/etc/keyuan/nats/ledger.creds")


def test_an_empty_credentials_variable_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NATS_NKEY_SEED_FILE", "")
    assert LedgerSettings().nats_nkey_seed_file is None


def test_two_kinds_of_nats_credentials_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRM_NATS_NKEY_SEED_FILE", "/etc/keyuan/nats/ledger.nk")
    monkeypatch.setenv("CRM_NATS_CREDS_FILE", "/etc/keyuan/nats/ledger.creds")
    with pytest.raises(ValidationError, match="not both"):
        LedgerSettings()
