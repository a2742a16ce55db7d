"""Machine review without storing, and the controlled vocabularies."""

from __future__ import annotations

from fastapi import APIRouter

from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import PayloadTooLarge, Unauthorized, ValidationFailed, problem_responses
from services.resources.api.deps import ReviewerDep, SettingsDep, VocabDep
from services.resources.schemas import CheckRequest, CheckResult, FindingOut, VocabulariesOut
from services.resources.service.review import check_limit, review_off_loop
from services.resources.service.store import resolve_references

router = APIRouter(tags=["machine review"])


@router.post(
    "/checks",
    response_model=CheckResult,
    summary="机器审查：隐私信息、赌博色情违法广告、暗链与隐藏文字、商业外链、失效引用（篇幅上限按角色）",
    responses=problem_responses(Unauthorized, ValidationFailed, PayloadTooLarge),
)
async def run_checks(
    body: CheckRequest,
    session: SessionDep,
    principal: PrincipalDep,
    reviewer: ReviewerDep,
    settings: SettingsDep,
) -> CheckResult:
    if (body.text is None) == (body.html is None):
        raise ValidationFailed.field("text", "text 与 html 须且只须提供一个")
    field, value = ("text", body.text) if body.text is not None else ("html", body.html or "")
    limit = check_limit(principal, settings)
    if len(value) > limit:
        raise PayloadTooLarge(
            f"{field} 共 {len(value)} 字符，超过本账号可审查的上限 {limit} 字符",
            errors=[{"field": field, "message": f"不超过 {limit} 字符"}],
        )
    review = await review_off_loop(reviewer, text=body.text, html=body.html)
    await resolve_references(session, review)
    review.findings.sort(key=lambda f: (f.offset, f.rule))
    return CheckResult(
        blocking=bool(review.blocking), findings=[FindingOut(**f.as_dict()) for f in review.findings]
    )


@router.get("/vocabularies", response_model=VocabulariesOut, summary="受控词表：主题分类与体裁分类")
async def vocabularies(vocab: VocabDep) -> VocabulariesOut:
    return VocabulariesOut.model_validate(vocab.as_json())
