"""入库 (storing): validate, review, sanitise, number and announce — in one transaction.

The caller's session commits everything together or nothing: the version's new status, the
索引号 counter, the resource row and the `resource.stored` outbox event. A crash at any point
before the commit leaves the draft exactly as it was.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import nh3
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from services.kernel.auth import Principal
from services.kernel.chinese import nfc
from services.kernel.clock import epoch, today
from services.kernel.errors import Conflict, ReviewBlocked, ValidationFailed
from services.kernel.feed import emit
from services.resources.models import IndexCounter, Resource, ResourceVersion, StoredObject, feed_tables
from services.resources.review import Finding, Review, Reviewer
from services.resources.schemas import ResourceMetadata
from services.resources.service.resources import (
    check_vocabulary,
    event_payload,
    get_version,
    stored_text,
    tamper_findings,
    writable_resource,
)
from services.resources.service.review import review_off_loop
from services.resources.service.vocab import Vocabularies

ALLOWED_TAGS = {
    "p",
    "br",
    "div",
    "span",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "colgroup",
    "col",
    "blockquote",
    "pre",
    "code",
    "hr",
    "a",
    "img",
    "figure",
    "figcaption",
    "video",
    "audio",
    "source",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align", "scope"},
    "p": {"align"},
    "video": {"src", "controls", "poster", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
    "col": {"span"},
}


def sanitise(html: str) -> str:
    """Allow-listed tags and attributes only: no script, style, event handlers or inline CSS."""
    return nfc(
        nh3.clean(
            html,
            tags=ALLOWED_TAGS,
            attributes=ALLOWED_ATTRIBUTES,
            clean_content_tags={"script", "style", "noscript", "template"},
            url_schemes={"http", "https", "mailto"},
            link_rel="noopener noreferrer",
        )
    )


async def resolve_references(session: AsyncSession, review: Review) -> None:
    """Links into the library that lead nowhere become blocking findings."""
    ids = {rid for rid, _ in review.resource_refs}
    if ids:
        found = set(
            (await session.execute(select(col(Resource.id)).where(col(Resource.id).in_(ids)))).scalars()
        )
        for rid, offset in review.resource_refs:
            if rid not in found:
                review.findings.append(
                    Finding(
                        "reference",
                        "block",
                        f"/api/resources/v1/resources/{rid}",
                        offset,
                        "reference.missing-resource",
                        f"资源 {rid} 不存在",
                    )
                )
    shas = {sha for sha, _ in review.object_refs}
    if shas:
        found_sha = set(
            (
                await session.execute(
                    select(col(StoredObject.sha256)).where(col(StoredObject.sha256).in_(shas))
                )
            ).scalars()
        )
        for sha, offset in review.object_refs:
            if sha not in found_sha:
                review.findings.append(
                    Finding("reference", "block", sha, offset, "reference.missing-object", "附件对象不存在")
                )


async def check_metadata(
    session: AsyncSession, resource: Resource, meta: ResourceMetadata, vocab: Vocabularies
) -> None:
    check_vocabulary(meta, vocab)
    genre = vocab.genres[meta.genre]
    for name in genre.get("requires", []):
        if getattr(meta, name) in (None, "", []):
            raise ValidationFailed.field(f"metadata.{name}", f"体裁“{genre['name']}”必须填写此项")
    targets = {r.resource_id for r in meta.relations}
    if resource.id in targets:
        raise ValidationFailed.field("metadata.relations", "资源不能与自身建立关系")
    if targets:
        existing = set(
            (await session.execute(select(col(Resource.id)).where(col(Resource.id).in_(targets)))).scalars()
        )
        for i, rel in enumerate(meta.relations):
            if rel.resource_id not in existing:
                raise ValidationFailed.field(
                    f"metadata.relations.{i}.resource_id", f"资源 {rel.resource_id} 不存在"
                )
    needed = genre.get("requires_relation")
    if needed and not any(r.type == needed for r in meta.relations):
        raise ValidationFailed.field(
            "metadata.relations", f"体裁“{genre['name']}”须有 {needed} 关系指向所解读的政策"
        )
    if meta.written_at and meta.published_at and meta.published_at < meta.written_at:
        raise ValidationFailed.field("metadata.published_at", "发布日期不能早于成文日期")


async def next_index_no(session: AsyncSession, org_code: str, year: int) -> str:
    """Atomically take the next serial of (org, year): an upsert that returns the new value."""
    dialect = session.get_bind().dialect.name
    ins = pg_insert(IndexCounter) if dialect == "postgresql" else sqlite_insert(IndexCounter)
    stmt = (
        ins.values(org_code=org_code, year=year, last_serial=1)
        .on_conflict_do_update(
            index_elements=["org_code", "year"], set_={"last_serial": col(IndexCounter.last_serial) + 1}
        )
        .returning(col(IndexCounter.last_serial))
    )
    serial = (await session.execute(stmt)).scalar_one()
    return f"{org_code}/{year}-{serial:05d}"


def _year_of(meta: ResourceMetadata) -> int:
    day: date | None = meta.written_at or meta.published_at
    return day.year if day else today().year


async def store_resource(
    session: AsyncSession,
    principal: Principal,
    resource_id: int,
    reviewer: Reviewer,
    vocab: Vocabularies,
) -> tuple[Resource, ResourceVersion]:
    resource = await writable_resource(session, principal, resource_id)
    if resource.status == "retired":
        raise Conflict("资源已废止，不能入库")
    version = await get_version(session, resource_id, resource.latest_version)
    if version.status != "draft":
        raise Conflict(f"第 {version.version} 版已入库；请先编辑生成新草稿")
    try:
        meta = ResourceMetadata.model_validate(version.meta)
    except ValueError as exc:
        raise ValidationFailed.field("metadata", f"元数据不符合规范: {exc}") from exc
    await check_metadata(session, resource, meta, vocab)

    # Review the raw HTML: sanitising would erase the hiding tricks review must see. The
    # previous stored version lets review see an issuer or place swapped between versions.
    previous = None
    if resource.stored_version is not None and resource.stored_version != version.version:
        previous = stored_text(await get_version(session, resource_id, resource.stored_version))
    review = await review_off_loop(
        reviewer,
        html=version.body_html,
        title=meta.title,
        own_names=[meta.issuer_org.name],
        previous=previous,
    )
    await resolve_references(session, review)
    findings: list[dict[str, Any]] = [f.as_dict() for f in review.findings]
    if review.blocking:
        raise ReviewBlocked(
            f"发现 {len(review.blocking)} 处必须修改的问题",
            errors=[{"field": "body_html", "message": f"{f.rule}: {f.excerpt}"} for f in review.blocking],
            extra={"findings": [f.as_dict() for f in review.blocking], "all_findings": findings},
        )

    clean = sanitise(version.body_html)
    ts = epoch()
    version.meta = meta.model_dump(mode="json")
    version.body_html = clean
    version.findings = findings
    version.status = "stored"
    version.stored_by = principal.sub
    version.stored_at = ts
    if resource.index_no is None:
        resource.index_no = await next_index_no(session, meta.issuer_org.code, _year_of(meta))
    resource.status = "stored"
    resource.stored_version = version.version
    resource.updated_at = ts
    session.add_all([resource, version])
    await session.flush()
    await emit(
        session,
        feed_tables,
        "resource.stored",
        resource_id,
        {**event_payload(resource, version.version, meta.title), "tamper": tamper_findings(findings)},
        resource.owner_site,
    )
    return resource, version
