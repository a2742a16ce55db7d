"""Alerts for followed peer platforms that fell behind (issue 20: lag is a warning where operators
look). Federation reports each change of a peer's state; a repeated report changes nothing but
the figures, so federation may report again after a failed try."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.feed import emit
from services.oversight.models import PeerLagAlert, feed_tables
from services.oversight.peer_lag_schemas import PeerLagReport

RAISED = "peer_lag.raised"
RESOLVED = "peer_lag.resolved"


async def _open(session: AsyncSession, peer: str) -> PeerLagAlert | None:
    stmt = select(PeerLagAlert).where(col(PeerLagAlert.peer) == peer, col(PeerLagAlert.resolved_at).is_(None))
    return (await session.execute(stmt)).scalars().first()


async def report(session: AsyncSession, peer: str, body: PeerLagReport) -> PeerLagAlert | None:
    """Open (or update) the peer's alert while late, resolve it once caught up; the open alert."""
    now = clock.now()
    alert = await _open(session, peer)
    if body.late:
        if alert is None:
            alert = PeerLagAlert(peer=peer, raised_at=now, updated_at=now)
            session.add(alert)
            alert.lag_seconds, alert.detail = body.lag_seconds, body.detail
            await session.flush()
            await emit(session, feed_tables, RAISED, alert.id or 0, _payload(alert), None)
        alert.lag_seconds, alert.detail, alert.updated_at = body.lag_seconds, body.detail, now
        return alert
    if alert is not None:
        alert.resolved_at = alert.updated_at = now
        await emit(session, feed_tables, RESOLVED, alert.id or 0, _payload(alert), None)
    return None


async def alerts(session: AsyncSession, only_open: bool) -> list[PeerLagAlert]:
    stmt = select(PeerLagAlert).order_by(col(PeerLagAlert.id))
    if only_open:
        stmt = stmt.where(col(PeerLagAlert.resolved_at).is_(None))
    return list((await session.execute(stmt)).scalars())


def _payload(alert: PeerLagAlert) -> dict[str, object]:
    return {"id": alert.id, "peer": alert.peer, "lag_seconds": alert.lag_seconds, "detail": alert.detail}
