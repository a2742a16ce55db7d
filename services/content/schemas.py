"""Request bodies of the content API; answers are the plain documents the services build."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class SiteCreate(BaseModel):
    code: str = Field(min_length=2, max_length=64, examples=["jtj"])
    name: str = Field(min_length=1, max_length=200, examples=["示范市交通运输局"])
    kind: str = Field("department", examples=["department"], description="portal | department")
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
    status: str = Field(description="online | suspended | offline")
    resume_at: datetime | None = Field(None, description="临时关停的恢复时间（不超过 30 天）")
    reason: str = ""


class ColumnCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    code: str = ""
    kind: str = Field("list", description="list | single | link")
    parent_id: int | None = None
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    link_url: str | None = None
    responsible_editor: str | None = None
    update_interval_days: int | None = Field(None, ge=1, le=3650)
    review_chain: list[str] | None = Field(None, examples=[["reviewer", "reviewer"]])
    sort_order: int = 0


class ColumnUpdate(BaseModel):
    name: str | None = None
    code: str | None = None
    kind: str | None = None
    parent_id: int | None = None
    description: str | None = None
    keywords: list[str] | None = None
    link_url: str | None = None
    responsible_editor: str | None = None
    update_interval_days: int | None = Field(None, ge=1, le=3650)
    review_chain: list[str] | None = None
    sort_order: int | None = None


class PublicationCreate(BaseModel):
    column_id: int
    resource_id: int
    resource_version: int = Field(ge=1)
    important: bool = Field(False, description="重要信息：下级网站须在 12 小时内转载")
    publish_at: datetime | None = None
    expire_at: datetime | None = None


class PublicationUpdate(BaseModel):
    column_id: int | None = None
    resource_id: int | None = None
    resource_version: int | None = Field(None, ge=1)
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
    column_id: int = Field(description="本站接收转载的栏目")
    source_column_id: int = Field(description="上级网站的来源栏目")
    auto_publish: bool = False


class ChannelCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    url: str
    secret: str | None = Field(None, min_length=16, description="不填则由平台生成")
