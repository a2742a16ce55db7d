"""The archived transcript as a content publication, the way oversight drafts the annual report.

Archiving (归档实录) is the trigger: ending must always succeed at once (a live broadcast has to
be stoppable whatever content's configuration), and after the end nothing more can be written,
so the record is final when staff file it. Archiving checks the column (a clear 409 when the
site has none) and queues the transcript in the same transaction as the state change; a worker
then, off the request path: stores the HTML as a resource (store first, then use), places the
stored version in the column, and submits it into the column's review chain. Each peer's answer
is written down as soon as it comes, so a retry after a crash resumes at the unrecorded step and
finds the publication it may already have made instead of making a second. Publishing stays the
reviewers' decision; content's `publication.published` event brings back the public URL, and
its `publication.rejected` event (`TranscriptReviews`) marks the transcript rejected, so that
staff see it on the interview and can archive again to resubmit it once it is revised in content.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.interaction.models import Interview
from services.interaction.schemas.interviews import InterviewStatus, TranscriptState
from services.interaction.service.interviews import ColumnsLookup, entries
from services.interaction.service.transcript_render import render
from services.kernel.client import ServiceDirectory
from services.kernel.clock import epoch
from services.kernel.consumer import FeedConsumer
from services.kernel.db import Database
from services.kernel.edge import CLIENT_IP_HEADER, EDGE_HEADER, TENANT_HEADER, edge_key, sign_edge
from services.kernel.errors import Conflict, NotFound, ServiceUnavailable
from services.kernel.feed import FeedEvent

log = logging.getLogger("jiyue.interaction.transcripts")

CONTENT = "/api/content/v1"
RESOURCES = "/api/resources/v1"
TRANSCRIPT_LIMIT = 20_000
REJECTED_TOPIC = "publication.rejected"


class Refused(Exception):
    """A peer said no (4xx other than 409/429): retrying the same request cannot help."""


def content_columns_of(directory: ServiceDirectory) -> ColumnsLookup:
    async def columns(site: str) -> list[dict[str, Any]]:
        try:
            resp = await directory.client("content").get(f"{CONTENT}/sites/{quote(site, safe='')}/columns")
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"内容服务不可用: {exc}") from None
        if resp.status_code == 404:
            raise NotFound(f"站点 {site} 不存在")
        if resp.status_code != 200:
            raise ServiceUnavailable(f"内容服务返回 {resp.status_code}")
        return list(resp.json().get("items", []))

    return columns


async def resolve_column(columns: ColumnsLookup, site: str, chosen: int | None, configured: str) -> int:
    """The interview's own column, else the site's column whose code or name is `configured`."""
    listed = await columns(site)
    if chosen is not None:
        if chosen not in {c.get("id") for c in listed}:
            raise Conflict(f"栏目 {chosen} 不是站点 {site} 的栏目，实录无法发布")
        return chosen
    for key in ("code", "name"):
        for column in listed:
            if configured and column.get(key) == configured:
                return int(column["id"])
    raise Conflict(
        f"站点 {site} 没有代码或名称为「{configured}」的在线访谈栏目：请先建立该栏目，或在访谈上指定 column_id"
    )


def queue(interview: Interview, column_id: int) -> None:
    """Called in the archiving transaction: queued with the state change or not at all."""
    interview.transcript_state = TranscriptState.PENDING
    if interview.transcript_publication_id is None:  # a placed publication keeps its column
        interview.transcript_column_id = column_id
    interview.transcript_attempts = 0
    interview.transcript_next_at = epoch()
    interview.transcript_error = ""


def may_requeue(interview: Interview) -> bool:
    """An archived interview whose transcript failed or was sent back by a reviewer may be
    archived again: to retry, or to resubmit the (revised) publication."""
    return interview.status == InterviewStatus.ARCHIVED and interview.transcript_state in (
        TranscriptState.FAILED,
        TranscriptState.REJECTED,
    )


@dataclass(frozen=True)
class Pace:
    lease: float
    max_attempts: int
    retry_base: float
    genre: str

    def backoff(self, attempts: int) -> float:
        return float(min(3600.0, self.retry_base * 2 ** (attempts - 1)))


def _tenant(directory: ServiceDirectory, secret: str, site: str, method: str, path: str) -> dict[str, str]:
    headers = {TENANT_HEADER: site, CLIENT_IP_HEADER: ""}
    if not directory.is_local("resources") and secret:
        # resources on its own socket believes a tenant only with the edge signature
        headers[EDGE_HEADER] = sign_edge(edge_key(secret), method, path.encode(), site, "").decode()
    return headers


def _ok(resp: httpx.Response, what: str) -> dict[str, Any]:
    if resp.status_code >= 400:
        message = f"{what}失败：HTTP {resp.status_code} {resp.text[:300]}"
        if resp.status_code in (409, 429) or resp.status_code >= 500:
            raise RuntimeError(message)
        raise Refused(message)
    data: dict[str, Any] = resp.json()
    return data


async def _record(db: Database, interview_id: int, **values: Any) -> None:
    async with db.session() as session:
        await session.execute(update(Interview).where(col(Interview.id) == interview_id).values(**values))


async def _claim(db: Database, interview_id: int, lease: float) -> Interview | None:
    """Take the row for `lease` seconds, so that two processes never work on one transcript."""
    now = epoch()
    async with db.session() as session:
        claimed = await session.execute(
            update(Interview)
            .where(
                col(Interview.id) == interview_id,
                col(Interview.transcript_state) == TranscriptState.PENDING,
                col(Interview.transcript_next_at) <= now,
            )
            .values(transcript_next_at=now + lease)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        interview = await session.get(Interview, interview_id)
        assert interview is not None
        session.expunge(interview)
        return interview


async def _body(db: Database, interview: Interview) -> str:
    assert interview.id is not None
    async with db.session() as session:
        return render(interview, await entries(session, interview.id, 0, TRANSCRIPT_LIMIT))


async def _existing(content: httpx.AsyncClient, site: str, column_id: int, resource_id: int) -> int | None:
    """A publication of this resource made before a crash kept us from writing its id down."""
    listed = _ok(
        await content.get(
            f"{CONTENT}/sites/{quote(site, safe='')}/publications",
            params={"column_id": column_id, "size": 50},
        ),
        "读取栏目稿件",
    )
    for item in listed.get("items", []):
        if item.get("resource_id") == resource_id:
            return int(item["id"])
    return None


async def advance(db: Database, directory: ServiceDirectory, secret: str, pace: Pace, iv: Interview) -> None:
    """Every step that is not yet recorded, in order; each peer answer recorded at once."""
    assert iv.id is not None and iv.transcript_column_id is not None
    site, iid = iv.site, iv.id
    resources = directory.client("resources")
    content = directory.client("content")
    if iv.transcript_resource_id is None:
        path = f"{RESOURCES}/resources"
        made = _ok(
            await resources.post(
                path,
                json={
                    "metadata": {
                        "title": f"在线访谈实录：{iv.title}",
                        "issuer_org": {"code": site, "name": site},
                        "genre": pace.genre,
                        "keywords": ["在线访谈"],
                        **({"abstract": iv.summary[:2000]} if iv.summary else {}),
                    },
                    "body_html": await _body(db, iv),
                    "scope": "own_site",
                },
                headers=_tenant(directory, secret, site, "POST", path),
            ),
            "创建实录资源",
        )
        iv.transcript_resource_id = int(made["id"])
        await _record(db, iid, transcript_resource_id=iv.transcript_resource_id)
    if iv.transcript_resource_version is None:
        path = f"{RESOURCES}/resources/{iv.transcript_resource_id}/store"
        stored = _ok(
            await resources.post(path, headers=_tenant(directory, secret, site, "POST", path)), "实录入库"
        )
        iv.transcript_resource_version = int(stored["version"])
        await _record(db, iid, transcript_resource_version=iv.transcript_resource_version)
    if iv.transcript_publication_id is None:
        found = await _existing(content, site, iv.transcript_column_id, iv.transcript_resource_id)
        if found is None:
            placed = _ok(
                await content.post(
                    f"{CONTENT}/sites/{quote(site, safe='')}/publications",
                    json={
                        "column_id": iv.transcript_column_id,
                        "resource_id": iv.transcript_resource_id,
                        "resource_version": iv.transcript_resource_version,
                    },
                ),
                "创建实录稿件",
            )
            found = int(placed["id"])
        iv.transcript_publication_id = found
        await _record(db, iid, transcript_publication_id=found)
    pid = iv.transcript_publication_id
    current = _ok(await content.get(f"{CONTENT}/publications/{pid}"), "读取实录稿件")
    if current.get("status") == "draft":
        _ok(await content.post(f"{CONTENT}/publications/{pid}/submit", json={}), "提交审核")
    await _record(
        db, iid, transcript_state=TranscriptState.IN_REVIEW, transcript_next_at=None, transcript_error=""
    )


async def publish_due(
    db: Database, directory: ServiceDirectory, secret: str, pace: Pace, limit: int = 20
) -> int:
    """Work on the queued transcripts that are due; returns how many were tried."""
    async with db.session() as session:
        ids = (
            (
                await session.execute(
                    select(col(Interview.id))
                    .where(
                        col(Interview.transcript_state) == TranscriptState.PENDING,
                        col(Interview.transcript_next_at) <= epoch(),
                    )
                    .order_by(col(Interview.transcript_next_at))
                    .limit(limit)
                )
            )
            .scalars()
            .all()
        )
    tried = 0
    for interview_id in (int(i) for i in ids if i is not None):
        interview = await _claim(db, interview_id, pace.lease)
        if interview is None:
            continue
        tried += 1
        try:
            await advance(db, directory, secret, pace, interview)
        except Exception as exc:  # one transcript's failure must not hold the others back
            attempts = interview.transcript_attempts + 1
            dead = isinstance(exc, Refused) or attempts >= pace.max_attempts
            log.warning("transcript of interview %s: attempt %d failed: %s", interview_id, attempts, exc)
            await _record(
                db,
                interview_id,
                transcript_attempts=attempts,
                transcript_state=TranscriptState.FAILED if dead else TranscriptState.PENDING,
                transcript_next_at=None if dead else epoch() + pace.backoff(attempts),
                transcript_error=str(exc)[:500],
            )
    return tried


async def mark_published(session: AsyncSession, publication_id: int, url: str) -> None:
    """Content published a publication: if it is a transcript, the interview links to it."""
    await session.execute(
        update(Interview)
        .where(col(Interview.transcript_publication_id) == publication_id)
        .values(transcript_state=TranscriptState.PUBLISHED, transcript_published_url=url[:1000])
    )


REJECTED_NOTE = "审核退回：审核意见见内容管理中的该稿件；修改后再次归档即重新提交审核"


async def mark_rejected(session: AsyncSession, publication_id: int) -> None:
    """A reviewer sent a transcript in review back to its editor (content made it a draft)."""
    await session.execute(
        update(Interview)
        .where(
            col(Interview.transcript_publication_id) == publication_id,
            col(Interview.transcript_state) == TranscriptState.IN_REVIEW,
        )
        .values(transcript_state=TranscriptState.REJECTED, transcript_error=REJECTED_NOTE)
    )


class TranscriptReviews(FeedConsumer):
    """Follows content's `publication.rejected` events back to the interviews they concern."""

    name = "interaction-transcripts"

    def __init__(self, *args: Any, directory: ServiceDirectory, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.directory = directory

    async def handle(self, event: FeedEvent, session: AsyncSession) -> None:
        if event.topic == REJECTED_TOPIC:
            await mark_rejected(session, int(event.payload["publication_id"]))

    async def rebuild(self, head: int) -> None:
        """Behind content's retention: each transcript still in review is looked up in content,
        and one that content holds as a draft again was sent back."""
        async with self.db.session() as session:
            waiting = (
                await session.execute(
                    select(col(Interview.transcript_publication_id)).where(
                        col(Interview.transcript_state) == TranscriptState.IN_REVIEW
                    )
                )
            ).scalars()
            ids = [int(pid) for pid in waiting if pid is not None]
        content = self.directory.client("content")
        for pid in ids:
            current = _ok(await content.get(f"{CONTENT}/publications/{pid}"), "读取实录稿件")
            if current.get("status") == "draft":
                async with self.db.session() as session:
                    await mark_rejected(session, pid)
