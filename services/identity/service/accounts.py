"""Organisations, users, role bindings and the security policy."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.identity.models import (
    FederatedAccount,
    Organisation,
    RefreshToken,
    RoleBindingRow,
    SecurityPolicy,
    SsoSession,
    User,
)
from services.identity.schemas import (
    OrgIn,
    OrgOut,
    PolicyIn,
    PolicyOut,
    RoleIn,
    RoleOut,
    UserIn,
    UserOut,
    UserPatch,
)
from services.identity.service import audit
from services.identity.service.common import Actor, instant, now
from services.identity.service.passwords import check_policy
from services.identity.service.runtime import IdentityRuntime
from services.identity.settings import IdentitySettings
from services.kernel import clock
from services.kernel.errors import Conflict, NotFound, ValidationFailed
from services.kernel.roles import ADMIN_ROLES, Role

# Which kind of organisation may sit under which (province → city → district/county → department).
_PARENT_KINDS = {
    "province": (None,),
    "city": ("province",),
    "district": ("city",),
    "county": ("city",),
    "department": ("province", "city", "district", "county"),
}


# -- organisations ------------------------------------------------------------------------


async def org_by_code(session: AsyncSession, code: str) -> Organisation:
    org = (
        (await session.execute(select(Organisation).where(col(Organisation.code) == code))).scalars().first()
    )
    if org is None:
        raise NotFound(f"机构 {code} 不存在")
    return org


async def org_out(session: AsyncSession, org: Organisation) -> OrgOut:
    parent = await session.get(Organisation, org.parent_id) if org.parent_id else None
    return OrgOut(
        id=org.id or 0,
        code=org.code,
        name=org.name,
        kind=org.kind,
        parent_code=parent.code if parent else None,
        created_at=clock.from_epoch(org.created_at),
    )


async def create_org(session: AsyncSession, data: OrgIn, actor: Actor) -> Organisation:
    parent = await org_by_code(session, data.parent_code) if data.parent_code else None
    allowed = _PARENT_KINDS[data.kind]
    if (parent.kind if parent else None) not in allowed:
        raise ValidationFailed.field(
            "parent_code", f"{data.kind} 类机构的上级须为 {'/'.join(str(k) for k in allowed)}"
        )
    exists = (
        await session.execute(select(col(Organisation.id)).where(col(Organisation.code) == data.code))
    ).first()
    if exists:
        raise Conflict(f"机构代码 {data.code} 已存在")
    org = Organisation(
        code=data.code,
        name=data.name,
        kind=data.kind,
        parent_id=parent.id if parent else None,
        created_at=now(),
    )
    session.add(org)
    await session.flush()
    await audit.record(session, actor, "org.created", data.code, data.model_dump())
    return org


async def rename_org(session: AsyncSession, code: str, name: str, actor: Actor) -> Organisation:
    org = await org_by_code(session, code)
    before = org.name
    org.name = name
    await audit.record(session, actor, "org.updated", code, {"name": [before, name]})
    return org


async def list_orgs(
    session: AsyncSession, offset: int, limit: int, parent_code: str | None = None
) -> tuple[list[Organisation], int]:
    stmt = select(Organisation)
    if parent_code:
        parent = await org_by_code(session, parent_code)
        stmt = stmt.where(col(Organisation.parent_id) == parent.id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (
        (await session.execute(stmt.order_by(col(Organisation.id)).offset(offset).limit(limit)))
        .scalars()
        .all()
    )
    return list(rows), int(total)


# -- security policy ----------------------------------------------------------------------


async def current_policy(session: AsyncSession, settings: IdentitySettings) -> PolicyOut:
    row = await session.get(SecurityPolicy, 1)
    if row is None:
        return PolicyOut(
            password_min_length=8,
            lockout_max_failures=settings.lockout_max_failures,
            lockout_window_seconds=settings.lockout_window_seconds,
            lockout_seconds=settings.lockout_seconds,
        )
    return PolicyOut(
        password_min_length=row.password_min_length,
        lockout_max_failures=row.lockout_max_failures,
        lockout_window_seconds=row.lockout_window_seconds,
        lockout_seconds=row.lockout_seconds,
        updated_at=instant(row.updated_at),
        updated_by=row.updated_by,
    )


async def set_policy(session: AsyncSession, data: PolicyIn, actor: Actor) -> None:
    row = await session.get(SecurityPolicy, 1)
    if row is None:
        row = SecurityPolicy(id=1, updated_at=now(), updated_by=actor.name, **data.model_dump())
        session.add(row)
    else:
        for key, value in data.model_dump().items():
            setattr(row, key, value)
        row.updated_at = now()
        row.updated_by = actor.name
    await audit.record(session, actor, "policy.updated", "security_policy", data.model_dump())


# -- users --------------------------------------------------------------------------------


async def user_by_id(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"用户 {user_id} 不存在")
    return user


async def user_by_username(session: AsyncSession, username: str) -> User | None:
    stmt = select(User).where(col(User.username) == username)
    return (await session.execute(stmt)).scalars().first()


async def bindings_of(session: AsyncSession, user_id: int) -> list[RoleBindingRow]:
    stmt = (
        select(RoleBindingRow).where(col(RoleBindingRow.user_id) == user_id).order_by(col(RoleBindingRow.id))
    )
    return list((await session.execute(stmt)).scalars().all())


def role_out(row: RoleBindingRow) -> RoleOut:
    return RoleOut(
        id=row.id or 0,
        role=Role(row.role),
        site=row.site,
        created_at=clock.from_epoch(row.created_at),
        created_by=row.created_by,
    )


async def user_out(session: AsyncSession, user: User) -> UserOut:
    org = await session.get(Organisation, user.org_id) if user.org_id else None
    return UserOut(
        id=user.id or 0,
        username=user.username,
        display_name=user.display_name,
        org_code=org.code if org else None,
        kind=user.kind,
        status=user.status,
        locked=bool(user.locked_until and user.locked_until > now()),
        roles=[role_out(b) for b in await bindings_of(session, user.id or 0)],
        created_at=clock.from_epoch(user.created_at),
        email=user.email,
    )


async def create_user(session: AsyncSession, rt: IdentityRuntime, data: UserIn, actor: Actor) -> User:
    policy = await current_policy(session, rt.settings)
    check_policy(data.password, username=data.username, min_length=policy.password_min_length)
    org = await org_by_code(session, data.org_code) if data.org_code else None
    if await user_by_username(session, data.username) is not None:
        raise Conflict(f"用户名 {data.username} 已被使用")
    at = now()
    user = User(
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        org_id=org.id if org else None,
        password_hash=await rt.passwords.hash(data.password),
        kind=data.kind,
        created_at=at,
        updated_at=at,
    )
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # a concurrent registration took the name
        raise Conflict(f"用户名 {data.username} 已被使用") from exc
    await audit.record(
        session, actor, "user.created", data.username, {"kind": data.kind, "org": data.org_code}
    )
    return user


async def update_user(
    session: AsyncSession, rt: IdentityRuntime, user_id: int, data: UserPatch, actor: Actor
) -> User:
    user = await user_by_id(session, user_id)
    changes: dict[str, object] = {}
    if data.display_name is not None and data.display_name != user.display_name:
        changes["display_name"] = [user.display_name, data.display_name]
        user.display_name = data.display_name
    if data.email is not None and data.email != user.email:
        changes["email"] = "changed"  # the audit says that it changed, not the address
        user.email = data.email
    if data.org_code is not None:
        org = await org_by_code(session, data.org_code)
        if org.id != user.org_id:
            changes["org"] = data.org_code
            user.org_id = org.id
    if data.status is not None and data.status != user.status:
        changes["status"] = [user.status, data.status]
        user.status = data.status
        if data.status == "disabled":
            await revoke_user_sessions(session, user.id or 0)
    if data.password is not None:
        policy = await current_policy(session, rt.settings)
        check_policy(data.password, username=user.username, min_length=policy.password_min_length)
        user.password_hash = await rt.passwords.hash(data.password)
        changes["password"] = "reset"
        await revoke_user_sessions(session, user.id or 0)
    if data.unlock:
        user.failed_count = 0
        user.first_failed_at = None
        user.locked_until = None
        changes["unlocked"] = True
    if changes:
        user.updated_at = now()
        await audit.record(session, actor, "user.updated", user.username, changes)
    return user


async def revoke_user_sessions(session: AsyncSession, user_id: int) -> None:
    """Refresh tokens and SSO sessions end at once; access tokens run out within their TTL."""
    at = now()
    await session.execute(
        update(RefreshToken)
        .where(col(RefreshToken.user_id) == user_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=at)
    )
    await session.execute(
        update(SsoSession)
        .where(col(SsoSession.user_id) == user_id, col(SsoSession.revoked_at).is_(None))
        .values(revoked_at=at)
    )


async def list_users(
    session: AsyncSession, offset: int, limit: int, username: str | None = None, org_code: str | None = None
) -> tuple[list[User], int]:
    stmt = select(User)
    if username:
        stmt = stmt.where(col(User.username) == username)
    if org_code:
        org = await org_by_code(session, org_code)
        stmt = stmt.where(col(User.org_id) == org.id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(col(User.id)).offset(offset).limit(limit))).scalars().all()
    return list(rows), int(total)


# -- role bindings ------------------------------------------------------------------------


async def add_role(session: AsyncSession, user_id: int, data: RoleIn, actor: Actor) -> RoleBindingRow:
    user = await user_by_id(session, user_id)
    if user.kind != "staff":
        raise ValidationFailed.field("role", "只能为工作人员账号授予管理角色")
    if data.role in ADMIN_ROLES and data.site is not None:
        raise ValidationFailed.field("site", f"{data.role} 只能是全平台角色，站点须为空")
    federated = select(col(FederatedAccount.id)).where(col(FederatedAccount.user_id) == user_id)
    if (await session.execute(federated)).first() is not None:
        # Its bindings are exactly what its issuer's claims map to, set again at every sign-in.
        raise Conflict(f"{user.username} 是联合登录账号，其角色由受信签发方的映射决定")
    current = await bindings_of(session, user_id)
    if any(b.role == data.role and b.site == data.site for b in current):
        raise Conflict(f"用户 {user.username} 已有该角色")
    if data.role in ADMIN_ROLES:
        held = {b.role for b in current if b.role in ADMIN_ROLES}
        if held - {data.role}:
            raise Conflict(
                f"三权分立：用户 {user.username} 已是 {'、'.join(sorted(held))}，不能再兼任 {data.role}"
            )
    row = RoleBindingRow(
        user_id=user_id, role=data.role, site=data.site, created_at=now(), created_by=actor.name
    )
    session.add(row)
    await session.flush()
    await audit.record(session, actor, "role.granted", user.username, {"role": data.role, "site": data.site})
    return row


async def remove_role(session: AsyncSession, user_id: int, binding_id: int, actor: Actor) -> None:
    user = await user_by_id(session, user_id)
    row = await session.get(RoleBindingRow, binding_id)
    if row is None or row.user_id != user_id:
        raise NotFound(f"角色绑定 {binding_id} 不存在")
    await session.delete(row)
    await audit.record(session, actor, "role.revoked", user.username, {"role": row.role, "site": row.site})
