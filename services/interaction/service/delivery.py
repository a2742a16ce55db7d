"""Delivery of published items to confirmed subscribers: content's feed enqueues one row per
subscriber and item (in one statement per item); `sending` drains the queue, important first.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, insert, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import (
    Subscription,
    SubscriptionDelivery,
    SubscriptionItem,
    SubscriptionKeyword,
)
from services.interaction.service.subscriptions import CONFIRM, UNSUBSCRIBE, Signer
from services.interaction.service.templates import Templates, item_view, render
from services.interaction.service.transcripts import mark_published
from services.interaction.vocab import DeliveryStatus, Rhythm, SubscriptionStatus, SubscriptionTarget
from services.kernel.client import ServiceDirectory
from services.kernel.clock import epoch
from services.kernel.consumer import FeedConsumer
from services.kernel.feed import FeedEvent
from services.kernel.mail import Mail
from services.kernel.synonyms import normalize

log = logging.getLogger("jiyue.interaction.subscriptions")

PUBLISHED = "publication.published"
API = "/api/interaction/v1/subscriptions"
# (publication ids) -> content's current index documents of those publications
DocumentsFetch = Callable[[list[int]], Awaitable[list[dict[str, Any]]]]


def documents_fetcher(directory: ServiceDirectory) -> DocumentsFetch:
    async def fetch(ids: list[int]) -> list[dict[str, Any]]:
        resp = await directory.client("content").get(
            "/api/content/v1/index-documents", params={"ids": ",".join(str(i) for i in ids)}
        )
        resp.raise_for_status()
        return list(resp.json().get("items", []))

    return fetch


@dataclass(frozen=True)
class Links:
    public_url: str
    signer: Signer

    def confirm(self, sub: Subscription) -> str:
        return (
            f"{self.public_url}/sites/{sub.site}{API}/confirm?token={self.signer.sign(CONFIRM, sub.id or 0)}"
        )

    def unsubscribe(self, site: str, subscription_id: int) -> str:
        token = self.signer.sign(UNSUBSCRIBE, subscription_id)
        return f"{self.public_url}/sites/{site}{API}/unsubscribe?token={token}"

    def item(self, site: str, url: str) -> str:
        return f"{self.public_url}/sites/{site}{url}"


def confirmation_mail(sub: Subscription, links: Links) -> Mail:
    link = links.confirm(sub)
    scope = {
        SubscriptionTarget.COLUMN: f"栏目 {sub.column_id}",
        SubscriptionTarget.TOPIC: f"主题分类 {sub.term}",
        SubscriptionTarget.GENRE: f"体裁 {sub.term}",
        SubscriptionTarget.KEYWORDS: f"关键词 {sub.term.replace(',', '、')}",
        SubscriptionTarget.LETTERS: "本人来信办理状态",
    }.get(SubscriptionTarget(sub.target), "全部栏目")
    text = (
        f"您好：\n\n您在站点 {sub.site} 订阅了{scope}的新信息（{sub.email}）。"
        f"请向下面的链接发送确认（POST）以开始接收：\n{link}\n\n如非本人操作，请忽略本邮件，不会再收到来信。\n"
    )
    body = (
        f"<p>您好：</p><p>您在站点 {html.escape(sub.site)} 订阅了{html.escape(scope)}的新信息。</p>"
        f'<form method="post" action="{html.escape(link)}"><button type="submit">确认订阅</button></form>'
        "<p>如非本人操作，请忽略本邮件。</p>"
    )
    return Mail(to=(sub.email,), subject="请确认您的订阅", text=text, html=body)


def item_mail(
    email: str,
    subscription_id: int,
    item: SubscriptionItem,
    links: Links,
    site_templates: Templates | None = None,
) -> Mail:
    return render(
        email=email,
        site=item.site,
        site_name=item.site_name,
        items=[item_view(item, links.item(item.site, item.url))],
        unsubscribe=links.unsubscribe(item.site, subscription_id),
        templates=site_templates,
    )


def _code(value: Any) -> str:
    return str(value) if isinstance(value, str | int) else ""


def matches(doc: dict[str, Any]) -> ColumnElement[bool]:
    """Which subscriptions an item reaches, as one condition, so every target is matched in
    the one INSERT … SELECT per item. Keywords (stored with their synonyms) match the item's
    title, summary and keywords, normalised as search normalises them."""
    text = normalize(
        " ".join(
            [str(doc.get("title") or ""), str(doc.get("summary") or ""), *map(str, doc.get("keywords") or [])]
        )
    )
    target = col(Subscription.target)
    keyword = (
        select(literal(1))
        .where(
            col(SubscriptionKeyword.subscription_id) == col(Subscription.id),
            literal(text).contains(col(SubscriptionKeyword.word)),
        )
        .exists()
    )
    return or_(
        target == SubscriptionTarget.SITE,
        and_(target == SubscriptionTarget.COLUMN, col(Subscription.column_id) == int(doc["column_id"])),
        and_(target == SubscriptionTarget.TOPIC, col(Subscription.term) == _code(doc.get("topic"))),
        and_(target == SubscriptionTarget.GENRE, col(Subscription.term) == _code(doc.get("genre"))),
        and_(target == SubscriptionTarget.KEYWORDS, keyword),
    )


def _meta(doc: dict[str, Any], key: str, size: int) -> str | None:
    value = doc.get(key)
    return str(value)[:size] if value not in (None, "") else None


async def enqueue(session: AsyncSession, doc: dict[str, Any]) -> int:
    """Store the item once and add a delivery for every confirmed subscriber of its column or
    its whole site, in one INSERT … SELECT; an item seen before adds nothing."""
    publication_id = int(doc["publication_id"])
    if await session.get(SubscriptionItem, publication_id) is not None:
        return 0
    now = epoch()
    important = bool(doc.get("important"))
    session.add(
        SubscriptionItem(
            publication_id=publication_id,
            site=str(doc["site"]),
            site_name=str(doc.get("site_name") or doc["site"])[:200],
            column_id=int(doc["column_id"]),
            title=str(doc.get("title") or "")[:300],
            url=str(doc.get("url") or f"/api/content/v1/items/{publication_id}")[:1000],
            important=important,
            published_at=now,
            issuer_org=_meta(doc, "issuer_org", 200),
            doc_no=_meta(doc, "doc_no", 200),
            # content writes instants with the Shanghai offset: the first ten characters are its date
            published_on=_meta(doc, "published_at", 10),
        )
    )
    await session.flush()
    matching = select(
        col(Subscription.id),
        literal(publication_id),
        literal(important),
        # A digest subscriber's row waits for its period (service/digests.py assembles it).
        case(
            (col(Subscription.rhythm) == Rhythm.IMMEDIATE, literal(DeliveryStatus.PENDING.value)),
            else_=literal(DeliveryStatus.COLLECTED.value),
        ),
        literal(0),
        literal(now),
        literal(now),
    ).where(
        col(Subscription.site) == doc["site"],
        col(Subscription.status) == SubscriptionStatus.CONFIRMED,
        matches(doc),
    )
    columns = ["subscription_id", "publication_id", "priority", "status", "attempts", "next_at", "created_at"]
    result = await session.execute(insert(SubscriptionDelivery).from_select(columns, matching))
    return int(getattr(result, "rowcount", 0) or 0)


class PublicationDelivery(FeedConsumer):
    """Follows content's `publication.published` events and fills the delivery queue; the same
    events tell an archived interview that its transcript publication is live, and where."""

    name = "subscriptions"

    def __init__(self, *args: Any, documents: DocumentsFetch, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.documents = documents
        self._docs: dict[int, dict[str, Any]] = {}

    async def before_batch(self, events: list[FeedEvent]) -> None:
        ids = sorted({int(e.payload["publication_id"]) for e in events if e.topic == PUBLISHED})
        self._docs = {int(d["publication_id"]): d for d in await self.documents(ids)} if ids else {}

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic != PUBLISHED:
            return
        doc = self._docs.get(int(event.payload["publication_id"]))
        # Gone or no longer published by the time we read it: nobody is told of it.
        if doc is None or doc.get("status") != "published":
            return
        url = str(doc.get("url") or f"/api/content/v1/items/{doc['publication_id']}")
        await mark_published(session, int(doc["publication_id"]), url)
        added = await enqueue(session, doc)
        if added:
            log.info("publication %s: %d deliveries queued", doc["publication_id"], added)

    async def rebuild(self, head: int) -> None:
        """Behind content's retention: items published meanwhile are not mailed late (a flood of
        stale news helps nobody); reading goes on from the head."""
        log.warning("subscriptions fell behind content's feed; skipping to cursor %d", head)
