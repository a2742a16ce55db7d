"""What everyone may read: a site's published letters (redacted), paged and searchable."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.interaction.models import Letter
from services.interaction.schemas import PublicLetterOut, PublicLetterPage
from services.interaction.service.views import public_out, public_page
from services.interaction.vocab import LetterKind, LetterStatus
from services.kernel.deps import PageDep, RequiredSiteDep, SessionDep
from services.kernel.errors import NotFound, ValidationFailed, problem_responses
from services.kernel.params import IdPath

router = APIRouter(tags=["public"])
ERRORS = problem_responses(NotFound, ValidationFailed)


@router.get(
    "/public/letters", response_model=PublicLetterPage, summary="本站公开的来信与答复", responses=ERRORS
)
async def list_published(
    site: RequiredSiteDep,
    session: SessionDep,
    page: PageDep,
    q: Annotated[str | None, Query(min_length=1, max_length=50, description="在公开文本中检索")] = None,
    kind: Annotated[LetterKind | None, Query()] = None,
) -> PublicLetterPage:
    rows, total = await public_page(session, site, page, q, kind)
    return PublicLetterPage(total=total, page=page.page, size=page.size, items=[public_out(r) for r in rows])


@router.get(
    "/public/letters/{letter_id}", response_model=PublicLetterOut, summary="一封公开的来信", responses=ERRORS
)
async def read_published(letter_id: IdPath, site: RequiredSiteDep, session: SessionDep) -> PublicLetterOut:
    letter = await session.get(Letter, letter_id)
    if letter is None or letter.site != site or letter.status != LetterStatus.PUBLISHED:
        raise NotFound(f"来信 {letter_id} 不存在或未公开")
    return public_out(letter)
