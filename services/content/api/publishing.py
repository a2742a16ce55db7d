"""Publications, the review actions and inbox, re-publication and new-media channels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.content import flows
from services.content.api.common import DeadlineDep, ResourcesDep, StateDep, require
from services.content.models import Publication
from services.content.schemas import (
    ActionBody,
    ChannelCreate,
    ChannelCreatedOut,
    ChannelOut,
    DeliveryOut,
    Listing,
    PublicationCreate,
    PublicationDetailOut,
    PublicationOut,
    PublicationUpdate,
    SubscriptionCreate,
    SubscriptionOut,
    TaskOut,
)
from services.content.service import publications as pubs
from services.content.service import push, review, sites, syndication
from services.content.service.common import ensure_member
from services.content.service.documents import publication_fields, publication_out, review_out
from services.content.vocab import Action, PublicationState, TaskState
from services.kernel.auth import Principal
from services.kernel.deps import CtxDep, PageDep, PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed, problem_responses
from services.kernel.pagination import Page
from services.kernel.params import IdPath, OptionalIdQuery
from services.kernel.roles import SITE_STAFF_ROLES, Role

router = APIRouter(tags=["内容发布与审核"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict, ValidationFailed)
EDITORS = (Role.EDITOR, Role.SITE_ADMIN)
REVIEW_ACTIONS = (Action.APPROVE, Action.REJECT)


@router.get(
    "/sites/{code}/publications",
    response_model=Page[PublicationOut],
    summary="本站信息列表",
    responses=ERRORS,
)
async def list_publications(
    code: str,
    session: SessionDep,
    principal: PrincipalDep,
    page: PageDep,
    status: PublicationState | None = None,
    column_id: OptionalIdQuery = None,
) -> Page[PublicationOut]:
    ensure_member(principal, code)
    rows, total = await pubs.list_publications(session, code, status=status, column_id=column_id, page=page)
    return Page(total=total, page=page.page, size=page.size, items=[publication_out(p) for p in rows])


@router.post(
    "/sites/{code}/publications",
    response_model=PublicationOut,
    status_code=201,
    summary="把已入库的资源版本放入栏目（草稿）",
    responses=ERRORS,
)
async def create_publication(
    code: str, body: PublicationCreate, session: SessionDep, principal: PrincipalDep, resources: ResourcesDep
) -> PublicationOut:
    require(principal, code, *EDITORS)
    await sites.get_site(session, code)
    return publication_out(await pubs.create_publication(session, resources, code, body, principal.sub))


async def _visible(session: AsyncSession, principal: Principal, publication_id: int) -> Publication:
    publication = await pubs.get_publication(session, publication_id)
    ensure_member(principal, publication.site_id)
    return publication


@router.get(
    "/publications/{publication_id}",
    response_model=PublicationDetailOut,
    summary="信息详情（含审核记录）",
    responses=ERRORS,
)
async def get_publication(
    publication_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> PublicationDetailOut:
    publication = await _visible(session, principal, publication_id)
    records = await pubs.reviews_of(session, publication_id)
    return PublicationDetailOut(
        **publication_fields(publication),
        body_html=publication.body_html,
        reviews=[review_out(r) for r in records],
    )


@router.patch(
    "/publications/{publication_id}",
    response_model=PublicationOut,
    summary="修改草稿，或移动信息到本站另一栏目（id 与地址不变）",
    responses=ERRORS,
)
async def update_publication(
    publication_id: IdPath,
    body: PublicationUpdate,
    session: SessionDep,
    principal: PrincipalDep,
    resources: ResourcesDep,
) -> PublicationOut:
    publication = await _visible(session, principal, publication_id)
    require(principal, publication.site_id, *EDITORS)
    return publication_out(await pubs.update_publication(session, resources, publication, body))


@router.post(
    "/publications/{publication_id}/{action}",
    response_model=PublicationOut,
    summary="审核流转：submit、approve、reject、publish、withdraw、archive",
    responses=ERRORS,
)
async def act(
    publication_id: IdPath,
    action: Action,
    session: SessionDep,
    principal: PrincipalDep,
    deadline: DeadlineDep,
    ctx: CtxDep,
    body: ActionBody | None = None,
) -> PublicationOut:
    publication = await _visible(session, principal, publication_id)
    try:
        await flows.act(session, publication, action, principal, body or ActionBody(), deadline=deadline)
    except Forbidden as exc:
        if action in REVIEW_ACTIONS and review.own_item(publication, principal):
            # This request's transaction rolls back; the refusal is kept in one of its own.
            async with ctx.db.session() as audit:
                await review.record_refusal(audit, publication_id, principal, action, exc.detail or exc.title)
        raise
    return publication_out(publication)


@router.get(
    "/inbox", response_model=Page[PublicationOut], summary="我的待审：跨所有站点、当前环节需要我的角色的信息"
)
async def inbox(session: SessionDep, principal: PrincipalDep, page: PageDep) -> Page[PublicationOut]:
    rows, total = await pubs.inbox(session, principal, page)
    return Page(total=total, page=page.page, size=page.size, items=[publication_out(p) for p in rows])


@router.get(
    "/sites/{code}/subscriptions",
    response_model=Listing[SubscriptionOut],
    summary="本站的转载订阅",
    responses=ERRORS,
)
async def list_subscriptions(
    code: str, session: SessionDep, principal: PrincipalDep
) -> Listing[SubscriptionOut]:
    ensure_member(principal, code)
    items = [syndication.subscription_out(s) for s in await syndication.list_subscriptions(session, code)]
    return Listing(total=len(items), items=items)


@router.post(
    "/sites/{code}/subscriptions",
    response_model=SubscriptionOut,
    status_code=201,
    summary="订阅上级网站栏目（转载）",
    responses=ERRORS,
)
async def subscribe(
    code: str, body: SubscriptionCreate, session: SessionDep, principal: PrincipalDep
) -> SubscriptionOut:
    require(principal, code, Role.SITE_ADMIN)
    return syndication.subscription_out(await syndication.subscribe(session, code, body, principal.sub))


@router.delete(
    "/sites/{code}/subscriptions/{subscription_id}", status_code=204, summary="取消订阅", responses=ERRORS
)
async def unsubscribe(
    code: str, subscription_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> None:
    require(principal, code, Role.SITE_ADMIN)
    await syndication.unsubscribe(session, code, subscription_id)


@router.get(
    "/syndication/tasks",
    response_model=Listing[TaskOut],
    summary="转载任务（overdue=true：超过转载时限仍未转载发布）",
)
async def syndication_tasks(
    session: SessionDep,
    principal: PrincipalDep,
    overdue: Annotated[bool, Query()] = False,
    status: TaskState | None = None,
    site: str | None = None,
) -> Listing[TaskOut]:
    if principal.is_internal or principal.has_role(Role.PLATFORM_ADMIN):
        allowed: set[str | None] = {None}
    else:
        allowed = principal.sites_with(*SITE_STAFF_ROLES)
    if site is not None:
        if None not in allowed and site not in allowed:
            return Listing(total=0, items=[])
        allowed = {site}
    items = await syndication.list_tasks(session, allowed, overdue, status)
    return Listing(total=len(items), items=items)


@router.get(
    "/sites/{code}/channels", response_model=Listing[ChannelOut], summary="新媒体推送渠道", responses=ERRORS
)
async def list_channels(code: str, session: SessionDep, principal: PrincipalDep) -> Listing[ChannelOut]:
    require(principal, code, Role.SITE_ADMIN)
    items = [push.channel_out(c) for c in await push.list_channels(session, code)]
    return Listing(total=len(items), items=items)


@router.post(
    "/sites/{code}/channels",
    response_model=ChannelCreatedOut,
    status_code=201,
    summary="新增推送渠道（答复中含签名密钥，仅此一次）",
    responses=ERRORS,
)
async def create_channel(
    code: str, body: ChannelCreate, session: SessionDep, principal: PrincipalDep, state: StateDep
) -> ChannelCreatedOut:
    require(principal, code, Role.SITE_ADMIN)
    await sites.get_site(session, code)
    channel = await push.create_channel(session, code, body, state.outbound_allow)
    return push.channel_created_out(channel)


@router.delete(
    "/sites/{code}/channels/{channel_id}", status_code=204, summary="停用推送渠道", responses=ERRORS
)
async def deactivate_channel(
    code: str, channel_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> None:
    require(principal, code, Role.SITE_ADMIN)
    await push.deactivate_channel(session, code, channel_id)


@router.get(
    "/sites/{code}/push-deliveries", response_model=Listing[DeliveryOut], summary="推送记录", responses=ERRORS
)
async def push_deliveries(code: str, session: SessionDep, principal: PrincipalDep) -> Listing[DeliveryOut]:
    require(principal, code, Role.SITE_ADMIN)
    items = [push.delivery_out(d) for d in await push.list_deliveries(session, code)]
    return Listing(total=len(items), items=items)
