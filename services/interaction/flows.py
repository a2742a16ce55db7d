"""Transitions that fan out across modules: a calendar edit moves every open deadline it
touches; a writer's rating of a reply is a 好差评 rating too, and a 差评 opens rectification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any, Literal

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import CalendarYear, ErrorReport, Letter, Rectification
from services.interaction.schemas import CalendarYearIn, DeadlineMoveOut, RatingIn
from services.interaction.service import letters, ratings
from services.interaction.service.calendar import audit, load_calendar, put_year
from services.interaction.service.deadlines import OPEN_STATUSES, schedule
from services.interaction.service.letters import record
from services.interaction.service.ratings import schedule_rectification
from services.interaction.service.reports import schedule_report
from services.interaction.vocab import (
    DeadlineState,
    LetterAction,
    RatingTarget,
    RectificationStatus,
    ReportStatus,
)
from services.kernel.auth import Principal
from services.kernel.workdays import WorkCalendar


async def edit_calendar_year(
    session: AsyncSession, year: int, body: CalendarYearIn, actor: str
) -> tuple[CalendarYear, list[DeadlineMoveOut]]:
    row = await put_year(session, year, body, actor)
    calendar = await load_calendar(session)
    why = f"{actor} 修改了 {year} 年节假日安排（{body.note or '未注明依据'}）"
    first, last = date(year, 1, 1), date(year, 12, 31)
    moves: list[DeadlineMoveOut] = []

    def moved(
        subject: Literal["letter", "report", "rectification"], item: Any, before: date | None, reason: str
    ) -> None:
        moves.append(
            DeadlineMoveOut(
                subject=subject,
                id=item.id,
                before=before,
                after=item.due_on,
                state=DeadlineState(item.deadline_state),
                reason=reason,
            )
        )

    open_letters = select(Letter).where(
        col(Letter.status).in_(OPEN_STATUSES),
        col(Letter.deadline_state) != DeadlineState.MET,
        or_(col(Letter.due_on).is_(None), col(Letter.due_on) >= first),
        col(Letter.received_on) <= last,
    )
    for letter in (await session.execute(open_letters)).scalars():
        before, state_before = letter.due_on, letter.deadline_state
        schedule(letter, calendar)
        if letter.due_on == before and letter.deadline_state == state_before:
            continue
        reason = f"{why}：{letter.deadline_reason}"[:500]
        record(
            session,
            letter,
            actor,
            LetterAction.DEADLINE_MOVED,
            before=before.isoformat() if before else None,
            after=letter.due_on.isoformat() if letter.due_on else None,
            year=year,
            reason=reason,
        )
        moved("letter", letter, before, reason)

    open_reports = select(ErrorReport).where(
        col(ErrorReport.status) == ReportStatus.RECEIVED,
        or_(col(ErrorReport.due_on).is_(None), col(ErrorReport.due_on) >= first),
        col(ErrorReport.received_on) <= last,
    )
    open_tasks = select(Rectification).where(
        col(Rectification.status) == RectificationStatus.OPEN,
        or_(col(Rectification.due_on).is_(None), col(Rectification.due_on) >= first),
        col(Rectification.opened_on) <= last,
    )
    others: list[tuple[Literal["report", "rectification"], Any, Callable[[Any, WorkCalendar], None]]] = [
        *(("report", r, schedule_report) for r in (await session.execute(open_reports)).scalars().all()),
        *(
            ("rectification", t, schedule_rectification)
            for t in (await session.execute(open_tasks)).scalars().all()
        ),
    ]
    for subject, item, reschedule in others:
        before, state_before = item.due_on, item.deadline_state
        reschedule(item, calendar)
        if item.due_on == before and item.deadline_state == state_before:
            continue
        reason = f"{why}：{item.deadline_reason}"[:500]
        await audit(
            session,
            actor,
            "deadline.moved",
            f"{subject}/{item.id}",
            before=before.isoformat() if before else None,
            after=item.due_on.isoformat() if item.due_on else None,
            reason=reason,
        )
        moved(subject, item, before, reason)
    return row, moves


async def rate_letter(
    session: AsyncSession, letter: Letter, body: RatingIn, principal: Principal | None
) -> None:
    await letters.rate(session, letter, body, principal)  # refuses a second rating first
    ref = str(letter.id)
    await ratings.rate(
        session,
        letter.site,
        RatingTarget.REPLY,
        ref,
        body.level,
        list(body.items),
        "",
        ratings.rater_key(RatingTarget.REPLY, ref, "writer"),
        await load_calendar(session),
    )
