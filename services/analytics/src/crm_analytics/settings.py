"""Analytics service settings (env prefix CRM_ANALYTICS_)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from crmkit.settings import ServiceSettings


class AnalyticsSettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_ANALYTICS_")

    grpc_port: int = 50052
    metrics_port: int = 9102

    def resolved_database_url(self) -> str:
        return self.database_url or self.sqlite_default("analytics")


def get_settings() -> AnalyticsSettings:
    return AnalyticsSettings()
