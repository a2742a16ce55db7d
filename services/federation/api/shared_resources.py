"""Resource sharing between platforms (thin: rules in service/shared_resources.py, placements.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from services.federation.access import peer_client_id, require_peer_scope, require_reader
from services.federation.service import placements, shared_resources
from services.federation.service.peers import peer_of_client
from services.federation.shared_schemas import (
    PeerResourceOut,
    PeerResourcesOut,
    PeerResourceVersionOut,
    PeerUsageOut,
    PeerUsagesOut,
    PlacementIn,
    PlacementOut,
    PlacementsOut,
    SharedResourceOut,
    SharedResourcesOut,
    ShareIn,
    UsageIn,
)
from services.federation.state import FederationState
from services.federation.vocab import PeerScope
from services.kernel.deps import CtxDep, PrincipalDep, SessionDep
from services.kernel.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PeerUnavailable,
    ServiceUnavailable,
    Unauthorized,
    problem_responses,
)
from services.kernel.params import IdPath

router = APIRouter(tags=["互联互通"])
READ = problem_responses(Unauthorized, Forbidden, NotFound)
WRITE = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable)
PEER = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, PeerUnavailable)
SiteQuery = Annotated[
    str, Query(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="站点代码")
]


def _state(request: Request) -> FederationState:
    state: FederationState = request.app.state.ctx.state_of(FederationState)
    return state


# --- the source: what we offer -------------------------------------------------------------


@router.post(
    "/shared-resources",
    response_model=SharedResourceOut,
    status_code=201,
    summary="将已入库资源共享给互联平台（统一元数据）",
    responses=WRITE,
)
async def offer(
    body: ShareIn, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> SharedResourceOut:
    row = await shared_resources.offer(session, ctx.directory.client("resources"), principal, body)
    return (await shared_resources.shared_out(session, [row]))[0]


@router.get(
    "/shared-resources", response_model=SharedResourcesOut, summary="共享给互联平台的资源", responses=READ
)
async def list_offered(session: SessionDep, principal: PrincipalDep) -> SharedResourcesOut:
    require_reader(principal)
    items = await shared_resources.shared_out(
        session, await shared_resources.offered_list(session, include_revoked=True)
    )
    return SharedResourcesOut(items=items, total=len(items))


@router.post(
    "/shared-resources/{resource_id}/revoke",
    response_model=SharedResourceOut,
    summary="停止向互联平台共享该资源（已登记的使用保留）",
    responses=WRITE,
)
async def revoke(resource_id: IdPath, session: SessionDep, principal: PrincipalDep) -> SharedResourceOut:
    row = await shared_resources.revoke(session, principal, resource_id)
    return (await shared_resources.shared_out(session, [row]))[0]


@router.get(
    "/shared-resources/{resource_id}/usages",
    response_model=PeerUsagesOut,
    summary="互联平台登记的使用：哪个平台的哪个站点、哪条发布固定了哪一版",
    responses=READ,
)
async def usages(resource_id: IdPath, session: SessionDep, principal: PrincipalDep) -> PeerUsagesOut:
    items = await shared_resources.usages(session, principal, resource_id)
    return PeerUsagesOut(items=items, total=len(items))


# --- the source: what a peer reads and registers (peer:resources) --------------------------


async def _peer(session: SessionDep, principal: PrincipalDep) -> str:
    peer = await peer_of_client(session, peer_client_id(principal))
    return require_peer_scope(principal, peer, PeerScope.RESOURCES).code


@router.get(
    "/peer/resources", response_model=PeerResourcesOut, summary="供互联平台读取的共享资源", responses=READ
)
async def peer_list(ctx: CtxDep, session: SessionDep, principal: PrincipalDep) -> PeerResourcesOut:
    await _peer(session, principal)
    items = await shared_resources.list_for_peer(session, ctx.directory.client("resources"))
    return PeerResourcesOut(items=items, total=len(items))


@router.get(
    "/peer/resources/{resource_id}",
    response_model=PeerResourceOut,
    summary="供互联平台读取一项共享资源的统一元数据与已入库版本",
    responses=READ,
)
async def peer_read(
    resource_id: IdPath, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> PeerResourceOut:
    await _peer(session, principal)
    return await shared_resources.for_peer(session, ctx.directory.client("resources"), resource_id)


@router.get(
    "/peer/resources/{resource_id}/versions/{number}",
    response_model=PeerResourceVersionOut,
    summary="供互联平台读取共享资源某一已入库版本的正文与附件",
    responses=READ,
)
async def peer_version(
    resource_id: IdPath, number: IdPath, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> PeerResourceVersionOut:
    await _peer(session, principal)
    return await shared_resources.version_for_peer(
        session, ctx.directory.client("resources"), resource_id, number, ctx.settings.public_url
    )


@router.get(
    "/peer/resources/{resource_id}/versions/{number}/attachments/{sha256}",
    summary="供互联平台读取共享资源某一已入库版本的附件字节（对方据此在本平台之外再次入库）",
    responses={
        **READ,
        200: {
            "description": "附件的字节（Content-Type 为其媒体类型）",
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        },
    },
    response_class=Response,
)
async def peer_attachment(
    resource_id: IdPath,
    number: IdPath,
    sha256: Annotated[str, Path(min_length=64, max_length=64, pattern=r"^[0-9A-Fa-f]{64}$")],
    ctx: CtxDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> Response:
    await _peer(session, principal)
    data, media_type = await shared_resources.attachment_for_peer(
        session, ctx.directory.client("resources"), resource_id, number, sha256
    )
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post(
    "/peer/resources/{resource_id}/usages",
    response_model=PeerUsageOut,
    summary="互联平台登记（或撤销）对共享资源某一版本的使用",
    responses=WRITE,
)
async def peer_register(
    resource_id: IdPath, body: UsageIn, ctx: CtxDep, session: SessionDep, principal: PrincipalDep
) -> PeerUsageOut:
    code = await _peer(session, principal)
    row = await shared_resources.register_usage(
        session, ctx.directory.client("resources"), code, resource_id, body
    )
    return shared_resources.usage_out(row)


# --- the city: placing a peer's resource ---------------------------------------------------


@router.get(
    "/peers/{code}/resources",
    response_model=PeerResourcesOut,
    summary="浏览互联平台共享的资源（供本站编辑选用）",
    responses=PEER,
)
async def browse(
    code: str, site: SiteQuery, request: Request, session: SessionDep, principal: PrincipalDep
) -> PeerResourcesOut:
    placements.require_placer(principal, site)
    state = _state(request)
    _, link = await placements.peer_link(session, state.sealer, state.outbound, code)
    items = await placements.browse(link)
    return PeerResourcesOut(items=items, total=len(items))


@router.post(
    "/peers/{code}/resources/{resource_id}/placements",
    response_model=PlacementOut,
    status_code=201,
    summary="将互联平台共享资源的某一版本固定放置到本站栏目（复制入库并在来源平台登记使用）",
    responses=PEER,
)
async def place(
    code: str,
    resource_id: IdPath,
    body: PlacementIn,
    request: Request,
    ctx: CtxDep,
    session: SessionDep,
    principal: PrincipalDep,
) -> PlacementOut:
    placements.require_placer(principal, body.site)
    state = _state(request)
    peer, link = await placements.peer_link(session, state.sealer, state.outbound, code)
    row = await placements.place(
        session, ctx.directory, ctx.settings.internal_client_secret, peer, link, resource_id, body, principal
    )
    return placements.placement_out(row)


@router.get(
    "/placements", response_model=PlacementsOut, summary="本站放置的互联平台资源及其来源", responses=READ
)
async def list_placements(site: SiteQuery, session: SessionDep, principal: PrincipalDep) -> PlacementsOut:
    items = await placements.placements(session, principal, site)
    return PlacementsOut(items=items, total=len(items))
