"""The annual report's way to the public: built here, drafted in content, sent into review.

Article 39 wants each site's report public by 31 January. In January a worker (or an operator
through the API) builds last year's report, stores it as a resource on the site (store first,
then use), places it in the site's report column — made when the site has none — and submits
it into that column's review chain. Publishing stays a person's decision after review.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

import httpx
from sqlalchemy import select
from sqlmodel import col

from services.kernel import clock
from services.kernel.db import Database
from services.kernel.errors import Conflict, NotFound
from services.oversight.models import ReportDraft, WatchedSite
from services.oversight.schemas import AnnualReportOut
from services.oversight.service import annual
from services.oversight.service.peers import tenant_headers
from services.oversight.service.report_render import to_html
from services.oversight.state import OversightState

log = logging.getLogger("jiyue.oversight")

CONTENT = "/api/content/v1"
RESOURCES = "/api/resources/v1"
_BODY = re.compile(r"<body>(.*)</body>", re.S)
_STYLE = re.compile(r"<style>.*?</style>", re.S)


def _ok(resp: httpx.Response, what: str) -> dict[str, object]:
    if resp.status_code >= 400:
        raise Conflict(f"{what}失败：HTTP {resp.status_code} {resp.text[:200]}")
    data: dict[str, object] = resp.json()
    return data


async def site_record(state: OversightState, code: str) -> dict[str, object]:
    path = f"{CONTENT}/sites/{quote(code, safe='')}"
    resp = await state.directory.client(state.settings.oversight_source).get(path)
    return _ok(resp, "读取站点信息") if resp.status_code != 404 else {}


async def participation(state: OversightState, code: str, year: int) -> dict[str, object]:
    """Interaction's count of the site's 征集调查 and 在线访谈 in the year (from its own tables)."""
    path = f"/api/interaction/v1/participation/{quote(code, safe='')}"
    resp = await state.directory.client(state.settings.oversight_interaction_source).get(
        path, params={"year": year}
    )
    return _ok(resp, "读取征集调查与在线访谈数据")


async def report_of(db: Database, state: OversightState, code: str, year: int) -> AnnualReportOut:
    async with db.session() as session:
        if await session.get(WatchedSite, code) is None:
            raise NotFound(f"站点 {code} 不存在")
    # the peer calls happen outside any transaction
    record = await site_record(state, code)
    figures = await participation(state, code, year)
    async with db.session() as session:
        return await annual.build(session, code, year, record, figures)


async def _column(content: httpx.AsyncClient, code: str, name: str) -> int:
    columns = _ok(await content.get(f"{CONTENT}/sites/{code}/columns"), "读取栏目")
    items = columns.get("items", columns) if isinstance(columns, dict) else columns
    for column in items if isinstance(items, list) else []:
        if column.get("name") == name:
            return int(column["id"])
    made = _ok(await content.post(f"{CONTENT}/sites/{code}/columns", json={"name": name}), "创建报表栏目")
    return int(str(made["id"]))


async def draft(db: Database, state: OversightState, code: str, year: int) -> int:
    """The publication id of the site's report for `year`, drafted and submitted once."""
    async with db.session() as session:
        existing = await session.get(ReportDraft, (code, year))
        if existing is not None:
            return existing.publication_id
    report = await report_of(db, state, code, year)
    settings = state.settings
    content = state.directory.client(settings.oversight_source)
    resources = state.directory.client("resources")
    match = _BODY.search(to_html(report))
    body = _STYLE.sub("", match.group(1) if match else "")
    path = f"{RESOURCES}/resources"
    site_headers = tenant_headers(
        state.directory, settings.internal_client_secret, "resources", code, "POST", path
    )
    resource = _ok(
        await resources.post(
            path,
            json={
                "metadata": {
                    "title": f"{report.name}政府网站工作年度报表（{year}年度）",
                    "issuer_org": {"code": code, "name": report.name},
                    "genre": "tongji",
                },
                "body_html": body,
                "scope": "own_site",
            },
            headers=site_headers,
        ),
        "创建报表资源",
    )
    store_path = f"{RESOURCES}/resources/{resource['id']}/store"
    stored = _ok(
        await resources.post(
            store_path,
            headers=tenant_headers(
                state.directory, settings.internal_client_secret, "resources", code, "POST", store_path
            ),
        ),
        "报表入库",
    )
    column_id = await _column(content, code, settings.oversight_report_column)
    placed = _ok(
        await content.post(
            f"{CONTENT}/sites/{code}/publications",
            json={
                "column_id": column_id,
                "resource_id": resource["id"],
                "resource_version": stored["version"],
            },
        ),
        "创建报表稿件",
    )
    pid = int(str(placed["id"]))
    _ok(await content.post(f"{CONTENT}/publications/{pid}/submit", json={}), "提交审核")
    async with db.session() as session:
        session.add(ReportDraft(site=code, year=year, publication_id=pid, created_at=clock.now()))
    return pid


async def january_drafts(db: Database, state: OversightState) -> list[int]:
    """In January, last year's report of every online site goes into review (once per site)."""
    today = clock.today()
    if today.month != 1:
        return []
    async with db.session() as session:
        codes = (
            (await session.execute(select(col(WatchedSite.code)).where(col(WatchedSite.status) == "online")))
            .scalars()
            .all()
        )
    drafted = []
    for code in codes:
        try:
            drafted.append(await draft(db, state, code, today.year - 1))
        except Exception:  # one site's failure must not keep the others' reports back
            log.exception("annual report draft of %s failed", code)
    return drafted
