"""A site's 互动交流 settings: departments, refusal reasons, deadlines, anonymous letters."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.interaction.models import Mailbox
from services.interaction.schemas import DeadlineDaysIn, MailboxIn, MailboxOut
from services.interaction.service.calendar import audit
from services.interaction.vocab import DEFAULT_REFUSAL_REASONS, LetterKind
from services.kernel.clock import epoch
from services.kernel.errors import NotFound


async def get_mailbox(session: AsyncSession, site: str) -> Mailbox:
    mailbox = await session.get(Mailbox, site)
    if mailbox is None:
        raise NotFound(f"站点 {site} 不存在或未开通互动交流")
    return mailbox


async def put_mailbox(session: AsyncSession, site: str, body: MailboxIn, actor: str) -> Mailbox:
    mailbox = await session.get(Mailbox, site)
    if mailbox is None:
        mailbox = Mailbox(site=site, name=body.name, updated_by=actor, updated_at=epoch())
        session.add(mailbox)
    mailbox.name = body.name
    mailbox.allow_anonymous = body.allow_anonymous
    mailbox.departments = dict(body.departments)
    mailbox.refusal_reasons = dict(body.refusal_reasons or DEFAULT_REFUSAL_REASONS)
    mailbox.deadlines = {k.value: v.model_dump() for k, v in body.deadlines.items()}
    mailbox.updated_by = actor
    mailbox.updated_at = epoch()
    await audit(session, actor, "mailbox.put", f"mailbox/{site}", body=body.model_dump(mode="json"))
    await session.flush()
    return mailbox


def mailbox_out(mailbox: Mailbox) -> MailboxOut:
    return MailboxOut(
        site=mailbox.site,
        name=mailbox.name,
        allow_anonymous=mailbox.allow_anonymous,
        departments=mailbox.departments,
        refusal_reasons=mailbox.refusal_reasons,
        deadlines={LetterKind(k): DeadlineDaysIn(**v) for k, v in mailbox.deadlines.items()},
    )
