"""Letters: written by citizens (or anonymously where a site allows), handled by the site's staff."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.interaction.flows import rate_letter
from services.interaction.models import Letter
from services.interaction.schemas import (
    AcceptIn,
    AssignIn,
    DeadlineOut,
    InboxPage,
    LetterIn,
    LetterOut,
    LetterReceiptOut,
    LookupIn,
    RatingIn,
    RefuseIn,
    ReplyIn,
)
from services.interaction.service import letters
from services.interaction.service.access import can_handle
from services.interaction.service.calendar import load_calendar
from services.interaction.service.deadlines import deadline_out
from services.interaction.service.views import inbox_item, inbox_page, letter_out
from services.interaction.state import StateDep
from services.interaction.vocab import LetterStatus
from services.kernel.auth import Principal
from services.kernel.deps import (
    OptionalPrincipalDep,
    PageDep,
    PrincipalDep,
    RequiredSiteDep,
    SessionDep,
    client_ip,
)
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.params import IdPath

router = APIRouter(tags=["letters"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)


async def _view(session: AsyncSession, letter: Letter) -> LetterOut:
    return await letter_out(session, letter, await load_calendar(session))


async def _readable(session: AsyncSession, letter_id: int, principal: Principal | None) -> Letter:
    letter = await session.get(Letter, letter_id)
    if letter is None or not letters.may_read(letter, principal):
        raise NotFound(f"来信 {letter_id} 不存在")
    return letter


@router.post(
    "/letters",
    status_code=201,
    response_model=LetterReceiptOut,
    summary="来信：实名（登录）或匿名（本站允许时，限频并发查询码）；先经机器审查",
    responses=problem_responses(
        Forbidden, NotFound, Conflict, ValidationFailed, TooManyRequests, ServiceUnavailable
    ),
)
async def write_letter(
    body: LetterIn,
    request: Request,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: OptionalPrincipalDep,
) -> LetterReceiptOut:
    if principal is None or body.anonymous:
        wait = state.throttle.take(client_ip(request))
        if wait is not None:
            raise TooManyRequests(
                "匿名来信过于频繁，请稍后再试", headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
    letter, code = await letters.submit(
        session, site, body, principal, state.review, await load_calendar(session)
    )
    assert letter.id is not None
    return LetterReceiptOut(
        id=letter.id, status=LetterStatus(letter.status), received_at=letter.received_at, query_code=code
    )


@router.post(
    "/letters/lookup", response_model=LetterOut, summary="匿名来信人凭查询码查看办理情况", responses=ERRORS
)
async def lookup(body: LookupIn, session: SessionDep) -> LetterOut:
    return await _view(session, await letters.by_query_code(session, body.query_code))


@router.get(
    "/letters/{letter_id}",
    response_model=LetterOut,
    summary="来信详情（来信人与本站承办人员）",
    responses=ERRORS,
)
async def read_letter(letter_id: IdPath, session: SessionDep, principal: OptionalPrincipalDep) -> LetterOut:
    return await _view(session, await _readable(session, letter_id, principal))


@router.get(
    "/letters/{letter_id}/deadline",
    response_model=DeadlineOut,
    summary="办理时限及其由来：第 0 日、跳过的日子及原因",
    responses=ERRORS,
)
async def explain_deadline(
    letter_id: IdPath, session: SessionDep, principal: OptionalPrincipalDep
) -> DeadlineOut:
    letter = await _readable(session, letter_id, principal)
    return deadline_out(letter, await load_calendar(session))


@router.post(
    "/letters/{letter_id}/accept", response_model=LetterOut, summary="受理（普通 / 复杂）", responses=ERRORS
)
async def accept(
    letter_id: IdPath, body: AcceptIn, session: SessionDep, principal: PrincipalDep
) -> LetterOut:
    letter = await letters.handled_letter(session, letter_id, principal)
    await letters.accept(session, letter, body.complexity, principal.sub, await load_calendar(session))
    return await _view(session, letter)


@router.post(
    "/letters/{letter_id}/refuse",
    response_model=LetterOut,
    summary="不予受理（本站所列理由）",
    responses=ERRORS,
)
async def refuse(
    letter_id: IdPath, body: RefuseIn, session: SessionDep, principal: PrincipalDep
) -> LetterOut:
    letter = await letters.handled_letter(session, letter_id, principal)
    await letters.refuse(session, letter, body.reason, body.note, principal.sub)
    return await _view(session, letter)


@router.post(
    "/letters/{letter_id}/assign",
    response_model=LetterOut,
    summary="交办或转办承办部门（转办留痕）",
    responses=ERRORS,
)
async def assign(
    letter_id: IdPath, body: AssignIn, session: SessionDep, principal: PrincipalDep
) -> LetterOut:
    letter = await letters.handled_letter(session, letter_id, principal)
    await letters.assign(session, letter, body.org, body.note, principal.sub)
    return await _view(session, letter)


@router.post("/letters/{letter_id}/reply", response_model=LetterOut, summary="答复", responses=ERRORS)
async def reply(letter_id: IdPath, body: ReplyIn, session: SessionDep, principal: PrincipalDep) -> LetterOut:
    letter = await letters.handled_letter(session, letter_id, principal)
    await letters.reply(session, letter, body.text, principal.sub)
    return await _view(session, letter)


@router.post(
    "/letters/{letter_id}/publish",
    response_model=LetterOut,
    summary="经来信人同意后公开（隐私遮蔽）",
    responses=ERRORS,
)
async def publish(letter_id: IdPath, session: SessionDep, principal: PrincipalDep) -> LetterOut:
    letter = await letters.handled_letter(session, letter_id, principal)
    await letters.publish(session, letter, principal.sub)
    return await _view(session, letter)


@router.post(
    "/letters/{letter_id}/rating",
    response_model=LetterOut,
    summary="来信人评价答复（不可修改）",
    responses=ERRORS,
)
async def rate(
    letter_id: IdPath, body: RatingIn, session: SessionDep, principal: OptionalPrincipalDep
) -> LetterOut:
    letter = await session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(f"来信 {letter_id} 不存在")
    by_code = (
        body.query_code is not None
        and letter.id == (await letters.by_query_code(session, body.query_code)).id
    )
    if not (by_code or letters.writer_of(letter, principal)):
        if can_handle(principal, letter.site):
            raise Forbidden("只有来信人可以评价")
        raise NotFound(f"来信 {letter_id} 不存在")
    await rate_letter(session, letter, body, principal)
    return await _view(session, letter)


@router.get("/inbox", response_model=InboxPage, summary="本站来信（承办人员）", responses=ERRORS)
async def inbox(
    site: RequiredSiteDep,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: Annotated[LetterStatus | None, Query()] = None,
    overdue: Annotated[bool, Query(description="只看已超期")] = False,
) -> InboxPage:
    if not can_handle(principal, site):
        raise Forbidden(f"需要站点 {site} 的工作人员角色")
    rows, total = await inbox_page(session, site, page, status, overdue)
    return InboxPage(total=total, page=page.page, size=page.size, items=[inbox_item(r) for r in rows])
