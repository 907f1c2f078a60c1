"""Sign-in from the console and the H5: with `X-Keyuan-Client: web` the refresh token is an
HttpOnly cookie scoped to the auth routes, never in a body, honoured only with that header."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Callable
from http.cookies import Morsel, SimpleCookie
from typing import Any

import httpx
import pyotp
import pytest
import pytest_asyncio
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

LOGIN = "/api/v1/auth/login"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
ENROL = "/api/v1/auth/mfa/enrolment"
CONFIRM = "/api/v1/auth/mfa/enrolment/confirm"
VERIFY = "/api/v1/auth/mfa/verify"
POLICY = "/api/v1/security-policy"
COOKIE = "keyuan_refresh"
WEB = {"X-Keyuan-Client": "web"}
THIRTY_DAYS = 30 * 24 * 3600
# TOTP steps on a frozen clock that starts in the past, so the access tokens it issues still hold.
PAST = -dt.timedelta(minutes=5)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _set_cookie(response: httpx.Response) -> Morsel[str]:
    """The refresh cookie the response sets (exactly one)."""
    (header,) = [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}=")]
    jar: SimpleCookie = SimpleCookie()
    jar.load(header)
    return jar[COOKIE]


def _sets_no_cookie(response: httpx.Response) -> bool:
    return not response.headers.get_list("set-cookie")


class Browser:
    """One browser's view of the gateway: it keeps the refresh cookie itself, so each test says
    exactly which cookie value a request carries."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.cookie: str | None = None

    async def post(
        self, path: str, *, json: Any = None, cookie: str | None = None, web: bool = True, **headers: str
    ) -> httpx.Response:
        sent = {**(WEB if web else {}), **headers}
        value = cookie if cookie is not None else self.cookie
        if value is not None:
            sent["Cookie"] = f"{COOKIE}={value}"
        response = await self.client.post(path, json=json, headers=sent)
        self.client.cookies.clear()  # only what `cookie` and `self.cookie` say is ever sent
        for header in response.headers.get_list("set-cookie"):
            if header.startswith(f"{COOKIE}="):
                morsel = _set_cookie(response)
                self.cookie = morsel.value if morsel["max-age"] != "0" else None
        return response

    async def login(self, username: str, password: str) -> httpx.Response:
        response = await self.post(LOGIN, json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        return response


@pytest_asyncio.fixture(loop_scope="module")
async def browser(from_address: Callable[[str], httpx.AsyncClient]) -> AsyncIterator[Browser]:
    yield Browser(from_address("192.0.2.10"))


async def test_a_web_login_sets_the_refresh_cookie_and_leaves_it_out_of_the_body(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await browser.login("sales.a", api.user_password)

    body = response.json()
    cookie = _set_cookie(response)
    assert body["refresh_token"] == ""
    assert body["expires_in"] == 15 * 60
    assert cookie.value and cookie.value not in response.text
    assert cookie["httponly"] is True
    assert cookie["samesite"].lower() == "strict"
    assert cookie["path"] == "/api/v1/auth"
    assert cookie["max-age"] == str(THIRTY_DAYS)
    # Plain http (make run on localhost): a Secure cookie would never come back.
    assert not cookie["secure"]
    assert response.headers["cache-control"] == "no-store"
    me = await browser.client.get(ME, headers=_bearer(body["access_token"]))
    assert me.json()["username"] == "sales.a"


async def test_a_login_without_the_header_keeps_the_json_flow_and_sets_no_cookie(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    response = await browser.post(LOGIN, json={"username": "sales.b", "password": api.user_password}, web=False)

    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"]
    assert _sets_no_cookie(response)


async def test_the_cookie_is_secure_when_the_browser_came_over_https(stack, org, api) -> None:  # type: ignore[no-untyped-def]
    transport = httpx.ASGITransport(app=stack.app, client=("192.0.2.11", 50000))
    async with httpx.AsyncClient(transport=transport, base_url="https://keyuan.example.com") as client:
        response = await Browser(client).login("sales.a", api.user_password)

    assert _set_cookie(response)["secure"] is True


async def test_the_cookie_is_secure_behind_a_trusted_proxy_that_terminated_https(stack, org, api) -> None:  # type: ignore[no-untyped-def]
    # As uvicorn runs the gateway: X-Forwarded-Proto is believed from FORWARDED_ALLOW_IPS only.
    behind_proxy = ProxyHeadersMiddleware(stack.app, trusted_hosts="192.0.2.12")
    secure = {}
    for address in ("192.0.2.12", "198.51.100.7"):
        transport = httpx.ASGITransport(app=behind_proxy, client=(address, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
            response = await Browser(client).post(
                LOGIN,
                json={"username": "sales.a", "password": api.user_password},
                **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.5"},
            )
        assert response.status_code == 200, response.text
        secure[address] = bool(_set_cookie(response)["secure"])

    assert secure == {"192.0.2.12": True, "198.51.100.7": False}


async def test_the_cookie_is_secure_wherever_hsts_is_configured(stack, browser, org, api, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(stack.settings, "hsts_seconds", 31536000)

    response = await browser.login("sales.a", api.user_password)

    assert _set_cookie(response)["secure"] is True


async def test_a_refresh_by_cookie_rotates_it_and_returns_only_the_access_token(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    await browser.login("supervisor1", api.user_password)
    first = browser.cookie

    response = await browser.post(REFRESH, json={})

    assert response.status_code == 200, response.text
    assert response.json()["refresh_token"] == ""
    assert response.headers["cache-control"] == "no-store"
    rotated = _set_cookie(response)
    assert rotated.value != first and rotated.value not in response.text
    assert (rotated["httponly"], rotated["samesite"].lower(), rotated["path"]) == (True, "strict", "/api/v1/auth")
    assert rotated["max-age"] == str(THIRTY_DAYS)
    me = await browser.client.get(ME, headers=_bearer(response.json()["access_token"]))
    assert me.json()["username"] == "supervisor1"
    # And the new one works in its turn.
    assert (await browser.post(REFRESH, json={})).status_code == 200


async def test_a_refresh_by_cookie_may_send_no_body_at_all(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    await browser.login("service1", api.user_password)

    response = await browser.post(REFRESH)

    assert response.status_code == 200, response.text


async def test_an_old_cookie_value_coming_back_revokes_the_whole_login(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    await browser.login("finance1", api.user_password)
    stolen = browser.cookie
    assert (await browser.post(REFRESH, json={})).status_code == 200
    newest = browser.cookie

    replay = await browser.post(REFRESH, json={}, cookie=stolen)

    api.problem(replay, 401, code="unauthenticated")
    assert _set_cookie(replay)["max-age"] == "0"  # a dead cookie is dropped
    assert replay.headers["cache-control"] == "no-store"
    # The legitimate browser's newest cookie dies with it: a thief may hold it as well.
    api.problem(await browser.post(REFRESH, json={}, cookie=newest), 401, code="unauthenticated")


async def test_a_refresh_cookie_without_the_header_is_refused_and_not_spent(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    # What a cross-site form could send: the cookie (were SameSite lax) but never the header.
    await browser.login("sales.b", api.user_password)

    forged = await browser.post(REFRESH, json={}, web=False)

    problem = api.problem(forged, 401, code="unauthenticated")
    assert "X-Keyuan-Client" in problem["detail"]
    assert _sets_no_cookie(forged)
    assert "access_token" not in forged.text
    # Ignored, not used up: the browser itself still refreshes with it.
    assert (await browser.post(REFRESH, json={})).status_code == 200


async def test_a_web_refresh_without_a_cookie_is_401(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    api.problem(await browser.post(REFRESH, json={}), 401, code="unauthenticated")


async def test_a_web_client_may_not_send_a_refresh_token_in_the_body(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    tokens = (await browser.post(LOGIN, json={"username": "boss", "password": api.user_password}, web=False)).json()

    response = await browser.post(REFRESH, json={"refresh_token": tokens["refresh_token"]})

    api.problem(response, 400, code="invalid_argument", field="refresh_token")


async def test_a_json_refresh_needs_a_token_in_the_body(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    api.problem(await browser.post(REFRESH, json={}, web=False), 401, code="unauthenticated")


async def test_logout_revokes_the_cookies_login_and_clears_it(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    await browser.login("sales.c", api.user_password)
    cookie = browser.cookie

    response = await browser.post(LOGOUT)

    assert response.status_code == 204
    cleared = _set_cookie(response)
    assert (cleared.value, cleared["max-age"], cleared["path"]) == ("", "0", "/api/v1/auth")
    assert browser.cookie is None
    api.problem(await browser.post(REFRESH, json={}, cookie=cookie), 401, code="unauthenticated")


async def test_logout_without_a_cookie_still_clears_it(browser, org) -> None:  # type: ignore[no-untyped-def]
    response = await browser.post(LOGOUT, json={})

    assert response.status_code == 204
    assert _set_cookie(response)["max-age"] == "0"


async def test_a_json_logout_needs_a_token_in_the_body(browser, org, api) -> None:  # type: ignore[no-untyped-def]
    api.problem(await browser.post(LOGOUT, json={}, web=False), 401, code="unauthenticated")


async def test_two_factor_logins_hand_the_browser_a_cookie_too(stack, browser, api) -> None:  # type: ignore[no-untyped-def]
    admin = await api.login("admin", api.admin_password)
    await api.hire(admin, "web.mfa", "boss")
    await api.hire(admin, "web.policy", "boss")
    headers = await api.login("web.mfa", api.user_password)
    try:
        with stack.clock.frozen(PAST):
            # A code (after enrolling), the second step of a login.
            started = await browser.client.post(ENROL, headers=headers)
            secret = started.json()["secret"]
            confirmed = await browser.client.post(
                CONFIRM, json={"code": pyotp.TOTP(secret).at(stack.clock())}, headers=headers
            )
            assert confirmed.status_code == 200, confirmed.text
            stack.clock.advance(dt.timedelta(seconds=30))
            challenge = (await browser.login("web.mfa", api.user_password)).json()
            assert _sets_no_cookie(await browser.post(LOGIN, json={"username": "web.mfa", "password": "x"}))
            verified = await browser.post(
                VERIFY, json={"mfa_token": challenge["mfa_token"], "code": pyotp.TOTP(secret).at(stack.clock())}
            )

            # An enrolment the tenant's policy demanded, which completes the login.
            assert (await stack.client.put(POLICY, json={"mfa_required": True}, headers=admin)).status_code == 200
            held = (await browser.login("web.policy", api.user_password)).json()
            ticket = _bearer(held["mfa_token"])
            started = await browser.client.post(ENROL, headers={**ticket, **WEB})
            enrolled = await browser.post(
                CONFIRM,
                json={"code": pyotp.TOTP(started.json()["secret"]).at(stack.clock())},
                Authorization=ticket["Authorization"],
            )
    finally:
        assert (await stack.client.put(POLICY, json={"mfa_required": False}, headers=admin)).status_code == 200

    assert verified.status_code == 200, verified.text
    assert verified.json()["refresh_token"] == ""
    assert _set_cookie(verified).value not in verified.text
    assert enrolled.status_code == 200, enrolled.text
    assert enrolled.json()["tokens"]["refresh_token"] == ""
    assert _set_cookie(enrolled)["httponly"] is True
    assert _set_cookie(enrolled).value not in enrolled.text
    # The cookie the enrolment set is a working login.
    assert (await browser.post(REFRESH, json={})).status_code == 200


@pytest.mark.parametrize("path", [LOGIN, REFRESH, LOGOUT])
def test_the_document_declares_the_header_the_cookie_and_set_cookie(path: str) -> None:
    from crm_gateway.openapi import document

    operation = document()["paths"][path]["post"]
    names = {(parameter["in"], parameter["name"]) for parameter in operation["parameters"]}
    assert ("header", "X-Keyuan-Client") in names
    assert path == LOGIN or ("cookie", COOKIE) in names
    success = operation["responses"]["204" if path == LOGOUT else "200"]
    assert "Set-Cookie" in success["headers"]
