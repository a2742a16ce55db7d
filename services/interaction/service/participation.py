"""A site's year of 征集调查 and 在线访谈 in the national annual report's terms, counted from this
service's own tables (oversight asks for it when it builds the report):

- periods (征集调查期数): consultations and surveys opened in the year;
- opinions received (收到意见数量): consultation comments submitted in the year that machine
  review let through, plus survey answer sheets first submitted in the year;
- results published (公布调查结果期数): consultations whose feedback report was published in the
  year, plus surveys whose end (when results become public) passed in the year;
- interviews (在线访谈期数): interviews that went live in the year;
- citizens' questions (网民留言数量): questions asked in the year that machine review let through;
- questions answered (答复网民提问数量): distinct approved questions a guest answered in the year.
Withdrawn consultations, surveys and interviews do not count: they are no longer public.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import (
    Consultation,
    ConsultationComment,
    Interview,
    InterviewEntry,
    InterviewQuestion,
    Survey,
    SurveyAnswer,
)
from services.interaction.schemas import ParticipationFiguresOut
from services.interaction.schemas.consultations import CommentStatus, ConsultationStatus
from services.interaction.schemas.interviews import EntryKind, InterviewStatus, QuestionStatus
from services.interaction.schemas.surveys import SurveyStatus
from services.kernel import clock
from services.kernel.clock import epoch


def _year(year: int) -> tuple[float, float]:
    first = datetime(year, 1, 1, tzinfo=clock.SHANGHAI).timestamp()
    return first, datetime(year + 1, 1, 1, tzinfo=clock.SHANGHAI).timestamp()


async def _count(session: AsyncSession, stmt: Select[Any]) -> int:
    return int((await session.execute(stmt)).scalar_one())


async def figures(session: AsyncSession, site: str, year: int) -> ParticipationFiguresOut:
    first, last = _year(year)
    now = epoch()

    def within(column: Any) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
        return col(column) >= first, col(column) < last

    consultations = await _count(
        session,
        select(func.count()).where(
            col(Consultation.site) == site,
            col(Consultation.status) != ConsultationStatus.WITHDRAWN,
            *within(Consultation.opened_at),
        ),
    )
    surveys = await _count(
        session,
        select(func.count()).where(
            col(Survey.site) == site, col(Survey.status) != SurveyStatus.WITHDRAWN, *within(Survey.opened_at)
        ),
    )
    comments = await _count(
        session,
        select(func.count())
        .select_from(ConsultationComment)
        .join(Consultation, col(Consultation.id) == col(ConsultationComment.consultation_id))
        .where(
            col(ConsultationComment.site) == site,
            col(ConsultationComment.status) != CommentStatus.BLOCKED,
            col(Consultation.status) != ConsultationStatus.WITHDRAWN,
            *within(ConsultationComment.submitted_at),
        ),
    )
    answers = await _count(
        session,
        select(func.count())
        .select_from(SurveyAnswer)
        .join(Survey, col(Survey.id) == col(SurveyAnswer.survey_id))
        .where(
            col(Survey.site) == site,
            col(Survey.status) != SurveyStatus.WITHDRAWN,
            *within(SurveyAnswer.submitted_at),
        ),
    )
    feedbacks = await _count(
        session,
        select(func.count()).where(
            col(Consultation.site) == site,
            col(Consultation.status) == ConsultationStatus.FEEDBACK_PUBLISHED,
            *within(Consultation.feedback_published_at),
        ),
    )
    results = await _count(
        session,
        select(func.count()).where(
            col(Survey.site) == site,
            col(Survey.status).in_((SurveyStatus.OPEN, SurveyStatus.CLOSED)),
            col(Survey.opened_at).is_not(None),
            col(Survey.ends_at) <= now,
            *within(Survey.ends_at),
        ),
    )
    interviews = await _count(
        session,
        select(func.count()).where(
            col(Interview.site) == site,
            col(Interview.status) != InterviewStatus.WITHDRAWN,
            *within(Interview.started_at),
        ),
    )
    questions = await _count(
        session,
        select(func.count())
        .select_from(InterviewQuestion)
        .join(Interview, col(Interview.id) == col(InterviewQuestion.interview_id))
        .where(
            col(InterviewQuestion.site) == site,
            col(InterviewQuestion.status) != QuestionStatus.SCREENED_OUT,
            col(Interview.status) != InterviewStatus.WITHDRAWN,
            *within(InterviewQuestion.submitted_at),
        ),
    )
    answered = await _count(
        session,
        select(func.count(distinct(col(InterviewEntry.question_id))))
        .select_from(InterviewEntry)
        .join(Interview, col(Interview.id) == col(InterviewEntry.interview_id))
        .where(
            col(Interview.site) == site,
            col(Interview.status) != InterviewStatus.WITHDRAWN,
            col(InterviewEntry.kind) == EntryKind.ANSWER,
            col(InterviewEntry.question_id).is_not(None),
            *within(InterviewEntry.at),
        ),
    )
    return ParticipationFiguresOut(
        site=site,
        year=year,
        periods=consultations + surveys,
        opinions=comments + answers,
        results_published=feedbacks + results,
        interviews=interviews,
        questions=questions,
        answered_questions=answered,
    )
