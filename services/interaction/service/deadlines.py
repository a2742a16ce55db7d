"""A letter's answer deadline in working days, its reminder day and the inspection's clock."""

from __future__ import annotations

from datetime import date

from services.interaction.models import Letter, Mailbox
from services.interaction.schemas import DeadlineOut, SkippedDayOut
from services.interaction.vocab import (
    DEFAULT_DEADLINE_DAYS,
    INSPECTION_MONTHS,
    Complexity,
    DeadlineState,
    LetterStatus,
)
from services.kernel.clock import today
from services.kernel.workdays import WorkCalendar, WorkdayCount

OPEN_STATUSES = (LetterStatus.RECEIVED, LetterStatus.ACCEPTED, LetterStatus.ASSIGNED)


def deadline_days(mailbox: Mailbox, kind: str, complexity: Complexity) -> int:
    per_kind = mailbox.deadlines.get(kind) or {}
    return int(per_kind.get(complexity.value, DEFAULT_DEADLINE_DAYS[complexity]))


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def inspection_due(received_on: date) -> date:
    return add_months(received_on, INSPECTION_MONTHS)


def count(letter: Letter, calendar: WorkCalendar) -> WorkdayCount:
    return calendar.add_working_days(letter.received_on, letter.deadline_days)


def schedule(letter: Letter, calendar: WorkCalendar) -> WorkdayCount:
    """Set the due date, the reminder date (the working day before) and the state."""
    result = count(letter, calendar)
    letter.due_on = result.due
    if result.due is None:
        letter.deadline_state = DeadlineState.DEADLINE_UNKNOWN
        letter.remind_on = None
        letter.deadline_reason = result.reason
    else:
        letter.deadline_state = DeadlineState.SCHEDULED
        letter.remind_on = result.counted[-2] if len(result.counted) >= 2 else letter.received_on
        letter.deadline_reason = result.explain()
    return result


def is_overdue(letter: Letter) -> bool:
    if letter.due_on is None:
        return False
    if letter.status in OPEN_STATUSES:
        return today() > letter.due_on
    return letter.overdue_at is not None


def deadline_out(letter: Letter, calendar: WorkCalendar) -> DeadlineOut:
    result = count(letter, calendar)
    return DeadlineOut(
        state=DeadlineState(letter.deadline_state),
        days=letter.deadline_days,
        day_zero=letter.received_on,
        due_on=letter.due_on,
        remind_on=letter.remind_on,
        overdue=is_overdue(letter),
        reason=result.explain() if result.known else result.reason,
        skipped=[SkippedDayOut(date=s.day, kind=s.kind, name=s.name) for s in result.skipped],
        inspection_due_on=letter.inspection_due_on,
    )
