"""入库 of many resources in one transaction: the import path (整合迁移).

Every item gets the checks a single 入库 gets (metadata rules, machine review, sanitising, a
索引号) but the whole batch commits once. Checks run before any write, so an item that fails
is left out and reported without a savepoint, and the others go on.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.kernel.access import can_write
from services.kernel.auth import Principal
from services.kernel.chinese import nfc
from services.kernel.clock import epoch, today
from services.kernel.errors import Conflict, Forbidden, JiyueError
from services.kernel.feed import emit
from services.resources.models import Resource, ResourceVersion, feed_tables
from services.resources.review import Reviewer
from services.resources.schemas import BatchStoreItem, BatchStoreResult, FindingOut, ResourceMetadata
from services.resources.service.resources import (
    check_vocabulary,
    event_payload,
    get_version,
    tamper_findings,
    writable_resource,
)
from services.resources.service.review import review_off_loop
from services.resources.service.store import check_metadata, next_index_no, resolve_references, sanitise
from services.resources.service.vocab import Vocabularies


def _failed(
    key: str, reason: str, message: str, findings: list[dict[str, Any]] | None = None
) -> BatchStoreResult:
    return BatchStoreResult(
        key=key,
        ok=False,
        reason=reason,
        message=message[:1000],
        findings=[FindingOut(**f) for f in findings or []],
    )


async def _prepare(
    session: AsyncSession, principal: Principal, site: str, item: BatchStoreItem, vocab: Vocabularies
) -> tuple[Resource, ResourceVersion | None, ResourceMetadata, str]:
    """The resource (new and unsaved, or an existing draft) with the metadata and raw body."""
    if item.resource_id is not None:
        resource = await writable_resource(session, principal, item.resource_id)
        version = await get_version(session, item.resource_id, resource.latest_version)
        if version.status != "draft":
            raise Conflict(f"第 {version.version} 版已入库")
        meta = ResourceMetadata.model_validate(version.meta)
        return resource, version, meta, version.body_html
    assert item.create is not None
    if not can_write(principal, site):
        raise Forbidden(f"需要站点 {site} 的编辑或站点管理员角色")
    meta = item.create.metadata
    check_vocabulary(meta, vocab)
    resource = Resource(
        owner_site=site,
        owner_org=item.create.owner_org or meta.issuer_org.code,
        scope=item.create.scope,
        created_by=principal.sub,
        created_at=epoch(),
        updated_at=epoch(),
    )
    return resource, None, meta, nfc(item.create.body_html)


async def store_many(
    session: AsyncSession,
    principal: Principal,
    site: str,
    items: list[BatchStoreItem],
    reviewer: Reviewer,
    vocab: Vocabularies,
) -> list[BatchStoreResult]:
    results: list[BatchStoreResult] = []
    for item in items:
        try:
            resource, version, meta, raw = await _prepare(session, principal, site, item, vocab)
            await check_metadata(session, resource, meta, vocab)
        except JiyueError as exc:
            results.append(_failed(item.key, "rejected", f"{exc.detail} {exc.errors or ''}".strip()))
            continue
        except ValueError as exc:  # a stored draft's metadata that no longer validates
            results.append(_failed(item.key, "rejected", f"元数据不符合规范: {exc}"))
            continue
        review = await review_off_loop(reviewer, html=raw, title=meta.title, own_names=[meta.issuer_org.name])
        await resolve_references(session, review)
        findings = [f.as_dict() for f in review.findings]
        if review.blocking:
            blocking = [f.as_dict() for f in review.blocking]
            detail = "；".join(f"{f['rule']}: {f['excerpt']}" for f in blocking)[:900]
            results.append(
                _failed(item.key, "review_blocked", f"机器审查发现必须修改的问题：{detail}", blocking)
            )
            continue
        clean = sanitise(raw)
        ts = epoch()
        if version is None:
            session.add(resource)
            await session.flush()
            assert resource.id is not None
            version = ResourceVersion(
                resource_id=resource.id,
                version=1,
                meta={},
                body_html=raw,
                created_by=principal.sub,
                created_at=ts,
            )
        assert resource.id is not None
        version.meta = meta.model_dump(mode="json")
        version.body_html = clean
        version.findings = findings
        version.status = "stored"
        version.stored_by = principal.sub
        version.stored_at = ts
        if resource.index_no is None:
            day = meta.written_at or meta.published_at
            year = day.year if day else today().year
            resource.index_no = await next_index_no(session, meta.issuer_org.code, year)
        resource.status = "stored"
        resource.stored_version = version.version
        resource.updated_at = ts
        session.add_all([resource, version])
        await session.flush()
        await emit(
            session,
            feed_tables,
            "resource.stored",
            resource.id,
            {**event_payload(resource, version.version, meta.title), "tamper": tamper_findings(findings)},
            resource.owner_site,
        )
        results.append(
            BatchStoreResult(
                key=item.key,
                ok=True,
                resource_id=resource.id,
                version=version.version,
                index_no=resource.index_no,
            )
        )
    return results
