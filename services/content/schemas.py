"""Request bodies and `*Out` answers of the content API (field names are the hosted sites' contract)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, Field, JsonValue

from services.content.vocab import (
    ColumnKind,
    DeadLetterKind,
    DeliveryState,
    PublicationState,
    RecordAction,
    SiteKind,
    SiteStatus,
    TaskState,
)
from services.kernel.clock import WireDateTime
from services.kernel.params import MAX_ID
from services.kernel.roles import Role

T = TypeVar("T")
Id = Field(ge=1, le=MAX_ID)


class SiteCreate(BaseModel):
    code: str = Field(min_length=2, max_length=64, examples=["jtj"])
    name: str = Field(min_length=1, max_length=200, examples=["示范市交通运输局"])
    kind: SiteKind = Field(SiteKind.DEPARTMENT, examples=["department"])
    parent_code: str | None = None
    host_org: str = Field("", description="主办单位")
    operator_org: str = Field("", description="承办单位")
    domains: list[str] = Field(default_factory=list)
    id_code: str = Field(description="网站标识码：6 位行政区划代码 + 4 位数字，或 bm + 8 位数字")
    icp_no: str = Field("", description="ICP 备案号")
    psb_no: str = Field("", description="公安机关备案号")
    responsible_person: str = ""
    require_interpretation: bool = Field(False, description="政策文件须有解读方可发布")


class SiteUpdate(BaseModel):
    name: str | None = None
    parent_code: str | None = None
    host_org: str | None = None
    operator_org: str | None = None
    domains: list[str] | None = None
    id_code: str | None = None
    icp_no: str | None = None
    psb_no: str | None = None
    responsible_person: str | None = None
    require_interpretation: bool | None = None


class SiteStatusChange(BaseModel):
    status: SiteStatus = Field(description="online | suspended | offline")
    resume_at: datetime | None = Field(None, description="临时关停的恢复时间（不超过 30 天）")
    reason: str = ""


class ColumnCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    code: str = ""
    kind: ColumnKind = ColumnKind.LIST
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    link_url: str | None = None
    responsible_editor: str | None = None
    update_interval_days: int | None = Field(None, ge=1, le=3650)
    review_chain: list[Role] | None = Field(None, examples=[["reviewer", "reviewer"]])
    sort_order: int = 0


class ColumnUpdate(BaseModel):
    name: str | None = None
    code: str | None = None
    kind: ColumnKind | None = None
    parent_id: int | None = Field(None, ge=1, le=MAX_ID)
    description: str | None = None
    keywords: list[str] | None = None
    link_url: str | None = None
    responsible_editor: str | None = None
    update_interval_days: int | None = Field(None, ge=1, le=3650)
    review_chain: list[Role] | None = None
    sort_order: int | None = None


class PublicationCreate(BaseModel):
    column_id: int = Field(ge=1, le=MAX_ID)
    resource_id: int = Field(ge=1, le=MAX_ID)
    resource_version: int = Field(ge=1, le=MAX_ID)
    important: bool = Field(False, description="重要信息：下级网站须在 12 小时内转载")
    publish_at: datetime | None = None
    expire_at: datetime | None = None


class PublicationUpdate(BaseModel):
    column_id: int | None = Field(None, ge=1, le=MAX_ID)
    resource_id: int | None = Field(None, ge=1, le=MAX_ID)
    resource_version: int | None = Field(None, ge=1, le=MAX_ID)
    important: bool | None = None
    publish_at: datetime | None = None
    expire_at: datetime | None = None


class ConfidentialityCheck(BaseModel):
    passed: bool
    note: str = ""


class ActionBody(BaseModel):
    opinion: str = ""
    confidentiality_check: ConfidentialityCheck | None = None


class SubscriptionCreate(BaseModel):
    column_id: int = Field(ge=1, le=MAX_ID, description="本站接收转载的栏目")
    source_column_id: int = Field(ge=1, le=MAX_ID, description="上级网站的来源栏目")
    auto_publish: bool = False
    # A column of a peer platform (the province): the peer's code in federation and its site.
    source_peer: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        pattern=r"^[a-z0-9][a-z0-9_-]*$",
        description="来源平台（互联平台代码）",
    )
    source_site: str | None = Field(
        None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$", description="来源平台上的站点代码"
    )


class ChannelCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(max_length=1000)
    secret: str | None = Field(None, min_length=16, max_length=200, description="不填则由平台生成")


# ---- answers ---------------------------------------------------------------------------------


class Listing(BaseModel, Generic[T]):
    total: int
    items: list[T]


class RegistryEntryOut(BaseModel):
    code: str
    name: str
    status: SiteStatus
    domains: list[str]
    notice: str | None
    redirect_to: str | None
    resume_at: WireDateTime | None


class RegistryOut(BaseModel):
    items: list[RegistryEntryOut]
    cursor: int


class SiteOut(RegistryEntryOut):
    id: int
    kind: SiteKind
    parent_code: str | None
    host_org: str
    operator_org: str
    id_code: str
    icp_no: str
    psb_no: str
    responsible_person: str
    moved_to: str | None
    require_interpretation: bool
    created_at: WireDateTime | None
    updated_at: WireDateTime | None


class OfflineMigrationOut(BaseModel):
    site: str
    portal: str
    column_id: int
    moved: list[int]
    notice_id: int
    notice_expires_at: WireDateTime


class SiteStatusOut(SiteOut):
    migration: OfflineMigrationOut | None = Field(None, description="下线时的内容迁移结果")


class SiteHistoryOut(BaseModel):
    id: int
    action: str
    actor: str
    detail: dict[str, Any]
    at: WireDateTime


class ColumnOut(BaseModel):
    id: int
    site: str
    parent_id: int | None
    name: str
    code: str
    kind: ColumnKind
    description: str
    keywords: list[str]
    link_url: str | None
    responsible_editor: str | None
    update_interval_days: int | None
    review_chain: list[str]
    sort_order: int
    created_at: WireDateTime | None
    updated_at: WireDateTime | None


class PublicationOut(BaseModel):
    id: int
    site: str
    column_id: int
    resource_id: int | None
    resource_version: int | None
    status: PublicationState
    title: str
    index_no: str | None
    metadata: dict[str, Any]
    attachments: list[dict[str, Any]]
    important: bool
    publish_at: WireDateTime | None
    expire_at: WireDateTime | None
    published_at: WireDateTime | None
    withdrawn_at: WireDateTime | None
    archived_at: WireDateTime | None
    review_chain: list[str]
    review_round: int
    review_step: int
    pending_role: str | None
    created_by: str
    submitted_by: str | None
    source_publication_id: int | None
    moved_from_site: str | None
    created_at: WireDateTime | None
    updated_at: WireDateTime | None
    url: str


class ReviewOut(BaseModel):
    id: int
    round: int
    step: int | None
    role: str | None
    action: RecordAction
    actor: str
    actor_name: str
    opinion: str
    confidentiality_check: ConfidentialityCheck | None
    at: WireDateTime


class PublicationDetailOut(PublicationOut):
    body_html: str
    reviews: list[ReviewOut]


class IndexDocumentOut(BaseModel):
    """What the feed and search see of a publication (docs/contracts.md, the index document)."""

    publication_id: int
    site: str
    site_name: str
    column_id: int
    column_name: str
    status: PublicationState
    resource_id: int | None
    resource_version: int | None
    title: str
    body_text: str
    summary: str
    index_no: str | None
    doc_no: JsonValue
    issuer_org: JsonValue
    genre: JsonValue
    topic: JsonValue
    keywords: list[str]
    written_at: str | None
    published_at: WireDateTime | None
    archived_at: WireDateTime | None
    validity: JsonValue
    important: bool
    url: str


class IndexDocumentsOut(BaseModel):
    items: list[IndexDocumentOut]
    next_after: int
    has_more: bool


class SubscriptionOut(BaseModel):
    id: int
    site: str
    column_id: int
    source_site: str
    source_column_id: int
    source_peer: str | None = None
    auto_publish: bool
    created_at: WireDateTime | None


class TaskOut(BaseModel):
    id: int
    source_publication_id: int | None
    source_remote_id: int | None = None
    subscription_id: int
    site: str
    column_id: int
    auto_publish: bool
    status: TaskState
    due_at: WireDateTime
    overdue: bool
    target_publication_id: int | None
    created_at: WireDateTime | None
    completed_at: WireDateTime | None


class ChannelOut(BaseModel):
    id: int
    site: str
    name: str
    url: str
    active: bool
    created_at: WireDateTime | None


class ChannelCreatedOut(ChannelOut):
    secret: str = Field(description="签名密钥，仅在新建时返回一次")


class DeliveryOut(BaseModel):
    id: int
    channel_id: int
    publication_id: int
    event: str
    status: DeliveryState
    attempts: int
    next_attempt_at: WireDateTime | None
    delivered_at: WireDateTime | None
    log: list[dict[str, Any]]


class DeadLetterOut(BaseModel):
    """A push delivery or re-publication task that failed every allowed try."""

    kind: DeadLetterKind
    id: int
    site: str
    publication_id: int = Field(description="推送的信息，或转载的来源信息")
    channel_id: int | None
    subscription_id: int | None
    attempts: int
    last_error: str
    created_at: WireDateTime | None
