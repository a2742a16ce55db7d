"""The index document: how a publication is described on the feed and to search."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from services.content.models import Publication, ReviewRecord
from services.content.schemas import ConfidentialityCheck, IndexDocumentOut, PublicationOut, ReviewOut
from services.content.vocab import PublicationState, RecordAction
from services.kernel.clock import SHANGHAI, today

# Resource metadata names differ between producers; the first key present wins.
_ALIASES: dict[str, tuple[str, ...]] = {
    "doc_no": ("doc_no", "document_no", "wenhao"),
    "issuer_org": ("issuer_org", "issuing_org", "issuer", "publisher"),
    "genre": ("genre", "genre_category"),
    "topic": ("topic", "topic_category", "subject"),
    "written_at": ("written_at", "written_date", "date_written"),
    "validity": ("validity",),
    "source": ("source", "content_source"),
    "summary": ("abstract", "summary", "description"),
}
# The library's genre codes (vocabularies.json) and the names older producers send.
POLICY_GENRES = ("zhengce", "政策文件", "规范性文件")


def meta_value(meta: dict[str, Any], name: str) -> Any:
    for key in _ALIASES.get(name, (name,)):
        value = meta.get(key)
        if isinstance(value, dict):  # the library's issuer_org is {"code", "name"}
            value = value.get("name") or value.get("code")
        if value not in (None, ""):
            return value
    return None


def keywords_of(meta: dict[str, Any]) -> list[str]:
    value = meta.get("keywords") or []
    if isinstance(value, str):
        value = [k for k in value.replace("，", ",").replace(";", ",").split(",")]
    return [str(k).strip() for k in value if str(k).strip()]


def interprets(meta: dict[str, Any]) -> int | None:
    """The policy resource an interpretation refers to (relation `interpretation-of`)."""
    for relation in meta.get("relations") or []:
        if not isinstance(relation, dict):
            continue
        kind = relation.get("type") or relation.get("kind") or relation.get("relation")
        target = relation.get("resource_id") or relation.get("target") or relation.get("target_id")
        if kind in ("interpretation-of", "interpretation_of") and target is not None:
            try:
                return int(target)
            except (TypeError, ValueError):
                continue
    return None


def is_policy(publication: Publication, column_name: str = "") -> bool:
    return meta_value(publication.meta, "genre") in POLICY_GENRES or column_name == "政策文件"


def original_published_at(meta: dict[str, Any]) -> datetime | None:
    """The metadata's 发布日期 when it lies in the past: a text published elsewhere long ago
    (a law brought in from a corpus) keeps that date instead of the day it was placed here."""
    value = meta.get("published_at")
    try:
        day = date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
    if day is None or day >= today():
        return None
    # Stored as UTC: SQLite keeps only the wall time, so a +08:00 instant would come back 8 h late.
    return datetime(day.year, day.month, day.day, tzinfo=SHANGHAI).astimezone(UTC)


def summary_of(publication: Publication) -> str:
    summary = meta_value(publication.meta, "summary")
    if summary:
        return str(summary)
    text = " ".join(publication.body_text.split())
    return text[:160]


def item_url(publication_id: int | None) -> str:
    return f"/api/content/v1/items/{publication_id}"


def index_document(publication: Publication, site_name: str, column_name: str) -> IndexDocumentOut:
    meta = publication.meta
    written = meta_value(meta, "written_at")
    return IndexDocumentOut(
        publication_id=publication.id or 0,
        site=publication.site_id,
        site_name=site_name,
        column_id=publication.column_id,
        column_name=column_name,
        status=PublicationState(publication.status),
        resource_id=publication.resource_id,
        resource_version=publication.resource_version,
        title=publication.title,
        body_text=publication.body_text,
        summary=summary_of(publication),
        index_no=publication.index_no,
        doc_no=meta_value(meta, "doc_no"),
        issuer_org=meta_value(meta, "issuer_org"),
        genre=meta_value(meta, "genre"),
        topic=meta_value(meta, "topic"),
        keywords=keywords_of(meta),
        written_at=str(written)[:10] if written else None,
        published_at=publication.published_at,
        archived_at=publication.archived_at,
        validity=meta_value(meta, "validity"),
        important=publication.important,
        url=item_url(publication.id),
    )


def reference_payload(publication: Publication, changed: tuple[str, ...] = ()) -> dict[str, Any]:
    """What a `publication.*` event carries: a reference, never the body. Consumers that need
    the index document fetch it from `GET /index-documents?ids=`."""
    return {
        "publication_id": publication.id,
        "site": publication.site_id,
        "column_id": publication.column_id,
        "status": publication.status,
        "resource_id": publication.resource_id,
        "resource_version": publication.resource_version,
        "title": publication.title[:300],
        "moved_from_site": publication.moved_from_site,
        "important": publication.important,
        "changed": list(changed),
    }


def publication_fields(publication: Publication) -> dict[str, Any]:
    """The fields of `PublicationOut`, for it and the answers that extend it."""
    return {
        "id": publication.id or 0,
        "site": publication.site_id,
        "column_id": publication.column_id,
        "resource_id": publication.resource_id,
        "resource_version": publication.resource_version,
        "status": PublicationState(publication.status),
        "title": publication.title,
        "index_no": publication.index_no,
        "metadata": publication.meta,
        "attachments": publication.attachments,
        "important": publication.important,
        "publish_at": publication.publish_at,
        "expire_at": publication.expire_at,
        "published_at": publication.published_at,
        "withdrawn_at": publication.withdrawn_at,
        "archived_at": publication.archived_at,
        "review_chain": publication.review_chain,
        "review_round": publication.review_round,
        "review_step": publication.review_step,
        "pending_role": publication.pending_role,
        "created_by": publication.created_by,
        "submitted_by": publication.submitted_by,
        "source_publication_id": publication.source_publication_id,
        "moved_from_site": publication.moved_from_site,
        "created_at": publication.created_at,
        "updated_at": publication.updated_at,
        "url": item_url(publication.id),
    }


def publication_out(publication: Publication) -> PublicationOut:
    return PublicationOut(**publication_fields(publication))


def review_out(record: ReviewRecord) -> ReviewOut:
    return ReviewOut(
        id=record.id or 0,
        round=record.review_round,
        step=record.step,
        role=record.role,
        action=RecordAction(record.action),
        actor=record.actor,
        actor_name=record.actor_name,
        opinion=record.opinion,
        confidentiality_check=(
            None
            if record.confidentiality_passed is None
            else ConfidentialityCheck(passed=record.confidentiality_passed, note=record.confidentiality_note)
        ),
        at=record.at,
    )
