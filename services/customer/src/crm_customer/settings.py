"""The customer service's settings: the kit's, plus object storage and the attachments' limits
(env prefix CRM_CUSTOMER_; storage from the shared CRM_STORAGE_* variables)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, field_validator, model_validator

from crmkit.settings import ServiceSettings
from crmkit.storage import StorageSettings

MIB = 1024 * 1024


def _default_attachment_limits() -> dict[str, int]:
    # A phone photo is 2–6 MB; scanned licences and contracts run larger.
    return {"visit_photo": 10 * MIB, "licence": 20 * MIB, "contract": 20 * MIB, "other": 20 * MIB}


class CustomerSettings(ServiceSettings):
    storage: StorageSettings = Field(default_factory=StorageSettings)
    # Largest upload per attachment kind, bytes (CRM_CUSTOMER_ATTACHMENT_MAX_BYTES='{"visit_photo": 5242880}'
    # changes that kind and keeps the others).
    attachment_max_bytes: dict[str, int] = Field(default_factory=_default_attachment_limits)
    # Thumbnails of images: JPEG, at most this many pixels on the longer side.
    thumbnail_px: int = Field(default=320, ge=64, le=2048)

    @field_validator("attachment_max_bytes", mode="after")
    @classmethod
    def _keep_default_kinds(cls, value: dict[str, int]) -> dict[str, int]:
        merged = {**_default_attachment_limits(), **value}
        unknown = set(merged) - set(_default_attachment_limits())
        if unknown:
            raise ValueError(f"unknown attachment kinds {sorted(unknown)}")
        if any(limit < 1 for limit in merged.values()):
            raise ValueError("attachment limits must be positive")
        return merged

    @model_validator(mode="after")
    def _grpc_takes_the_largest_upload(self) -> Self:
        # An upload is one gRPC message: the file and a little envelope.
        needed = max(self.attachment_max_bytes.values()) + MIB
        if self.grpc_max_receive_bytes < needed:
            self.grpc_max_receive_bytes = needed
        return self
