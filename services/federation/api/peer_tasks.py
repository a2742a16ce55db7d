"""Re-publication tasks a peer platform pushes to one of our sites (scope `peer:tasks`)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.federation.access import peer_client_id, require_peer_scope
from services.federation.service import peer_tasks
from services.federation.service.peers import peer_of_client
from services.federation.state import FederationState
from services.federation.task_schemas import PeerTaskIn, PeerTaskOut
from services.federation.vocab import PeerScope
from services.kernel.deps import CtxDep, PrincipalDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PeerUnavailable,
    Unauthorized,
    problem_responses,
)

router = APIRouter(tags=["互联互通"])


@router.post(
    "/peer/tasks",
    response_model=PeerTaskOut,
    summary="互联平台推送转载任务：请本平台某站点转载其公开信息（幂等）",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, PeerUnavailable),
)
async def push_task(
    body: PeerTaskIn, request: Request, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> PeerTaskOut:
    peer = require_peer_scope(
        principal, await peer_of_client(session, peer_client_id(principal)), PeerScope.TASKS
    )
    state: FederationState = ctx.state_of(FederationState)
    link = peer_tasks.public_link(peer, state.outbound)
    content = ctx.directory.client(state.settings.federation_content_source)
    return await peer_tasks.submit(link, content, peer.code, body)
