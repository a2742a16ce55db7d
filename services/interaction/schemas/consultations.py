"""Consultations on a draft policy (意见征集): the document, anchored comments, the feedback report."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator, model_validator

from services.interaction.schemas import PlainText, RedactionOut
from services.kernel.clock import WireDateTime
from services.kernel.params import MAX_ID

Anchor = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
ResourceId = Annotated[int, Field(ge=1, le=MAX_ID)]


class ConsultationStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # published; comments are taken between starts_at and ends_at
    CLOSED = "closed"
    FEEDBACK_PUBLISHED = "feedback_published"
    WITHDRAWN = "withdrawn"  # taken off the site by its staff; kept, with who, when and why


class CommentStatus(StrEnum):
    BLOCKED = "blocked"  # machine review refused it: never public, its author is told
    PENDING = "pending"  # waiting for a person
    APPROVED = "approved"  # published (redacted)
    REJECTED = "rejected"


class Decision(StrEnum):
    ADOPTED = "adopted"  # 采纳
    PARTLY = "partly_adopted"  # 部分采纳
    NOT_ADOPTED = "not_adopted"  # 未采纳（须说明理由）


class ConsultationTopic(StrEnum):
    CREATED = "consultation.created"
    OPENED = "consultation.opened"
    CLOSED = "consultation.closed"
    FEEDBACK_PUBLISHED = "consultation.feedback_published"
    WITHDRAWN = "consultation.withdrawn"
    COMMENT_RECEIVED = "comment.received"
    COMMENT_BLOCKED = "comment.blocked"
    COMMENT_APPROVED = "comment.approved"
    COMMENT_REJECTED = "comment.rejected"


class ParagraphIn(BaseModel):
    anchor: Anchor = Field(description="段落的稳定编号，如 art-3；评论以此定位")
    text: Annotated[PlainText, Field(max_length=10_000)]


class AttachmentRefIn(BaseModel):
    """Either a stored resource of the library (checked to exist) or a text of its own."""

    title: Annotated[PlainText, Field(max_length=200)]
    resource_id: ResourceId | None = None
    resource_version: ResourceId | None = None
    text: str = Field("", max_length=50_000)

    @model_validator(mode="after")
    def _one_kind(self) -> AttachmentRefIn:
        if (self.resource_id is None) != (self.resource_version is None):
            raise ValueError("resource_id 与 resource_version 须同时给出")
        if self.resource_id is None and not self.text.strip():
            raise ValueError("附件须引用资源库的资源（resource_id/resource_version）或给出文字内容")
        return self


def _distinct_anchors(paragraphs: list[ParagraphIn]) -> list[ParagraphIn]:
    anchors = [p.anchor for p in paragraphs]
    if len(set(anchors)) != len(anchors):
        raise ValueError("段落编号（anchor）不能重复")
    return paragraphs


class ConsultationIn(BaseModel):
    title: Annotated[PlainText, Field(max_length=200)]
    summary: str = Field("", max_length=2000, description="征集说明")
    paragraphs: list[ParagraphIn] = Field(min_length=1, max_length=500)
    attachments: list[AttachmentRefIn] = Field(default_factory=list, max_length=20)
    starts_at: WireDateTime
    ends_at: WireDateTime

    @field_validator("paragraphs")
    @classmethod
    def _anchors(cls, paragraphs: list[ParagraphIn]) -> list[ParagraphIn]:
        return _distinct_anchors(paragraphs)

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and ends_at <= starts_at:
            raise ValueError("ends_at 须晚于 starts_at")
        return ends_at


class ParagraphOut(BaseModel):
    anchor: str
    text: str
    comments: int = Field(description="已公开的意见条数")


class AttachmentOut(BaseModel):
    title: str
    resource_id: int | None
    resource_version: int | None
    text: str


class FinalPolicyOut(BaseModel):
    resource_id: int
    resource_version: int
    title: str
    url: str = Field(description="资源库中该版本的地址")


class FeedbackItemOut(BaseModel):
    comment_ids: list[int]
    decision: Decision
    reason: str


class FeedbackOut(BaseModel):
    summary: str
    items: list[FeedbackItemOut]
    counts: dict[Decision, int]
    final_policy: FinalPolicyOut
    published_at: WireDateTime


class ConsultationOut(BaseModel):
    id: int
    site: str
    title: str
    summary: str
    status: ConsultationStatus
    accepting: bool = Field(description="此刻是否接受意见")
    starts_at: WireDateTime
    ends_at: WireDateTime
    paragraphs: list[ParagraphOut]
    attachments: list[AttachmentOut]
    published_comments: int
    feedback: FeedbackOut | None


class ConsultationStaffOut(ConsultationOut):
    """What the site's staff see besides: the moderation queue's size and who made it."""

    pending_comments: int
    blocked_comments: int
    created_by: str
    withdrawn_reason: str | None = Field(None, description="撤回原因（仅已撤回的征集）")


class ConsultationSummaryOut(BaseModel):
    id: int
    title: str
    status: ConsultationStatus
    accepting: bool
    starts_at: WireDateTime
    ends_at: WireDateTime


class ConsultationPage(BaseModel):
    items: list[ConsultationSummaryOut]
    next_before: int | None = Field(description="下一页：以此为 before 再取；null 表示没有了")


class CommentIn(BaseModel):
    anchor: Anchor
    body: Annotated[PlainText, Field(max_length=5000)]


class CommentOut(BaseModel):
    """A published comment: redacted, never its author."""

    id: int
    anchor: str
    body: str
    published_at: WireDateTime | None
    redactions: list[RedactionOut]


class CommentPage(BaseModel):
    items: list[CommentOut]
    next_after: int | None = Field(description="下一页：以此为 after 再取；null 表示没有了")


class OwnCommentOut(BaseModel):
    """The author's (and the moderators') view: as written, with its fate."""

    id: int
    consultation_id: int
    anchor: str
    body: str
    status: CommentStatus
    submitted_at: WireDateTime
    review_rules: list[str] = Field(description="机器审查的发现（规则名）")
    moderation_note: str
    public_body: str | None = Field(description="公开文本（已遮蔽个人信息）；未公开时为 null")


class OwnCommentPage(BaseModel):
    items: list[OwnCommentOut]
    next_after: int | None


class ModerationIn(BaseModel):
    action: Literal["approve", "reject"]
    note: str = Field("", max_length=1000, description="驳回时须说明理由", validate_default=True)

    @field_validator("note")
    @classmethod
    def _note_on_reject(cls, note: str, info: ValidationInfo) -> str:
        if info.data.get("action") == "reject" and not note.strip():
            raise ValueError("驳回须说明理由")
        return note


class FeedbackItemIn(BaseModel):
    comment_ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(
        min_length=1, max_length=1000, description="一条或归并的多条意见"
    )
    decision: Decision
    reason: str = Field("", max_length=2000, validate_default=True)

    @field_validator("reason")
    @classmethod
    def _reason(cls, reason: str, info: ValidationInfo) -> str:
        if info.data.get("decision") not in (None, Decision.ADOPTED) and not reason.strip():
            raise ValueError("未采纳或部分采纳须说明理由")
        return reason


class FeedbackIn(BaseModel):
    summary: Annotated[PlainText, Field(max_length=5000)]
    items: list[FeedbackItemIn] = Field(default_factory=list, max_length=5000)
    final_resource_id: ResourceId = Field(description="定稿政策在资源库中的资源编号（须已入库）")
    final_resource_version: ResourceId
