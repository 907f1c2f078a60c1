"""Two-factor login (TOTP) for admins and bosses: enrolment, the login's second step, recovery
codes, the tenant's policy, and wrong codes counted like wrong passwords."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pyotp
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

LOGIN = "/api/v1/auth/login"
VERIFY = "/api/v1/auth/mfa/verify"
ENROL = "/api/v1/auth/mfa/enrolment"
CONFIRM = "/api/v1/auth/mfa/enrolment/confirm"
POLICY = "/api/v1/security-policy"
ME = "/api/v1/auth/me"
REFRESH = "/api/v1/auth/refresh"
STEP = dt.timedelta(seconds=30)
# Tests step through TOTP periods on a frozen clock; starting in the past keeps the access
# tokens issued on the way valid (they are checked against real time).
PAST = -dt.timedelta(minutes=5)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _code(secret: str, stack: Any) -> str:
    return pyotp.TOTP(secret).at(stack.clock())


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 1_000_000:06d}"


async def _rows(stack: Any, sql: str, **params: Any) -> list[dict[str, Any]]:
    engine = create_async_engine(stack.gateway_database_url)
    try:
        async with engine.connect() as connection:
            return [dict(row._mapping) for row in await connection.execute(text(sql), params)]
    finally:
        await engine.dispose()


async def _enrol(client: httpx.AsyncClient, headers: dict[str, str], stack: Any) -> tuple[str, list[str]]:
    """Enrol through the API (clock frozen by the caller); the secret and the recovery codes."""
    started = await client.post(ENROL, headers=headers)
    assert started.status_code == 200, started.text
    secret = started.json()["secret"]
    confirmed = await client.post(CONFIRM, json={"code": _code(secret, stack)}, headers=headers)
    assert confirmed.status_code == 200, confirmed.text
    stack.clock.advance(STEP)  # the confirming code is spent; the next login needs the next one
    return secret, confirmed.json()["recovery_codes"]


async def _password_step(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_enrolment_shows_a_qr_code_and_then_login_needs_a_code(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    boss = await api.hire(admin, "mfa.boss", "boss")
    headers = await api.login("mfa.boss", api.user_password)
    client = stack.client
    with stack.clock.frozen(PAST):
        started = await client.post(ENROL, headers=headers)
        assert started.status_code == 200, started.text
        assert started.headers["cache-control"] == "no-store"
        enrolment = started.json()
        assert enrolment["otpauth_uri"].startswith("otpauth://totp/")
        assert "secret=" + enrolment["secret"] in enrolment["otpauth_uri"]
        assert enrolment["qr_code"].startswith("data:image/svg+xml")
        # Not on until a code proves the app has the secret.
        assert "access_token" in await _password_step(client, "mfa.boss", api.user_password)
        wrong = await client.post(CONFIRM, json={"code": _wrong(_code(enrolment["secret"], stack))}, headers=headers)
        api.problem(wrong, 400, code="invalid_argument", field="code")

        confirmed = await client.post(CONFIRM, json={"code": _code(enrolment["secret"], stack)}, headers=headers)
        assert confirmed.status_code == 200, confirmed.text
        codes = confirmed.json()["recovery_codes"]
        assert len(codes) == len(set(codes)) == 10
        assert confirmed.json()["tokens"] is None
        stack.clock.advance(STEP)

        challenge = await _password_step(client, "mfa.boss", api.user_password)
        assert challenge["mfa_required"] is True and challenge["mfa_enrolment_required"] is False
        assert "access_token" not in challenge
        # The ticket is no access token.
        api.problem(await client.get(ME, headers=_bearer(challenge["mfa_token"])), 401)
        done = await client.post(
            VERIFY, json={"mfa_token": challenge["mfa_token"], "code": _code(enrolment["secret"], stack)}
        )

    assert done.status_code == 200, done.text
    assert done.headers["cache-control"] == "no-store"
    me = await client.get(ME, headers=_bearer(done.json()["access_token"]))
    assert (me.json()["username"], me.json()["mfa_enabled"]) == ("mfa.boss", True)
    (stored,) = await _rows(stack, "SELECT sealed_secret FROM mfa_enrolments WHERE user_id = :id", id=boss["id"])
    assert enrolment["secret"].encode() not in bytes(stored["sealed_secret"])
    hashes = await _rows(stack, "SELECT code_hash FROM mfa_recovery_codes WHERE user_id = :id", id=boss["id"])
    assert len(hashes) == 10 and not {row["code_hash"] for row in hashes} & set(codes)
    actions = await _rows(stack, "SELECT action FROM audit_log WHERE target_id = :id", id=boss["id"])
    assert {"mfa.enrolment_started", "mfa.enrolled", "login.succeeded"} <= {row["action"] for row in actions}


async def test_a_code_completes_one_login_only(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "mfa.once", "boss")
    with stack.clock.frozen(PAST):
        secret, _codes = await _enrol(stack.client, await api.login("mfa.once", api.user_password), stack)
        code = _code(secret, stack)
        first = await _password_step(stack.client, "mfa.once", api.user_password)
        second = await _password_step(stack.client, "mfa.once", api.user_password)

        used = await stack.client.post(VERIFY, json={"mfa_token": first["mfa_token"], "code": code})
        replayed = await stack.client.post(VERIFY, json={"mfa_token": second["mfa_token"], "code": code})

    assert used.status_code == 200, used.text
    api.problem(replayed, 401, code="mfa_code_invalid")


async def test_a_recovery_code_completes_a_login_once(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    user = await api.hire(admin, "mfa.lost.phone", "admin")
    with stack.clock.frozen(PAST):
        _secret, codes = await _enrol(stack.client, await api.login("mfa.lost.phone", api.user_password), stack)
        first = await _password_step(stack.client, "mfa.lost.phone", api.user_password)
        used = await stack.client.post(VERIFY, json={"mfa_token": first["mfa_token"], "code": codes[3].upper()})
        stack.clock.advance(dt.timedelta(seconds=5))
        second = await _password_step(stack.client, "mfa.lost.phone", api.user_password)
        again = await stack.client.post(VERIFY, json={"mfa_token": second["mfa_token"], "code": codes[3]})
        other = await stack.client.post(VERIFY, json={"mfa_token": second["mfa_token"], "code": codes[4]})

    assert used.status_code == 200, used.text
    api.problem(again, 401, code="mfa_code_invalid")
    assert other.status_code == 200, other.text
    audited = await _rows(
        stack, "SELECT detail FROM audit_log WHERE action = 'mfa.recovery_code_used' AND target_id = :id", id=user["id"]
    )
    assert [row["detail"] for row in audited] == ["9 left", "8 left"]


async def test_wrong_codes_count_as_failed_logins_and_lock_the_account(stack, api, from_address) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    user = await api.hire(admin, "mfa.guessed", "boss")
    client = from_address("10.8.0.1")
    with stack.clock.frozen(PAST):
        secret, _codes = await _enrol(client, await api.login("mfa.guessed", api.user_password), stack)
        ticket = (await _password_step(client, "mfa.guessed", api.user_password))["mfa_token"]
        guesses = []
        for _ in range(5):
            guesses.append(await client.post(VERIFY, json={"mfa_token": ticket, "code": _wrong(_code(secret, stack))}))
            stack.clock.advance(dt.timedelta(seconds=10))

        right_code = await client.post(VERIFY, json={"mfa_token": ticket, "code": _code(secret, stack)})
        password = await client.post(LOGIN, json={"username": "mfa.guessed", "password": api.user_password})

    assert [r.status_code for r in guesses] == [401] * 5
    api.problem(right_code, 429, code="account_locked")
    api.problem(password, 429, code="account_locked")
    failed = await _rows(
        stack, "SELECT detail FROM audit_log WHERE action = 'login.failed' AND target_id = :id", id=user["id"]
    )
    assert [row["detail"] for row in failed] == ["username=mfa.guessed reason=second_factor"] * 5


async def test_the_tenant_policy_makes_an_unenrolled_boss_enrol_before_anything_else(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "policy.boss", "boss")
    await api.hire(admin, "policy.rep", "sales")
    boss_before = await _password_step(stack.client, "policy.boss", api.user_password)
    client = stack.client
    try:
        refused = await client.put(POLICY, json={"mfa_required": True}, headers=_bearer(boss_before["access_token"]))
        api.problem(refused, 403, code="permission_denied")
        turned_on = await client.put(POLICY, json={"mfa_required": True}, headers=admin)
        assert turned_on.json() == {"mfa_required": True}
        seen = await client.get(POLICY, headers=_bearer(boss_before["access_token"]))
        assert seen.json() == {"mfa_required": True}

        with stack.clock.frozen(PAST):
            # Not the sales rep: the policy is for admins and bosses.
            assert "access_token" in await _password_step(client, "policy.rep", api.user_password)
            # The boss's earlier login cannot be refreshed past the policy.
            stale = await client.post(REFRESH, json={"refresh_token": boss_before["refresh_token"]})
            api.problem(stale, 401, code="mfa_enrolment_required")

            held = await _password_step(client, "policy.boss", api.user_password)
            assert held["mfa_enrolment_required"] is True and held["mfa_required"] is False
            assert "access_token" not in held
            ticket = _bearer(held["mfa_token"])
            api.problem(await client.get("/api/v1/users", headers=ticket), 401)
            api.problem(await client.get(POLICY, headers=ticket), 401)

            started = await client.post(ENROL, headers=ticket)
            assert started.status_code == 200, started.text
            confirmed = await client.post(
                CONFIRM, json={"code": _code(started.json()["secret"], stack)}, headers=ticket
            )

        assert confirmed.status_code == 200, confirmed.text
        assert len(confirmed.json()["recovery_codes"]) == 10
        me = await client.get(ME, headers=_bearer(confirmed.json()["tokens"]["access_token"]))
        assert (me.json()["username"], me.json()["mfa_enabled"]) == ("policy.boss", True)
        changed = await _rows(stack, "SELECT detail FROM audit_log WHERE action = 'mfa.policy_changed'")
        assert [row["detail"] for row in changed] == ["mfa_required=True"]
    finally:
        turned_off = await client.put(POLICY, json={"mfa_required": False}, headers=admin)
        assert turned_off.status_code == 200, turned_off.text


async def test_an_admin_can_turn_off_a_users_two_factor_login(stack, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    user = await api.hire(admin, "mfa.reset", "boss")
    sales = await api.login((await api.hire(admin, "mfa.nosy", "sales"))["username"], api.user_password)
    with stack.clock.frozen(PAST):
        await _enrol(stack.client, await api.login("mfa.reset", api.user_password), stack)
        api.problem(await stack.client.post(f"/api/v1/users/{user['id']}/mfa/reset", headers=sales), 403)

        reset = await stack.client.post(f"/api/v1/users/{user['id']}/mfa/reset", headers=admin)
        after = await _password_step(stack.client, "mfa.reset", api.user_password)

    assert reset.status_code == 204, reset.text
    assert "access_token" in after
