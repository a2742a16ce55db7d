"""好差评: five levels, the evaluation items, and the rectification a 差评 opens.

No route alters or deletes a rating; the rater is kept only as a one-way key so one person
rates a target once, and no view — handlers' included — can say who it was.
"""

from __future__ import annotations

import hashlib

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Rating, Rectification, feed_tables
from services.interaction.schemas import CallbackIn, RatingOut, RectificationOut, RedactionOut
from services.interaction.service.access import can_handle
from services.interaction.service.redaction import redact
from services.interaction.vocab import (
    BAD_ITEMS,
    BAD_LEVELS,
    GOOD_ITEMS,
    RECTIFICATION_DAYS,
    DeadlineState,
    RatingLevel,
    RatingTarget,
    RectificationStatus,
    Topic,
)
from services.kernel.auth import Principal
from services.kernel.clock import epoch, today
from services.kernel.errors import Conflict, NotFound, ValidationFailed
from services.kernel.feed import emit
from services.kernel.pagination import PageParams, paginate
from services.kernel.workdays import WorkCalendar


def rater_key(target: RatingTarget, ref: str, who: str) -> str:
    return hashlib.sha256(f"{target}\x1f{ref}\x1f{who}".encode()).hexdigest()


def schedule_rectification(task: Rectification, calendar: WorkCalendar) -> None:
    result = calendar.add_working_days(task.opened_on, RECTIFICATION_DAYS)
    task.due_on = result.due
    task.deadline_state = DeadlineState.SCHEDULED if result.known else DeadlineState.DEADLINE_UNKNOWN
    task.deadline_reason = (result.explain() if result.known else result.reason)[:500]


def check_items(level: RatingLevel, items: list[str]) -> None:
    allowed = BAD_ITEMS if level in BAD_LEVELS else GOOD_ITEMS
    wrong = [i for i in items if i not in allowed]
    if wrong:
        raise ValidationFailed.field(
            "items", f"{'、'.join(wrong)} 不是“{level}”可选的评价项；可选：{'、'.join(allowed)}"
        )
    if level in BAD_LEVELS and not items:
        raise ValidationFailed.field("items", "差评须至少选择一项原因")


async def rate(
    session: AsyncSession,
    site: str,
    target: RatingTarget,
    ref: str,
    level: RatingLevel,
    items: list[str],
    comment: str,
    key: str,
    calendar: WorkCalendar,
) -> tuple[Rating, Rectification | None]:
    check_items(level, items)
    rating = Rating(
        site=site,
        target_kind=target,
        target_ref=ref,
        level=level,
        items=items,
        comment=comment,
        rater_key=key,
        at=epoch(),
    )
    try:
        async with session.begin_nested():
            session.add(rating)
            await session.flush()
    except IntegrityError:
        raise Conflict("已经评价过，评价不能修改或撤回") from None
    task = None
    if level in BAD_LEVELS:
        assert rating.id is not None
        task = Rectification(
            rating_id=rating.id,
            site=site,
            status=RectificationStatus.OPEN,
            opened_on=today(),
            deadline_state=DeadlineState.SCHEDULED,
        )
        schedule_rectification(task, calendar)
        session.add(task)
        await session.flush()
    await emit(
        session,
        feed_tables,
        Topic.RATING_RECEIVED,
        f"rating:{rating.id}",
        {"id": rating.id, "target": target, "level": level, "rectification": task.id if task else None},
        site_id=site,
    )
    return rating, task


async def close_rectification(
    session: AsyncSession, task_id: int, body: CallbackIn, principal: Principal
) -> Rectification:
    task = await get_rectification(session, task_id, principal)
    if task.status == RectificationStatus.CLOSED:
        raise Conflict("整改任务已办结")
    task.measures = body.measures
    task.callback_record = body.callback_record
    task.callback_at = epoch()
    task.status = RectificationStatus.CLOSED
    task.deadline_state = DeadlineState.MET
    task.closed_by = principal.sub
    task.closed_at = epoch()
    return task


async def get_rectification(session: AsyncSession, task_id: int, principal: Principal) -> Rectification:
    task = await session.get(Rectification, task_id)
    if task is None or not can_handle(principal, task.site):
        raise NotFound(f"整改任务 {task_id} 不存在")
    return task


async def ratings_page(
    session: AsyncSession, site: str, params: PageParams, target: RatingTarget | None, ref: str | None
) -> tuple[list[tuple[Rating, int | None]], int]:
    stmt = select(Rating).where(col(Rating.site) == site)
    if target is not None:
        stmt = stmt.where(col(Rating.target_kind) == target)
    if ref is not None:
        stmt = stmt.where(col(Rating.target_ref) == ref)
    rows, total = await paginate(session, stmt.order_by(col(Rating.id).desc()), params)
    ids = [r.id for r in rows]
    tasks = (
        await session.execute(select(Rectification).where(col(Rectification.rating_id).in_(ids)))
    ).scalars()
    by_rating = {t.rating_id: t.id for t in tasks}
    return [(r, by_rating.get(r.id or 0)) for r in rows], total


def rating_out(rating: Rating, task_id: int | None) -> RatingOut:
    assert rating.id is not None
    comment, found = redact("comment", rating.comment, [])
    return RatingOut(
        id=rating.id,
        site=rating.site,
        target=RatingTarget(rating.target_kind),
        ref=rating.target_ref,
        level=RatingLevel(rating.level),
        items=rating.items,
        comment=comment,
        at=rating.at,
        rectification_id=task_id,
        redactions=[RedactionOut(**r.__dict__) for r in found],
    )


def rectification_out(task: Rectification) -> RectificationOut:
    assert task.id is not None
    return RectificationOut(
        id=task.id,
        rating_id=task.rating_id,
        site=task.site,
        status=RectificationStatus(task.status),
        opened_on=task.opened_on,
        deadline_state=DeadlineState(task.deadline_state),
        due_on=task.due_on,
        deadline_reason=task.deadline_reason,
        overdue=task.overdue_at is not None
        or (task.status == RectificationStatus.OPEN and task.due_on is not None and today() > task.due_on),
        measures=task.measures,
        callback_record=task.callback_record,
        closed_at=task.closed_at,
    )


async def overdue_rectifications(session: AsyncSession) -> list[int]:
    """Alert once per rectification past its 15 working days (the sweep's share for 好差评)."""
    stmt = select(Rectification).where(
        col(Rectification.status) == RectificationStatus.OPEN,
        col(Rectification.deadline_state) == DeadlineState.SCHEDULED,
        col(Rectification.overdue_at).is_(None),
        col(Rectification.due_on) < today(),
    )
    fired = []
    for task in (await session.execute(stmt)).scalars().all():
        marked = await session.execute(
            update(Rectification)
            .where(col(Rectification.id) == task.id, col(Rectification.overdue_at).is_(None))
            .values(overdue_at=epoch())
        )
        if getattr(marked, "rowcount", 0):
            await emit(
                session,
                feed_tables,
                Topic.RECTIFICATION_OVERDUE,
                f"rectification:{task.id}",
                {
                    "id": task.id,
                    "rating_id": task.rating_id,
                    "due_on": task.due_on and task.due_on.isoformat(),
                },
                site_id=task.site,
            )
            fired.append(task.id or 0)
    return fired
