"""Request and response models of the search API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.search.backends.base import DocKind, ItemStatus


class SearchItem(BaseModel):
    id: int = Field(description="发布 id")
    resource_id: int
    title: str
    site: str
    site_name: str = ""
    column: str = ""
    column_id: int | None = None
    published_at: str | None = None
    archived: bool = False
    archived_at: str | None = None
    doc_no: str | None = None
    index_no: str | None = None
    org: str | None = None
    genre: str | None = None
    topic: str | None = None
    kind: DocKind = Field(default="publication", description="类别：信息发布、意见征集、调查、在线访谈")
    status: ItemStatus | None = Field(
        default=None, description="意见征集、调查、访谈的状态（如 open、closed）"
    )
    snippet: str = Field(description="摘要，命中词以 <em> 标记")
    url: str
    sites: list[dict[str, Any]] | None = Field(default=None, description="全平台范围：同一资源所在的全部站点")


class SearchResponse(BaseModel):
    total: int
    page: int
    size: int
    scope: str
    items: list[SearchItem]
    suggestion: str | None = Field(default=None, description="无结果时的纠错或同义词建议")


class SuggestResponse(BaseModel):
    q: str
    items: list[str]


class QueryCountOut(BaseModel):
    query: str
    count: int


class QueryStatisticsOut(BaseModel):
    """What a site's visitors searched for (from the anonymised query log), for its operators."""

    site: str
    first_day: str = Field(description="起始日期（含，北京时间）YYYY-MM-DD")
    last_day: str = Field(description="截止日期（含，北京时间）YYYY-MM-DD")
    searches: int
    top: list[QueryCountOut] = Field(description="检索次数最多的词")
    zero_results: list[QueryCountOut] = Field(description="没有结果的检索词（按次数）")
