"""Administration by the system administrator: organisations, users, clients."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.identity.api.common import RuntimeDep, actor_of
from services.identity.schemas import (
    ClientIn,
    ClientOut,
    ClientPatch,
    OrgIn,
    OrgOut,
    OrgPatch,
    UserIn,
    UserOut,
    UserPatch,
)
from services.identity.service import accounts, clients
from services.identity.service.access import guard_account, require_system_admin, require_user_reader
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

router = APIRouter(tags=["系统管理"])
_WRITE = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)
_READ = problem_responses(Unauthorized, Forbidden, NotFound)


@router.get("/orgs", response_model=Page[OrgOut], summary="机构列表", responses=_READ)
async def list_orgs(
    principal: PrincipalDep, session: SessionDep, page: PageDep, parent: str | None = None
) -> Page[OrgOut]:
    rows, total = await accounts.list_orgs(session, page.offset, page.size, parent)
    items = [await accounts.org_out(session, o) for o in rows]
    return Page(total=total, page=page.page, size=page.size, items=items)


@router.post("/orgs", response_model=OrgOut, status_code=201, summary="新建机构", responses=_WRITE)
async def create_org(data: OrgIn, principal: PrincipalDep, session: SessionDep, request: Request) -> OrgOut:
    require_system_admin(principal)
    org = await accounts.create_org(session, data, actor_of(principal, request))
    return await accounts.org_out(session, org)


@router.get("/orgs/{code}", response_model=OrgOut, summary="机构详情", responses=_READ)
async def get_org(code: str, principal: PrincipalDep, session: SessionDep) -> OrgOut:
    return await accounts.org_out(session, await accounts.org_by_code(session, code))


@router.patch("/orgs/{code}", response_model=OrgOut, summary="修改机构名称", responses=_WRITE)
async def patch_org(
    code: str, data: OrgPatch, principal: PrincipalDep, session: SessionDep, request: Request
) -> OrgOut:
    require_system_admin(principal)
    org = await accounts.org_by_code(session, code)
    if data.name is not None:
        org = await accounts.rename_org(session, code, data.name, actor_of(principal, request))
    return await accounts.org_out(session, org)


@router.get("/users", response_model=Page[UserOut], summary="用户列表", responses=_READ)
async def list_users(
    principal: PrincipalDep,
    session: SessionDep,
    page: PageDep,
    username: str | None = None,
    org: str | None = None,
) -> Page[UserOut]:
    require_user_reader(principal)
    rows, total = await accounts.list_users(session, page.offset, page.size, username, org)
    items = [await accounts.user_out(session, u) for u in rows]
    return Page(total=total, page=page.page, size=page.size, items=items)


@router.post("/users", response_model=UserOut, status_code=201, summary="新建用户", responses=_WRITE)
async def create_user(
    data: UserIn, principal: PrincipalDep, session: SessionDep, rt: RuntimeDep, request: Request
) -> UserOut:
    require_system_admin(principal)
    user = await accounts.create_user(session, rt, data, actor_of(principal, request))
    return await accounts.user_out(session, user)


@router.get("/users/{user_id}", response_model=UserOut, summary="用户详情", responses=_READ)
async def get_user(user_id: IdPath, principal: PrincipalDep, session: SessionDep) -> UserOut:
    if principal.sub != str(user_id) or principal.kind != "user":
        require_user_reader(principal)
    return await accounts.user_out(session, await accounts.user_by_id(session, user_id))


@router.patch(
    "/users/{user_id}", response_model=UserOut, summary="修改、停用、重置密码或解锁用户", responses=_WRITE
)
async def patch_user(
    user_id: IdPath,
    data: UserPatch,
    principal: PrincipalDep,
    session: SessionDep,
    rt: RuntimeDep,
    request: Request,
) -> UserOut:
    require_system_admin(principal)
    actor = actor_of(principal, request)
    await guard_account(session, principal, actor, user_id, "user.update")
    user = await accounts.update_user(session, rt, user_id, data, actor)
    return await accounts.user_out(session, user)


@router.get("/clients", response_model=Page[ClientOut], summary="客户端列表", responses=_READ)
async def list_clients(principal: PrincipalDep, session: SessionDep, page: PageDep) -> Page[ClientOut]:
    require_system_admin(principal)
    rows, total = await clients.list_clients(session, page.offset, page.size)
    return Page(total=total, page=page.page, size=page.size, items=[clients.client_out(c) for c in rows])


@router.post(
    "/clients",
    response_model=ClientOut,
    status_code=201,
    summary="登记客户端（机密客户端的密钥只返回这一次）",
    responses=_WRITE,
)
async def create_client(
    data: ClientIn, principal: PrincipalDep, session: SessionDep, request: Request
) -> ClientOut:
    require_system_admin(principal)
    client, secret = await clients.create_client(session, data, actor_of(principal, request))
    return clients.client_out(client, secret)


@router.get("/clients/{client_id}", response_model=ClientOut, summary="客户端详情", responses=_READ)
async def get_client(client_id: str, principal: PrincipalDep, session: SessionDep) -> ClientOut:
    require_system_admin(principal)
    return clients.client_out(await clients.require_client(session, client_id))


@router.patch(
    "/clients/{client_id}", response_model=ClientOut, summary="修改客户端或轮换密钥", responses=_WRITE
)
async def patch_client(
    client_id: str, data: ClientPatch, principal: PrincipalDep, session: SessionDep, request: Request
) -> ClientOut:
    require_system_admin(principal)
    client, secret = await clients.update_client(session, client_id, data, actor_of(principal, request))
    return clients.client_out(client, secret)


@router.delete("/clients/{client_id}", status_code=204, summary="删除客户端", responses=_WRITE)
async def delete_client(
    client_id: str, principal: PrincipalDep, session: SessionDep, request: Request
) -> Response:
    require_system_admin(principal)
    await clients.delete_client(session, client_id, actor_of(principal, request))
    return Response(status_code=204)
