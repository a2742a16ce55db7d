"""Letters (信件), error reports (纠错), ratings (好差评) and rectifications (整改)."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field

from services.interaction.models.base import Base


class Mailbox(Base, table=True):  # type: ignore[call-arg]
    """A site's 互动交流 settings: who letters may go to and under which rules."""

    __tablename__ = "mailbox"

    site: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=200)
    allow_anonymous: bool = False
    departments: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    refusal_reasons: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # {letter kind: {"ordinary": days, "complex": days}}; a kind not named takes the defaults.
    deadlines: dict[str, dict[str, int]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by: str = Field(max_length=128)
    updated_at: float


class Letter(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "letter"
    __table_args__ = (UniqueConstraint("site", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=16)
    recipient: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    complexity: str = Field(default="ordinary", max_length=16)
    title: str = Field(max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    attachments: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    marked_names: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    writer_sub: str | None = Field(default=None, max_length=128, index=True)
    writer_name: str = Field(default="", max_length=128)
    query_code_hash: str | None = Field(default=None, max_length=64, unique=True)
    dedupe_key: str = Field(max_length=64)
    publish_consent: bool = False
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    handling_org: str | None = Field(default=None, max_length=64)
    refusal_reason: str | None = Field(default=None, max_length=32)
    refusal_note: str = Field(default="", max_length=1000)
    reply: str = Field(default="", sa_column=Column(Text, nullable=False))
    received_at: float
    received_on: date
    accepted_at: float | None = None
    replied_at: float | None = None
    published_at: float | None = None
    deadline_state: str = Field(max_length=24)
    deadline_days: int
    due_on: date | None = None
    remind_on: date | None = None
    deadline_reason: str = Field(default="", max_length=500)
    inspection_due_on: date
    reminded_at: float | None = None
    overdue_at: float | None = None
    # The published rendering: redacted copies and what was redacted (never the originals).
    public: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    public_text: str = Field(default="", sa_column=Column(Text, nullable=False))  # what search matches
    redactions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rating: str | None = Field(default=None, max_length=16)
    rating_items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    rated_at: float | None = None


class LetterEvent(Base, table=True):  # type: ignore[call-arg]
    """The letter's history: every transition, transfer, reminder and deadline move."""

    __tablename__ = "letter_event"

    id: int | None = Field(default=None, primary_key=True)
    letter_id: int = Field(foreign_key="letter.id", index=True)
    at: float
    actor: str = Field(max_length=128)
    action: str = Field(max_length=32)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ErrorReport(Base, table=True):  # type: ignore[call-arg]
    """找错: a mistake reported on a page the platform delivers, and how it was handled."""

    __tablename__ = "error_report"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    kind: str = Field(max_length=24)
    page_url: str = Field(max_length=2000)
    description: str = Field(sa_column=Column(Text, nullable=False))
    publication_id: int | None = None
    column_id: int | None = None
    assignee: str | None = Field(default=None, max_length=128, index=True)  # the column's responsible editor
    reporter_sub: str | None = Field(default=None, max_length=128)  # never shown publicly
    status: str = Field(max_length=16, index=True)
    answer: str = Field(default="", sa_column=Column(Text, nullable=False))
    answered_by: str | None = Field(default=None, max_length=128)
    answered_at: float | None = None
    received_at: float
    received_on: date
    deadline_state: str = Field(max_length=24)
    due_on: date | None = None
    deadline_reason: str = Field(default="", max_length=500)
    overdue_at: float | None = None
    # The redacted description and answer the public reads, and what was redacted.
    public: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    redactions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Rating(Base, table=True):  # type: ignore[call-arg]
    """好差评: one rating of a reply, a service or a page; never altered, never deleted."""

    __tablename__ = "rating"
    __table_args__ = (UniqueConstraint("target_kind", "target_ref", "rater_key"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    target_kind: str = Field(max_length=16)
    target_ref: str = Field(max_length=2000)
    level: str = Field(max_length=16)
    items: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    comment: str = Field(default="", sa_column=Column(Text, nullable=False))
    # A one-way key (one rating per rater and target); the rater's identity is not stored.
    rater_key: str = Field(max_length=64)
    at: float


class Rectification(Base, table=True):  # type: ignore[call-arg]
    """The task a 差评 opens: due in 15 working days, closed only with a call-back record."""

    __tablename__ = "rectification"

    id: int | None = Field(default=None, primary_key=True)
    rating_id: int = Field(foreign_key="rating.id", unique=True)
    site: str = Field(max_length=64, index=True)
    status: str = Field(max_length=16)
    opened_on: date
    deadline_state: str = Field(max_length=24)
    due_on: date | None = None
    deadline_reason: str = Field(default="", max_length=500)
    measures: str = Field(default="", sa_column=Column(Text, nullable=False))
    callback_record: str = Field(default="", sa_column=Column(Text, nullable=False))
    callback_at: float | None = None
    overdue_at: float | None = None
    closed_by: str | None = Field(default=None, max_length=128)
    closed_at: float | None = None
