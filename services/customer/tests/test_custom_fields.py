"""A tenant's own custom fields: admins define them, and customers' values must fit them."""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import json_format
from google.protobuf.field_mask_pb2 import FieldMask
from google.protobuf.struct_pb2 import Struct

from crm.customer.v1 import customer_pb2 as pb
from crmkit.identity import Role

SETTLEMENT = pb.CustomFieldDefinition(
    key="settlement",
    label="结算方式",
    type=pb.CUSTOM_FIELD_TYPE_CHOICE,
    options=["月结", "现结", "周结"],
    required=True,
)
DELIVERY_WINDOW = pb.CustomFieldDefinition(key="delivery_window", label="配送时段", type=pb.CUSTOM_FIELD_TYPE_TEXT)
DAILY_MEALS = pb.CustomFieldDefinition(key="daily_meals", label="日供餐人数", type=pb.CUSTOM_FIELD_TYPE_NUMBER)
FIRST_ORDER = pb.CustomFieldDefinition(key="first_order", label="首次下单日", type=pb.CUSTOM_FIELD_TYPE_DATE)
HALAL = pb.CustomFieldDefinition(key="halal", label="清真", type=pb.CUSTOM_FIELD_TYPE_BOOLEAN)
DEFINITIONS = [SETTLEMENT, DELIVERY_WINDOW, DAILY_MEALS, FIRST_ORDER, HALAL]


def struct(values: dict[str, Any]) -> Struct:
    message = Struct()
    message.update(values)
    return message


async def define(customer_service, identity, definitions: list[pb.CustomFieldDefinition]):  # type: ignore[no-untyped-def]
    return await customer_service.stub.SetCustomFieldDefinitions(
        pb.SetCustomFieldDefinitionsRequest(definitions=definitions), metadata=customer_service.metadata(identity)
    )


async def test_admin_defines_custom_fields_and_every_colleague_lists_them_in_order(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)

    saved = await define(customer_service, admin, DEFINITIONS)
    listed = await customer_service.stub.ListCustomFieldDefinitions(
        pb.ListCustomFieldDefinitionsRequest(), metadata=customer_service.metadata(org.person(Role.SALES, org.shop_a))
    )

    assert list(saved.definitions) == list(listed.definitions) == DEFINITIONS


async def test_customer_values_that_fit_the_definitions_are_stored(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await define(customer_service, org.person(Role.BOSS, org.hq), DEFINITIONS)
    values = {"settlement": "月结", "delivery_window": "早上6点前", "daily_meals": 850, "first_order": "2026-03-02"}

    created = await customer_service.create(rep, name="合肥蜀山区实验学校食堂", custom_fields=struct(values))
    fetched = await customer_service.stub.GetCustomer(
        pb.GetCustomerRequest(id=created.id), metadata=customer_service.metadata(rep)
    )

    assert json_format.MessageToDict(fetched.customer.custom_fields) == values


async def test_values_that_do_not_fit_are_refused_naming_the_field(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    await define(customer_service, org.person(Role.ADMIN, org.hq), DEFINITIONS)
    cases = {
        "customer.custom_fields.erp_code": {"settlement": "月结", "erp_code": "A-17"},
        "customer.custom_fields.settlement": {"delivery_window": "午间"},
        "customer.custom_fields.daily_meals": {"settlement": "月结", "daily_meals": "八百"},
        "customer.custom_fields.first_order": {"settlement": "月结", "first_order": "2026-02-30"},
        "customer.custom_fields.halal": {"settlement": "月结", "halal": "是"},
    }
    wrong_choice = {"settlement": "年结"}

    for field, values in [*cases.items(), ("customer.custom_fields.settlement", wrong_choice)]:
        refusal = await customer_service.refusal(
            customer_service.create(rep, name="合肥包河区食堂", custom_fields=struct(values))
        )
        assert (refusal.code, refusal.field) == (grpc.StatusCode.INVALID_ARGUMENT, field), values
    assert await customer_service.customer_count() == 0


async def test_changing_custom_fields_is_checked_and_other_changes_leave_them_alone(customer_service) -> None:
    org = customer_service.org
    rep = org.person(Role.SALES, org.shop_a)
    legacy = await customer_service.create(rep, name="芜湖镜湖区酒店", custom_fields=struct({"旧系统编号": "WH-001"}))
    await define(customer_service, org.person(Role.ADMIN, org.hq), DEFINITIONS)

    renamed = await customer_service.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(id=legacy.id, name="芜湖镜湖区大酒店"), update_mask=FieldMask(paths=["name"])
        ),
        metadata=customer_service.metadata(rep),
    )
    refusal = await customer_service.refusal(
        customer_service.stub.UpdateCustomer(
            pb.UpdateCustomerRequest(
                customer=pb.Customer(
                    id=legacy.id, custom_fields=struct({"旧系统编号": "WH-001", "settlement": "现结"})
                ),
                update_mask=FieldMask(paths=["custom_fields"]),
            ),
            metadata=customer_service.metadata(rep),
        )
    )
    fitted = await customer_service.stub.UpdateCustomer(
        pb.UpdateCustomerRequest(
            customer=pb.Customer(id=legacy.id, custom_fields=struct({"settlement": "现结", "halal": True})),
            update_mask=FieldMask(paths=["custom_fields"]),
        ),
        metadata=customer_service.metadata(rep),
    )

    assert json_format.MessageToDict(renamed.customer.custom_fields) == {"旧系统编号": "WH-001"}
    assert (refusal.code, refusal.field) == (grpc.StatusCode.INVALID_ARGUMENT, "customer.custom_fields.旧系统编号")
    assert json_format.MessageToDict(fitted.customer.custom_fields) == {"settlement": "现结", "halal": True}


async def test_removing_every_definition_makes_custom_fields_free_form_again(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    await define(customer_service, admin, DEFINITIONS)

    cleared = await define(customer_service, admin, [])
    created = await customer_service.create(admin, name="马鞍山雨山区食堂", custom_fields=struct({"备注": "自带餐具"}))

    assert list(cleared.definitions) == []
    assert json_format.MessageToDict(created.custom_fields) == {"备注": "自带餐具"}


async def test_only_admin_or_boss_define_fields_and_definitions_are_validated(customer_service) -> None:
    org = customer_service.org
    admin = org.person(Role.ADMIN, org.hq)
    text_with_options = pb.CustomFieldDefinition(
        key="note", label="备注", type=pb.CUSTOM_FIELD_TYPE_TEXT, options=["x"]
    )
    cases = {
        "definitions[1].key": [SETTLEMENT, SETTLEMENT],
        "definitions[0].key": [pb.CustomFieldDefinition(key="9lives", label="九", type=pb.CUSTOM_FIELD_TYPE_TEXT)],
        "definitions[0].label": [pb.CustomFieldDefinition(key="note", label=" ", type=pb.CUSTOM_FIELD_TYPE_TEXT)],
        "definitions[0].type": [pb.CustomFieldDefinition(key="note", label="备注")],
        "definitions[0].options": [pb.CustomFieldDefinition(key="pay", label="付款", type=pb.CUSTOM_FIELD_TYPE_CHOICE)],
        "definitions[1].options": [DELIVERY_WINDOW, text_with_options],
    }

    denied = await customer_service.refusal(
        define(customer_service, org.person(Role.SUPERVISOR, org.sub_a), DEFINITIONS)
    )
    assert denied.code == grpc.StatusCode.PERMISSION_DENIED
    for field, definitions in cases.items():
        refusal = await customer_service.refusal(define(customer_service, admin, definitions))
        assert (refusal.code, refusal.field) == (grpc.StatusCode.INVALID_ARGUMENT, field)
    listed = await customer_service.stub.ListCustomFieldDefinitions(
        pb.ListCustomFieldDefinitionsRequest(), metadata=customer_service.metadata(admin)
    )
    assert list(listed.definitions) == []


async def test_product_lines_come_from_the_tenants_list_and_source_from_the_fixed_one(customer_service) -> None:
    org = customer_service.org
    boss, rep = org.person(Role.BOSS, org.hq), org.person(Role.SALES, org.shop_a)
    before = await customer_service.refusal(
        customer_service.stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=pb.Customer(name="驻马店养殖场", product_lines=["猪料"])),
            metadata=customer_service.metadata(rep),
        )
    )
    saved = await customer_service.stub.SetProductLines(
        pb.SetProductLinesRequest(product_lines=["猪料", "禽料", "水产料", "预混料"]),
        metadata=customer_service.metadata(boss),
    )
    created = await customer_service.create(
        rep, name="驻马店西平县养殖场", product_lines=["猪料", "预混料"], source="trade_show"
    )
    unknown = await customer_service.refusal(
        customer_service.stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=pb.Customer(name="驻马店上蔡县养殖场", product_lines=["猪料", "牛料"])),
            metadata=customer_service.metadata(rep),
        )
    )
    bad_source = await customer_service.refusal(
        customer_service.stub.CreateCustomer(
            pb.CreateCustomerRequest(customer=pb.Customer(name="驻马店汝南县养殖场", source="广告")),
            metadata=customer_service.metadata(rep),
        )
    )
    by_rep = await customer_service.refusal(
        customer_service.stub.SetProductLines(
            pb.SetProductLinesRequest(product_lines=["牛料"]), metadata=customer_service.metadata(rep)
        )
    )

    assert (before.code, before.field) == (grpc.StatusCode.INVALID_ARGUMENT, "customer.product_lines[0]")
    assert list(saved.product_lines) == ["猪料", "禽料", "水产料", "预混料"]
    assert (list(created.product_lines), created.source) == (["猪料", "预混料"], "trade_show")
    assert (unknown.code, unknown.field) == (grpc.StatusCode.INVALID_ARGUMENT, "customer.product_lines[1]")
    assert (bad_source.code, bad_source.field) == (grpc.StatusCode.INVALID_ARGUMENT, "customer.source")
    assert by_rep.code == grpc.StatusCode.PERMISSION_DENIED
