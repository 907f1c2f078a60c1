"""Bad input gets a 4xx problem naming the field the client sent, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
import pytest_asyncio

CUSTOMERS = "/api/v1/customers"


def _wrong_check_char(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def customer(stack, org) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = await stack.client.post(
        CUSTOMERS,
        json={"name": "南京鼓楼区机关食堂", "contacts": [{"name": "黄磊", "mobile": "13700001111"}]},
        headers=org.sales_a.headers,
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        pytest.param({"name": "食" * 201}, 422, "name", id="201-character name"),
        pytest.param({"name": ""}, 422, "name", id="empty name"),
        pytest.param({"name": 123}, 422, "name", id="number as name"),
        pytest.param({"tags": "x"}, 422, "tags", id="string as tag list"),
        pytest.param({"tags": ["x" * 21]}, 422, "tags[0]", id="21-character tag"),
        pytest.param({"nickname": "老王"}, 422, "nickname", id="unknown field"),
        pytest.param({"credit_code": "WRONG-CHECK-CHAR"}, 422, "credit_code", id="credit code with wrong check char"),
        pytest.param({"credit_code": "12345"}, 422, "credit_code", id="short credit code"),
        pytest.param({"contract_start": "2026-02-30"}, 422, "contract_start", id="invalid date"),
        pytest.param(
            {"contract_start": "2026-06-01", "contract_end": "2026-01-01"}, 422, "contract_end", id="ends before start"
        ),
        pytest.param({"lifecycle_stage": "vip"}, 422, "lifecycle_stage", id="unknown stage"),
        pytest.param({"type": "火星餐厅"}, 400, "type", id="unknown customer type"),
        pytest.param({"contacts": [{"name": "张", "mobile": "12800138000"}]}, 422, "contacts[0].mobile", id="mobile"),
        pytest.param({"contacts": [{"name": "张", "email": "x@"}]}, 422, "contacts[0].email", id="email"),
        pytest.param({"contacts": [{"name": "张", "wechat_id": "1abc"}]}, 422, "contacts[0].wechat_id", id="wechat"),
        pytest.param({"contacts": [{"mobile": "13800138000"}]}, 422, "contacts[0].name", id="nameless contact"),
        pytest.param(
            {"contacts": [{"name": "张", "decision_role": "king"}]}, 422, "contacts[0].decision_role", id="role"
        ),
        pytest.param({"owner_id": "no-such-user"}, 400, "owner_id", id="unknown owner"),
        pytest.param({"name": "南京\x00食堂"}, 422, "name", id="NUL in name"),
        pytest.param({"custom_fields": {"erp_id": 10**20}}, 422, "custom_fields", id="integer beyond 2^53"),
        pytest.param({"custom_fields": {"x": {"y": "a\x00"}}}, 422, "custom_fields", id="NUL in custom field"),
    ],
)
async def test_invalid_customer_is_rejected_naming_the_field(  # type: ignore[no-untyped-def]
    client, org, api, overrides: dict[str, Any], status: int, field: str
) -> None:
    body = api.customer_body(**overrides)
    if body.get("credit_code") == "WRONG-CHECK-CHAR":
        body["credit_code"] = _wrong_check_char(api.credit_code())

    response = await client.post(CUSTOMERS, json=body, headers=org.admin.headers)

    problem = api.problem(response, status, field=field)
    if status == 422:
        assert problem["code"] == "validation_failed"
        assert problem["errors"][0]["field"] == field


async def test_contact_mobiles_repeated_within_one_customer_are_rejected(client, org, api) -> None:  # type: ignore[no-untyped-def]
    mobile = api.mobile()
    body = api.customer_body(contacts=[{"name": "甲", "mobile": mobile}, {"name": "乙", "mobile": mobile}])

    response = await client.post(CUSTOMERS, json=body, headers=org.sales_a.headers)

    api.problem(response, 409, field="contacts[1].mobile")


async def test_body_that_is_not_json_is_422_naming_the_body(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        CUSTOMERS,
        content=b"name=not-json",
        headers={**org.sales_a.headers, "Content-Type": "application/json"},
    )

    api.problem(response, 422, code="validation_failed", field="body")


async def test_json_that_is_not_an_object_is_422(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(CUSTOMERS, json=["not", "an", "object"], headers=org.sales_a.headers)

    api.problem(response, 422, code="validation_failed")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"page_size": "10000"}, "page_size", id="page size 10000"),
        pytest.param({"page_size": "0"}, "page_size", id="page size 0"),
        pytest.param({"page_size": "many"}, "page_size", id="page size not a number"),
        pytest.param({"q": "食" * 65}, "q", id="65-character query"),
        pytest.param({"lifecycle_stage": "vip"}, "lifecycle_stage", id="unknown stage filter"),
        pytest.param({"include_archived": "perhaps"}, "include_archived", id="not a boolean"),
    ],
)
async def test_invalid_list_parameter_is_422_naming_it(client, org, api, params: dict[str, str], field: str) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(CUSTOMERS, params=params, headers=org.sales_a.headers)

    api.problem(response, 422, code="validation_failed", field=field)


@pytest.mark.parametrize("q", [None, "nj"], ids=["list", "search"])
async def test_malformed_page_token_is_400_naming_page_token(client, org, api, q: str | None) -> None:  # type: ignore[no-untyped-def]
    params = {"page_token": "this-is-not-a-token"} | ({"q": q} if q else {})

    response = await client.get(CUSTOMERS, params=params, headers=org.sales_a.headers)

    api.problem(response, 400, code="invalid_argument", field="page_token")


async def test_query_with_nothing_searchable_is_400_naming_q(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(CUSTOMERS, params={"q": "!!!"}, headers=org.sales_a.headers)

    api.problem(response, 400, code="invalid_argument", field="q")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"expected_version": -1, "short_name": "x"}, "expected_version", id="negative version"),
        pytest.param({"expected_version": "one", "short_name": "x"}, "expected_version", id="version not a number"),
        pytest.param({"name": None}, "name", id="null name"),
        pytest.param({"lifecycle_stage": None}, "lifecycle_stage", id="null stage"),
        pytest.param({"contract_end": "31/12/2026"}, "contract_end", id="invalid date"),
        pytest.param({"credit_code": "WRONG-CHECK-CHAR"}, "credit_code", id="wrong check char"),
        pytest.param({"owner_id": None}, "owner_id", id="null owner"),
        pytest.param({"created_at": "2020-01-01"}, "created_at", id="read-only field"),
        pytest.param({}, "body", id="nothing to change"),
    ],
)
async def test_invalid_patch_is_rejected_naming_the_field(  # type: ignore[no-untyped-def]
    client, org, api, customer, body: dict[str, Any], field: str
) -> None:
    if body.get("credit_code") == "WRONG-CHECK-CHAR":
        body = {"credit_code": _wrong_check_char(api.credit_code())}

    response = await client.patch(f"{CUSTOMERS}/{customer['id']}", json=body, headers=org.sales_a.headers)

    problem = api.problem(response, response.status_code, field=field)
    assert response.status_code in (400, 422)
    assert problem["code"] in ("invalid_argument", "validation_failed")


async def test_contract_end_before_existing_start_is_rejected_naming_contract_end(  # type: ignore[no-untyped-def]
    client, org, api
) -> None:
    customer = await api.create_customer(org.sales_a, name="南京玄武湖游船码头", contract_start="2026-06-01")

    response = await client.patch(
        f"{CUSTOMERS}/{customer['id']}", json={"contract_end": "2026-01-01"}, headers=org.sales_a.headers
    )

    api.problem(response, 400, code="invalid_argument", field="contract_end")


async def test_invalid_contact_patch_is_rejected_naming_the_field(client, org, api, customer) -> None:  # type: ignore[no-untyped-def]
    contact_id = customer["contacts"][0]["id"]

    response = await client.patch(
        f"{CUSTOMERS}/{customer['id']}/contacts/{contact_id}", json={"mobile": "123"}, headers=org.sales_a.headers
    )

    api.problem(response, 422, code="validation_failed", field="mobile")


async def test_overlong_customer_id_in_the_path_is_400(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(f"{CUSTOMERS}/{'x' * 65}", headers=org.sales_a.headers)

    api.problem(response, 400, code="invalid_argument", field="customer_id")


async def test_english_speakers_get_english_problem_details(client, org, api) -> None:  # type: ignore[no-untyped-def]
    params = {"page_token": "this-is-not-a-token"}

    english = api.problem(
        await client.get(CUSTOMERS, params=params, headers={**org.sales_a.headers, "Accept-Language": "en-US,en"}),
        400,
    )
    chinese = api.problem(
        await client.get(CUSTOMERS, params=params, headers={**org.sales_a.headers, "Accept-Language": "zh-CN"}),
        400,
    )

    assert (english["title"], english["detail"]) == ("Invalid request", "page_token: malformed page token")
    assert (chinese["title"], chinese["detail"]) == ("请求参数有误", "分页标记无效")


async def test_field_errors_of_a_422_are_in_the_readers_language(client, org, api) -> None:  # type: ignore[no-untyped-def]
    body = {"name": "食" * 201, "tags": ["x" * 21], "nickname": "老王", "contract_start": "2026-02-30"}

    async def messages(language: str) -> dict[str, str]:
        headers = {**org.sales_a.headers, "Accept-Language": language}
        problem = api.problem(await client.post(CUSTOMERS, json=body, headers=headers), 422)
        return {e["field"]: e["message"] for e in problem["errors"]}

    chinese, english = await messages("zh-CN"), await messages("en")

    assert chinese == {
        "name": "最多200个字符",
        "tags[0]": "最多20个字符",
        "nickname": "不允许的字段",
        "contract_start": "须为日期（YYYY-MM-DD）",
    }
    assert english["name"] == "String should have at most 200 characters"
    assert english["nickname"] == "Extra inputs are not permitted"
    credit = api.problem(
        await client.post(CUSTOMERS, json={"name": "食堂", "credit_code": "12345"}, headers=org.sales_a.headers), 422
    )
    assert not any(ch.isascii() and ch.isalpha() for ch in credit["errors"][0]["message"]), credit


async def test_duplicate_is_explained_in_the_readers_language_even_when_quoting_a_chinese_name(  # type: ignore[no-untyped-def]
    client, org, api
) -> None:
    mobile = api.mobile()
    await api.create_customer(org.sales_a, name="无锡梁溪老字号面馆", contacts=[{"name": "钟", "mobile": mobile}])
    body = api.customer_body(name="无锡另一家面馆", contacts=[{"name": "钟", "mobile": mobile}])

    english = api.problem(
        await client.post(CUSTOMERS, json=body, headers={**org.sales_a.headers, "Accept-Language": "en"}), 409
    )
    chinese = api.problem(await client.post(CUSTOMERS, json=body, headers=org.sales_a.headers), 409)

    assert english["detail"].startswith("mobile already belongs to customer '无锡梁溪老字号面馆'"), english
    assert "手机号" not in english["detail"]
    assert chinese["detail"].startswith("手机号已被客户“无锡梁溪老字号面馆”使用"), chinese
    assert "already belongs" not in chinese["detail"]


async def test_english_speakers_get_english_login_failures(client, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        "/api/v1/auth/login", json={"username": "nobody", "password": "x"}, headers={"Accept-Language": "en"}
    )

    problem = api.problem(response, 401)
    assert (problem["title"], problem["detail"]) == ("Unauthenticated", "wrong username or password")


async def test_unknown_route_is_a_404_problem(client, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.get("/api/v1/nothing-here")

    api.problem(response, 404, code="not_found")


async def test_wrong_method_is_a_405_problem(client, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.put("/api/v1/auth/login", json={})

    api.problem(response, 405, code="method_not_allowed")


async def test_non_finite_number_in_custom_fields_is_422(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(
        CUSTOMERS,
        content=b'{"name": "\xe5\x8d\x97\xe4\xba\xac\xe9\xa3\x9f\xe5\xa0\x82", "custom_fields": {"x": NaN}}',
        headers={**org.admin.headers, "Content-Type": "application/json"},
    )

    api.problem(response, 422, field="custom_fields")


async def test_control_characters_in_login_and_user_ids_are_rejected(client, org, api) -> None:  # type: ignore[no-untyped-def]
    login = await client.post("/api/v1/auth/login", json={"username": "adm\x00in", "password": "x"})
    api.problem(login, 422, field="username")

    user = await client.get("/api/v1/users/abc%00def", headers=org.admin.headers)
    api.problem(user, 400, field="user_id")


async def test_summary_range_reaching_before_year_one_is_not_a_server_error(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(
        "/api/v1/analytics/customer-summary", params={"to": "0001-01-10"}, headers=org.admin.headers
    )

    assert response.status_code == 200, response.text
    assert response.json()["new_per_day"] == []
