"""Questionnaires (调查): questions, one answer per person, results only after the close."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, Field, StrictInt, StrictStr, ValidationInfo, field_validator, model_validator

from services.interaction.schemas import PlainText
from services.kernel.clock import WireDateTime

QuestionId = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$")]
Label = Annotated[str, Field(min_length=1, max_length=200)]


class SurveyStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"  # published; answers are taken between starts_at and ends_at
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"  # taken off the site by its staff; kept, with who, when and why


class QuestionKind(StrEnum):
    SINGLE = "single"  # 单选
    MULTIPLE = "multiple"  # 多选
    SCALE = "scale"  # 量表 1..N
    TEXT = "text"  # 填空


class SurveyTopic(StrEnum):
    CREATED = "survey.created"
    OPENED = "survey.opened"
    CLOSED = "survey.closed"
    WITHDRAWN = "survey.withdrawn"


class QuestionIn(BaseModel):
    id: QuestionId
    kind: QuestionKind
    text: Annotated[PlainText, Field(max_length=500)]
    options: list[Label] = Field(default_factory=list, max_length=50, description="单选、多选的选项")
    scale_max: int | None = Field(None, ge=2, le=10, description="量表的最高分（1..N）")
    required: bool = True

    @model_validator(mode="after")
    def _shape(self) -> QuestionIn:
        if self.kind in (QuestionKind.SINGLE, QuestionKind.MULTIPLE):
            if len(self.options) < 2:
                raise ValueError("单选、多选题至少要有两个选项")
            if len(set(self.options)) != len(self.options):
                raise ValueError("选项不能重复")
        elif self.options:
            raise ValueError("量表题和填空题不设选项")
        if (self.kind == QuestionKind.SCALE) != (self.scale_max is not None):
            raise ValueError("scale_max 只用于且必须用于量表题")
        return self


class SurveyIn(BaseModel):
    title: Annotated[PlainText, Field(max_length=200)]
    description: str = Field("", max_length=5000)
    questions: list[QuestionIn] = Field(min_length=1, max_length=100)
    starts_at: WireDateTime
    ends_at: WireDateTime

    @field_validator("questions")
    @classmethod
    def _distinct(cls, questions: list[QuestionIn]) -> list[QuestionIn]:
        ids = [q.id for q in questions]
        if len(set(ids)) != len(ids):
            raise ValueError("题目编号（id）不能重复")
        return questions

    @field_validator("ends_at")
    @classmethod
    def _after_start(cls, ends_at: datetime, info: ValidationInfo) -> datetime:
        starts_at = info.data.get("starts_at")
        if starts_at is not None and ends_at <= starts_at:
            raise ValueError("ends_at 须晚于 starts_at")
        return ends_at


class QuestionOut(BaseModel):
    id: str
    kind: QuestionKind
    text: str
    options: list[str]
    scale_max: int | None
    required: bool


class SurveyOut(BaseModel):
    """A survey as anyone sees it: never how many answered before the close."""

    id: int
    site: str
    title: str
    description: str
    status: SurveyStatus
    accepting: bool = Field(description="此刻是否接受答卷")
    results_available: bool
    starts_at: WireDateTime
    ends_at: WireDateTime
    questions: list[QuestionOut]


class SurveyStaffOut(SurveyOut):
    created_by: str
    withdrawn_reason: str | None = Field(None, description="撤回原因（仅已撤回的调查）")


class SurveySummaryOut(BaseModel):
    id: int
    title: str
    status: SurveyStatus
    accepting: bool
    results_available: bool
    starts_at: WireDateTime
    ends_at: WireDateTime


class SurveyPage(BaseModel):
    items: list[SurveySummaryOut]
    next_before: int | None = Field(description="下一页：以此为 before 再取；null 表示没有了")


AnswerValue = StrictInt | list[StrictInt] | StrictStr


class AnswerIn(BaseModel):
    answers: dict[QuestionId, AnswerValue] = Field(
        max_length=100,
        description="题目编号 → 答案：单选为选项序号（从 0 起），多选为序号列表，量表为 1..N，填空为文字",
    )


class MyAnswerOut(BaseModel):
    survey_id: int
    answers: dict[str, AnswerValue]
    submitted_at: WireDateTime
    updated_at: WireDateTime
    revisions: int = Field(description="提交次数（截止前可修改，只计一份）")


class OptionCountOut(BaseModel):
    value: int = Field(description="选项序号（从 0 起）或量表分值")
    label: str
    count: int
    percent: float = Field(description="占本题作答人数的百分比（多选题合计可超过 100）")


class QuestionResultOut(BaseModel):
    id: str
    kind: QuestionKind
    text: str
    answered: int = Field(description="作答人数")
    options: list[OptionCountOut] = Field(description="图表数据：逐项计数与百分比（填空题为空）")
    mean: float | None = Field(None, description="量表题的平均分")


class ResultsOut(BaseModel):
    survey_id: int
    title: str
    closed_at: WireDateTime
    total_answers: int = Field(description="答卷份数（每人一份）")
    questions: list[QuestionResultOut]


class AnswerRowOut(BaseModel):
    """One answer as exported: no respondent, no time, free text redacted."""

    id: int
    answers: dict[str, AnswerValue]


class AnswerPage(BaseModel):
    items: list[AnswerRowOut]
    next_after: int | None = Field(description="下一页：以此为 after 再取；null 表示没有了")
