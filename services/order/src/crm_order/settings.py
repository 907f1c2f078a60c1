"""The order service's settings: the kit's, plus object storage for delivery photos (env prefix
CRM_ORDER_; storage from the shared CRM_STORAGE_* variables, as the gateway streams from it)."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator

from crmkit.settings import ServiceSettings
from crmkit.storage import StorageSettings

MIB = 1024 * 1024


class OrderSettings(ServiceSettings):
    storage: StorageSettings = Field(default_factory=StorageSettings)
    # Largest delivery photo (签收照片), bytes: a phone photo is 2–6 MB.
    delivery_photo_max_bytes: int = Field(default=10 * MIB, ge=1)

    @model_validator(mode="after")
    def _grpc_takes_the_largest_photo(self) -> Self:
        # An upload is one gRPC message: the photo and a little envelope.
        needed = self.delivery_photo_max_bytes + MIB
        if self.grpc_max_receive_bytes < needed:
            self.grpc_max_receive_bytes = needed
        return self
