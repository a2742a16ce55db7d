"""Operators' calendar and the audit trail."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field

from services.interaction.models.base import Base


class CalendarYear(Base, table=True):  # type: ignore[call-arg]
    """An operator's table of one year's holidays and 调休 working days ({iso date: name})."""

    __tablename__ = "calendar_year"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    holidays: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    workdays: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    note: str = Field(default="", max_length=500)
    updated_by: str = Field(max_length=128)
    updated_at: float


class AuditEntry(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "audit_entry"

    id: int | None = Field(default=None, primary_key=True)
    at: float
    actor: str = Field(max_length=128)
    action: str = Field(max_length=64)
    target: str = Field(max_length=128)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
