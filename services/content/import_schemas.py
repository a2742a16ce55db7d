"""The import API's models (整合迁移); the bundle's own line format lives in gateway/importer."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from services.content.vocab import ImportFailure, ImportJobState, PublicationState
from services.kernel.clock import WireDateTime

MAX_BATCH = 500


class ImportJobCreate(BaseModel):
    label: str = Field(min_length=1, max_length=300, description="任务名（一般是数据包路径）；同名未完成的任务会被续做")
    total: int = Field(0, ge=0, le=10_000_000, description="数据包的条目数，用于进度")


class MigrationApproval(BaseModel):
    note: str = Field(min_length=1, max_length=1000, description="审批意见（如：迁移前已逐栏目抽查，保密审查通过）")


class ImportJobOut(BaseModel):
    id: int
    site: str
    label: str
    status: ImportJobState
    total: int
    imported: int
    skipped: int
    failed: int
    created_by: str
    approved_by: str | None = Field(description="迁移审批人；为空时条目走栏目的审核流程")
    approved_at: WireDateTime | None
    approval_note: str
    created_at: WireDateTime | None
    finished_at: WireDateTime | None


class ImportFailureItem(BaseModel):
    line: int = Field(ge=0, description="数据包中的行号（从 1 开始）")
    source_key: str | None = Field(None, max_length=200)
    reason: ImportFailure
    message: str = Field("", max_length=2000)


class ImportFailuresIn(BaseModel):
    items: list[ImportFailureItem] = Field(min_length=1, max_length=10_000)


class ImportReportOut(BaseModel):
    job: ImportJobOut
    failures: list[ImportFailureItem]


class KnownKeysIn(BaseModel):
    source_keys: list[str] = Field(min_length=1, max_length=10_000)


class KnownItem(BaseModel):
    source_key: str
    publication_id: int
    resource_id: int


class KnownKeysOut(BaseModel):
    items: list[KnownItem]


class ImportPlacement(BaseModel):
    line: int = Field(ge=1)
    source_key: str = Field(min_length=1, max_length=200)
    column: str = Field(min_length=1, max_length=500, description="栏目路径：自顶层起的栏目代码（或名称）以 / 连接")
    resource_id: int = Field(gt=0)
    resource_version: int = Field(gt=0)
    published_at: datetime = Field(description="原发布时间")
    original_url: str | None = Field(None, max_length=1000)
    archived: bool = False
    archived_at: datetime | None = None


class ImportBatchIn(BaseModel):
    items: list[ImportPlacement] = Field(min_length=1, max_length=MAX_BATCH)


class PlacementResult(BaseModel):
    line: int
    source_key: str
    ok: bool
    skipped: bool = Field(False, description="此前已导入（按来源键），本次未重复导入")
    publication_id: int | None = None
    status: PublicationState | None = None
    reason: ImportFailure | None = None
    message: str = ""


class ImportBatchOut(BaseModel):
    results: list[PlacementResult]
    job: ImportJobOut


class OldUrlOut(BaseModel):
    publication_id: int
    site: str = Field(description="信息现在所在的站点（站点下线迁移后为门户）")
    source_site: str = Field(description="导入时的站点")


def job_out(job: Any) -> ImportJobOut:
    return ImportJobOut(
        id=job.id or 0,
        site=job.site_id,
        label=job.label,
        status=ImportJobState(job.status),
        total=job.total,
        imported=job.imported,
        skipped=job.skipped,
        failed=len(job.failures),
        created_by=job.created_by,
        approved_by=job.approved_by,
        approved_at=job.approved_at,
        approval_note=job.approval_note,
        created_at=job.created_at,
        finished_at=job.finished_at,
    )
