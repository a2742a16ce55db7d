"""Import jobs (整合迁移): placing many stored resources in one transaction, old URLs, reports.

A batch goes through the same states an editor's item does — placed, submitted into the
column's review chain, and, when an operator granted the job a migration approval, approved
under that approval, published with its original date and archived when the old site had
archived it — but each item writes one outbox event (its final state, a reference), not one
per step. The (site, source key) pair is unique, so a batch sent twice imports nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.content.import_schemas import (
    ImportFailureItem,
    ImportPlacement,
    KnownItem,
    MigrationApproval,
    OldUrlOut,
    PlacementResult,
)
from services.content.models import ImportedItem, ImportJob, Publication, ReviewRecord, SiteColumn
from services.content.schemas import ActionBody
from services.content.service.common import emit, holds, touch
from services.content.service.documents import reference_payload
from services.content.service.publications import apply_snapshot
from services.content.service.review import record
from services.content.service.sites import get_site
from services.content.vocab import (
    ColumnKind,
    FeedState,
    ImportFailure,
    ImportJobState,
    PublicationState,
    RecordAction,
)
from services.kernel.auth import Principal
from services.kernel.clock import aware, now
from services.kernel.errors import Conflict, Forbidden, NotFound, ServiceUnavailable
from services.kernel.roles import Role

State = PublicationState


# The one event an imported item writes: the state it ends the batch in.
_FEED_STATE = {
    State.DRAFT: FeedState.CREATED,
    State.IN_REVIEW: FeedState.SUBMITTED,
    State.PUBLISHED: FeedState.PUBLISHED,
    State.ARCHIVED: FeedState.ARCHIVED,
}


def utc(value: datetime) -> datetime:
    """Stored as UTC: SQLite keeps only the wall time, so a +08:00 instant would come back 8 h late."""
    return aware(value).astimezone(UTC)


def old_path(url: str | None) -> str | None:
    """The path (and query) of an old address, the part a request for it carries."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    return (path + (f"?{parts.query}" if parts.query else ""))[:1000]


async def open_job(session: AsyncSession, site: str, label: str, total: int, actor: str) -> ImportJob:
    """The unfinished job with this label (a resumed import), or a new one."""
    await get_site(session, site)
    stmt = select(ImportJob).where(
        col(ImportJob.site_id) == site,
        col(ImportJob.label) == label,
        col(ImportJob.status) == ImportJobState.RUNNING,
    )
    job = (await session.execute(stmt.order_by(col(ImportJob.id).desc()))).scalars().first()
    if job is None:
        job = ImportJob(site_id=site, label=label, created_by=actor, created_at=now(), updated_at=now())
        session.add(job)
    job.total = max(job.total, total)
    await session.flush()
    return job


async def get_job(session: AsyncSession, job_id: int, *, lock: bool = False) -> ImportJob:
    job = await session.get(ImportJob, job_id, with_for_update=lock)
    if job is None:
        raise NotFound(f"导入任务 {job_id} 不存在")
    return job


def grant_approval(job: ImportJob, principal: Principal, body: MigrationApproval) -> None:
    """The audited migration approval: only the site's administrator or the platform's."""
    if not holds(principal, job.site_id, Role.SITE_ADMIN):
        raise Forbidden(f"迁移审批需要站点 {job.site_id} 的站点管理员或平台管理员角色")
    if job.status != ImportJobState.RUNNING:
        raise Conflict("导入任务已结束")
    job.approved_by = principal.sub
    job.approved_at = now()
    job.approval_note = body.note
    job.updated_at = now()


async def known(session: AsyncSession, site: str, keys: list[str]) -> list[KnownItem]:
    rows = (
        await session.execute(
            select(ImportedItem).where(col(ImportedItem.site_id) == site, col(ImportedItem.source_key).in_(keys))
        )
    ).scalars()
    return [KnownItem(source_key=r.source_key, publication_id=r.publication_id, resource_id=r.resource_id) for r in rows]


def paths_of(columns: Iterable[Any]) -> dict[str, Any]:
    """Every column by its path of codes (and of names, for a segment without a code); shared
    with the importer, which checks columns before it stores anything."""
    listed = list(columns)
    by_id = {c.id: c for c in listed}
    out: dict[str, Any] = {}

    def chains(column: Any, depth: int = 0) -> list[list[str]]:
        names = list(dict.fromkeys(n for n in (column.code, column.name) if n))
        parent = by_id.get(column.parent_id) if column.parent_id is not None else None
        if parent is None or depth > 16:
            return [[n] for n in names]
        return [[*up, n] for up in chains(parent, depth + 1) for n in names]

    for column in listed:
        for chain in chains(column):
            out.setdefault("/".join(chain), column)
    return out


async def column_paths(session: AsyncSession, site: str) -> dict[str, SiteColumn]:
    stmt = select(SiteColumn).where(col(SiteColumn.site_id) == site, col(SiteColumn.deleted).is_(False))
    return paths_of((await session.execute(stmt)).scalars())


async def fetch_versions(
    client: httpx.AsyncClient, refs: list[tuple[int, int]], site: str
) -> dict[tuple[int, int], dict[str, Any]]:
    body = {"refs": [{"resource_id": r, "version": v} for r, v in refs], "for_site": site}
    try:
        resp = await client.post("/api/resources/v1/resources/versions/lookup", json=body)
    except httpx.HTTPError as exc:
        raise ServiceUnavailable(f"信息资源库不可用: {exc}") from None
    if resp.status_code != 200:
        raise Conflict(f"信息资源库拒绝读取这些版本（{resp.status_code}）: {resp.text[:300]}")
    return {(int(d["resource_id"]), int(d["version"])): d for d in resp.json()["items"]}


def _fail(item: ImportPlacement, reason: ImportFailure, message: str) -> PlacementResult:
    return PlacementResult(line=item.line, source_key=item.source_key, ok=False, reason=reason, message=message)


def _go_live(
    session: AsyncSession, publication: Publication, job: ImportJob, item: ImportPlacement, principal: Principal
) -> None:
    """Approved under the job's migration approval, live with its original date, maybe archived."""
    note = f"迁移审批（导入任务 {job.id}）：{job.approval_note}"[:2000]
    at = now()
    for step, role in enumerate(publication.review_chain or ["migration"]):
        session.add(
            ReviewRecord(
                publication_id=publication.id or 0,
                review_round=publication.review_round,
                step=step,
                role=role,
                action=RecordAction.APPROVE,
                actor=job.approved_by or "",
                opinion=note,
                confidentiality_passed=True,
                confidentiality_note=note[:1000],
                at=at,
            )
        )
    publication.review_step = len(publication.review_chain)
    publication.pending_role = None
    publication.published_at = utc(item.published_at)
    publication.status = State.PUBLISHED
    record(session, publication, RecordAction.PUBLISH, principal, ActionBody(opinion=f"迁移导入（任务 {job.id}）"))
    if item.archived:
        publication.status = State.ARCHIVED
        publication.archived_at = utc(item.archived_at or item.published_at)
        record(session, publication, RecordAction.ARCHIVE, principal, ActionBody(opinion="迁移导入：原站已归档"))


async def place_batch(
    session: AsyncSession,
    client: httpx.AsyncClient,
    job: ImportJob,
    principal: Principal,
    items: list[ImportPlacement],
) -> list[PlacementResult]:
    """Place, review (chain or migration approval), publish and record a batch in one transaction."""
    if job.status != ImportJobState.RUNNING:
        raise Conflict("导入任务已结束")
    site = job.site_id
    done = {k.source_key: k for k in await known(session, site, [i.source_key for i in items])}
    columns = await column_paths(session, site)
    fresh: list[ImportPlacement] = []
    results: dict[str, PlacementResult] = {}
    for item in items:
        if item.source_key in done or item.source_key in results:
            hit = done.get(item.source_key)
            results.setdefault(
                item.source_key,
                PlacementResult(
                    line=item.line,
                    source_key=item.source_key,
                    ok=True,
                    skipped=True,
                    publication_id=hit.publication_id if hit else None,
                ),
            )
            continue
        column = columns.get(item.column.strip("/"))
        if column is None or column.kind == ColumnKind.LINK:
            results[item.source_key] = _fail(item, ImportFailure.UNKNOWN_COLUMN, f"站点 {site} 没有栏目 {item.column}")
            continue
        results[item.source_key] = PlacementResult(line=item.line, source_key=item.source_key, ok=True)
        fresh.append(item)
    stored = await fetch_versions(client, [(i.resource_id, i.resource_version) for i in fresh], site) if fresh else {}
    moment = now()
    approved = job.approved_by is not None
    for item in fresh:
        column = columns[item.column.strip("/")]
        publication = Publication(
            site_id=site,
            column_id=column.id or 0,
            title="",
            review_chain=list(column.review_chain),
            review_round=1,
            status=State.IN_REVIEW,
            pending_role=column.review_chain[0] if column.review_chain else None,
            created_by=principal.sub,
            submitted_by=principal.sub,
            created_at=moment,
            updated_at=moment,
        )
        apply_snapshot(publication, stored[(item.resource_id, item.resource_version)])
        if not column.review_chain and not approved:
            publication.status = State.DRAFT
        session.add(publication)
        await session.flush()
        if publication.status == State.IN_REVIEW:
            record(session, publication, RecordAction.SUBMIT, principal, ActionBody(opinion=f"迁移导入（任务 {job.id}）"))
        if approved:
            _go_live(session, publication, job, item, principal)
        state = _FEED_STATE[State(publication.status)]
        await emit(session, f"publication.{state}", publication.id or 0, reference_payload(publication), site)
        session.add(
            ImportedItem(
                job_id=job.id or 0,
                site_id=site,
                source_key=item.source_key,
                line=item.line,
                publication_id=publication.id or 0,
                resource_id=item.resource_id,
                original_url=item.original_url,
                original_path=old_path(item.original_url),
                created_at=moment,
            )
        )
        results[item.source_key] = PlacementResult(
            line=item.line,
            source_key=item.source_key,
            ok=True,
            publication_id=publication.id,
            status=State(publication.status),
        )
    touch(session, site)
    out = [results[i.source_key] if results[i.source_key].line == i.line else _dup(i) for i in items]
    job.imported += sum(1 for r in out if r.ok and not r.skipped)
    job.skipped += sum(1 for r in out if r.skipped)
    job.failures = [*job.failures, *(_failure(r) for r in out if not r.ok)]
    job.updated_at = now()
    return out


def _dup(item: ImportPlacement) -> PlacementResult:
    return _fail(item, ImportFailure.DUPLICATE, f"来源键 {item.source_key} 在本批中重复")


def _failure(result: PlacementResult) -> dict[str, Any]:
    return ImportFailureItem(
        line=result.line, source_key=result.source_key, reason=result.reason or ImportFailure.INVALID, message=result.message
    ).model_dump(mode="json")


def add_failures(job: ImportJob, failures: list[ImportFailureItem]) -> None:
    """Failures the importer found before placing (bad lines, review findings), kept once per line."""
    seen = {(f.get("line"), f.get("source_key")) for f in job.failures}
    fresh = [f.model_dump(mode="json") for f in failures if (f.line, f.source_key) not in seen]
    job.failures = [*job.failures, *fresh]
    job.updated_at = now()


def finish(job: ImportJob) -> None:
    job.status = ImportJobState.FINISHED
    job.finished_at = now()
    job.updated_at = now()


async def resolve_old_url(session: AsyncSession, site: str, path: str) -> OldUrlOut:
    """The publication an old address of `site` names: imported there, or moved there since."""
    stmt = (
        select(ImportedItem.site_id, Publication.id, Publication.site_id, Publication.status)
        .join(Publication, col(Publication.id) == col(ImportedItem.publication_id))
        .where(
            col(ImportedItem.original_path) == path,
            or_(col(ImportedItem.site_id) == site, col(Publication.site_id) == site),
        )
        .order_by(col(ImportedItem.id).desc())
    )
    for source_site, pub_id, pub_site, status in (await session.execute(stmt)).all():
        if status in (State.PUBLISHED, State.ARCHIVED):
            return OldUrlOut(publication_id=pub_id, site=pub_site, source_site=source_site)
    raise NotFound(f"旧地址 {path} 没有对应的信息")
