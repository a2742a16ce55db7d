"""What a search asks for, and the engine request it becomes (a page, or a one-hit probe)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from services.search.analysis import ParsedQuery
from services.search.backends.base import ArchivedMode, DocKind, SearchRequest, SortMode


@dataclass
class SearchParams:
    q: str
    site: str | None
    platform: bool
    column_id: int | None = None
    genre: str | None = None
    topic: str | None = None
    org: str | None = None
    kind: DocKind | None = None
    date_from: datetime | None = None
    date_to: datetime | None = None
    archived: ArchivedMode = "exclude"
    sort: SortMode = "relevance"
    page: int = 1
    size: int = 20


def engine_request(parsed: ParsedQuery, params: SearchParams) -> SearchRequest:
    return SearchRequest(
        query=parsed,
        site=params.site,
        platform=params.platform,
        column_id=params.column_id,
        genre=params.genre,
        topic=params.topic,
        org=params.org,
        kind=params.kind,
        date_from=params.date_from,
        date_to=params.date_to,
        archived=params.archived,
        sort=params.sort,
        offset=(params.page - 1) * params.size,
        limit=params.size,
    )
