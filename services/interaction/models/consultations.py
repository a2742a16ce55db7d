"""Consultations (意见征集) and questionnaires (调查)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field

from services.interaction.models.base import Base


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
    withdrawn_at: float | None = None
    withdrawn_by: str | None = Field(default=None, max_length=128)
    withdrawn_reason: str | None = Field(default=None, max_length=500)


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
    withdrawn_at: float | None = None
    withdrawn_by: str | None = Field(default=None, max_length=128)
    withdrawn_reason: str | None = Field(default=None, max_length=500)


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
