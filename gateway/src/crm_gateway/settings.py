"""Gateway settings (env prefix CRM_GATEWAY_; keys and bootstrap from shared CRM_* names)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field
from pydantic_settings import SettingsConfigDict

from crmkit.settings import ServiceSettings, state_dir


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_GATEWAY_")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Request bodies over this are refused with 413 before they are read.
    max_body_bytes: int = 1_048_576
    # /docs, /redoc and /openapi.json (on for `make run`; the Helm chart turns them off).
    api_docs: bool = True
    # Strict-Transport-Security max-age, only where clients reach the gateway over https (0 = off).
    hsts_seconds: int = 0
    identity_private_key_file: Path = Field(
        default_factory=lambda: state_dir() / "keys" / "identity_private.pem",
        validation_alias=AliasChoices("CRM_IDENTITY_PRIVATE_KEY_FILE"),
    )
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    bootstrap_admin_password: str = Field(default="", validation_alias=AliasChoices("CRM_BOOTSTRAP_ADMIN_PASSWORD"))
    bootstrap_tenant_name: str = Field(default="演示公司", validation_alias=AliasChoices("CRM_BOOTSTRAP_TENANT_NAME"))
    bootstrap_hq_name: str = Field(default="总部", validation_alias=AliasChoices("CRM_BOOTSTRAP_HQ_NAME"))
    # Deadline for calls to services, seconds.
    grpc_deadline: float = 5.0


def get_settings(**values: Any) -> GatewaySettings:
    """The gateway's settings: the registry's ports and upstreams (CRM_GATEWAY_<SERVICE>_ADDR),
    then the environment, then `values`."""
    return GatewaySettings.load("gateway", **values)
