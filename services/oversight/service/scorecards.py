"""Scorecards from the facts oversight keeps, and the alerts they raise once per level."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.errors import NotFound
from services.kernel.feed import FeedTables, emit
from services.oversight.models import Alert, CountRule, FreshnessRule, LiveItem, WatchedColumn, WatchedSite
from services.oversight.service.availability import availability
from services.oversight.service.freshness import (
    DEFAULT_PROFILE,
    ColumnFacts,
    Finding,
    Rules,
    score,
)
from services.oversight.service.incidents import unhandled
from services.oversight.service.links import broken_links
from services.oversight.service.messages import unanswered
from services.oversight.vocab import ColumnCategory, Level

_RANK = {Level.OK: 0, Level.WARNING: 1, Level.VETO: 2}


async def load_rules(session: AsyncSession, profile: str = DEFAULT_PROFILE) -> Rules:
    base = Rules.default()
    freshness = dict(base.freshness)
    counts = dict(base.counts)
    for rule in (
        await session.execute(select(FreshnessRule).where(col(FreshnessRule.profile) == profile))
    ).scalars():
        freshness[rule.subject] = (rule.warn_days, rule.veto_days)
    for count in (
        await session.execute(select(CountRule).where(col(CountRule.profile) == profile))
    ).scalars():
        counts[count.indicator] = (count.warn_at, count.veto_at)
    return Rules(freshness, counts)


async def site_facts(session: AsyncSession, code: str) -> tuple[WatchedSite, list[ColumnFacts]]:
    site = await session.get(WatchedSite, code)
    if site is None:
        raise NotFound(f"站点 {code} 不存在")
    newest = (
        select(col(LiveItem.column_id), func.max(col(LiveItem.published_at)).label("last"))
        .where(col(LiveItem.site) == code)
        .group_by(col(LiveItem.column_id))
    )
    last = {row.column_id: row.last for row in (await session.execute(newest)).all()}
    columns = (
        await session.execute(
            select(WatchedColumn).where(
                col(WatchedColumn.site) == code, col(WatchedColumn.deleted).is_(False)
            )
        )
    ).scalars()
    facts = [
        ColumnFacts(
            column_id=c.column_id,
            name=c.name,
            kind=c.kind,
            category=ColumnCategory(c.category),
            update_interval_days=c.update_interval_days,
            responsible_editor=c.responsible_editor,
            last_update=clock.aware(last[c.column_id]) if c.column_id in last else None,
        )
        for c in columns
    ]
    return site, facts


async def evaluate(
    session: AsyncSession, code: str, now: datetime | None = None
) -> tuple[WatchedSite, list[Finding]]:
    site, facts = await site_facts(session, code)
    rules = await load_rules(session)
    now = now or clock.now()
    findings = score(facts, rules, now)
    findings.append(await availability(session, code, rules, now))
    findings.append(await unanswered(session, code, rules, now))
    findings.append(await broken_links(session, code, rules))
    findings.append(await unhandled(session, code, rules, now))
    return site, findings


async def raise_alerts(
    session: AsyncSession, feed: FeedTables, code: str, findings: list[Finding], now: datetime | None = None
) -> list[Alert]:
    """Raise an alert when an indicator first reaches a level (once), resolve it when the cause goes."""
    now = now or clock.now()
    open_alerts = (
        (
            await session.execute(
                select(Alert).where(col(Alert.site) == code, col(Alert.resolved_at).is_(None))
            )
        )
        .scalars()
        .all()
    )
    by_indicator: dict[str, list[Alert]] = {}
    for alert in open_alerts:
        by_indicator.setdefault(alert.indicator, []).append(alert)
    raised: list[Alert] = []
    for finding in findings:
        current = by_indicator.get(finding.indicator.value, [])
        highest = max((_RANK[Level(a.level)] for a in current), default=0)
        if finding.level is Level.OK:
            for alert in current:
                alert.resolved_at = now
                await emit(session, feed, "alert.resolved", alert.id or 0, _payload(alert), code)
            continue
        if _RANK[finding.level] <= highest:
            continue  # already told at this level (or a higher one)
        alert = Alert(
            site=code,
            indicator=finding.indicator.value,
            level=finding.level.value,
            value=finding.value,
            evidence=_evidence_text(finding),
            raised_at=now,
        )
        session.add(alert)
        await session.flush()
        recipients = sorted({e.responsible_editor for e in finding.evidence if e.responsible_editor})
        await emit(
            session, feed, "alert.raised", alert.id or 0, {**_payload(alert), "notify": recipients}, code
        )
        raised.append(alert)
    return raised


def _payload(alert: Alert) -> dict[str, object]:
    return {
        "id": alert.id,
        "site": alert.site,
        "indicator": alert.indicator,
        "level": alert.level,
        "value": alert.value,
        "evidence": alert.evidence,
    }


def _evidence_text(finding: Finding) -> str:
    parts = []
    for e in finding.evidence[:20]:
        if e.since is not None:
            where = f" {e.url}" if e.url else ""
            parts.append(f"{e.name}{where}（{e.detail or ''}，自 {clock.to_wire(e.since)[:16]}）")
            continue
        since = clock.to_wire(e.last_update)[:10] if e.last_update else "从未更新"
        parts.append(f"{e.name}（{since}，已 {e.idle_days if e.idle_days is not None else '—'} 天）")
    return "；".join(parts)[:2000]
