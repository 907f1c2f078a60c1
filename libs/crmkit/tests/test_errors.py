"""Every domain error a service raises has its own gRPC status code."""

from __future__ import annotations

import grpc
import pytest

from crmkit import errors
from crmkit.grpc_server import STATUS_OF, status_for


def domain_error_classes() -> list[type[errors.DomainError]]:
    found: list[type[errors.DomainError]] = []
    pending = list(errors.DomainError.__subclasses__())
    while pending:
        cls = pending.pop()
        if cls.__module__ == errors.__name__:
            found.append(cls)
        pending.extend(cls.__subclasses__())
    return sorted(found, key=lambda cls: cls.__name__)


def instance_of(cls: type[errors.DomainError]) -> errors.DomainError:
    if cls is errors.InvalidArgument:
        return errors.InvalidArgument("phone", "not a phone number")
    if cls is errors.NotFound:
        return errors.NotFound("customer", "c-1")
    return cls("message")


@pytest.mark.parametrize("cls", domain_error_classes(), ids=lambda cls: cls.__name__)
def test_domain_error_maps_to_its_own_status(cls: type[errors.DomainError]) -> None:
    status = status_for(instance_of(cls))
    assert status not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.OK)


def test_domain_errors_map_to_distinct_statuses() -> None:
    statuses = [status_for(instance_of(cls)) for cls in domain_error_classes()]
    assert len(set(statuses)) == len(statuses) == len(STATUS_OF)


def test_subclass_of_a_domain_error_inherits_its_status() -> None:
    class CreditLimitExceeded(errors.FailedPrecondition):
        code = "credit_limit_exceeded"

    assert status_for(CreditLimitExceeded("over limit")) is grpc.StatusCode.FAILED_PRECONDITION


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (errors.NotFound("customer", "c-1"), grpc.StatusCode.NOT_FOUND),
        (errors.InvalidArgument("phone", "bad"), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.PermissionDenied("no"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.Unauthenticated("no"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.AlreadyExists("dup", details={"existing-id": "c-1"}), grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition("closed"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.Aborted("stale version"), grpc.StatusCode.ABORTED),
    ],
)
def test_domain_error_status_is_the_expected_one(error: errors.DomainError, status: grpc.StatusCode) -> None:
    assert status_for(error) is status


@pytest.mark.parametrize("cls", errors.TAXONOMY, ids=lambda cls: cls.__name__)
def test_each_kind_comes_back_from_its_own_status(cls: type[errors.DomainError]) -> None:
    assert errors.kind_of_status(cls.grpc_status) is cls
    assert 400 <= cls.http_status < 600


def test_every_kind_of_the_module_is_in_the_taxonomy() -> None:
    assert set(errors.TAXONOMY) == set(domain_error_classes())


def test_details_travel_as_trailers_and_come_back_unchanged() -> None:
    from crmkit.grpc_server import error_details, error_trailers

    refusal = errors.AlreadyExists("dup", field="customer.custom_fields.结算方式", details={"existing-id": "客户-1"})
    trailers = dict(error_trailers(refusal))

    assert all(value.isascii() for value in trailers.values())
    assert trailers["crm-error-code"] == "already_exists"
    assert error_details(trailers) == {"existing-id": "客户-1"}
