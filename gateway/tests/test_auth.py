"""Logging in, rotating refresh tokens, logging out and rejecting bad credentials."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"


async def _tokens(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    response = await client.post(LOGIN, json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _without_trace(body: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != "trace_id"}


async def test_login_returns_a_bearer_access_token_and_a_refresh_token(client, org) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(LOGIN, json={"username": "sales.a", "password": "user-Passw0rd-2026"})

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"] and body["refresh_token"]
    assert body["access_token"] != body["refresh_token"]
    assert body["expires_in"] == 15 * 60


async def test_wrong_password_and_unknown_user_get_the_same_401(client, org, api) -> None:  # type: ignore[no-untyped-def]
    wrong_password = await client.post(LOGIN, json={"username": "sales.a", "password": "not-the-password"})
    unknown_user = await client.post(LOGIN, json={"username": "nobody.here", "password": "not-the-password"})

    first = api.problem(wrong_password, 401, code="unauthenticated")
    second = api.problem(unknown_user, 401, code="unauthenticated")
    # Nothing in the answer may tell an attacker which usernames exist.
    assert _without_trace(first) == _without_trace(second)
    assert wrong_password.headers["www-authenticate"] == unknown_user.headers["www-authenticate"] == "Bearer"


async def test_access_token_identifies_the_caller_on_me(client, org) -> None:  # type: ignore[no-untyped-def]
    tokens = await _tokens(client, "supervisor1", "user-Passw0rd-2026")

    response = await client.get(ME, headers=_bearer(tokens["access_token"]))

    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["id"], me["username"], me["role"]) == (org.supervisor.id, "supervisor1", "supervisor")
    assert me["display_name"] == "李主管"
    assert me["org_unit"] == {"id": org.sub1, "name": "华东分公司", "kind": "subsidiary"}


async def test_refresh_returns_a_new_working_token_pair(client, org) -> None:  # type: ignore[no-untyped-def]
    first = await _tokens(client, "sales.b", "user-Passw0rd-2026")

    response = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    me = await client.get(ME, headers=_bearer(second["access_token"]))
    assert me.status_code == 200
    assert me.json()["username"] == "sales.b"


async def test_replayed_refresh_token_is_rejected_and_revokes_the_whole_family(client, org, api) -> None:  # type: ignore[no-untyped-def]
    first = await _tokens(client, "sales.c", "user-Passw0rd-2026")
    rotated = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    newest = rotated.json()["refresh_token"]

    replay = await client.post(REFRESH, json={"refresh_token": first["refresh_token"]})

    api.problem(replay, 401, code="unauthenticated")
    # The legitimate holder's newest token dies too: a thief may have it as well.
    after = await client.post(REFRESH, json={"refresh_token": newest})
    api.problem(after, 401, code="unauthenticated")


async def test_replay_does_not_revoke_other_logins_of_the_same_user(client, org) -> None:  # type: ignore[no-untyped-def]
    laptop = await _tokens(client, "finance1", "user-Passw0rd-2026")
    phone = await _tokens(client, "finance1", "user-Passw0rd-2026")
    await client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]})
    await client.post(REFRESH, json={"refresh_token": laptop["refresh_token"]})

    response = await client.post(REFRESH, json={"refresh_token": phone["refresh_token"]})

    assert response.status_code == 200, response.text


async def test_simultaneous_refreshes_with_one_token_count_as_a_replay(client, org, api) -> None:  # type: ignore[no-untyped-def]
    tokens = await _tokens(client, "boss", "user-Passw0rd-2026")
    body = {"refresh_token": tokens["refresh_token"]}

    responses = await asyncio.gather(*(client.post(REFRESH, json=body) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 401, 401, 401]
    (winner,) = (r for r in responses if r.status_code == 200)
    # Whoever won holds a token of a family that is now revoked.
    later = await client.post(REFRESH, json={"refresh_token": winner.json()["refresh_token"]})
    api.problem(later, 401, code="unauthenticated")


async def test_expired_access_token_is_401_saying_it_expired(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    with stack.clock.shifted(-dt.timedelta(minutes=16)):
        tokens = await _tokens(client, "sales.a", "user-Passw0rd-2026")

    response = await client.get(ME, headers={**_bearer(tokens["access_token"]), "Accept-Language": "en"})

    problem = api.problem(response, 401, code="unauthenticated")
    assert problem["detail"] == "access token expired"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_expired_refresh_token_is_401_saying_it_expired(client, stack, org, api) -> None:  # type: ignore[no-untyped-def]
    with stack.clock.shifted(-dt.timedelta(days=30, minutes=1)):
        tokens = await _tokens(client, "sales.a", "user-Passw0rd-2026")

    response = await client.post(
        REFRESH, json={"refresh_token": tokens["refresh_token"]}, headers={"Accept-Language": "en"}
    )

    assert api.problem(response, 401, code="unauthenticated")["detail"] == "refresh token expired"


async def test_logout_revokes_the_refresh_token(client, org, api) -> None:  # type: ignore[no-untyped-def]
    tokens = await _tokens(client, "service1", "user-Passw0rd-2026")

    logout = await client.post(LOGOUT, json={"refresh_token": tokens["refresh_token"]})

    assert logout.status_code == 204
    refresh = await client.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})
    api.problem(refresh, 401, code="unauthenticated")


async def test_unknown_refresh_token_is_401(client, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await client.post(REFRESH, json={"refresh_token": "not-a-token-we-issued"})

    api.problem(response, 401, code="unauthenticated")


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Bearer garbage.garbage.garbage"},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic YWRtaW46YWRtaW4="},
        {},
    ],
    ids=["garbage-jwt", "empty-bearer", "basic-auth", "no-header"],
)
async def test_request_without_a_valid_bearer_token_is_401_problem_asking_for_bearer(
    client, api, headers: dict[str, str]
) -> None:  # type: ignore[no-untyped-def]
    response = await client.get(ME, headers=headers)

    api.problem(response, 401, code="unauthenticated")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_passwords_are_stored_as_argon2id_hashes(stack, org) -> None:  # type: ignore[no-untyped-def]
    engine = create_async_engine(stack.gateway_database_url)
    try:
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT username, password_hash FROM users"))).all()
    finally:
        await engine.dispose()

    hashes = dict(rows)
    assert {"admin", "sales.a", "supervisor1"} <= set(hashes)
    for username, stored in hashes.items():
        assert stored.startswith("$argon2id$"), username
        assert "Passw0rd" not in stored


async def test_token_responses_tell_caches_not_to_store_them(client, org) -> None:  # type: ignore[no-untyped-def]
    login = await client.post(LOGIN, json={"username": "sales.a", "password": "user-Passw0rd-2026"})
    refreshed = await client.post(REFRESH, json={"refresh_token": login.json()["refresh_token"]})
    logout = await client.post(LOGOUT, json={"refresh_token": refreshed.json()["refresh_token"]})

    assert (login.status_code, refreshed.status_code, logout.status_code) == (200, 200, 204)
    for response in (login, refreshed, logout):
        assert response.headers["cache-control"] == "no-store"
