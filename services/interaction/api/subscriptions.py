"""Subscriptions: a signed-in citizen subscribes by e-mail and confirms by a signed link; the
signed one-click unsubscribe link (RFC 8058) in every message works without signing in."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.interaction.schemas.subscriptions import (
    FeedOut,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionsOut,
)
from services.interaction.service import feed, subscriptions
from services.interaction.service.delivery import confirmation_mail
from services.interaction.state import StateDep
from services.interaction.vocab import SubscriptionStatus
from services.kernel.deps import PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import (
    NotFound,
    ServiceUnavailable,
    Unauthorized,
    ValidationFailed,
    problem_responses,
)
from services.kernel.mail import MailError
from services.kernel.pagination import MAX_PAGE_SIZE

router = APIRouter(tags=["subscriptions"])
TokenQuery = Annotated[str, Query(min_length=10, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]
LINK_ERRORS = problem_responses(NotFound, ValidationFailed, ServiceUnavailable)


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreatedOut,
    summary="订阅本站一个栏目（或整个站点）的新信息：登录后提交邮箱，确认邮件中的链接后生效",
    responses=problem_responses(Unauthorized, NotFound, ValidationFailed, ServiceUnavailable),
)
async def subscribe(
    body: SubscriptionIn, site: RequiredSiteDep, principal: PrincipalDep, session: SessionDep, state: StateDep
) -> SubscriptionCreatedOut:
    sub = await subscriptions.subscribe(session, site, body, principal, state.columns, state.codes)
    mail = confirmation_mail(sub, state.links)  # signs the link: fails before anything is kept
    # The row must be durable before the mail leaves, and the relay is not waited on in a transaction.
    await session.commit()
    sent = False
    if sub.status == SubscriptionStatus.PENDING and state.mail.configured:
        try:
            await state.mail.send(mail)
            sent = True
        except MailError:
            sent = False
    return SubscriptionCreatedOut(**subscriptions.out(sub).model_dump(), confirmation_sent=sent)


@router.get(
    "/subscriptions",
    response_model=SubscriptionsOut,
    summary="我在本站的订阅",
    responses=problem_responses(Unauthorized),
)
async def my_subscriptions(
    site: RequiredSiteDep, principal: PrincipalDep, session: SessionDep
) -> SubscriptionsOut:
    return SubscriptionsOut(
        items=[subscriptions.out(s) for s in await subscriptions.mine(session, site, principal)]
    )


@router.get(
    "/subscriptions/feed",
    response_model=FeedOut,
    summary="我的订阅信息流：已确认订阅所匹配的信息，最新在前（游标分页）",
    responses=problem_responses(Unauthorized, ValidationFailed),
)
async def my_feed(
    site: RequiredSiteDep,
    principal: PrincipalDep,
    session: SessionDep,
    size: Annotated[int, Query(ge=1, le=MAX_PAGE_SIZE)] = 20,
    cursor: Annotated[str | None, Query(max_length=60, pattern=r"^[0-9.e+-]+:[0-9]+$")] = None,
) -> FeedOut:
    return await feed.feed(session, site, principal, size, cursor)


@router.post(
    "/subscriptions/confirm",
    response_model=SubscriptionOut,
    summary="确认订阅（确认邮件中的签名链接，无需登录）",
    responses=LINK_ERRORS,
)
async def confirm(
    token: TokenQuery, site: RequiredSiteDep, session: SessionDep, state: StateDep
) -> SubscriptionOut:
    sub = await subscriptions.confirm(session, state.signer, token)
    if sub.site != site:
        raise NotFound("订阅不存在")
    return subscriptions.out(sub)


@router.post(
    "/subscriptions/unsubscribe",
    response_model=SubscriptionOut,
    summary="一键退订（RFC 8058：邮件中的签名链接，无需登录）",
    responses=LINK_ERRORS,
)
async def unsubscribe(
    token: TokenQuery, site: RequiredSiteDep, session: SessionDep, state: StateDep
) -> SubscriptionOut:
    sub = await subscriptions.unsubscribe(session, state.signer, token)
    if sub.site != site:
        raise NotFound("订阅不存在")
    return subscriptions.out(sub)
