"""A site's 互动交流 settings (site_admin of the site); readable by everyone."""

from __future__ import annotations

from fastapi import APIRouter

from services.interaction.schemas import MailboxIn, MailboxOut
from services.interaction.service.access import can_configure
from services.interaction.service.mailboxes import get_mailbox, mailbox_out, put_mailbox
from services.kernel.deps import PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import Forbidden, NotFound, Unauthorized, ValidationFailed, problem_responses

router = APIRouter(tags=["mailbox"])
ERRORS = problem_responses(Unauthorized, Forbidden, NotFound, ValidationFailed)


@router.get(
    "/mailbox",
    response_model=MailboxOut,
    summary="本站互动交流设置：部门、不予受理理由、时限",
    responses=ERRORS,
)
async def read_mailbox(site: RequiredSiteDep, session: SessionDep) -> MailboxOut:
    return mailbox_out(await get_mailbox(session, site))


@router.put(
    "/mailbox", response_model=MailboxOut, summary="开通或修改本站互动交流（站点管理员）", responses=ERRORS
)
async def write_mailbox(
    body: MailboxIn, site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> MailboxOut:
    if not can_configure(principal, site):
        raise Forbidden(f"需要站点 {site} 的站点管理员角色")
    return mailbox_out(await put_mailbox(session, site, body, principal.sub))
