"""Scorecards, alerts and thresholds: thin routers over service.scorecards."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import delete, select
from sqlmodel import col

from services.kernel import clock
from services.kernel.deps import CtxDep, PrincipalDep, SessionDep
from services.kernel.errors import Forbidden, NotFound, ValidationFailed, problem_responses
from services.oversight.models import Alert, CountRule, FreshnessRule, WatchedSite
from services.oversight.schemas import (
    AlertList,
    AlertOut,
    CountRuleIn,
    EvidenceOut,
    FreshnessRuleIn,
    IndicatorOut,
    RulesIn,
    RulesOut,
    ScorecardList,
    ScorecardOut,
)
from services.oversight.service.access import (
    require_platform_reader,
    require_rule_editor,
    require_site_reader,
)
from services.oversight.service.freshness import DEFAULT_PROFILE, Finding
from services.oversight.service.scorecards import evaluate, load_rules

router = APIRouter(tags=["oversight"])


def _card(site: WatchedSite, findings: list[Finding]) -> ScorecardOut:
    return ScorecardOut(
        site=site.code,
        name=site.name,
        profile=DEFAULT_PROFILE,
        evaluated_at=clock.now(),
        passed=all(f.level != "veto" for f in findings),
        indicators=[
            IndicatorOut(
                indicator=f.indicator,
                level=f.level,
                value=f.value,
                warn_at=f.warn_at,
                veto_at=f.veto_at,
                evidence=[EvidenceOut(**e.__dict__) for e in f.evidence],
            )
            for f in findings
        ],
    )


@router.get(
    "/sites/{code}/scorecard",
    response_model=ScorecardOut,
    summary="站点检查评分：单项否决项与预警，附证据",
    responses=problem_responses(Forbidden, NotFound),
)
async def scorecard(code: str, principal: PrincipalDep, session: SessionDep) -> ScorecardOut:
    require_site_reader(principal, code)
    site, findings = await evaluate(session, code)
    return _card(site, findings)


@router.get(
    "/scorecards",
    response_model=ScorecardList,
    summary="全平台在线站点的检查评分",
    responses=problem_responses(Forbidden),
)
async def scorecards(principal: PrincipalDep, session: SessionDep) -> ScorecardList:
    require_platform_reader(principal)
    sites = (
        (await session.execute(select(WatchedSite).where(col(WatchedSite.status) == "online")))
        .scalars()
        .all()
    )
    cards = [_card(*(await evaluate(session, s.code))) for s in sorted(sites, key=lambda s: s.code)]
    return ScorecardList(total=len(cards), items=cards)


@router.get(
    "/sites/{code}/alerts",
    response_model=AlertList,
    summary="站点的预警与否决提醒（每级一次，原因消除后关闭）",
    responses=problem_responses(Forbidden),
)
async def alerts(code: str, principal: PrincipalDep, session: SessionDep) -> AlertList:
    require_site_reader(principal, code)
    rows = (
        (await session.execute(select(Alert).where(col(Alert.site) == code).order_by(col(Alert.id))))
        .scalars()
        .all()
    )
    items = [AlertOut.model_validate(row, from_attributes=True) for row in rows]
    return AlertList(total=len(items), items=items)


async def _rules_out(session: SessionDep) -> RulesOut:
    rules = await load_rules(session)
    return RulesOut(
        profile=DEFAULT_PROFILE,
        freshness=[
            FreshnessRuleIn(subject=k, warn_days=w, veto_days=v) for k, (w, v) in rules.freshness.items()
        ],
        counts=[CountRuleIn(indicator=k, warn_at=w, veto_at=v) for k, (w, v) in rules.counts.items()],
    )


@router.get("/rules", response_model=RulesOut, summary="检查指标阈值", responses=problem_responses(Forbidden))
async def get_rules(principal: PrincipalDep, session: SessionDep) -> RulesOut:
    require_platform_reader(principal)
    return await _rules_out(session)


@router.put(
    "/rules",
    response_model=RulesOut,
    summary="修改检查指标阈值（省级口径可与国家口径不同）",
    responses=problem_responses(Forbidden, ValidationFailed),
)
async def put_rules(body: RulesIn, principal: PrincipalDep, session: SessionDep, ctx: CtxDep) -> RulesOut:
    require_rule_editor(principal)
    for i, rule in enumerate(body.freshness):
        if rule.warn_days > rule.veto_days:
            raise ValidationFailed.field(f"freshness.{i}.warn_days", "预警天数不能大于否决天数")
    for i, count in enumerate(body.counts):
        if count.warn_at > count.veto_at:
            raise ValidationFailed.field(f"counts.{i}.warn_at", "预警数量不能大于否决数量")
    for rule in body.freshness:
        await session.execute(
            delete(FreshnessRule).where(
                col(FreshnessRule.profile) == DEFAULT_PROFILE, col(FreshnessRule.subject) == rule.subject
            )
        )
        session.add(
            FreshnessRule(
                profile=DEFAULT_PROFILE,
                subject=rule.subject,
                warn_days=rule.warn_days,
                veto_days=rule.veto_days,
            )
        )
    for count in body.counts:
        await session.execute(
            delete(CountRule).where(
                col(CountRule.profile) == DEFAULT_PROFILE, col(CountRule.indicator) == count.indicator.value
            )
        )
        session.add(
            CountRule(
                profile=DEFAULT_PROFILE,
                indicator=count.indicator.value,
                warn_at=count.warn_at,
                veto_at=count.veto_at,
            )
        )
    await session.flush()
    return await _rules_out(session)
