"""Unit tests for the demo tenant that `make run` loads."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import pytest

from crm_customer.contacts.personal import PersonalData
from crm_customer.search.terms import parse_search_query, search_terms
from crm_devstack.demo_data import (
    CUSTOMER_TYPES,
    LIFECYCLE_STAGES,
    ROLES,
    DemoTenant,
    demo_tenant,
)
from crm_devstack.seed import calendar_bodies
from crmkit.cn import normalize_credit_code, normalize_mobile
from crmkit.pii import Keyring


@pytest.fixture(scope="module")
def tenant() -> DemoTenant:
    return demo_tenant()


def _all_contacts(tenant: DemoTenant) -> list[tuple[str, str]]:
    return [(contact.mobile, contact.wechat_id) for customer in tenant.customers for contact in customer.contacts]


def test_same_seed_gives_identical_tenant(tenant: DemoTenant) -> None:
    assert demo_tenant(seed=7) == tenant


def test_different_seed_gives_different_customers(tenant: DemoTenant) -> None:
    assert demo_tenant(seed=8).customers != tenant.customers


def test_default_tenant_has_500_customers(tenant: DemoTenant) -> None:
    assert len(tenant.customers) == 500


def test_tenant_is_a_food_distributor_with_a_chinese_name(tenant: DemoTenant) -> None:
    assert tenant.tenant_name == "鲜达食品供应链有限公司"


def test_customer_names_are_unique(tenant: DemoTenant) -> None:
    names = [customer.name for customer in tenant.customers]
    assert len(set(names)) == len(names)


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 42])
def test_credit_codes_are_unique_and_valid_for_any_seed(seed: int) -> None:
    codes = [customer.credit_code for customer in demo_tenant(seed=seed).customers]
    assert len(set(codes)) == len(codes)
    for code in codes:
        assert normalize_credit_code(code) == code


def test_no_two_contacts_share_a_mobile_or_wechat_id(tenant: DemoTenant) -> None:
    pairs = _all_contacts(tenant)
    mobiles = [mobile for mobile, _ in pairs]
    wechat_ids = [wechat_id for _, wechat_id in pairs]
    assert len(set(mobiles)) == len(mobiles)
    assert len(set(wechat_ids)) == len(wechat_ids)


def test_every_mobile_is_a_normalised_mainland_mobile(tenant: DemoTenant) -> None:
    for mobile, _ in _all_contacts(tenant):
        assert normalize_mobile(mobile) == mobile


def test_wechat_ids_follow_wechat_rules(tenant: DemoTenant) -> None:
    for _, wechat_id in _all_contacts(tenant):
        assert re.fullmatch(r"[a-zA-Z][-_a-zA-Z0-9]{5,19}", wechat_id), wechat_id


def test_every_customer_has_one_to_three_contacts_with_one_primary(
    tenant: DemoTenant,
) -> None:
    for customer in tenant.customers:
        assert 1 <= len(customer.contacts) <= 3
        assert [c.primary for c in customer.contacts].count(True) == 1
        roles = [c.decision_role for c in customer.contacts]
        assert len(set(roles)) == len(roles)
        assert set(roles) <= {"decision_maker", "purchaser", "user", "payer"}


def test_every_role_is_present(tenant: DemoTenant) -> None:
    assert {user.role for user in tenant.users} == set(ROLES)


def test_admin_user_sits_at_headquarters(tenant: DemoTenant) -> None:
    admin = next(user for user in tenant.users if user.username == "admin")
    assert admin.role == "admin"
    hq = next(unit for unit in tenant.org_units if unit.kind == "hq")
    assert admin.org_unit_key == hq.key


def test_usernames_are_unique_ascii_and_display_names_chinese(
    tenant: DemoTenant,
) -> None:
    usernames = [user.username for user in tenant.users]
    assert len(set(usernames)) == len(usernames)
    for user in tenant.users:
        assert re.fullmatch(r"[a-z]+(\.[a-z]+)?", user.username)
        assert not user.display_name.isascii()


def test_org_tree_is_hq_two_subsidiaries_with_two_shops_each(
    tenant: DemoTenant,
) -> None:
    units = {unit.key: unit for unit in tenant.org_units}
    kinds = Counter(unit.kind for unit in tenant.org_units)
    assert kinds == {"hq": 1, "subsidiary": 2, "shop": 4}
    for unit in tenant.org_units:
        if unit.kind == "hq":
            assert unit.parent_key is None
        else:
            assert unit.parent_key in units
            parent_kind = units[unit.parent_key].kind
            assert parent_kind == ("hq" if unit.kind == "subsidiary" else "subsidiary")


def test_every_subsidiary_has_a_supervisor_and_a_service_user(
    tenant: DemoTenant,
) -> None:
    for unit in tenant.org_units:
        if unit.kind == "subsidiary":
            roles = {u.role for u in tenant.users if u.org_unit_key == unit.key}
            assert {"supervisor", "service"} <= roles


def test_every_owner_is_a_sales_user_in_the_customers_org_unit(
    tenant: DemoTenant,
) -> None:
    users = {user.username: user for user in tenant.users}
    for customer in tenant.customers:
        owner = users[customer.owner_username]
        assert owner.role == "sales"
        assert customer.org_unit_key == owner.org_unit_key


def test_customers_are_spread_over_all_sales_reps(tenant: DemoTenant) -> None:
    reps = {user.username for user in tenant.users if user.role == "sales"}
    assert {customer.owner_username for customer in tenant.customers} == reps


def test_customer_types_come_from_the_tenant_list_and_food_dominates(
    tenant: DemoTenant,
) -> None:
    types = Counter(customer.type for customer in tenant.customers)
    assert set(types) <= set(CUSTOMER_TYPES)
    assert types["养殖场"] + types["经销商"] + types["网店客户"] < 0.25 * 500


def test_most_customers_are_signed(tenant: DemoTenant) -> None:
    stages = Counter(customer.lifecycle_stage for customer in tenant.customers)
    assert set(stages) <= set(LIFECYCLE_STAGES)
    assert stages.most_common(1)[0][0] == "signed"


def test_created_dates_span_about_two_years_before_today() -> None:
    today = date(2027, 3, 15)
    created = [date.fromisoformat(c.created_on) for c in demo_tenant(today=today).customers]
    assert min(created) >= date(2025, 3, 1)
    assert max(created) <= today
    assert (max(created) - min(created)).days > 600


@pytest.mark.parametrize("seed", [1, 2, 3, 7, 42])
def test_contracts_match_the_lifecycle_stage_for_any_seed(seed: int) -> None:
    today = date(2026, 11, 1)
    for customer in demo_tenant(seed=seed, today=today).customers:
        if customer.lifecycle_stage in ("lead", "prospect"):
            assert customer.contract_start == customer.contract_end == ""
            continue
        start = date.fromisoformat(customer.contract_start)
        end = date.fromisoformat(customer.contract_end)
        assert date.fromisoformat(customer.created_on) <= start < end
        if customer.lifecycle_stage == "lost":
            assert end < today
        else:
            assert start <= today <= end


def test_addresses_are_in_zhejiang_jiangsu_or_shanghai(tenant: DemoTenant) -> None:
    for customer in tenant.customers:
        assert customer.addresses[0].label == "收货地址"
        for address in customer.addresses:
            assert address.province in {"浙江省", "江苏省", "上海市"}
            assert address.district and address.detail


def test_every_customer_is_found_by_its_own_name_and_mobiles(
    tenant: DemoTenant,
) -> None:
    personal = PersonalData(Keyring.generate())
    for customer in tenant.customers:
        mobiles = [contact.mobile for contact in customer.contacts]
        index = search_terms(customer.name, customer.short_name, customer.credit_code)
        index.update(personal.mobile_search_terms("tenant", mobiles))
        for typed in (customer.name, customer.short_name):
            query = parse_search_query(typed[:64])
            assert all(term in index for term in query.terms), typed
        for typed in mobiles:
            query = parse_search_query(typed)
            assert query.kind == "mobile" and personal.mobile_term("tenant", query.text) in index, typed


def test_every_customer_fills_in_the_tenants_required_custom_fields(tenant: DemoTenant) -> None:
    keys = {f["key"] for f in tenant.custom_fields}
    required = {f["key"] for f in tenant.custom_fields if f["required"]}
    settlement = next(f for f in tenant.custom_fields if f["key"] == "settlement")

    for customer in tenant.customers:
        assert required <= set(customer.custom_fields) <= keys, customer.name
        assert customer.custom_fields["settlement"] in settlement["options"]


@pytest.mark.parametrize("seed", [1, 7, 42])
def test_follow_ups_happen_after_the_customer_was_created_and_only_the_last_asks_for_a_next(seed: int) -> None:
    today = date(2026, 11, 1)
    customers = demo_tenant(seed=seed, today=today).customers
    followed = [c for c in customers if c.follow_ups]

    assert 0.25 < len(followed) / len(customers) < 0.5
    for customer in followed:
        created = date.fromisoformat(customer.created_on)
        days = [entry.days_ago for entry in customer.follow_ups]
        assert days == sorted(days, reverse=True) and len(set(days)) == len(days)
        assert all(created < today - timedelta(days=d) < today for d in days)
        assert all(entry.next_in_days is None for entry in customer.follow_ups[:-1])
        assert all(
            entry.content and entry.kind in ("phone", "wechat", "visit", "email", "meeting")
            for entry in customer.follow_ups
        )
    assert any(c.follow_ups[-1].next_in_days == 0 for c in followed), "some follow-ups are due today"


def test_pools_cover_every_customer_and_mostly_lost_customers_were_released(tenant: DemoTenant) -> None:
    pool_units = {pool.org_unit_key for pool in tenant.pools}
    parents = {unit.key: unit.parent_key for unit in tenant.org_units}
    released = [c for c in tenant.customers if c.release_reason]

    assert "hq" in pool_units and any(pool.requires_approval for pool in tenant.pools)
    assert all(c.org_unit_key in pool_units or parents[c.org_unit_key] in pool_units for c in tenant.customers)
    assert 10 < len(released) < 60
    assert Counter(c.lifecycle_stage for c in released).most_common(1)[0][0] == "lost"
    assert all(c.lifecycle_stage in ("lost", "dormant") for c in released)
    assert {c.tier for c in tenant.customers} == {"vip", "key", "normal"}
    assert all(c.tier == "normal" for c in tenant.customers if c.lifecycle_stage != "signed")


def test_the_demo_assignment_rules_name_real_users_and_units_and_valid_strategies() -> None:
    tenant = demo_tenant(customers=20)
    usernames = {u.username for u in tenant.users}
    units = {u.key for u in tenant.org_units}

    assert tenant.assignment_rules
    for rule in tenant.assignment_rules:
        assert rule.strategy in ("round_robin", "least_loaded", "fixed")
        assert bool(rule.usernames) != bool(rule.org_unit_key)
        assert set(rule.usernames) <= usernames and (not rule.org_unit_key or rule.org_unit_key in units)
        assert set(rule.conditions.get("product_lines", [])) <= set(tenant.product_lines)


def test_the_demo_shows_closures_a_school_calendar_and_licences_in_every_state(tenant: DemoTenant) -> None:
    (calendar,) = tenant.closure_templates
    hangzhou_schools = [
        c for c in tenant.customers if c.type == calendar.customer_type and c.addresses[0].city == calendar.city
    ]
    food_licences = [lic for c in tenant.customers for lic in c.licences if lic.kind == "食品经营许可证"]
    until = [lic.valid_until_days for lic in food_licences if lic.valid_until_days is not None]
    closed = {c.type: c.closures[0] for c in tenant.customers if c.closures}
    bodies = [body for c in tenant.customers for body in calendar_bodies(c, today=date(2026, 12, 3))]

    assert calendar.name.endswith("杭州中小学校历") and len(hangzhou_schools) >= 5
    assert [r["reason"] for r in calendar.ranges] == ["winter_break", "summer_break"]
    assert all(r["start_date"] < r["end_date"] for r in calendar.ranges)
    assert any(d > 30 for d in until) and any(0 <= d <= 7 for d in until) and any(d < 0 for d in until)
    assert any(c.type == "学校食堂" and c.lifecycle_stage == "signed" and not c.licences for c in tenant.customers)
    assert closed["企业食堂"].reason == "factory_shutdown" and closed["中餐"].reason == "renovation"
    assert all(lic.valid_from_days <= (lic.valid_until_days or lic.valid_from_days) for lic in food_licences)
    assert len({body["request_id"] for _, body in bodies}) == len(bodies)
    assert sum(1 for c in tenant.customers if c.licences) == 24


def test_some_customers_have_halal_no_pork_or_cold_chain_requirements_and_valid_delivery_windows(
    tenant: DemoTenant,
) -> None:
    kinds = Counter(r["kind"] for customer in tenant.customers for r in customer.special_requirements)
    assert {"halal", "no_pork", "cold_chain"} <= set(kinds)
    assert all(r["details"] for c in tenant.customers for r in c.special_requirements if r["kind"] == "allergens")
    with_windows = [c for c in tenant.customers if c.preferences.get("delivery_windows")]
    assert len(with_windows) > 50
    for customer in with_windows:
        windows = sorted((w["weekday"], w["start"], w["end"]) for w in customer.preferences["delivery_windows"])
        for (day, start, end), (next_day, next_start, _) in zip(windows, [*windows[1:], (0, "", "")], strict=True):
            assert 1 <= day <= 7 and start < end
            assert next_day != day or end <= next_start, customer.name


def test_a_group_relations_and_tier_reviews_name_customers_of_the_tenant(tenant: DemoTenant) -> None:
    by_name = {c.name: c for c in tenant.customers}
    assert len(tenant.groups) == 1 and len(tenant.groups[0].branches) == 3
    for name in (tenant.groups[0].parent, *tenant.groups[0].branches):
        assert not by_name[name].release_reason
    assert {r.kind for r in tenant.relations} >= {"upstream_supplier", "referred_by"}
    assert all(r.customer in by_name and r.related in by_name and r.customer != r.related for r in tenant.relations)
    assert tenant.tier_changes and all(change.customer in by_name for change in tenant.tier_changes)
    assert {c.grade for c in tenant.customers if c.lifecycle_stage == "signed"} == {"S", "A", "B", "C"}


def test_the_demo_revisit_plans_cover_each_tier_once_with_the_service_queue_for_key_customers(
    tenant: DemoTenant,
) -> None:
    plans = {plan["tier"]: (plan["interval_days"], plan["assignee"]) for plan in tenant.revisit_plans}

    assert plans == {"vip": (14, "owner"), "key": (30, "service"), "normal": (60, "owner")}
    assert {u.role for u in tenant.users if u.role == "service"} == {"service"}


def test_pinned_customers_lie_near_their_city_and_check_ins_near_the_pin(tenant: DemoTenant) -> None:
    from crm_customer.visits.service import haversine_m

    pinned = [c for c in tenant.customers if c.latitude is not None]
    assert len(pinned) > 100
    assert all(c.longitude is not None and 30 < c.latitude < 32 and 119 < c.longitude < 122 for c in pinned)  # type: ignore[operator]
    visits = [(c, f) for c in tenant.customers for f in c.follow_ups if f.check_in is not None]
    assert len(visits) > 10 and all(f.kind == "visit" for _, f in visits)
    for customer, visit in visits:
        assert visit.check_in is not None and visit.check_in.address
        if customer.latitude is not None and customer.longitude is not None:
            metres = haversine_m(
                customer.latitude, customer.longitude, visit.check_in.latitude, visit.check_in.longitude
            )
            assert metres < 600
    photos = sum(f.photos for _, f in visits)
    assert 0 < photos <= 12
    assert all(f.photos == 0 for c in tenant.customers for f in c.follow_ups if f.check_in is None)


def test_every_sales_rep_has_a_follow_up_due_today(tenant: DemoTenant) -> None:
    reps = {user.username for user in tenant.users if user.role == "sales"}
    due_today = {
        c.owner_username
        for c in tenant.customers
        if not c.release_reason and c.follow_ups and c.follow_ups[-1].next_in_days == 0
    }
    owning = {c.owner_username for c in tenant.customers if not c.release_reason}
    assert "zhang.wei" in due_today
    assert due_today == reps & owning


def test_demo_orders_are_for_signed_customers_and_fit_their_requirements(tenant: DemoTenant) -> None:
    from crm_devstack.demo_data import DEMO_PRODUCTS

    products = {p.sku: p for p in DEMO_PRODUCTS}
    customers = {c.name: c for c in tenant.customers}
    assert len(products) == len(DEMO_PRODUCTS)
    assert len(tenant.orders) >= 5
    assert {o.actions[-1] if o.actions else "draft" for o in tenant.orders} >= {"complete", "record_payment", "draft"}
    for order in tenant.orders:
        customer = customers[order.customer]
        assert (customer.lifecycle_stage, customer.owner_username) == ("signed", order.owner_username)
        kinds = {r["kind"] for r in customer.special_requirements}
        for sku, _ in order.lines:
            attributes = products[sku].attributes
            assert "halal" not in kinds or attributes.get("halal")
            assert "no_pork" not in kinds or not attributes.get("contains_pork")
