"""Subscriptions to the state of one's own letters: when a letter is accepted, refused,
replied or published, its writer — if subscribed on that site with a confirmed address — gets
a message in the priority lane. The delivery row is written in the transaction that changes
the letter, so a state change and its notice commit (or fail) together.

Only the writer: the subscription matches on the signed-in subject that wrote the letter, so
nobody hears of anyone else's letters, and an anonymous letter (no subject) tells no one.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from sqlalchemy import insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Letter, Subscription, SubscriptionDelivery
from services.interaction.service.templates import one_click
from services.interaction.vocab import DeliveryStatus, LetterStatus, SubscriptionStatus, SubscriptionTarget
from services.kernel.clock import epoch
from services.kernel.mail import Mail

NOTIFIED = frozenset(
    {LetterStatus.ACCEPTED, LetterStatus.REFUSED, LetterStatus.REPLIED, LetterStatus.PUBLISHED}
)
LABELS = {
    LetterStatus.ACCEPTED: "已受理",
    LetterStatus.REFUSED: "不予受理",
    LetterStatus.REPLIED: "已答复",
    LetterStatus.PUBLISHED: "已公开",
}
LETTERS_API = "/api/interaction/v1/letters"


@dataclass(frozen=True)
class LetterNote:
    """What a notice says: the letter, and the state it reached when the notice was queued."""

    id: int
    site: str
    title: str
    status: LetterStatus


async def notify_writer(session: AsyncSession, letter: Letter) -> int:
    """Queue one notice for each confirmed letters subscription of the writer on the letter's
    site (one per address); the same state twice adds nothing."""
    status = LetterStatus(letter.status)
    if status not in NOTIFIED or not letter.writer_sub or letter.id is None:
        return 0
    now = epoch()
    already = (
        select(literal(1))
        .where(
            col(SubscriptionDelivery.subscription_id) == col(Subscription.id),
            col(SubscriptionDelivery.letter_id) == letter.id,
            col(SubscriptionDelivery.letter_status) == status.value,
        )
        .exists()
    )
    matching = select(
        col(Subscription.id),
        literal(letter.id),
        literal(status.value),
        literal(True),
        literal(DeliveryStatus.PENDING.value),
        literal(0),
        literal(now),
        literal(now),
    ).where(
        col(Subscription.site) == letter.site,
        col(Subscription.target) == SubscriptionTarget.LETTERS,
        col(Subscription.subscriber) == letter.writer_sub,
        col(Subscription.status) == SubscriptionStatus.CONFIRMED,
        ~already,
    )
    columns = [
        "subscription_id",
        "letter_id",
        "letter_status",
        "priority",
        "status",
        "attempts",
        "next_at",
        "created_at",
    ]
    result = await session.execute(insert(SubscriptionDelivery).from_select(columns, matching))
    return int(getattr(result, "rowcount", 0) or 0)


async def letter_notes(
    session: AsyncSession, pairs: set[tuple[int, str]]
) -> dict[tuple[int, str], LetterNote]:
    """The notes for (letter id, state) pairs of claimed deliveries."""
    if not pairs:
        return {}
    stmt = select(col(Letter.id), col(Letter.site), col(Letter.title)).where(
        col(Letter.id).in_({letter_id for letter_id, _ in pairs})
    )
    letters = {int(r[0] or 0): (str(r[1]), str(r[2])) for r in (await session.execute(stmt)).all()}
    return {
        (letter_id, status): LetterNote(letter_id, *letters[letter_id], LetterStatus(status))
        for letter_id, status in pairs
        if letter_id in letters
    }


def letter_mail(email: str, note: LetterNote, link: str, unsubscribe: str) -> Mail:
    label = LABELS[note.status]
    subject = " ".join(f"您的来信{label}：{note.title}".split())[:300]
    text = (
        f"您好：\n\n您在站点 {note.site} 的来信（编号 {note.id}）“{note.title}”{label}。\n"
        f"登录后查看办理情况：\n{link}\n\n"
        f"退订（一键，无需登录）：\n{unsubscribe}\n"
    )
    body = (
        f"<html><body><p>您好：</p><p>您在站点 {html.escape(note.site)} 的来信（编号 {note.id}）"
        f"“{html.escape(note.title)}”<strong>{label}</strong>。</p>"
        f'<p><a href="{html.escape(link)}">登录后查看办理情况</a></p>'
        f'<p><a href="{html.escape(unsubscribe)}">退订</a>（一键，无需登录）</p></body></html>'
    )
    return Mail(
        to=(email,),
        subject=subject,
        text=text,
        html=body,
        headers=one_click(unsubscribe),
    )
