"""Machine review without storing, and the controlled vocabularies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Unauthorized, ValidationFailed, problem_responses
from services.resources.api.deps import ReviewerDep, VocabDep
from services.resources.schemas import CheckRequest, CheckResult, FindingOut
from services.resources.service.store import resolve_references

router = APIRouter(tags=["machine review"])


@router.post(
    "/checks",
    response_model=CheckResult,
    summary="机器审查：隐私信息、赌博色情违法广告、暗链与隐藏文字、商业外链、失效引用",
    responses=problem_responses(Unauthorized, ValidationFailed),
)
async def run_checks(
    body: CheckRequest, session: SessionDep, principal: PrincipalDep, reviewer: ReviewerDep
) -> CheckResult:
    if (body.text is None) == (body.html is None):
        raise ValidationFailed.field("text", "text 与 html 须且只须提供一个")
    review = reviewer.review(text=body.text, html=body.html)
    await resolve_references(session, review)
    review.findings.sort(key=lambda f: (f.offset, f.rule))
    return CheckResult(
        blocking=bool(review.blocking), findings=[FindingOut(**f.as_dict()) for f in review.findings]
    )


@router.get("/vocabularies", summary="受控词表：主题分类与体裁分类")
async def vocabularies(vocab: VocabDep) -> dict[str, Any]:
    return vocab.as_json()
