"""Domain errors every service raises; one call guard maps them to gRPC status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of the errors a caller can act on. `code` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class InvalidArgument(DomainError):
    code = "invalid_argument"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", field=field)
        self.reason = reason


class NotFound(DomainError):
    """A missing record and a record the caller may not see look exactly the same."""

    code = "not_found"

    def __init__(self, resource: str, resource_id: str) -> None:
        super().__init__(f"{resource} {resource_id} not found / 未找到")
        self.resource = resource
        self.resource_id = resource_id


class AlreadyExists(DomainError):
    code = "already_exists"

    def __init__(
        self, message: str, *, field: str | None = None, existing_id: str = "", existing_owner_id: str = ""
    ) -> None:
        super().__init__(message, field=field)
        self.existing_id = existing_id
        # Set only when the caller may see the existing record; the gateway shows the owner's name.
        self.existing_owner_id = existing_owner_id


class PermissionDenied(DomainError):
    code = "permission_denied"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class FailedPrecondition(DomainError):
    code = "failed_precondition"


class Aborted(DomainError):
    """Optimistic-concurrency conflict: the caller should re-read and retry."""

    code = "aborted"
