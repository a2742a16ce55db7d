"""Annual reports upward (article 39): a site's report, as oversight computes it, is sent to a
peer (the province); the peer reviews it and the review state comes back. Both directions go
through the feeds: our `report.submitted` names the peer it is for, the peer fetches the copy
we froze at submission (`/peer/reports/{id}`), and its `report.reviewed` names us back."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.federation.models import PeerReport, ReportSubmission, feed_tables
from services.federation.schemas import PeerReportDocOut, ReportOut, ReportReview, ReportSubmit
from services.federation.service.peers import get_peer
from services.federation.vocab import ReportState, Topic
from services.kernel.clock import now
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable
from services.kernel.feed import emit


async def submit(
    session: AsyncSession, oversight: httpx.AsyncClient, body: ReportSubmit, actor: str
) -> ReportSubmission:
    await get_peer(session, body.peer)
    resp = await oversight.get(f"/api/oversight/v1/sites/{body.site}/annual-reports/{body.year}")
    if resp.status_code == 404:
        raise NotFound(f"站点 {body.site} 的 {body.year} 年度报表不存在")
    if resp.status_code != 200:
        raise ServiceUnavailable(f"运维监控服务未能给出年度报表（HTTP {resp.status_code}）")
    row = (
        (
            await session.execute(
                select(ReportSubmission).where(
                    col(ReportSubmission.peer) == body.peer,
                    col(ReportSubmission.site) == body.site,
                    col(ReportSubmission.year) == body.year,
                )
            )
        )
        .scalars()
        .first()
    )
    if row is not None and row.state != ReportState.RETURNED:
        raise Conflict(f"该年度报表已报送（{row.state}）；退回后才能再次报送")
    if row is None:
        row = ReportSubmission(
            peer=body.peer, site=body.site, year=body.year, state=ReportState.SUBMITTED, submitted_by=actor
        )
        session.add(row)
    row.report = resp.json()
    row.state = ReportState.SUBMITTED
    row.opinion = ""
    row.submitted_by = actor
    row.submitted_at = now()
    row.reviewed_at = None
    await session.flush()
    payload = {"to": body.peer, "submission_id": row.id, "site": body.site, "year": body.year}
    await emit(session, feed_tables, Topic.REPORT_SUBMITTED, row.id or 0, payload, body.site)
    return row


async def for_peer(session: AsyncSession, peer: str, submission_id: int) -> PeerReportDocOut:
    """The frozen copy of a submission, only to the peer it was sent to (else: not found)."""
    row = await session.get(ReportSubmission, submission_id)
    if row is None or row.peer != peer:
        raise NotFound(f"报表 {submission_id} 不存在")
    return PeerReportDocOut(**submission_out(row).model_dump(), report=row.report)


async def receive(session: AsyncSession, peer: str, doc: dict[str, Any]) -> None:
    """A peer's submission (first time or again after we returned it); a replay changes nothing."""
    remote_id = int(doc["id"])
    row = (
        (
            await session.execute(
                select(PeerReport).where(col(PeerReport.peer) == peer, col(PeerReport.remote_id) == remote_id)
            )
        )
        .scalars()
        .first()
    )
    if row is not None and row.state == ReportState.SUBMITTED and row.report == doc["report"]:
        return
    if row is None:
        row = PeerReport(
            peer=peer, remote_id=remote_id, site=str(doc["site"]), year=int(doc["year"]), state=""
        )
        session.add(row)
    row.report = doc["report"]
    row.state = ReportState.SUBMITTED
    row.opinion = ""
    row.received_at = now()
    row.reviewed_by = None
    row.reviewed_at = None


async def review(
    session: AsyncSession, peer: str, report_id: int, body: ReportReview, actor: str
) -> PeerReport:
    row = await session.get(PeerReport, report_id)
    if row is None or row.peer != peer:
        raise NotFound(f"报表 {report_id} 不存在")
    if row.state != ReportState.SUBMITTED:
        raise Conflict(f"报表已审核（{row.state}），等对方再次报送后才能审核")
    row.state = ReportState(body.decision)
    row.opinion = body.opinion
    row.reviewed_by = actor
    row.reviewed_at = now()
    payload = {"to": peer, "submission_id": row.remote_id, "state": row.state, "opinion": row.opinion}
    await emit(session, feed_tables, Topic.REPORT_REVIEWED, row.remote_id, payload, row.site)
    return row


async def apply_review(session: AsyncSession, peer: str, payload: dict[str, Any]) -> None:
    row = await session.get(ReportSubmission, int(payload["submission_id"]))
    if row is None or row.peer != peer or row.state != ReportState.SUBMITTED:
        return  # not ours, or already applied (a replay), or resubmitted since
    row.state = ReportState(str(payload["state"]))
    row.opinion = str(payload.get("opinion") or "")[:2000]
    row.reviewed_at = now()


def submission_out(r: ReportSubmission) -> ReportOut:
    return ReportOut(
        id=r.id or 0, peer=r.peer, site=r.site, year=r.year, state=ReportState(r.state),
        opinion=r.opinion, at=r.submitted_at, reviewed_at=r.reviewed_at,
    )  # fmt: skip


def received_out(r: PeerReport) -> ReportOut:
    return ReportOut(
        id=r.id or 0, peer=r.peer, site=r.site, year=r.year, state=ReportState(r.state),
        opinion=r.opinion, at=r.received_at, reviewed_at=r.reviewed_at,
    )  # fmt: skip


async def submissions(session: AsyncSession) -> list[ReportOut]:
    rows = (await session.execute(select(ReportSubmission).order_by(col(ReportSubmission.id)))).scalars()
    return [submission_out(r) for r in rows]


async def received(session: AsyncSession, peer: str) -> list[ReportOut]:
    stmt = select(PeerReport).where(col(PeerReport.peer) == peer).order_by(col(PeerReport.id))
    return [received_out(r) for r in (await session.execute(stmt)).scalars()]
