"""Full rebuild: every index document content serves, into a fresh index, then one swap."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select, update
from sqlmodel import col

from services.kernel.db import Database
from services.search.backends.base import IndexDoc, SearchBackend
from services.search.indexing import LIVE_STATUSES, project_group, record_document
from services.search.interaction import INTERACTION_ID_BASE
from services.search.models import SearchDocument

# (after publication id, limit) -> index documents with publication_id > after, by id
PageFetch = Callable[[int, int], Awaitable[list[dict[str, Any]]]]
Progress = Callable[[str, int], None]


def source_fetcher(directory: Any, source: str) -> PageFetch:
    async def fetch(after: int, limit: int) -> list[dict[str, Any]]:
        resp = await directory.client(source).get(
            f"/api/{source}/v1/index-documents", params={"after": after, "limit": limit}
        )
        resp.raise_for_status()
        body = resp.json()
        items = body if isinstance(body, list) else body.get("items", [])
        return list(items)

    return fetch


def documents_fetcher(directory: Any, source: str) -> Callable[[list[int]], Awaitable[list[dict[str, Any]]]]:
    """The current index documents of the given publications (what feed events refer to)."""

    async def fetch(ids: list[int]) -> list[dict[str, Any]]:
        resp = await directory.client(source).get(
            f"/api/{source}/v1/index-documents", params={"ids": ",".join(str(i) for i in ids)}
        )
        resp.raise_for_status()
        return list(resp.json().get("items", []))

    return fetch


async def rebuild(
    db: Database,
    backend: SearchBackend,
    fetch: PageFetch,
    *,
    page_size: int = 200,
    progress: Progress | None = None,
) -> int:
    """Returns the number of engine documents in the new index."""
    report = progress or (lambda _stage, _n: None)
    seen: set[int] = set()
    after = 0
    while True:
        page = await fetch(after, page_size)
        if not page:
            break
        async with db.session() as session:
            for payload in page:
                await record_document(session, payload)
                seen.add(int(payload["publication_id"]))
        after = max(int(p["publication_id"]) for p in page)
        report("fetch", len(page))
    async with db.session() as session:
        # Live here but not served by the source any more: it was withdrawn while we were away.
        stale = (
            await session.execute(
                select(col(SearchDocument.publication_id)).where(
                    col(SearchDocument.status).in_(LIVE_STATUSES),
                    # interaction's items are not content's to withdraw
                    col(SearchDocument.publication_id) < INTERACTION_ID_BASE,
                )
            )
        ).scalars()
        gone = [pid for pid in stale if pid not in seen]
        if gone:
            await session.execute(
                update(SearchDocument)
                .where(col(SearchDocument.publication_id).in_(gone))
                .values(status="absent", dirty=True, revision=SearchDocument.revision + 1)
            )
    target = await backend.start_rebuild()
    written = 0
    projected: list[tuple[int, int]] = []
    try:
        last_resource = -1
        while True:
            async with db.session() as session:
                resource_ids = list(
                    (
                        await session.execute(
                            select(col(SearchDocument.resource_id))
                            .where(col(SearchDocument.resource_id) > last_resource)
                            .distinct()
                            .order_by(col(SearchDocument.resource_id))
                            .limit(page_size)
                        )
                    ).scalars()
                )
                if not resource_ids:
                    break
                rows = list(
                    (
                        await session.execute(
                            select(SearchDocument).where(col(SearchDocument.resource_id).in_(resource_ids))
                        )
                    ).scalars()
                )
            groups: dict[int, list[SearchDocument]] = {}
            for row in rows:
                groups.setdefault(row.resource_id, []).append(row)
                projected.append((row.publication_id, row.revision))
            docs: list[IndexDoc] = []
            for group in groups.values():
                docs.extend(project_group(group)[0])
            await target.add(docs)
            written += len(docs)
            report("index", len(docs))
            last_resource = resource_ids[-1]
        await target.finish()
    except BaseException:
        await target.abort()
        raise
    async with db.session() as session:
        for pub_id, revision in projected:
            await session.execute(
                update(SearchDocument)
                .where(col(SearchDocument.publication_id) == pub_id, col(SearchDocument.revision) == revision)
                .values(dirty=False)
            )
    return written
