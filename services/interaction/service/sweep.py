"""Reminders before a deadline and alerts after it, each fired once per letter.

"Once" holds across replicas: the mark is an UPDATE guarded by the mark still being empty, so
only the replica whose update changed the row records the event and emits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Letter
from services.interaction.service.deadlines import OPEN_STATUSES
from services.interaction.service.letters import announce, record
from services.interaction.service.ratings import overdue_rectifications
from services.interaction.service.reports import overdue_reports
from services.interaction.vocab import DeadlineState, LetterAction, Topic
from services.kernel.clock import epoch, today


async def _fire(session: AsyncSession, letter: Letter, column: str) -> bool:
    mark = getattr(Letter, column)
    result = await session.execute(
        update(Letter).where(col(Letter.id) == letter.id, mark.is_(None)).values({column: epoch()})
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class SweepResult:
    reminded: list[int]  # letters
    overdue: list[int]  # letters
    reports_overdue: list[int]  # 找错 reports
    rectifications_overdue: list[int]  # 差评 rectification tasks


async def sweep(session: AsyncSession) -> SweepResult:
    """What this pass fired; an empty result when nothing new is due."""
    on = today()
    base = select(Letter).where(
        col(Letter.status).in_(OPEN_STATUSES),
        col(Letter.deadline_state) == DeadlineState.SCHEDULED,
    )
    reminded: list[int] = []
    due_soon = base.where(col(Letter.reminded_at).is_(None), col(Letter.remind_on) <= on)
    for letter in (await session.execute(due_soon)).scalars().all():
        if await _fire(session, letter, "reminded_at"):
            record(
                session,
                letter,
                "system",
                LetterAction.REMINDED,
                due_on=letter.due_on and letter.due_on.isoformat(),
            )
            reminded.append(letter.id or 0)
    overdue: list[int] = []
    late = base.where(col(Letter.overdue_at).is_(None), col(Letter.due_on) < on)
    for letter in (await session.execute(late)).scalars().all():
        if await _fire(session, letter, "overdue_at"):
            record(
                session,
                letter,
                "system",
                LetterAction.OVERDUE,
                due_on=letter.due_on and letter.due_on.isoformat(),
            )
            await announce(session, Topic.OVERDUE, letter)
            overdue.append(letter.id or 0)
    return SweepResult(
        reminded, overdue, await overdue_reports(session), await overdue_rectifications(session)
    )
