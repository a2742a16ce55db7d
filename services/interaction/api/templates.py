"""A site's templates of subscription messages: read and written by its site admin (or a
platform admin); validated on save, so a template that cannot render is refused, not stored."""

from __future__ import annotations

from fastapi import APIRouter

from services.interaction.models import SiteMailTemplate
from services.interaction.schemas.templates import MailTemplateIn, MailTemplateOut
from services.interaction.service import templates
from services.interaction.service.access import can_configure, is_platform_admin
from services.kernel.auth import Principal
from services.kernel.deps import PrincipalDep, RequiredSiteDep, SessionDep
from services.kernel.errors import Forbidden, Unauthorized, ValidationFailed, problem_responses

router = APIRouter(tags=["subscriptions"])
ERRORS = problem_responses(Unauthorized, Forbidden, ValidationFailed)
PATH = "/subscription-template"


def _admin(principal: Principal, site: str) -> None:
    if not (can_configure(principal, site) or is_platform_admin(principal)):
        raise Forbidden(f"需要站点 {site} 的站点管理员角色")


@router.get(
    PATH, response_model=MailTemplateOut, summary="本站订阅邮件的模板（站点管理员）", responses=ERRORS
)
async def read_template(
    site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> MailTemplateOut:
    _admin(principal, site)
    return templates.template_out(site, await session.get(SiteMailTemplate, site))


@router.put(
    PATH,
    response_model=MailTemplateOut,
    summary="设置本站订阅邮件的模板：主题、纯文本与 HTML（Jinja2 沙箱，保存时校验）",
    responses=ERRORS,
)
async def write_template(
    body: MailTemplateIn, site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> MailTemplateOut:
    _admin(principal, site)
    return templates.template_out(site, await templates.put_template(session, site, body, principal.sub))


@router.delete(PATH, response_model=MailTemplateOut, summary="恢复默认模板（站点管理员）", responses=ERRORS)
async def reset_template(
    site: RequiredSiteDep, session: SessionDep, principal: PrincipalDep
) -> MailTemplateOut:
    _admin(principal, site)
    await templates.delete_template(session, site)
    return templates.template_out(site, None)
