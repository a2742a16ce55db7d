"""Takedown (下架) of leaked personal data: unreachable at once, audited, destroyed after retention.

A platform administrator takes down a resource (every object it ever attached) or one object.
From that commit on the bytes are served to nobody; content follows `resource.takendown` and
withdraws every publication of the resource, which takes the item out of search and caches.
The bytes themselves are kept for the operator's retention period (an investigation may need
them) and then destroyed by the purge worker.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.auth import Principal
from services.kernel.clock import epoch
from services.kernel.errors import Conflict, Forbidden, NotFound
from services.kernel.feed import emit
from services.kernel.pagination import PageParams, paginate
from services.kernel.roles import ADMIN_ROLES, Role
from services.resources.models import Attachment, StoredObject, Takedown, feed_tables
from services.resources.schemas import TakedownOut
from services.resources.service.resources import event_payload, get_resource, get_version
from services.resources.storage import ObjectStore, valid_sha256


def _require_platform_admin(principal: Principal) -> None:
    # Checked before any lookup, so the refusal says nothing about whether the object exists.
    if not principal.has_role(Role.PLATFORM_ADMIN):
        raise Forbidden("下架需要平台管理员")


async def _block(session: AsyncSession, shas: list[str], moment: float) -> None:
    for sha in shas:
        obj = await session.get(StoredObject, sha, with_for_update=True)
        if obj is not None and obj.blocked_at is None:
            obj.blocked_at = moment
            session.add(obj)


def _record(
    principal: Principal,
    reason: str,
    moment: float,
    retention_hours: float,
    *,
    resource_id: int | None,
    sha256: str | None,
    objects: list[str],
) -> Takedown:
    return Takedown(
        resource_id=resource_id,
        sha256=sha256,
        objects=objects,
        actor=principal.sub,
        actor_name=principal.name,
        reason=reason,
        at=moment,
        purge_after=moment + retention_hours * 3600,
    )


async def take_down_resource(
    session: AsyncSession, principal: Principal, resource_id: int, reason: str, retention_hours: float
) -> Takedown:
    _require_platform_admin(principal)
    resource = await get_resource(session, resource_id, lock=True)
    if resource.status == "taken_down":
        raise Conflict(f"资源 {resource_id} 已下架")
    shas = sorted(
        set(
            (
                await session.execute(
                    select(col(Attachment.sha256)).where(col(Attachment.resource_id) == resource_id)
                )
            ).scalars()
        )
    )
    moment = epoch()
    await _block(session, shas, moment)
    resource.status = "taken_down"
    resource.taken_down_at = moment
    resource.updated_at = moment
    session.add(resource)
    record = _record(
        principal, reason, moment, retention_hours, resource_id=resource_id, sha256=None, objects=shas
    )
    session.add(record)
    number = resource.stored_version or resource.latest_version
    title = (await get_version(session, resource_id, number)).meta.get("title", "")
    await emit(
        session,
        feed_tables,
        "resource.takendown",
        resource_id,
        {**event_payload(resource, number, title), "reason": reason},
        resource.owner_site,
    )
    await session.flush()
    return record


async def take_down_object(
    session: AsyncSession, principal: Principal, sha256: str, reason: str, retention_hours: float
) -> Takedown:
    """One object only: the items that attached it stay, their attachment no longer opens."""
    _require_platform_admin(principal)
    sha256 = sha256.lower()
    obj = await session.get(StoredObject, sha256) if valid_sha256(sha256) else None
    if obj is None:
        raise NotFound("对象不存在")
    if obj.blocked_at is not None:
        raise Conflict("对象已下架")
    moment = epoch()
    await _block(session, [sha256], moment)
    record = _record(
        principal, reason, moment, retention_hours, resource_id=None, sha256=sha256, objects=[sha256]
    )
    session.add(record)
    await session.flush()
    return record


async def list_takedowns(
    session: AsyncSession, principal: Principal, params: PageParams
) -> tuple[list[Takedown], int]:
    # 三员分立: every administrator kind may see the takedown audit trail; site staff may not.
    if not (principal.is_internal or principal.has_any_role(ADMIN_ROLES)):
        raise Forbidden("需要平台管理员、安全管理员或审计管理员")
    return await paginate(session, select(Takedown).order_by(col(Takedown.id).desc()), params)


def takedown_out(record: Takedown) -> TakedownOut:
    assert record.id is not None
    return TakedownOut(
        id=record.id,
        resource_id=record.resource_id,
        sha256=record.sha256,
        objects=list(record.objects),
        actor=record.actor,
        actor_name=record.actor_name,
        reason=record.reason,
        at=record.at,  # type: ignore[arg-type]
        purge_after=record.purge_after,  # type: ignore[arg-type]
        purged_at=record.purged_at,  # type: ignore[arg-type]
    )


async def purge_due(session: AsyncSession, store: ObjectStore) -> int:
    """Destroy the bytes of takedowns whose retention has ended; returns how many objects went."""
    moment = epoch()
    due = list(
        (
            await session.execute(
                select(Takedown).where(col(Takedown.purged_at).is_(None), col(Takedown.purge_after) <= moment)
            )
        ).scalars()
    )
    destroyed = 0
    for record in due:
        for sha in record.objects:
            obj = await session.get(StoredObject, sha)
            if obj is not None and obj.blocked_at is not None:
                await store.delete(sha)
                destroyed += 1
        record.purged_at = moment
        session.add(record)
    return destroyed
