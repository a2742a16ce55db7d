"""Request and response models; the unified metadata schema (统一元数据) lives here."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from services.kernel.chinese import nfc, normalize_doc_no
from services.kernel.clock import WireDateTime

Scope = Literal["own_site", "platform", "public"]


class IssuerOrg(BaseModel):
    code: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,32}$", description="发文机关代码（用于索引号）", examples=["DDSZF"]
    )
    name: str = Field(min_length=1, max_length=100, description="发文机关名称", examples=["丹东市人民政府"])


class Relation(BaseModel):
    type: Literal["interpretation-of", "replaces", "attachment-of"] = Field(
        description="关系类型：interpretation-of 解读、replaces 替代、attachment-of 附件"
    )
    resource_id: int = Field(gt=0, description="关联的资源编号")


class HistoryEvent(BaseModel):
    """One step in a text's life as its source records it (2003年6月8日 国务院令第379号公布)."""

    on: date | None = Field(None, description="日期（ISO 8601 日期）")
    kind: Literal["通过", "批准", "公布", "发布", "施行", "实施", "修订", "修正", "废止", "失效", "其他"] = (
        Field(description="事件")
    )
    text: str = Field(min_length=1, max_length=300, description="原文记载")


class ResourceMetadata(BaseModel):
    """统一元数据（第 1 版）。政策文件须有文号和成文日期；政策解读须有 interpretation-of 关系。"""

    model_config = ConfigDict(extra="forbid")

    schema_version: Literal[1] = Field(1, description="元数据规范版本")
    title: str = Field(min_length=1, max_length=300, description="标题")
    issuer_org: IssuerOrg = Field(description="发文机关")
    written_at: date | None = Field(None, description="成文日期（ISO 8601 日期）")
    published_at: date | None = Field(None, description="发布日期（ISO 8601 日期）")
    doc_no: str | None = Field(None, max_length=64, description="文号，入库时统一为 〔年份〕 格式")
    topic: str | None = Field(None, description="主题分类代码，取值见 GET /vocabularies")
    genre: str = Field(description="体裁分类代码，取值见 GET /vocabularies")
    keywords: list[str] = Field(default_factory=list, max_length=20, description="关键词")
    abstract: str | None = Field(None, max_length=2000, description="摘要")
    validity: Literal["有效", "失效", "废止"] = Field("有效", description="有效性")
    source: str | None = Field(None, max_length=200, description="来源")
    language: str = Field("zh-CN", pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$", description="语种")
    relations: list[Relation] = Field(default_factory=list, description="与其他资源的关系")
    history: list[HistoryEvent] = Field(
        default_factory=list, max_length=50, description="沿革：公布、施行、修订、废止等事件"
    )

    @field_validator("title", "abstract", "source")
    @classmethod
    def _nfc(cls, value: str | None) -> str | None:
        return nfc(value).strip() if value is not None else None

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(nfc(k).strip() for k in value if k.strip()))

    @field_validator("doc_no")
    @classmethod
    def _doc_no(cls, value: str | None) -> str | None:
        return normalize_doc_no(value) if value and value.strip() else None


class ResourceCreate(BaseModel):
    metadata: ResourceMetadata
    body_html: str = Field("", max_length=5_000_000, description="正文 HTML（入库时净化）")
    scope: Scope = Field("own_site", description="共享范围：own_site 本站、platform 全平台、public 公开")
    owner_site: str | None = Field(None, description="所属站点；仅平台管理员可指定，否则取当前站点")
    owner_org: str | None = Field(None, description="所属机构代码；默认取发文机关")


class ResourcePatch(BaseModel):
    metadata: ResourceMetadata | None = None
    body_html: str | None = Field(None, max_length=5_000_000)
    scope: Scope | None = None


class FindingOut(BaseModel):
    kind: str = Field(
        description="privacy 隐私 / spam 垃圾与篡改 / hidden 隐藏标记 / link 外链 / reference 引用"
    )
    severity: Literal["block", "warn"]
    excerpt: str
    offset: int = Field(description="在纯文本中的字符位置")
    rule: str
    detail: str = ""
    detector: str = Field("", description="发现问题的检测器，如 issuer-frame、stuffing、version-diff")
    reason: str = Field("", description="检测器给出的理由")


class AttachmentOut(BaseModel):
    sha256: str
    filename: str
    media_type: str
    size: int
    url: str


class VersionOut(BaseModel):
    resource_id: int
    version: int
    status: str
    metadata: dict[str, Any]
    body_html: str
    body_text: str
    index_no: str | None
    findings: list[FindingOut]
    attachments: list[AttachmentOut]
    owner_site: str
    owner_org: str
    scope: str
    created_at: WireDateTime
    stored_at: WireDateTime | None


class VersionSummary(BaseModel):
    version: int
    status: str
    title: str
    created_by: str
    created_at: WireDateTime
    stored_at: WireDateTime | None


class ResourceOut(BaseModel):
    id: int
    status: str
    owner_site: str
    owner_org: str
    scope: str
    index_no: str | None
    latest_version: int
    stored_version: int | None
    current: VersionOut = Field(description="调用者可见的最新版本")


class UploadOut(BaseModel):
    sha256: str
    size: int
    media_type: str
    filename: str
    duplicate: bool = Field(description="相同内容此前已存储，本次未重复保存")
    url: str


class CheckRequest(BaseModel):
    text: str | None = Field(None, max_length=5_000_000)
    html: str | None = Field(None, max_length=5_000_000)


class CheckResult(BaseModel):
    blocking: bool
    findings: list[FindingOut]


class RetireRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, description="废止原因")


class UsageOut(BaseModel):
    publication_id: int
    site: str
    column_id: int | None
    status: str
    resource_version: int
    title: str
    updated_at: WireDateTime


class RetireOut(BaseModel):
    id: int
    status: str
    withdrawn: list[int]


class RetirementOut(BaseModel):
    id: int
    resource_id: int
    actor: str
    actor_name: str
    reason: str
    forced: bool
    withdrawn: list[int]
    at: WireDateTime


class TakedownRequest(BaseModel):
    reason: str = Field(min_length=1, max_length=1000, description="下架原因（如：误发含居民身份证号的附件）")


class TakedownOut(BaseModel):
    id: int
    resource_id: int | None = Field(description="被下架的资源；按对象下架时为空")
    sha256: str | None = Field(description="按对象下架时的对象摘要")
    objects: list[str] = Field(description="因此不可再访问的对象")
    actor: str
    actor_name: str
    reason: str
    at: WireDateTime
    purge_after: WireDateTime = Field(description="保留期满、对象字节被销毁的时间")
    purged_at: WireDateTime | None


class VocabularyEntry(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: str
    name: str


class VocabulariesOut(BaseModel):
    schema_version: int
    topics: list[VocabularyEntry]
    genres: list[VocabularyEntry]


class ObjectLinkOut(BaseModel):
    url: str
    expires_in: int | None = Field(description="预签名地址的有效秒数；本地存储为空")


class BatchStoreItem(BaseModel):
    """One item of a batch 入库: a new resource, or an existing draft (one with attachments)."""

    key: str = Field(min_length=1, max_length=200, description="调用方的条目标识，原样返回")
    create: ResourceCreate | None = Field(None, description="新建并入库的资源")
    resource_id: int | None = Field(None, gt=0, description="入库这个已有草稿（已上传附件的资源）")

    @model_validator(mode="after")
    def _one_of(self) -> BatchStoreItem:
        if (self.resource_id is None) == (self.create is None):
            raise ValueError("create 与 resource_id 须且只须给出一个")
        return self


class BatchStoreRequest(BaseModel):
    items: list[BatchStoreItem] = Field(min_length=1, max_length=500)


class BatchStoreResult(BaseModel):
    key: str
    ok: bool
    resource_id: int | None = None
    version: int | None = None
    index_no: str | None = None
    reason: Literal["rejected", "review_blocked"] | None = Field(None, description="未入库的原因")
    message: str = ""
    findings: list[FindingOut] = Field(default_factory=list)


class BatchStoreOut(BaseModel):
    results: list[BatchStoreResult]


class VersionRef(BaseModel):
    resource_id: int = Field(gt=0)
    version: int = Field(gt=0)


class VersionLookup(BaseModel):
    refs: list[VersionRef] = Field(min_length=1, max_length=500)
    for_site: str = Field(min_length=1, max_length=64, description="使用这些版本的站点代码")


class VersionsOut(BaseModel):
    items: list[VersionOut]
