"""Who may download an object: objects follow the resources and publications that use them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.auth import Principal
from services.kernel.errors import NotFound
from services.resources.models import Attachment, Resource, StoredObject
from services.resources.service.access import CLOSED, may_read
from services.resources.service.resources import live_versions
from services.resources.storage import valid_sha256


@dataclass(frozen=True)
class Grant:
    obj: StoredObject
    filename: str
    # True while a live publication shows a version that attaches it: anyone may fetch it, and
    # caches may keep it as long as they revalidate every time (it can be taken back).
    public: bool


async def object_grant(session: AsyncSession, principal: Principal | None, sha256: str) -> Grant:
    """The caller's right to one object's bytes, or 404 — for a missing, taken-down or
    non-public object alike, so a SHA-256 confirms nothing."""
    sha256 = sha256.lower()
    obj = await session.get(StoredObject, sha256) if valid_sha256(sha256) else None
    if obj is None or obj.blocked_at is not None:
        raise NotFound("对象不存在")
    rows = (
        await session.execute(
            select(Attachment, Resource)
            .join(Resource, col(Resource.id) == col(Attachment.resource_id))
            .where(col(Attachment.sha256) == sha256)
            .order_by(col(Attachment.id))
        )
    ).all()
    open_rows = [(a, r) for a, r in rows if r.status not in CLOSED]
    live = await live_versions(session, {a.resource_id for a, _ in open_rows})
    for att, _ in open_rows:
        if (att.resource_id, att.version) in live:
            return Grant(obj, att.filename, public=True)
    for att, resource in rows:
        if may_read(principal, resource):
            return Grant(obj, att.filename, public=False)
    if not rows and principal is not None and principal.is_internal:
        return Grant(obj, sha256, public=False)
    raise NotFound("对象不存在")
