"""Security incidents (安全事件) and the veto item for one not handled in time.

An incident comes from machine review (a stored version still carrying tampering findings, as
resources' feed tells) or is recorded by an operator. It is handled when the item is taken
down or retired, when a later version passes review without them, or when someone records
the handling. The indicator is the age in hours of the oldest open incident.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.auth import Principal
from services.kernel.errors import Conflict, NotFound
from services.kernel.feed import FeedEvent
from services.oversight.models import SecurityIncident
from services.oversight.schemas import IncidentHandleIn, IncidentIn
from services.oversight.service.freshness import Evidence, Finding, Rules, level_of
from services.oversight.vocab import IncidentKind, IncidentSource, Indicator

TOPICS = ["resource.stored", "resource.takendown", "resource.retired"]
RESOURCE_PATH = "/api/resources/v1/resources/{id}"


def _at(event: FeedEvent) -> datetime:
    if not event.created_at:
        return clock.now()
    return clock.aware(datetime.fromisoformat(event.created_at)).astimezone(UTC)


async def _open_for(session: AsyncSession, ref: str) -> list[SecurityIncident]:
    stmt = select(SecurityIncident).where(
        col(SecurityIncident.ref) == ref, col(SecurityIncident.handled_at).is_(None)
    )
    return list((await session.execute(stmt)).scalars().all())


def _close(incident: SecurityIncident, at: datetime, by: str, handling: str) -> None:
    incident.handled_at = at
    incident.handled_by = by[:128]
    incident.handling = handling[:2000]


async def apply(session: AsyncSession, event: FeedEvent) -> None:
    """Idempotent over redelivery: one open incident per resource at most."""
    ref = f"resource:{event.key}"
    at = _at(event)
    current = await _open_for(session, ref)
    if event.topic in ("resource.takendown", "resource.retired"):
        what = "已下架" if event.topic == "resource.takendown" else "已废止"
        for incident in current:
            _close(incident, at, "system", f"资源{what}（{event.payload.get('reason') or event.topic}）")
        return
    raw = event.payload.get("tamper")
    findings = [f for f in raw if isinstance(f, dict)] if isinstance(raw, list) else []
    version = event.payload.get("version")
    if not findings:
        for incident in current:
            _close(incident, at, "system", f"第 {version} 版经机器审查未发现篡改")
        return
    if current:
        return
    site = str(event.payload.get("owner_site") or event.site_id or "")
    rules = "、".join(sorted({str(f.get("rule")) for f in findings}))
    excerpt = str(findings[0].get("excerpt") or "")
    session.add(
        SecurityIncident(
            site=site,
            kind=IncidentKind.TAMPERING.value,
            source=IncidentSource.REVIEW.value,
            ref=ref,
            url=RESOURCE_PATH.format(id=event.key),
            description=f"机器审查发现疑似篡改（{rules}）：「{event.payload.get('title') or ''}」第 {version} 版，{excerpt}"[
                :2000
            ],
            recorded_by="machine-review",
            opened_at=at,
        )
    )


async def record(
    session: AsyncSession, site: str, principal: Principal, body: IncidentIn
) -> SecurityIncident:
    incident = SecurityIncident(
        site=site,
        kind=body.kind.value,
        source=IncidentSource.OPERATOR.value,
        url=body.url,
        description=body.description,
        recorded_by=principal.sub[:128],
        opened_at=clock.aware(body.opened_at).astimezone(UTC) if body.opened_at else clock.now(),
    )
    session.add(incident)
    await session.flush()
    return incident


async def get(session: AsyncSession, site: str, incident_id: int) -> SecurityIncident:
    incident = await session.get(SecurityIncident, incident_id)
    if incident is None or incident.site != site:
        raise NotFound(f"安全事件 {incident_id} 不存在")
    return incident


async def handle(
    session: AsyncSession, site: str, incident_id: int, principal: Principal, body: IncidentHandleIn
) -> SecurityIncident:
    incident = await get(session, site, incident_id)
    if incident.handled_at is not None:
        raise Conflict(f"安全事件 {incident_id} 已于 {clock.to_wire(clock.aware(incident.handled_at))} 处置")
    at = clock.aware(body.handled_at).astimezone(UTC) if body.handled_at else clock.now()
    if at < clock.aware(incident.opened_at):
        at = clock.aware(incident.opened_at)
    _close(incident, at, principal.sub, body.handling)
    session.add(incident)
    await session.flush()
    return incident


async def listing(session: AsyncSession, site: str, open_only: bool) -> list[SecurityIncident]:
    stmt = select(SecurityIncident).where(col(SecurityIncident.site) == site)
    if open_only:
        stmt = stmt.where(col(SecurityIncident.handled_at).is_(None))
    return list((await session.execute(stmt.order_by(col(SecurityIncident.id)))).scalars().all())


async def unhandled(session: AsyncSession, code: str, rules: Rules, now: datetime) -> Finding:
    """Hours the oldest open incident has waited; every open one past the warning line is evidence."""
    warn_at, veto_at = rules.counts[Indicator.SECURITY_INCIDENT_UNHANDLED.value]
    waiting = [
        (i, int((now - clock.aware(i.opened_at)).total_seconds() // 3600))
        for i in await listing(session, code, open_only=True)
    ]
    oldest = max((hours for _, hours in waiting), default=0)
    evidence = [
        Evidence(
            None,
            f"安全事件 #{i.id}（{i.kind}）",
            None,
            None,
            url=i.url or None,
            since=clock.aware(i.opened_at),
            detail=f"未处置 {hours} 小时：{i.description}"[:300],
        )
        for i, hours in waiting
        if hours >= warn_at
    ]
    level = level_of(oldest, warn_at, veto_at)
    return Finding(Indicator.SECURITY_INCIDENT_UNHANDLED, level, oldest, warn_at, veto_at, evidence[:50])
