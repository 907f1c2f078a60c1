"""/api/v1/users/{id}/unlock: an admin lifts a login lock."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from crm_gateway.inputs import path_id
from crm_gateway.login_protection.service import unlock_user
from crm_gateway.web import Caller, State, client_address

router = APIRouter(prefix="/api/v1", tags=["directory"])


@router.post(
    "/users/{user_id}/unlock",
    status_code=204,
    summary="Unlock a user locked out by failed logins (admin) 解锁用户",
    description="Clears the account's failed-login count and lock; locks on client addresses expire by "
    "themselves. 清除该账户的登录失败计数与锁定。",
)
async def unlock(user_id: str, request: Request, identity: Caller, state: State) -> Response:
    async with state.sessions() as session, session.begin():
        await unlock_user(
            session,
            identity=identity,
            user_id=path_id(user_id, "user_id"),
            address=client_address(request),
            now=state.now(),
        )
    return Response(status_code=204)
