"""Sites as tenants: registration, domains, lifecycle (articles 19-23) and history."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import idna
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.models import Site, SiteDomain, SiteHistory, feed_tables
from services.content.schemas import (
    RegistryEntryOut,
    RegistryOut,
    SiteCreate,
    SiteHistoryOut,
    SiteOut,
    SiteUpdate,
)
from services.content.service.common import emit, touch
from services.content.vocab import SiteStatus
from services.kernel.clock import SHANGHAI, aware, now, to_wire
from services.kernel.errors import Conflict, NotFound, ValidationFailed
from services.kernel.feed import read_changes

SITE_CODE = re.compile(r"^[a-z][a-z0-9_-]{1,63}$")
# 网站标识码: a 6-digit administrative division code + 4 digits, or `bm` + 8 digits.
ID_CODE = re.compile(r"^(\d{10}|bm\d{8})$")
MAX_SUSPEND_DAYS = 30
# target status -> the statuses it may be reached from
TRANSITIONS: dict[SiteStatus, tuple[SiteStatus, ...]] = {
    SiteStatus.ONLINE: (SiteStatus.APPLYING, SiteStatus.SUSPENDED),
    SiteStatus.SUSPENDED: (SiteStatus.ONLINE,),
    SiteStatus.OFFLINE: (SiteStatus.APPLYING, SiteStatus.ONLINE, SiteStatus.SUSPENDED),
}

EDITABLE = (
    "name",
    "host_org",
    "operator_org",
    "icp_no",
    "psb_no",
    "responsible_person",
    "parent_code",
    "require_interpretation",
)


def normalise_domain(value: str) -> str:
    host = value.strip().lower().rstrip(".")
    if not host or "/" in host or ":" in host or " " in host:
        raise ValidationFailed.field("domains", f"域名格式不正确: {value}")
    try:
        return idna.encode(host, uts46=True).decode("ascii")
    except idna.IDNAError as exc:
        raise ValidationFailed.field("domains", f"域名格式不正确: {value} ({exc})") from None


def validate_id_code(value: str) -> str:
    value = value.strip()
    if not ID_CODE.match(value):
        raise ValidationFailed.field(
            "id_code", "网站标识码应为 6 位行政区划代码加 4 位数字，或 bm 加 8 位数字"
        )
    return value


def registry_entry(site: Site) -> RegistryEntryOut:
    return RegistryEntryOut(
        code=site.code,
        name=site.name,
        status=SiteStatus(site.status),
        domains=list(site.domains),
        notice=site.notice,
        redirect_to=f"/sites/{site.moved_to}" if site.moved_to else None,
        resume_at=site.resume_at,
    )


def site_out(site: Site) -> SiteOut:
    return SiteOut(
        **registry_entry(site).model_dump(),
        id=site.id or 0,
        kind=site.kind,
        parent_code=site.parent_code,
        host_org=site.host_org,
        operator_org=site.operator_org,
        id_code=site.id_code,
        icp_no=site.icp_no,
        psb_no=site.psb_no,
        responsible_person=site.responsible_person,
        moved_to=site.moved_to,
        require_interpretation=site.require_interpretation,
        created_at=site.created_at,
        updated_at=site.updated_at,
    )


async def get_site(session: AsyncSession, code: str) -> Site:
    site = (await session.execute(select(Site).where(col(Site.code) == code))).scalar_one_or_none()
    if site is None:
        raise NotFound(f"站点 {code} 不存在")
    return site


async def list_sites(session: AsyncSession) -> list[Site]:
    return list((await session.execute(select(Site).order_by(col(Site.id)))).scalars())


async def record(session: AsyncSession, site: Site, action: str, actor: str, detail: dict[str, Any]) -> None:
    session.add(SiteHistory(site_code=site.code, action=action, actor=actor, detail=detail, at=now()))
    await session.flush()
    touch(session, site.code)
    topic = {"created": "site.created", "status": "site.status"}.get(action.split(":")[0], "site.updated")
    entry = registry_entry(site).model_dump(mode="json")
    await emit(session, topic, site.code, {**entry, "action": action}, site.code)


async def _set_domains(session: AsyncSession, site: Site, domains: list[str]) -> None:
    normalised = list(dict.fromkeys(normalise_domain(d) for d in domains))
    if normalised:
        taken = (
            (
                await session.execute(
                    select(SiteDomain).where(
                        col(SiteDomain.domain).in_(normalised), col(SiteDomain.site_code) != site.code
                    )
                )
            )
            .scalars()
            .first()
        )
        if taken is not None:
            raise Conflict(f"域名 {taken.domain} 已属于站点 {taken.site_code}")
    await session.execute(delete(SiteDomain).where(col(SiteDomain.site_code) == site.code))
    for domain in normalised:
        session.add(SiteDomain(domain=domain, site_code=site.code))
    site.domains = normalised


async def create_site(session: AsyncSession, body: SiteCreate, actor: str) -> Site:
    code = body.code
    if not SITE_CODE.match(code):
        raise ValidationFailed.field("code", "站点代码须为小写字母开头的 2-64 位字母、数字、- 或 _")
    if (await session.execute(select(col(Site.id)).where(col(Site.code) == code))).first():
        raise Conflict(f"站点代码 {code} 已存在")
    if body.parent_code:
        await get_site(session, body.parent_code)
    site = Site(
        code=code,
        name=body.name,
        kind=body.kind,
        parent_code=body.parent_code,
        host_org=body.host_org,
        operator_org=body.operator_org,
        id_code=validate_id_code(body.id_code),
        icp_no=body.icp_no,
        psb_no=body.psb_no,
        responsible_person=body.responsible_person,
        require_interpretation=body.require_interpretation,
        status=SiteStatus.APPLYING,
        created_at=now(),
        updated_at=now(),
    )
    session.add(site)
    await _set_domains(session, site, body.domains)
    await session.flush()
    await record(session, site, "created", actor, {"domains": site.domains})
    return site


async def update_site(session: AsyncSession, code: str, changes: SiteUpdate, actor: str) -> Site:
    site = await get_site(session, code)
    before = site_out(site).model_dump(mode="json")
    if changes.id_code is not None:
        site.id_code = validate_id_code(changes.id_code)
    if changes.parent_code:
        await get_site(session, changes.parent_code)
    for name, value in changes.model_dump(include=set(EDITABLE), exclude_unset=True).items():
        if value is not None:
            setattr(site, name, value)
    if changes.domains is not None:
        await _set_domains(session, site, changes.domains)
    site.updated_at = now()
    after = site_out(site).model_dump(mode="json")
    diff = {
        k: {"from": before[k], "to": after[k]}
        for k in after
        if before.get(k) != after[k] and k != "updated_at"
    }
    await record(session, site, "updated", actor, diff)
    return site


async def suspensions_in_year(session: AsyncSession, code: str, when: datetime) -> int:
    year = when.astimezone(SHANGHAI).year
    start = datetime(year, 1, 1, tzinfo=SHANGHAI)
    end = datetime(year + 1, 1, 1, tzinfo=SHANGHAI)
    stmt = select(func.count()).where(
        col(SiteHistory.site_code) == code,
        col(SiteHistory.action) == "status:suspended",
        col(SiteHistory.at) >= start,
        col(SiteHistory.at) < end,
    )
    return int((await session.execute(stmt)).scalar_one())


async def change_status(
    session: AsyncSession,
    code: str,
    target: SiteStatus,
    actor: str,
    *,
    resume_at: datetime | None = None,
    reason: str = "",
) -> Site:
    """online / suspended / offline; offline content moves are done by the caller (offline.py)."""
    site = await get_site(session, code)
    if target not in TRANSITIONS:
        raise ValidationFailed.field("status", "目标状态须为 online、suspended 或 offline")
    if site.status not in TRANSITIONS[target]:
        raise Conflict(f"站点当前状态为 {site.status}，不能变更为 {target}")
    moment = now()
    detail: dict[str, Any] = {"from": site.status, "reason": reason}
    if target == SiteStatus.SUSPENDED:
        resume = aware(resume_at) if resume_at is not None else None
        if resume is None:
            raise ValidationFailed.field("resume_at", "临时关停须给出恢复时间")
        if resume <= moment:
            raise ValidationFailed.field("resume_at", "恢复时间须晚于当前时间")
        if resume - moment > timedelta(days=MAX_SUSPEND_DAYS):
            raise ValidationFailed.field("resume_at", f"临时关停时间不得超过 {MAX_SUSPEND_DAYS} 天")
        if await suspensions_in_year(session, code, moment) >= 1:
            raise Conflict("该网站本年度已临时关停过一次，一年内只能临时关停一次")
        site.resume_at = resume
        site.notice = reason or f"{site.name}临时关停，预计于 {to_wire(resume)} 恢复访问。"
        detail["resume_at"] = to_wire(resume)
    elif target == SiteStatus.ONLINE:
        site.resume_at = None
        site.notice = None
    site.status = target
    site.updated_at = moment
    await record(session, site, f"status:{target}", actor, detail)
    return site


async def due_resumes(session: AsyncSession) -> list[str]:
    stmt = select(col(Site.code)).where(
        col(Site.status) == SiteStatus.SUSPENDED, col(Site.resume_at) <= now()
    )
    return list((await session.execute(stmt)).scalars())


async def history(session: AsyncSession, code: str) -> list[SiteHistoryOut]:
    await get_site(session, code)
    rows = (
        await session.execute(
            select(SiteHistory).where(col(SiteHistory.site_code) == code).order_by(col(SiteHistory.id))
        )
    ).scalars()
    return [
        SiteHistoryOut(id=r.id or 0, action=r.action, actor=r.actor, detail=r.detail, at=r.at) for r in rows
    ]


async def registry(session: AsyncSession) -> RegistryOut:
    _, head = await read_changes(session, feed_tables, 0, 0, None)
    return RegistryOut(items=[registry_entry(s) for s in await list_sites(session)], cursor=head)
