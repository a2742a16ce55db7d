"""A questionnaire's life: draft → open (answers between its start and end) → closed, and then
its results — for nobody before, platform administrators included, so nobody reacts mid-poll.

One answer per person: the row is keyed by a one-way key of (survey, person) under a unique
constraint and written with an upsert, so a second answer replaces the first however close
together they come (never a check-then-insert race). The count behind every figure — the public
results, the chart and the export — is the one `tally`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Survey, SurveyAnswer, feed_tables
from services.interaction.schemas.surveys import (
    AnswerIn,
    AnswerValue,
    OptionCountOut,
    QuestionKind,
    QuestionResultOut,
    ResultsOut,
    SurveyIn,
    SurveyStatus,
    SurveyTopic,
)
from services.interaction.service.listing import survey_listing
from services.interaction.service.redaction import redact
from services.kernel.access import can_read
from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.kernel.feed import emit

MAX_TEXT = 2000


async def announce(session: AsyncSession, topic: SurveyTopic, s: Survey) -> None:
    """State changes only: an answer is not announced (a feed of answers would be a live count).
    A public survey's own face (`listing`) rides along for site search."""
    listing = survey_listing(s)
    payload: dict[str, Any] = {"survey_id": s.id, "status": s.status}
    if listing is not None:
        payload["listing"] = listing
    await emit(session, feed_tables, topic, s.id or 0, payload, site_id=s.site)


NOT_PUBLIC = (SurveyStatus.DRAFT, SurveyStatus.WITHDRAWN)


def accepting(s: Survey) -> bool:
    return s.status == SurveyStatus.OPEN and s.starts_at <= epoch() < s.ends_at


def closed(s: Survey) -> bool:
    return s.status == SurveyStatus.CLOSED or (s.status == SurveyStatus.OPEN and epoch() >= s.ends_at)


async def settle(session: AsyncSession, s: Survey) -> Survey:
    if s.status == SurveyStatus.OPEN and epoch() >= s.ends_at:
        s.status = SurveyStatus.CLOSED
        s.closed_at = s.ends_at
        await announce(session, SurveyTopic.CLOSED, s)
    return s


def _fill(s: Survey, body: SurveyIn) -> None:
    s.title = body.title
    s.description = body.description
    s.questions = [q.model_dump() for q in body.questions]
    s.starts_at = body.starts_at.timestamp()
    s.ends_at = body.ends_at.timestamp()


async def close_due(session: AsyncSession) -> int:
    """Settle every open one whose end has passed, so `*.closed` is announced even if nobody looks."""
    due = await session.execute(
        select(Survey)
        .where(col(Survey.status) == SurveyStatus.OPEN, col(Survey.ends_at) <= epoch())
        .limit(500)
    )
    rows = list(due.scalars())
    for row in rows:
        await settle(session, row)
    return len(rows)


async def create(session: AsyncSession, site: str, body: SurveyIn, actor: str) -> Survey:
    s = Survey(
        site=site,
        title=body.title,
        description=body.description,
        questions=[q.model_dump() for q in body.questions],
        status=SurveyStatus.DRAFT,
        starts_at=body.starts_at.timestamp(),
        ends_at=body.ends_at.timestamp(),
        created_by=actor,
        created_at=epoch(),
    )
    session.add(s)
    await session.flush()
    await announce(session, SurveyTopic.CREATED, s)
    return s


async def update(s: Survey, body: SurveyIn) -> None:
    if s.status != SurveyStatus.DRAFT:
        raise Conflict("调查已发布，题目和期限不能再改（已有的答卷会失去意义）")
    _fill(s, body)


async def open_(session: AsyncSession, s: Survey) -> None:
    if s.status != SurveyStatus.DRAFT:
        raise Conflict(f"调查当前状态为 {s.status}，只有草稿可以发布")
    if s.ends_at <= epoch():
        raise Conflict("截止时间已过，请先修改期限")
    s.status = SurveyStatus.OPEN
    s.opened_at = epoch()
    await announce(session, SurveyTopic.OPENED, s)


async def close(session: AsyncSession, s: Survey) -> None:
    await settle(session, s)
    if s.status != SurveyStatus.OPEN:
        raise Conflict(f"调查当前状态为 {s.status}，不能结束")
    s.ends_at = min(s.ends_at, epoch())
    await settle(session, s)


async def withdraw(session: AsyncSession, s: Survey, actor: str, reason: str) -> None:
    """Off the public pages (results included) and out of site search; answers are kept."""
    if s.status == SurveyStatus.DRAFT:
        raise Conflict("草稿尚未发布，无需撤回")
    if s.status == SurveyStatus.WITHDRAWN:
        raise Conflict("调查已撤回")
    s.status = SurveyStatus.WITHDRAWN
    s.withdrawn_at, s.withdrawn_by, s.withdrawn_reason = epoch(), actor, reason
    await announce(session, SurveyTopic.WITHDRAWN, s)


async def staff_survey(session: AsyncSession, sid: int, principal: Principal | None) -> Survey:
    s = await session.get(Survey, sid)
    if s is None or not can_read(principal, s.site):
        raise NotFound(f"调查 {sid} 不存在")
    return await settle(session, s)


async def public_survey(session: AsyncSession, sid: int, site: str) -> Survey:
    s = await session.get(Survey, sid)
    if s is None or s.site != site or s.status in NOT_PUBLIC:
        raise NotFound(f"调查 {sid} 不存在")
    return await settle(session, s)


def require_closed(s: Survey) -> None:
    """Before the close there are no results for anyone (an existing public survey: 403)."""
    if not closed(s):
        raise Forbidden("调查结果在调查结束后公布", extra={"ends_at": s.ends_at})


def respondent_key(survey_id: int, sub: str) -> str:
    return hashlib.sha256(f"survey\x1f{survey_id}\x1f{sub}".encode()).hexdigest()


def check_answers(s: Survey, body: AnswerIn, names: list[str]) -> dict[str, AnswerValue]:
    """Valid answers, free text stored already redacted (the respondent's own name included):
    an answer row holds nothing that names a person."""
    questions = {q["id"]: q for q in s.questions}
    unknown = sorted(set(body.answers) - set(questions))
    if unknown:
        raise ValidationFailed.field(f"answers.{unknown[0]}", "调查中没有这道题")
    out: dict[str, AnswerValue] = {}
    for qid, q in questions.items():
        field = f"answers.{qid}"
        value = body.answers.get(qid)
        if value is None or value == "" or value == []:
            if q["required"]:
                raise ValidationFailed.field(field, "此题必答")
            continue
        kind = QuestionKind(q["kind"])
        if kind == QuestionKind.SINGLE:
            if not isinstance(value, int) or not 0 <= value < len(q["options"]):
                raise ValidationFailed.field(field, f"单选题须给出 0..{len(q['options']) - 1} 的选项序号")
        elif kind == QuestionKind.MULTIPLE:
            if not isinstance(value, list) or not all(0 <= v < len(q["options"]) for v in value):
                raise ValidationFailed.field(field, f"多选题须给出 0..{len(q['options']) - 1} 的选项序号列表")
            value = sorted(set(value))
        elif kind == QuestionKind.SCALE:
            if not isinstance(value, int) or not 1 <= value <= q["scale_max"]:
                raise ValidationFailed.field(field, f"量表题须给出 1..{q['scale_max']} 的分值")
        else:
            if not isinstance(value, str) or len(value) > MAX_TEXT:
                raise ValidationFailed.field(field, f"填空题须为不超过 {MAX_TEXT} 字的文字")
            value = redact(qid, value.strip(), names)[0]
        out[qid] = value
    return out


async def answer(session: AsyncSession, s: Survey, body: AnswerIn, principal: Principal) -> SurveyAnswer:
    if not accepting(s):
        raise Conflict("调查不在答卷期内", extra={"status": s.status})
    values = check_answers(s, body, [principal.name] if principal.name else [])
    key = respondent_key(s.id or 0, principal.sub)
    now = epoch()
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(SurveyAnswer.__table__).values(  # type: ignore[attr-defined]
        survey_id=s.id, respondent_key=key, answers=values, submitted_at=now, updated_at=now, revisions=1
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["survey_id", "respondent_key"],
        set_={
            "answers": stmt.excluded.answers,
            "updated_at": stmt.excluded.updated_at,
            "revisions": SurveyAnswer.__table__.c.revisions + 1,  # type: ignore[attr-defined]
        },
    )
    await session.execute(stmt)
    return await my_answer(session, s, principal)


async def my_answer(session: AsyncSession, s: Survey, principal: Principal) -> SurveyAnswer:
    row = (
        await session.execute(
            select(SurveyAnswer)
            .where(
                col(SurveyAnswer.survey_id) == s.id,
                col(SurveyAnswer.respondent_key) == respondent_key(s.id or 0, principal.sub),
            )
            .execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("尚未作答")
    return row


async def tally(session: AsyncSession, s: Survey) -> ResultsOut:
    """The one count of a closed survey's answers."""
    require_closed(s)
    counts: dict[str, dict[int, int]] = {q["id"]: {} for q in s.questions}
    answered = dict.fromkeys(counts, 0)
    sums = dict.fromkeys(counts, 0)
    total = 0
    rows = await session.stream_scalars(
        select(col(SurveyAnswer.answers))
        .where(col(SurveyAnswer.survey_id) == s.id)
        .execution_options(yield_per=2000)
    )
    async for values in rows:
        total += 1
        for qid, value in values.items():
            if qid not in counts:
                continue
            answered[qid] += 1
            for v in value if isinstance(value, list) else [value]:
                if isinstance(v, int):
                    counts[qid][v] = counts[qid].get(v, 0) + 1
                    sums[qid] += v
    questions = []
    for q in s.questions:
        kind = QuestionKind(q["kind"])
        qid, n = q["id"], answered[q["id"]]
        if kind == QuestionKind.SCALE:
            labels = [(v, str(v)) for v in range(1, q["scale_max"] + 1)]
        elif kind == QuestionKind.TEXT:
            labels = []
        else:
            labels = list(enumerate(q["options"]))
        options = [
            OptionCountOut(
                value=v,
                label=label,
                count=counts[qid].get(v, 0),
                percent=round(100 * counts[qid].get(v, 0) / n, 1) if n else 0.0,
            )
            for v, label in labels
        ]
        mean = round(sums[qid] / n, 2) if kind == QuestionKind.SCALE and n else None
        questions.append(
            QuestionResultOut(id=qid, kind=kind, text=q["text"], answered=n, options=options, mean=mean)
        )
    return ResultsOut(
        survey_id=s.id or 0,
        title=s.title,
        closed_at=s.closed_at or s.ends_at,
        total_answers=total,
        questions=questions,
    )


def anonymised(s: Survey, values: dict[str, Any]) -> dict[str, AnswerValue]:
    """An answer fit for export: free text redacted of personal data (phones, ID numbers…)."""
    kinds = {q["id"]: q["kind"] for q in s.questions}
    out: dict[str, AnswerValue] = {}
    for qid, value in values.items():
        if kinds.get(qid) == QuestionKind.TEXT and isinstance(value, str):
            value = redact(qid, value, [])[0]
        out[qid] = value
    return out


async def answers_page(
    session: AsyncSession, s: Survey, after: int, size: int
) -> tuple[list[tuple[int, dict[str, AnswerValue]]], int | None]:
    """Keyset page on (survey, id): no OFFSET, no count."""
    require_closed(s)
    rows = (
        await session.execute(
            select(col(SurveyAnswer.id), col(SurveyAnswer.answers))
            .where(col(SurveyAnswer.survey_id) == s.id, col(SurveyAnswer.id) > after)
            .order_by(col(SurveyAnswer.id))
            .limit(size + 1)
        )
    ).all()
    more = len(rows) > size
    page = [(int(rid), anonymised(s, values)) for rid, values in rows[:size]]
    return page, (page[-1][0] if more and page else None)


async def surveys_page(
    session: AsyncSession,
    site: str,
    before: int | None,
    size: int,
    q: str | None,
    status: SurveyStatus | None,
    include_drafts: bool,
) -> tuple[list[Survey], int | None]:
    stmt = select(Survey).where(col(Survey.site) == site)
    if not include_drafts:
        stmt = stmt.where(col(Survey.status).not_in(NOT_PUBLIC))
    if status == SurveyStatus.OPEN:
        stmt = stmt.where(col(Survey.status) == status, col(Survey.ends_at) > epoch())
    elif status == SurveyStatus.CLOSED:
        stmt = stmt.where(
            or_(
                col(Survey.status) == status,
                and_(col(Survey.status) == SurveyStatus.OPEN, col(Survey.ends_at) <= epoch()),
            )
        )
    elif status is not None:
        stmt = stmt.where(col(Survey.status) == status)
    if before is not None:
        stmt = stmt.where(col(Survey.id) < before)
    if q:
        stmt = stmt.where(col(Survey.title).contains(q, autoescape=True))
    rows = list((await session.execute(stmt.order_by(col(Survey.id).desc()).limit(size + 1))).scalars())
    more = len(rows) > size
    rows = [await settle(session, s) for s in rows[:size]]
    return rows, (rows[-1].id if more and rows else None)
