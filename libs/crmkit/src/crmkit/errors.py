"""Domain errors every service raises: the one error taxonomy.

Each kind declares once its gRPC status, its HTTP status and its stable machine-readable `code`.
The call guard (crmkit.grpc_server) answers with the gRPC status and puts the code, the field
and any details in trailing metadata; the gateway turns the gRPC status back into the same kind
and answers with its HTTP status. A service may subclass a kind for its own `code`
(`class CreditLimitExceeded(FailedPrecondition): code = "credit_limit_exceeded"`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import grpc


class DomainError(Exception):
    """Base of the errors a caller can act on. `details` are extra facts for the caller (short
    ASCII keys, e.g. `{"existing-id": ...}`), sent as trailing metadata `crm-error-<key>`."""

    code: ClassVar[str] = "error"
    grpc_status: ClassVar[grpc.StatusCode] = grpc.StatusCode.UNKNOWN
    http_status: ClassVar[int] = 500

    def __init__(self, message: str, *, field: str | None = None, details: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = dict(details or {})


class InvalidArgument(DomainError):
    code = "invalid_argument"
    grpc_status = grpc.StatusCode.INVALID_ARGUMENT
    http_status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class Unauthenticated(DomainError):
    code = "unauthenticated"
    grpc_status = grpc.StatusCode.UNAUTHENTICATED
    http_status = 401


class PermissionDenied(DomainError):
    code = "permission_denied"
    grpc_status = grpc.StatusCode.PERMISSION_DENIED
    http_status = 403


class NotFound(DomainError):
    """A missing record and a record the caller may not see look exactly the same."""

    code = "not_found"
    grpc_status = grpc.StatusCode.NOT_FOUND
    http_status = 404

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"{resource} {resource_id} not found / 未找到")
        self.resource = resource
        self.resource_id = resource_id


class AlreadyExists(DomainError):
    code = "already_exists"
    grpc_status = grpc.StatusCode.ALREADY_EXISTS
    http_status = 409


class Aborted(DomainError):
    """Optimistic-concurrency conflict: the caller should re-read and retry."""

    code = "aborted"
    grpc_status = grpc.StatusCode.ABORTED
    http_status = 409


class FailedPrecondition(DomainError):
    code = "failed_precondition"
    grpc_status = grpc.StatusCode.FAILED_PRECONDITION
    http_status = 412


class ResourceExhausted(DomainError):
    """Too many requests, or a request too large: the caller should slow down or send less."""

    code = "resource_exhausted"
    grpc_status = grpc.StatusCode.RESOURCE_EXHAUSTED
    http_status = 429


class Unavailable(DomainError):
    """A service this one needs is down; the caller may retry later."""

    code = "service_unavailable"
    grpc_status = grpc.StatusCode.UNAVAILABLE
    http_status = 503


class DeadlineExceeded(DomainError):
    code = "deadline_exceeded"
    grpc_status = grpc.StatusCode.DEADLINE_EXCEEDED
    http_status = 504


TAXONOMY: tuple[type[DomainError], ...] = (
    InvalidArgument,
    Unauthenticated,
    PermissionDenied,
    NotFound,
    AlreadyExists,
    Aborted,
    FailedPrecondition,
    ResourceExhausted,
    Unavailable,
    DeadlineExceeded,
)
_BY_STATUS = {kind.grpc_status: kind for kind in TAXONOMY}


def kind_of_status(status: grpc.StatusCode) -> type[DomainError] | None:
    """The kind of error a gRPC status carries back (None for UNKNOWN, INTERNAL and the like)."""
    return _BY_STATUS.get(status)
