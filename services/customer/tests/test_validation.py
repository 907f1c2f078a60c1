"""Bad input is refused with INVALID_ARGUMENT naming the field, never answered with INTERNAL."""

from __future__ import annotations

import base64
import json
from typing import Any

import grpc
import pytest

from crm.customer.v1 import customer_pb2 as pb
from crmkit.identity import Role

VALID_NAME = "石家庄长安区实验小学食堂"


def _token(values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"name": ""}, "customer.name", id="empty name"),
        pytest.param({"name": "   "}, "customer.name", id="blank name"),
        pytest.param({"name": "食" * 201}, "customer.name", id="201-character name"),
        pytest.param({"name": "食堂\x00"}, "customer.name", id="control character in name"),
        pytest.param({"credit_code": "91350100M000100Y44"}, "customer.credit_code", id="wrong check character"),
        pytest.param({"credit_code": "91350100M000100Y4"}, "customer.credit_code", id="17-character credit code"),
        pytest.param(
            {"contacts": [pb.Contact(name="张", mobile="12800138000")]}, "customer.contacts[0].mobile", id="mobile"
        ),
        pytest.param(
            {"contacts": [pb.Contact(name="张", wechat_id="1abc")]}, "customer.contacts[0].wechat_id", id="wechat id"
        ),
        pytest.param({"contacts": [pb.Contact(name="张", email="x@")]}, "customer.contacts[0].email", id="email"),
        pytest.param(
            {"contacts": [pb.Contact(mobile="13800138000")]}, "customer.contacts[0].name", id="nameless contact"
        ),
        pytest.param(
            {"contacts": [pb.Contact(name="张", decision_role=99)]},
            "customer.contacts[0].decision_role",
            id="decision role",
        ),
        pytest.param(
            {"contacts": [pb.Contact(name=f"联系人{i}") for i in range(31)]}, "customer.contacts", id="31 contacts"
        ),
        pytest.param({"type": "外星餐厅"}, "customer.type", id="unknown customer type"),
        pytest.param({"lifecycle_stage": 99}, "customer.lifecycle_stage", id="unknown lifecycle stage"),
        pytest.param({"contract_start": "2025/01/01"}, "customer.contract_start", id="contract date format"),
        pytest.param(
            {"contract_start": "2025-06-01", "contract_end": "2025-05-31"},
            "customer.contract_end",
            id="contract ends first",
        ),
        pytest.param({"tags": [f"标签{i}" for i in range(21)]}, "customer.tags", id="21 tags"),
        pytest.param({"addresses": [pb.Address(detail="路" * 201)]}, "customer.addresses[0].detail", id="long address"),
    ],
)
async def test_create_with_bad_input_is_refused_naming_the_field(
    customer_service, fields: dict[str, Any], field: str
) -> None:
    org = customer_service.org
    request = {"name": VALID_NAME, **fields}

    refusal = await customer_service.refusal(customer_service.create(org.person(Role.SALES, org.shop_a), **request))

    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT, refusal
    assert refusal.field == field
    assert refusal.trailers["crm-error-code"] == "invalid_argument"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        pytest.param({"owner_id": "rep-" + "9" * 40}, "customer.owner_id", id="owner id"),
        pytest.param({"org_unit_id": "unit-" + "9" * 40}, "customer.org_unit_id", id="org unit id"),
    ],
)
async def test_create_placing_the_customer_with_an_overlong_id_is_refused(
    customer_service, fields: dict[str, Any], field: str
) -> None:
    org = customer_service.org
    placement = {"owner_id": "rep-1", "org_unit_id": org.shop_a, "org_path": org.path(org.shop_a), **fields}
    if "org_unit_id" in fields:
        placement["org_path"] = f"{org.path(org.sub_a)}{fields['org_unit_id']}/"

    refusal = await customer_service.refusal(
        customer_service.create(org.person(Role.ADMIN, org.hq), name=VALID_NAME, **placement)
    )

    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT, refusal
    assert refusal.field == field


async def test_list_page_size_above_the_maximum_is_refused(customer_service) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.stub.ListCustomers(
            pb.ListCustomersRequest(page_size=10000),
            metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal.field == "page_size"


async def test_search_page_size_above_the_maximum_is_refused(customer_service) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.stub.SearchCustomers(
            pb.SearchCustomersRequest(query="食堂", page_size=10000),
            metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal.field == "page_size"


MALFORMED_LIST_TOKENS = [
    pytest.param("not a token!", id="not base64"),
    pytest.param(_token({"after": 1}), id="not a list"),
    pytest.param(_token(["2025-01-01T00:00:00+00:00"]), id="one value"),
    pytest.param(_token(["yesterday", "x"]), id="not a time"),
    pytest.param(_token([None, None]), id="nulls"),
    pytest.param(_token(["0001-01-01T00:00:00+14:00", "x"]), id="time out of range"),
]


@pytest.mark.parametrize("token", MALFORMED_LIST_TOKENS)
async def test_list_with_a_malformed_page_token_is_refused(customer_service, token: str) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.stub.ListCustomers(
            pb.ListCustomersRequest(page_token=token),
            metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT, refusal
    assert refusal.field == "page_token"


@pytest.mark.parametrize(
    "token",
    [
        pytest.param("not a token!", id="not base64"),
        pytest.param(_token([1, 2]), id="two values"),
        pytest.param(_token(["twenty"]), id="not a number"),
        pytest.param(_token([-20]), id="negative"),
        pytest.param(_token([10**6]), id="too deep"),
    ],
)
async def test_search_with_a_malformed_page_token_is_refused(customer_service, token: str) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.stub.SearchCustomers(
            pb.SearchCustomersRequest(query="食堂", page_token=token),
            metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a)),
        )
    )
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT, refusal
    assert refusal.field == "page_token"


async def test_get_without_an_id_is_refused_naming_the_id(customer_service) -> None:
    org = customer_service.org
    refusal = await customer_service.refusal(
        customer_service.stub.GetCustomer(
            pb.GetCustomerRequest(id=""), metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a))
        )
    )
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal.field == "id"
