"""/api/v1/auth/mfa/enrolment, /api/v1/security-policy and an admin's reset of a user's two-factor login."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.browser import SETS_COOKIE, WebClient, is_web
from crm_gateway.auth.router import NOT_STORED, TokensOut, complete_login, hand_over, not_stored
from crm_gateway.directory.models import User
from crm_gateway.directory.service import get_user
from crm_gateway.inputs import ApiModel, path_id
from crm_gateway.rate_limits.service import route_group
from crm_gateway.two_factor import service
from crm_gateway.web import (
    BEARER_DEPENDENCIES,
    Caller,
    DbSession,
    State,
    bearer_token,
    client_address,
    gateway_state,
)
from crmkit.errors import Unauthenticated

router = APIRouter(prefix="/api/v1", tags=["auth"])


@dataclass(frozen=True)
class Enrollee:
    user_id: str
    address: str
    # Signed in with the login's two-factor ticket rather than an access token: the tenant
    # requires enrolment, and confirming it completes that login.
    by_ticket: bool


async def enrollee(request: Request) -> Enrollee:
    """The user enrolling: a signed-in user (access token), or one whose login stopped at the
    tenant's two-factor policy (the login's `mfa_token` as bearer token, good for nothing else)."""
    state = gateway_state(request)
    token = bearer_token(request)
    address = client_address(request)
    try:
        identity = state.tokens.identity_of(token)
    except Unauthenticated:
        user_id = state.mfa_tokens.user_id_of(token)
        await state.limiter.admit("auth", f"address:{address}")
        return Enrollee(user_id, address, by_ticket=True)
    request.state.identity = identity
    await state.limiter.admit(route_group(request.method), f"user:{identity.principal_id}")
    return Enrollee(identity.principal_id, address, by_ticket=False)


BEARER_DEPENDENCIES.append(enrollee)
Enrolling = Annotated[Enrollee, Depends(enrollee)]


class EnrolmentStartOut(BaseModel):
    secret: str = Field(description="base32 secret for manual entry 手动输入用密钥")
    otpauth_uri: str
    qr_code: str = Field(description="SVG data URL of the otpauth URI 二维码（SVG data URL）")


class EnrolmentConfirmIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^\d{6}$")


class EnrolmentConfirmedOut(BaseModel):
    recovery_codes: list[str] = Field(description="shown once; each works once 仅显示一次，每个仅可使用一次")
    # When enrolment completed a login held up by the tenant's policy.
    tokens: TokensOut | None = None


class SecurityPolicyIn(ApiModel):
    model_config = ConfigDict(extra="forbid")
    mfa_required: bool = Field(description="admins and bosses must use two-factor login 管理员与老板必须两步验证")


class SecurityPolicyOut(BaseModel):
    mfa_required: bool


async def _enrolling_user(session: AsyncSession, who: Enrollee) -> User:
    user = await session.get(User, who.user_id)
    if user is None or not user.active:
        raise Unauthenticated("invalid token / 令牌无效")
    if who.by_ticket and not await service.must_enrol(session, user):
        raise Unauthenticated("invalid two-factor token / 二次验证令牌无效")
    return user


@router.post(
    "/auth/mfa/enrolment",
    summary="Start two-factor enrolment: secret and QR code 开始绑定两步验证",
    dependencies=[Depends(not_stored)],
)
async def start_enrolment(who: Enrolling, state: State) -> EnrolmentStartOut:
    async with state.sessions() as session, session.begin():
        user = await _enrolling_user(session, who)
        started = await service.start_enrolment(
            session,
            user=user,
            box=state.secret_box,
            issuer=state.settings.mfa_issuer,
            address=who.address,
            now=state.now(),
        )
    return EnrolmentStartOut(secret=started.secret, otpauth_uri=started.otpauth_uri, qr_code=started.qr_code)


@router.post(
    "/auth/mfa/enrolment/confirm",
    summary="Confirm two-factor enrolment with a code; returns recovery codes 确认绑定两步验证",
    description="When the enrolment completes a login held up by the tenant's policy, `tokens` holds that "
    "login's tokens (for the browser, `X-Keyuan-Client: web`, the refresh token is set as its cookie).",
    dependencies=[Depends(not_stored)],
    responses={200: {"headers": SETS_COOKIE}},
)
async def confirm_enrolment(
    body: EnrolmentConfirmIn,
    who: Enrolling,
    state: State,
    request: Request,
    response: Response,
    client: WebClient = None,
) -> EnrolmentConfirmedOut:
    now = state.now()
    async with state.sessions() as session, session.begin():
        user = await _enrolling_user(session, who)
        codes = await service.confirm_enrolment(
            session, user=user, box=state.secret_box, code=body.code, address=who.address, now=now
        )
        tokens = (
            await complete_login(session, state, user=user, address=who.address, now=now) if who.by_ticket else None
        )
    if tokens is not None:
        tokens = hand_over(tokens, web=is_web(client), request=request, response=response, state=state)
    return EnrolmentConfirmedOut(recovery_codes=codes, tokens=tokens)


@router.get("/security-policy", summary="The tenant's security policy 安全策略", tags=["directory"])
async def get_security_policy(identity: Caller, session: DbSession) -> SecurityPolicyOut:
    policy = await service.get_policy(session, identity=identity)
    return SecurityPolicyOut(mfa_required=policy.mfa_required)


@router.put(
    "/security-policy",
    summary="Change the tenant's security policy (admin) 修改安全策略",
    description="With `mfa_required`, admins and bosses without two-factor login enrol at their next login "
    "and their refresh tokens stop working. 开启后，未绑定的管理员与老板须在下次登录时绑定。",
    tags=["directory"],
)
async def put_security_policy(
    body: SecurityPolicyIn, request: Request, identity: Caller, state: State
) -> SecurityPolicyOut:
    async with state.sessions() as session, session.begin():
        policy = await service.set_policy(
            session,
            identity=identity,
            mfa_required=body.mfa_required,
            address=client_address(request),
            now=state.now(),
        )
    return SecurityPolicyOut(mfa_required=policy.mfa_required)


@router.post(
    "/users/{user_id}/mfa/reset",
    status_code=204,
    summary="Turn off a user's two-factor login (admin) 重置用户两步验证",
    tags=["directory"],
)
async def reset_two_factor(user_id: str, request: Request, identity: Caller, state: State) -> Response:
    async with state.sessions() as session, session.begin():
        identity.require_role(*service.RESETTERS)
        user, _unit = await get_user(session, identity=identity, user_id=path_id(user_id, "user_id"))
        await service.reset_enrolment(
            session, identity=identity, user=user, address=client_address(request), now=state.now()
        )
    return Response(status_code=204, headers=NOT_STORED)
