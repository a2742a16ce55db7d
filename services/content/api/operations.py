"""Operators' view of failed background work: dead letters, and sending them back."""

from __future__ import annotations

from fastapi import APIRouter

from services.content.api.common import require
from services.content.schemas import DeadLetterOut, Listing
from services.content.service import deadletters
from services.content.vocab import DeadLetterKind
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, problem_responses
from services.kernel.params import IdPath
from services.kernel.roles import Role

router = APIRouter(tags=["运维：失败的推送与转载"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict)


@router.get(
    "/sites/{code}/dead-letters",
    response_model=Listing[DeadLetterOut],
    summary="多次重试仍失败的推送与转载任务（系统管理员或本站站点管理员）",
    responses=ERRORS,
)
async def list_dead_letters(
    code: str, session: SessionDep, principal: PrincipalDep
) -> Listing[DeadLetterOut]:
    require(principal, code, Role.SITE_ADMIN)
    items = await deadletters.list_dead(session, code)
    return Listing(total=len(items), items=items)


@router.post(
    "/sites/{code}/dead-letters/{kind}/{item_id}/retry",
    response_model=DeadLetterOut,
    summary="重新发送一条失败的推送或转载任务（重新计算重试次数）",
    responses=ERRORS,
)
async def retry_dead_letter(
    code: str, kind: DeadLetterKind, item_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> DeadLetterOut:
    require(principal, code, Role.SITE_ADMIN)
    return await deadletters.retry(session, code, kind, item_id)
