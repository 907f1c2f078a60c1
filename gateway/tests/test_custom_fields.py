"""The tenant's own custom fields over REST: the admin defines them, customers' values must fit."""

from __future__ import annotations

FIELDS = "/api/v1/custom-fields"
DEFINITIONS = [
    {"key": "settlement", "label": "结算方式", "type": "choice", "options": ["月结", "现结"], "required": True},
    {"key": "daily_meals", "label": "日供餐人数", "type": "number", "options": [], "required": False},
]


async def test_admin_defines_fields_and_a_rep_fills_them_in(client, org, api) -> None:  # type: ignore[no-untyped-def]
    saved = await client.put(FIELDS, json={"items": DEFINITIONS}, headers=org.admin.headers)
    listed = await client.get(FIELDS, headers=org.sales_a.headers)
    created = await client.post(
        "/api/v1/customers",
        json=api.customer_body(custom_fields={"settlement": "月结", "daily_meals": 620}),
        headers=org.sales_a.headers,
    )

    assert saved.status_code == 200, saved.text
    assert saved.json()["items"] == listed.json()["items"] == DEFINITIONS
    assert created.status_code == 201, created.text
    assert created.json()["custom_fields"] == {"settlement": "月结", "daily_meals": 620}
    assert type(created.json()["custom_fields"]["daily_meals"]) is int  # not 620.0


async def test_a_value_that_does_not_fit_is_400_naming_the_custom_field(client, org, api) -> None:  # type: ignore[no-untyped-def]
    await client.put(FIELDS, json={"items": DEFINITIONS}, headers=org.admin.headers)
    customer = await api.create_customer(org.sales_a, custom_fields={"settlement": "现结"})

    wrong_choice = await client.post(
        "/api/v1/customers", json=api.customer_body(custom_fields={"settlement": "年结"}), headers=org.sales_a.headers
    )
    unknown_key = await client.patch(
        f"/api/v1/customers/{customer['id']}",
        json={"custom_fields": {"settlement": "现结", "旧系统编号": "HZ-17"}},
        headers=org.sales_a.headers,
    )

    api.problem(wrong_choice, 400, code="invalid_argument", field="custom_fields.settlement")
    api.problem(unknown_key, 400, code="invalid_argument", field="custom_fields.旧系统编号")


async def test_sales_cannot_define_custom_fields(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.put(FIELDS, json={"items": DEFINITIONS}, headers=org.sales_a.headers)

    api.problem(response, 403, code="permission_denied")


async def test_bad_definitions_are_refused_naming_the_item(client, org, api) -> None:  # type: ignore[no-untyped-def]
    bad_key = await client.put(
        FIELDS, json={"items": [{"key": "结算", "label": "结算方式", "type": "text"}]}, headers=org.admin.headers
    )
    twice = await client.put(FIELDS, json={"items": [DEFINITIONS[0], DEFINITIONS[0]]}, headers=org.admin.headers)
    no_options = await client.put(
        FIELDS, json={"items": [{"key": "pay", "label": "付款", "type": "choice"}]}, headers=org.admin.headers
    )

    api.problem(bad_key, 422, field="items[0].key")
    api.problem(twice, 400, field="items[1].key")
    api.problem(no_options, 400, field="items[0].options")
