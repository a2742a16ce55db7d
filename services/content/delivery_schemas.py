"""Answers of the public delivery API (what hosted sites' front ends read; names are fixed)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, JsonValue

from services.content.vocab import ColumnKind, PublicationState, SiteKind, SiteStatus
from services.kernel.clock import WireDateTime


class PublicSiteOut(BaseModel):
    code: str
    name: str
    kind: SiteKind
    domains: list[str]
    id_code: str
    host_org: str
    operator_org: str
    icp_no: str
    psb_no: str
    status: SiteStatus
    meta: dict[str, str] = Field(description="SiteName, SiteDomain, SiteIDCode")


class PublicColumnOut(BaseModel):
    id: int
    parent_id: int | None
    name: str
    code: str
    kind: ColumnKind
    description: str
    keywords: list[str]
    link_url: str | None
    url: str


class PublicColumnsOut(BaseModel):
    items: list[PublicColumnOut]
    total: int
    meta: dict[str, str]


class ColumnRefOut(BaseModel):
    id: int
    name: str
    kind: ColumnKind
    parent_id: int | None


class SummaryItemOut(BaseModel):
    """One line of a column listing; the archive fields appear only on archived items."""

    id: int
    title: str
    summary: str
    published_at: WireDateTime | None
    index_no: str | None
    doc_no: JsonValue
    url: str
    archived: bool | None = None
    archived_at: WireDateTime | None = None
    label: str | None = None


class ColumnItemsOut(BaseModel):
    column: ColumnRefOut
    total: int
    page: int
    size: int
    items: list[SummaryItemOut]
    meta: dict[str, str]


class InterpretationRefOut(BaseModel):
    id: int
    title: str
    url: str
    published_at: WireDateTime | None


class PolicyRefOut(BaseModel):
    id: int
    title: str
    url: str


class PublicItemOut(BaseModel):
    id: int
    site: str
    column_id: int
    title: str
    body_html: str
    index_no: str | None
    metadata: dict[str, Any]
    attachments: list[dict[str, Any]]
    published_at: WireDateTime | None
    status: PublicationState
    archived: bool
    archived_at: WireDateTime | None
    label: str | None
    resource_id: int | None
    resource_version: int | None
    interpretations: list[InterpretationRefOut]
    policy: PolicyRefOut | None
    meta: dict[str, str]


class MovedOut(BaseModel):
    """The body of a 308 for an item whose site went offline."""

    moved_to: str
    site: str
