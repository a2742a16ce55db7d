"""New-media accounts of a site (article 17) and their push tasks (article 42); site_admin only."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.content.api.common import StateDep, require
from services.content.newmedia_schemas import (
    AccountCreate,
    AccountCreatedOut,
    AccountOut,
    AccountUpdate,
    PushTaskOut,
)
from services.content.schemas import Listing
from services.content.service import newmedia, sites
from services.content.vocab import NewMediaTaskState
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses
from services.kernel.params import IdPath
from services.kernel.roles import Role

router = APIRouter(tags=["政务新媒体"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict, ValidationFailed)
BASE = "/sites/{code}/new-media"


@router.get(f"{BASE}/accounts", response_model=Listing[AccountOut], summary="新媒体账号", responses=ERRORS)
async def list_accounts(code: str, session: SessionDep, principal: PrincipalDep) -> Listing[AccountOut]:
    require(principal, code, Role.SITE_ADMIN)
    items = [newmedia.account_out(a) for a in await newmedia.list_accounts(session, code)]
    return Listing(total=len(items), items=items)


@router.post(
    f"{BASE}/accounts",
    response_model=AccountCreatedOut,
    status_code=201,
    summary="登记新媒体账号（答复中含签名密钥，仅此一次）",
    responses=ERRORS,
)
async def create_account(
    code: str, body: AccountCreate, session: SessionDep, principal: PrincipalDep, state: StateDep
) -> AccountCreatedOut:
    require(principal, code, Role.SITE_ADMIN)
    await sites.get_site(session, code)
    return await newmedia.create_account(session, code, body, state.outbound_allow)


@router.get(
    f"{BASE}/accounts/{{account_id}}", response_model=AccountOut, summary="新媒体账号详情", responses=ERRORS
)
async def get_account(
    code: str, account_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> AccountOut:
    require(principal, code, Role.SITE_ADMIN)
    return newmedia.account_out(await newmedia.get_account(session, code, account_id))


@router.patch(
    f"{BASE}/accounts/{{account_id}}", response_model=AccountOut, summary="修改新媒体账号", responses=ERRORS
)
async def update_account(
    code: str,
    account_id: IdPath,
    body: AccountUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    state: StateDep,
) -> AccountOut:
    require(principal, code, Role.SITE_ADMIN)
    account = await newmedia.update_account(session, code, account_id, body, state.outbound_allow)
    return newmedia.account_out(account)


@router.delete(f"{BASE}/accounts/{{account_id}}", status_code=204, summary="注销新媒体账号", responses=ERRORS)
async def delete_account(code: str, account_id: IdPath, session: SessionDep, principal: PrincipalDep) -> None:
    require(principal, code, Role.SITE_ADMIN)
    await newmedia.delete_account(session, code, account_id)


@router.get(f"{BASE}/tasks", response_model=Listing[PushTaskOut], summary="新媒体推送任务", responses=ERRORS)
async def list_tasks(
    code: str,
    session: SessionDep,
    principal: PrincipalDep,
    state: Annotated[NewMediaTaskState | None, Query()] = None,
) -> Listing[PushTaskOut]:
    require(principal, code, Role.SITE_ADMIN)
    items = [newmedia.task_out(t) for t in await newmedia.list_tasks(session, code, state)]
    return Listing(total=len(items), items=items)


@router.post(
    f"{BASE}/tasks/{{task_id}}/retry",
    response_model=PushTaskOut,
    summary="重试失败的推送任务",
    responses=ERRORS,
)
async def retry_task(code: str, task_id: IdPath, session: SessionDep, principal: PrincipalDep) -> PushTaskOut:
    require(principal, code, Role.SITE_ADMIN)
    return newmedia.task_out(await newmedia.retry_task(session, code, task_id))
