"""Online interviews (在线访谈)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field

from services.interaction.models.base import Base


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
    column_id: int | None = None  # where the transcript goes; None: the site's interview column
    # The transcript publication (service/transcripts.py): each peer's answer is kept as soon as
    # it comes, so a retry after a crash resumes from the step that was not recorded.
    transcript_state: str | None = Field(default=None, max_length=16, index=True)
    transcript_column_id: int | None = None
    transcript_resource_id: int | None = None
    transcript_resource_version: int | None = None
    transcript_publication_id: int | None = Field(default=None, index=True)
    transcript_published_url: str | None = Field(default=None, max_length=1000)
    transcript_attempts: int = 0
    transcript_next_at: float | None = None  # also the worker's lease while it works on it
    transcript_error: str = Field(default="", max_length=500)
    withdrawn_at: float | None = None
    withdrawn_by: str | None = Field(default=None, max_length=128)
    withdrawn_reason: str | None = Field(default=None, max_length=500)


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
