"""Transitions that fan out across modules: a calendar edit moves every open deadline it
touches; a writer's rating of a reply is a 好差评 rating too, and a 差评 opens rectification."""

from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import CalendarYear, Letter
from services.interaction.schemas import CalendarYearIn, DeadlineMoveOut, RatingIn
from services.interaction.service import letters, ratings
from services.interaction.service.calendar import load_calendar, put_year
from services.interaction.service.deadlines import OPEN_STATUSES, schedule
from services.interaction.service.letters import record
from services.interaction.vocab import DeadlineState, LetterAction, RatingTarget
from services.kernel.auth import Principal


async def edit_calendar_year(
    session: AsyncSession, year: int, body: CalendarYearIn, actor: str
) -> tuple[CalendarYear, list[DeadlineMoveOut]]:
    row = await put_year(session, year, body, actor)
    calendar = await load_calendar(session)
    stmt = select(Letter).where(
        col(Letter.status).in_(OPEN_STATUSES),
        col(Letter.deadline_state) != DeadlineState.MET,
        or_(col(Letter.due_on).is_(None), col(Letter.due_on) >= date(year, 1, 1)),
        col(Letter.received_on) <= date(year, 12, 31),
    )
    moves: list[DeadlineMoveOut] = []
    for letter in (await session.execute(stmt)).scalars():
        before, state_before = letter.due_on, letter.deadline_state
        result = schedule(letter, calendar)
        if letter.due_on == before and letter.deadline_state == state_before:
            continue
        reason = (
            f"{actor} 修改了 {year} 年节假日安排（{body.note or '未注明依据'}）：{letter.deadline_reason}"
        )
        record(
            session,
            letter,
            actor,
            LetterAction.DEADLINE_MOVED,
            before=before.isoformat() if before else None,
            after=result.due.isoformat() if result.due else None,
            year=year,
            reason=reason[:500],
        )
        assert letter.id is not None
        moves.append(
            DeadlineMoveOut(
                letter_id=letter.id,
                before=before,
                after=letter.due_on,
                state=DeadlineState(letter.deadline_state),
                reason=reason[:500],
            )
        )
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
