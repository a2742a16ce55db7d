"""Tables of the interaction service; its own metadata, its own database or schema.

Instants are epoch seconds (float) as in the other services; dates of deadlines are dates in
Asia/Shanghai, because a working day is a date, not an instant.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables

if TYPE_CHECKING:  # mypy sees an ordinary SQLModel base; at runtime it has its own metadata
    Base = SQLModel
else:
    Base = service_base("interaction")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)


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


# -- online interviews (在线访谈) ----------------------------------------------------------


class Interview(Base, table=True):  # type: ignore[call-arg]
    """A scheduled interview: its guests and host are staff accounts of the site."""

    __tablename__ = "interview"

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64, index=True)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    status: str = Field(max_length=16, index=True)
    starts_at: float = Field(index=True)
    ends_at: float
    # {"user_id", "name", "title"} and a list of the same, as identity named them at scheduling.
    host: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    guests: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # The last stream entry's number; bumped by an UPDATE … RETURNING so that entry numbers of
    # one interview are handed out in commit order (the publishers rely on it).
    last_seq: int = 0
    created_by: str = Field(max_length=128)
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    archived_at: float | None = None


class InterviewQuestion(Base, table=True):  # type: ignore[call-arg]
    """A citizen's question: machine review, then a person approves or rejects it."""

    __tablename__ = "interview_question"
    __table_args__ = (UniqueConstraint("interview_id", "asker_sub", "dedupe_key"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id", index=True)
    site: str = Field(max_length=64)
    status: str = Field(max_length=16, index=True)
    text: str = Field(sa_column=Column(Text, nullable=False))
    asker_sub: str = Field(max_length=128)
    asker_name: str = Field(default="", max_length=128)
    dedupe_key: str = Field(max_length=64)
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # What the public reads once approved (personal data masked) and what was masked.
    public_text: str = Field(default="", sa_column=Column(Text, nullable=False))
    redactions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submitted_at: float
    moderated_by: str | None = Field(default=None, max_length=128)
    moderated_at: float | None = None
    reason: str = Field(default="", max_length=500)
    entry_seq: int | None = None


class InterviewEntry(Base, table=True):  # type: ignore[call-arg]
    """One message of the public stream and transcript, numbered per interview (`seq`)."""

    __tablename__ = "interview_entry"
    __table_args__ = (UniqueConstraint("interview_id", "seq"),)

    id: int | None = Field(default=None, primary_key=True)
    interview_id: int = Field(foreign_key="interview.id")
    seq: int
    kind: str = Field(max_length=16)
    author: str = Field(default="", max_length=200)  # the public label: 网友, a guest's name and title
    author_sub: str | None = Field(default=None, max_length=128)
    question_id: int | None = None
    reply_to: int | None = None  # the seq of the question entry an answer answers
    text: str = Field(default="", sa_column=Column(Text, nullable=False))
    media: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    at: float


# -- consultations (意见征集) and questionnaires (调查) ----------------------------------------


class Consultation(Base, table=True):  # type: ignore[call-arg]
    """A draft policy put to the public between two instants, and what became of the comments."""

    __tablename__ = "consultation"
    __table_args__ = (Index("ix_consultation_site_id", "site", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    title: str = Field(max_length=200)
    summary: str = Field(default="", sa_column=Column(Text, nullable=False))
    paragraphs: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    attachments: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=24)
    starts_at: float
    ends_at: float
    created_by: str = Field(max_length=128)
    created_at: float
    opened_at: float | None = None
    closed_at: float | None = None
    # The feedback report: {"summary", "items": [{"comment_ids", "decision", "reason"}]}.
    feedback: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    final_resource_id: int | None = None
    final_resource_version: int | None = None
    final_title: str = Field(default="", max_length=500)
    feedback_published_at: float | None = None


class ConsultationComment(Base, table=True):  # type: ignore[call-arg]
    __tablename__ = "consultation_comment"
    # Public pages walk (consultation, status, id) forwards: keyset, never OFFSET.
    __table_args__ = (Index("ix_consultation_comment_page", "consultation_id", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    consultation_id: int = Field(foreign_key="consultation.id")
    site: str = Field(max_length=64)
    anchor: str = Field(max_length=32)
    body: str = Field(sa_column=Column(Text, nullable=False))
    author_sub: str = Field(max_length=128, index=True)  # never shown publicly
    status: str = Field(max_length=16)
    findings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    submitted_at: float
    moderated_by: str | None = Field(default=None, max_length=128)
    moderated_at: float | None = None
    moderation_note: str = Field(default="", max_length=1000)
    public_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    redactions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    published_at: float | None = None


class Survey(Base, table=True):  # type: ignore[call-arg]
    """A questionnaire; its results exist for nobody until it closes."""

    __tablename__ = "survey"
    __table_args__ = (Index("ix_survey_site_id", "site", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    title: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False))
    questions: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    status: str = Field(max_length=16)
    starts_at: float
    ends_at: float
    created_by: str = Field(max_length=128)
    created_at: float
    opened_at: float | None = None
    closed_at: float | None = None


class SurveyAnswer(Base, table=True):  # type: ignore[call-arg]
    """One person's answer to a survey: replaced, never duplicated, while the survey is open."""

    __tablename__ = "survey_answer"
    # One answer per person and survey, held by the database (an upsert, not check-then-insert).
    __table_args__ = (
        UniqueConstraint("survey_id", "respondent_key"),
        Index("ix_survey_answer_page", "survey_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    survey_id: int = Field(foreign_key="survey.id")
    # A one-way key of (survey, person): the answer row names nobody.
    respondent_key: str = Field(max_length=64)
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    submitted_at: float
    updated_at: float
    revisions: int = 1


class Subscription(Base, table=True):  # type: ignore[call-arg]
    """A citizen's e-mail subscription to a column (column_id 0: the whole site), opted in twice."""

    __tablename__ = "subscription"
    # 0 rather than NULL for "whole site", so the database holds one row per scope and address.
    __table_args__ = (
        UniqueConstraint("site", "column_id", "subscriber", "email"),
        Index("ix_subscription_match", "site", "column_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    site: str = Field(max_length=64)
    column_id: int = 0
    subscriber: str = Field(max_length=128, index=True)
    email: str = Field(max_length=254)
    rhythm: str = Field(max_length=16)
    status: str = Field(max_length=16)
    created_at: float
    confirmed_at: float | None = None
    ended_at: float | None = None


class SubscriptionItem(Base, table=True):  # type: ignore[call-arg]
    """What a message says about one published item, stored once for all its deliveries."""

    __tablename__ = "subscription_item"

    publication_id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    site: str = Field(max_length=64)
    site_name: str = Field(max_length=200)
    column_id: int
    title: str = Field(max_length=300)
    url: str = Field(max_length=1000)
    important: bool = False
    published_at: float


class SubscriptionDelivery(Base, table=True):  # type: ignore[call-arg]
    """One message to one subscriber about one item; unique so a replayed event adds nothing."""

    __tablename__ = "subscription_delivery"
    __table_args__ = (
        UniqueConstraint("subscription_id", "publication_id"),
        Index("ix_subscription_delivery_due", "status", "priority", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    subscription_id: int = Field(foreign_key="subscription.id")
    publication_id: int = Field(foreign_key="subscription_item.publication_id")
    priority: bool = False
    status: str = Field(max_length=16)
    attempts: int = 0
    next_at: float
    last_error: str | None = Field(default=None, max_length=500)
    created_at: float
    sent_at: float | None = None
