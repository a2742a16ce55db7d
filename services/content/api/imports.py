"""Import jobs (整合迁移): open, approve, send batches, report; and old addresses for the gateway."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.content.api.common import ResourcesDep, require
from services.content.import_schemas import (
    ImportBatchIn,
    ImportBatchOut,
    ImportFailureItem,
    ImportFailuresIn,
    ImportJobCreate,
    ImportJobOut,
    ImportReportOut,
    KnownKeysIn,
    KnownKeysOut,
    MigrationApproval,
    OldUrlOut,
    job_out,
)
from services.content.models import ImportJob
from services.content.service import imports
from services.kernel.auth import Principal
from services.kernel.deps import PrincipalDep, SessionDep
from services.kernel.errors import Conflict, Forbidden, NotFound, ServiceUnavailable, ValidationFailed, problem_responses
from services.kernel.params import IdPath
from services.kernel.roles import Role

router = APIRouter(tags=["整合迁移"])
ERRORS = problem_responses(Forbidden, NotFound, Conflict, ValidationFailed)
EDITORS = (Role.EDITOR, Role.SITE_ADMIN)


async def _job(session: SessionDep, job_id: int, principal: Principal, *, lock: bool = False) -> ImportJob:
    job = await imports.get_job(session, job_id, lock=lock)
    require(principal, job.site_id, *EDITORS)
    return job


@router.post(
    "/sites/{code}/imports",
    status_code=201,
    response_model=ImportJobOut,
    summary="开始（或续做同名未完成的）导入任务",
    responses=ERRORS,
)
async def open_job(code: str, body: ImportJobCreate, session: SessionDep, principal: PrincipalDep) -> ImportJobOut:
    require(principal, code, *EDITORS)
    return job_out(await imports.open_job(session, code, body.label, body.total, principal.sub))


@router.get("/imports/{job_id}", response_model=ImportJobOut, summary="导入任务的进度与状态", responses=ERRORS)
async def read_job(job_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ImportJobOut:
    return job_out(await _job(session, job_id, principal))


@router.post(
    "/imports/{job_id}/migration-approval",
    response_model=ImportJobOut,
    summary="迁移审批：站点管理员或平台管理员批准本任务的条目免走逐条审核（留痕）",
    responses=ERRORS,
)
async def approve(
    job_id: IdPath, body: MigrationApproval, session: SessionDep, principal: PrincipalDep
) -> ImportJobOut:
    job = await _job(session, job_id, principal, lock=True)
    imports.grant_approval(job, principal, body)
    return job_out(job)


@router.post(
    "/imports/{job_id}/known",
    response_model=KnownKeysOut,
    summary="这些来源键中此前已导入到本站的条目",
    responses=ERRORS,
)
async def known(job_id: IdPath, body: KnownKeysIn, session: SessionDep, principal: PrincipalDep) -> KnownKeysOut:
    job = await _job(session, job_id, principal)
    return KnownKeysOut(items=await imports.known(session, job.site_id, body.source_keys))


@router.post(
    "/imports/{job_id}/items",
    response_model=ImportBatchOut,
    summary="一批已入库的资源：在同一事务中放入栏目、审核（或按迁移审批）、发布与归档",
    responses=problem_responses(Forbidden, NotFound, Conflict, ValidationFailed, ServiceUnavailable),
)
async def place(
    job_id: IdPath, body: ImportBatchIn, session: SessionDep, principal: PrincipalDep, client: ResourcesDep
) -> ImportBatchOut:
    job = await _job(session, job_id, principal, lock=True)
    results = await imports.place_batch(session, client, job, principal, body.items)
    return ImportBatchOut(results=results, job=job_out(job))


@router.post(
    "/imports/{job_id}/failures",
    response_model=ImportJobOut,
    summary="记录未能导入的行及原因（格式错误、机器审查未通过等）",
    responses=ERRORS,
)
async def failures(
    job_id: IdPath, body: ImportFailuresIn, session: SessionDep, principal: PrincipalDep
) -> ImportJobOut:
    job = await _job(session, job_id, principal, lock=True)
    imports.add_failures(job, body.items)
    return job_out(job)


@router.post("/imports/{job_id}/finish", response_model=ImportJobOut, summary="结束导入任务", responses=ERRORS)
async def finish(job_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ImportJobOut:
    job = await _job(session, job_id, principal, lock=True)
    imports.finish(job)
    return job_out(job)


@router.get(
    "/imports/{job_id}/report",
    response_model=ImportReportOut,
    summary="导入报告：每一条未导入的行及原因",
    responses=ERRORS,
)
async def report(job_id: IdPath, session: SessionDep, principal: PrincipalDep) -> ImportReportOut:
    job = await _job(session, job_id, principal)
    rows = [ImportFailureItem.model_validate(f) for f in job.failures]
    return ImportReportOut(job=job_out(job), failures=sorted(rows, key=lambda f: f.line))


@router.get(
    "/old-urls",
    response_model=OldUrlOut,
    summary="旧网站地址对应的信息（网关据此答复 301）",
    responses=problem_responses(Forbidden, NotFound),
)
async def old_url(
    session: SessionDep,
    principal: PrincipalDep,
    site: Annotated[str, Query(min_length=1, max_length=64)],
    path: Annotated[str, Query(min_length=1, max_length=1000)],
) -> OldUrlOut:
    if not (principal.is_internal or principal.has_role(Role.PLATFORM_ADMIN)):
        raise Forbidden("仅限平台内部服务调用")
    return await imports.resolve_old_url(session, site, path)
