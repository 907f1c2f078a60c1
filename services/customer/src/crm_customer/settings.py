"""Customer service settings (env prefix CRM_CUSTOMER_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crmkit.settings import ServiceSettings


class CustomerSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_CUSTOMER_")

    grpc_port: int = 50051
    metrics_port: int = 9101

    def resolved_database_url(self) -> str:
        return self.database_url or self.sqlite_default("customer")


def get_settings() -> CustomerSettings:
    return CustomerSettings()
