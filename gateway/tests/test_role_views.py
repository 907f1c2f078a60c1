"""Role views, cell by cell: which contact details each role sees in full, masked or not at all.

Every role here can read the customer (it lies in their data scope), so the only thing that
differs between them is the view policy.
"""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

from crm_gateway.customers.views import PII_FIELDS, POLICY
from crmkit.identity import Role

MOBILE, MASKED_MOBILE = "13812348000", "138****8000"
EMAIL, MASKED_EMAIL = "zhang.wei@example.com", "z***@example.com"
WECHAT = "zhangwei_88"
FULL = {"mobile": MOBILE, "email": EMAIL, "wechat_id": WECHAT}
MASKED = {"mobile": MASKED_MOBILE, "email": MASKED_EMAIL}
HIDDEN = object()

# role → field → what that role must see; the policy table of crm_gateway.customers.views.
EXPECTED: dict[str, dict[str, object]] = {
    "admin": FULL,
    "boss": FULL,
    "supervisor": FULL,
    "sales": FULL,
    "service": {**MASKED, "wechat_id": HIDDEN},
    "finance": {**MASKED, "wechat_id": HIDDEN},
}
CELLS = [(role, field) for role in EXPECTED for field in ("mobile", "email", "wechat_id")]


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def customer(stack, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await stack.client.post(
        "/api/v1/customers",
        json={
            "name": "苏州工业园区星海实验中学食堂",
            "contacts": [{"name": "张伟", "mobile": MOBILE, "email": EMAIL, "wechat_id": WECHAT}],
        },
        headers=org.sales_a.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _assert_cell(contact: dict[str, Any], field: str, expected: object) -> None:
    if expected is HIDDEN:
        assert field in contact and contact[field] is None, contact
    else:
        assert contact[field] == expected, contact


@pytest.mark.parametrize(("role", "field"), CELLS)
async def test_customer_detail_shows_contact_field_as_the_policy_says(  # type: ignore[no-untyped-def]
    client, org, customer, role: str, field: str
) -> None:
    response = await client.get(f"/api/v1/customers/{customer['id']}", headers=org.by_role(role).headers)

    assert response.status_code == 200, response.text
    _assert_cell(response.json()["contacts"][0], field, EXPECTED[role][field])


@pytest.mark.parametrize(("role", "field"), CELLS)
async def test_contact_list_shows_contact_field_as_the_policy_says(  # type: ignore[no-untyped-def]
    client, org, customer, role: str, field: str
) -> None:
    response = await client.get(f"/api/v1/customers/{customer['id']}/contacts", headers=org.by_role(role).headers)

    assert response.status_code == 200, response.text
    _assert_cell(response.json()["items"][0], field, EXPECTED[role][field])


@pytest.mark.parametrize("role", ["service", "finance"])
async def test_customer_list_and_search_apply_the_same_view(client, org, customer, role: str) -> None:  # type: ignore[no-untyped-def]
    headers = org.by_role(role).headers
    listed = (await client.get("/api/v1/customers", headers=headers)).json()["items"]
    searched = (await client.get("/api/v1/customers", params={"q": "8000"}, headers=headers)).json()["items"]

    for items in (listed, searched):
        contact = next(c for c in items if c["id"] == customer["id"])["contacts"][0]
        assert (contact["mobile"], contact["email"]) == (MASKED_MOBILE, MASKED_EMAIL)
        assert contact["wechat_id"] is None


def test_every_role_has_a_row_in_the_policy_table() -> None:
    assert set(EXPECTED) == {role.value for role in Role} == {role.value for role in POLICY}
    assert all(set(POLICY[role]) == set(PII_FIELDS) for role in POLICY)
