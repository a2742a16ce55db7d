"""找错: reports of broken links, wrong content and unusable services, answered in 3 working days."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import ErrorReport, feed_tables
from services.interaction.schemas import ErrorReportIn, PublicReportOut, RedactionOut, ReportOut
from services.interaction.service.access import can_handle
from services.interaction.service.mailboxes import get_mailbox
from services.interaction.service.pages import PageLookup
from services.interaction.service.redaction import redact
from services.interaction.vocab import REPORT_DAYS, DeadlineState, ReportKind, ReportStatus, Topic
from services.kernel.auth import Principal
from services.kernel.clock import epoch, today
from services.kernel.errors import Conflict, NotFound
from services.kernel.feed import emit
from services.kernel.pagination import PageParams, paginate
from services.kernel.workdays import WorkCalendar


def schedule_report(report: ErrorReport, calendar: WorkCalendar) -> None:
    result = calendar.add_working_days(report.received_on, REPORT_DAYS)
    report.due_on = result.due
    report.deadline_state = DeadlineState.SCHEDULED if result.known else DeadlineState.DEADLINE_UNKNOWN
    report.deadline_reason = (result.explain() if result.known else result.reason)[:500]


def _render(report: ErrorReport) -> None:
    description, found = redact("description", report.description, [])
    answer, more = redact("answer", report.answer, [])
    report.public = {"description": description, "answer": answer}
    report.redactions = [r.__dict__ for r in found + more]


async def _announce(session: AsyncSession, topic: Topic, report: ErrorReport) -> None:
    await emit(
        session,
        feed_tables,
        topic,
        f"report:{report.id}",
        {"id": report.id, "status": report.status, "kind": report.kind},
        site_id=report.site,
    )


async def submit(
    session: AsyncSession,
    site: str,
    body: ErrorReportIn,
    principal: Principal | None,
    lookup: PageLookup,
    calendar: WorkCalendar,
) -> ErrorReport:
    await get_mailbox(session, site)
    match = await lookup(site, body.page_url)
    report = ErrorReport(
        site=site,
        kind=body.kind,
        page_url=body.page_url,
        description=body.description,
        publication_id=match.publication_id,
        column_id=match.column_id,
        assignee=match.responsible_editor,
        reporter_sub=principal.sub if principal is not None else None,
        status=ReportStatus.RECEIVED,
        received_at=epoch(),
        received_on=today(),
        deadline_state=DeadlineState.SCHEDULED,
    )
    schedule_report(report, calendar)
    _render(report)
    session.add(report)
    await session.flush()
    await _announce(session, Topic.REPORT_RECEIVED, report)
    return report


async def get_report(session: AsyncSession, report_id: int, site: str | None) -> ErrorReport:
    report = await session.get(ErrorReport, report_id)
    if report is None or (site is not None and report.site != site):
        raise NotFound(f"找错报告 {report_id} 不存在")
    return report


async def answer(session: AsyncSession, report_id: int, text: str, principal: Principal) -> ErrorReport:
    report = await session.get(ErrorReport, report_id)
    if report is None or not can_handle(principal, report.site):
        raise NotFound(f"找错报告 {report_id} 不存在")
    if report.status != ReportStatus.RECEIVED:
        raise Conflict("该报告已答复")
    report.status = ReportStatus.ANSWERED
    report.answer = text
    report.answered_by = principal.sub
    report.answered_at = epoch()
    report.deadline_state = DeadlineState.MET
    _render(report)
    await _announce(session, Topic.REPORT_REPLIED, report)
    return report


async def public_reports(
    session: AsyncSession, site: str, params: PageParams, q: str | None, status: ReportStatus | None
) -> tuple[list[ErrorReport], int]:
    stmt = select(ErrorReport).where(col(ErrorReport.site) == site)
    if status is not None:
        stmt = stmt.where(col(ErrorReport.status) == status)
    if q:
        stmt = stmt.where(col(ErrorReport.page_url).contains(q, autoescape=True))
    return await paginate(session, stmt.order_by(col(ErrorReport.id).desc()), params)


async def overdue_reports(session: AsyncSession) -> list[int]:
    """Alert once per report whose answer is late (the sweep's share for 找错)."""
    stmt = select(ErrorReport).where(
        col(ErrorReport.status) == ReportStatus.RECEIVED,
        col(ErrorReport.deadline_state) == DeadlineState.SCHEDULED,
        col(ErrorReport.overdue_at).is_(None),
        col(ErrorReport.due_on) < today(),
    )
    fired = []
    for report in (await session.execute(stmt)).scalars().all():
        # Guarded by the mark still being empty, so two replicas never both alert.
        marked = await session.execute(
            update(ErrorReport)
            .where(col(ErrorReport.id) == report.id, col(ErrorReport.overdue_at).is_(None))
            .values(overdue_at=epoch())
        )
        if getattr(marked, "rowcount", 0):
            await _announce(session, Topic.REPORT_OVERDUE, report)
            fired.append(report.id or 0)
    return fired


def overdue(report: ErrorReport) -> bool:
    if report.due_on is None:
        return False
    return report.overdue_at is not None or (
        report.status == ReportStatus.RECEIVED and today() > report.due_on
    )


def public_report_out(report: ErrorReport) -> PublicReportOut:
    assert report.id is not None
    return PublicReportOut(
        id=report.id,
        kind=ReportKind(report.kind),
        page_url=report.page_url,
        publication_id=report.publication_id,
        column_id=report.column_id,
        description=report.public["description"],
        status=ReportStatus(report.status),
        answer=report.public["answer"],
        received_at=report.received_at,
        answered_at=report.answered_at,
        due_on=report.due_on,
        deadline_state=DeadlineState(report.deadline_state),
        deadline_reason=report.deadline_reason,
        overdue=overdue(report),
        redactions=[RedactionOut(**r) for r in report.redactions],
    )


def report_out(report: ErrorReport) -> ReportOut:
    public = public_report_out(report)
    return ReportOut(**public.model_dump(), assignee=report.assignee, original_description=report.description)
