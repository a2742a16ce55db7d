"""The working-day calendar every service that counts days shares (答复时限、整改期限).

China's working days are not "Monday to Friday": the State Council publishes each year's
official holidays and the adjusted working days (调休) that pay for them, so a Saturday may be
a working day and a Wednesday may not. The `chinese-calendar` package carries the published
years; later years come from a table an operator enters when the notice appears (the caller
passes it in). A count that reaches a year nobody has entered is an explicit "unknown" with
its reason — a guessed deadline would be wrong on exactly the days that matter.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

import chinese_calendar

# Counting never needs more than a year and a bit; the bound stops a bad input from looping.
MAX_COUNT = 250


class DayKind(StrEnum):
    WORKDAY = "workday"  # an ordinary Monday to Friday
    ADJUSTED_WORKDAY = "adjusted_workday"  # 调休：a weekend day worked in exchange for a holiday
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # 法定节假日 (and the days taken with it)


class CalendarSource(StrEnum):
    PACKAGE = "chinese-calendar"
    OPERATOR = "operator"


WORKING_KINDS = (DayKind.WORKDAY, DayKind.ADJUSTED_WORKDAY)


@dataclass(frozen=True)
class YearTable:
    """One year as the operator entered it: holidays and adjusted working days, with names."""

    year: int
    holidays: Mapping[date, str]
    workdays: Mapping[date, str]

    def problems(self) -> list[tuple[str, str]]:
        """(field, message) for every inconsistency; empty when the table can be used."""
        out: list[tuple[str, str]] = []
        for name, days in (("holidays", self.holidays), ("workdays", self.workdays)):
            for day in days:
                if day.year != self.year:
                    out.append((name, f"{day.isoformat()} 不属于 {self.year} 年"))
        for day in sorted(set(self.holidays) & set(self.workdays)):
            out.append(("workdays", f"{day.isoformat()} 不能既是假日又是调休工作日"))
        for day in sorted(self.workdays):
            if day.weekday() < 5:
                out.append(("workdays", f"{day.isoformat()} 是周一至周五，本就是工作日，不是调休"))
        return out


@dataclass(frozen=True)
class DayInfo:
    day: date
    kind: DayKind
    name: str = ""
    source: CalendarSource | None = None

    @property
    def working(self) -> bool:
        return self.kind in WORKING_KINDS


class YearUnknown(Exception):
    def __init__(self, year: int) -> None:
        super().__init__(f"{year} 年的节假日安排尚未录入（chinese-calendar 无此年数据，运营人员也未录入）")
        self.year = year


@dataclass(frozen=True)
class SkippedDay:
    day: date
    kind: DayKind
    name: str


@dataclass(frozen=True)
class WorkdayCount:
    """A deadline and how it was reached; `due` is None when a year on the way is unknown."""

    day_zero: date
    days: int
    due: date | None
    skipped: tuple[SkippedDay, ...] = ()
    counted: tuple[date, ...] = ()  # the working days that were counted, in order
    missing_year: int | None = None
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.due is not None

    def explain(self) -> str:
        if self.due is None:
            return f"自 {self.day_zero.isoformat()} 起算 {self.days} 个工作日：无法确定，{self.reason}"
        skipped = "；".join(f"{s.day.isoformat()} {s.name or s.kind.value}" for s in self.skipped)
        return (
            f"自 {self.day_zero.isoformat()}（第 0 日）次日起算 {self.days} 个工作日，"
            f"至 {self.due.isoformat()}" + (f"；跳过 {skipped}" if skipped else "")
        )


@dataclass
class WorkCalendar:
    """The published years from chinese-calendar, overridden year by year by operator tables."""

    tables: Mapping[int, YearTable] = field(default_factory=dict)

    @staticmethod
    def package_covers(year: int) -> bool:
        try:
            chinese_calendar.is_workday(date(year, 6, 1))
        except NotImplementedError:
            return False
        return True

    def covers(self, year: int) -> bool:
        return year in self.tables or self.package_covers(year)

    def info(self, day: date) -> DayInfo:
        table = self.tables.get(day.year)
        if table is not None:
            if day in table.holidays:
                return DayInfo(day, DayKind.HOLIDAY, table.holidays[day], CalendarSource.OPERATOR)
            if day in table.workdays:
                return DayInfo(day, DayKind.ADJUSTED_WORKDAY, table.workdays[day], CalendarSource.OPERATOR)
            kind = DayKind.WEEKEND if day.weekday() >= 5 else DayKind.WORKDAY
            return DayInfo(day, kind, "", CalendarSource.OPERATOR)
        try:
            is_holiday, name = chinese_calendar.get_holiday_detail(day)
        except NotImplementedError:
            raise YearUnknown(day.year) from None
        weekend = day.weekday() >= 5
        if is_holiday:
            kind = DayKind.HOLIDAY if name else DayKind.WEEKEND
            return DayInfo(day, kind, _holiday_name(name), CalendarSource.PACKAGE)
        kind = DayKind.ADJUSTED_WORKDAY if weekend else DayKind.WORKDAY
        return DayInfo(day, kind, _holiday_name(name) if weekend else "", CalendarSource.PACKAGE)

    def is_working_day(self, day: date) -> bool:
        return self.info(day).working

    def add_working_days(self, day_zero: date, days: int) -> WorkdayCount:
        """The `days`-th working day after `day_zero` (the day of receipt is day zero)."""
        if not 0 <= days <= MAX_COUNT:
            raise ValueError(f"days must be within 0..{MAX_COUNT}")
        skipped: list[SkippedDay] = []
        counted: list[date] = []
        current = day_zero
        while len(counted) < days:
            current += timedelta(days=1)
            try:
                info = self.info(current)
            except YearUnknown as exc:
                return WorkdayCount(day_zero, days, None, tuple(skipped), tuple(counted), exc.year, str(exc))
            if info.working:
                counted.append(current)
            else:
                skipped.append(SkippedDay(current, info.kind, info.name))
        return WorkdayCount(
            day_zero, days, counted[-1] if counted else day_zero, tuple(skipped), tuple(counted)
        )


_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _holiday_name(name: str | None) -> str:
    return _NAMES.get(name or "", name or "")
