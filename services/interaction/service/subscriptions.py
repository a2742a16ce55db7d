"""Subscriptions: a signed-in citizen names a column (or the whole site) and an address; only a
confirmed address (double opt-in) receives items; a signed link ends it without signing in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import httpx
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Subscription, SubscriptionKeyword
from services.interaction.schemas.subscriptions import SubscriptionIn, SubscriptionOut
from services.interaction.vocab import Rhythm, SubscriptionStatus, SubscriptionTarget
from services.kernel.auth import Principal
from services.kernel.client import ServiceDirectory
from services.kernel.clock import epoch
from services.kernel.deps import TENANT_HEADER
from services.kernel.errors import NotFound, ServiceUnavailable, Unauthorized, ValidationFailed
from services.kernel.synonyms import expand

# (site, column id or None) -> raises NotFound unless the site and the column are public.
ColumnCheck = Callable[[str, int | None], Awaitable[None]]
# (site, "topic" | "genre", code) -> raises ValidationFailed unless the library's vocabulary has it.
CodeCheck = Callable[[str, SubscriptionTarget, str], Awaitable[None]]

CONFIRM = "subscription-confirm"
UNSUBSCRIBE = "subscription-unsubscribe"


def content_columns(directory: ServiceDirectory) -> ColumnCheck:
    """Ask content's public delivery API, as an outsider would: a column it does not list on
    that site (unknown, deleted, another site's, or a site not online) cannot be subscribed to."""

    async def check(site: str, column_id: int | None) -> None:
        try:
            resp = await directory.raw("content").get(
                "/api/content/v1/columns", headers={TENANT_HEADER: site}
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"内容服务不可用: {exc}") from None
        if resp.status_code == 404:
            raise NotFound(f"站点 {site} 不存在或未上线")
        if resp.status_code != 200:
            raise ServiceUnavailable(f"内容服务返回 {resp.status_code}")
        if column_id is not None and column_id not in {c.get("id") for c in resp.json().get("items", [])}:
            raise NotFound(f"栏目 {column_id} 不存在")

    return check


def resource_vocabularies(directory: ServiceDirectory) -> CodeCheck:
    """The codes the resource library gives items (主题分类, 体裁): an operator may extend them,
    so they are asked for rather than copied."""

    async def check(site: str, target: SubscriptionTarget, code: str) -> None:
        try:
            resp = await directory.client("resources").get(
                "/api/resources/v1/vocabularies", headers={TENANT_HEADER: site}
            )
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"资源库服务不可用: {exc}") from None
        if resp.status_code != 200:
            raise ServiceUnavailable(f"资源库服务返回 {resp.status_code}")
        entries = resp.json().get("topics" if target == SubscriptionTarget.TOPIC else "genres", [])
        if code not in {e.get("code") for e in entries}:
            kind = "主题分类" if target == SubscriptionTarget.TOPIC else "体裁"
            raise ValidationFailed.field("code", f"{kind}代码 {code} 不存在")

    return check


def keyword_words(keywords: list[str]) -> list[str]:
    """Each keyword with its synonyms (the same groups search expands queries with)."""
    words: list[str] = []
    for keyword in keywords:
        words.extend(w for w in expand(keyword) if w not in words and len(w) <= 40)
    return words


class Signer:
    """Links that act without a session: HMAC-signed subscription ids (itsdangerous)."""

    def __init__(self, secret: str, confirm_max_age: int) -> None:
        self.secret = secret
        self.confirm_max_age = confirm_max_age

    def _serializer(self, salt: str) -> URLSafeTimedSerializer:
        if not self.secret:
            raise ServiceUnavailable("未配置订阅链接的签名密钥（JIYUE_SUBSCRIPTION_SECRET）")
        return URLSafeTimedSerializer(self.secret, salt=salt)

    def sign(self, salt: str, subscription_id: int) -> str:
        return str(self._serializer(salt).dumps(subscription_id))

    def verify(self, salt: str, token: str) -> int:
        # Unsubscribe links never expire: an old message must still let a reader out.
        max_age = self.confirm_max_age if salt == CONFIRM else None
        try:
            value = self._serializer(salt).loads(token, max_age=max_age)
        except SignatureExpired:
            raise ValidationFailed.field("token", "确认链接已过期，请重新订阅") from None
        except BadSignature:
            raise ValidationFailed.field("token", "链接无效") from None
        if not isinstance(value, int):
            raise ValidationFailed.field("token", "链接无效")
        return value


def out(s: Subscription) -> SubscriptionOut:
    target = SubscriptionTarget(s.target)
    return SubscriptionOut(
        id=s.id or 0,
        site=s.site,
        target=target,
        column_id=s.column_id or None,
        code=s.term if target in (SubscriptionTarget.TOPIC, SubscriptionTarget.GENRE) else None,
        keywords=s.term.split(",") if target == SubscriptionTarget.KEYWORDS and s.term else [],
        email=s.email,
        rhythm=Rhythm(s.rhythm),
        status=SubscriptionStatus(s.status),
        created_at=s.created_at,
        confirmed_at=s.confirmed_at,
    )


def subscriber_of(principal: Principal) -> str:
    if principal.kind != "user" or principal.is_internal:
        raise Unauthorized("订阅需以公众身份登录（统一身份认证）")
    return principal.sub


async def subscribe(
    session: AsyncSession,
    site: str,
    body: SubscriptionIn,
    principal: Principal,
    columns: ColumnCheck,
    codes: CodeCheck,
) -> Subscription:
    """A new (or ended) subscription waits for its confirmation; the same one again is kept.
    Every check runs before anything is added, so a refused one leaves no row."""
    subscriber = subscriber_of(principal)
    target = body.target or SubscriptionTarget.SITE
    column_id = body.column_id or 0
    term = ""
    words: list[str] = []
    if target == SubscriptionTarget.COLUMN:
        await columns(site, body.column_id)
    else:
        await columns(site, None)  # the site itself must be public
    if target in (SubscriptionTarget.TOPIC, SubscriptionTarget.GENRE) and body.code:
        await codes(site, target, body.code)
        term = body.code
    if target == SubscriptionTarget.KEYWORDS:
        keywords = sorted({expand(k)[0] for k in body.keywords})
        term = ",".join(keywords)
        words = keyword_words(keywords)
    email = body.email.strip().lower()
    stmt = select(Subscription).where(
        col(Subscription.site) == site,
        col(Subscription.target) == target,
        col(Subscription.column_id) == column_id,
        col(Subscription.term) == term,
        col(Subscription.subscriber) == subscriber,
        col(Subscription.email) == email,
    )
    existing = (await session.execute(stmt)).scalars().first()
    if existing is not None:
        if existing.status == SubscriptionStatus.UNSUBSCRIBED:
            existing.status = SubscriptionStatus.PENDING
            existing.confirmed_at = existing.ended_at = None
        existing.rhythm = body.rhythm
        await session.flush()
        return existing
    sub = Subscription(
        site=site,
        target=target,
        column_id=column_id,
        term=term,
        subscriber=subscriber,
        email=email,
        rhythm=body.rhythm,
        status=SubscriptionStatus.PENDING,
        created_at=epoch(),
    )
    session.add(sub)
    await session.flush()
    for word in words:
        session.add(SubscriptionKeyword(subscription_id=sub.id or 0, word=word))
    await session.flush()
    return sub


async def confirm(session: AsyncSession, signer: Signer, token: str) -> Subscription:
    sub = await session.get(Subscription, signer.verify(CONFIRM, token))
    if sub is None or sub.status == SubscriptionStatus.UNSUBSCRIBED:
        raise NotFound("订阅不存在或已退订")
    if sub.status == SubscriptionStatus.PENDING:
        sub.status = SubscriptionStatus.CONFIRMED
        sub.confirmed_at = epoch()
    return sub


async def unsubscribe(session: AsyncSession, signer: Signer, token: str) -> Subscription:
    """Idempotent: a second click (or a mail client's retry) answers the same."""
    sub = await session.get(Subscription, signer.verify(UNSUBSCRIBE, token))
    if sub is None:
        raise NotFound("订阅不存在")
    if sub.status != SubscriptionStatus.UNSUBSCRIBED:
        sub.status = SubscriptionStatus.UNSUBSCRIBED
        sub.ended_at = epoch()
    return sub


async def mine(session: AsyncSession, site: str, principal: Principal) -> list[Subscription]:
    stmt = (
        select(Subscription)
        .where(col(Subscription.site) == site, col(Subscription.subscriber) == subscriber_of(principal))
        .order_by(col(Subscription.id))
    )
    return list((await session.execute(stmt)).scalars())
