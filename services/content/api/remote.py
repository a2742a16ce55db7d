"""Internal endpoints federation calls with a peer platform's items (转载 across platforms)."""

from __future__ import annotations

from fastapi import APIRouter

from services.content import flows
from services.content.api.common import DeadlineDep
from services.content.remote_schemas import RemoteItemIn, RemoteItemOut, RemoteWithdrawIn, RemoteWithdrawOut
from services.content.service import remote
from services.kernel.auth import Principal
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, Unauthorized, problem_responses

router = APIRouter(tags=["内部接口"])
ERRORS = problem_responses(Unauthorized, Forbidden)
RECEIVE_ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict)


def _require_internal(principal: Principal) -> None:
    # Only the platform's own federation service speaks for a peer; nobody else may inject
    # items that would open tasks on subscribed sites.
    if not principal.is_internal:
        raise Forbidden("仅限平台内部服务调用")


@router.post(
    "/remote-items",
    response_model=RemoteItemOut,
    summary="收到互联平台的重要信息：为订阅了来源栏目的栏目创建转载任务（幂等）",
    responses=RECEIVE_ERRORS,
)
async def receive_remote_item(
    body: RemoteItemIn, session: SessionDep, principal: PrincipalDep, deadline: DeadlineDep
) -> RemoteItemOut:
    _require_internal(principal)
    if body.target is not None:
        pushed, task, fresh = await remote.receive_pushed(session, body, deadline)
        return RemoteItemOut(kept=True, remote_item_id=pushed.id, tasks_created=int(fresh), task_id=task.id)
    item, created = await remote.receive(session, body, deadline)
    return RemoteItemOut(
        kept=item is not None, remote_item_id=item.id if item else None, tasks_created=created
    )


@router.post(
    "/remote-items/withdrawals",
    response_model=RemoteWithdrawOut,
    summary="互联平台撤回了信息：取消未完成的转载任务并撤回转载件（幂等）",
    responses=ERRORS,
)
async def withdraw_remote_item(
    body: RemoteWithdrawIn, session: SessionDep, principal: PrincipalDep
) -> RemoteWithdrawOut:
    _require_internal(principal)
    cancelled, copies = await flows.withdraw_remote(session, body.peer, body.publication_id)
    return RemoteWithdrawOut(tasks_cancelled=cancelled, copies_withdrawn=copies)
