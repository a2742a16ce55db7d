"""Resources: drafts, attachments, 入库, versions, usages, retiring."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from services.kernel.deps import (
    CtxDep,
    OptionalPrincipalDep,
    PageDep,
    PrincipalDep,
    RequiredSiteDep,
    SessionDep,
)
from services.kernel.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationFailed,
    problem_responses,
)
from services.kernel.pagination import Page
from services.kernel.params import IdPath
from services.resources.api.deps import ReviewerDep, SettingsDep, StoreDep, VocabDep
from services.resources.schemas import (
    BatchStoreOut,
    BatchStoreRequest,
    ResourceCreate,
    ResourceOut,
    ResourcePatch,
    RetirementOut,
    RetireOut,
    RetireRequest,
    TakedownOut,
    TakedownRequest,
    UploadOut,
    UsageOut,
    VersionLookup,
    VersionOut,
    VersionsOut,
    VersionSummary,
)
from services.resources.service import batch, takedown, uploads, usage
from services.resources.service import resources as svc
from services.resources.service import store as storing

router = APIRouter(tags=["resources"])
_RW = problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ValidationFailed)


@router.post("/resources", status_code=201, response_model=ResourceOut, summary="新建资源草稿", responses=_RW)
async def create(
    body: ResourceCreate, session: SessionDep, principal: PrincipalDep, site: RequiredSiteDep, vocab: VocabDep
) -> ResourceOut:
    resource = await svc.create_resource(session, principal, site, body, vocab)
    return await svc.resource_out(session, resource, full=True)


@router.post(
    "/resources/batch-store",
    response_model=BatchStoreOut,
    summary="批量入库（整合迁移）：逐条校验与机器审查，通过的在同一事务中入库，未通过的逐条说明原因",
    responses=_RW,
)
async def batch_store(
    body: BatchStoreRequest,
    session: SessionDep,
    principal: PrincipalDep,
    site: RequiredSiteDep,
    reviewer: ReviewerDep,
    vocab: VocabDep,
) -> BatchStoreOut:
    return BatchStoreOut(
        results=await batch.store_many(session, principal, site, body.items, reviewer, vocab)
    )


@router.post(
    "/resources/versions/lookup",
    response_model=VersionsOut,
    summary="批量读取已入库版本，按 for_site 判断能否使用（内容服务批量发布时调用）",
    responses=_RW,
)
async def versions_lookup(body: VersionLookup, session: SessionDep, principal: PrincipalDep) -> VersionsOut:
    items = [
        await svc.version_for_use(session, principal, ref.resource_id, ref.version, body.for_site)
        for ref in body.refs
    ]
    return VersionsOut(items=items)


@router.get("/resources", response_model=Page[ResourceOut], summary="本站资源列表", responses=_RW)
async def list_(
    session: SessionDep, principal: PrincipalDep, site: RequiredSiteDep, page: PageDep
) -> Page[ResourceOut]:
    rows, total = await svc.list_resources(session, principal, site, page)
    items = [await svc.resource_out(session, r, full=True) for r in rows]
    return Page(total=total, page=page.page, size=page.size, items=items)


@router.get("/resources/{resource_id}", response_model=ResourceOut, summary="读取资源", responses=_RW)
async def read(resource_id: IdPath, session: SessionDep, principal: OptionalPrincipalDep) -> ResourceOut:
    return await svc.read_resource(session, principal, resource_id)


@router.patch(
    "/resources/{resource_id}",
    response_model=ResourceOut,
    summary="编辑资源（已入库则生成新草稿版本）",
    responses=_RW,
)
async def patch(
    resource_id: IdPath, body: ResourcePatch, session: SessionDep, principal: PrincipalDep, vocab: VocabDep
) -> ResourceOut:
    resource = await svc.patch_resource(session, principal, resource_id, body, vocab)
    return await svc.resource_out(session, resource, full=True)


@router.post(
    "/resources/{resource_id}/store",
    response_model=VersionOut,
    summary="入库：校验元数据、机器审查、净化正文、分配索引号",
    responses=_RW,
)
async def store(
    resource_id: IdPath, session: SessionDep, principal: PrincipalDep, reviewer: ReviewerDep, vocab: VocabDep
) -> VersionOut:
    resource, version = await storing.store_resource(session, principal, resource_id, reviewer, vocab)
    return await svc.version_out(session, resource, version)


@router.post(
    "/resources/{resource_id}/attachments",
    status_code=201,
    response_model=UploadOut,
    summary="上传附件（multipart，字段名 file；按内容识别类型）",
    responses=problem_responses(
        BadRequest, Unauthorized, NotFound, Conflict, PayloadTooLarge, UnsupportedMediaType
    ),
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
            "required": True,
        }
    },
)
async def upload(
    resource_id: IdPath,
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    store: StoreDep,
    settings: SettingsDep,
) -> UploadOut:
    # Refuse before reading a byte of the body when the caller may not write here.
    resource = await svc.writable_resource(session, principal, resource_id)
    if resource.status == "retired":
        raise Conflict("资源已废止，不能上传附件")
    staged, filename, media_type = await uploads.receive_file(
        store,
        request.headers.get("content-type", ""),
        request.headers.get("content-length"),
        request.stream(),
        settings.max_upload_bytes,
    )
    try:
        return await uploads.attach(session, store, principal, resource_id, staged, filename, media_type)
    finally:
        staged.discard()


@router.get(
    "/resources/{resource_id}/versions",
    response_model=list[VersionSummary],
    summary="版本历史",
    responses=_RW,
)
async def versions(resource_id: IdPath, session: SessionDep, principal: PrincipalDep) -> list[VersionSummary]:
    return await svc.list_versions(session, principal, resource_id)


@router.get(
    "/resources/{resource_id}/versions/{number}",
    response_model=VersionOut,
    summary="读取某一版本；for_site 给出时按共享范围判断该站点能否使用（内容服务调用）",
    responses=_RW,
)
async def version(
    resource_id: IdPath,
    number: IdPath,
    session: SessionDep,
    principal: PrincipalDep,
    for_site: Annotated[str | None, Query(description="使用该版本的站点代码")] = None,
) -> VersionOut:
    return await svc.version_for_use(session, principal, resource_id, number, for_site)


@router.get(
    "/resources/{resource_id}/usages",
    response_model=Page[UsageOut],
    summary="使用登记：引用此资源的发布",
    responses=_RW,
)
async def usages(
    resource_id: IdPath, session: SessionDep, principal: PrincipalDep, page: PageDep
) -> Page[UsageOut]:
    rows, total = await usage.list_usages(session, principal, resource_id, page)
    items = [
        UsageOut(
            publication_id=u.publication_id,
            site=u.site,
            column_id=u.column_id,
            status=u.status,
            resource_version=u.resource_version,
            title=u.title,
            updated_at=u.updated_at,  # type: ignore[arg-type]
        )
        for u in rows
    ]
    return Page(total=total, page=page.page, size=page.size, items=items)


@router.post(
    "/resources/{resource_id}/retire",
    response_model=RetireOut,
    summary="废止资源；仍有发布使用时拒绝，平台管理员可 force=true 撤回这些发布",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict, ServiceUnavailable),
)
async def retire(
    resource_id: IdPath,
    body: RetireRequest,
    session: SessionDep,
    principal: PrincipalDep,
    ctx: CtxDep,
    force: Annotated[bool, Query(description="强制：撤回所有在用发布（平台管理员）")] = False,
) -> RetireOut:
    content = ctx.directory.client("content") if ctx.directory.knows("content") else None
    resource, withdrawn = await usage.retire_resource(
        session, principal, resource_id, body.reason, force=force, content=content
    )
    assert resource.id is not None
    return RetireOut(id=resource.id, status=resource.status, withdrawn=withdrawn)


@router.get(
    "/resources/{resource_id}/retirements",
    response_model=list[RetirementOut],
    summary="废止审计记录",
    responses=_RW,
)
async def retirements(
    resource_id: IdPath, session: SessionDep, principal: PrincipalDep
) -> list[RetirementOut]:
    return await usage.retire_audit(session, principal, resource_id)


@router.post(
    "/resources/{resource_id}/takedown",
    response_model=TakedownOut,
    summary="下架资源（平台管理员，如误发个人信息）：其全部附件立即不可访问，使用它的发布随之撤回",
    responses=problem_responses(Unauthorized, Forbidden, NotFound, Conflict),
)
async def take_down(
    resource_id: IdPath,
    body: TakedownRequest,
    session: SessionDep,
    principal: PrincipalDep,
    settings: SettingsDep,
) -> TakedownOut:
    record = await takedown.take_down_resource(
        session, principal, resource_id, body.reason, settings.resources_takedown_retention_hours
    )
    return takedown.takedown_out(record)
