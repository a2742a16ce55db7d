"""Publications, the review actions and inbox, re-publication and new-media channels."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from services.content.api.common import ResourcesDep
from services.content.schemas import (
    ActionBody,
    ChannelCreate,
    PublicationCreate,
    PublicationUpdate,
    SubscriptionCreate,
)
from services.content.service import publications as pubs
from services.content.service import push, review, sites, syndication
from services.content.service.common import ensure_member, holds
from services.content.service.documents import publication_json, review_json
from services.kernel.deps import PageDep, PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses

router = APIRouter(tags=["内容发布与审核"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict, ValidationFailed)
Action = Literal["submit", "approve", "reject", "publish", "withdraw", "archive"]


def _require(principal: Any, code: str, *roles: str) -> None:
    ensure_member(principal, code)
    if not holds(principal, code, *roles):
        raise Forbidden(f"需要站点 {code} 的 {'/'.join(roles)} 角色")


@router.get("/sites/{code}/publications", summary="本站信息列表", responses=ERRORS)
async def list_publications(
    code: str,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: str | None = None,
    column_id: int | None = None,
) -> dict[str, Any]:
    ensure_member(principal, code)
    rows, total = await pubs.list_publications(
        session, code, status=status, column_id=column_id, offset=page.offset, limit=page.size
    )
    return {
        "total": total,
        "page": page.page,
        "size": page.size,
        "items": [publication_json(p) for p in rows],
    }


@router.post(
    "/sites/{code}/publications",
    status_code=201,
    summary="把已入库的资源版本放入栏目（草稿）",
    responses=ERRORS,
)
async def create_publication(
    code: str, body: PublicationCreate, session: SessionDep, principal: PrincipalDep, resources: ResourcesDep
) -> dict[str, Any]:
    _require(principal, code, "editor", "site_admin")
    await sites.get_site(session, code)
    publication = await pubs.create_publication(session, resources, code, body.model_dump(), principal.sub)
    return publication_json(publication)


async def _visible(session: Any, principal: Any, publication_id: int) -> pubs.Publication:
    publication = await pubs.get_publication(session, publication_id)
    ensure_member(principal, publication.site_id)
    return publication


@router.get("/publications/{publication_id}", summary="信息详情（含审核记录）", responses=ERRORS)
async def get_publication(
    publication_id: int, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    publication = await _visible(session, principal, publication_id)
    records = await pubs.reviews_of(session, publication_id)
    return {
        **publication_json(publication),
        "body_html": publication.body_html,
        "reviews": [review_json(r) for r in records],
    }


@router.patch(
    "/publications/{publication_id}",
    summary="修改草稿，或移动信息到本站另一栏目（id 与地址不变）",
    responses=ERRORS,
)
async def update_publication(
    publication_id: int,
    body: PublicationUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> dict[str, Any]:
    publication = await _visible(session, principal, publication_id)
    _require(principal, publication.site_id, "editor", "site_admin")
    updated = await pubs.update_publication(
        session, resources, publication, body.model_dump(exclude_unset=True)
    )
    return publication_json(updated)


@router.post(
    "/publications/{publication_id}/{action}",
    summary="审核流转：submit、approve、reject、publish、withdraw、archive",
    responses=ERRORS,
)
async def act(
    publication_id: int,
    action: Action,
    session: SessionDep,
    principal: PrincipalDep,
    body: ActionBody | None = None,
) -> dict[str, Any]:
    publication = await _visible(session, principal, publication_id)
    await review.act(session, publication, action, principal, (body or ActionBody()).model_dump())
    return publication_json(publication)


@router.get("/inbox", summary="我的待审：跨所有站点、当前环节需要我的角色的信息")
async def inbox(session: SessionDep, principal: PrincipalDep, page: PageDep) -> dict[str, Any]:
    rows, total = await pubs.inbox(session, principal, page.offset, page.size)
    return {
        "total": total,
        "page": page.page,
        "size": page.size,
        "items": [publication_json(p) for p in rows],
    }


@router.get("/sites/{code}/subscriptions", summary="本站的转载订阅", responses=ERRORS)
async def list_subscriptions(code: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    ensure_member(principal, code)
    items = [syndication.subscription_json(s) for s in await syndication.list_subscriptions(session, code)]
    return {"total": len(items), "items": items}


@router.post(
    "/sites/{code}/subscriptions", status_code=201, summary="订阅上级网站栏目（转载）", responses=ERRORS
)
async def subscribe(
    code: str, body: SubscriptionCreate, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    _require(principal, code, "site_admin")
    s = await syndication.subscribe(
        session, code, body.column_id, body.source_column_id, body.auto_publish, principal.sub
    )
    return syndication.subscription_json(s)


@router.delete(
    "/sites/{code}/subscriptions/{subscription_id}", status_code=204, summary="取消订阅", responses=ERRORS
)
async def unsubscribe(code: str, subscription_id: int, session: SessionDep, principal: PrincipalDep) -> None:
    _require(principal, code, "site_admin")
    await syndication.unsubscribe(session, code, subscription_id)


@router.get("/syndication/tasks", summary="转载任务（overdue=true：超过 12 小时仍未转载发布）")
async def syndication_tasks(
    session: SessionDep,
    principal: PrincipalDep,
    overdue: Annotated[bool, Query()] = False,
    status: str | None = None,
    site: str | None = None,
) -> dict[str, Any]:
    if principal.is_internal or principal.has_role("platform_admin"):
        allowed: set[str | None] = {None}
    else:
        allowed = principal.sites_with("site_admin", "editor", "reviewer", "auditor")
    if site is not None:
        if None not in allowed and site not in allowed:
            return {"total": 0, "items": []}
        allowed = {site}
    items = await syndication.list_tasks(session, allowed, overdue, status)
    return {"total": len(items), "items": items}


@router.get("/sites/{code}/channels", summary="新媒体推送渠道", responses=ERRORS)
async def list_channels(code: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    _require(principal, code, "site_admin")
    items = [push.channel_json(c) for c in await push.list_channels(session, code)]
    return {"total": len(items), "items": items}


@router.post(
    "/sites/{code}/channels",
    status_code=201,
    summary="新增推送渠道（答复中含签名密钥，仅此一次）",
    responses=ERRORS,
)
async def create_channel(
    code: str, body: ChannelCreate, session: SessionDep, principal: PrincipalDep
) -> dict[str, Any]:
    _require(principal, code, "site_admin")
    await sites.get_site(session, code)
    channel = await push.create_channel(session, code, body.name, body.url, body.secret)
    return push.channel_json(channel, with_secret=True)


@router.delete(
    "/sites/{code}/channels/{channel_id}", status_code=204, summary="停用推送渠道", responses=ERRORS
)
async def deactivate_channel(
    code: str, channel_id: int, session: SessionDep, principal: PrincipalDep
) -> None:
    _require(principal, code, "site_admin")
    await push.deactivate_channel(session, code, channel_id)


@router.get("/sites/{code}/push-deliveries", summary="推送记录", responses=ERRORS)
async def push_deliveries(code: str, session: SessionDep, principal: PrincipalDep) -> dict[str, Any]:
    _require(principal, code, "site_admin")
    items = [push.delivery_json(d) for d in await push.list_deliveries(session, code)]
    return {"total": len(items), "items": items}
