"""好差评 of services and pages, the public tally, and the rectification a 差评 opens."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.interaction.schemas import CallbackIn, PublicRatingIn, RatingOut, RatingPage, RectificationOut
from services.interaction.service import ratings
from services.interaction.service.calendar import load_calendar
from services.interaction.service.throttle import network_key
from services.interaction.state import StateDep
from services.interaction.vocab import RatingTarget
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
    TooManyRequests,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.params import IdPath

router = APIRouter(tags=["ratings"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)


@router.post(
    "/ratings",
    status_code=201,
    response_model=RatingOut,
    summary="评价一项服务或一个页面（五级；差评须选原因并生成整改任务）；提交后不可修改",
    responses=problem_responses(NotFound, Conflict, ValidationFailed, TooManyRequests),
)
async def rate(
    body: PublicRatingIn,
    request: Request,
    site: RequiredSiteDep,
    session: SessionDep,
    state: StateDep,
    principal: OptionalPrincipalDep,
) -> RatingOut:
    if principal is None:
        wait = state.throttle.take(client_ip(request))
        if wait is not None:
            raise TooManyRequests(
                "提交过于频繁，请稍后再试", headers={"Retry-After": str(max(1, math.ceil(wait)))}
            )
    who = principal.sub if principal is not None else network_key(client_ip(request))
    key = ratings.rater_key(body.target, body.ref, who)
    rating, task = await ratings.rate(
        session,
        site,
        body.target,
        body.ref,
        body.level,
        body.items,
        body.comment,
        key,
        await load_calendar(session),
    )
    return ratings.rating_out(rating, task.id if task else None)


@router.get(
    "/public/ratings", response_model=RatingPage, summary="本站的评价（不含评价人）", responses=ERRORS
)
async def list_ratings(
    site: RequiredSiteDep,
    session: SessionDep,
    page: PageDep,
    target: Annotated[RatingTarget | None, Query()] = None,
    ref: Annotated[str | None, Query(max_length=2000)] = None,
) -> RatingPage:
    rows, total = await ratings.ratings_page(session, site, page, target, ref)
    return RatingPage(
        total=total, page=page.page, size=page.size, items=[ratings.rating_out(r, t) for r, t in rows]
    )


@router.get(
    "/rectifications/{task_id}", response_model=RectificationOut, summary="差评整改任务", responses=ERRORS
)
async def read_rectification(
    task_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> RectificationOut:
    return ratings.rectification_out(await ratings.get_rectification(session, task_id, principal))


@router.post(
    "/rectifications/{task_id}/close",
    response_model=RectificationOut,
    summary="办结整改：须有整改措施与回访记录",
    responses=ERRORS,
)
async def close(
    task_id: IdPath, body: CallbackIn, session: SessionDep, principal: PrincipalDep
) -> RectificationOut:
    return ratings.rectification_out(await ratings.close_rectification(session, task_id, body, principal))
