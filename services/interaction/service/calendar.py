"""The operator's year tables, stored here and handed to the kernel's working-day calendar."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import AuditEntry, CalendarYear
from services.interaction.schemas import CalendarYearIn, CalendarYearOut, DayOut
from services.kernel.clock import epoch
from services.kernel.errors import NotFound, ValidationFailed
from services.kernel.pagination import PageParams, paginate
from services.kernel.workdays import CalendarSource, DayKind, WorkCalendar, YearTable

MIN_YEAR, MAX_YEAR = 2004, 2100


def _table(row: CalendarYear) -> YearTable:
    return YearTable(
        row.year,
        {date.fromisoformat(d): n for d, n in row.holidays.items()},
        {date.fromisoformat(d): n for d, n in row.workdays.items()},
    )


async def load_calendar(session: AsyncSession) -> WorkCalendar:
    rows = (await session.execute(select(CalendarYear))).scalars().all()
    return WorkCalendar({row.year: _table(row) for row in rows})


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValidationFailed.field("year", f"年份须在 {MIN_YEAR}–{MAX_YEAR} 之间")


async def audit(session: AsyncSession, actor: str, action: str, target: str, **detail: object) -> None:
    session.add(AuditEntry(at=epoch(), actor=actor, action=action, target=target, detail=detail))


async def audit_page(session: AsyncSession, params: PageParams) -> tuple[list[AuditEntry], int]:
    return await paginate(session, select(AuditEntry).order_by(col(AuditEntry.id).desc()), params)


async def put_year(session: AsyncSession, year: int, body: CalendarYearIn, actor: str) -> CalendarYear:
    check_year(year)
    table = YearTable(year, {d.date: d.name for d in body.holidays}, {d.date: d.name for d in body.workdays})
    problems = table.problems()
    if problems:
        raise ValidationFailed(
            "; ".join(f"{f}: {m}" for f, m in problems)[:500],
            errors=[{"field": f, "message": m} for f, m in problems],
        )
    row = await session.get(CalendarYear, year)
    before = None if row is None else {"holidays": row.holidays, "workdays": row.workdays}
    if row is None:
        row = CalendarYear(year=year, updated_by=actor, updated_at=epoch())
        session.add(row)
    row.holidays = {d.isoformat(): n for d, n in sorted(table.holidays.items())}
    row.workdays = {d.isoformat(): n for d, n in sorted(table.workdays.items())}
    row.note = body.note
    row.updated_by = actor
    row.updated_at = epoch()
    await audit(
        session,
        actor,
        "calendar.put",
        f"calendar/{year}",
        before=before,
        holidays=len(row.holidays),
        workdays=len(row.workdays),
        note=body.note,
    )
    await session.flush()
    return row


def year_out(year: int, row: CalendarYear | None) -> CalendarYearOut:
    if row is not None:
        return CalendarYearOut(
            year=year,
            source=CalendarSource.OPERATOR,
            holidays=[
                DayOut(date=date.fromisoformat(d), kind=DayKind.HOLIDAY, name=n)
                for d, n in row.holidays.items()
            ],
            workdays=[
                DayOut(date=date.fromisoformat(d), kind=DayKind.ADJUSTED_WORKDAY, name=n)
                for d, n in row.workdays.items()
            ],
            note=row.note,
            updated_by=row.updated_by,
            updated_at=row.updated_at,
        )
    if not WorkCalendar.package_covers(year):
        raise NotFound(f"{year} 年的节假日安排尚未录入：chinese-calendar 无此年数据，请录入运营表")
    calendar = WorkCalendar()
    holidays: list[DayOut] = []
    workdays: list[DayOut] = []
    day = date(year, 1, 1)
    while day.year == year:
        info = calendar.info(day)
        if info.kind == DayKind.HOLIDAY:
            holidays.append(DayOut(date=day, kind=info.kind, name=info.name))
        elif info.kind == DayKind.ADJUSTED_WORKDAY:
            workdays.append(DayOut(date=day, kind=info.kind, name=info.name))
        day = date.fromordinal(day.toordinal() + 1)
    return CalendarYearOut(year=year, source=CalendarSource.PACKAGE, holidays=holidays, workdays=workdays)
