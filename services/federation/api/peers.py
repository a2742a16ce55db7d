"""Peer administration and what peers reported (thin: rules in service/ and access.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.federation.access import require_operator, require_reader
from services.federation.schemas import (
    FeedLinkOut,
    PeerCreate,
    PeerCreatedOut,
    PeerOut,
    PeerPatch,
    PeerSiteChangesOut,
    PeerSitesOut,
    PeersOut,
)
from services.federation.service import peers, registry
from services.federation.state import FederationState
from services.kernel.deps import CtxDep, PageDep, PrincipalDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    problem_responses,
)

router = APIRouter(tags=["互联互通"])
READ = problem_responses(Unauthorized, Forbidden, NotFound)
WRITE = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable)
CodePath = Annotated[str, "peer code"]


def _state(request: Request) -> FederationState:
    state: FederationState = request.app.state.ctx.state_of(FederationState)
    return state


async def _with_link(request: Request, out: PeerOut) -> PeerOut:
    follower = _state(request).followers.get(out.code)
    if follower is not None:
        out.link = FeedLinkOut(
            running=True,
            position=await follower.position(),
            head=follower.head,
            lag_events=follower.behind,
            lag_seconds=round(follower.lag_seconds, 3),
            late=follower.late,
            failures=follower.failed_polls,
            last_error=follower.last_error,
        )
    return out


@router.post(
    "/peers", response_model=PeerCreatedOut, status_code=201, summary="登记互联平台", responses=WRITE
)
async def create_peer(
    body: PeerCreate, request: Request, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> PeerCreatedOut:
    require_operator(principal)
    peer, secret = await peers.create_peer(
        session, ctx.directory.client("identity"), _state(request).sealer, body, principal.sub
    )
    return PeerCreatedOut(**peers.peer_out(peer).model_dump(), local_client_secret=secret)


@router.get("/peers", response_model=PeersOut, summary="互联平台列表（含订阅进度与延迟）", responses=READ)
async def list_peers(request: Request, session: SessionDep, principal: PrincipalDep) -> PeersOut:
    require_reader(principal)
    items = [await _with_link(request, peers.peer_out(p)) for p in await peers.list_peers(session)]
    return PeersOut(items=items, total=len(items))


@router.get(
    "/peers/{code}", response_model=PeerOut, summary="互联平台详情（含订阅进度与延迟）", responses=READ
)
async def get_peer(code: str, request: Request, session: SessionDep, principal: PrincipalDep) -> PeerOut:
    require_reader(principal)
    return await _with_link(request, peers.peer_out(await peers.get_peer(session, code)))


@router.patch(
    "/peers/{code}", response_model=PeerOut, summary="修改互联平台（停用、轮换凭据、订阅）", responses=WRITE
)
async def patch_peer(
    code: str, body: PeerPatch, request: Request, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> PeerOut:
    require_operator(principal)
    peer = await peers.update_peer(
        session, ctx.directory.client("identity"), _state(request).sealer, code, body
    )
    return peers.peer_out(peer)


@router.get(
    "/peers/{code}/sites", response_model=PeerSitesOut, summary="互联平台报送的网站基本信息", responses=READ
)
async def peer_sites(code: str, session: SessionDep, principal: PrincipalDep) -> PeerSitesOut:
    require_reader(principal)
    await peers.get_peer(session, code)
    items = await registry.sites(session, code)
    return PeerSitesOut(items=items, total=len(items))


@router.get(
    "/peers/{code}/site-changes",
    response_model=PeerSiteChangesOut,
    summary="互联平台网站的状态变更（开办、暂停、下线、迁移公告）",
    responses=READ,
)
async def peer_site_changes(
    code: str,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    site: Annotated[str | None, Query(max_length=64, description="只看该站点")] = None,
) -> PeerSiteChangesOut:
    require_reader(principal)
    await peers.get_peer(session, code)
    items, total = await registry.changes(session, code, site, page.offset, page.size)
    return PeerSiteChangesOut(items=items, total=total)
