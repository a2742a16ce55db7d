"""The feed's routes on every service: `/changes` for producers, `/dead-letters` for consumers,
and the producer's periodic pruning worker."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.auth import Principal
from services.kernel.clock import WireDateTime
from services.kernel.consumer import FeedConsumer
from services.kernel.context import ServiceContext, Worker
from services.kernel.deps import PrincipalDep, SessionDep, require_scope
from services.kernel.errors import (
    FeedCursorExpired,
    Forbidden,
    NotFound,
    Unauthorized,
    problem_responses,
)
from services.kernel.feed import prune, read_changes
from services.kernel.metrics import FEED_PRUNED
from services.kernel.params import MAX_ID, IdPath
from services.kernel.purge import periodic


class ChangeOut(BaseModel):
    cursor: int
    topic: str
    key: str
    site_id: str | None
    payload: dict[str, Any] = Field(description="事件引用：编号、版本、状态、站点、栏目与变更字段")
    created_at: str = Field(description="ISO 8601，+08:00")


class ChangesPage(BaseModel):
    items: list[ChangeOut]
    head: int
    next_cursor: int
    has_more: bool


def changes_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter(tags=["change feed"])
    tables = ctx.feed
    assert tables is not None

    @router.get(
        "/changes",
        response_model=ChangesPage,
        summary="变更订阅：按游标读取本服务的变更事件",
        responses=problem_responses(Unauthorized, Forbidden, FeedCursorExpired),
        dependencies=[Depends(require_scope("changes:read"))],
    )
    async def changes(
        session: SessionDep,
        after: Annotated[int, Query(ge=0, le=MAX_ID, description="上次读到的游标")] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        topics: Annotated[str | None, Query(max_length=2000, description="逗号分隔的主题过滤")] = None,
        consumer: Annotated[
            str | None,
            Query(
                min_length=1,
                max_length=64,
                pattern=r"^[A-Za-z0-9_.:-]+$",
                description="订阅者名称：记录其已确认的游标，保留期清理以此为准",
            ),
        ] = None,
    ) -> ChangesPage:
        topic_list = [t for t in (topics or "").split(",") if t] or None
        events, head = await read_changes(session, tables, after, limit, topic_list, consumer)
        next_cursor = events[-1].cursor if events else after
        return ChangesPage(
            items=[ChangeOut(**e.to_json()) for e in events],
            head=head,
            next_cursor=next_cursor,
            has_more=next_cursor < head,
        )

    return router


def feed_pruner(ctx: ServiceContext) -> Worker:
    """The periodic pruning of this service's outbox (see services.kernel.feed)."""
    tables = ctx.feed
    assert tables is not None
    retention = timedelta(days=ctx.settings.feed_retention_days)

    async def job(session: AsyncSession) -> int:
        removed = await prune(session, tables, retention)
        FEED_PRUNED.labels(service=ctx.name).inc(removed)
        return removed

    return periodic(ctx.db, f"{ctx.name}-feed", ctx.settings.feed_prune_seconds, job)


class DeadLetterOut(BaseModel):
    id: int
    consumer: str
    event_cursor: int
    topic: str
    key: str
    site_id: str | None
    payload: dict[str, Any]
    event_created_at: str
    attempts: int
    last_error: str
    dead_at: WireDateTime


class DeadLettersOut(BaseModel):
    items: list[DeadLetterOut]
    total: int


class DeadLetterRetryOut(BaseModel):
    id: int
    applied: bool = Field(description="true：已重新处理并移出死信；false：再次失败，仍在死信中")
    attempts: int | None = None
    last_error: str | None = None


def _platform_admin(principal: Principal) -> None:
    if not principal.has_role("platform_admin"):
        raise Forbidden("死信仅平台管理员可查看与重试")


def dead_letters_router(ctx: ServiceContext) -> APIRouter:
    router = APIRouter(tags=["change feed"])
    consumers: dict[str, FeedConsumer] = {c.name: c for c in ctx.consumers}
    errors = problem_responses(Unauthorized, Forbidden, NotFound)

    async def find(letter_id: int) -> FeedConsumer:
        for consumer in consumers.values():
            dl = consumer.tables.dead_letters
            async with ctx.db.session() as session:
                found = (await session.execute(select(dl.c.consumer).where(dl.c.id == letter_id))).scalar()
            if found in consumers:
                return consumers[found]
        raise NotFound(f"死信 {letter_id} 不存在")

    @router.get(
        "/dead-letters",
        response_model=DeadLettersOut,
        summary="变更订阅的死信：多次处理失败、已被移出队列的事件",
        responses=errors,
    )
    async def list_dead_letters(
        session: SessionDep,
        principal: PrincipalDep,
        consumer: Annotated[str | None, Query(max_length=64, description="订阅者名称")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> DeadLettersOut:
        _platform_admin(principal)
        items: list[DeadLetterOut] = []
        total = 0
        for name, c in consumers.items():
            if consumer is not None and name != consumer:
                continue
            dl = c.tables.dead_letters
            count = (
                await session.execute(select(func.count()).select_from(dl).where(dl.c.consumer == name))
            ).scalar_one()
            total += count
            rows = (
                await session.execute(select(dl).where(dl.c.consumer == name).order_by(dl.c.id).limit(limit))
            ).mappings()
            items.extend(DeadLetterOut.model_validate(dict(r)) for r in rows)
        return DeadLettersOut(items=items[:limit], total=total)

    @router.post(
        "/dead-letters/{letter_id}/retry",
        response_model=DeadLetterRetryOut,
        summary="重试一条死信：成功则移出死信",
        responses=errors,
    )
    async def retry_dead_letter(letter_id: IdPath, principal: PrincipalDep) -> DeadLetterRetryOut:
        _platform_admin(principal)
        consumer = await find(letter_id)
        if await consumer.retry_dead_letter(letter_id):
            return DeadLetterRetryOut(id=letter_id, applied=True)
        dl = consumer.tables.dead_letters
        async with ctx.db.session() as session:
            row = (await session.execute(select(dl).where(dl.c.id == letter_id))).mappings().one()
        return DeadLetterRetryOut(
            id=letter_id, applied=False, attempts=row["attempts"], last_error=row["last_error"]
        )

    return router
