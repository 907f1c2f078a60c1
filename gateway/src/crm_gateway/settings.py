"""Gateway settings (env prefix CRM_GATEWAY_; keys and bootstrap from shared CRM_* names)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, BaseModel, Field, field_validator
from pydantic_settings import SettingsConfigDict

from crmkit.settings import ServiceSettings, state_dir
from crmkit.storage import StorageSettings


class RateLimit(BaseModel):
    """A token bucket: `burst` requests at once, refilled at `per_minute`."""

    burst: int = Field(ge=1)
    per_minute: float = Field(gt=0)


def _default_rate_limits() -> dict[str, RateLimit]:
    # auth: per client address (login, refresh, two-factor); reads and writes: per user. A person
    # at the console never comes near these; "200 requests in 2 s on one token" does.
    return {
        "auth": RateLimit(burst=30, per_minute=60),
        "reads": RateLimit(burst=120, per_minute=300),
        "writes": RateLimit(burst=60, per_minute=120),
        # Per partner system (API client) unless the client has its own limit.
        "partners": RateLimit(burst=120, per_minute=600),
    }


def _checkout_web_dir() -> Path | None:
    """The repository's web/ folder when the gateway runs from a checkout (make run, tests, e2e);
    an installed gateway has none and serves no front ends unless CRM_GATEWAY_WEB_DIR says where."""
    root = Path(__file__).resolve().parents[3]
    return root / "web" if (root / "gateway" / "src" / "crm_gateway").is_dir() else None


def _password_workers() -> int:
    # Leave a core to the event loop: argon2 takes ~0.1 s of CPU per login.
    return max(1, (os.cpu_count() or 2) - 1)


class GatewaySettings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="CRM_GATEWAY_")

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    # Request bodies over this are refused with 413 before they are read.
    max_body_bytes: int = 1_048_576
    # ... except an attachment upload (multipart), up to this; the customer service then holds
    # each kind to its own limit (CRM_CUSTOMER_ATTACHMENT_MAX_BYTES, 20 MiB at most by default).
    max_upload_bytes: int = 21 * 1_048_576
    # Object storage the attachments are streamed from: the same CRM_STORAGE_* as the customer
    # service's, which stores them.
    storage: StorageSettings = Field(default_factory=StorageSettings)
    # Lifetime of a signed attachment link (an <img src> that needs no Authorization header).
    attachment_link_seconds: int = Field(default=300, ge=10, le=3600)
    # An import file (POST /api/v1/customer-imports) may be this large (the customer service
    # takes at most 50 MiB).
    import_max_bytes: int = Field(default=50 * 1_048_576, ge=1, le=50 * 1_048_576)
    # /docs, /redoc and /openapi.json (on for `make run`; the Helm chart turns them off).
    api_docs: bool = True
    # Strict-Transport-Security max-age, only where clients reach the gateway over https (0 = off).
    # Set, it also marks the browser's refresh cookie Secure whatever scheme the request shows.
    hsts_seconds: int = 0
    # The web workspace whose builds are served: <web_dir>/console/dist at /, <web_dir>/mobile/dist
    # at /m/ (the image sets it to where its Dockerfile copies them). Unset: no front ends.
    web_dir: Path | None = Field(default_factory=_checkout_web_dir)
    identity_private_key_file: Path = Field(
        default_factory=lambda: state_dir() / "keys" / "identity_private.pem",
        validation_alias=AliasChoices("CRM_IDENTITY_PRIVATE_KEY_FILE"),
    )
    # AES-GCM key for secrets the gateway stores (TOTP secrets); created 0600 on first start.
    secret_key_file: Path = Field(default_factory=lambda: state_dir() / "keys" / "gateway_secrets.key")
    access_token_minutes: int = 15
    refresh_token_days: int = 30
    bootstrap_admin_password: str = Field(default="", validation_alias=AliasChoices("CRM_BOOTSTRAP_ADMIN_PASSWORD"))
    bootstrap_tenant_name: str = Field(default="演示公司", validation_alias=AliasChoices("CRM_BOOTSTRAP_TENANT_NAME"))
    bootstrap_hq_name: str = Field(default="总部", validation_alias=AliasChoices("CRM_BOOTSTRAP_HQ_NAME"))
    # Deadline for calls to services, seconds.
    grpc_deadline: float = 5.0

    # Login protection: failures within the window lock the account (or the client address)
    # for `login_lock_minutes`, doubling with each further lock up to `login_lock_max_minutes`.
    login_account_failures: int = Field(default=5, ge=1)
    login_address_failures: int = Field(default=20, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_lock_minutes: int = Field(default=15, ge=1)
    login_lock_max_minutes: int = Field(default=24 * 60, ge=1)
    # Past half the allowed failures, each one makes the next attempt wait 1, 2, 4 ... s, at
    # most this long (0: no delays).
    login_delay_max_seconds: int = Field(default=30, ge=0)
    # Password hashes verified at once (worker threads), and logins allowed to wait for one.
    password_hash_concurrency: int = Field(default_factory=_password_workers, ge=1)
    password_queue_limit: int = Field(default=64, ge=1)

    # Token buckets per route group, shared by every replica through the gateway's database.
    rate_limits_enabled: bool = True
    rate_limits: dict[str, RateLimit] = Field(default_factory=_default_rate_limits)
    # Tokens a replica takes from the shared bucket at once (1: one UPDATE per request).
    rate_limit_lease: int = Field(default=10, ge=1)

    @field_validator("web_dir", mode="before")
    @classmethod
    def _no_web_dir_when_empty(cls, value: object) -> object:
        # CRM_GATEWAY_WEB_DIR="" turns the front ends off rather than serving the current directory.
        return None if value == "" else value

    @field_validator("rate_limits", mode="after")
    @classmethod
    def _keep_default_groups(cls, value: dict[str, RateLimit]) -> dict[str, RateLimit]:
        # CRM_GATEWAY_RATE_LIMITS='{"reads": {...}}' changes reads and keeps the other groups.
        return {**_default_rate_limits(), **value}

    # Group-robot webhooks must be https://; this admits http:// to this machine (127.0.0.1,
    # localhost) too, for `make run` and tests only.
    webhook_allow_loopback_http: bool = False

    # Two-factor: the issuer shown in authenticator apps; how long the login's second step may take.
    mfa_issuer: str = "Keyuan 客源"
    mfa_token_minutes: int = Field(default=5, ge=1)


def get_settings(**values: Any) -> GatewaySettings:
    """The gateway's settings: the registry's ports and upstreams (CRM_GATEWAY_<SERVICE>_ADDR),
    then the environment, then `values`."""
    return GatewaySettings.load("gateway", **values)
