"""What peers report about their sites (网站基本信息 and status changes), kept per peer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.federation.models import PeerSite, PeerSiteChange
from services.federation.schemas import PeerSiteChangeOut, PeerSiteOut
from services.kernel.clock import now

# The registry fields a peer's event carries (the rest of its payload is kept in the change).
_FIELDS = ("name", "kind", "status", "id_code", "icp_no", "psb_no", "notice", "moved_to")


def _instant(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


async def record(session: AsyncSession, peer: str, event_id: int, payload: dict[str, Any], at: str) -> bool:
    """Apply one registry event of `peer`; False when it was applied before (a replay)."""
    seen = await session.execute(
        select(col(PeerSiteChange.id)).where(
            col(PeerSiteChange.peer) == peer, col(PeerSiteChange.event_id) == event_id
        )
    )
    if seen.first():
        return False
    code = str(payload.get("code") or "")[:64]
    if not code:
        return False
    site = (
        (
            await session.execute(
                select(PeerSite).where(col(PeerSite.peer) == peer, col(PeerSite.code) == code)
            )
        )
        .scalars()
        .first()
    )
    if site is None:
        site = PeerSite(peer=peer, code=code, name="", status="")
        session.add(site)
    if event_id >= site.last_event:  # an older event replayed after a newer one changes nothing
        for name in _FIELDS:
            if name in payload:
                value = payload[name]
                setattr(site, name, "" if value is None and name not in ("notice", "moved_to") else value)
        if isinstance(payload.get("domains"), list):
            site.domains = [str(d) for d in payload["domains"]]
        site.last_event = event_id
        site.updated_at = now()
    session.add(
        PeerSiteChange(
            peer=peer,
            event_id=event_id,
            site_code=code,
            action=str(payload.get("action") or "")[:64],
            status=str(payload.get("status") or "")[:16],
            detail={k: v for k, v in payload.items() if k not in ("code", "action")},
            occurred_at=_instant(at),
            recorded_at=now(),
        )
    )
    return True


def site_out(s: PeerSite) -> PeerSiteOut:
    return PeerSiteOut(
        peer=s.peer,
        code=s.code,
        name=s.name,
        kind=s.kind,
        status=s.status,
        domains=list(s.domains),
        id_code=s.id_code,
        icp_no=s.icp_no,
        psb_no=s.psb_no,
        notice=s.notice,
        moved_to=s.moved_to,
        updated_at=s.updated_at,
    )


async def sites(session: AsyncSession, peer: str) -> list[PeerSiteOut]:
    stmt = select(PeerSite).where(col(PeerSite.peer) == peer).order_by(col(PeerSite.code))
    return [site_out(s) for s in (await session.execute(stmt)).scalars()]


async def changes(
    session: AsyncSession, peer: str, site: str | None, offset: int, limit: int
) -> tuple[list[PeerSiteChangeOut], int]:
    where = [col(PeerSiteChange.peer) == peer]
    if site:
        where.append(col(PeerSiteChange.site_code) == site)
    total = (
        await session.execute(select(func.count()).select_from(PeerSiteChange).where(*where))
    ).scalar_one()
    stmt = (
        select(PeerSiteChange)
        .where(*where)
        .order_by(col(PeerSiteChange.event_id))
        .offset(offset)
        .limit(limit)
    )
    items = [
        PeerSiteChangeOut(
            peer=c.peer,
            event_id=c.event_id,
            site_code=c.site_code,
            action=c.action,
            status=c.status,
            detail=c.detail,
            occurred_at=c.occurred_at,
            recorded_at=c.recorded_at,
        )
        for c in (await session.execute(stmt)).scalars()
    ]
    return items, int(total)
