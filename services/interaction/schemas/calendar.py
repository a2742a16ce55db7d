"""The working-day calendar an operator maintains: a year's holidays and swapped workdays, and
the open deadlines an edit moved."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from services.interaction.vocab import DeadlineState
from services.kernel.clock import WireDateTime
from services.kernel.workdays import CalendarSource, DayKind


class NamedDay(BaseModel):
    date: date
    name: Annotated[str, Field(min_length=1, max_length=50)]


class CalendarYearIn(BaseModel):
    holidays: list[NamedDay] = Field(max_length=366, description="法定节假日（含连休的周末）")
    workdays: list[NamedDay] = Field(default_factory=list, max_length=60, description="调休上班的周末")
    note: str = Field("", max_length=500, description="依据，如国务院办公厅通知文号")


class DayOut(BaseModel):
    date: date
    kind: DayKind
    name: str


class DeadlineMoveOut(BaseModel):
    subject: Literal["letter", "report", "rectification"]
    id: int
    before: date | None
    after: date | None
    state: DeadlineState
    reason: str


class CalendarYearOut(BaseModel):
    year: int
    source: CalendarSource
    holidays: list[DayOut]
    workdays: list[DayOut]
    note: str = ""
    updated_by: str | None = None
    updated_at: WireDateTime | None = None
    moved: list[DeadlineMoveOut] = Field(default_factory=list, description="本次修改移动的未结期限")
