"""Org tree and user administration. Functions take the session and never commit."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Collection

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from crm_gateway.auth.models import RefreshToken
from crm_gateway.auth.passwords import PasswordHashing
from crm_gateway.directory.events import announce_user
from crm_gateway.directory.models import AuditEntry, OrgUnit, Tenant, User
from crmkit.db import SessionFactory
from crmkit.errors import AlreadyExists, InvalidArgument, NotFound
from crmkit.identity import Identity, Role, org_path_of
from crmkit.scope import scope_clause

CHILD_KIND = {"hq": "subsidiary", "subsidiary": "shop"}


async def bootstrap(
    session: AsyncSession,
    *,
    tenant_name: str,
    hq_name: str,
    admin_password: str,
    passwords: PasswordHashing,
    now: dt.datetime,
    namespace: str = "",
) -> User | None:
    """On an empty database: one tenant, its head office and the `admin` user."""
    if await session.scalar(select(func.count()).select_from(User)):
        return None
    tenant = Tenant(id=str(uuid.uuid4()), name=tenant_name, created_at=now)
    hq_id = str(uuid.uuid4())
    hq = OrgUnit(
        id=hq_id,
        tenant_id=tenant.id,
        parent_id=None,
        name=hq_name,
        kind="hq",
        path=org_path_of([hq_id]),
        created_at=now,
    )
    admin = User(
        id=str(uuid.uuid4()),
        tenant_id=tenant.id,
        org_unit_id=hq.id,
        username="admin",
        display_name="系统管理员",
        role=Role.ADMIN.value,
        password_hash=await passwords.hash(admin_password),
        active=True,
        created_at=now,
    )
    session.add_all([tenant])
    await session.flush()
    session.add(hq)
    await session.flush()
    session.add(admin)
    await announce_user(session, admin, hq, actor_id="system", now=now, namespace=namespace)
    return admin


def audit(
    session: AsyncSession,
    identity: Identity,
    action: str,
    target_id: str,
    detail: str,
    now: dt.datetime,
    *,
    client_address: str = "",
) -> str:
    """The entry's id (an export fills in its count when it ends)."""
    return record_audit(
        session,
        tenant_id=identity.tenant_id,
        actor_id=identity.principal_id,
        action=action,
        target_id=target_id,
        detail=detail,
        client_address=client_address,
        now=now,
    )


def audit_own(
    session: AsyncSession, user: User, action: str, *, detail: str = "", client_address: str, now: dt.datetime
) -> None:
    """An event of a user's own account (their login, their two-factor setup)."""
    record_audit(
        session,
        tenant_id=user.tenant_id,
        actor_id=user.id,
        action=action,
        target_id=user.id,
        detail=detail,
        client_address=client_address,
        now=now,
    )


def record_audit(
    session: AsyncSession,
    *,
    tenant_id: str,
    actor_id: str,
    action: str,
    target_id: str = "",
    detail: str = "",
    client_address: str = "",
    now: dt.datetime,
) -> str:
    """An audit entry in the caller's transaction; also for events without a signed-in caller
    (a failed login has no identity, and an unknown username no tenant). Its id."""
    entry_id = str(uuid.uuid4())
    session.add(
        AuditEntry(
            id=entry_id,
            tenant_id=tenant_id,
            actor_id=actor_id,
            action=action,
            target_id=target_id,
            detail=detail[:500],
            at=now,
            client_address=client_address[:64],
        )
    )
    return entry_id


async def list_org_units(session: AsyncSession, *, identity: Identity) -> list[OrgUnit]:
    return list(
        (
            await session.scalars(select(OrgUnit).where(OrgUnit.tenant_id == identity.tenant_id).order_by(OrgUnit.path))
        ).all()
    )


async def get_org_unit(session: AsyncSession, *, identity: Identity, org_unit_id: str, field: str) -> OrgUnit:
    unit = await session.get(OrgUnit, org_unit_id)
    if unit is None or unit.tenant_id != identity.tenant_id:
        raise InvalidArgument(field, "unknown org unit / 组织不存在")
    return unit


async def create_org_unit(
    session: AsyncSession, *, identity: Identity, name: str, parent_id: str, now: dt.datetime
) -> OrgUnit:
    identity.require_role(Role.ADMIN)
    parent = await get_org_unit(session, identity=identity, org_unit_id=parent_id, field="parent_id")
    kind = CHILD_KIND.get(parent.kind)
    if kind is None:
        raise InvalidArgument("parent_id", "a shop cannot have sub-units / 门店下不能再建组织")
    unit_id = str(uuid.uuid4())
    unit = OrgUnit(
        id=unit_id,
        tenant_id=identity.tenant_id,
        parent_id=parent.id,
        name=name,
        kind=kind,
        path=f"{parent.path}{unit_id}/",
        created_at=now,
    )
    session.add(unit)
    audit(session, identity, "org_unit.create", unit_id, name, now)
    return unit


async def rename_org_unit(
    session: AsyncSession, *, identity: Identity, org_unit_id: str, name: str, now: dt.datetime
) -> OrgUnit:
    identity.require_role(Role.ADMIN)
    unit = await session.get(OrgUnit, org_unit_id, with_for_update=True)
    if unit is None or unit.tenant_id != identity.tenant_id:
        raise NotFound("org unit", org_unit_id)
    if unit.name != name:
        audit(session, identity, "org_unit.rename", unit.id, f"{unit.name} -> {name}", now)
        unit.name = name
    return unit


def _user_scope(identity: Identity) -> list[ColumnElement[bool]]:
    # A user "owns" their own record: sales reps see themselves, supervisors their subtree.
    return [scope_clause(identity, tenant=User.tenant_id, org_path=OrgUnit.path, owner=User.id)]


async def list_users(session: AsyncSession, *, identity: Identity) -> list[tuple[User, OrgUnit]]:
    rows = await session.execute(
        select(User, OrgUnit)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(*_user_scope(identity))
        .order_by(OrgUnit.path, User.username)
    )
    return [(user, unit) for user, unit in rows.all()]


# Who may work on a customer beside its owner (collaborators): anyone who serves customers.
COLLABORATOR_ROLES = (Role.SALES, Role.SUPERVISOR, Role.SERVICE)


async def list_colleagues(session: AsyncSession, *, identity: Identity) -> list[tuple[User, OrgUnit]]:
    """The tenant's active users who may collaborate on a customer, for anyone to pick one: a
    sales rep sees only themselves in the user list, but must be able to ask a colleague in."""
    rows = await session.execute(
        select(User, OrgUnit)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(
            User.tenant_id == identity.tenant_id,
            User.active.is_(True),
            User.role.in_([role.value for role in COLLABORATOR_ROLES]),
        )
        .order_by(OrgUnit.path, User.display_name)
    )
    return [(user, unit) for user, unit in rows.all()]


async def get_user(session: AsyncSession, *, identity: Identity, user_id: str) -> tuple[User, OrgUnit]:
    row = (
        await session.execute(
            select(User, OrgUnit)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(User.id == user_id, *_user_scope(identity))
        )
    ).first()
    if row is None:
        raise NotFound("user", user_id)
    return row[0], row[1]


async def create_user(
    session: AsyncSession,
    *,
    identity: Identity,
    username: str,
    display_name: str,
    password: str,
    passwords: PasswordHashing,
    role: Role,
    org_unit_id: str,
    now: dt.datetime,
    namespace: str = "",
) -> tuple[User, OrgUnit]:
    identity.require_role(Role.ADMIN)
    unit = await get_org_unit(session, identity=identity, org_unit_id=org_unit_id, field="org_unit_id")
    if await session.scalar(select(User.id).where(User.username == username)):
        raise AlreadyExists(f"username {username!r} is taken / 用户名已被使用", field="username")
    user = User(
        id=str(uuid.uuid4()),
        tenant_id=identity.tenant_id,
        org_unit_id=unit.id,
        username=username,
        display_name=display_name,
        role=role.value,
        password_hash=await passwords.hash(password),
        active=True,
        created_at=now,
    )
    session.add(user)
    audit(session, identity, "user.create", user.id, f"{username} {role.value}", now)
    await announce_user(session, user, unit, actor_id=identity.principal_id, now=now, namespace=namespace)
    return user, unit


async def update_user(
    session: AsyncSession,
    *,
    identity: Identity,
    user_id: str,
    display_name: str | None,
    role: Role | None,
    now: dt.datetime,
    namespace: str = "",
) -> tuple[User, OrgUnit]:
    """Change a user's display name or role (admin). The new role holds from the user's next
    token (at most the access token's lifetime); an admin cannot change their own role, so a
    tenant is never left without one by a slip."""
    identity.require_role(Role.ADMIN)
    user, unit = await get_user(session, identity=identity, user_id=user_id)
    # Locked and read afresh: two admins changing one user at once publish versions in the
    # order they commit, each carrying the other's change if it came first.
    await session.refresh(user, with_for_update=True)
    changed = False
    if role is not None and role.value != user.role:
        if user.id == identity.principal_id:
            raise InvalidArgument("role", "you cannot change your own role / 不能修改自己的角色")
        audit(session, identity, "user.role", user.id, f"{user.role} -> {role.value}", now)
        user.role = role.value
        changed = True
    if display_name is not None and display_name != user.display_name:
        audit(session, identity, "user.rename", user.id, f"{user.display_name} -> {display_name}", now)
        user.display_name = display_name
        changed = True
    if changed:
        await announce_user(session, user, unit, actor_id=identity.principal_id, now=now, namespace=namespace)
    return user, unit


async def set_user_active(
    session: AsyncSession,
    *,
    identity: Identity,
    user_id: str,
    active: bool,
    now: dt.datetime,
    namespace: str = "",
) -> tuple[User, OrgUnit]:
    """Deactivate (停用) or reactivate a user (admin; not oneself). A deactivated user cannot
    sign in or refresh, their refresh tokens are revoked (an access token lives out its 15
    minutes), and `user_changed` tells the services they may own nothing new. Whoever calls this
    to deactivate has handed their customers over first (the router starts the transfer)."""
    identity.require_role(Role.ADMIN)
    user, unit = await get_user(session, identity=identity, user_id=user_id)
    if user.id == identity.principal_id:
        raise InvalidArgument("user_id", "you cannot deactivate yourself / 不能停用自己")
    await session.refresh(user, with_for_update=True)
    if user.active == active:
        return user, unit
    user.active = active
    audit(session, identity, "user.activate" if active else "user.deactivate", user.id, user.username, now)
    if not active:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.user_id == user.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    await announce_user(session, user, unit, actor_id=identity.principal_id, now=now, namespace=namespace)
    return user, unit


async def user_in_tenant(
    session: AsyncSession, *, identity: Identity, user_id: str, field: str, roles: Collection[Role] = ()
) -> tuple[User, OrgUnit]:
    """A user the caller may assign work to: same tenant, active, and (if `roles` are given) in
    one of them; else a field error."""
    row = (
        await session.execute(
            select(User, OrgUnit)
            .join(OrgUnit, OrgUnit.id == User.org_unit_id)
            .where(User.id == user_id, User.tenant_id == identity.tenant_id, User.active.is_(True))
        )
    ).first()
    if row is None:
        raise InvalidArgument(field, "unknown user / 用户不存在")
    if roles and Role(row[0].role) not in roles:
        raise InvalidArgument(field, "this user's role cannot take this on / 该用户的角色不能负责此项")
    return row[0], row[1]


async def display_names(session: AsyncSession, *, tenant_id: str, user_ids: set[str]) -> dict[str, str]:
    if not user_ids:
        return {}
    rows = await session.execute(
        select(User.id, User.display_name).where(User.tenant_id == tenant_id, User.id.in_(user_ids))
    )
    return {user_id: name for user_id, name in rows.all()}


class DisplayNames:
    """Users' display names for rendering owners, kept for a minute: renames show up soon enough."""

    def __init__(self, sessions: SessionFactory, ttl_seconds: float = 60.0) -> None:
        self._sessions = sessions
        self._ttl = ttl_seconds
        self._names: dict[tuple[str, str], tuple[float, str]] = {}

    def forget(self, *, tenant_id: str, user_id: str) -> None:
        """A user renamed here shows the new name at once on this replica (others within the TTL)."""
        self._names.pop((tenant_id, user_id), None)

    async def lookup(self, *, tenant_id: str, user_ids: set[str]) -> dict[str, str]:
        """Names by user id; a database session is opened only when some name is not cached."""
        now = time.monotonic()
        found: dict[str, str] = {}
        missing: set[str] = set()
        for user_id in user_ids:
            cached = self._names.get((tenant_id, user_id))
            if cached is not None and now - cached[0] < self._ttl:
                found[user_id] = cached[1]
            else:
                missing.add(user_id)
        if missing:
            async with self._sessions() as session:
                fresh = await display_names(session, tenant_id=tenant_id, user_ids=missing)
            if len(self._names) > 50_000:
                self._names.clear()
            for user_id in missing:
                name = fresh.get(user_id, "")
                self._names[(tenant_id, user_id)] = (now, name)
                found[user_id] = name
        return found
