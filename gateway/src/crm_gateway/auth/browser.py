"""Sign-in for the browser: the refresh token lives in an HttpOnly cookie the page's scripts cannot
read, and counts only on requests that carry `X-Keyuan-Client: web`.

Why the header: SameSite=Strict already keeps the cookie off requests started by another site,
and a cross-site form or image cannot set a custom header at all (a script on another origin
could, but only after a CORS preflight the gateway never grants). So the cookie is ignored
without the header, and a request with it comes from our own pages. The cookie's path is the auth
routes', so no other request carries it. Other clients (the mobile apps to come, partner scripts)
keep the JSON flow: the refresh token in the body, in both directions.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Cookie, Header, Request, Response

from crm_gateway.settings import GatewaySettings
from crmkit.errors import InvalidArgument, Unauthenticated

WEB_CLIENT_HEADER = "X-Keyuan-Client"
WEB = "web"
REFRESH_COOKIE = "keyuan_refresh"
COOKIE_PATH = "/api/v1/auth"

WebClient = Annotated[
    Literal["web"] | None,
    Header(
        alias=WEB_CLIENT_HEADER,
        description="`web` from the console and the H5: the refresh token travels as the HttpOnly cookie "
        f"`{REFRESH_COOKIE}` (path {COOKIE_PATH}) and the body's `refresh_token` is empty. "
        "浏览器客户端：刷新令牌仅通过 HttpOnly Cookie 传递。",
    ),
]
RefreshCookie = Annotated[
    str | None,
    Cookie(
        alias=REFRESH_COOKIE,
        max_length=256,
        description=f"The browser's refresh token; read only with `{WEB_CLIENT_HEADER}: web`. 浏览器刷新令牌。",
    ),
]
# Declared on the routes that set or clear the cookie, so the document says so.
SETS_COOKIE = {
    "Set-Cookie": {
        "description": f"With `{WEB_CLIENT_HEADER}: web`: `{REFRESH_COOKIE}`, HttpOnly, SameSite=Strict, "
        f"Path={COOKIE_PATH}, Max-Age the refresh token's lifetime (0 to clear it), Secure over https.",
        "schema": {"type": "string"},
    }
}


def is_web(client: str | None) -> bool:
    return client == WEB


def presented_refresh_token(*, web: bool, cookie: str | None, body_token: str | None) -> str | None:
    """The refresh token this request presents: the cookie's for the browser, the body's for
    everyone else (a cookie without the header is ignored, whatever it holds)."""
    if not web:
        return body_token
    if body_token:
        raise InvalidArgument(
            "refresh_token",
            "a web client's refresh token is its cookie: send {} / 浏览器客户端的刷新令牌在 Cookie 中，请求体请留空",
        )
    return cookie


def missing_refresh_token(*, web: bool, cookie: str | None) -> Unauthenticated:
    if web:
        return Unauthenticated("not signed in: no refresh cookie / 未登录或登录已失效")
    if cookie:
        return Unauthenticated(
            f"the refresh cookie counts only with the header {WEB_CLIENT_HEADER}: web "
            f"/ 刷新 Cookie 仅在请求头带有 {WEB_CLIENT_HEADER}: web 时有效"
        )
    return Unauthenticated("refresh_token missing / 缺少刷新令牌")


def over_https(request: Request, settings: GatewaySettings) -> bool:
    """Whether the browser reached us over https: the request's scheme (behind a proxy uvicorn
    takes it from X-Forwarded-Proto, but only from an address in FORWARDED_ALLOW_IPS), or the
    operator's word that clients come over https (HSTS is configured)."""
    return request.url.scheme == "https" or settings.hsts_seconds > 0


def keep_refresh_token(response: Response, raw: str, *, request: Request, settings: GatewaySettings) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        raw,
        max_age=settings.refresh_token_days * 24 * 3600,
        path=COOKIE_PATH,
        secure=over_https(request, settings),
        httponly=True,
        samesite="strict",
    )


def forget_refresh_token(response: Response, *, request: Request, settings: GatewaySettings) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=COOKIE_PATH,
        secure=over_https(request, settings),
        httponly=True,
        samesite="strict",
    )
