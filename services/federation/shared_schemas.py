"""Requests and answers of resource sharing between platforms (统一元数据 across peers)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from services.federation.vocab import UsageState
from services.kernel.clock import WireDateTime
from services.kernel.params import MAX_ID

SITE = r"^[A-Za-z0-9_-]{1,64}$"


class ShareIn(BaseModel):
    resource_id: int = Field(ge=1, le=MAX_ID, description="本平台资源库中已入库的资源编号")


class SharedResourceOut(BaseModel):
    resource_id: int
    owner_site: str
    offered_by: str
    offered_at: WireDateTime | None
    revoked_at: WireDateTime | None
    usages: int = Field(description="互联平台登记的在用发布数")


class SharedResourcesOut(BaseModel):
    items: list[SharedResourceOut]
    total: int


class PeerAttachmentOut(BaseModel):
    sha256: str
    filename: str
    media_type: str
    size: int
    url: str = Field(description="来源平台上的完整地址")


class PeerResourceOut(BaseModel):
    """A shared resource as a peer sees it: the unified metadata of its stored version."""

    resource_id: int
    owner_site: str
    index_no: str | None
    stored_version: int
    versions: list[int] = Field(description="已入库、可供选用的版本")
    metadata: dict[str, Any]


class PeerResourcesOut(BaseModel):
    items: list[PeerResourceOut]
    total: int


class PeerResourceVersionOut(BaseModel):
    resource_id: int
    version: int
    index_no: str | None
    metadata: dict[str, Any]
    body_html: str
    attachments: list[PeerAttachmentOut]
    stored_at: WireDateTime | None


class UsageIn(BaseModel):
    """A peer registers (or withdraws) one of its publications that pins a version of ours."""

    site: str = Field(pattern=SITE, description="对方平台上使用该资源的站点")
    item: int = Field(ge=1, le=MAX_ID, description="对方平台上的发布编号")
    version: int = Field(ge=1, le=MAX_ID, description="所固定的版本")
    title: str = Field("", max_length=300)
    status: UsageState = UsageState.PLACED


class PeerUsageOut(BaseModel):
    peer: str
    resource_id: int
    version: int
    site: str
    item: int
    title: str
    status: UsageState
    registered_at: WireDateTime | None
    updated_at: WireDateTime | None


class PeerUsagesOut(BaseModel):
    items: list[PeerUsageOut]
    total: int


class PlacementIn(BaseModel):
    site: str = Field(pattern=SITE, description="放置到本平台的哪个站点")
    column_id: int = Field(ge=1, le=MAX_ID, description="该站点的栏目")
    version: int = Field(ge=1, le=MAX_ID, description="固定使用来源资源的这一版本")


class PlacementOut(BaseModel):
    id: int
    peer: str
    remote_resource_id: int
    remote_version: int
    remote_index_no: str | None
    site: str
    column_id: int
    resource_id: int = Field(description="本平台资源库中的副本")
    resource_version: int
    publication_id: int = Field(description="本站点的发布（草稿，须经审核后发布）")
    status: UsageState = Field(description="placed 在用；withdrawn 本站发布已撤回")
    registered: bool = Field(description="来源平台已登记当前状态（false：待重试送达）")
    last_error: str | None
    placed_by: str
    placed_at: WireDateTime | None


class PlacementsOut(BaseModel):
    items: list[PlacementOut]
    total: int
