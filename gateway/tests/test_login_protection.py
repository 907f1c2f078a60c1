"""Login protection: delays and locks per account and per client address, an admin's unlock, the
audit trail, answers that do not tell whether a username exists, and a login flood that waits
for the password workers instead of taking the gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"
WRONG = "not-the-password"
# One password worker and a short queue, so a flood of a few dozen logins shows both bounds; an
# address locks after 8 failures (an account after 5, the default).
GATEWAY_SETTINGS = {"password_hash_concurrency": 1, "password_queue_limit": 8, "login_address_failures": 8}


def _answer(response: httpx.Response) -> tuple[int, dict[str, Any], str | None, str | None]:
    """What a client sees, less the per-request trace id."""
    body = {key: value for key, value in response.json().items() if key != "trace_id"}
    return response.status_code, body, response.headers.get("retry-after"), response.headers.get("www-authenticate")


async def _audit(stack: Any, action: str, detail_fragment: str) -> list[dict[str, Any]]:
    engine = create_async_engine(stack.gateway_database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text(
                    "SELECT tenant_id, actor_id, action, target_id, detail, client_address FROM audit_log"
                    " WHERE action = :action AND detail LIKE :fragment ORDER BY at"
                ),
                {"action": action, "fragment": f"%{detail_fragment}%"},
            )
            return [dict(row._mapping) for row in rows]
    finally:
        await engine.dispose()


async def _fail(client: httpx.AsyncClient, stack: Any, username: str, times: int) -> list[httpx.Response]:
    """`times` wrong passwords, the clock moved past each progressive delay."""
    answers = []
    for _ in range(times):
        answers.append(await client.post(LOGIN, json={"username": username, "password": WRONG}))
        stack.clock.advance(dt.timedelta(seconds=60))
    return answers


async def test_five_wrong_passwords_lock_the_account_until_an_admin_unlocks_it(stack, api, from_address) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    target = await api.hire(admin, "lock.target", "sales")
    boss = await api.login((await api.hire(admin, "lock.boss", "boss"))["username"], api.user_password)
    client = from_address("10.1.0.1")
    with stack.clock.frozen():
        failures = await _fail(client, stack, "lock.target", 5)

        locked = await client.post(LOGIN, json={"username": "lock.target", "password": api.user_password})

        assert [r.status_code for r in failures] == [401] * 5
        api.problem(locked, 429, code="account_locked")
        # Locked for 15 minutes from the fifth failure, a minute ago.
        assert int(locked.headers["retry-after"]) == 15 * 60 - 60
        # From another address too: the account is locked, not the address.
        elsewhere = await from_address("10.1.0.2").post(
            LOGIN, json={"username": "lock.target", "password": api.user_password}
        )
        api.problem(elsewhere, 429, code="account_locked")

        refused = await client.post(f"/api/v1/users/{target['id']}/unlock", headers=boss)
        api.problem(refused, 403, code="permission_denied")
        unlocked = await client.post(f"/api/v1/users/{target['id']}/unlock", headers=admin)
        assert unlocked.status_code == 204, unlocked.text

        after = await client.post(LOGIN, json={"username": "lock.target", "password": api.user_password})
        assert after.status_code == 200, after.text

    failed = await _audit(stack, "login.failed", "username=lock.target ")
    assert len(failed) == 5
    assert {(row["target_id"], row["client_address"]) for row in failed} == {(target["id"], "10.1.0.1")}
    assert len(await _audit(stack, "login.account_locked", "account:lock.target ")) == 1
    assert len(await _audit(stack, "login.unlocked", "username=lock.target")) == 1


async def test_the_lock_ends_after_fifteen_minutes_and_the_next_one_lasts_thirty(stack, api, from_address) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "lock.twice", "sales")
    client = from_address("10.2.0.1")
    with stack.clock.frozen():
        await _fail(client, stack, "lock.twice", 5)
        stack.clock.advance(dt.timedelta(minutes=15) - dt.timedelta(seconds=60))
        # The lock has run out (the last failure's minute already counted): one more try is allowed...
        first_retry = await client.post(LOGIN, json={"username": "lock.twice", "password": WRONG})
        assert first_retry.status_code == 401, first_retry.text
        stack.clock.advance(dt.timedelta(seconds=60))

        # ... and five more failures lock it again, for twice as long.
        await _fail(client, stack, "lock.twice", 4)
        relocked = await client.post(LOGIN, json={"username": "lock.twice", "password": api.user_password})

    api.problem(relocked, 429, code="account_locked")
    assert int(relocked.headers["retry-after"]) == 30 * 60 - 60


async def test_an_early_retry_waits_out_the_progressive_delay_even_with_the_right_password(
    stack, api, from_address
) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "slow.down", "sales")
    client = from_address("10.3.0.1")
    with stack.clock.frozen():
        for _ in range(3):
            await client.post(LOGIN, json={"username": "slow.down", "password": WRONG})
            stack.clock.advance(dt.timedelta(milliseconds=1))
        # Three failures of five: the next attempt is not even checked for a second.
        early = await client.post(LOGIN, json={"username": "slow.down", "password": api.user_password})
        stack.clock.advance(dt.timedelta(seconds=1))
        on_time = await client.post(LOGIN, json={"username": "slow.down", "password": api.user_password})

    api.problem(early, 429, code="login_throttled")
    assert early.headers["retry-after"] == "1"
    assert on_time.status_code == 200, on_time.text


async def test_unknown_and_real_usernames_get_the_same_answers_all_the_way_to_the_lock(
    stack, api, from_address
) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "real.person", "sales")
    real, unknown = from_address("10.4.0.1"), from_address("10.4.0.2")
    with stack.clock.frozen():
        real_answers, unknown_answers = [], []
        for _ in range(7):
            real_answers.append(_answer(await real.post(LOGIN, json={"username": "real.person", "password": WRONG})))
            unknown_answers.append(
                _answer(await unknown.post(LOGIN, json={"username": "nobody.at.all", "password": WRONG}))
            )
            stack.clock.advance(dt.timedelta(seconds=1))

    assert real_answers == unknown_answers
    # The whole path, not only the first 401: wrong ×4 (the 3rd and 4th start delays of 1 and
    # 2 s), one attempt inside the delay, the fifth failure, then the lock.
    assert [status for status, *_ in real_answers] == [401, 401, 401, 401, 429, 401, 429]
    assert [real_answers[4][1]["code"], real_answers[6][1]["code"]] == ["login_throttled", "account_locked"]


async def test_an_unknown_username_costs_a_password_check_like_a_real_one(stack, api, from_address) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "timed.person", "sales")
    client = from_address("10.5.0.1")

    async def duration(username: str) -> float:
        started = time.perf_counter()
        response = await client.post(LOGIN, json={"username": username, "password": WRONG})
        assert response.status_code == 401, response.text
        return time.perf_counter() - started

    with stack.clock.frozen():
        real, unknown = [], []
        for _ in range(2):
            real.append(await duration("timed.person"))
            unknown.append(await duration("timed.nobody"))
    # The fastest of each: noise only ever adds time. Without the dummy hash an unknown name
    # answers in a couple of milliseconds against ~50+ ms of argon2.
    assert min(unknown) > 0.4 * min(real), (real, unknown)


async def test_many_failures_from_one_address_lock_that_address_for_every_username(stack, api, from_address) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "behind.nat", "sales")
    guesser, colleague = from_address("10.6.0.1"), from_address("10.6.0.2")
    with stack.clock.frozen():
        for index in range(8):
            await guesser.post(LOGIN, json={"username": f"guess{index}", "password": WRONG})
            stack.clock.advance(dt.timedelta(seconds=60))

        from_guesser = await guesser.post(LOGIN, json={"username": "behind.nat", "password": api.user_password})
        from_colleague = await colleague.post(LOGIN, json={"username": "behind.nat", "password": api.user_password})

    api.problem(from_guesser, 429, code="login_throttled")
    assert int(from_guesser.headers["retry-after"]) == 15 * 60 - 60
    assert from_colleague.status_code == 200, from_colleague.text
    assert len(await _audit(stack, "login.address_locked", "address:10.6.0.1 ")) == 1


async def test_a_login_flood_queues_for_one_password_worker_while_other_requests_are_served(
    stack, api, from_address
) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    passwords = stack.app.state.gateway.passwords
    passwords.most_at_once = 0
    flood = [
        asyncio.create_task(from_address(f"10.7.0.{n}").post(LOGIN, json={"username": f"flood{n}", "password": WRONG}))
        for n in range(1, 31)
    ]

    async def hashing() -> bool:
        return bool(passwords.running)

    await api.eventually(hashing, interval=0.005)  # the flood has reached the password worker

    me = await stack.client.get(ME, headers=admin)

    still_waiting = sum(not task.done() for task in flood)
    answers = await asyncio.gather(*flood)
    assert me.status_code == 200, me.text
    # The signed-in request did not wait behind the flood's password checks.
    assert still_waiting > 0
    assert passwords.most_at_once == 1
    statuses = sorted(r.status_code for r in answers)
    assert set(statuses) <= {401, 429}
    busy = [r for r in answers if r.status_code == 429]
    # Beyond the worker and its queue of 8, logins are turned away at once, asked to come back.
    assert busy and all(r.json()["code"] == "login_busy" and r.headers["retry-after"] == "1" for r in busy)
    assert statuses.count(401) >= 9
