"""Online interviews (在线访谈): requests, answers and their closed vocabularies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, model_validator

from services.interaction.schemas import PlainText, RedactionOut
from services.kernel.clock import WireDateTime
from services.kernel.params import MAX_ID


class InterviewStatus(StrEnum):
    SCHEDULED = "scheduled"
    LIVE = "live"
    ENDED = "ended"
    ARCHIVED = "archived"
    WITHDRAWN = "withdrawn"  # taken off the site by its staff; kept, with who, when and why


class QuestionStatus(StrEnum):
    SCREENED_OUT = "screened_out"  # machine review blocked it; it never reaches a person or the stream
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class EntryKind(StrEnum):
    """The SSE event names of the public stream, and the kinds of transcript entries."""

    QUESTION = "question"  # an approved question
    ANSWER = "answer"  # a guest's answer (to a question, or free)
    NOTE = "note"  # the host's note
    STATE = "state"  # the interview went live, ended or was archived


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"


class TranscriptState(StrEnum):
    """The archived transcript's way into content: queued at archiving, then stored in the
    library, placed in the interview column and submitted to its review chain."""

    PENDING = "pending"  # queued or being worked on by the transcript worker
    IN_REVIEW = "in_review"  # submitted: the column's reviewers decide
    PUBLISHED = "published"  # content announced it published
    # A reviewer sent it back (content's opinion says why); archiving again resubmits it.
    REJECTED = "rejected"
    FAILED = "failed"  # a peer refused it or retries ran out; archiving again re-queues it


class InterviewTopic(StrEnum):
    CREATED = "interview.created"
    LIVE = "interview.live"
    ENDED = "interview.ended"
    ARCHIVED = "interview.archived"
    WITHDRAWN = "interview.withdrawn"


# Questions may come before and during; the stream carries entries while scheduled or live.
OPEN_FOR_QUESTIONS = (InterviewStatus.SCHEDULED, InterviewStatus.LIVE)
FINISHED = (InterviewStatus.ENDED, InterviewStatus.ARCHIVED)

UserId = Annotated[int, Field(ge=1, le=MAX_ID, description="identity 的用户编号（须在本站有工作人员角色）")]


class PersonIn(BaseModel):
    user_id: UserId
    title: str = Field("", max_length=100, description="公开显示的职务，如 市交通运输局局长")


class InterviewIn(BaseModel):
    title: Annotated[PlainText, Field(max_length=200)]
    summary: str = Field("", max_length=5000)
    starts_at: datetime = Field(description="开始时间（ISO 8601，带时区）")
    ends_at: datetime = Field(description="预计结束时间")
    host: PersonIn
    guests: list[PersonIn] = Field(min_length=1, max_length=10)
    column_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(
        None, description="实录发布到的栏目；不填则用本站的在线访谈栏目（按配置的栏目代码或名称）"
    )

    @model_validator(mode="after")
    def _coherent(self) -> InterviewIn:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at 与 ends_at 须带时区（如 +08:00）")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at 须晚于 starts_at")
        people = [self.host.user_id, *(g.user_id for g in self.guests)]
        if len(set(people)) != len(people):
            raise ValueError("主持人与嘉宾不能重复")
        return self


class MediaIn(BaseModel):
    """An image or a video link, by URL or by a resource of the library; never fetched here."""

    kind: MediaKind
    url: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^(https?://[^\s/]+|/)\S*$")] | None = (
        None
    )
    resource_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = None
    caption: str = Field("", max_length=200)

    @model_validator(mode="after")
    def _one_source(self) -> MediaIn:
        if (self.url is None) == (self.resource_id is None):
            raise ValueError("url 与 resource_id 须且只须给出一个")
        return self


class QuestionIn(BaseModel):
    text: Annotated[PlainText, Field(max_length=2000)]


class RejectIn(BaseModel):
    reason: str = Field("", max_length=500)


class AnswerIn(BaseModel):
    text: Annotated[PlainText, Field(max_length=10_000)]
    question_id: Annotated[int, Field(ge=1, le=MAX_ID)] | None = Field(None, description="所答的已通过问题")
    media: list[MediaIn] = Field(default_factory=list, max_length=10)


class NoteIn(BaseModel):
    text: Annotated[PlainText, Field(max_length=10_000)]
    media: list[MediaIn] = Field(default_factory=list, max_length=10)


class PersonOut(BaseModel):
    user_id: int
    name: str
    title: str


class TranscriptPublicationOut(BaseModel):
    """The transcript as a content publication (after archiving)."""

    state: TranscriptState
    column_id: int
    resource_id: int | None = Field(description="信息资源库中的实录资源")
    resource_version: int | None
    publication_id: int | None = Field(description="内容服务中的稿件编号")
    published_url: str | None = Field(description="发布后的公开地址；审核发布前为 null")
    attempts: int


class InterviewOut(BaseModel):
    id: int
    site: str
    title: str
    summary: str
    status: InterviewStatus
    starts_at: WireDateTime
    ends_at: WireDateTime
    host: PersonOut
    guests: list[PersonOut]
    started_at: WireDateTime | None
    ended_at: WireDateTime | None
    archived_at: WireDateTime | None
    last_event_id: int = Field(description="公开直播流的最新事件编号")
    stream_url: str
    transcript_url: str | None
    column_id: int | None
    publication: TranscriptPublicationOut | None = Field(description="归档后作为内容发布的实录")


class InterviewPage(BaseModel):
    items: list[InterviewOut]
    next_cursor: str | None = Field(description="下一页的游标；null 表示没有更多")


class QuestionReceiptOut(BaseModel):
    id: int
    status: QuestionStatus
    submitted_at: WireDateTime


class QuestionOut(BaseModel):
    """The moderators' view: the question as written, and what review found."""

    id: int
    interview_id: int
    status: QuestionStatus
    text: str
    asker_name: str
    submitted_at: WireDateTime
    moderated_by: str | None
    moderated_at: WireDateTime | None
    reason: str
    review_rules: list[str]
    public_text: str
    redactions: list[RedactionOut]
    event_id: int | None = Field(description="通过后在直播流中的事件编号")


class QuestionPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[QuestionOut]


class MediaOut(BaseModel):
    kind: MediaKind
    url: str | None
    resource_id: int | None = Field(description="信息资源库中的资源编号（以资源引用时）")
    caption: str


class EntryOut(BaseModel):
    """One stream message; the SSE `data` is this document, its `id` is `seq`."""

    seq: int
    kind: EntryKind
    author: str
    text: str
    question_id: int | None
    reply_to: int | None = Field(description="所答问题在流中的编号")
    media: list[MediaOut]
    at: WireDateTime


class TranscriptOut(BaseModel):
    interview: InterviewOut
    archived: bool = Field(description="已归档")
    entries: list[EntryOut]
    images: list[MediaOut]
    videos: list[MediaOut]
    questions: int
    answers: int
