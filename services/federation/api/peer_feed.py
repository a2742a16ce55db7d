"""The feed a peer platform reads: federation's own events, within the scopes it was granted."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.federation.access import peer_client_id, peer_topics
from services.federation.models import feed_tables
from services.federation.service.peers import peer_of_client
from services.federation.vocab import ADDRESSED_TOPICS
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import FeedCursorExpired, Forbidden, Unauthorized, problem_responses
from services.kernel.feed import FeedEvent, read_changes
from services.kernel.feed_api import ChangeOut, ChangesPage
from services.kernel.params import MAX_ID

router = APIRouter(tags=["互联互通"])
SKIPPED = "peer.skipped"


def _for(peer: str, event: FeedEvent) -> ChangeOut:
    """Report events are addressed: another peer's report or review is not this peer's to read.
    It gets an empty placeholder in its place, so its cursor still moves past it."""
    if event.topic in ADDRESSED_TOPICS and event.payload.get("to") != peer:
        return ChangeOut(
            cursor=event.cursor, topic=SKIPPED, key="", site_id=None, payload={}, created_at=event.created_at
        )
    return ChangeOut(**event.to_json())


@router.get(
    "/peer/changes",
    response_model=ChangesPage,
    summary="供互联平台读取的变更：公开信息的发布与撤回、网站基本信息（按授权范围）",
    responses=problem_responses(Unauthorized, Forbidden, FeedCursorExpired),
)
async def peer_changes(
    session: SessionDep,
    principal: PrincipalDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="上次读到的游标")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    topics: Annotated[str | None, Query(max_length=500, description="逗号分隔的主题过滤")] = None,
    consumer: Annotated[
        str | None,
        Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$", description="订阅者名称"),
    ] = None,
) -> ChangesPage:
    peer = await peer_of_client(session, peer_client_id(principal))
    allowed = peer_topics(principal, peer)
    wanted = [t for t in (topics or "").split(",") if t]
    chosen = [t for t in wanted if t in allowed] if wanted else allowed
    if not chosen:
        raise Forbidden("所请求的主题不在该互联平台的授权范围内")
    assert peer is not None
    # Acknowledged under the peer's own name, whatever it calls itself, so retention counts it once.
    ack = f"peer:{peer.code}" if consumer else None
    events, head = await read_changes(session, feed_tables, after, limit, chosen, ack)
    next_cursor = events[-1].cursor if events else after
    return ChangesPage(
        items=[_for(peer.code, e) for e in events],
        head=head,
        next_cursor=next_cursor,
        has_more=next_cursor < head,
    )
