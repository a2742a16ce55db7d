"""A letter's life: received (after machine review) → accepted or refused → assigned
(transfers recorded) → replied → published with consent → rated by the writer."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Letter, LetterEvent, feed_tables
from services.interaction.schemas import LetterIn, RatingIn
from services.interaction.service.access import can_handle
from services.interaction.service.deadlines import OPEN_STATUSES, deadline_days, inspection_due, schedule
from services.interaction.service.letter_notices import notify_writer
from services.interaction.service.mailboxes import get_mailbox
from services.interaction.service.redaction import redact
from services.interaction.service.review import Review
from services.interaction.vocab import (
    LEADER_RECIPIENT,
    Complexity,
    DeadlineState,
    LetterAction,
    LetterStatus,
    Topic,
)
from services.kernel.auth import Principal
from services.kernel.clock import epoch, today
from services.kernel.errors import Conflict, Forbidden, NotFound, ValidationFailed
from services.kernel.feed import emit
from services.kernel.workdays import WorkCalendar


def _hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def record(session: AsyncSession, letter: Letter, actor: str, action: LetterAction, **detail: Any) -> None:
    assert letter.id is not None
    session.add(LetterEvent(letter_id=letter.id, at=epoch(), actor=actor, action=action, detail=detail))


async def announce(session: AsyncSession, topic: Topic, letter: Letter) -> None:
    """The feed carries ids and states only: never a writer, never a text. The writer, if
    subscribed to their letters' state, is told in the same transaction."""
    await notify_writer(session, letter)
    await emit(
        session,
        feed_tables,
        topic,
        letter.id or 0,
        {
            "id": letter.id,
            "status": letter.status,
            "kind": letter.kind,
            "due_on": letter.due_on and letter.due_on.isoformat(),
        },
        site_id=letter.site,
    )


async def submit(
    session: AsyncSession,
    site: str,
    body: LetterIn,
    principal: Principal | None,
    review: Review,
    calendar: WorkCalendar,
) -> tuple[Letter, str | None]:
    """Store a reviewed letter; anonymous letters get a query code (returned once)."""
    mailbox = await get_mailbox(session, site)
    if body.recipient != LEADER_RECIPIENT and body.recipient not in mailbox.departments:
        raise ValidationFailed.field("recipient", f"站点 {site} 没有代码为 {body.recipient} 的部门")
    anonymous = principal is None or body.anonymous
    if principal is None and not body.anonymous:
        raise ValidationFailed.field("anonymous", "未登录时只能匿名来信；实名来信请先登录")
    if anonymous and not mailbox.allow_anonymous:
        raise Forbidden(f"站点 {site} 不接受匿名来信，请登录后提交")
    writer_key = principal.sub if principal is not None else "anonymous"
    dedupe = _hash("\x1f".join([writer_key, body.kind, body.recipient, body.title, body.body]))
    blocking, findings = await review(
        f"{body.title}\n{body.body}\n" + "\n".join(a.text for a in body.attachments)
    )
    query_code = secrets.token_urlsafe(12) if anonymous else None
    received_on = today()
    letter = Letter(
        site=site,
        kind=body.kind,
        recipient=body.recipient,
        status=LetterStatus.SCREENED_OUT if blocking else LetterStatus.RECEIVED,
        title=body.title,
        body=body.body,
        attachments=[a.model_dump() for a in body.attachments],
        marked_names=list(body.marked_names),
        writer_sub=principal.sub if principal is not None else None,
        writer_name="" if anonymous or principal is None else principal.name,
        query_code_hash=_hash(query_code) if query_code else None,
        dedupe_key=dedupe,
        publish_consent=body.publish_consent,
        findings=findings,
        received_at=epoch(),
        received_on=received_on,
        deadline_state=DeadlineState.SCHEDULED,
        deadline_days=deadline_days(mailbox, body.kind, Complexity.ORDINARY),
        inspection_due_on=inspection_due(received_on),
    )
    if not blocking:
        schedule(letter, calendar)
    else:
        letter.deadline_state = DeadlineState.MET
    try:
        async with session.begin_nested():
            session.add(letter)
            await session.flush()
    except IntegrityError:
        raise Conflict("同一封信已经提交过，不再重复受理", extra={"duplicate": True}) from None
    record(session, letter, writer_key, LetterAction.SCREENED_OUT if blocking else LetterAction.RECEIVED)
    if not blocking:
        await announce(session, Topic.RECEIVED, letter)
    return letter, query_code


async def get_letter(session: AsyncSession, letter_id: int) -> Letter:
    letter = await session.get(Letter, letter_id)
    if letter is None:
        raise NotFound(f"来信 {letter_id} 不存在")
    return letter


async def handled_letter(session: AsyncSession, letter_id: int, principal: Principal) -> Letter:
    """A letter its site's staff may act on; to everyone else it does not exist."""
    letter = await session.get(Letter, letter_id)
    if letter is None or not can_handle(principal, letter.site) or letter.status == LetterStatus.SCREENED_OUT:
        raise NotFound(f"来信 {letter_id} 不存在")
    return letter


def may_read(letter: Letter, principal: Principal | None) -> bool:
    if principal is not None and letter.writer_sub == principal.sub:
        return True
    return can_handle(principal, letter.site) and letter.status != LetterStatus.SCREENED_OUT


async def by_query_code(session: AsyncSession, code: str) -> Letter:
    letter = (
        await session.execute(select(Letter).where(col(Letter.query_code_hash) == _hash(code)))
    ).scalar_one_or_none()
    if letter is None:
        raise NotFound("查询码不正确")
    return letter


def _require(letter: Letter, *allowed: LetterStatus) -> None:
    if letter.status not in allowed:
        wanted = "、".join(s.value for s in allowed)
        raise Conflict(f"来信当前状态为 {letter.status}，此操作只适用于 {wanted}")


async def accept(
    session: AsyncSession, letter: Letter, complexity: Complexity, actor: str, calendar: WorkCalendar
) -> None:
    _require(letter, LetterStatus.RECEIVED)
    mailbox = await get_mailbox(session, letter.site)
    letter.status = LetterStatus.ACCEPTED
    letter.complexity = complexity
    letter.accepted_at = epoch()
    letter.deadline_days = deadline_days(mailbox, letter.kind, complexity)
    schedule(letter, calendar)
    record(session, letter, actor, LetterAction.ACCEPTED, complexity=complexity.value, due_on=_iso(letter))
    await announce(session, Topic.ACCEPTED, letter)


async def refuse(session: AsyncSession, letter: Letter, reason: str, note: str, actor: str) -> None:
    _require(letter, LetterStatus.RECEIVED)
    mailbox = await get_mailbox(session, letter.site)
    if reason not in mailbox.refusal_reasons:
        raise ValidationFailed.field(
            "reason", f"不予受理理由须为本站所列之一：{'、'.join(mailbox.refusal_reasons)}"
        )
    letter.status = LetterStatus.REFUSED
    letter.refusal_reason = reason
    letter.refusal_note = note
    letter.deadline_state = DeadlineState.MET
    record(session, letter, actor, LetterAction.REFUSED, reason=reason, label=mailbox.refusal_reasons[reason])
    await announce(session, Topic.REFUSED, letter)


async def assign(session: AsyncSession, letter: Letter, org: str, note: str, actor: str) -> None:
    _require(letter, LetterStatus.ACCEPTED, LetterStatus.ASSIGNED)
    mailbox = await get_mailbox(session, letter.site)
    if org not in mailbox.departments:
        raise ValidationFailed.field("org", f"站点 {letter.site} 没有代码为 {org} 的部门")
    if org == letter.handling_org:
        raise Conflict(f"来信已由 {org} 承办")
    before = letter.handling_org
    letter.handling_org = org
    action = LetterAction.ASSIGNED if letter.status == LetterStatus.ACCEPTED else LetterAction.TRANSFERRED
    letter.status = LetterStatus.ASSIGNED
    record(session, letter, actor, action, from_org=before, to_org=org, note=note)


async def reply(session: AsyncSession, letter: Letter, text: str, actor: str) -> None:
    _require(letter, LetterStatus.ASSIGNED)
    letter.status = LetterStatus.REPLIED
    letter.reply = text
    letter.replied_at = epoch()
    letter.deadline_state = DeadlineState.MET
    record(session, letter, actor, LetterAction.REPLIED, org=letter.handling_org)
    await announce(session, Topic.REPLIED, letter)


def render_public(letter: Letter) -> None:
    """Redacted copies of every text the public will see, and the record of what was hidden."""
    names = list(letter.marked_names) + ([letter.writer_name] if letter.writer_name else [])
    redactions = []
    title, found = redact("title", letter.title, names)
    redactions += found
    body, found = redact("body", letter.body, names)
    redactions += found
    reply_text, found = redact("reply", letter.reply, names)
    redactions += found
    attachments = []
    for i, att in enumerate(letter.attachments):
        text, found = redact(f"attachments.{i}.text", att.get("text", ""), names)
        filename, more = redact(f"attachments.{i}.filename", att.get("filename", ""), names)
        redactions += found + more
        attachments.append({"filename": filename, "text": text})
    letter.public = {"title": title, "body": body, "reply": reply_text, "attachments": attachments}
    letter.public_text = "\n".join([title, body, reply_text, *(a["text"] for a in attachments)])
    letter.redactions = [r.__dict__ for r in redactions]


async def publish(session: AsyncSession, letter: Letter, actor: str) -> None:
    _require(letter, LetterStatus.REPLIED)
    if not letter.publish_consent:
        raise Conflict("来信人未同意公开，不能发布")
    render_public(letter)
    letter.status = LetterStatus.PUBLISHED
    letter.published_at = epoch()
    record(session, letter, actor, LetterAction.PUBLISHED, redactions=len(letter.redactions))
    await announce(session, Topic.PUBLISHED, letter)


async def rate(session: AsyncSession, letter: Letter, body: RatingIn, principal: Principal | None) -> None:
    if letter.rating is not None:
        raise Conflict("评价已提交，不能修改或撤回")
    _require(letter, LetterStatus.REPLIED, LetterStatus.PUBLISHED)
    letter.rating = body.level
    letter.rating_items = list(body.items)
    letter.rated_at = epoch()
    # The rater is the writer; the event names no one, so handlers never learn who rated.
    record(session, letter, "writer", LetterAction.RATED, level=body.level.value)
    await announce(session, Topic.RATED, letter)


def writer_of(letter: Letter, principal: Principal | None) -> bool:
    return principal is not None and letter.writer_sub == principal.sub


def open_letter(letter: Letter) -> bool:
    return letter.status in OPEN_STATUSES


def _iso(letter: Letter) -> str | None:
    return letter.due_on.isoformat() if letter.due_on else None
