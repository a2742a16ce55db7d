"""A site's year of 征集调查 and 在线访谈 in the annual report's terms (oversight reads it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.interaction.schemas import ParticipationFiguresOut
from services.interaction.service import participation
from services.kernel.access import require_read
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import NotFound, Unauthorized, ValidationFailed, problem_responses

router = APIRouter(tags=["participation"])
SitePath = Annotated[
    str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$", description="站点代码")
]
YearQuery = Annotated[int, Query(ge=2000, le=2100, description="年度（北京时间的自然年）")]


@router.get(
    "/participation/{site}",
    response_model=ParticipationFiguresOut,
    summary="站点某年度的征集调查与在线访谈数据（年度工作报表口径）",
    responses=problem_responses(Unauthorized, NotFound, ValidationFailed),
)
async def participation_figures(
    site: SitePath, year: YearQuery, session: SessionDep, principal: PrincipalDep
) -> ParticipationFiguresOut:
    require_read(principal, site, "站点")
    return await participation.figures(session, site, year)
