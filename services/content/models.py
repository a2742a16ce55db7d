"""Tables of the content service; its own metadata, its own database or schema.

A publication snapshots the stored resource version it places (title, body, metadata,
attachments): stored versions never change, so delivery needs no call to resources.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

from services.content.vocab import ColumnKind, DeliveryState, PublicationState, SiteStatus, TaskState
from services.kernel.columns import CompressedText
from services.kernel.db import service_base
from services.kernel.feed import define_feed_tables, utcnow

if TYPE_CHECKING:  # mypy sees an ordinary SQLModel base; at runtime it has its own metadata
    Base = SQLModel
else:
    Base = service_base("content")
metadata = Base.metadata
feed_tables = define_feed_tables(metadata)


def _ts(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable, index=index))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSON, nullable=False))


class Site(Base, table=True):
    __tablename__ = "site"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=200)
    kind: str = Field(max_length=16)  # SiteKind
    parent_code: str | None = Field(default=None, max_length=64)
    host_org: str = Field(default="", max_length=200)
    operator_org: str = Field(default="", max_length=200)
    domains: list[str] = _json(list)
    id_code: str = Field(max_length=16)
    icp_no: str = Field(default="", max_length=64)
    psb_no: str = Field(default="", max_length=64)
    responsible_person: str = Field(default="", max_length=100)
    status: str = Field(default=SiteStatus.APPLYING, max_length=16)
    notice: str | None = Field(default=None, max_length=1000)
    resume_at: datetime | None = _ts()
    # The site whose path now serves this site's content (set when it goes offline).
    moved_to: str | None = Field(default=None, max_length=64)
    require_interpretation: bool = Field(default=False)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class SiteDomain(Base, table=True):
    """One row per domain, so the database itself refuses a domain used by two sites."""

    __tablename__ = "site_domain"

    domain: str = Field(primary_key=True, max_length=253)
    site_code: str = Field(max_length=64, index=True)


class SiteHistory(Base, table=True):
    __tablename__ = "site_history"

    id: int | None = Field(default=None, primary_key=True)
    site_code: str = Field(max_length=64, index=True)
    action: str = Field(max_length=32)
    actor: str = Field(max_length=128)
    detail: dict[str, Any] = _json(dict)
    at: datetime | None = _ts(nullable=False)


class SiteColumn(Base, table=True):
    __tablename__ = "site_column"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(max_length=64, index=True)
    parent_id: int | None = Field(default=None)
    name: str = Field(max_length=200)
    code: str = Field(default="", max_length=64)
    kind: str = Field(default=ColumnKind.LIST, max_length=16)
    description: str = Field(default="", max_length=1000)
    keywords: list[str] = _json(list)
    link_url: str | None = Field(default=None, max_length=1000)
    responsible_editor: str | None = Field(default=None, max_length=128)
    update_interval_days: int | None = Field(default=None)
    review_chain: list[str] = _json(list)
    sort_order: int = Field(default=0)
    deleted: bool = Field(default=False)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class Publication(Base, table=True):
    __tablename__ = "publication"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(max_length=64, index=True)
    column_id: int = Field(index=True)
    # Null only for notices the platform writes itself (e.g. a site's offline notice).
    resource_id: int | None = Field(default=None, index=True)
    resource_version: int | None = Field(default=None)
    status: str = Field(default=PublicationState.DRAFT, max_length=16, index=True)
    title: str = Field(max_length=500)
    # One copy of each, compressed: the HTML is what delivery serves, the text what index
    # documents and summaries are made of (as resources extracted it when the version was stored).
    body_html: str = Field(default="", sa_column=Column(CompressedText, nullable=False))
    body_text: str = Field(default="", sa_column=Column(CompressedText, nullable=False))
    meta: dict[str, Any] = _json(dict)
    index_no: str | None = Field(default=None, max_length=64)
    attachments: list[dict[str, Any]] = _json(list)
    # The policy resource this one interprets (政策解读), from the snapshot's relations.
    interprets_resource_id: int | None = Field(default=None, index=True)
    important: bool = Field(default=False)
    publish_at: datetime | None = _ts(index=True)
    expire_at: datetime | None = _ts(index=True)
    published_at: datetime | None = _ts(index=True)
    withdrawn_at: datetime | None = _ts()
    archived_at: datetime | None = _ts()
    # Review: which round and step is pending, and the role that step needs.
    review_round: int = Field(default=0)
    review_step: int = Field(default=0)
    pending_role: str | None = Field(default=None, max_length=32, index=True)
    review_chain: list[str] = _json(list)
    created_by: str = Field(max_length=128)
    submitted_by: str | None = Field(default=None, max_length=128)
    source_publication_id: int | None = Field(default=None, index=True)
    # A copy of a peer platform's item (转载 from the province): the remote item, and where it
    # came from (platform, site, URL, resource id), shown in the copy's page meta.
    source_remote_id: int | None = Field(default=None, index=True)
    provenance: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    moved_from_site: str | None = Field(default=None, max_length=64, index=True)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class ReviewRecord(Base, table=True):
    __tablename__ = "review_record"

    id: int | None = Field(default=None, primary_key=True)
    publication_id: int = Field(index=True)
    review_round: int
    step: int | None = Field(default=None)
    role: str | None = Field(default=None, max_length=32)
    action: str = Field(max_length=16)
    actor: str = Field(max_length=128)
    actor_name: str = Field(default="", max_length=200)
    opinion: str = Field(default="", max_length=2000)
    confidentiality_passed: bool | None = Field(default=None)
    confidentiality_note: str = Field(default="", max_length=1000)
    at: datetime | None = _ts(nullable=False)


class Subscription(Base, table=True):
    __tablename__ = "subscription"
    __table_args__ = (UniqueConstraint("subscriber_column_id", "source_column_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subscriber_site: str = Field(max_length=64, index=True)
    subscriber_column_id: int
    source_site: str = Field(max_length=64)
    source_column_id: int = Field(index=True)
    # Null: a column of a superior site on this platform; else the peer platform (its code in
    # federation) whose column `source_column_id` is.
    source_peer: str | None = Field(default=None, max_length=64, index=True)
    auto_publish: bool = Field(default=False)
    created_by: str = Field(max_length=128)
    created_at: datetime | None = _ts()


class SyndicationTask(Base, table=True):
    __tablename__ = "syndication_task"
    __table_args__ = (
        UniqueConstraint("source_publication_id", "subscription_id"),
        UniqueConstraint("source_remote_id", "subscription_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    # Exactly one of the two: a local source publication or a peer's item received here.
    source_publication_id: int | None = Field(default=None, index=True)
    source_remote_id: int | None = Field(default=None, index=True)
    subscription_id: int
    subscriber_site: str = Field(max_length=64, index=True)
    subscriber_column_id: int
    auto_publish: bool = Field(default=False)
    status: str = Field(default=TaskState.PENDING, max_length=16, index=True)
    due_at: datetime | None = _ts(nullable=False)
    # Failed tries wait with exponential backoff; after the last allowed one the task is dead.
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = _ts(index=True)
    last_error: str = Field(default="", max_length=300)
    target_publication_id: int | None = Field(default=None)
    created_at: datetime | None = _ts()
    completed_at: datetime | None = _ts()


class RemoteItem(Base, table=True):
    """A peer platform's published important item, as its public delivery answered it."""

    __tablename__ = "remote_item"
    __table_args__ = (UniqueConstraint("peer", "remote_publication_id"),)

    id: int | None = Field(default=None, primary_key=True)
    peer: str = Field(max_length=64)
    remote_site: str = Field(max_length=64)
    remote_column_id: int
    remote_publication_id: int
    title: str = Field(max_length=500)
    body_html: str = Field(default="", sa_column=Column(CompressedText, nullable=False))
    meta: dict[str, Any] = _json(dict)
    index_no: str | None = Field(default=None, max_length=64)
    attachments: list[dict[str, Any]] = _json(list)
    resource_id: int | None = Field(default=None)
    resource_version: int | None = Field(default=None)
    url: str = Field(max_length=1000)
    published_at: datetime | None = _ts(nullable=False)
    withdrawn_at: datetime | None = _ts()
    received_at: datetime | None = _ts()


class Channel(Base, table=True):
    """A new-media channel (政务新媒体) that receives a site's publications by webhook."""

    __tablename__ = "channel"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(max_length=64, index=True)
    name: str = Field(max_length=200)
    url: str = Field(max_length=1000)
    secret: str = Field(max_length=200)
    active: bool = Field(default=True)
    created_at: datetime | None = _ts()


class PushDelivery(Base, table=True):
    __tablename__ = "push_delivery"

    id: int | None = Field(default=None, primary_key=True)
    channel_id: int = Field(index=True)
    site_id: str = Field(max_length=64, index=True)
    publication_id: int
    event: str = Field(max_length=32)
    payload: dict[str, Any] = _json(dict)
    status: str = Field(default=DeliveryState.PENDING, max_length=16, index=True)
    attempts: int = Field(default=0)
    next_attempt_at: datetime | None = _ts(nullable=False, index=True)
    log: list[dict[str, Any]] = _json(list)
    created_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()


class NewMediaAccount(Base, table=True):
    """A site's government new-media account (article 17: filed, 备案) and its connector endpoint."""

    __tablename__ = "new_media_account"
    __table_args__ = (UniqueConstraint("site_id", "platform", "account_name"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(max_length=64, index=True)
    platform: str = Field(max_length=16)  # NewMediaPlatform
    account_name: str = Field(max_length=200)
    filing_no: str = Field(max_length=64)
    status: str = Field(default="active", max_length=16)  # AccountStatus
    endpoint: str = Field(max_length=1000)
    secret: str = Field(max_length=200)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()


class NewMediaTask(Base, table=True):
    """One push of one important item to one account (article 42)."""

    __tablename__ = "new_media_task"
    __table_args__ = (UniqueConstraint("account_id", "publication_id"),)

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(index=True)
    site_id: str = Field(max_length=64, index=True)
    publication_id: int
    payload: dict[str, Any] = _json(dict)
    state: str = Field(default="pending", max_length=16, index=True)  # NewMediaTaskState
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=300)
    next_attempt_at: datetime | None = _ts(nullable=False, index=True)
    created_at: datetime | None = _ts()
    delivered_at: datetime | None = _ts()


class ImportJob(Base, table=True):
    """A migration import (整合迁移) into one site: its progress, approval and failures."""

    __tablename__ = "import_job"

    id: int | None = Field(default=None, primary_key=True)
    site_id: str = Field(max_length=64, index=True)
    label: str = Field(max_length=300)
    status: str = Field(default="running", max_length=16)  # ImportJobState
    total: int = Field(default=0)
    imported: int = Field(default=0)
    skipped: int = Field(default=0)
    # One entry per line not imported: {line, source_key, reason, message}.
    failures: list[dict[str, Any]] = _json(list)
    created_by: str = Field(max_length=128)
    # The audited migration approval: who granted it, when, why (null: the review chain applies).
    approved_by: str | None = Field(default=None, max_length=128)
    approved_at: datetime | None = _ts()
    approval_note: str = Field(default="", max_length=1000)
    created_at: datetime | None = _ts()
    updated_at: datetime | None = _ts()
    finished_at: datetime | None = _ts()


class ImportedItem(Base, table=True):
    """One imported item: its source key (unique per site, the idempotency key) and old URL."""

    __tablename__ = "import_item"
    __table_args__ = (UniqueConstraint("site_id", "source_key"),)

    id: int | None = Field(default=None, primary_key=True)
    job_id: int = Field(index=True)
    site_id: str = Field(max_length=64)
    source_key: str = Field(max_length=200)
    line: int
    publication_id: int = Field(index=True)
    resource_id: int
    original_url: str | None = Field(default=None, max_length=1000)
    # The old address's path (and query), what the gateway looks up for a 301.
    original_path: str | None = Field(default=None, max_length=1000, index=True)
    created_at: datetime | None = _ts()


__all__ = [
    "Base",
    "Channel",
    "ImportJob",
    "ImportedItem",
    "Publication",
    "PushDelivery",
    "RemoteItem",
    "ReviewRecord",
    "Site",
    "SiteColumn",
    "SiteDomain",
    "SiteHistory",
    "Subscription",
    "SyndicationTask",
    "feed_tables",
    "metadata",
    "utcnow",
]
