"""From content's index documents to engine documents.

A publication event only records the document and marks it (and the other placements of the
same resource) dirty; `flush_dirty` then projects dirty rows into the engine. A resource
placed on several sites becomes one engine document per placement, one of which is
`canonical` and lists every site: platform scope shows only canonical ones, so the resource
is one hit there, while site scope still finds each site's own placement.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel import clock
from services.kernel.chinese import normalize_doc_no
from services.kernel.db import Database
from services.search.analysis import normalize_index_no
from services.search.backends.base import IndexDoc, SearchBackend
from services.search.models import SearchDocument

log = logging.getLogger("jiyue.search.indexing")

LIVE_STATUSES = ("published", "archived")


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def doc_from_payload(payload: dict[str, Any]) -> IndexDoc:
    doc_no = payload.get("doc_no")
    index_no = payload.get("index_no")
    return IndexDoc(
        id=int(payload["publication_id"]),
        resource_id=int(payload.get("resource_id") or 0),
        site=str(payload.get("site") or ""),
        site_name=str(payload.get("site_name") or ""),
        column_id=payload.get("column_id"),
        column_name=str(payload.get("column_name") or ""),
        title=str(payload.get("title") or ""),
        body=str(payload.get("body_text") or ""),
        summary=str(payload.get("summary") or ""),
        url=str(payload.get("url") or f"/api/content/v1/items/{payload['publication_id']}"),
        doc_no=normalize_doc_no(doc_no) if doc_no else None,
        index_no=normalize_index_no(index_no) if index_no else None,
        org=payload.get("issuer_org") or None,
        genre=payload.get("genre") or None,
        topic=payload.get("topic") or None,
        kind=payload.get("kind") or "publication",
        item_status=payload.get("item_status") or None,
        published_at=_parse_time(payload.get("published_at")),
        archived_at=_parse_time(payload.get("archived_at")),
        archived=payload.get("status") == "archived",
    )


async def record_document(session: AsyncSession, payload: dict[str, Any]) -> None:
    """Store the latest state of one publication (idempotent) and mark its resource dirty."""
    pub_id = int(payload["publication_id"])
    resource_id = int(payload.get("resource_id") or 0)
    now = clock.now()
    row = await session.get(SearchDocument, pub_id)
    resources = {resource_id}
    if row is None:
        row = SearchDocument(
            publication_id=pub_id,
            resource_id=resource_id,
            site=str(payload.get("site") or ""),
            status=str(payload.get("status") or ""),
            payload=payload,
            revision=1,
            dirty=True,
            updated_at=now,
        )
        session.add(row)
    else:
        resources.add(row.resource_id)
        row.resource_id = resource_id
        row.site = str(payload.get("site") or "")
        row.status = str(payload.get("status") or "")
        row.payload = payload
        row.revision += 1
        row.dirty = True
        row.updated_at = now
    await session.flush()
    await mark_resources_dirty(session, resources)


async def mark_resources_dirty(session: AsyncSession, resource_ids: Iterable[int]) -> None:
    await session.execute(
        update(SearchDocument)
        .where(col(SearchDocument.resource_id).in_(list(resource_ids)))
        .values(dirty=True, revision=SearchDocument.revision + 1)
    )


def project_group(rows: list[SearchDocument]) -> tuple[list[IndexDoc], list[int]]:
    """Engine documents for all placements of one resource, and the ids to remove."""
    live = [r for r in rows if r.status in LIVE_STATUSES]
    removed = [r.publication_id for r in rows if r.status not in LIVE_STATUSES]
    if not live:
        return [], removed
    # A live publication stands for the resource; an archived one only if nothing is live.
    canonical = min(live, key=lambda r: (r.status != "published", r.publication_id))
    placements = [
        {
            "site": r.site,
            "site_name": r.payload.get("site_name") or r.site,
            "publication_id": r.publication_id,
            "url": r.payload.get("url") or f"/api/content/v1/items/{r.publication_id}",
            "archived": r.status == "archived",
        }
        for r in sorted(live, key=lambda r: r.publication_id)
    ]
    sites = sorted({r.site for r in live})
    docs = []
    for row in live:
        doc = doc_from_payload(row.payload)
        doc.sites = sites
        doc.placements = placements
        doc.canonical = row.publication_id == canonical.publication_id
        doc.revision = row.revision
        if doc.canonical:
            # In platform scope the resource is archived only when every placement is.
            doc.archived = all(r.status == "archived" for r in live)
        docs.append(doc)
    return docs, removed


async def flush_dirty(db: Database, backend: SearchBackend, batch: int = 500) -> int:
    """Push dirty rows to the engine; returns how many rows were flushed."""
    total = 0
    while True:
        generation = await backend.generation()
        async with db.session() as session:
            dirty = (
                await session.execute(
                    select(col(SearchDocument.resource_id))
                    .where(col(SearchDocument.dirty).is_(True))
                    .limit(batch)
                )
            ).scalars()
            resource_ids = sorted(set(dirty))
            if not resource_ids:
                return total
            rows = (
                await session.execute(
                    select(SearchDocument).where(col(SearchDocument.resource_id).in_(resource_ids))
                )
            ).scalars()
            groups: dict[int, list[SearchDocument]] = {}
            seen: list[tuple[int, int]] = []
            for row in rows:
                groups.setdefault(row.resource_id, []).append(row)
                seen.append((row.publication_id, row.revision))
        upserts: list[IndexDoc] = []
        deletes: list[int] = []
        for group in groups.values():
            docs, removed = project_group(group)
            upserts.extend(docs)
            deletes.extend(removed)
        await backend.delete(deletes)
        await backend.upsert(upserts)
        await backend.commit()
        if await backend.generation() != generation:
            # A rebuild swapped in another index while we wrote to the old one: write again.
            continue
        async with db.session() as session:
            for pub_id, revision in seen:
                await session.execute(
                    update(SearchDocument)
                    .where(
                        col(SearchDocument.publication_id) == pub_id, col(SearchDocument.revision) == revision
                    )
                    .values(dirty=False)
                )
        total += len(seen)


async def mark_all_dirty(session: AsyncSession) -> None:
    """After the engine lost its index (a schema change), every row is projected again."""
    await session.execute(update(SearchDocument).values(dirty=True, revision=SearchDocument.revision + 1))


async def pending_count(session: AsyncSession) -> int:
    value = await session.execute(
        select(func.count()).select_from(SearchDocument).where(col(SearchDocument.dirty).is_(True))
    )
    return int(value.scalar_one())


async def live_publication_ids(session: AsyncSession) -> set[int]:
    rows = await session.execute(
        select(col(SearchDocument.publication_id)).where(col(SearchDocument.status).in_(LIVE_STATUSES))
    )
    return set(rows.scalars())
