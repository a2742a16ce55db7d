"""The kernel's working-day calendar: published years, operator years, unknown years, 调休."""

from __future__ import annotations

from datetime import date

import pytest

from services.kernel.workdays import DayKind, WorkCalendar, YearTable

NEW_YEAR_2027 = YearTable(
    2027, {date(2027, 1, 1): "元旦", date(2027, 1, 2): "元旦", date(2027, 1, 3): "元旦"}, {}
)


def test_a_count_into_a_year_nobody_entered_is_unknown_with_its_reason() -> None:
    result = WorkCalendar().add_working_days(date(2026, 12, 31), 3)
    assert result.due is None and not result.known
    assert result.missing_year == 2027
    assert "2027" in result.reason and "尚未录入" in result.explain()


def test_the_operator_table_carries_the_count_across_the_new_year() -> None:
    # 2026-12-31 (Thursday) is the last working day before the holiday: day zero.
    result = WorkCalendar({2027: NEW_YEAR_2027}).add_working_days(date(2026, 12, 31), 3)
    assert result.due == date(2027, 1, 6)
    assert [(s.day, s.kind) for s in result.skipped] == [
        (date(2027, 1, 1), DayKind.HOLIDAY),
        (date(2027, 1, 2), DayKind.HOLIDAY),
        (date(2027, 1, 3), DayKind.HOLIDAY),
    ]
    assert result.counted == (date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6))
    assert "第 0 日" in result.explain() and "元旦" in result.explain()


def test_an_adjusted_working_saturday_counts() -> None:
    calendar = WorkCalendar()
    # 2026-02-28 is a Saturday worked for the Spring Festival (chinese-calendar's data).
    assert calendar.info(date(2026, 2, 28)).kind == DayKind.ADJUSTED_WORKDAY
    assert calendar.add_working_days(date(2026, 2, 27), 1).due == date(2026, 2, 28)
    # And one an operator entered for a later year.
    table = YearTable(2027, {}, {date(2027, 1, 9): "调休"})
    assert WorkCalendar({2027: table}).add_working_days(date(2027, 1, 8), 1).due == date(2027, 1, 9)
    assert WorkCalendar({2027: YearTable(2027, {}, {})}).add_working_days(date(2027, 1, 8), 1).due == date(
        2027, 1, 11
    )


def test_published_holidays_are_skipped_with_their_names() -> None:
    result = WorkCalendar().add_working_days(date(2026, 9, 30), 1)
    assert result.due == date(2026, 10, 8)  # 国庆 1–7 October, then a Thursday
    assert {s.name for s in result.skipped if s.kind == DayKind.HOLIDAY} >= {"国庆节"}


def test_an_inconsistent_table_says_what_is_wrong() -> None:
    table = YearTable(
        2027,
        {date(2026, 12, 31): "元旦", date(2027, 1, 9): "x"},
        {date(2027, 1, 9): "y", date(2027, 1, 6): "z"},
    )
    problems = dict(table.problems())
    assert set(problems) == {"holidays", "workdays"}
    assert len(table.problems()) == 3


def test_bounds() -> None:
    with pytest.raises(ValueError):
        WorkCalendar().add_working_days(date(2026, 1, 5), 10_000)
