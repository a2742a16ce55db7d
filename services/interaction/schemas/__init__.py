"""Request and response models of the interaction service: letters, reports, ratings, calendar.

Later domains (consultations, surveys, interviews, subscriptions) have their own module here.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from services.interaction.schemas.calendar import (
    CalendarYearIn as CalendarYearIn,
)
from services.interaction.schemas.calendar import (
    CalendarYearOut as CalendarYearOut,
)
from services.interaction.schemas.calendar import (
    DayOut as DayOut,
)
from services.interaction.schemas.calendar import (
    DeadlineMoveOut as DeadlineMoveOut,
)
from services.interaction.schemas.calendar import (
    NamedDay as NamedDay,
)
from services.interaction.vocab import (
    Complexity,
    DeadlineState,
    LetterAction,
    LetterKind,
    LetterStatus,
    RatingLevel,
    RatingTarget,
    RectificationStatus,
    ReportKind,
    ReportStatus,
)
from services.kernel.clock import WireDateTime
from services.kernel.workdays import DayKind

# Letters are plain text; markup in them is either a mistake or an attack on whoever renders it.
_MARKUP = re.compile(r"<\s*/?\s*[A-Za-z!?]|&#|javascript:", re.IGNORECASE)
# PostgreSQL text refuses NUL outright (a 500 if it got that far); other control characters
# only hide text from the person who reads it.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _plain(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("不能为空")
    if _MARKUP.search(value):
        raise ValueError("只接受纯文本，不接受 HTML 标记或脚本")
    if _CONTROL.search(value):
        raise ValueError("含有不可见的控制字符")
    return value


PlainText = Annotated[str, AfterValidator(_plain)]
Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]


class WithdrawIn(BaseModel):
    """Taking a published consultation, survey or interview off the site (撤回): it stays in the
    database with who, when and why, and leaves the public pages and site search."""

    reason: Annotated[PlainText, Field(min_length=1, max_length=500, description="撤回原因（留档）")]


class ParticipationFiguresOut(BaseModel):
    """A site's year of 征集调查 and 在线访谈 as the annual report (年度工作报表) counts them."""

    site: str
    year: int
    periods: int = Field(description="征集调查期数：当年发布的意见征集与调查")
    opinions: int = Field(description="收到意见数量：通过机器审查的征集意见与调查答卷")
    results_published: int = Field(description="公布调查结果期数：当年发布反馈的征集与结束的调查")
    interviews: int = Field(description="在线访谈期数：当年开播的访谈")
    questions: int = Field(description="网民留言数量：通过机器审查的访谈提问")
    answered_questions: int = Field(description="答复网民提问数量：嘉宾答复过的已发布问题")


# -- mailbox ----------------------------------------------------------------------------


class DeadlineDaysIn(BaseModel):
    ordinary: int = Field(3, ge=1, le=60)
    complex: int = Field(10, ge=1, le=60)


class MailboxIn(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    allow_anonymous: bool = False
    departments: dict[Code, Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=dict, max_length=500, description="承办部门：代码 → 名称"
    )
    refusal_reasons: dict[Code, Annotated[str, Field(min_length=1, max_length=200)]] | None = Field(
        None, max_length=50, description="不予受理的理由；不给则用平台默认（诉讼、信访、重复、职责外）"
    )
    deadlines: dict[LetterKind, DeadlineDaysIn] = Field(default_factory=dict)


class MailboxOut(BaseModel):
    site: str
    name: str
    allow_anonymous: bool
    departments: dict[str, str]
    refusal_reasons: dict[str, str]
    deadlines: dict[LetterKind, DeadlineDaysIn]


# -- letters ----------------------------------------------------------------------------


class AttachmentIn(BaseModel):
    filename: Annotated[str, Field(min_length=1, max_length=255)]
    text: str = Field("", max_length=50_000, description="附件的文字内容（已抽取）")


class LetterIn(BaseModel):
    kind: LetterKind
    recipient: Code = Field(description="leader（领导信箱）或承办部门代码")
    title: Annotated[PlainText, Field(max_length=200)]
    body: Annotated[PlainText, Field(max_length=20_000)]
    attachments: list[AttachmentIn] = Field(default_factory=list, max_length=10)
    marked_names: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=20, description="来信人标注须隐去的姓名"
    )
    anonymous: bool = False
    publish_consent: bool = False


class LetterReceiptOut(BaseModel):
    id: int
    status: LetterStatus
    received_at: WireDateTime
    query_code: str | None = Field(None, description="匿名来信的查询码，只显示这一次")


class LookupIn(BaseModel):
    query_code: Annotated[str, Field(min_length=8, max_length=64)]


class AcceptIn(BaseModel):
    complexity: Complexity = Complexity.ORDINARY


class RefuseIn(BaseModel):
    reason: Code
    note: str = Field("", max_length=1000)


class AssignIn(BaseModel):
    org: Code = Field(description="承办部门代码")
    note: str = Field("", max_length=1000)


class ReplyIn(BaseModel):
    text: Annotated[PlainText, Field(max_length=20_000)]


class RatingIn(BaseModel):
    level: RatingLevel
    query_code: str | None = Field(None, min_length=8, max_length=64, description="匿名来信人凭查询码评价")
    items: list[Annotated[str, Field(min_length=1, max_length=50)]] = Field(
        default_factory=list, max_length=10
    )


class SkippedDayOut(BaseModel):
    date: date
    kind: DayKind
    name: str


class DeadlineOut(BaseModel):
    state: DeadlineState
    days: int
    day_zero: date
    due_on: date | None
    remind_on: date | None
    overdue: bool
    reason: str = Field(description="期限如何得出，或为何无法确定")
    skipped: list[SkippedDayOut] = Field(default_factory=list)
    inspection_due_on: date = Field(description="政府网站检查口径：三个月内须答复")


class EventOut(BaseModel):
    at: WireDateTime
    action: LetterAction
    actor: str
    detail: dict[str, str | int | None]


class AttachmentOut(BaseModel):
    filename: str
    text: str


class LetterOut(BaseModel):
    """A handler's (or the writer's) view: the unredacted letter and its history."""

    id: int
    site: str
    kind: LetterKind
    recipient: str
    status: LetterStatus
    complexity: Complexity
    title: str
    body: str
    attachments: list[AttachmentOut]
    writer_name: str
    anonymous: bool
    publish_consent: bool
    handling_org: str | None
    refusal_reason: str | None
    refusal_note: str
    reply: str
    received_at: WireDateTime
    replied_at: WireDateTime | None
    deadline: DeadlineOut
    rating: RatingLevel | None
    review_rules: list[str] = Field(description="机器审查的发现（规则名）")
    events: list[EventOut]


class RedactionOut(BaseModel):
    field: str
    kind: str
    start: int
    end: int


class PublicLetterOut(BaseModel):
    """The published rendering: personal data redacted, no writer identity."""

    id: int
    site: str
    kind: LetterKind
    title: str
    body: str
    attachments: list[AttachmentOut]
    reply: str
    handling_org: str | None
    received_at: WireDateTime
    replied_at: WireDateTime | None
    published_at: WireDateTime | None
    rating: RatingLevel | None
    redactions: list[RedactionOut]


class PublicLetterPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[PublicLetterOut]


class InboxItemOut(BaseModel):
    id: int
    kind: LetterKind
    status: LetterStatus
    title: str
    handling_org: str | None
    received_at: WireDateTime
    deadline_state: DeadlineState
    due_on: date | None
    overdue: bool


class InboxPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[InboxItemOut]


# -- error reports (找错) -----------------------------------------------------------------


class ErrorReportIn(BaseModel):
    kind: ReportKind
    page_url: Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^(https?://|/)\S*$")]
    description: Annotated[PlainText, Field(max_length=5000)]


class AnswerIn(BaseModel):
    text: Annotated[PlainText, Field(max_length=5000)]


class PublicReportOut(BaseModel):
    id: int
    kind: ReportKind
    page_url: str
    publication_id: int | None
    column_id: int | None
    description: str
    status: ReportStatus
    answer: str
    received_at: WireDateTime
    answered_at: WireDateTime | None
    due_on: date | None
    deadline_state: DeadlineState
    deadline_reason: str = Field(description="期限如何得出（第 0 日、跳过的日子），或为何无法确定")
    overdue: bool
    redactions: list[RedactionOut]


class ReportOut(PublicReportOut):
    """The staff's view: who it was routed to and the description as written."""

    assignee: str | None
    original_description: str


class PublicReportPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[PublicReportOut]


# -- ratings (好差评) ---------------------------------------------------------------------


class PublicRatingIn(BaseModel):
    target: Literal[RatingTarget.SERVICE, RatingTarget.PAGE]
    ref: Annotated[str, Field(min_length=1, max_length=2000, description="服务代码或页面地址")]
    level: RatingLevel
    items: list[str] = Field(default_factory=list, max_length=10)
    comment: str = Field("", max_length=2000)


class RatingOut(BaseModel):
    """A rating as anyone sees it: never who gave it."""

    id: int
    site: str
    target: RatingTarget
    ref: str
    level: RatingLevel
    items: list[str]
    comment: str = Field(description="评价留言（已遮蔽个人信息）")
    at: WireDateTime
    rectification_id: int | None
    redactions: list[RedactionOut]


class RatingPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[RatingOut]


class CallbackIn(BaseModel):
    measures: Annotated[PlainText, Field(max_length=5000, description="整改措施")]
    callback_record: Annotated[PlainText, Field(max_length=5000, description="回访记录（必填）")]


class RectificationOut(BaseModel):
    id: int
    rating_id: int
    site: str
    status: RectificationStatus
    opened_on: date
    deadline_state: DeadlineState
    due_on: date | None
    deadline_reason: str
    overdue: bool
    measures: str
    callback_record: str
    closed_at: WireDateTime | None


class AuditEntryOut(BaseModel):
    id: int
    at: WireDateTime
    actor: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    total: int
    page: int
    size: int
    items: list[AuditEntryOut]
