"""Jobs of the security administrator (roles, keys, policy) and the audit administrator."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlmodel import col

from services.identity.api.common import RuntimeDep, actor_of
from services.identity.models import SigningKey
from services.identity.schemas import (
    AuditOut,
    ChainOut,
    KeyOut,
    PolicyIn,
    PolicyOut,
    RoleIn,
    RoleOut,
    RotateOut,
)
from services.identity.service import accounts, audit, keys
from services.identity.service.access import (
    guard_roles,
    require_auditor,
    require_security_admin,
    require_user_reader,
)
from services.identity.service.common import instant
from services.kernel import clock
from services.kernel.deps import PageDep, PrincipalDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.pagination import Page
from services.kernel.params import IdPath

router = APIRouter()
_WRITE = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)
_READ = problem_responses(Unauthorized, Forbidden, NotFound)


@router.get(
    "/users/{user_id}/roles",
    response_model=list[RoleOut],
    tags=["安全管理"],
    summary="用户的角色绑定",
    responses=_READ,
)
async def list_roles(user_id: IdPath, principal: PrincipalDep, session: SessionDep) -> list[RoleOut]:
    require_user_reader(principal)
    await accounts.user_by_id(session, user_id)
    return [accounts.role_out(b) for b in await accounts.bindings_of(session, user_id)]


@router.post(
    "/users/{user_id}/roles",
    response_model=RoleOut,
    status_code=201,
    tags=["安全管理"],
    summary="授予角色（三权分立：同一人不得兼任两个管理员角色）",
    responses=_WRITE,
)
async def add_role(
    user_id: IdPath, data: RoleIn, principal: PrincipalDep, session: SessionDep, request: Request
) -> RoleOut:
    require_security_admin(principal)
    actor = actor_of(principal, request)
    await guard_roles(session, principal, actor, user_id, "role.grant")
    return accounts.role_out(await accounts.add_role(session, user_id, data, actor))


@router.delete(
    "/users/{user_id}/roles/{binding_id}",
    status_code=204,
    tags=["安全管理"],
    summary="收回角色",
    responses=_WRITE,
)
async def remove_role(
    user_id: IdPath, binding_id: IdPath, principal: PrincipalDep, session: SessionDep, request: Request
) -> Response:
    require_security_admin(principal)
    actor = actor_of(principal, request)
    await guard_roles(session, principal, actor, user_id, "role.revoke")
    await accounts.remove_role(session, user_id, binding_id, actor)
    return Response(status_code=204)


@router.get("/policy", response_model=PolicyOut, tags=["安全管理"], summary="密码与锁定策略", responses=_READ)
async def get_policy(principal: PrincipalDep, session: SessionDep, rt: RuntimeDep) -> PolicyOut:
    require_security_admin(principal)
    return await accounts.current_policy(session, rt.settings)


@router.put(
    "/policy", response_model=PolicyOut, tags=["安全管理"], summary="设置密码与锁定策略", responses=_WRITE
)
async def put_policy(
    data: PolicyIn, principal: PrincipalDep, session: SessionDep, rt: RuntimeDep, request: Request
) -> PolicyOut:
    require_security_admin(principal)
    await accounts.set_policy(session, data, actor_of(principal, request))
    return await accounts.current_policy(session, rt.settings)


def _key_out(row: SigningKey) -> KeyOut:
    return KeyOut(
        kid=row.kid,
        alg=row.alg,
        status=row.status,
        created_at=clock.from_epoch(row.created_at),
        retired_at=instant(row.retired_at),
        retire_after=instant(row.retire_after),
    )


@router.get(
    "/keys", response_model=list[KeyOut], tags=["安全管理"], summary="签名密钥（不含私钥）", responses=_READ
)
async def list_keys(principal: PrincipalDep, session: SessionDep) -> list[KeyOut]:
    require_security_admin(principal)
    rows = (await session.execute(select(SigningKey).order_by(col(SigningKey.id).desc()))).scalars().all()
    return [_key_out(r) for r in rows]


@router.post(
    "/keys/rotate", response_model=RotateOut, tags=["安全管理"], summary="轮换签名密钥", responses=_WRITE
)
async def rotate_keys(
    principal: PrincipalDep, session: SessionDep, rt: RuntimeDep, request: Request
) -> RotateOut:
    require_security_admin(principal)
    active, retired, pruned = await keys.rotate_recorded(session, rt.keys, actor_of(principal, request))
    return RotateOut(active=active, retired=retired, pruned=pruned)


@router.get(
    "/audit", response_model=Page[AuditOut], tags=["审计"], summary="审计日志（新的在前）", responses=_READ
)
async def list_audit(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    action: Annotated[str | None, Query(description="按动作过滤，如 signin.failed")] = None,
    actor: Annotated[str | None, Query(description="按操作人过滤")] = None,
) -> Page[AuditOut]:
    require_auditor(principal)
    rows, total = await audit.list_entries(session, page.offset, page.size, action, actor)
    items = [AuditOut.model_validate(r, from_attributes=True) for r in rows]
    return Page(total=total, page=page.page, size=page.size, items=items)


@router.get(
    "/audit/verify", response_model=ChainOut, tags=["审计"], summary="校验审计日志哈希链", responses=_READ
)
async def verify_audit(principal: PrincipalDep, session: SessionDep) -> ChainOut:
    require_auditor(principal)
    return ChainOut(**(await audit.verify_chain(session)).to_json())
